"""A unit in a real browser: register, log in, fill the 说明书, be refused, fix, upload to S3, submit."""
from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

import pytest

from .conftest import fresh_page, screenshot

PASSWORD = "correct-horse-battery"
VALUES = {
    "推荐单位": "深圳市某某局", "案例名称": "党建引领“数字政府”建设", "牵头人姓名": "李四", "牵头人职务": "处长",
    "牵头人办公电话": "0755-88134324", "牵头人出生日期": "1988-05-04", "联系人姓名": "王五", "联系人职务": "科员",
    "联系人办公电话": "88134324", "联系人手机": "13712345678",
    "案例背景": "为落实机关党建工作要求，本单位……\n第二段背景。", "案例创新点1": "创新点一：以党建带业务。",
    "案例取得的成果1": "成果一：办事时间缩短一半。",
}
SELECTS = {"案例类别": "服务增效", "牵头人性别": "女", "牵头人职级": "科级及以下"}


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def pdf(path: Path, valid: bool = True) -> Path:
    path.write_bytes((b"%PDF-1.4\n" if valid else b"not a pdf at all\n") + b"1 0 obj << >> endobj\n%%EOF\n")
    return path


PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/shots/attach")


@pytest.fixture
def phone(browser, stack):
    yield from fresh_page(browser, stack, viewport=PHONE)


