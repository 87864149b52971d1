"""审核 in Chromium: at 1280 px the organiser goes from /admin to 审核 and returns a case with a reason and a
deadline; at 390 px its unit logs in, reads 退回修改 and the reason, corrects the case and submits it again; the
organiser then accepts it, and rejects another case after confirming. Closing submission cannot be undone, so
this module runs on a local stack of its own."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from .conftest import fresh_page, running_stack, screenshot
from .test_judge_phone import Api

CHINA = timezone(timedelta(hours=8))
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "review-unit-password-1"
SHOTS = Path("/tmp/review/shots")


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def shot(page, name: str) -> None:
    path = screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


@pytest.fixture(scope="module")
def own_stack(browser, tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("review-data"), "e2e-review-stack") as started:
        yield started


def submitted_case(stack, n: int, title: str) -> str:
    public = Api(stack.url)
    public.ok("POST", "/accounts", {"username": f"review-unit{n}", "password": PASSWORD,
                                    "unit_name": f"深圳市审核测试局{n}", "unit_system": "municipal", "contact_name": "张三",
                                    "email": f"review{n}@example.gov.cn", "mobile": "13800138000"}, status=201)
    unit = Api(stack.url, public.ok("POST", "/sessions", {"username": f"review-unit{n}", "password": PASSWORD})["token"])
    case = unit.ok("POST", "/cases", {
        "category": "development", "recommending_unit": f"深圳市审核测试局{n}", "title": title,
        "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
        "background": "为落实机关党建工作要求，本单位探索“党建+政务服务”新模式。" * 3,
        "innovations": ["创新点一：以党建带业务。"], "results": ["成果一：办事时间缩短一半。"],
        "originality_pledge": True}, status=201)
    unit.ok("POST", f"/cases/{case['id']}/submit")
    return case["id"]


def log_in(page, username: str, password: str, landing: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(landing))


def test_return_resubmit_accept_and_reject(browser, own_stack):
    returned = submitted_case(own_stack, 1, "党建引领“一网通办”改革")
    rejected = submitted_case(own_stack, 2, "党建引领基层治理")
    organiser = Api(own_stack.url, Api(own_stack.url).ok("POST", "/sessions", {
        "username": own_stack.organiser[0], "password": own_stack.organiser[1]})["token"])
    organiser.ok("POST", "/admin/stages/submission/close")
    deadline = datetime.now(CHINA) + timedelta(days=2)

    desk_pages = fresh_page(browser, own_stack, viewport=DESK)
    desk = next(desk_pages)
    log_in(desk, *own_stack.organiser, r"/admin$")
    expect()(desk.locator("#review-link")).to_contain_text("未审核 2 个")
    desk.get_by_role("navigation", name="管理台导航").get_by_role("link", name="审核").click()
    expect()(desk).to_have_url(re.compile(r"/admin/review$"))
    expect()(desk.locator("#review-window")).to_contain_text("现在可以审核")
    card = desk.locator(f"#case-{returned}")
    expect()(card.locator(".review-state")).to_contain_text("未审核")
    card.get_by_label("原因").fill("请补充量化的成果数据（办件时间、群众满意度）。")
    card.get_by_label("修改截止时间").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    card.get_by_role("button", name="退回修改").click()
    expect()(desk.get_by_role("status").first).to_contain_text("审核结果已保存")
    card = desk.locator(f"#case-{returned}")
    expect()(card.locator(".review-state")).to_contain_text(f"退回修改 修改截止 {deadline.year}年{deadline.month}月{deadline.day}日 {deadline:%H:%M}")
    shot(desk, "review-desk-returned")

    phone_pages = fresh_page(browser, own_stack, viewport=PHONE)
    phone = next(phone_pages)
    log_in(phone, "review-unit1", PASSWORD, r"/cases$")
    item = phone.locator(f'[data-case-id="{returned}"]')
    expect()(item.locator(".badge").first).to_have_text("退回修改")
    expect()(item.locator("[data-review=returned]")).to_contain_text("原因：请补充量化的成果数据")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "review-phone-cases")
    item.get_by_role("link", name="查看").click()
    expect()(phone.locator("[data-review=returned]")).to_contain_text("修改截止时间")
    shot(phone, "review-phone-case")
    phone.get_by_role("link", name="修改并重新提交").click()
    expect()(phone).to_have_url(re.compile(rf"/cases/{returned}/edit$"))
    phone.get_by_label("案例取得的成果1").fill("成果一：办件时间由 5 天缩短为 2 天，群众满意度 98%。")
    phone.get_by_role("button", name="提交").click()
    expect()(phone).to_have_url(re.compile(r"/cases\?done=submitted$"))
    expect()(phone.locator(f'[data-case-id="{returned}"] .badge').first).to_have_text("已提交")
    expect()(phone.locator(f'[data-case-id="{returned}"] [data-review=resubmitted]')).to_be_visible()
    shot(phone, "review-phone-resubmitted")

    desk.goto("/admin/review")
    card = desk.locator(f"#case-{returned}")
    expect()(card.locator(".review-state")).to_contain_text("未审核（已按退回意见重新提交）")
    card.get_by_role("button", name="通过").click()
    expect()(desk.locator(f"#case-{returned} .review-state")).to_contain_text("通过")

    other = desk.locator(f"#case-{rejected}")
    other.get_by_role("button", name="不予受理").click()
    expect()(desk.locator(f"#case-{rejected} .field-error").first).to_contain_text("请填写不予受理的原因")
    shot(desk, "review-desk-reason-missing")
    desk.locator(f"#case-{rejected}").get_by_label("原因").fill("与 2022 年案例高度雷同。")
    desk.locator(f"#case-{rejected}").get_by_role("button", name="不予受理").click()
    expect()(desk.get_by_role("heading", name="确认不予受理")).to_be_visible()
    shot(desk, "review-desk-confirm")
    desk.get_by_role("button", name="确认不予受理").click()
    expect()(desk.locator(f"#case-{rejected} .review-state")).to_contain_text("不予受理")
    expect()(desk.locator("#review-counts")).to_contain_text("通过 1 个")
    shot(desk, "review-desk-done")
    for pages in (desk_pages, phone_pages):
        with pytest.raises(StopIteration):
            next(pages)
