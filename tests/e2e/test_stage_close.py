"""The organiser closes stages early from the console in Chromium at 1280×800 and opens the next one at once:
文本申报 关闭 → 立即开始文本评审 → the close page of 文本评审 names the unscored assignment → 关闭 →
立即开始专家辅导. Every organiser step is in the console; the unit's case and a judge's score are their own
parts, over the API. Then the final is run over the API and the award mail is previewed, confirmed and sent
from /admin/mail. Closing for good cannot be undone, so this module runs on a local stack of its own, its
tests in order."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import fresh_page, running_stack, screenshot
from .test_judge_phone import Api

CHINA = timezone(timedelta(hours=8))
DESK = {"width": 1280, "height": 800}
CHINESE_TIME = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$")


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def chinese(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


@pytest.fixture(scope="module")
def own_stack(browser, tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stage-close-data"), "e2e-stage-close-stack") as started:
        yield started


@pytest.fixture
def desk(browser, own_stack):
    yield from fresh_page(browser, own_stack, viewport=DESK)


def a_submitted_case(stack) -> str:
    public = Api(stack.url)
    public.ok("POST", "/accounts", {"username": "stage-unit", "password": "stage-unit-password-1",
                                    "unit_name": "深圳市阶段测试局", "unit_system": "municipal", "contact_name": "张三",
                                    "email": "stage-unit@example.gov.cn", "mobile": "13800138000"}, status=201)
    unit = Api(stack.url, public.ok("POST", "/sessions", {"username": "stage-unit",
                                                          "password": "stage-unit-password-1"})["token"])
    title = "党建引领“阶段提前关闭”测试案例"
    case = unit.ok("POST", "/cases", {
        "category": "development", "recommending_unit": "深圳市阶段测试局", "title": title,
        "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
        "background": "背景介绍。" * 20, "innovations": ["创新点一"], "results": ["成果一"],
        "originality_pledge": True}, status=201)
    unit.ok("POST", f"/cases/{case['id']}/submit")
    return title


def organiser_api(stack) -> Api:
    public = Api(stack.url)
    return Api(stack.url, public.ok("POST", "/sessions", {"username": stack.organiser[0],
                                                          "password": stack.organiser[1]})["token"])


def score_as(stack, org: Api, stage: str, judge_name: str) -> None:
    """The judge's own part, over the API: open the judge's link and score every assigned case."""
    judges = {j["id"]: j["name"] for j in org.ok("GET", "/admin/judges")["judges"]}
    links = {judges[link["judge_id"]]: link["url"].rsplit("/j/", 1)[1]
             for link in org.ok("POST", f"/admin/stages/{stage}/links")["links"]}
    judge = Api(stack.url, Api(stack.url).ok("POST", "/judge/sessions", {"link": links[judge_name]})["token"])
    for case in judge.ok("GET", "/judge/cases")["cases"]:
        judge.ok("PUT", f"/judge/cases/{case['id']}/score",
                 {"criteria": {"foresight": 25, "practicality": 25, "effectiveness": 35}})


def a_judge_scores(stack, judge_name: str) -> None:
    score_as(stack, organiser_api(stack), "text_review", judge_name)


def log_in(page, stack) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(stack.organiser[0])
    page.get_by_label("密码").fill(stack.organiser[1])
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/admin$"))


def add_judge(page, name: str, email: str, affiliation: str) -> None:
    page.goto("/admin/judges")
    page.get_by_label("姓名").fill(name)
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("工作单位").fill(affiliation)
    page.get_by_label("发展提质").check()
    page.get_by_role("button", name="添加评委").click()
    expect()(page.get_by_text("评委已添加。")).to_be_visible()


def row(page, stage: str):
    return page.locator(f"#stage-row-{stage}")


def cells(page, stage: str) -> list[str]:
    return [t.strip() for t in row(page, stage).locator("td").all_inner_texts()]


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]


def test_closing_early_from_the_console_lets_the_next_stage_open_at_once(desk, own_stack):
    page = desk
    title = a_submitted_case(own_stack)
    log_in(page, own_stack)
    add_judge(page, "甲评委", "judge-a@example.org", "外单位甲")
    add_judge(page, "乙评委", "judge-b@example.org", "外单位乙")
    page.goto("/admin/assignments/text_review")
    page.get_by_label("每个案例的评委人数").fill("2")
    page.get_by_role("button", name="分配评委").click()
    expect()(page.get_by_text("评审分配已完成")).to_be_visible()

    page.goto("/admin/stages")
    expect()(page.get_by_role("heading", name="阶段时间", exact=True)).to_be_visible()
    names = [t.strip() for t in page.locator("#stage-table tbody th").all_inner_texts()]
    assert names == ["文本申报", "文本评审", "专家辅导", "综合评选", "省赛准备"]
    for stage in ("submission", "text_review", "coaching", "final", "provincial"):
        opens, closes, status = cells(page, stage)[:3]
        assert CHINESE_TIME.match(opens) and CHINESE_TIME.match(closes), (opens, closes)
        assert status == ("进行中" if stage == "submission" else "未开始")
    no_sideways_scroll(page)
    screenshot(page, "admin-stages-1280")

    page.get_by_role("link", name="关闭文本申报…").click()
    expect()(page.get_by_role("heading", name="关闭文本申报")).to_be_visible()
    expect()(page.locator("#open-work-summary")).to_have_text("尚未提交的案例 0 个（关闭后不能再提交）。")
    page.get_by_role("button", name="确认关闭文本申报").click()
    expect()(page).to_have_url(re.compile(r"/admin/stages\?done=closed$"))
    assert cells(page, "submission")[2] == "已截止 主办单位已关闭"

    page.get_by_role("button", name="立即开始文本评审").click()
    expect()(page).to_have_url(re.compile(r"/admin/stages\?done=opened$"))
    expect()(page.locator("p.notice[role=status]")).to_have_text("阶段已开始。")
    assert cells(page, "text_review")[2] == "进行中"

    a_judge_scores(own_stack, "甲评委")

    page.get_by_role("link", name="关闭文本评审…").click()
    expect()(page.get_by_role("heading", name="关闭文本评审")).to_be_visible()
    expect()(page.locator("#open-work-summary")).to_have_text(
        "已评分 1 / 2；尚未评分 1 个（评委 × 案例）；没有分配评委的案例 0 个。")
    table = page.get_by_role("table").filter(has_text="评委")
    assert [r.split("\t") for r in table.locator("tbody tr").all_inner_texts()] == [["乙评委", title]]
    no_sideways_scroll(page)
    screenshot(page, "admin-close-text-review-1280")
    before = datetime.now(CHINA)
    page.get_by_role("button", name="确认关闭文本评审").click()
    expect()(page).to_have_url(re.compile(r"/admin/stages\?done=closed$"), timeout=30_000)
    after = datetime.now(CHINA)

    _, closes, status = cells(page, "text_review")[:3]
    assert status == "已截止 主办单位已关闭"
    assert closes in {chinese(before), chinese(after)}        # the moment of closing, not 7 days on
    assert cells(page, "coaching")[2] == "未开始"
    page.get_by_role("button", name="立即开始专家辅导").click()
    expect()(page.locator("p.notice[role=status]")).to_have_text("阶段已开始。")
    opens, _, status = cells(page, "coaching")[:3]
    assert status == "进行中" and opens in {chinese(before), chinese(datetime.now(CHINA))}
    no_sideways_scroll(page)
    screenshot(page, "admin-stages-after-early-close-1280")

    page.goto("/")
    home = page.locator("table.stages")
    expect()(home.locator("tr", has_text="专家辅导")).to_contain_text("进行中")
    expect()(home.locator("tr", has_text="文本评审")).to_contain_text("已截止")


def iso(moment: datetime) -> str:
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def run_the_final_over_the_api(stack) -> None:
    """After the walk above (专家辅导 open): close it, open 综合评选 now, a judge scores the case, close it."""
    org = organiser_api(stack)
    org.ok("POST", "/admin/stages/coaching/close")
    windows = {s["id"]: s for s in Api(stack.url).ok("GET", "/competition")["stages"]}
    org.ok("PUT", "/admin/stages/final", {"opens_at": iso(datetime.now(CHINA) + timedelta(seconds=1)),
                                          "closes_at": windows["final"]["closes_at"]})
    org.ok("POST", "/admin/stages/final/assignments", {})
    for _ in range(50):                          # the window opens at the next whole second
        if Api(stack.url).ok("GET", "/competition")["stages"][3]["status"] == "open":
            break
        time.sleep(0.1)
    score_as(stack, org, "final", "甲评委")
    org.ok("POST", "/admin/stages/final/close")


def test_award_mail_shows_the_count_and_the_mail_then_asks_before_sending(desk, own_stack):
    page = desk
    run_the_final_over_the_api(own_stack)
    log_in(page, own_stack)
    page.goto("/admin/mail")
    expect()(page.locator("#award-mail-count")).to_have_text(
        "获奖案例 1 个：将发送 1 封；跳过 0 封（已发送过 0 封，单位没有有效邮箱 0 封）。")
    expect()(page.locator("#mail-preview-to")).to_have_text("stage-unit@example.gov.cn")
    expect()(page.locator("#mail-preview-subject")).to_have_text(
        "【2023年深圳市“党建杯”机关创新创优竞赛】获奖通知：贵单位推报的案例荣获一等奖")
    expect()(page.locator("#mail-preview-body")).to_contain_text(
        "深圳市阶段测试局：您好！\n\n祝贺！贵单位推报的案例“党建引领“阶段提前关闭”测试案例”在综合评选中荣获一等奖。")
    no_sideways_scroll(page)
    screenshot(page, "admin-mail-preview-1280")

    page.get_by_role("button", name="发送获奖通知").click()
    panel = page.get_by_role("alertdialog")
    expect()(panel).to_contain_text("确认发送获奖通知？将发送 1 封，跳过 0 封。邮件发出后不能撤回。")
    expect()(page.get_by_text("获奖通知已处理")).to_have_count(0)       # nothing sent before the confirm
    screenshot(page, "admin-mail-confirm-1280")
    panel.get_by_role("button", name="确认发送获奖通知（1 封）").click()
    expect()(page.locator("#award-mail-result")).to_have_text(
        "获奖通知已处理：发送 1 封，跳过 0 封（此前已发送或单位没有有效邮箱）。")
    expect()(page.locator("#award-mail-count")).to_have_text(
        "获奖案例 1 个：将发送 0 封；跳过 1 封（已发送过 1 封，单位没有有效邮箱 0 封）。")
    expect()(page.locator("#mail-log")).to_contain_text("获奖通知")
    screenshot(page, "admin-mail-sent-1280")
