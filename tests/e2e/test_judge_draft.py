"""A judge on a 390 px phone never loses typed scores: criteria and 评语 typed but not saved come back after a
reload (browser draft, state 未保存, a warning before leaving), 保存评分 clears the draft (已保存, no stale draft
after a reload); 回避 asks to confirm first. And the organiser at 1280 px: 评分链接 with each link's state,
显示链接, and the QR sheet made after the links were mailed, which leaves them working."""
from __future__ import annotations

import re

from .conftest import screenshot
from .test_admin_console import log_in
from .test_judge_phone import Api, expect, fits, phone, restore, set_up  # noqa: F401 (phone is a fixture)

DRAFTS = "Object.keys(localStorage).filter(function (k) { return k.indexOf('saiping-draft:') === 0; })"


def state(page) -> str:
    return page.locator("#score-form [data-draft-state] strong").inner_text()


def test_typed_scores_survive_a_reload_until_saved(phone, stack):
    link, _, setup = set_up(stack)
    dialogs: list[str] = []

    def answer(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    try:
        page = phone
        page.on("dialog", answer)
        page.goto(link)
        page.get_by_role("button", name="开始评分").click()
        expect()(page).to_have_url(re.compile(r"/judge$"))
        page.locator("a.judge-case-link").first.click()
        expect()(page).to_have_url(re.compile(r"/judge/cases/[^/]+$"))
        case_url = page.url
        expect()(page.locator("#score-form [data-draft-state] strong")).to_have_text("尚未填写")

        page.get_by_label("前瞻性").fill("20")
        page.get_by_label("实践性").fill("21.5")
        page.get_by_label("评语").fill("思路清晰，建议补充数据。")
        expect()(page.locator("#score-form [data-draft-state] strong")).to_have_text("未保存")
        screenshot(page, "draft-01-typed-unsaved-390px")

        page.reload()                                   # WeChat reloads: the browser asks first
        assert dialogs == ["beforeunload"]
        expect()(page.get_by_label("前瞻性")).to_have_value("20")
        expect()(page.get_by_label("实践性")).to_have_value("21.5")
        expect()(page.get_by_label("成效性")).to_have_value("")
        expect()(page.get_by_label("评语")).to_have_value("思路清晰，建议补充数据。")
        expect()(page.locator("#score-total")).to_have_text("41.5")
        assert state(page) == "未保存"
        expect()(page.locator("#score-form [data-draft-state] span")).to_have_text(
            "已恢复上次未保存的输入。输入已暂存在本机，请点击“保存评分”提交。")
        fits(page)
        screenshot(page, "draft-02-restored-after-reload-390px")

        page.get_by_label("成效性").fill("30")
        page.get_by_role("button", name="保存评分").click()
        expect()(page).to_have_url(re.compile(r"/judge\?done=saved$"))
        assert dialogs == ["beforeunload"]              # saving leaves without a warning
        assert page.evaluate(DRAFTS) == []              # the draft is gone once saved

        page.goto(case_url)
        expect()(page.locator("#score-form [data-draft-state] strong")).to_have_text("已保存")
        page.reload()
        assert dialogs == ["beforeunload"]              # nothing unsaved: no warning
        expect()(page.get_by_label("前瞻性")).to_have_value("20")
        expect()(page.get_by_label("成效性")).to_have_value("30")
        expect()(page.get_by_label("评语")).to_have_value("思路清晰，建议补充数据。")
        assert state(page) == "已保存" and page.evaluate(DRAFTS) == []
        screenshot(page, "draft-03-saved-390px")

        page.get_by_label("评语").fill("改一下")
        expect()(page.locator("#score-form [data-draft-state] strong")).to_have_text("未保存")
        page.get_by_label("评语").fill("思路清晰，建议补充数据。")   # back to what is saved
        expect()(page.locator("#score-form [data-draft-state] strong")).to_have_text("已保存")
        assert page.evaluate(DRAFTS) == []

        page.get_by_label("回避理由").fill("曾参与该案例的指导")
        page.get_by_role("button", name="回避", exact=True).click()
        expect()(page.locator("h1")).to_have_text("确认回避")
        expect()(page.locator("p.reason")).to_have_text("曾参与该案例的指导")
        fits(page)
        screenshot(page, "draft-04-recuse-confirm-390px")
        page.get_by_role("link", name="取消，返回案例").click()
        expect()(page).to_have_url(case_url)            # still assigned: the page opens
        expect()(page.get_by_label("前瞻性")).to_have_value("20")
        page.get_by_label("回避理由").fill("曾参与该案例的指导")
        page.get_by_role("button", name="回避", exact=True).click()
        page.get_by_role("button", name="确认回避").click()
        expect()(page).to_have_url(re.compile(r"/judge\?done=recused$"))
        expect()(page.get_by_text("已回避该案例，主办单位会另行安排。")).to_be_visible()
    finally:
        restore(setup)


def test_the_links_page_and_the_qr_sheet_leave_the_mailed_link_working(page, stack):
    link, name, setup = set_up(stack)
    try:
        public = Api(stack.url)
        assert public.call("POST", "/judge/sessions", {"link": link.rsplit("/j/", 1)[1]})[0] == 200
        log_in(page, stack)
        page.goto("/admin/links")
        row = page.locator("section", has=page.locator("#h-text_review")).locator("tr", has_text=name)
        expect()(row.locator(".link-state")).to_have_text("已打开")
        screenshot(page, "links-01-states-1280px")
        row.get_by_role("button", name=re.compile("^显示链接")).click()
        expect()(page.locator("#h-issued")).to_have_text(f"评分链接 · {name}（文本评审）")
        expect()(page.locator("#issued-links input.link-url")).to_have_value(re.compile(re.escape(link) + "$"))
        screenshot(page, "links-02-shown-1280px")

        page.goto("/admin/stages/text_review/links/qr")
        expect()(page.locator("nav.admin-nav")).to_be_visible()
        page.get_by_role("button", name="生成评分链接二维码").click()
        expect()(page.locator(f"figure.qr-card:has-text('{name}')")).to_have_count(1)
        screenshot(page, "links-03-qr-sheet-1280px")
        page.emulate_media(media="print")
        expect()(page.locator("nav.admin-nav")).to_be_hidden()
        expect()(page.get_by_role("button", name="打印")).to_be_hidden()
        screenshot(page, "links-04-qr-sheet-print")
        page.emulate_media(media="screen")
        assert public.call("POST", "/judge/sessions", {"link": link.rsplit("/j/", 1)[1]})[0] == 200
        page.goto("/admin/links")
        expect()(row.locator(".link-state")).to_have_text("已打开")
        page.goto("/admin/judges/import")
        expect()(page.locator("nav.admin-nav a[aria-current=page]")).to_have_text("评委")
        expect()(page.get_by_label("评委名单文件（.xlsx）")).to_be_visible()
        screenshot(page, "links-05-judge-import-1280px")
    finally:
        restore(setup)
