"""The organiser console in Chromium: log in, the dashboard at 1280 px and at 390 px (no sideways scrolling of
the page; wide tables scroll inside their own box), then the case browser by keyboard, with a search; an export
started from the console shows its progress (admin.js polls the API with the cookie) and then its link."""
from __future__ import annotations

import re

from .conftest import screenshot


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def log_in(page, stack) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(stack.organiser[0])
    page.get_by_label("密码").fill(stack.organiser[1])
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/admin$"))


def test_organiser_sees_the_dashboard_at_desktop_and_phone_width_and_opens_the_case_browser(page, stack):
    log_in(page, stack)
    expect()(page.get_by_role("heading", name="主办单位管理台", exact=True)).to_be_visible()
    for heading in ("阶段时间", "案例：类别 × 状态", "每日提交", "评委评分进度"):
        expect()(page.get_by_role("heading", name=heading)).to_be_visible()
    expect()(page.get_by_role("heading", name=re.compile(r"^尚未提交案例的单位（\d+）$"))).to_be_visible()
    expect()(page.get_by_role("link", name="概览")).to_have_attribute("aria-current", "page")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") == "1240px"
    screenshot(page, "admin-dashboard-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect()(page.get_by_role("heading", name="主办单位管理台", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "admin-dashboard-390")

    page.set_viewport_size({"width": 1280, "height": 900})
    nav_link = page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="案例", exact=True)
    nav_link.focus()
    page.keyboard.press("Enter")
    expect()(page).to_have_url(re.compile(r"/admin/cases$"))
    expect()(page.get_by_role("heading", name="案例浏览")).to_be_visible()
    expect()(page.locator("#case-count")).to_have_text(re.compile(r"^共 \d+ 个案例"))
    search = page.get_by_label("搜索案例名称或单位")
    search.fill("不存在的案例名称")
    search.press("Enter")
    expect()(page).to_have_url(re.compile(r"/admin/cases\?category=&status=&q=%E4%B8%8D"))
    expect()(page.locator("#case-count")).to_have_text("共 0 个案例。")
    expect()(search).to_have_value("不存在的案例名称")
    screenshot(page, "admin-cases-1280")


def test_an_export_started_from_the_console_is_followed_to_its_download_link(page, stack):
    log_in(page, stack)
    page.goto("/admin/exports")
    page.get_by_label("报名情况（Excel，帐号及其案例）").check()
    page.get_by_role("button", name="开始导出").click()
    expect()(page).to_have_url(re.compile(r"/admin/exports\?job=\w+$"))
    current = page.locator("tr.is-current")
    expect()(current.locator("progress")).to_be_visible()
    link = current.get_by_role("link", name=re.compile(r"^下载 .+报名情况-\d{8}\.xlsx$"))
    expect()(link).to_be_visible(timeout=20_000)                 # the local runner builds it; admin.js follows
    expect()(current.locator(".job-percent")).to_have_text("100%")
    expect()(current.locator(".job-status")).to_have_text("已完成")
    assert "exports/" in link.get_attribute("href")
    screenshot(page, "admin-exports-done")


def test_the_console_templates_download_in_chromium(page, stack, tmp_path):
    """评委名单 and 往年案例 import templates: a click saves an .xlsx under its Chinese name (a link with
    `download` sends no Accept header: the page hands the file out from S3, not as a binary body)."""
    from openpyxl import load_workbook
    log_in(page, stack)
    for path, link, filename, sheet in (
            ("/admin/judges", "下载评委名单模板（.xlsx）", "评委名单导入模板.xlsx", "评委名单"),
            ("/admin/originality", "下载模板", "往年案例导入模板.xlsx", "往年案例")):
        page.goto(path)
        with page.expect_download() as info:
            page.get_by_role("link", name=link).first.click()
        download = info.value
        assert (download.suggested_filename, download.failure()) == (filename, None)
        saved = tmp_path / filename
        download.save_as(saved)
        assert sheet in load_workbook(saved).sheetnames
