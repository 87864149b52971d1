"""优秀案例展示 in a browser, on a local stack of its own whose competition is over (three development cases: two
units consented in their 说明书, one did not): a visitor opens `/` → 优秀案例展示 on a 390 px phone and on a
1920×1080 hall screen, searches and opens a case's text; the unit withdraws its case on its case page and it is
gone; the organiser takes a case down on the console's case page with a reason and puts it back (1280 px).
Each test leaves the showcase as it found it, so they pass in any order."""
from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from .conftest import ORGANISER, Stack, fresh_page, running_stack, screenshot
from .test_unit_results import PASSWORD, PHONE, Http, _case, expect, run_to_the_end

SHOTS = Path("/tmp/shots/showcase")
HALL = {"viewport": {"width": 1920, "height": 1080}}
DESK = {"viewport": {"width": 1280, "height": 900}}
CASES = (   # title, unit, consents in its 说明书, total score
    ("“先锋驿站”服务新就业群体", "深圳市人力资源和社会保障局", True, 90),
    ("党建引领数字政府建设", "深圳市政务服务数据管理局", True, 85),
    ("机关党建与业务深度融合", "深圳市财政局", False, 80),
)
LONG = "为落实机关党建工作要求，本单位聚焦群众急难愁盼，建立“党建+服务”工作机制，推动党员干部下沉一线。" * 8


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot(page, name), SHOTS / f"{name}.png")


@pytest.fixture(scope="module")
def over(tmp_path_factory) -> Iterator[tuple[Stack, dict[str, Any]]]:
    with running_stack(tmp_path_factory.mktemp("showcase-data"), "e2e-showcase-stack") as stack:
        api = Http(stack.url)
        tag = secrets.token_hex(3)
        units = []
        for n, (title, unit_name, consents, _) in enumerate(CASES, 1):
            username = f"sc{n}-{tag}"
            api("POST", "/accounts", {"username": username, "password": PASSWORD, "unit_name": f"{unit_name}{tag}",
                                      "unit_system": "municipal", "contact_name": "张三",
                                      "email": f"{username}@example.gov.cn", "mobile": "13800138000"})
            unit = api.login(username, PASSWORD)
            case = unit("POST", "/cases", {**_case(title, unit_name, n), "background": LONG,
                                           "showcase_consent": consents})
            unit("POST", f"/cases/{case['id']}/submit")
            units.append({"username": username, "case_id": case["id"], "title": title})
        org = api.login(*ORGANISER)
        for n in (1, 2):
            org("POST", "/admin/judges", {"name": f"评委{n}", "email": f"judge{n}-{tag}@example.org",
                                          "mobile": "13600000000", "affiliation": f"评审机构{n}",
                                          "categories": ["development"]})
        assert api("GET", "/showcase")["open"] is False
        run_to_the_end(api, org, {u["case_id"]: total for u, (*_, total) in zip(units, CASES)},
                       coaching_feedback=False)
        yield stack, {"units": units}


def _visible_titles(page: Any) -> list[str]:
    return page.locator(".showcase-case summary .case-title").all_inner_texts()


def _visit(page: Any, size: str, units: list[dict[str, Any]]) -> None:
    page.goto("/")
    page.get_by_role("link", name="优秀案例展示").click()
    expect()(page).to_have_url(re.compile(r"/showcase$"))
    expect()(page.get_by_role("heading", name="优秀案例展示", exact=True)).to_be_visible()
    expect()(page.locator(".result-count")).to_have_text("共展示 2 个优秀案例")
    assert _visible_titles(page) == [units[0]["title"], units[1]["title"]]        # the final's rank, 一等奖
    assert units[2]["title"] not in page.content()                               # no consent: never shown
    expect()(page.locator(".showcase-case details").first).not_to_have_attribute("open", "")
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")   # nothing sideways
    shot(page, f"showcase-list-{size}")

    page.get_by_label("关键词").fill("数字政府")
    page.get_by_role("button", name="搜索").click()
    expect()(page).to_have_url(re.compile(r"/showcase\?q=.+&category=$"))
    expect()(page.locator(".result-count")).to_have_text("找到 1 个符合条件的案例（共展示 2 个）")
    assert _visible_titles(page) == [units[1]["title"]]
    page.locator(".showcase-case summary").first.click()
    text = page.locator(".showcase-case .showcase-text").first
    expect()(text).to_be_visible()
    expect()(text.get_by_role("heading", name="案例背景")).to_be_visible()
    expect()(text.get_by_text("以党建带业务")).to_be_visible()
    expect()(text.get_by_text("办事时间缩短一半")).to_be_visible()
    for personal in ("李1", "李2", "王五", "13712345678", "13900000001", "1990"):
        assert personal not in page.inner_text("main"), personal
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    shot(page, f"showcase-search-open-{size}")

    page.get_by_label("关键词").fill("不存在的词语")
    page.get_by_label("案例类别").select_option("服务增效")
    page.get_by_role("button", name="搜索").click()
    expect()(page.locator(".result-count")).to_have_text("找到 0 个符合条件的案例（共展示 2 个）")
    expect()(page.get_by_text("没有找到符合条件的案例")).to_be_visible()
    shot(page, f"showcase-empty-{size}")


