"""What a unit gets after the final, on a 390 px phone: its prize by name on 我的案例 and on the case page, the
experts' feedback behind 专家意见, its own 荣誉证书 (a PDF with the case's title); and a 区直 unit registering
with its 所属区.

The competition is run to its end over the API on a local stack of its own (the stages move, which the shared
stack of the other browser tests must never see): two units submit, the text review is scored and closed,
an expert gives coaching feedback, the final is scored and closed.
"""
from __future__ import annotations

import io
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from .conftest import ORGANISER, Stack, fresh_page, running_stack, screenshot

CHINA = timezone(timedelta(hours=8))
PASSWORD = "correct-horse-battery"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TITLES = ("“先锋驿站”服务新就业群体", "党建引领数字政府建设")
FEEDBACK = "建议补充服务人次等量化成效"


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


class Http:
    """JSON calls to the stack's API, as a script or another client would make them."""

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url, token

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(f"{self.url}/api/v1{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode("utf-8"),
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {self.token}"} if self.token else {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read().decode('utf-8', 'replace')}") from None
        return json.loads(raw) if raw else None

    def login(self, username: str, password: str) -> "Http":
        return Http(self.url, self("POST", "/sessions", {"username": username, "password": password})["token"])


def _at(moment: datetime) -> str:
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def _now() -> datetime:
    return datetime.now(CHINA).replace(microsecond=0)


def _open_now(org: Http, stage: str, previous: str | None, opened: dict[str, datetime]) -> None:
    """End `previous` a second ago and open `stage` now for an hour (windows never overlap)."""
    if previous is not None:
        while _now() - timedelta(seconds=1) <= opened[previous]:    # a window must end after it opens
            time.sleep(0.2)
        org("PUT", f"/admin/stages/{previous}", {"opens_at": _at(opened[previous]),
                                                 "closes_at": _at(_now() - timedelta(seconds=1))})
    opened[stage] = _now()
    org("PUT", f"/admin/stages/{stage}", {"opens_at": _at(opened[stage]),
                                          "closes_at": _at(opened[stage] + timedelta(hours=1))})


