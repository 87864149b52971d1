"""A judge on a 390 px phone in Chromium: open the scoring link, 开始评分, score a case, see 已评 go up.

The data is set up over the JSON API (organiser login, a unit's submitted case, text_review opened now,
a judge, an assignment, links); the stage windows are put back afterwards so other browser tests keep
the fresh competition's windows (submission open).
"""
from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import LAUNCH_ARGS, fresh_page, screenshot

CHINA = timezone(timedelta(hours=8))
PHONE = {"width": 390, "height": 844}


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


class Api:
    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body=None):
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}/api/v1{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def ok(self, method: str, path: str, body=None, status: int = 200):
        got, data = self.call(method, path, body)
        assert got == status, (method, path, got, data)
        return data


def iso(moment: datetime) -> str:
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def set_up(stack) -> tuple[str, str, dict]:
    """A submitted case, text_review open now, one judge assigned; returns (link path, judge name, windows)."""
    public = Api(stack.url)
    org = Api(stack.url, public.ok("POST", "/sessions", {"username": stack.organiser[0],
                                                         "password": stack.organiser[1]})["token"])
    n = secrets.token_hex(3)
    public.ok("POST", "/accounts", {"username": f"phone-unit-{n}", "password": "correct-horse-battery",
                                    "unit_name": f"深圳市手机测试局{n}", "unit_system": "municipal",
                                    "contact_name": "张三", "email": f"u{n}@example.gov.cn", "mobile": "13800138000"},
              status=201)
    unit = Api(stack.url, public.ok("POST", "/sessions", {"username": f"phone-unit-{n}",
                                                          "password": "correct-horse-battery"})["token"])
    case = unit.ok("POST", "/cases", {
        "category": "development", "recommending_unit": f"深圳市手机测试局{n}", "title": f"党建引领基层治理创新{n}",
        "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
        "background": "为落实机关党建工作要求，本单位推动党建与业务深度融合。" * 3,
        "innovations": ["以党建带业务，建立联动机制。"], "results": ["群众办事时间缩短一半。"], "originality_pledge": True,
    }, status=201)
    unit.ok("POST", f"/cases/{case['id']}/submit")

    windows = {s["id"]: s for s in public.ok("GET", "/competition")["stages"]}
    now = datetime.now(timezone.utc)
    opens = min(datetime.fromisoformat(windows["submission"]["opens_at"]), now - timedelta(days=1))
    org.ok("PUT", "/admin/stages/submission", {"opens_at": iso(opens), "closes_at": iso(now - timedelta(minutes=2))})
    org.ok("PUT", "/admin/stages/text_review", {"opens_at": iso(now - timedelta(minutes=1)),
                                                "closes_at": iso(now + timedelta(hours=2))})

    name = f"手机评委{n}"
    judge = org.ok("POST", "/admin/judges", {"name": name, "email": f"judge-{n}@example.org", "mobile": "13800138001",
                                             "affiliation": f"深圳大学{n}", "categories": ["development"]}, status=201)
    org.ok("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    issued = org.ok("POST", "/admin/stages/text_review/links")["links"]
    url = next(l["url"] for l in issued if l["judge_id"] == judge["id"])
    return "/j/" + url.rsplit("/j/", 1)[1], name, {"org": org, "windows": windows}


def restore(state: dict) -> None:
    """Put text_review, then submission, back where the fresh competition had them."""
    org, windows = state["org"], state["windows"]
    for stage in ("text_review", "submission"):
        org.call("PUT", f"/admin/stages/{stage}", {"opens_at": windows[stage]["opens_at"],
                                                   "closes_at": windows[stage]["closes_at"]})


@pytest.fixture
def phone(browser, stack):
    yield from fresh_page(browser, stack, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


def fits(page) -> None:
    """Nothing wider than the phone: no sideways scrolling at 390 px."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_judge_scores_a_case_on_a_390px_phone(phone, stack):
    assert LAUNCH_ARGS  # the session's browser runs /usr/bin/chromium with the project's flags (conftest)
    link, name, state = set_up(stack)
    try:
        page = phone
        response = page.goto(link)
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        expect()(page.locator("#landing-judge")).to_have_text(name)
        expect()(page.locator("#landing-stage")).to_have_text("文本评审")
        fits(page)
        screenshot(page, "judge-01-landing-390px")
        page.get_by_role("button", name="开始评分").click()

        expect()(page).to_have_url(re.compile(r"/judge$"))
        progress = page.get_by_text(re.compile(r"已评 \d+ / \d+"))
        expect()(progress).to_have_text(re.compile(r"已评 0 / [1-9]\d*"))
        total = int(re.search(r"/ (\d+)", progress.inner_text()).group(1))
        fits(page)
        screenshot(page, "judge-02-cases-390px")

        page.locator("a.judge-case-link").first.click()
        expect()(page).to_have_url(re.compile(r"/judge/cases/[^/]+$"))
        expect()(page.get_by_text("（满分 30 分）").first).to_be_visible()
        page.get_by_label("前瞻性").fill("27.5")
        page.get_by_label("实践性").fill("25")
        page.get_by_label("成效性").fill("35")
        expect()(page.locator("#score-total")).to_have_text("87.5")
        page.get_by_label("评语").fill("思路清晰，成效明显。")
        fits(page)
        screenshot(page, "judge-03-score-form-390px")
        page.get_by_role("button", name="保存评分").click()

        expect()(page).to_have_url(re.compile(r"/judge\?done=saved$"))
        expect()(page.get_by_text(re.compile(r"已评 \d+ / \d+"))).to_have_text(f"已评 1 / {total}")
        expect()(page.get_by_text("评分已保存。")).to_be_visible()
        fits(page)
        screenshot(page, "judge-04-progress-390px")
    finally:
        restore(state)
