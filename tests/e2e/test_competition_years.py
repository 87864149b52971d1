"""Issue 17's acceptance story in Chromium, on a local stack of its own: the 2023 competition is run to its end
over the API; an organiser at 1280 px copies it to 2024 in the console (竞赛届次 → 复制上一届), changes a criterion's
maximum, the advance quota and the year's stage windows, starts it and makes it the current one; a unit on a 390 px
phone logs in with its 2023 account, sees its 2023 case unchanged under 往届案例 and submits a 2024 case whose text
is a copy of it; the organiser sees the copy flagged against 2023 (原创性, naming the year), and exports 2023's
results from the export page (竞赛届次 chosen), whose xlsx holds 2023's data. Screenshots: /tmp/shots-story/."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.originality_corpus import Texts

from .conftest import ORGANISER, fresh_page, running_stack
from .test_account_pages import log_in as log_in_as
from .test_admin_console import log_in
from .test_unit_portal import fill_case
from .test_unit_results import CHINA, PASSWORD, PHONE, Http, _case, expect, run_to_the_end

SHOTS = Path("/tmp/shots-story")
NAME_2024 = "2024年深圳市“党建引领·数智赋能”创新案例大赛"


def shot(page, name: str, full: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def two_units_to_the_end(api: Http, tag: str, prefix: str, bodies: list[dict]) -> list[tuple[str, str]]:
    """Two unit accounts (<prefix>1-<tag>, <prefix>2-<tag>) each submit one case (`bodies`), two judges score them
    and the 2023 competition is run to its end over the API, the first case first; [(username, case id)]."""
    done = []
    for n, body in enumerate(bodies, 1):
        username = f"{prefix}{n}-{tag}"
        api("POST", "/accounts", {"username": username, "password": PASSWORD, "unit_name": f"深圳市第{n}局{tag}",
                                  "unit_system": "municipal", "contact_name": "张三",
                                  "email": f"{username}@example.gov.cn", "mobile": "13800138000"})
        session = api.login(username, PASSWORD)
        case = session("POST", "/cases", body)
        session("POST", f"/cases/{case['id']}/submit")
        done.append((username, case["id"]))
    org = api.login(*ORGANISER)
    for n in (1, 2):
        org("POST", "/admin/judges", {"name": f"评委{n}", "email": f"judge{n}-{tag}@example.org",
                                      "mobile": "13600000000", "affiliation": f"评审机构{n}",
                                      "categories": ["development"]})
    run_to_the_end(api, org, {done[0][1]: 90, done[1][1]: 80}, coaching_feedback=False)
    return done


@pytest.fixture(scope="module")
def finished_2023(tmp_path_factory):
    """A stack whose 2023 competition is over; the unit's account and its 2023 case (id, title, text)."""
    with running_stack(tmp_path_factory.mktemp("story-data"), "e2e-story-stack") as stack:
        api, tag = Http(stack.url), secrets.token_hex(3)
        text = Texts(int(tag, 16)).case()
        first = _case(text["title"], "深圳市第1局", 1) | {
            "background": text["background"], "innovations": text["innovations"], "results": text["results"]}
        (username, case_id), _ = two_units_to_the_end(api, tag, "story", [first, _case(f"另一个案例{tag}", "深圳市第2局", 2)])
        unit = {"username": username, "text": text}
        unit["case"] = api.login(username, PASSWORD)("GET", f"/cases/{case_id}")   # as 2023 ended
        assert (unit["case"]["status"], unit["case"]["prize"]) == ("awarded", "first")
        yield stack, unit


