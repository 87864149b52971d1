"""综合评选展示材料 in Chromium, on a stack of its own (its stages are moved): three cases advance through a
text review; during coaching a finalist's unit uploads its presentation from /cases/{id} on a 390 px phone;
then the final opens and 现场控制 at 1280 px offers 打开展示材料 for the case now presenting, which downloads
the very file."""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from .conftest import CHROMIUM, fresh_page, running_stack, screenshot
from .test_judge_phone import Api, iso

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
PASSWORD = "correct-horse-battery"
SHOTS = Path("/tmp/provincial/shots")
TITLES = ["党建引领“四位一体”基层治理新格局", "“红色驿站”打通服务群众最后一公里", "数字党建平台助力机关效能提升"]


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def shot(page, name: str) -> None:
    path = screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def _pptx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("[Content_Types].xml", (2023, 6, 20, 9, 0, 0)), "<Types/>")
        z.writestr(zipfile.ZipInfo("ppt/presentation.xml", (2023, 6, 20, 9, 0, 0)),
                   "<p:presentation>综合评选</p:presentation>")
    return buffer.getvalue()


PPTX = _pptx()


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with running_stack(tmp_path_factory.mktemp("presentation-data"), "e2e-presentation-stack") as stack:
        yield stack


@pytest.fixture(scope="module")
def finalists(own_stack):
    """Three development cases, a text review scored and closed early: all three advance; coaching is open."""
    public = Api(own_stack.url)
    org = Api(own_stack.url, public.ok("POST", "/sessions", {"username": own_stack.organiser[0],
                                                            "password": own_stack.organiser[1]})["token"])
    units = {}
    for n, title in enumerate(TITLES, 1):
        unit_name = f"深圳市第{n}局"
        public.ok("POST", "/accounts", {"username": f"show-unit-{n}", "password": PASSWORD, "unit_name": unit_name,
                                        "unit_system": "municipal", "contact_name": "张三",
                                        "email": f"show{n}@example.gov.cn", "mobile": "13800138000"}, status=201)
        unit = Api(own_stack.url, public.ok("POST", "/sessions", {"username": f"show-unit-{n}",
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
        units[case["id"]] = f"show-unit-{n}"
    windows = {s["id"]: s for s in public.ok("GET", "/competition")["stages"]}
    now = datetime.now(timezone.utc)
    opens = min(datetime.fromisoformat(windows["submission"]["opens_at"]), now - timedelta(days=1))
    org.ok("PUT", "/admin/stages/submission", {"opens_at": iso(opens), "closes_at": iso(now - timedelta(minutes=10))})
    org.ok("PUT", "/admin/stages/text_review", {"opens_at": iso(now - timedelta(minutes=9)),
                                                "closes_at": iso(now + timedelta(hours=1))})
    judge = org.ok("POST", "/admin/judges", {"name": "现场评委", "email": "show-judge@example.org",
                                             "affiliation": "深圳大学", "categories": ["development"]}, status=201)
    org.ok("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    link = org.ok("POST", "/admin/stages/text_review/links")["links"][0]["url"].rsplit("/j/", 1)[1]
    review = Api(own_stack.url, public.ok("POST", "/judge/sessions", {"link": link})["token"])
    for case_id in units:
        review.ok("PUT", f"/judge/cases/{case_id}/score", {"criteria": {"foresight": 25, "practicality": 25,
                                                                         "effectiveness": 30}})
    org.ok("PUT", "/admin/stages/text_review", {"opens_at": iso(now - timedelta(minutes=9)),
                                                "closes_at": iso(now - timedelta(minutes=3))})
    org.ok("POST", "/admin/stages/text_review/close")
    org.ok("PUT", "/admin/stages/coaching", {"opens_at": iso(now - timedelta(minutes=2)),
                                             "closes_at": iso(now + timedelta(hours=1))})
    org.ok("PUT", "/admin/stages/final", {"opens_at": iso(now + timedelta(hours=2)),
                                          "closes_at": iso(now + timedelta(hours=5))})
    return {"org": org, "public": public, "units": units, "judge": judge["id"], "now": now,
            "titles": dict(zip(units, TITLES))}


def log_in(page, username, password):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_a_finalist_uploads_its_presentation_from_its_phone(chromium, own_stack, finalists, tmp_path):
    case_id = next(iter(finalists["units"]))
    slides = tmp_path / "汇报材料.pptx"
    slides.write_bytes(PPTX)
    for page in fresh_page(chromium, own_stack, viewport=PHONE, is_mobile=True, has_touch=True,
                           device_scale_factor=2):
        log_in(page, finalists["units"][case_id], PASSWORD)
        page.goto(f"/cases/{case_id}")
        section = page.locator("section#presentation")
        expect()(section.get_by_role("heading", name="展示材料")).to_be_visible()
        expect()(section.locator("[data-presentation-current]")).to_have_text("尚未上传展示材料。")
        shot(page, "presentation-01-unit-before-390px")
        page.get_by_label("上传展示材料").set_input_files(str(slides))
        expect()(page.get_by_text("展示材料已上传并通过校验。")).to_be_visible(timeout=20_000)
        expect()(section.locator("[data-presentation-current] a")).to_have_text("汇报材料.pptx")
        expect()(page.get_by_label("替换展示材料")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "presentation-02-unit-uploaded-390px")
        response = page.request.get(section.locator("[data-presentation-current] a").get_attribute("href"))
        assert (response.status, response.body()) == (200, PPTX)


def test_the_control_page_opens_the_presenting_case_s_presentation(chromium, own_stack, finalists):
    org, now = finalists["org"], datetime.now(timezone.utc)
    org.ok("PUT", "/admin/stages/coaching", {"opens_at": iso(finalists["now"] - timedelta(minutes=2)),
                                             "closes_at": iso(now - timedelta(seconds=30))})
    org.ok("PUT", "/admin/stages/final", {"opens_at": iso(now - timedelta(seconds=20)),
                                          "closes_at": iso(now + timedelta(hours=3))})
    org.ok("POST", "/admin/stages/final/assignments", {})
    order = [o["case_id"] for o in org.ok("POST", "/admin/stages/final/draw",
                                          {"category": "development", "seed": "show-2023"})["draws"]["development"]["order"]]
    uploaded = next(iter(finalists["units"]))
    without = next(c for c in order if c != uploaded)
    for page in fresh_page(chromium, own_stack, viewport=DESK):
        log_in(page, *own_stack.organiser)
        page.goto("/admin/final/control")
        page.get_by_label("选择现在展示的案例").select_option(without)
        page.get_by_role("button", name="设为现在展示").click()
        expect()(page.locator(".live-now .live-presentation")).to_have_text("该案例未上传展示材料。")
        page.get_by_label("选择现在展示的案例").select_option(uploaded)
        page.get_by_role("button", name="设为现在展示").click()
        expect()(page.locator("#live-title")).to_have_text(finalists["titles"][uploaded])
        link = page.get_by_role("link", name="打开展示材料")
        expect()(link).to_have_attribute("href", f"/cases/{uploaded}/presentation")
        expect()(page.locator(".live-presentation .muted")).to_have_text("汇报材料.pptx")
        assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]
        shot(page, "presentation-03-control-open-1280px")
        response = page.request.get(link.get_attribute("href"))
        assert (response.status, response.body()) == (200, PPTX)
        page.get_by_role("button", name="导出本类别展示材料（zip，按抽签顺序）").click()
        expect()(page).to_have_url(re.compile(r"/admin/exports\?job="))
        download = page.locator("#export-jobs tr.is-current .job-download a")
        expect()(download).to_contain_text("展示材料-发展提质", timeout=20_000)
        shot(page, "presentation-04-zip-export-1280px")
        archive = zipfile.ZipFile(io.BytesIO(page.request.get(download.get_attribute("href")).body()))
        position = order.index(uploaded) + 1
        assert archive.namelist() == ["展示顺序.txt", f"{position:02d}_{finalists['titles'][uploaded]}.pptx"]


def test_the_organiser_recommends_a_case_and_exports_the_provincial_list(chromium, own_stack, finalists):
    """After the final closes (one judge scores the three finalists), the organiser marks a case 推荐参加省赛
    with its reason on the case page and makes the 省赛推荐名单 workbook on the exports page."""
    org, public = finalists["org"], finalists["public"]
    link = org.ok("POST", "/admin/stages/final/links")["links"][0]["url"].rsplit("/j/", 1)[1]
    judge = Api(own_stack.url, public.ok("POST", "/judge/sessions", {"link": link})["token"])
    for i, case_id in enumerate(finalists["units"]):
        judge.ok("PUT", f"/judge/cases/{case_id}/score", {"criteria": {"foresight": 28 - i, "practicality": 25,
                                                                        "effectiveness": 35}})
    org.ok("POST", "/admin/stages/final/close")
    chosen = next(iter(finalists["units"]))
    reason = "以党建引领基层治理，经验可复制可推广。"
    for page in fresh_page(chromium, own_stack, viewport=DESK):
        log_in(page, *own_stack.organiser)
        page.goto(f"/admin/cases/{chosen}")
        page.get_by_role("button", name="推荐参加省赛").click()
        expect()(page.locator("#f-reason-error")).to_have_text("请填写推荐理由")
        page.get_by_label("推荐理由").fill(reason)
        shot(page, "provincial-01-reason-1280px")
        page.get_by_role("button", name="推荐参加省赛").click()
        expect()(page.get_by_text("省赛推荐标记已保存。")).to_be_visible()
        expect()(page.get_by_text(f"推荐理由：{reason}")).to_be_visible()
        shot(page, "provincial-02-recommended-1280px")
        page.goto("/admin/exports")
        page.get_by_label("省赛推荐名单（Excel，单位、牵头人、类别、奖项、推荐理由）").check()
        page.get_by_role("button", name="开始导出").click()
        download = page.locator("#export-jobs tr.is-current .job-download a")
        expect()(download).to_contain_text("省赛推荐名单", timeout=20_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]
        shot(page, "provincial-03-export-1280px")
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(page.request.get(download.get_attribute("href")).body()))
        rows = [[c.value for c in row] for row in book["省赛推荐名单"].iter_rows()]
        assert rows[1:] == [[1, "发展提质", 1, "一等奖", finalists["titles"][chosen], "深圳市第1局", "李四", "处长",
                             "13912345678", reason]]
