"""The organiser console (管理台) through chalice's test client with a cookie session logged in through the
form: every page renders for the organiser, others are sent to /login, CSRF on every form, escaping,
field errors in place, the case search, judges, assignments, links, stages, exports and mail.
The results pages on a finished competition are in test_admin_results_pages.py."""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime

import pytest

from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_judging_api import ORGANISER, organiser
from tests.browser import Browser, csrf_of, text

PAGES = {
    "/admin": "主办单位管理台", "/admin/cases": "案例浏览", "/admin/judges": "评委",
    "/admin/assignments/text_review": "评审分配 · 文本评审", "/admin/assignments/final": "评审分配 · 综合评选",
    "/admin/links": "评分链接", "/admin/stages": "阶段时间", "/admin/stages/text_review/close": "关闭文本评审",
    "/admin/rankings/text_review": "排名 · 文本评审", "/admin/rankings/final": "排名 · 综合评选",
    "/admin/honors": "荣誉提名", "/admin/organisation-awards": "优秀组织奖", "/admin/originality": "原创性检测",
    "/admin/exports": "导出", "/admin/mail": "邮件", "/admin/review": "审核",
}
POSTS = ["/admin/judges", "/admin/judges/x", "/admin/assignments/text_review/plan",
         "/admin/assignments/text_review/add",
         "/admin/assignments/text_review/remove", "/admin/links/text_review", "/admin/links/text_review/revoke",
         "/admin/stages/text_review/window", "/admin/stages/text_review/close", "/admin/cases/x/provincial",
         "/admin/organisation-awards", "/admin/exports", "/admin/notifications/awards", "/admin/review/x"]


