"""The coaching expert's 辅导意见 on a 390 px phone survive a reload until submitted, like the scores.

The coaching stage needs advanced cases, which a shared local stack only reaches by closing its text review
for good; so this test serves the pages from chalice's test client over moto (tests/conftest.py), and
Chromium (the session's, tests/e2e/conftest.py) reaches them through a Playwright route: the same app, the
same templates and scripts."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from tests.browser import Browser
from tests.conftest import CHINA
from tests.integration.test_judge_pages import links, make_judges, organiser, set_status, start, submitted_cases

from .conftest import screenshot

SITE = "http://saiping.test"
PHONE = {"width": 390, "height": 844}
DRAFTS = "Object.keys(localStorage).filter(function (k) { return k.indexOf('saiping-draft:') === 0; })"


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def serve(client):
    """A Playwright route handler answering from the chalice test client (cookies pass both ways)."""
    def handle(route, request) -> None:
        url = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("cookie", "content-type")}
        response = client.http.request(request.method, url.path + (f"?{url.query}" if url.query else ""),
                                       headers=headers, body=request.post_data_buffer or b"")
        out = {k: (v[0] if isinstance(v, list) else v) for k, v in response.headers.items()}
        route.fulfill(status=response.status_code, headers=out, body=response.body)
    return handle


@pytest.fixture
def coaching(api, client, clock):
    """An advanced case, one expert on it in a judge session (cookie); coaching open."""
    cases, _ = submitted_cases(api, 1)
    set_status(cases, "advanced")
    clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
    org, _ = organiser(api)
    judge_id = make_judges(org, 1)[0]
    assert org.call("POST", "/admin/stages/coaching/assignments", {})[0] == 200
    browser = Browser(client)
    start(browser, links(org, "coaching")[judge_id])
    return browser.jar["sp_session"], cases[0]


def test_feedback_points_survive_a_reload_until_submitted(browser, client, coaching):
    session, case_id = coaching
    dialogs: list[str] = []
    context = browser.new_context(base_url=SITE, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    try:
        context.set_default_timeout(15_000)
        context.route(f"{SITE}/**", serve(client))
        context.add_cookies([{"name": "sp_session", "value": session, "url": SITE}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
        state = page.locator("#feedback-form [data-draft-state] strong")

        page.goto(f"/judge/cases/{case_id}")
        expect()(state).to_have_text("尚未填写")
        page.get_by_label("意见1").fill("背景部分请补充近两年的数据。")
        page.get_by_role("button", name="添加一条意见").click()
        page.get_by_label("意见2").fill("成果请量化。")
        expect()(state).to_have_text("未保存")

        page.reload()
        assert dialogs == ["beforeunload"]
        expect()(page.get_by_label("意见1")).to_have_value("背景部分请补充近两年的数据。")
        expect()(page.get_by_label("意见2")).to_have_value("成果请量化。")
        expect()(state).to_have_text("未保存")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "draft-05-feedback-restored-390px")

        page.get_by_role("button", name="提交辅导意见").click()
        expect()(page).to_have_url(re.compile(r"/judge\?done=feedback$"))
        expect()(page.locator("#judge-progress")).to_have_text("已提交意见 1 / 1")
        assert page.evaluate(DRAFTS) == [] and dialogs == ["beforeunload"]
        page.goto(f"/judge/cases/{case_id}")
        expect()(state).to_have_text("已保存")
        page.reload()
        assert dialogs == ["beforeunload"]
        expect()(page.get_by_label("意见2")).to_have_value("成果请量化。")
        expect()(state).to_have_text("已保存")
        page.get_by_role("button", name=re.compile("^删除")).last.click()     # removing a point is input too
        expect()(state).to_have_text("未保存")
        screenshot(page, "draft-06-feedback-point-removed-390px")
        assert errors == []
    finally:
        context.close()
