"""赛前辅导 in Chromium: the organiser at 1280 px assigns the experts and issues the links for the provincial
round in the console; the expert on a 390 px phone opens the link and gives 赛前辅导意见 (no score); the unit
on a 390 px phone reads it beside the 专家辅导 feedback, replies point by point and revises the case.

The competition is run over the API to the end of the final on a local stack of its own (the stages move), with
专家辅导 feedback on both cases; the first (一等奖) is recommended to the provincial competition, the 省赛准备
stage opened now. Screenshots: test-artifacts/ and /tmp/shots/precoach/.
"""
from __future__ import annotations

import re
import secrets
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from .conftest import ORGANISER, Stack, fresh_page, running_stack, screenshot
from .test_unit_results import (
    FEEDBACK, PASSWORD, PHONE, Http, _at, _case, _now, run_to_the_end,
)

DESK = {"viewport": {"width": 1280, "height": 900}}
SHOTS = Path("/tmp/shots/precoach")
POINT = "省赛展示请突出可复制推广的机制"
TITLES = ("“红色引擎”赋能基层治理", "党建引领营商环境优化")


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot(page, name), SHOTS / f"{name}.png")


@pytest.fixture(scope="module")
def recommended(tmp_path_factory) -> Iterator[tuple[Stack, dict[str, str]]]:
    """A stack after the final with the winning case recommended and 省赛准备 open for an hour."""
    with running_stack(tmp_path_factory.mktemp("precoach-data"), "e2e-precoach-stack") as stack:
        api = Http(stack.url)
        tag = secrets.token_hex(3)
        ids = []
        for n, title in enumerate(TITLES, 1):
            username = f"pc{n}-{tag}"
            api("POST", "/accounts", {"username": username, "password": PASSWORD, "unit_name": f"深圳市第{n}局{tag}",
                                      "unit_system": "municipal", "contact_name": "张三",
                                      "email": f"{username}@example.gov.cn", "mobile": "13800138000"})
            unit = api.login(username, PASSWORD)
            case = unit("POST", "/cases", _case(title, f"深圳市第{n}局", n))
            unit("POST", f"/cases/{case['id']}/submit")
            ids.append(case["id"])
        org = api.login(*ORGANISER)
        for n in (1, 2):
            org("POST", "/admin/judges", {"name": f"专家{n}号", "email": f"expert{n}-{tag}@example.org",
                                          "mobile": "13600000000", "affiliation": f"评审机构{n}",
                                          "categories": ["development"]})
        run_to_the_end(api, org, {ids[0]: 90, ids[1]: 80})
        org("PUT", f"/admin/cases/{ids[0]}/recommendation", {"recommended": True, "reason": "机制创新，可复制推广"})
        time.sleep(1.2)                                    # 省赛准备 opens after the final's close, never at it
        start = _now()
        org("PUT", "/admin/stages/provincial", {"opens_at": _at(start), "closes_at": _at(start + timedelta(hours=1))})
        yield stack, {"username": f"pc1-{tag}", "case_id": ids[0], "title": TITLES[0],
                      "other_username": f"pc2-{tag}", "other_id": ids[1]}


def _log_in(page, username: str, password: str, landing: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(landing))