def log_in(client) -> tuple[Browser, str]:
    """The organiser, logged in through the /login form; returns the browser and the session's CSRF token."""
    from chalicelib import bootstrap
    from chalicelib.services import accounts
    accounts.ensure_organiser(bootstrap.deps().accounts, *ORGANISER, bootstrap.config(), bootstrap.now())
    browser = Browser(client)
    token = csrf_of(text(browser.get("/login")))
    response = browser.post("/login", {"username": ORGANISER[0], "password": ORGANISER[1], "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (303, "/admin")
    return browser, csrf_of(text(browser.get("/admin")))


def h1(page: str) -> str:
    return htmllib.unescape(re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1).strip())


def submit(api, n: int, **overrides) -> str:
    unit = api.as_(register_unit(api, n, unit_name=overrides.pop("account_unit", f"单位{n}")))
    status, case = unit.call("POST", "/cases", case_body(**overrides))
    assert status == 201, case
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    return case["id"]


def judges(org, count: int = 3, category: str = "development", prefix: str = "外单位") -> list[str]:
    ids = []
    for n in range(1, count + 1):
        status, j = org.call("POST", "/admin/judges", {"name": f"评委{n}号", "email": f"j{n}@example.org",
                                                       "affiliation": f"{prefix}{n}", "categories": [category]})
        assert status == 201, j
        ids.append(j["id"])
    return ids


@pytest.fixture
def console(client):
    return log_in(client)


# -- every page, and who may see it --------------------------------------------------------------------

def test_every_page_renders_for_the_organiser_with_its_heading(api, client, console):
    case_id = submit(api, 1, title="党建引领数字政府建设")
    judge_id = judges(organiser(api), 1)[0]
    browser, _ = console
    pages = {**PAGES, f"/admin/cases/{case_id}": "党建引领数字政府建设", f"/admin/judges/{judge_id}": "编辑评委：评委1号"}
    for path, heading in pages.items():
        response = browser.get(path)
        page = text(response)
        assert (response.status_code, h1(page)) == (200, heading), path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<script>" not in page and " style=" not in page, path           # CSP: no inline script or style
        assert re.search(r'<script src="/static/admin\.js\?v=\w+" defer></script>', page), path
        assert 'aria-label="管理台导航"' in page and 'aria-current="page"' in page, path
    assert "综合评选结束（关闭）后才能生成荣誉提名" in text(browser.get("/admin/honors"))


def test_static_files_of_the_console_are_served():
    from chalice.test import Client

    from app import app
    with Client(app) as c:
        js, css = c.http.get("/static/admin.js"), c.http.get("/static/admin.css")
    assert (js.status_code, js.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert (css.status_code, css.headers["Content-Type"]) == (200, "text/css; charset=utf-8")
    assert b"/api/v1/admin/exports/" in js.body


def test_a_unit_and_a_stranger_are_sent_to_login(api, client):
    anonymous = Browser(client)
    unit = Browser(client)
    unit.jar["sp_session"] = register_unit(api, 1)
    for path in PAGES:
        for browser in (anonymous, unit):
            response = browser.get(path)
            assert (response.status_code, response.headers.get("Location")) == (303, "/login"), path
    for path in POSTS:
        response = unit.post(path, {"csrf_token": "anything"})
        assert (response.status_code, response.headers.get("Location")) == (303, "/login"), path


def test_every_form_needs_the_session_csrf_token(console):
    browser, token = console
    for path in POSTS:
        for fields in ({}, {"csrf_token": "wrong-" + token}):
            response = browser.post(path, fields)
            assert response.status_code == 403, path
            assert "安全校验失败（CSRF）" in text(response)
    from chalicelib.store.models import Judge
    assert list(Judge.query("shenzhen-2023")) == []


def test_every_console_form_carries_the_token(api, client, console):
    case_id = submit(api, 1)
    browser, token = console
    for path in [*PAGES, f"/admin/cases/{case_id}"]:
        page = text(browser.get(path))
        for form in re.findall(r'<form method="post".*?</form>', page, re.S):
            assert f'name="csrf_token" value="{token}"' in form, (path, form[:120])


# -- the case browser ---------------------------------------------------------------------------------

def test_a_script_in_a_case_title_is_escaped_in_the_browser_and_the_detail(api, console):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case_id = submit(api, 1, title=payload, recommending_unit='"><b>单位</b>')
    browser, _ = console
    for path in ("/admin/cases", f"/admin/cases/{case_id}", "/admin/assignments/text_review"):
        page = text(browser.get(path))
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>单位</b>" not in page, path
    listing = text(browser.get("/admin/cases"))
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in listing
    assert "&#34;&gt;&lt;b&gt;单位&lt;/b&gt;" in listing


def rows(page: str) -> list[str]:
    body = re.search(r'<table class="data" id="case-table">.*?<tbody>(.*?)</tbody>', page, re.S)
    return [htmllib.unescape(t) for t in re.findall(r'<a href="/admin/cases/[^"]+">([^<]*)</a>', body.group(1))] \
        if body else []


def test_search_filters_by_title_and_unit_and_the_filters_combine(api, console):
    submit(api, 1, title="党建引领数字政府建设", recommending_unit="深圳市政务服务数据管理局")
    submit(api, 2, title="红色物业融入基层治理", recommending_unit="深圳市住房和建设局", category="service")
    submit(api, 3, title="机关党建与业务融合", recommending_unit="深圳市财政局")
    unit = api.as_(register_unit(api, 4))
    assert unit.call("POST", "/cases", case_body(title="只是草稿"))[0] == 201
    browser, _ = console
    assert sorted(rows(text(browser.get("/admin/cases")))) == sorted(["只是草稿", "党建引领数字政府建设", "机关党建与业务融合",
                                                                     "红色物业融入基层治理"])
    assert rows(text(browser.get("/admin/cases?q=%E7%BA%A2%E8%89%B2"))) == ["红色物业融入基层治理"]          # 红色: title
    assert rows(text(browser.get("/admin/cases?q=%E8%B4%A2%E6%94%BF%E5%B1%80"))) == ["机关党建与业务融合"]   # 财政局: unit
    both = text(browser.get("/admin/cases?q=%E5%85%9A%E5%BB%BA+%E6%94%BF%E5%8A%A1"))                       # 党建 政务
    assert rows(both) == ["党建引领数字政府建设"]
    assert rows(text(browser.get("/admin/cases?category=service"))) == ["红色物业融入基层治理"]
    assert rows(text(browser.get("/admin/cases?status=draft"))) == ["只是草稿"]
    assert rows(text(browser.get("/admin/cases?category=development&q=%E6%9C%BA%E5%85%B3"))) == ["机关党建与业务融合"]
    none = text(browser.get("/admin/cases?q=%E4%B8%8D%E5%AD%98%E5%9C%A8"))
    assert "共 0 个案例" in none and "没有符合条件的案例" in none
    bad = browser.get("/admin/cases?category=nope")
    assert bad.status_code == 400 and '<p class="field-error" id="f-category-error">没有这个类别</p>' in text(bad)


def test_the_case_detail_shows_attachments_versions_and_history(api, console):
    case_id = submit(api, 1, title="案例甲")
    browser, _ = console
    page = text(browser.get(f"/admin/cases/{case_id}"))
    assert "无附件" in page and f'href="/cases/{case_id}/versions"' in page
    assert re.search(r"<td>\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d</td><td>提交</td><td>单位帐号 unit1</td>", page)
    assert "<td>新建草稿</td>" in page
    assert "推荐参加省赛" not in page                                    # only an awarded case may be recommended
    for link in (f"/cases/{case_id}/versions", f"/cases/{case_id}/versions/1", f"/cases/{case_id}/feedback"):
        assert browser.get(link).status_code == 200, link                # the console's links open for the organiser
    assert browser.get("/admin/cases/no-such-case").status_code == 404


# -- judges, assignments, links --------------------------------------------------------------------------

def test_a_judge_is_created_with_errors_beside_the_fields_then_edited(console):
    browser, token = console
    refused = browser.post("/admin/judges", {"csrf_token": token, "name": "张教授", "email": "not-an-email",
                                             "affiliation": "", "conflicts": "深圳市财政局"})
    page = text(refused)
    assert refused.status_code == 400
    assert '<p class="field-error" id="f-email-error">电子邮箱格式不正确（如 expert@example.org）</p>' in page
    assert '<p class="field-error" id="f-affiliation-error">请填写工作单位</p>' in page
    assert '<p class="field-error" id="f-categories-error">' in page
    assert 'value="张教授"' in page and "深圳市财政局</textarea>" in page
    done = browser.post("/admin/judges", [("csrf_token", token), ("name", "张教授"), ("email", "zhang@example.org"),
                                          ("affiliation", "深圳大学"), ("categories", "development"),
                                          ("categories", "service"), ("conflicts", "深圳市财政局\n深圳市民政局")])
    assert (done.status_code, done.headers["Location"]) == (303, "/admin/judges?done=created")
    page = text(browser.get("/admin/judges?done=created"))
    assert "评委已添加。" in page and "<td>发展提质、服务增效</td>" in page and "<td>深圳市财政局、深圳市民政局</td>" in page
    judge_id = re.search(r'href="/admin/judges/([^"]+)">编辑', page).group(1)
    edited = browser.post(f"/admin/judges/{judge_id}", {"csrf_token": token, "name": "张教授",
                                                        "email": "zhang@example.org",
                                                        "affiliation": "深圳大学", "categories": "empowerment",
                                                        "conflicts": ""})
    assert edited.status_code == 303
    assert "<td>党建赋能</td>" in text(browser.get("/admin/judges"))


def test_assignments_plan_override_remove_and_recusal_flag(api, client, clock):
    cases = [submit(api, n, recommending_unit=f"单位{n}", title=f"案例{n}") for n in (1, 2, 3)]
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge_ids = judges(org, 3, prefix="单位")          # 评委n号 works at 单位n: never scores 案例n (回避)
    browser, token = log_in(client)
    refused = browser.post("/admin/assignments/text_review/plan", {"csrf_token": token, "judges_per_case": "0"})
    assert refused.status_code == 400
    assert '<p class="field-error" id="f-judges-per-case-error">应为 1～50 的整数</p>' in text(refused)
    planned = browser.post("/admin/assignments/text_review/plan", {"csrf_token": token, "judges_per_case": "1"})
    assert planned.headers["Location"] == "/admin/assignments/text_review?done=planned&new=3"
    page = text(browser.get(planned.headers["Location"]))
    assert "评审分配已完成：新增 3 个分配。" in page and "现有分配（3 个）" in page
    conflict = browser.post("/admin/assignments/text_review/add", {"csrf_token": token, "judge_id": judge_ids[0],
                                                                    "case_id": cases[0]})
    assert conflict.status_code == 400
    assert '<p class="field-error" id="f-judge-id-error">需回避</p>' in text(conflict)
    listed = org.call("GET", "/admin/stages/text_review/assignments")[1]["assignments"]
    free = next((j, c) for j in judge_ids for c in cases
                if (j, c) not in {(a["judge_id"], a["case_id"]) for a in listed}
                and judge_ids.index(j) != cases.index(c))
    pair = {"csrf_token": token, "judge_id": free[0], "case_id": free[1]}
    added = browser.post("/admin/assignments/text_review/add", pair)
    assert added.headers["Location"] == "/admin/assignments/text_review?done=added"
    again = browser.post("/admin/assignments/text_review/add", pair)
    assert again.status_code == 400 and "该评委已分配到这个案例" in text(again)
    assert "<span class=\"badge\">手动</span>" in text(browser.get("/admin/assignments/text_review"))
    removed = browser.post("/admin/assignments/text_review/remove", pair)
    assert removed.headers["Location"] == "/admin/assignments/text_review?done=removed"
    assert len(org.call("GET", "/admin/stages/text_review/assignments")[1]["assignments"]) == 3
    # a judge recuses: flagged on the assignments page
    from chalicelib.store.models import Assignment
    slot = next(iter(Assignment.query(f"shenzhen-2023#text_review#{listed[0]['judge_id']}")))
    slot.update(actions=[Assignment.recused.set(True), Assignment.recusal_reason.set("曾指导该案例")])
    page = text(browser.get("/admin/assignments/text_review"))
    assert "其中 <strong>1</strong> 个回避" in page
    assert '<span class="badge badge-recused">已回避</span> <span class="muted">（曾指导该案例）</span>' in page
    assert browser.get("/admin/assignments/submission").status_code == 404


def test_links_are_shown_once_and_revoked_per_judge(api, client, clock):
    submit(api, 1, recommending_unit="单位1")
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge_ids = judges(org, 2)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 2})[0] == 200
    browser, token = log_in(client)
    page = text(browser.get("/admin/links"))
    assert 'href="/admin/stages/text_review/links/qr"' in page and "<td>j1@example.org</td>" in page
    assert "readonly value=" not in page
    issued = browser.post("/admin/links/text_review", {"csrf_token": token})
    page = text(issued)
    assert issued.status_code == 200 and "已发放 · 文本评审（2 个）" in page
    urls = re.findall(r'readonly value="([^"]+/j/[^"]+)"', page)
    assert len(urls) == 2 and "<th scope=\"row\">评委1号</th>" in page
    assert "readonly value=" not in text(browser.get("/admin/links"))          # shown once
    token_of = {u: u.rsplit("/j/", 1)[1] for u in urls}
    opened = [api.call("POST", "/judge/sessions", {"link": t})[0] for t in token_of.values()]
    assert opened == [200, 200]
    revoked = browser.post("/admin/links/text_review/revoke", {"csrf_token": token, "judge_id": judge_ids[0]})
    assert revoked.headers["Location"] == "/admin/links?done=revoked"
    statuses = sorted(api.call("POST", "/judge/sessions", {"link": t})[0] for t in token_of.values())
    assert statuses == [200, 401]


