"""The live final as an event, in Chromium, on a stack of its own (its stages are moved into the final, which
the shared stack's other tests must not see): 15 development finalists in a drawn order, six judges.

- a judge's 390 px phone lists the cases in the drawn order and puts the case now presenting on top by itself;
- the organiser drives 现场控制 at 1280 px: 选择现在展示的案例 → 计时开始 → n / m scored → 亮分;
- the hall's 1920×1080 screen fits 15 cases without scrolling and shows scores only after 亮分;
- a finalist sees its presentation order and expected time on /cases.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from .conftest import CHROMIUM, fresh_page, running_stack, screenshot
from .test_judge_phone import Api, iso

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
HALL_SCREEN = {"width": 1920, "height": 1080}
PASSWORD = "correct-horse-battery"
TITLES = [
    "党建引领“四位一体”基层治理新格局", "“红色驿站”打通服务群众最后一公里", "以“五星支部”创建推动机关作风转变",
    "党建赋能营商环境优化的“前海样本”", "数字党建平台助力机关效能提升", "“双报到”机制下的社区共建共治",
    "青年党员“微调研”破解民生难题", "党建+科技创新服务链条建设", "“书记项目”推动重点任务落地见效",
    "机关党建与业务深度融合的实践探索", "“党员先锋岗”提升窗口服务水平", "以高质量党建护航大湾区建设",
    "学习型机关建设的“五学联动”路径", "党群服务中心功能提升行动", "“一支部一品牌”创建工程",
]


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


@pytest.fixture(scope="module")
def hall_stack(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with running_stack(tmp_path_factory.mktemp("final-data"), "e2e-final-stack") as stack:
        yield stack


@pytest.fixture(scope="module")
def hall_browser(hall_stack, chromium):
    return chromium


@pytest.fixture(scope="module")
def hall(hall_stack):
    """15 submitted cases advance through a text review; the final opens now with six judges and a draw."""
    public = Api(hall_stack.url)
    org = Api(hall_stack.url, public.ok("POST", "/sessions", {"username": hall_stack.organiser[0],
                                                             "password": hall_stack.organiser[1]})["token"])
    units = {}
    for n, title in enumerate(TITLES, 1):
        unit_name = f"深圳市第{n}局"
        public.ok("POST", "/accounts", {"username": f"final-unit-{n}", "password": PASSWORD, "unit_name": unit_name,
                                        "unit_system": "municipal", "contact_name": "张三",
                                        "email": f"unit{n}@example.gov.cn", "mobile": "13800138000"}, status=201)
        unit = Api(hall_stack.url, public.ok("POST", "/sessions", {"username": f"final-unit-{n}",
                                                                    "password": PASSWORD})["token"])
        case = unit.ok("POST", "/cases", {
            "category": "development", "recommending_unit": unit_name, "title": title,
            "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                       "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
            "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
            "background": "为落实机关党建工作要求，本单位推动党建与业务深度融合。" * 3,
            "innovations": ["以党建带业务，建立联动机制。"], "results": ["群众办事时间缩短一半。"], "originality_pledge": True,
        }, status=201)
        unit.ok("POST", f"/cases/{case['id']}/submit")
        units[case["id"]] = f"final-unit-{n}"

    windows = {s["id"]: s for s in public.ok("GET", "/competition")["stages"]}
    now = datetime.now(timezone.utc)
    opens = min(datetime.fromisoformat(windows["submission"]["opens_at"]), now - timedelta(days=1))
    org.ok("PUT", "/admin/stages/submission", {"opens_at": iso(opens), "closes_at": iso(now - timedelta(minutes=10))})
    org.ok("PUT", "/admin/stages/text_review", {"opens_at": iso(now - timedelta(minutes=9)),
                                                "closes_at": iso(now + timedelta(hours=1))})
    reviewer = org.ok("POST", "/admin/judges", {"name": "文本评委", "email": "reviewer@example.org",
                                                "affiliation": "深圳大学", "categories": ["development"]}, status=201)
    org.ok("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    link = org.ok("POST", "/admin/stages/text_review/links")["links"][0]["url"].rsplit("/j/", 1)[1]
    review = Api(hall_stack.url, public.ok("POST", "/judge/sessions", {"link": link})["token"])
    for i, case_id in enumerate(units):
        review.ok("PUT", f"/judge/cases/{case_id}/score", {"criteria": {"foresight": 20 + i % 10, "practicality": 25,
                                                                         "effectiveness": 30}})
    org.ok("PUT", "/admin/stages/text_review", {"opens_at": iso(now - timedelta(minutes=9)),
                                                "closes_at": iso(now - timedelta(minutes=3))})
    org.ok("POST", "/admin/stages/text_review/close")
    org.ok("PUT", "/admin/stages/coaching", {"opens_at": iso(now - timedelta(minutes=2)),
                                             "closes_at": iso(now - timedelta(minutes=1))})
    org.ok("PUT", "/admin/stages/final", {"opens_at": iso(now - timedelta(seconds=50)),
                                          "closes_at": iso(now + timedelta(hours=3))})

    judges = [reviewer["id"]]
    for n in range(1, 6):
        judges.append(org.ok("POST", "/admin/judges", {"name": f"现场评委{n}", "email": f"final{n}@example.org",
                                                       "affiliation": f"外单位{n}", "categories": ["development"]},
                             status=201)["id"])
    org.ok("POST", "/admin/stages/final/assignments", {})
    drawn = org.ok("POST", "/admin/stages/final/draw", {"category": "development", "seed": "hall-2023"})
    order = [o["case_id"] for o in drawn["draws"]["development"]["order"]]
    assert len(order) == 15
    issued = {l["judge_id"]: l["url"].rsplit("/j/", 1)[1] for l in org.ok("POST", "/admin/stages/final/links")["links"]}
    sessions = {j: Api(hall_stack.url, public.ok("POST", "/judge/sessions", {"link": issued[j]})["token"]) for j in judges}
    return {"org": org, "order": order, "units": units, "links": issued, "judges": judges, "sessions": sessions,
            "titles": {cid: TITLES[i] for i, cid in enumerate(units)}}


def present(hall, case_id):
    hall["org"].ok("POST", "/admin/final/live", {"action": "present", "category": "development", "case_id": case_id})


def score_all(hall, case_id, judges, base):
    for i, judge_id in enumerate(judges):
        hall["sessions"][judge_id].ok("PUT", f"/judge/cases/{case_id}/score", {
            "criteria": {"foresight": 20 + i, "practicality": 20 + (i * 3) % 7, "effectiveness": base + i % 4}})


def log_in(page, stack, username, password):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_a_judge_phone_puts_the_presenting_case_on_top_by_itself(hall_browser, hall_stack, hall):
    for page in fresh_page(hall_browser, hall_stack, viewport=PHONE, is_mobile=True, has_touch=True,
                           device_scale_factor=2):
        judge_id = hall["judges"][1]
        page.goto("/j/" + hall["links"][judge_id])
        page.get_by_role("button", name="开始评分").click()
        expect()(page).to_have_url(re.compile(r"/judge$"))
        items = page.locator("li.judge-case")
        expect()(items).to_have_count(15)
        assert [items.nth(i).get_attribute("data-case-id") for i in range(15)] == hall["order"]
        expect()(page.get_by_text("已评 0 / 15")).to_be_visible()
        screenshot(page, "final-phone-01-drawn-order-390px")

        third = hall["order"][2]
        present(hall, third)        # the organiser, elsewhere: the phone reloads itself
        expect()(items.first).to_have_attribute("data-case-id", third, timeout=20_000)
        expect()(items.first.locator(".badge-now")).to_have_text("现在展示")
        expect()(items.first).to_contain_text("第 3 个展示")
        assert [items.nth(i).get_attribute("data-case-id") for i in range(15)] == (
            [third] + [c for c in hall["order"] if c != third])
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "final-phone-02-presenting-390px")

        items.first.locator("a").click()
        page.get_by_label("前瞻性").fill("26")
        page.get_by_label("实践性").fill("24.5")
        page.get_by_label("成效性").fill("33")
        page.get_by_role("button", name="保存评分").click()
        expect()(page.get_by_text("已评 1 / 15")).to_be_visible()
        expect()(items.first.locator(".badge-done")).to_have_text("已评")
        screenshot(page, "final-phone-03-scored-390px")


def test_the_organiser_drives_the_hall_from_the_control_page(hall_browser, hall_stack, hall):
    for page in fresh_page(hall_browser, hall_stack, viewport=DESK):
        log_in(page, hall_stack, *hall_stack.organiser)
        page.get_by_role("link", name="综合评选现场").click()
        expect()(page).to_have_url(re.compile(r"/admin/final/control$"))
        first = hall["order"][0]
        page.get_by_label("选择现在展示的案例").select_option(first)
        page.get_by_role("button", name="设为现在展示").click()
        expect()(page.locator("#live-title")).to_have_text(hall["titles"][first])
        expect()(page.locator(".live-order")).to_have_text("第 1 个展示（共 15 个）")
        page.get_by_role("button", name="计时开始").click()
        expect()(page.locator(".live-now .live-timer-state")).to_have_text("计时中")
        expect()(page.locator(".live-now [data-timer]")).to_have_text(re.compile(r"^[0-8]:\d\d$"))
        expect()(page.locator("#live-scored")).to_have_text("已评分 0 / 6")

        score_all(hall, first, hall["judges"][:5], 30)
        expect()(page.locator("#live-scored")).to_have_text("已评分 5 / 6", timeout=10_000)
        screenshot(page, "final-control-01-scores-arriving-1280px")
        page.once("dialog", lambda dialog: dialog.accept() if "还有 1 位评委未评分" in dialog.message else dialog.dismiss())
        page.get_by_role("button", name="亮分").click()
        expect()(page.get_by_text("已亮分，大屏正在显示该案例的得分。")).to_be_visible()
        board = hall["org"].ok("GET", "/admin/final/scoreboard?category=development")
        row = board["cases"][0]
        assert row["revealed"] and row["score_text"] is not None
        expect()(page.locator("#live-reveal")).to_have_text(f"已亮分：最后得分 {row['score_text']}，暂列第 1 名")

        page.get_by_label("现场开始时间").fill("2023-06-28T09:30")
        page.get_by_role("button", name="保存开始时间").click()
        expect()(page.get_by_text("现场开始时间已保存。")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]
        screenshot(page, "final-control-02-revealed-1280px")


def test_a_finalist_sees_its_presentation_order_and_time(hall_browser, hall_stack, hall):
    fifth = hall["order"][4]
    for page in fresh_page(hall_browser, hall_stack, viewport=PHONE, is_mobile=True):
        log_in(page, hall_stack, hall["units"][fifth], PASSWORD)
        expect()(page).to_have_url(re.compile(r"/cases$"))
        expect()(page.locator("[data-presentation]")).to_have_text(
            "综合评选现场展示：发展提质第 5 个展示（共 15 个），预计 2023年6月28日 10:10 开始，展示时间不超过 8 分钟。")
        screenshot(page, "final-unit-cases-390px")


def test_the_hall_screen_fits_15_cases_and_shows_scores_only_after_the_reveal(hall_browser, hall_stack, hall):
    for page in fresh_page(hall_browser, hall_stack, viewport=HALL_SCREEN):
        log_in(page, hall_stack, *hall_stack.organiser)
        second = hall["order"][1]
        present(hall, second)
        score_all(hall, second, hall["judges"], 34)
        page.goto("/admin/final/scoreboard?category=development")
        rows = page.locator("table.board tbody tr")
        expect()(rows).to_have_count(15)
        assert page.evaluate("document.scrollingElement.scrollHeight") <= HALL_SCREEN["height"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= HALL_SCREEN["width"]
        for i in range(15):
            expect()(rows.nth(i)).to_be_visible()
        expect()(page.locator("#now-title")).to_have_text(hall["titles"][second])
        expect()(page.locator("#now-final")).to_have_text("—")
        expect()(page.locator(".now-value")).to_have_text(["已评"] * 6)
        assert page.locator("table.board tr.is-presenting td.col-judge").all_inner_texts() == [""] * 6
        screenshot(page, "final-screen-01-before-reveal-1920")

        hall["org"].ok("POST", "/admin/final/live", {"action": "reveal", "category": "development", "case_id": second})
        board = hall["org"].ok("GET", "/admin/final/scoreboard?category=development")
        row = board["cases"][1]
        expect()(page.locator("#now-final")).to_have_text(row["score_text"], timeout=10_000)
        shown = [str(int(j["total"])) if j["total"] == int(j["total"]) else str(j["total"]) for j in row["judges"]]
        expect()(page.locator(".now-value")).to_have_text(shown)
        expect()(page.locator(".now-score.is-dropped .drop-mark")).to_have_text(["去掉最高分", "去掉最低分"]
                                                                            if _highest_first(row) else
                                                                            ["去掉最低分", "去掉最高分"])
        expect()(page.locator("table.board tr.is-presenting td.col-rank")).to_have_text(str(row["rank"]))
        expect()(page.locator("table.board tr.is-presenting td.is-dropped")).to_have_count(2)
        assert page.evaluate("document.scrollingElement.scrollHeight") <= HALL_SCREEN["height"]
        screenshot(page, "final-screen-02-revealed-1920")

        for n, case_id in enumerate(hall["order"][2:6], 3):
            present(hall, case_id)
            score_all(hall, case_id, hall["judges"], 28 + n)
            hall["org"].ok("POST", "/admin/final/live", {"action": "reveal", "category": "development",
                                                         "case_id": case_id})
        board = hall["org"].ok("GET", "/admin/final/scoreboard?category=development")
        ranks = [c["rank"] and str(c["rank"]) or "" for c in board["cases"]]
        expect()(page.locator("table.board td.col-rank")).to_have_text(ranks, timeout=10_000)
        assert page.evaluate("document.scrollingElement.scrollHeight") <= HALL_SCREEN["height"]
        screenshot(page, "final-screen-03-ranks-1920")


def _highest_first(row) -> bool:
    marks = [j["dropped"] for j in row["judges"] if j["dropped"]]
    return marks == ["highest", "lowest"]
