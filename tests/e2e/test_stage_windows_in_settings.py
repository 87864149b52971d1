"""A running competition's windows in Chromium at 1280 px: the organiser moves 综合评选's closing in the settings
form (竞赛届次), and the 阶段 page shows the window the stage now runs on. Screenshots: test-artifacts/ and
/tmp/shots-builder/.

It runs on a stack of its own: the edited window is written to 2023's definition, which the builder's copy to
2024 would then carry (the local stack's windows are demo windows around today, not 2023's)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .conftest import fresh_page, running_stack
from .test_admin_console import expect, log_in
from .test_competition_builder import shot


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("windows-data"), "e2e-windows-stack") as started:
        yield started


@pytest.fixture
def own_page(chromium, own_stack):
    yield from fresh_page(chromium, own_stack, viewport={"width": 1280, "height": 900})


def test_a_window_saved_in_the_settings_is_the_one_the_stage_page_shows(own_page, own_stack):
    page, stack = own_page, own_stack
    log_in(page, stack)
    page.goto("/admin/competitions/shenzhen-2023")
    closing = page.locator('[name="stages.final.closes_at"]')
    earlier = datetime.fromisoformat(closing.input_value()) - timedelta(hours=1)
    closing.fill(earlier.isoformat(timespec="seconds"))
    page.get_by_role("button", name="保存设置").click()
    expect()(page.get_by_role("status")).to_contain_text("竞赛设置已保存")
    expect()(closing).to_have_value(earlier.isoformat(timespec="seconds"))
    shot(page, "0-window-saved")
    page.goto("/admin/stages")
    expect()(page.locator("#stage-final").get_by_label("截止时间")).to_have_value(earlier.isoformat(timespec="seconds"))
    shot(page, "0a-stage-page")