# -- stages -------------------------------------------------------------------------------------------

def test_a_window_that_overlaps_shows_the_error_beside_the_field_and_keeps_the_values(console):
    browser, token = console
    response = browser.post("/admin/stages/text_review/window", {"csrf_token": token, "opens_at": "2023-06-10T00:00:00",
                                                                  "closes_at": "2023-06-20T23:59:59"})
    page = text(response)
    assert response.status_code == 400
    error = re.search(r'<p class="field-error" id="f-text_review-closes-at-error">([^<]+)</p>', page)
    assert error and "专家辅导的开始时间必须晚于文本评审的截止时间" in htmllib.unescape(error.group(1))
    field = re.search(r'<input type="datetime-local"[^>]*id="f-text_review-closes-at"[^>]*>', page).group(0)
    assert 'value="2023-06-20T23:59:59"' in field and 'aria-invalid="true"' in field
    assert 'aria-describedby="f-text_review-closes-at-error"' in field
    assert 'id="f-text_review-opens-at-error"' not in page
    earlier = text(browser.post("/admin/stages/text_review/window", {"csrf_token": token,
                                                                      "opens_at": "2023-06-09T12:00",
                                                                      "closes_at": "2023-06-16T23:59:59"}))
    assert re.search(r'<p class="field-error" id="f-text_review-opens-at-error">文本评审的开始时间必须晚于文本申报的截止时间', earlier)
    blank = text(browser.post("/admin/stages/coaching/window", {"csrf_token": token, "opens_at": "", "closes_at": ""}))
    assert '<p class="field-error" id="f-coaching-opens-at-error">请填写日期和时间（北京时间）</p>' in blank
    assert "ISO-8601" not in blank                                         # the form's words, not the API's hint
    typed = text(browser.post("/admin/stages/coaching/window", {"csrf_token": token, "opens_at": "2023/6/17 9:00",
                                                                 "closes_at": "2023-06-23T23:59"}))
    assert '<p class="field-error" id="f-coaching-opens-at-error">日期和时间无法识别，请重新选择（北京时间）</p>' in typed
    assert "ISO-8601" not in typed
    moved = browser.post("/admin/stages/text_review/window", {"csrf_token": token, "opens_at": "2023-06-10T00:00",
                                                               "closes_at": "2023-06-15T18:00"})
    assert moved.headers["Location"] == "/admin/stages?done=moved"
    page = text(browser.get("/admin/stages?done=moved"))
    assert "阶段时间已保存。" in page and 'value="2023-06-15T18:00:00"' in page