def _fits(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")       # nothing sideways


def test_the_provincial_coaching_round_from_the_console_to_the_expert_and_the_unit(chromium, recommended):
    stack, case = recommended
    link = ""
    for page in fresh_page(chromium, stack, **DESK):
        _log_in(page, *ORGANISER, r"/admin$")
        page.goto("/admin/assignments/provincial")
        expect()(page.get_by_role("link", name="赛前辅导", exact=True)).to_have_attribute("aria-current", "page")
        expect()(page.get_by_text("赛前辅导：每个推荐参加省赛的获奖案例分配一位同类别的专家")).to_be_visible()
        page.get_by_role("button", name="分配专家").click()
        expect()(page.locator(".notice")).to_have_text("评审分配已完成：新增 1 个分配。")
        rows = page.locator("#assignment-table tbody tr")
        expect()(rows).to_have_count(1)                    # only the recommended case, one expert
        expect()(rows.first).to_contain_text(case["title"])
        expect()(rows.first.locator(".badge").first).to_have_text("未提交意见")
        shot(page, "precoach-assignments-1280")

        page.goto("/admin/links")
        section = page.locator("section[aria-labelledby='h-provincial']")
        expect()(section.get_by_role("heading", name="赛前辅导")).to_be_visible()
        section.get_by_role("button", name="发放赛前辅导评分链接").click()
        expect()(page.get_by_role("heading", name="已发放 · 赛前辅导（1 个）")).to_be_visible()
        link = page.locator("#issued-links input.link-url").input_value()
        assert "/j/" in link
        shot(page, "precoach-links-1280")

        page.goto("/admin/stages/provincial/close")
        expect()(page.locator("#open-work-summary")).to_contain_text("已给出辅导意见 0 / 1")
        shot(page, "precoach-close-open-work-1280")

    for page in fresh_page(chromium, stack, **PHONE):
        page.goto(link)
        expect()(page.get_by_role("heading", name="赛前辅导入口")).to_be_visible()
        expect()(page.locator("#landing-stage")).to_have_text("赛前辅导")
        _fits(page)
        shot(page, "precoach-expert-landing-390")
        page.get_by_role("button", name="开始评分").click()
        expect()(page.get_by_role("heading", name="我的辅导案例")).to_be_visible()
        expect()(page.locator("#judge-progress")).to_have_text("已提交意见 0 / 1")
        page.get_by_role("link", name=re.compile(re.escape(case["title"]))).click()
        expect()(page.get_by_role("heading", name="辅导意见", exact=True)).to_be_visible()
        expect()(page.get_by_role("button", name="保存评分")).to_have_count(0)       # no score is asked for
        page.get_by_label("意见1").fill(POINT)
        _fits(page)
        shot(page, "precoach-expert-form-390")
        page.get_by_role("button", name="提交辅导意见").click()
        expect()(page).to_have_url(re.compile(r"/judge\?done=feedback$"))
        expect()(page.locator("#judge-progress")).to_have_text("已提交意见 1 / 1")
        shot(page, "precoach-expert-done-390")

    for page in fresh_page(chromium, stack, **PHONE):
        _log_in(page, case["username"], PASSWORD, r"/cases$")
        page.goto(f"/cases/{case['case_id']}")
        page.get_by_role("link", name="专家意见").click()
        expect()(page.get_by_role("heading", name="专家辅导与赛前辅导意见")).to_be_visible()
        expect()(page.locator(".round-badge")).to_have_text(["专家辅导", "赛前辅导"])
        expect()(page.locator(".round-provincial .point-text")).to_have_text(POINT)
        expect()(page.get_by_text(FEEDBACK).first).to_be_visible()
        expect()(page.locator(".round-coaching textarea")).to_have_count(0)      # 专家辅导 is over: read only
        page.get_by_label("回复赛前辅导专家1第1条意见").fill("已在展示稿中突出机制")
        _fits(page)
        shot(page, "precoach-unit-feedback-390")
        page.get_by_role("button", name="保存回复").click()
        expect()(page.locator(".notice")).to_have_text("回复已保存。")
        expect()(page.get_by_label("回复赛前辅导专家1第1条意见")).to_have_value("已在展示稿中突出机制")

        page.get_by_role("link", name="修改案例（形成新版本）").click()
        expect()(page.locator("#case-status")).to_have_text("获奖")
        page.get_by_label("案例名称").fill(case["title"] + "（省赛版）")
        shot(page, "precoach-unit-revise-390")
        page.get_by_role("button", name="保存修改（形成新版本）").click()
        expect()(page).to_have_url(re.compile(rf"/cases/{case['case_id']}/edit\?done=revised$"))
        expect()(page.locator(".notice")).to_have_text("修改已保存，形成新版本（原版本保留，可在“历史版本”查看）。")
        expect()(page.locator(".status-line")).to_contain_text("第 2 版")
        _fits(page)
        shot(page, "precoach-unit-revised-390")

    for page in fresh_page(chromium, stack, **PHONE):           # the case not recommended: nothing to revise
        _log_in(page, case["other_username"], PASSWORD, r"/cases$")
        page.goto(f"/cases/{case['other_id']}/feedback")
        expect()(page.get_by_role("heading", name="专家辅导意见")).to_be_visible()
        expect()(page.get_by_role("link", name="修改案例（形成新版本）")).to_have_count(0)
        expect()(page.get_by_role("button", name="保存回复")).to_have_count(0)
        shot(page, "precoach-unit-not-recommended-390")
