"""Hostile input in Chromium: a unit, a case and a judge whose every text is an XSS payload, shown on the unit
portal, the console and the judge's pages. No dialog may open (alert), no payload element may exist in the
DOM, and the payload must be shown as the literal text that was typed. (The full field × page sweep over the
chalice test client is tests/integration/test_hostile_input.py.)"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest

from .test_judge_phone import Api, iso, restore

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{IMG}{SCRIPT}{{{{7*7}}}}javascript:alert(1)\u202e\u200b"
SHORT = f"{IMG}{{{{7*7}}}}"
PASSWORD = "correct-horse-battery"


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


@pytest.fixture
def dialogs(page) -> list[str]:
    fired: list[str] = []

    def dismiss(dialog) -> None:
        fired.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return fired


def assert_inert(page, dialogs: list[str], shown: str) -> None:
    """No alert, no element the payload tried to make, and the payload visible as text."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)       # an onerror handler would have fired by now
    assert dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("[...document.querySelectorAll('script')].filter(s => !s.src).length") == 0
    assert page.evaluate("[...document.querySelectorAll('*')].some(e => [...e.attributes]"
                         ".some(a => a.name.startsWith('on')))") is False
    body = page.evaluate("document.body.innerText + [...document.querySelectorAll('input,textarea')]"
                         ".map(e => e.value).join('')")
    assert shown in body


def set_up(stack) -> dict:
    public = Api(stack.url)
    org = Api(stack.url, public.ok("POST", "/sessions", {"username": stack.organiser[0],
                                                         "password": stack.organiser[1]})["token"])
    n = secrets.token_hex(3)
    username = f"hostile-{n}"
    public.ok("POST", "/accounts", {"username": username, "password": PASSWORD, "unit_name": PAYLOAD + n,
                                    "unit_system": "municipal", "contact_name": SHORT, "email": f"{username}@example.gov.cn",
                                    "mobile": "13800138000"}, status=201)
    unit = Api(stack.url, public.ok("POST", "/sessions", {"username": username, "password": PASSWORD})["token"])
    case = unit.ok("POST", "/cases", {
        "category": "development", "recommending_unit": PAYLOAD + n, "title": PAYLOAD + n,
        "leader": {"name": PAYLOAD, "position": PAYLOAD, "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": PAYLOAD, "position": PAYLOAD, "office_phone": "88134324", "mobile": "13712345678"},
        "background": PAYLOAD * 5, "innovations": [PAYLOAD], "results": [PAYLOAD], "originality_pledge": True,
    }, status=201)
    unit.ok("POST", f"/cases/{case['id']}/submit")
    judge = org.ok("POST", "/admin/judges", {"name": SHORT + n, "email": f"judge-{n}@example.org",
                                             "affiliation": PAYLOAD, "categories": ["development"]}, status=201)
    return {"org": org, "username": username, "case": case["id"], "judge": judge["id"], "n": n, "public": public}


def log_in(page, username: str, password: str, landing: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(landing))


def test_payloads_stay_text_on_the_unit_portal_the_console_and_the_judge_pages(page, stack, dialogs, browser):
    from .conftest import fresh_page

    state = set_up(stack)
    title = PAYLOAD + state["n"]
    log_in(page, state["username"], PASSWORD, r"/cases$")
    assert_inert(page, dialogs, title)
    for path in (f"/cases/{state['case']}", f"/cases/{state['case']}/edit"):
        page.goto(path)
        assert_inert(page, dialogs, title)

    pages = fresh_page(browser, stack, viewport={"width": 1280, "height": 900})
    console = next(pages)
    console.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(console, *stack.organiser, r"/admin$")
    for path in ("/admin/cases", f"/admin/cases/{state['case']}", "/admin/judges", f"/admin/judges/{state['judge']}"):
        console.goto(path)
        assert_inert(console, dialogs, SHORT + state["n"] if "judges" in path else title)

    # the judge: text review opened now, the hostile judge assigned, the link's landing, the list and the case
    public, org = state["public"], state["org"]
    windows = {s["id"]: s for s in public.ok("GET", "/competition")["stages"]}
    restore_state = {"org": org, "windows": windows}
    try:
        now = datetime.now(timezone.utc)
        opens = min(datetime.fromisoformat(windows["submission"]["opens_at"]), now - timedelta(days=1))
        org.ok("PUT", "/admin/stages/submission", {"opens_at": iso(opens), "closes_at": iso(now - timedelta(minutes=2))})
        org.ok("PUT", "/admin/stages/text_review", {"opens_at": iso(now - timedelta(minutes=1)),
                                                    "closes_at": iso(now + timedelta(hours=2))})
        org.ok("PUT", f"/admin/stages/text_review/assignments/{state['judge']}/{state['case']}", {})
        links = org.ok("POST", "/admin/stages/text_review/links")["links"]
        url = next(link["url"] for link in links if link["judge_id"] == state["judge"])
        judge_pages = fresh_page(browser, stack, viewport={"width": 390, "height": 844})
        judge_page = next(judge_pages)
        judge_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        response = judge_page.goto("/j/" + url.rsplit("/j/", 1)[1])
        assert response.headers["referrer-policy"] == "no-referrer"
        assert_inert(judge_page, dialogs, SHORT + state["n"])
        judge_page.get_by_role("button", name="开始评分").click()
        expect()(judge_page).to_have_url(re.compile(r"/judge$"))
        assert_inert(judge_page, dialogs, title)
        judge_page.goto(f"/judge/cases/{state['case']}")
        assert_inert(judge_page, dialogs, title)
        next(judge_pages, None)   # closes the tab, failing on a CSP violation or a JS error there
    finally:
        restore(restore_state)
        next(pages, None)