def test_closing_a_stage_asks_first_and_then_stays_closed(clock, console):
    browser, token = console
    confirm = text(browser.get("/admin/stages/text_review/close"))
    assert "关闭后不能撤销" in confirm and "确认关闭文本评审" in confirm
    not_confirmed = browser.post("/admin/stages/text_review/close", {"csrf_token": token})
    assert not_confirmed.headers["Location"] == "/admin/stages/text_review/close"
    from chalicelib import bootstrap
    from chalicelib.services import stages
    assert not stages.windows(bootstrap.competition(), bootstrap.deps().stages)["text_review"].closed
    closed = browser.post("/admin/stages/text_review/close", {"csrf_token": token, "confirm": "yes"})
    assert closed.headers["Location"] == "/admin/stages?done=closed"
    assert stages.windows(bootstrap.competition(), bootstrap.deps().stages)["text_review"].closed
    page = text(browser.get("/admin/stages"))
    assert "本阶段已由主办单位关闭，时间不能再修改" in page and 'action="/admin/stages/text_review/window"' not in page
    again = browser.post("/admin/stages/text_review/window", {"csrf_token": token, "opens_at": "2023-06-10T00:00",
                                                               "closes_at": "2023-06-16T23:59"})
    assert again.status_code == 409 and "文本评审已由主办单位关闭，不能再修改时间" in text(again)
    assert browser.get("/admin/stages/nope/close").status_code == 404


