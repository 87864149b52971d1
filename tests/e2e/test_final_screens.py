"""The live final's host screens in Chromium: the 8-minute timer (warning, overtime) and the scoreboard's polling."""
from __future__ import annotations

import re

from .conftest import screenshot


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def log_in_as_organiser(page, stack) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(stack.organiser[0])
    page.get_by_label("密码").fill(stack.organiser[1])
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/admin$"))


def test_the_timer_warns_at_one_minute_and_shows_overtime(page, stack):
    page.clock.install()
    log_in_as_organiser(page, stack)
    page.goto("/admin/final/timer")
    display, timer = page.locator("#timer-display"), page.locator("#timer")
    expect()(display).to_have_text("8:00")
    page.get_by_role("button", name="开始").click()
    page.clock.run_for("06:59")
    expect()(display).to_have_text("1:01")
    expect()(timer).not_to_have_class(re.compile("is-warning"))
    page.clock.run_for("00:02")
    expect()(display).to_have_text("0:59")
    expect()(timer).to_have_class(re.compile("is-warning"))
    page.get_by_role("button", name="暂停").click()
    page.clock.run_for("00:30")
    expect()(display).to_have_text("0:59")
    expect()(page.locator("#timer-state")).to_have_text("已暂停")
    page.get_by_role("button", name="继续").click()
    page.clock.run_for("01:14")
    expect()(display).to_have_text("+0:15")
    expect()(timer).to_have_class(re.compile("is-over"))
    expect()(page.locator("#timer-state")).to_have_text("已超时")
    screenshot(page, "final-timer-overtime")
    page.get_by_role("button", name="重置").click()
    expect()(display).to_have_text("8:00")
    expect()(page.locator("#timer-state")).to_have_text("未开始")


def test_the_scoreboard_polls_its_data(page, stack):
    log_in_as_organiser(page, stack)
    page.goto("/admin/final/scoreboard?category=service")
    expect()(page.get_by_role("heading", name=re.compile("综合评选"))).to_contain_text("服务增效")
    expect()(page.locator("#board-status")).to_have_text(re.compile(r"已更新 \d{1,2}:\d{2}:\d{2}"), timeout=8000)
    screenshot(page, "final-scoreboard")