def _form_time(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S")


def windows_from_now() -> dict[str, tuple[str, str]]:
    """A short 2024: 文本申报 open now for a day, then a day for each stage after it."""
    start = datetime.now(CHINA).replace(microsecond=0) - timedelta(minutes=5)
    windows, at = {}, start
    for n, stage in enumerate(("submission", "text_review", "coaching", "final", "provincial")):
        closes = at + timedelta(days=1 if n else 2) - timedelta(seconds=1)
        windows[stage] = (_form_time(at), _form_time(closes))
        at = closes + timedelta(seconds=1)
    return windows


def test_2023_to_2024_in_the_console_a_unit_copies_its_case_and_2023_stays_exportable(
        chromium, finished_2023, tmp_path):
    stack, unit = finished_2023
    for page in fresh_page(chromium, stack, viewport={"width": 1280, "height": 900}, accept_downloads=True):
        # -- the organiser: 复制上一届 → 2024, its rules and windows, 开始, 设为当前届次 --------------------------
        log_in(page, stack)
        page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="竞赛届次").click()
        copy = page.locator("#copy")
        copy.get_by_label("复制哪一届").select_option("shenzhen-2023")
        copy.get_by_label("新一届的名称").fill(NAME_2024)
        copy.get_by_label("年份").fill("2024")
        copy.get_by_role("button", name="复制上一届").click()
        expect()(page).to_have_url(re.compile(r"/admin/competitions/shenzhen-2024\?done=created$"))
        page.locator('[name="categories[0].criteria[0].max"]').fill("35")
        page.locator('[name="categories[0].criteria[1].max"]').fill("25")
        page.get_by_label("每个类别进入综合评选的案例数").fill("20")
        for stage, (opens, closes) in windows_from_now().items():
            page.locator(f'[name="stages.{stage}.opens_at"]').fill(opens)
            page.locator(f'[name="stages.{stage}.closes_at"]').fill(closes)
        page.locator('[name="honors.reference_date"]').fill(datetime.now(CHINA).date().isoformat())
        page.get_by_role("button", name="保存设置").click()
        expect()(page.get_by_role("status")).to_contain_text("竞赛设置已保存")
        shot(page, "01-2024-saved")
        page.get_by_role("button", name="开始（发布）").click()
        expect()(page.get_by_role("status")).to_contain_text("本届已开始（发布）")
        page.get_by_role("button", name="设为当前届次").click()
        expect()(page.get_by_role("status")).to_contain_text("已设为当前届次")
        page.goto("/admin/competitions")
        expect()(page.locator("#competition-shenzhen-2024")).to_contain_text("当前届次")
        shot(page, "02-competitions")

        # -- the unit on its phone: 往届 unchanged, a 2024 case with the 2023 text -------------------------------
        for phone in fresh_page(chromium, stack, **PHONE):
            log_in_as(phone, unit["username"], PASSWORD)
            expect()(phone).to_have_url(re.compile(r"/cases$"))
            earlier = phone.locator("section.earlier-cases")
            expect()(earlier.get_by_role("heading", name="往届案例")).to_be_visible()
            old = earlier.locator(f'[data-case-id="{unit["case"]["id"]}"]')
            expect()(old.get_by_role("link", name=unit["case"]["title"])).to_be_visible()
            expect()(old.get_by_role("link", name="编辑")).to_have_count(0)
            assert phone.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
            shot(phone, "03-unit-cases-390")
            old.get_by_role("link", name="查看").click()
            expect()(phone).to_have_url(re.compile(rf"/cases/{unit['case']['id']}$"))
            expect()(phone.get_by_text(unit["text"]["background"][:20])).to_be_visible()
            shot(phone, "04-unit-2023-case-390")
            api_case = Http(stack.url).login(unit["username"], PASSWORD)("GET", f"/cases/{unit['case']['id']}")
            assert api_case == unit["case"]                                  # unchanged by a year

            phone.goto("/cases")
            phone.get_by_role("link", name="新增案例").click()
            fill_case(phone, mobile="13912345678")
            text = unit["text"]
            phone.get_by_label("案例类别").select_option("发展提质")
            phone.get_by_label("案例名称", exact=True).fill(f"{text['title']}（2024）")
            phone.get_by_label("案例背景", exact=True).fill(text["background"])
            phone.get_by_label("案例创新点1", exact=True).fill(text["innovations"][0])
            phone.get_by_label("案例创新点2", exact=True).fill("\n".join(text["innovations"][1:]) or "同上")
            phone.get_by_label("案例取得的成果1", exact=True).fill("\n".join(text["results"]))
            phone.get_by_role("button", name="提交").click()
            expect()(phone).to_have_url(re.compile(r"/cases\?done=submitted$"))
            shot(phone, "05-unit-2024-submitted-390")

        # -- the organiser: the copy flagged against 2023 -----------------------------------------------------
        page.goto("/admin")
        page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="原创性").click()
        flag = page.locator("section.flag", has=page.get_by_role("heading", name=f"{text['title']}（2024）"))
        expect()(flag).to_have_count(1)
        expect()(flag.locator("p.match").first).to_contain_text("2023")
        shot(page, "06-originality")

        # -- the organiser exports 2023's results -------------------------------------------------------------
        page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="导出").click()
        page.get_by_label("竞赛届次").select_option("shenzhen-2023")
        page.get_by_label("评审结果（Excel，每个类别一张表）").check()
        shot(page, "07-export-form")
        page.get_by_role("button", name="开始导出").click()
        expect()(page).to_have_url(re.compile(r"/admin/exports\?competition=shenzhen-2023&job=\w+$"))
        current = page.locator("tr.is-current")
        link = current.get_by_role("link", name=re.compile(r"^下载 2023年.+\.xlsx$"))
        expect()(link).to_be_visible(timeout=30_000)
        shot(page, "08-export-done")
        with page.expect_download() as info:
            link.click()
        saved = tmp_path / "results-2023.xlsx"
        info.value.save_as(saved)
        from openpyxl import load_workbook
        cells = {str(c) for ws in load_workbook(saved).worksheets for row in ws.iter_rows(values_only=True)
                 for c in row if c}
        assert unit["case"]["title"] in cells and f"{text['title']}（2024）" not in cells