# -- the dashboard ------------------------------------------------------------------------------------

def test_dashboard_counts_cases_days_units_without_a_submission_and_who_is_behind(api, client, clock):
    submit(api, 1, title="甲")
    clock.set(datetime(2023, 6, 2, 10, 0, tzinfo=CHINA))
    submit(api, 2, title="乙", category="service")
    submit(api, 3, title="丙")
    drafter = api.as_(register_unit(api, 4, unit_name="深圳市草稿局"))
    assert drafter.call("POST", "/cases", case_body(title="草稿"))[0] == 201
    register_unit(api, 5, unit_name="深圳市空白局")
    clock.set(datetime(2023, 6, 13, 12, 0, tzinfo=CHINA))          # text review: half of the window gone
    org = organiser(api)
    judges(org, 2, prefix="评审机构")
    assert org.call("POST", "/admin/judges", {"name": "服务评委", "email": "s@example.org", "affiliation": "评审机构9",
                                              "categories": ["service"]})[0] == 201
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    browser, _ = log_in(client)
    page = text(browser.get("/admin"))
    matrix = re.search(r'<table class="data numbers" id="case-matrix">.*?</table>', page, re.S).group(0)
    cells = lambda row: re.findall(r"<td>(?:<a [^>]*>)?(\d+)(?:</a>)?</td>", row)  # noqa: E731
    development = re.search(r'<th scope="row">发展提质</th>(.*?)</tr>', matrix, re.S).group(1)
    assert cells(development) == ["1", "2", "0", "0", "0", "0", "0", "0", "0", "3"]   # 草稿 1, 已提交 2, …, 合计 3
    service = re.search(r'<th scope="row">服务增效</th>(.*?)</tr>', matrix, re.S).group(1)
    assert cells(service) == ["0", "1", "0", "0", "0", "0", "0", "0", "0", "1"]
    assert '<a href="/admin/review">审核已提交的案例</a>（未审核 3 个' in page
    assert 'href="/admin/cases?category=development&amp;status=submitted">2</a>' in matrix
    assert re.search(r'<span class="bar-label">2023年6月1日</span><meter min="0" max="2" value="1"', page)
    assert re.search(r'<span class="bar-label">2023年6月2日</span><meter min="0" max="2" value="2"', page)
    without = re.search(r'<table class="data" id="units-without">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<tr><td>([^<]+)</td>", without) == ["深圳市空白局", "深圳市草稿局"]   # by code point
    assert "尚未提交案例的单位（2）" in page
    assert "已完成 0 / 3；按时间应完成约 50%；<strong class=\"behind-count\">3 位评委进度落后</strong>" in page
    assert page.count('<span class="badge badge-behind">落后</span>') == 3
    assert "本阶段尚未分配评委。" in page                                   # coaching, final


# -- exports and mail ---------------------------------------------------------------------------------

@pytest.fixture
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


def test_an_export_starts_from_the_form_and_shows_its_progress_then_the_link(poll_mode, api, console):
    submit(api, 1, title="案例甲")
    browser, token = console
    bad = browser.post("/admin/exports", {"csrf_token": token, "kind": "everything"})
    assert bad.status_code == 400 and '<p class="field-error" id="f-kind-error">不支持的导出类型</p>' in text(bad)
    started = browser.post("/admin/exports", {"csrf_token": token, "kind": "registrations_xlsx"})
    job_id = started.headers["Location"].split("job=", 1)[1]
    page = text(browser.get(started.headers["Location"]))
    assert f'<tr data-export-job="{job_id}" data-status="queued" class="is-current">' in page
    assert '<progress max="100" value="0"' in page and "排队中" in page and "页面会自动更新进度" in page
    polled = browser.get(f"/api/v1/admin/exports/{job_id}")                   # what admin.js polls, cookie only
    assert polled.status_code == 200 and b'"percent": 0' in polled.body
    from scripts import local_jobs
    assert local_jobs.run_queued_exports() == [job_id]
    page = text(browser.get(f"/admin/exports?job={job_id}"))
    assert f'data-export-job="{job_id}" data-status="done"' in page and '<progress max="100" value="100"' in page
    link = re.search(r'<a href="([^"]+)" download>下载 ([^<]+)</a>', page)
    assert f"exports/{job_id}/registrations.xlsx" in htmllib.unescape(link.group(1))
    assert link.group(2).endswith("报名情况-20230601.xlsx")


def test_award_mail_button_reports_sent_and_skipped_and_the_log_lists_mail(api, console):
    submit(api, 1)
    browser, token = console
    page = text(browser.get("/admin/mail"))
    assert "目前没有获奖案例（综合评选关闭后才有），不会发送任何邮件。" in page and 'id="mail-preview-body"' not in page
    page = text(browser.post("/admin/notifications/awards", {"csrf_token": token, "confirm": "yes"}))
    assert "获奖通知已处理：发送 0 封，跳过 0 封" in page
    log = text(browser.get("/admin/mail"))
    assert re.search(r"<td>注册成功</td><td>u1@example\.gov\.cn</td>", log)
    assert re.search(r"<td>提交回执</td><td>u1@example\.gov\.cn</td>", log)
    only = text(browser.get("/admin/mail?kind=registration"))
    assert "<td>注册成功</td>" in only and "<td>提交回执</td>" not in only
