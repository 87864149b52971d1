"""`/` in Chromium, on a 390 px phone (units open it in WeChat) and at a 1280 px desk: the contacts with their
phones as tel: links, both Word downloads (大赛通知, 参赛案例说明书 template) saved and opened; then a unit's
way in the notice's words: 选手注册, and after login the menu 案例 › 案例报送 to 我的案例 and 新增案例."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, fresh_page, screenshot
from tests.e2e.test_unit_portal import expect, register_and_log_in

SIZES = {"phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2},
         "desk": {"viewport": {"width": 1280, "height": 900}}}


@pytest.fixture(params=sorted(SIZES))
def sized(request, browser, stack):
    for page in fresh_page(browser, stack, accept_downloads=True, **SIZES[request.param]):
        yield request.param, page


def test_a_visitor_sees_the_contacts_and_downloads_both_word_files(sized, tmp_path):
    from docx import Document
    size, page = sized
    page.goto("/")
    block = page.get_by_role("region", name="申报指引与下载")
    contacts = block.get_by_role("list", name="联系人")
    assert contacts.get_by_role("listitem").all_inner_texts() == ["王宇昕，电话：88134324", "马哲东，电话：88132065"]
    assert [contacts.get_by_role("link", name=n).get_attribute("href") for n in ("88134324", "88132065")] == [
        "tel:88134324", "tel:88132065"]
    expect()(page.get_by_role("link", name="注册", exact=True)).to_be_visible()
    expect()(page.get_by_role("link", name="登录", exact=True)).to_be_visible()
    block.scroll_into_view_if_needed()
    screenshot(page, f"home-downloads-{size}")
    block.screenshot(path=str(ARTIFACTS / f"home-downloads-block-{size}.png"))

    saved = {}
    for link, expected in (("大赛通知", "2023年深圳市“党建杯”机关创新创优竞赛通知.docx"),
                           ("参赛案例说明书", "2023年深圳市“党建杯”机关创新创优竞赛参赛案例说明书.docx")):
        with page.expect_download() as info:
            block.get_by_role("link", name=re.compile(link)).click()
        download = info.value
        assert download.suggested_filename == expected
        path = tmp_path / expected
        download.save_as(path)
        saved[link] = Document(str(path))
    notice = [p.text for p in saved["大赛通知"].paragraphs if p.text]
    assert notice[0] == "深直工字〔2023〕3号" and notice[1].endswith("深圳选拔赛的通知")
    (form,) = saved["参赛案例说明书"].tables
    labels = [row.cells[0].text for row in form.rows]
    assert labels[:3] == ["案例类别", "推荐单位", "案例名称"] and labels[-1] == "坚持原创承诺"


def test_a_unit_registers_as_the_notice_says_and_reaches_new_case_through_the_menu(sized):
    size, page = sized
    page.goto("/register")
    expect()(page.get_by_role("heading", level=1)).to_have_text("选手注册")
    screenshot(page, f"register-{size}")
    register_and_log_in(page)
    menu = page.get_by_role("navigation", name="主导航").get_by_role("group", name="案例")
    expect()(menu).to_be_visible()
    screenshot(page, f"unit-menu-{size}")
    page.goto("/account")                    # the menu from another page
    menu.get_by_role("link", name="案例报送").click()
    expect()(page).to_have_url(re.compile(r"/cases$"))
    expect()(page.get_by_role("heading", name="我的案例")).to_be_visible()
    screenshot(page, f"cases-{size}")
    page.get_by_role("link", name="新增案例").click()
    expect()(page).to_have_url(re.compile(r"/cases/new$"))
    expect()(page.get_by_role("heading", level=1)).to_have_text("参赛案例说明书")