def test_a_visitor_opens_the_showcase_on_a_phone_and_on_a_hall_screen(browser, over):
    stack, state = over
    for options, size in ((PHONE, "390"), (HALL, "1920")):
        for page in fresh_page(browser, stack, **options):
            _visit(page, size, state["units"])


def test_the_organiser_takes_a_case_down_and_puts_it_back(browser, over):
    stack, state = over
    case = state["units"][1]
    for page in fresh_page(browser, stack, **DESK):
        page.goto("/login")
        page.get_by_label("用户名").fill(ORGANISER[0])
        page.get_by_label("密码").fill(ORGANISER[1])
        page.get_by_role("button", name="登录").click()
        expect()(page).to_have_url(re.compile(r"/admin$"))
        page.goto(f"/admin/cases/{case['case_id']}")
        section = page.locator(".showcase-admin")
        expect()(section).to_contain_text("单位已同意公开展示 · 正在优秀案例展示中公开")
        section.get_by_role("button", name="从成果展示中撤下").click()              # no reason: refused beside it
        expect()(page.locator("#f-showcase-reason-error")).to_have_text("请填写撤下原因")
        page.get_by_label("撤下原因").fill("案例数据待核实")
        shot(page, "showcase-admin-reason-1280")
        page.get_by_role("button", name="从成果展示中撤下").click()
        expect()(page).to_have_url(re.compile(r"\?done=showcase$"))
        expect()(page.locator(".showcase-admin")).to_contain_text("已由主办单位撤下，原因：案例数据待核实")
        expect()(page.locator("#case-trail")).to_contain_text("从成果展示中撤下")
        shot(page, "showcase-admin-hidden-1280")
        assert [c["id"] for c in Http(stack.url)("GET", "/showcase")["cases"]] == [state["units"][0]["case_id"]]
        page.get_by_role("button", name="恢复成果展示").click()
        expect()(page.locator(".showcase-admin")).to_contain_text("正在优秀案例展示中公开")
        expect()(page.locator("#case-trail")).to_contain_text("恢复成果展示")
    assert len(Http(stack.url)("GET", "/showcase")["cases"]) == 2


def test_the_unit_withdraws_its_case_on_its_case_page_and_it_is_gone(browser, over):
    stack, state = over
    unit = state["units"][0]
    for page in fresh_page(browser, stack, **PHONE):
        page.goto("/login")
        page.get_by_label("用户名").fill(unit["username"])
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect()(page).to_have_url(re.compile(r"/cases$"))
        page.get_by_role("link", name=unit["title"]).click()
        section = page.locator(".showcase-consent")
        expect()(section).to_contain_text("本单位已同意在优秀案例展示中公开本案例")
        expect()(section.get_by_role("link", name="在优秀案例展示中查看")).to_be_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        shot(page, "showcase-unit-case-390")
        section.get_by_role("button", name="撤出成果展示").click()
        expect()(page).to_have_url(re.compile(rf"/cases/{unit['case_id']}\?done=showcase_out$"))
        expect()(page.locator(".notice")).to_have_text("已撤出成果展示。")
        expect()(page.locator(".showcase-consent").get_by_role("button", name="同意公开展示")).to_be_visible()
        shot(page, "showcase-unit-withdrawn-390")
        page.goto("/showcase")
        assert unit["title"] not in _visible_titles(page)
        expect()(page.locator(".result-count")).to_have_text("共展示 1 个优秀案例")
        shot(page, "showcase-after-withdrawal-390")
        page.goto(f"/cases/{unit['case_id']}/edit")
        consent = page.get_by_label("同意在成果展示中公开")
        expect()(consent).not_to_be_checked()
        consent.scroll_into_view_if_needed()
        page.locator(".field.checkbox", has=consent).screenshot(path=str(SHOTS / "showcase-unit-form-consent-390.png"))
        shot(page, "showcase-unit-form-390")
        page.goto(f"/cases/{unit['case_id']}")                      # and back in: the other tests see it again
        page.locator(".showcase-consent").get_by_role("button", name="同意公开展示").click()
        expect()(page.locator(".notice")).to_have_text("已同意公开展示：案例获奖后将在优秀案例展示中公开。")
    assert len(Http(stack.url)("GET", "/showcase")["cases"]) == 2
