"""The console's competition builder (竞赛届次) through chalice's test client with the organiser's cookie session:
the list, 复制上一届 and 新建届次, the settings form with errors beside their fields, locked parts read-only with
the reason, 开始（发布）, 设为当前届次 and 结束本届; CSRF on every form, the names escaped."""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime

import pytest

from tests.browser import Browser, csrf_of, text
from tests.conftest import CHINA, register_unit
from tests.integration.test_admin_pages import log_in

SOURCE = "shenzhen-2023"


@pytest.fixture
def console(client):
    from chalicelib import bootstrap
    from chalicelib.services import competitions
    competitions.seed(bootstrap.deps().competitions, SOURCE, bootstrap.now())
    return log_in(client)


def field(page: str, name: str) -> str:
    """The value of the input named `name`."""
    match = re.search(r'name="' + re.escape(name) + r'" value="([^"]*)"', page)
    assert match, name
    return htmllib.unescape(match.group(1))


def test_the_list_copy_and_edit(console):
    browser, token = console
    page = text(browser.get("/admin/competitions"))
    assert "竞赛届次" in page and "复制上一届" in page and "新建届次" in page
    assert 'href="/admin/competitions" aria-current="page"' in page
    assert "进行中" in page

    refused = browser.post("/admin/competitions", {"csrf_token": token, "mode": "copy", "copy_from": SOURCE,
                                                   "name": "", "year": "2023"})
    assert refused.status_code == 400
    page = text(refused)
    assert 'id="f-copy-name-error"' in page and "请填写竞赛名称" in page
    assert 'id="f-copy-year-error"' in page

    made = browser.post("/admin/competitions", {"csrf_token": token, "mode": "copy", "copy_from": SOURCE,
                                                "name": "2024年<党建杯>", "year": "2024"})
    assert (made.status_code, made.headers["Location"]) == (303, "/admin/competitions/shenzhen-2024?done=created")
    page = text(browser.get("/admin/competitions/shenzhen-2024"))
    assert "2024年&lt;党建杯&gt;" in page and "<党建杯>" not in page
    assert "草稿" in page and "开始（发布）" in page
    assert field(page, "categories[0].criteria[0].max") == "30"
    assert field(page, "stages.submission.opens_at").startswith("2024-")

    form = {"csrf_token": token, "version": "1", "categories[0].criteria[0].max": "35",
            "categories[0].criteria[1].max": "25", "quotas.advance_per_category": "abc"}
    refused = browser.post("/admin/competitions/shenzhen-2024", form)
    assert refused.status_code == 400
    page = text(refused)
    assert 'id="f-quotas-advance-per-category-error"' in page
    assert field(page, "categories[0].criteria[0].max") == "35"     # what was typed stays

    form["quotas.advance_per_category"] = "20"
    saved = browser.post("/admin/competitions/shenzhen-2024", form)
    assert (saved.status_code, saved.headers["Location"]) == (303, "/admin/competitions/shenzhen-2024?done=saved")
    page = text(browser.get("/admin/competitions/shenzhen-2024?done=saved"))
    assert "竞赛设置已保存" in page
    assert field(page, "categories[0].criteria[0].max") == "35" and field(page, "quotas.advance_per_category") == "20"
    assert 'name="version" value="2"' in page

    started = browser.post("/admin/competitions/shenzhen-2024/start", {"csrf_token": token, "version": "2"})
    assert started.status_code == 303, text(started)
    activated = browser.post("/admin/competitions/shenzhen-2024/activate", {"csrf_token": token})
    assert activated.status_code == 303
    page = text(browser.get("/admin/competitions"))
    row = re.search(r'<tr id="competition-shenzhen-2024">.*?</tr>', page, re.S).group(0)
    assert "当前届次" in row and "进行中" in row


