"""Earlier years' cases imported from the console in Chromium: at 1280 px the organiser downloads nothing by
hand, picks a filled workbook in 往年案例, presses 导入 and sees a submitted copy flagged with the archived
case's year; a workbook with a bad row imports nothing and lists the row and column; at 390 px the page is
readable (no sideways scrolling, passages folded)."""
from __future__ import annotations

import re
import secrets

from tests.originality_corpus import Texts

from .conftest import fresh_page, screenshot
from .test_judge_phone import Api

HEADER = ["年份", "案例名称", "单位", "案例类别", "案例背景", "案例创新点", "案例取得的成果"]


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def workbook(path, rows) -> str:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "往年案例"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


def submit_copy(stack, text: dict) -> str:
    """A unit's submitted case with this text; returns its title."""
    public = Api(stack.url)
    n = secrets.token_hex(3)
    public.ok("POST", "/accounts", {"username": f"orig-unit-{n}", "password": "correct-horse-battery",
                                    "unit_name": f"深圳市原创测试局{n}", "unit_system": "municipal",
                                    "contact_name": "张三", "email": f"o{n}@example.gov.cn", "mobile": "13800138000"},
              status=201)
    unit = Api(stack.url, public.ok("POST", "/sessions", {"username": f"orig-unit-{n}",
                                                          "password": "correct-horse-battery"})["token"])
    case = unit.ok("POST", "/cases", {
        "category": "development", "recommending_unit": f"深圳市原创测试局{n}", "title": text["title"],
        "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
        "background": text["background"], "innovations": text["innovations"], "results": text["results"],
        "originality_pledge": True}, status=201)
    unit.ok("POST", f"/cases/{case['id']}/submit")
    return text["title"]


def log_in(page, stack) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(stack.organiser[0])
    page.get_by_label("密码").fill(stack.organiser[1])
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/admin$"))


def test_a_past_years_workbook_is_imported_from_the_console_and_the_copy_is_flagged_with_its_year(
        page, stack, browser, tmp_path):
    texts = Texts(int(secrets.token_hex(2), 16))
    old, other = texts.case(), texts.case()
    copy_title = submit_copy(stack, texts.near_copy(old))
    log_in(page, stack)
    page.goto("/admin/originality")
    expect()(page.get_by_role("link", name="下载模板")).to_have_attribute("href", "/admin/originality/template.xlsx")

    bad = workbook(tmp_path / "bad.xlsx", [
        [2022, old["title"], "往年单位甲", "发展提质", old["background"], "\n".join(old["innovations"]), ""],
        [2022, other["title"], "往年单位乙", "创新类", other["background"], "", ""]])
    page.get_by_label("往年案例").set_input_files(bad)
    page.get_by_role("button", name="导入").click()
    errors = page.locator("#import-result")
    expect()(errors).to_contain_text("未导入任何往年案例：共 1 处错误")
    expect()(errors.locator("tbody tr")).to_have_text([re.compile(r"^第 3 行\s*案例类别\s*“创新类”不是案例类别")])
    screenshot(page, "admin-originality-import-refused-1280")

    good = workbook(tmp_path / "good.xlsx", [
        [2022, old["title"], "往年单位甲", "发展提质", old["background"], "\n".join(old["innovations"]),
         "\n".join(old["results"])],
        [2021, other["title"], "往年单位乙", "服务增效", other["background"], "\n".join(other["innovations"]), ""]])
    page.get_by_label("往年案例").set_input_files(good)
    page.get_by_role("button", name="导入").click()
    expect()(page).to_have_url(re.compile(r"/admin/originality\?done=imported&n=2$"))
    expect()(page.get_by_role("status").first).to_have_text("已导入 2 个往年案例，所有已提交案例已重新比对。")
    flag = page.locator("section.flag", has=page.get_by_role("heading", name=copy_title))
    expect()(flag).to_have_count(1)
    expect()(flag.locator("p.match")).to_have_text(re.compile(rf"^与 2022 年往年案例“{re.escape(old['title'])}”相似度 \d+\.\d%$"))
    details = flag.locator("details")
    expect()(details.locator("blockquote").first).to_be_hidden()
    details.locator("summary").click()
    expect()(details.locator("blockquote").first).to_be_visible()
    screenshot(page, "admin-originality-flag-1280")

    for phone in fresh_page(browser, stack, viewport={"width": 390, "height": 844}):
        log_in(phone, stack)
        phone.goto("/admin/originality")
        expect()(phone.get_by_label("往年案例")).to_be_visible()
        expect()(phone.get_by_role("heading", name=copy_title)).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "admin-originality-390")
        phone.locator("section.flag", has=phone.get_by_role("heading", name=copy_title)).locator("summary").click()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "admin-originality-390-open")
