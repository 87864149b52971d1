"""The organiser at 1280 px, from /admin: 评分链接 shows each invitation's mail state once the local runner's
queued sender has mailed it; 排名 › 文本评审 asks for extra judges near the line (为第1–3名增加评委…), shows what
would be added and asks to confirm, then reports it; the extra judge's new case is in their list under their
link, and once scored the ranking marks it 含加评 1. On a stack of its own (the text review is opened now)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import fresh_page, running_stack, screenshot
from .test_judge_phone import Api, iso

DESK = {"width": 1280, "height": 900}


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


@pytest.fixture(scope="module")
def own_stack(browser, tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("extra-judges-data"), "e2e-extra-judges-stack") as started:
        yield started


@pytest.fixture
def desk(browser, own_stack):
    yield from fresh_page(browser, own_stack, viewport=DESK)


def seed(stack) -> dict:
    """Four cases of four units, four judges (of 单位1–单位4), one judge a case, every case scored so that
    case n ranks n; the text review open now."""
    public = Api(stack.url)
    org = Api(stack.url, public.ok("POST", "/sessions", {"username": stack.organiser[0],
                                                         "password": stack.organiser[1]})["token"])
    titles = []
    for n in range(1, 5):
        public.ok("POST", "/accounts", {"username": f"extra-unit-{n}", "password": "extra-unit-password-1",
                                        "unit_name": f"深圳市加评测试{n}局", "unit_system": "municipal",
                                        "contact_name": "张三", "email": f"extra{n}@example.gov.cn",
                                        "mobile": "13800138000"}, status=201)
        unit = Api(stack.url, public.ok("POST", "/sessions", {"username": f"extra-unit-{n}",
                                                              "password": "extra-unit-password-1"})["token"])
        titles.append(f"党建引领加评测试案例{n}")
        case = unit.ok("POST", "/cases", {
            "category": "development", "recommending_unit": f"深圳市加评测试{n}局", "title": titles[-1],
            "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                       "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
            "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
            "background": "背景介绍。" * 20, "innovations": ["创新点一"], "results": ["成果一"],
            "originality_pledge": True}, status=201)
        unit.ok("POST", f"/cases/{case['id']}/submit")
    windows = {s["id"]: s for s in public.ok("GET", "/competition")["stages"]}
    now = datetime.now(timezone.utc)
    opens = min(datetime.fromisoformat(windows["submission"]["opens_at"]), now - timedelta(days=1))
    org.ok("PUT", "/admin/stages/submission", {"opens_at": iso(opens), "closes_at": iso(now - timedelta(minutes=2))})
    org.ok("PUT", "/admin/stages/text_review", {"opens_at": iso(now - timedelta(minutes=1)),
                                                "closes_at": iso(now + timedelta(hours=2))})
    for n in range(1, 5):
        org.ok("POST", "/admin/judges", {"name": f"加评评委{n}", "email": f"extra-judge-{n}@example.org",
                                         "affiliation": f"深圳市加评测试{n}局", "categories": ["development"]},
               status=201)
    org.ok("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    links = org.ok("POST", "/admin/stages/text_review/links")["links"]
    assert {link["mail"] for link in links} == {"queued"}
    judges = {}
    for link in links:
        session = public.ok("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})
        judges[link["judge_id"]] = Api(stack.url, session["token"])
    for judge in judges.values():
        for case in judge.ok("GET", "/judge/cases")["cases"]:
            n = int(case["title"][-1])
            judge.ok("PUT", f"/judge/cases/{case['id']}/score",
                     {"criteria": {"foresight": 25, "practicality": 25, "effectiveness": 40 - n}})
    return {"org": org, "judges": judges, "titles": titles}


def test_extra_judges_near_the_line_from_the_console(desk, own_stack):
    world = seed(own_stack)
    page = desk
    page.goto("/login")
    page.get_by_label("用户名").fill(own_stack.organiser[0])
    page.get_by_label("密码").fill(own_stack.organiser[1])
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/admin$"))

    page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="评分链接").click()
    expect()(page.locator("span.mail-state").first).to_be_visible()
    for _ in range(20):                                   # the local runner mails the queue within a turn or two
        if page.locator("span.mail-state", has_text="已发送").count() == 4:
            break
        page.wait_for_timeout(500)
        page.reload()
    expect()(page.locator("span.mail-state", has_text="已发送")).to_have_count(4)
    expect()(page.get_by_role("columnheader", name="邀请邮件").first).to_be_visible()
    screenshot(page, "extra-01-links-mail-sent-1280")

    page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="排名").click()
    expect()(page).to_have_url(re.compile(r"/admin/rankings/text_review$"))
    expect()(page.get_by_role("heading", name="名次线附近加评")).to_be_visible()
    page.get_by_label("从第").fill("1")
    page.get_by_label("名到第").fill("3")
    page.get_by_label("每案加评评委").fill("1")
    page.get_by_role("button", name="增加评委…").click()
    confirm = page.locator("#extra-confirm")
    expect()(confirm).to_be_visible()
    expect()(page.locator("#extra-confirm-title")).to_have_text(
        "确认为第1–3名增加评委？ 名次区间内共 3 个案例，每案加评评委补足到 1 名：将新增 3 个评委分配（3 位评委）。")
    assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]
    screenshot(page, "extra-02-confirm-1280")

    confirm.get_by_role("button", name="确认增加评委").click()
    result = page.locator("#extra-result")
    expect()(result).to_have_text("已为第1–3名增加评委：新增 3 个评委分配，涉及 3 个案例、3 位评委。")
    screenshot(page, "extra-03-done-1280")

    extra = [s for s in world["org"].ok("GET", "/admin/stages/text_review/assignments")["assignments"]
             if s["source"] == "extra"]
    assert sorted(s["title"] for s in extra) == world["titles"][:3]
    first = next(s for s in extra if s["title"] == world["titles"][0])
    judge = world["judges"][first["judge_id"]]
    listed = judge.ok("GET", "/judge/cases")["cases"]
    assert first["case_id"] in [c["id"] for c in listed]                  # under the judge's existing link
    judge.ok("PUT", f"/judge/cases/{first['case_id']}/score",
             {"criteria": {"foresight": 25, "practicality": 25, "effectiveness": 39}})
    page.goto("/admin/rankings/text_review")
    row = page.locator("#ranking-development tr", has_text=world["titles"][0])
    expect()(row.locator(".badge-extra")).to_have_text("含加评 1")
    expect()(page.locator("#ranking-development .badge-extra")).to_have_count(1)
    screenshot(page, "extra-04-ranking-marked-1280")