def shot(page, name: str) -> None:
    """The walk's screenshot, also kept where the attachment checks' reviewers look at them."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot(page, name), SHOTS / f"{name}.png")


def register_and_log_in(page) -> str:
    n = secrets.token_hex(3)
    username = f"unit-{n}"
    page.goto("/")
    page.get_by_role("link", name="注册").click()
    expect()(page).to_have_url(re.compile(r"/register$"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("单位名称").fill(f"深圳市测试局{n}")
    page.get_by_label("单位类型").select_option("市直")
    page.get_by_label("联系人", exact=True).fill("张三")
    page.get_by_label("电子邮箱").fill(f"{username}@example.gov.cn")
    page.get_by_label("手机", exact=True).fill("13800138000")
    page.get_by_role("button", name="注册").click()
    expect()(page).to_have_url(re.compile(r"/login\?done=registered$"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/cases$"))
    expect()(page.get_by_role("heading", name="我的案例")).to_be_visible()
    return username


def fill_case(page, mobile: str) -> None:
    for label, option in SELECTS.items():
        page.get_by_label(label).select_option(option)
    for label, value in VALUES.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("牵头人手机").fill(mobile)
    page.get_by_role("button", name="添加案例创新点").click()
    page.get_by_label("案例创新点2").fill("创新点二：群众评议闭环。")
    page.get_by_label("坚持原创承诺").check()


def test_a_unit_fixes_a_refused_form_uploads_a_pdf_and_submits(page, tmp_path):
    register_and_log_in(page)
    page.get_by_role("link", name="新增案例").click()
    expect()(page).to_have_url(re.compile(r"/cases/new$"))
    fill_case(page, mobile="12345")
    counted = sum(len(re.sub(r"\s", "", v)) for k, v in VALUES.items() if k.startswith("案例") and k not in ("案例类别",))
    expect()(page.locator("[data-char-count]")).to_have_text(str(counted + len("创新点二：群众评议闭环。")))
    screenshot(page, "01-form-filled-wrong-mobile")

    page.get_by_role("button", name="提交").click()
    # Refused: the error sits right after 牵头人手机 and is tied to it; everything typed is still there.
    mobile = page.get_by_label("牵头人手机")
    expect()(mobile).to_have_attribute("aria-invalid", "true")
    error = page.locator("#" + mobile.get_attribute("aria-describedby"))
    expect()(error).to_contain_text("牵头人手机应为以 1 开头的 11 位手机号码")
    expect()(page.locator("#f-leader-mobile + .field-error")).to_have_text(error.inner_text())
    expect()(page.locator("#error-summary")).to_be_focused()
    expect()(mobile).to_have_value("12345")
    for label, value in VALUES.items():
        expect()(page.get_by_label(label, exact=True)).to_have_value(value)
    for label, option in SELECTS.items():
        expect()(page.get_by_label(label).locator("option:checked")).to_have_text(option)
    expect()(page.get_by_label("案例创新点2")).to_have_value("创新点二：群众评议闭环。")
    expect()(page.get_by_label("坚持原创承诺")).to_be_checked()
    expect()(page).to_have_url(re.compile(r"/cases/\w+/edit$"))  # the refused 提交 kept a draft
    screenshot(page, "02-refused-mobile-error")

    mobile.fill("13912345678")
    page.get_by_label("附件").set_input_files(str(pdf(tmp_path / "案例说明书.pdf")))
    item = page.locator("#attachment-list li").filter(has_text="案例说明书.pdf")
    expect()(item.locator(".upload-status")).to_have_text("已校验", timeout=30_000)
    expect()(item.get_by_role("link", name="下载")).to_be_visible()
    screenshot(page, "03-attachment-verified")

    page.get_by_role("button", name="提交").click()
    expect()(page).to_have_url(re.compile(r"/cases\?done=submitted$"))
    case = page.locator(".case-item").filter(has_text=VALUES["案例名称"])
    expect()(case.locator(".badge")).to_have_text("已提交")
    expect()(case).to_contain_text("附件 1 个")
    screenshot(page, "04-cases-submitted")

    page.set_viewport_size({"width": 390, "height": 844})
    case.get_by_role("link", name="编辑").click()
    expect()(page.get_by_label("牵头人手机")).to_have_value("13912345678")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "05-form-390px")


def test_submit_waits_for_an_upload_and_refuses_after_a_failed_one(page, tmp_path):
    register_and_log_in(page)
    page.get_by_role("link", name="新增案例").click()
    fill_case(page, mobile="13912345678")

    # A file whose bytes are not a PDF: the draft is saved first, the upload then fails its check.
    page.get_by_label("附件").set_input_files(str(pdf(tmp_path / "假文件.pdf", valid=False)))
    failed = page.locator("#attachment-list li").filter(has_text="假文件.pdf")
    expect()(failed.locator(".upload-status")).to_contain_text("失败", timeout=30_000)
    expect()(failed).to_contain_text("不是有效的PDF文件")
    expect()(page).to_have_url(re.compile(r"/cases/\w+/edit$"))
    page.get_by_role("button", name="提交").click()
    expect()(page.locator("#form-message")).to_contain_text("有附件上传失败（假文件.pdf）")
    expect()(page).to_have_url(re.compile(r"/cases/\w+/edit$"))
    screenshot(page, "06-upload-failed")

    # Dismiss it, choose a good file and press 提交 at once: the page waits for the upload, then submits.
    failed.get_by_role("button", name="移除").click()
    page.get_by_label("附件").set_input_files(str(pdf(tmp_path / "材料.pdf")))
    page.get_by_role("button", name="提交").click()
    expect()(page).to_have_url(re.compile(r"/cases\?done=submitted$"), timeout=30_000)
    case = page.locator(".case-item").filter(has_text=VALUES["案例名称"])
    expect()(case.locator(".badge")).to_have_text("已提交")
    expect()(case).to_contain_text("附件 1 个")


def test_points_are_added_and_removed_in_place_by_keyboard(page):
    register_and_log_in(page)
    page.goto("/cases/new")
    add = page.get_by_role("button", name="添加案例取得的成果")
    add.focus()
    page.keyboard.press("Enter")
    expect()(page.get_by_label("案例取得的成果2")).to_be_focused()
    page.keyboard.type("第二条成果")
    add.focus()
    page.keyboard.press("Enter")
    expect()(add).to_be_hidden()  # at most 3
    page.get_by_label("案例取得的成果3").fill("第三条")
    page.get_by_role("button", name="移除 案例取得的成果1").click()
    expect()(page.get_by_label("案例取得的成果1")).to_have_value("第二条成果")
    expect()(page.get_by_label("案例取得的成果2")).to_have_value("第三条")
    expect()(add).to_be_visible()
    expect()(page.locator("[data-char-count]")).to_have_text(str(len("第二条成果第三条")))
    page.get_by_label("案例名称").fill("标 题")
    expect()(page.locator("[data-char-count]")).to_have_text(str(len("第二条成果第三条标题")))


def test_organiser_lands_on_the_console(page, stack):
    page.goto("/login")
    page.get_by_label("用户名").fill(stack.organiser[0])
    page.get_by_label("密码").fill(stack.organiser[1])
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/admin$"))
    expect()(page.get_by_role("heading", name="主办单位管理台")).to_be_visible()
    page.get_by_role("button", name="退出").click()
    expect()(page).to_have_url(re.compile(r"/login\?done=logged_out$"))
    page.goto("/admin")
    expect()(page).to_have_url(re.compile(r"/login$"))


def test_a_save_from_a_stale_tab_keeps_the_text_and_can_be_saved_again(page):
    register_and_log_in(page)
    page.goto("/cases/new")
    page.get_by_label("案例名称").fill("第一版标题")
    page.get_by_role("button", name="保存草稿").click()
    expect()(page.locator(".notice")).to_have_text("草稿已保存。")
    other = page.context.new_page()
    other.goto(page.url)
    other.get_by_label("案例名称").fill("另一个标签页的标题")
    other.get_by_role("button", name="保存草稿").click()
    expect()(other.locator(".notice")).to_have_text("草稿已保存。")
    other.close()

    page.get_by_label("案例名称").fill("我在第一个标签页写的标题")
    page.get_by_label("案例背景").fill("一大段不能丢的背景。")
    page.get_by_role("button", name="保存草稿").click()
    expect()(page.locator("#error-summary")).to_contain_text("案例已在别处被修改")
    expect()(page.get_by_label("案例名称")).to_have_value("我在第一个标签页写的标题")
    expect()(page.get_by_label("案例背景")).to_have_value("一大段不能丢的背景。")
    screenshot(page, "07-stale-version")
    page.get_by_role("button", name="保存草稿").click()
    expect()(page.locator(".notice")).to_have_text("草稿已保存。")
    expect()(page.get_by_label("案例名称")).to_have_value("我在第一个标签页写的标题")


def test_a_unit_on_a_phone_uploads_a_real_pdf_sees_it_verified_and_submits(phone, tmp_path):
    """At 390 px (WeChat): a PDF made by fpdf2 goes to S3 through the grant, is copied to the served key and
    checked there (structure, no executable, no active content), shows 已校验, and the case is submitted."""
    from fpdf import FPDF
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=14)
    document.multi_cell(0, 10, text="Party building case 2023: innovation report")
    path = tmp_path / "创新案例说明书.pdf"
    document.output(str(path))
    register_and_log_in(phone)
    phone.get_by_role("link", name="新增案例").click()
    fill_case(phone, mobile="13912345678")
    phone.get_by_label("附件").set_input_files(str(path))
    item = phone.locator("#attachment-list li").filter(has_text="创新案例说明书.pdf")
    expect()(item.locator(".upload-status")).to_have_text("已校验", timeout=30_000)
    expect()(item.get_by_role("link", name="下载")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    item.scroll_into_view_if_needed()
    shot(phone, "attach-01-pdf-verified-390")

    # A PDF carrying a script is refused, named, and removed; the verified one stays.
    script = tmp_path / "带脚本.pdf"
    data = path.read_bytes()
    at = data.rindex(b"xref")
    script.write_bytes(data[:at] + b"99 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n" + data[at:])
    phone.get_by_label("附件").set_input_files(str(script))
    refused = phone.locator("#attachment-list li").filter(has_text="带脚本.pdf")
    expect()(refused.locator(".upload-status")).to_contain_text("失败", timeout=30_000)
    expect()(refused).to_contain_text("PDF 中含有JavaScript 脚本")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    refused.scroll_into_view_if_needed()
    shot(phone, "attach-02-script-refused-390")
    refused.get_by_role("button", name="移除").click()

    phone.get_by_role("button", name="提交").click()
    expect()(phone).to_have_url(re.compile(r"/cases\?done=submitted$"), timeout=30_000)
    case = phone.locator(".case-item").filter(has_text=VALUES["案例名称"])
    expect()(case.locator(".badge")).to_have_text("已提交")
    expect()(case).to_contain_text("附件 1 个")
    shot(phone, "attach-03-submitted-390")