def test_the_form_removes_and_adds_criteria_and_categories(console):
    browser, token = console
    browser.post("/admin/competitions", {"csrf_token": token, "mode": "copy", "copy_from": SOURCE,
                                         "name": "2024年党建杯", "year": "2024"})
    page = text(browser.get("/admin/competitions/shenzhen-2024"))
    assert 'name="categories[0].criteria[1]"' in page and "删除评分细则“实践性”" in page
    assert "新增评分细则（名称）" in page and "新类别的名称" in page and "删除类别“发展提质”" in page
    assert " checked" not in re.search(r'name="categories\[0\]\.criteria\[1\]"[^>]*>', page).group(0)

    refused = browser.post("/admin/competitions/shenzhen-2024", {"csrf_token": token, "version": "1",
                                                                 "categories[0].criteria[1]": "1",
                                                                 "categories[0].criteria[3].name": "协同性"})
    assert refused.status_code == 400
    page = text(refused)
    assert "满分" in page and "f-categories-0-criteria-2-max-error" in page      # the new one, by its field
    assert re.search(r'name="categories\[0\]\.criteria\[1\]" value="1" checked', page)   # the tick stays

    saved = browser.post("/admin/competitions/shenzhen-2024", {
        "csrf_token": token, "version": "1", "categories[0].criteria[1]": "1",
        "categories[0].criteria[3].name": "协同性", "categories[0].criteria[3].max": "30", "categories[3].name": "基层减负"})
    assert saved.status_code == 303, text(saved)
    page = text(browser.get("/admin/competitions/shenzhen-2024"))
    assert field(page, "categories[0].criteria[1].name") == "成效性"
    assert field(page, "categories[0].criteria[2].name") == "协同性"
    assert field(page, "categories[3].name") == "基层减负"
    assert field(page, "categories[3].criteria[0].name") == "前瞻性"


def test_a_part_that_has_begun_is_read_only_with_the_reason(client, clock):
    from chalicelib import bootstrap
    from chalicelib.services import competitions
    competitions.seed(bootstrap.deps().competitions, SOURCE, bootstrap.now())
    clock.set(datetime(2023, 6, 12, 10, 0, tzinfo=CHINA))          # 文本评审 is open
    browser, token = log_in(client)
    page = text(browser.get(f"/admin/competitions/{SOURCE}"))
    assert "已开始评分，不能再改评分标准" in page
    assert 'name="categories[0].criteria[0].max"' not in page
    assert 'name="theme"' in page                                  # still editable
    refused = browser.post(f"/admin/competitions/{SOURCE}", {"csrf_token": token, "version": "1",
                                                             "stages.text_review.closes_at": "2023-06-01T00:00:00"})
    assert refused.status_code in (400, 409)
    assert 'id="f-stages-text-review-closes-at-error"' in text(refused)


def test_the_windows_shown_and_saved_are_the_ones_the_stages_run_on(api, console):
    browser, token = console
    moved = browser.post("/admin/stages/final/window", {"csrf_token": token, "opens_at": "2023-06-24T00:00:00",
                                                     "closes_at": "2023-07-09T18:00:00"})
    assert moved.status_code == 303, text(moved)
    page = text(browser.get(f"/admin/competitions/{SOURCE}"))
    assert field(page, "stages.final.closes_at") == "2023-07-09T18:00:00"       # moved on the 阶段 page
    version = field(page, "version")
    saved = browser.post(f"/admin/competitions/{SOURCE}", {
        "csrf_token": token, "version": version, "stages.submission.closes_at": "2023-06-12T23:59:59",
        "stages.text_review.opens_at": "2023-06-13T00:00:00"})
    assert saved.status_code == 303, text(saved)
    page = text(browser.get(f"/admin/competitions/{SOURCE}"))
    assert field(page, "stages.submission.closes_at") == "2023-06-12T23:59:59"
    windows = {s["id"]: (s["opens_at"], s["closes_at"]) for s in api.call("GET", "/competition")[1]["stages"]}
    assert windows["submission"][1] == "2023-06-12T23:59:59+08:00"
    assert windows["text_review"][0] == "2023-06-13T00:00:00+08:00"
    assert windows["final"][1] == "2023-07-09T18:00:00+08:00"


def test_forms_need_the_csrf_token_and_others_are_sent_to_login(api, client, console):
    browser, token = console
    for path in ("/admin/competitions", f"/admin/competitions/{SOURCE}", f"/admin/competitions/{SOURCE}/start",
                 f"/admin/competitions/{SOURCE}/activate", f"/admin/competitions/{SOURCE}/finish"):
        response = browser.post(path, {"csrf_token": "wrong"})
        assert response.status_code == 403, path
    page = text(browser.get(f"/admin/competitions/{SOURCE}"))
    for form in re.findall(r'<form method="post".*?</form>', page, re.S):
        assert f'name="csrf_token" value="{token}"' in form
    unit = Browser(client)
    unit.jar["sp_session"] = register_unit(api, 1)
    for path in ("/admin/competitions", f"/admin/competitions/{SOURCE}"):
        assert unit.get(path).headers.get("Location") == "/login"
    assert csrf_of(page)