def _judge_sessions(api: Http, org: Http, stage: str) -> list[Http]:
    links = org("POST", f"/admin/stages/{stage}/links")["links"]
    return [Http(api.url, api("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})["token"])
            for link in links]


def _score_all(api: Http, org: Http, stage: str, totals: dict[str, int]) -> None:
    for judge in _judge_sessions(api, org, stage):
        for case in judge("GET", "/judge/cases")["cases"]:
            rest = totals[case["id"]] - 50
            judge("PUT", f"/judge/cases/{case['id']}/score",
                  {"criteria": {"foresight": 25, "practicality": 25, "effectiveness": rest}})


def _case(title: str, unit: str, n: int) -> dict[str, Any]:
    return {"category": "development", "recommending_unit": unit, "title": title,
            "leader": {"name": f"李{n}", "position": "科长", "office_phone": "88134324", "mobile": f"1390000000{n}",
                       "gender": "female", "rank_level": "section_or_below", "birth_date": "1990-01-01"},
            "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
            "background": "为落实机关党建工作要求，本单位开展了系统的探索。", "innovations": ["以党建带业务"],
            "results": ["办事时间缩短一半"], "originality_pledge": True}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Iterator[tuple[Stack, dict[str, str]]]:
    """A stack whose competition is over: returns it and {username, case_id, title} of the winning unit."""
    with running_stack(tmp_path_factory.mktemp("finished-data"), "e2e-finished-stack") as stack:
        api = Http(stack.url)
        tag = secrets.token_hex(3)
        ids = []
        for n, title in enumerate(TITLES, 1):
            username = f"win{n}-{tag}"
            api("POST", "/accounts", {"username": username, "password": PASSWORD, "unit_name": f"深圳市第{n}局{tag}",
                                      "unit_system": "municipal", "contact_name": "张三",
                                      "email": f"{username}@example.gov.cn", "mobile": "13800138000"})
            unit = api.login(username, PASSWORD)
            case = unit("POST", "/cases", _case(title, f"深圳市第{n}局", n))
            unit("POST", f"/cases/{case['id']}/submit")
            ids.append(case["id"])
        org = api.login(*ORGANISER)
        for n in (1, 2):
            org("POST", "/admin/judges", {"name": f"评委{n}", "email": f"judge{n}-{tag}@example.org",
                                          "mobile": "13600000000", "affiliation": f"评审机构{n}",
                                          "categories": ["development"]})
        run_to_the_end(api, org, {ids[0]: 90, ids[1]: 80})
        yield stack, {"username": f"win1-{tag}", "case_id": ids[0], "title": TITLES[0]}


def run_to_the_end(api: Http, org: Http, totals: dict[str, int], coaching_feedback: bool = True) -> None:
    """The stages of a competition whose cases are submitted, moved on by the organiser over the API: text review
    scored (each case's judges give `totals`) and closed, coaching (each expert gives FEEDBACK), the final scored
    and closed."""
    opened = {"submission": datetime.fromisoformat(
        next(s for s in api("GET", "/competition")["stages"] if s["id"] == "submission")["opens_at"])}
    _open_now(org, "text_review", "submission", opened)
    org("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 2})
    _score_all(api, org, "text_review", totals)
    _open_now(org, "coaching", "text_review", opened)
    org("POST", "/admin/stages/text_review/close")
    if coaching_feedback:
        org("POST", "/admin/stages/coaching/assignments", {})
        for expert in _judge_sessions(api, org, "coaching"):
            for case in expert("GET", "/judge/cases")["cases"]:
                expert("PUT", f"/judge/cases/{case['id']}/feedback", {"points": [FEEDBACK]})
    _open_now(org, "final", "coaching", opened)
    org("POST", "/admin/stages/final/assignments", {})
    _score_all(api, org, "final", totals)
    assert org("POST", "/admin/stages/final/close") == {"stage": "final", "status": "closed"}


def test_a_unit_sees_its_prize_reads_the_feedback_and_downloads_its_certificate(browser, finished, tmp_path):
    stack, winner = finished
    for page in fresh_page(browser, stack, **PHONE, accept_downloads=True):
        page.goto("/login")
        page.get_by_label("用户名").fill(winner["username"])
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect()(page).to_have_url(re.compile(r"/cases$"))
        item = page.locator(f'[data-case-id="{winner["case_id"]}"]')
        expect()(item.locator(".badge.status-awarded")).to_have_text("获奖")
        expect()(item.locator(".badge.prize")).to_have_text("一等奖")
        screenshot(page, "unit-results-cases-390")

        item.get_by_role("link", name=winner["title"]).click()
        expect()(page).to_have_url(re.compile(rf"/cases/{winner['case_id']}$"))
        expect()(page.locator(".case-outcome .prize-line")).to_have_text("综合评选结果：一等奖")
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")       # nothing sideways
        screenshot(page, "unit-results-case-390")

        page.get_by_role("link", name="专家意见").click()
        expect()(page).to_have_url(re.compile(rf"/cases/{winner['case_id']}/feedback$"))
        expect()(page.get_by_text(FEEDBACK)).to_be_visible()
        screenshot(page, "unit-results-feedback-390")
        page.go_back()

        with page.expect_download() as info:
            page.get_by_role("link", name="荣誉证书").click()
        download = info.value
        saved = tmp_path / "certificate.pdf"
        download.save_as(saved)
        assert download.suggested_filename.endswith(".pdf") and "荣誉证书" in download.suggested_filename
        from pypdf import PdfReader
        reader = PdfReader(io.BytesIO(saved.read_bytes()))
        flat = "".join(reader.pages[0].extract_text().replace("\x00", "").split())
        assert len(reader.pages) == 1
        assert "荣誉证书" in flat and "".join(winner["title"].split()) in flat and "发展提质类一等奖" in flat
        _picture(saved, "unit-results-certificate")


def _picture(pdf, name: str) -> None:
    """The certificate's page as a PNG in test-artifacts/, to look at (poppler's pdftoppm)."""
    import shutil
    import subprocess

    from .conftest import ARTIFACTS
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(ARTIFACTS / name)],
                       check=True, timeout=60)


def test_a_district_unit_registers_with_its_district(browser, finished):
    stack, _ = finished
    for page in fresh_page(browser, stack, **PHONE):
        tag = secrets.token_hex(3)
        page.goto("/register")
        district = page.get_by_label("所属区")
        expect()(district).to_be_hidden()                          # only for 区直
        page.get_by_label("用户名").fill(f"dp-{tag}")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_label("单位名称").fill(f"大鹏新区组织人事局{tag}")
        page.get_by_label("单位类型").select_option("区直")
        expect()(district).to_be_visible()
        page.get_by_label("联系人", exact=True).fill("张三")
        page.get_by_label("电子邮箱").fill(f"dp-{tag}@example.gov.cn")
        page.get_by_label("手机", exact=True).fill("13800138000")
        page.get_by_role("button", name="注册").click()                # without 所属区: refused beside it
        expect()(page.locator("#f-district-error")).to_have_text("单位类型为区直时请填写所属区（如 福田区、大鹏新区）")
        expect()(page.get_by_label("所属区")).to_be_visible()
        screenshot(page, "unit-results-register-district-refused-390")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_label("所属区").fill("大鹏新区")
        page.get_by_role("button", name="注册").click()
        expect()(page).to_have_url(re.compile(r"/login\?done=registered$"))
        page.get_by_label("用户名").fill(f"dp-{tag}")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect()(page.locator(".who")).to_have_text(f"大鹏新区组织人事局{tag}（大鹏新区）")
        screenshot(page, "unit-results-district-cases-390")


def test_withdraw_asks_to_confirm_first(browser, stack):
    api = Http(stack.url)
    username = f"wd-{secrets.token_hex(3)}"
    api("POST", "/accounts", {"username": username, "password": PASSWORD, "unit_name": f"深圳市撤回局{username}",
                              "unit_system": "municipal", "contact_name": "张三",
                              "email": f"{username}@example.gov.cn", "mobile": "13800138000"})
    unit = api.login(username, PASSWORD)
    case = unit("POST", "/cases", _case("拟撤回的案例", "深圳市撤回局", 3))
    unit("POST", f"/cases/{case['id']}/submit")
    for page in fresh_page(browser, stack, **PHONE):
        page.goto("/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.goto(f"/cases/{case['id']}")
        page.get_by_role("link", name="撤回", exact=True).click()
        expect()(page.get_by_role("heading", name="确认撤回案例")).to_be_visible()
        screenshot(page, "unit-results-withdraw-confirm-390")
        page.get_by_role("link", name="不撤回，返回案例").click()
        expect()(page.locator(".status-line .badge")).to_have_text("已提交")        # nothing happened
        page.get_by_role("link", name="撤回", exact=True).click()
        page.get_by_role("button", name="确认撤回").click()
        expect()(page).to_have_url(re.compile(r"/cases\?done=withdrawn$"))
        expect()(page.locator(f'[data-case-id="{case["id"]}"] .badge')).to_have_text("已撤回")
