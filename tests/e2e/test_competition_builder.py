"""The competition builder (竞赛届次) in Chromium at 1280 px: an organiser logs in, opens 竞赛届次, copies 2023 to
2024, changes a criterion's maximum and the advance quota, sees the error beside a bad quota, saves, removes a
criterion and adds one and a category, then starts (开始（发布）) the copy and makes it the current competition. Screenshots: test-artifacts/ and /tmp/shots-builder/.

It runs on a stack of its own: making 2024 current would move every later test on the shared stack to 2024."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .conftest import fresh_page, running_stack, screenshot
from .test_admin_console import expect, log_in

SHOTS = Path("/tmp/shots-builder")


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(screenshot(page, f"builder-{name}"), SHOTS / f"{name}.png")


def view(page, name: str) -> None:
    """What the organiser sees in the window right now (not the whole page)."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("builder-data"), "e2e-builder-stack") as started:
        yield started


@pytest.fixture
def own_page(chromium, own_stack):
    yield from fresh_page(chromium, own_stack, viewport={"width": 1280, "height": 900})


def test_an_organiser_copies_2023_to_2024_edits_it_and_makes_it_current(own_page, own_stack):
    page, stack = own_page, own_stack
    log_in(page, stack)
    page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="竞赛届次").click()
    expect()(page).to_have_url(re.compile(r"/admin/competitions$"))
    expect()(page.get_by_role("heading", name="竞赛届次", exact=True)).to_be_visible()
    expect()(page.locator("#competition-table")).to_contain_text("进行中")
    shot(page, "1-list")

    copy = page.locator("#copy")
    copy.get_by_label("复制哪一届").select_option("shenzhen-2023")
    copy.get_by_label("新一届的名称").fill("2024年深圳市“党建引领·数智赋能”创新案例大赛")
    copy.get_by_label("年份").fill("2024")
    copy.get_by_role("button", name="复制上一届").click()
    expect()(page).to_have_url(re.compile(r"/admin/competitions/shenzhen-2024\?done=created$"))
    expect()(page.get_by_role("status")).to_contain_text("已新建竞赛届次")
    expect()(page.locator('[name="stages.submission.opens_at"]')).to_have_value(re.compile(r"^2024-"))
    shot(page, "2-copied")

    page.locator('[name="categories[0].criteria[0].max"]').fill("35")
    page.locator('[name="categories[0].criteria[1].max"]').fill("25")
    quota = page.get_by_label("每个类别进入综合评选的案例数")
    quota.fill("0")
    page.get_by_role("button", name="保存设置").click()
    error = page.locator("#f-quotas-advance-per-category-error")
    expect()(error).to_be_visible()
    expect()(quota).to_have_attribute("aria-invalid", "true")
    expect()(page.locator('[name="categories[0].criteria[0].max"]')).to_have_value("35")
    shot(page, "3-field-error")
    view(page, "3a-summary")
    error.scroll_into_view_if_needed()
    view(page, "3b-beside-the-field")

    quota.fill("20")
    page.get_by_role("button", name="保存设置").click()
    expect()(page.get_by_role("status")).to_contain_text("竞赛设置已保存")
    expect()(page.locator('[name="categories[0].criteria[0].max"]')).to_have_value("35")
    expect()(quota).to_have_value("20")
    shot(page, "4-saved")

    # 服务增效: 机制性 out, 协同性 in, 针对性 takes the points; a fourth category 基层减负
    service = page.locator("#f-categories-1")
    service.get_by_label("删除评分细则“机制性”").check()
    service.get_by_label("新增评分细则（名称）").fill("协同性")
    service.get_by_label("新增评分细则的满分").fill("10")
    service.get_by_label("“针对性”满分").fill("50")
    page.locator("#f-categories-3").get_by_label("新类别的名称").fill("基层减负")
    view(page, "4a-add-and-remove")
    page.get_by_role("button", name="保存设置").click()
    expect()(page.get_by_role("status")).to_contain_text("竞赛设置已保存")
    service = page.locator("#f-categories-1")
    expect()(service.locator('[name="categories[1].criteria[1].name"]')).to_have_value("实效性")
    expect()(service.locator('[name="categories[1].criteria[2].name"]')).to_have_value("协同性")
    expect()(service.get_by_label("“针对性”满分")).to_have_value("50")
    expect()(page.locator("#f-categories-3 legend")).to_have_text("基层减负")
    expect()(page.locator('[name="categories[3].criteria[2].max"]')).to_have_value("40")
    shot(page, "4b-added-and-removed")

    page.get_by_role("button", name="开始（发布）").click()
    expect()(page.get_by_role("status")).to_contain_text("本届已开始（发布）")
    page.get_by_role("button", name="设为当前届次").click()
    expect()(page.get_by_role("status")).to_contain_text("已设为当前届次")
    shot(page, "5-current")
    view(page, "5a-current")

    page.goto("/admin/competitions")
    row = page.locator("#competition-shenzhen-2024")
    expect()(row).to_contain_text("当前届次")
    expect()(row).to_contain_text("进行中")
    shot(page, "6-list-current")
