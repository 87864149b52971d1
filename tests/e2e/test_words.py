"""The words people read, in Chromium on the local stack (`make run`): a mistyped address gets the app's own
Chinese 404 page (no `Missing Authentication Token`), /favicon.ico is the site's icon, and the stages' times
read 2023年6月9日 18:00, not ISO."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from tests.e2e.conftest import ARTIFACTS, fresh_page, screenshot

PHONE = {"width": 390, "height": 844}


def test_a_mistyped_page_address_gets_the_chinese_404_page_on_a_phone(browser, stack):
    for page in fresh_page(browser, stack, viewport=PHONE, is_mobile=True, device_scale_factor=2):
        response = page.goto("/cases/no-such-page/at-all")
        assert response.status == 404
        assert page.title() == "没有找到 · 2023年深圳市“党建杯”机关创新创优竞赛"
        assert page.get_by_role("heading", level=1).inner_text() == "没有找到"
        assert page.get_by_role("alert").inner_text() == "没有这个页面：网址可能输错了，或页面已不存在。请从首页重新进入。"
        body = page.locator("body").inner_text()
        assert "Missing" not in body and "Token" not in body
        screenshot(page, "words-404-phone")
        page.get_by_role("link", name="返回首页").click()
        page.wait_for_url(re.compile(r"/$"))
        assert page.get_by_role("link", name="注册").first.is_visible()


def test_an_unknown_api_address_gets_the_error_shape(stack):
    request = urllib.request.Request(f"{stack.url}/api/v1/no-such-thing", headers={"Accept": "*/*"})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("an unknown API address answered 2xx")
    except urllib.error.HTTPError as refused:
        assert refused.code == 404
        assert refused.headers["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(refused.read().decode("utf-8")) == {"error": {
            "code": "not_found", "message": "没有这个地址：请检查网址（和请求方法）是否正确，或从首页重新进入"}}


def test_the_favicon_is_the_sites_icon(page, stack):
    response = page.goto("/favicon.ico")
    assert (response.status, response.headers["content-type"]) == (200, "image/svg+xml")
    assert page.locator("svg title").text_content() == "赛评"
    page.goto("/")
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.ico"
    # the icon as an image on one of the site's pages, at 128 px and at a tab's 16 px
    page.evaluate("""() => new Promise(done => {
        document.body.replaceChildren();
        let left = 2;
        for (const size of [128, 16]) {
            const img = Object.assign(new Image(size, size), {id: "icon" + size, src: "/favicon.ico"});
            img.onload = img.onerror = () => --left === 0 && done();
            document.body.append(img);
        }
    })""")
    assert page.locator("#icon128").evaluate("img => img.naturalWidth") == 32
    page.set_viewport_size({"width": 160, "height": 140})
    page.screenshot(path=str(ARTIFACTS / "words-favicon.png"))


def test_the_home_page_reads_the_stage_times_in_chinese(page):
    page.goto("/")
    cells = page.locator("table td").all_inner_texts()
    times = [c for c in cells if re.search(r"\d{4}", c)]
    assert times and all(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", t) for t in times), times
    screenshot(page, "words-home-desk")


def test_the_console_reads_times_in_chinese_at_the_desk(page, stack):
    from tests.e2e.test_admin_console import log_in
    log_in(page, stack)
    page.goto("/admin")
    body = page.locator("main").inner_text()
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", body), body[:400]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", body) and "None" not in body
    screenshot(page, "words-console-dashboard-desk")
    page.goto("/admin/stages")
    body = page.locator("main").inner_text()
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", body) and "None" not in body
    screenshot(page, "words-console-stages-desk")


def test_the_way_in_reads_as_the_notice_says_on_a_phone(browser, stack):
    """八、申报事项: 选手注册, then 案例—案例报送—新增案例; the contract's button and link words stay (注册, 登录)."""
    for page in fresh_page(browser, stack, viewport=PHONE, is_mobile=True, device_scale_factor=2):
        page.goto("/")
        steps = page.locator("section.downloads ol.steps li").all_inner_texts()
        assert [s.split("：")[0] for s in steps] == ["选手注册", "填报案例", "坚持原创"]
        assert "案例—案例报送—新增案例" in steps[1]
        page.goto("/login")
        page.get_by_role("link", name="选手注册").click()
        page.wait_for_url(re.compile(r"/register$"))
        assert page.get_by_role("heading", level=1).inner_text() == "选手注册"
        assert page.get_by_role("button").all_inner_texts() == ["注册"]
        screenshot(page, "words-register-phone")
