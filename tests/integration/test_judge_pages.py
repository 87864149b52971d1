"""Judge pages, the unit's coaching pages and the live final through chalice's test client (moto)."""
from __future__ import annotations

from urllib.parse import unquote
import io
import json
import re
from datetime import datetime

import pytest

from tests.browser import Browser, csrf_of, set_cookies, text
from tests.conftest import CHINA, case_body, register_unit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ORGANISER = ("boss", "organiser-pass-1")


def progress(page: str) -> str:
    return re.search(r"已评 \d+ / \d+", page).group(0)


# -- set-up over the JSON API ---------------------------------------------------------------------------

def organiser(api):
    from chalicelib import bootstrap
    from chalicelib.services import accounts
    accounts.ensure_organiser(bootstrap.deps().accounts, *ORGANISER, bootstrap.config(), bootstrap.now())
    status, data = api.call("POST", "/sessions", {"username": ORGANISER[0], "password": ORGANISER[1]})
    assert status == 200
    return api.as_(data["token"]), data


def submitted_cases(api, units=3, category="development"):
    ids, tokens = [], {}
    for n in range(1, units + 1):
        token = register_unit(api, n, unit_name=f"单位{n}")
        unit = api.as_(token)
        status, case = unit.call("POST", "/cases", case_body(category=category, recommending_unit=f"单位{n}",
                                                             title=f"案例{n}"))
        assert status == 201, case
        assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
        ids.append(case["id"])
        tokens[case["id"]] = f"unit{n}"
    return ids, tokens


def unit_session(api, username):
    """A fresh unit session (sessions last SESSION_HOURS; the tests move the clock by days)."""
    status, data = api.call("POST", "/sessions", {"username": username, "password": "correct-horse-1"})
    assert status == 200, data
    return data["token"], data["csrf_token"]


def make_judges(org, count=3, category="development"):
    ids = []
    for n in range(1, count + 1):
        status, j = org.call("POST", "/admin/judges", {"name": f"评委{n}号", "email": f"j{n}@example.org",
                                                       "affiliation": f"外单位{n}", "categories": [category]})
        assert status == 201, j
        ids.append(j["id"])
    return ids


def set_status(case_ids, status):
    from chalicelib.store.models import Case
    for case_id in case_ids:
        Case.get(case_id).update(actions=[Case.status.set(status)])


def links(org, stage):
    status, issued = org.call("POST", f"/admin/stages/{stage}/links")
    assert status == 200, issued
    return {l["judge_id"]: l["url"].rsplit("/j/", 1)[1] for l in issued["links"]}


def counts():
    from chalicelib.store.models import AuditEntry, Session
    return sum(1 for _ in Session.scan()), sum(1 for _ in AuditEntry.scan())


@pytest.fixture
def text_review(api, clock):
    """Three submitted development cases, three judges, two judges per case, links issued; text review open."""
    cases, _ = submitted_cases(api, 3)
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org, _ = organiser(api)
    judge_ids = make_judges(org, 3)
    status, plan = org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 2})
    assert status == 200, plan
    return {"org": org, "cases": cases, "judges": judge_ids, "links": links(org, "text_review"),
            "per_judge": plan["per_judge"]}


def start(browser, token):
    landing = browser.get(f"/j/{token}")
    assert landing.status_code == 200, text(landing)
    return browser.post("/judge/start", {"link": token, "csrf_token": csrf_of(text(landing))})


# -- the link: GET changes nothing, POST opens the session -------------------------------------------------

def test_link_landing_shows_who_and_stage_and_writes_nothing(client, text_review):
    browser = Browser(client)
    judge_id = text_review["judges"][0]
    token = text_review["links"][judge_id]
    before = counts()
    response = browser.get(f"/j/{token}")
    page = text(response)
    assert response.status_code == 200
    assert counts() == before
    assert "sp_session" not in browser.jar
    assert re.search(r'<dd id="landing-judge">评委1号</dd>', page)
    assert re.search(r'<dd id="landing-stage">文本评审</dd>', page)
    assert re.search(r'<form method="post" action="/judge/start">', page)
    assert '<button type="submit" class="primary big-button">开始评分</button>' in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "?" not in re.search(r'action="([^"]*)"', page).group(1)


def test_start_sets_the_session_cookie_and_progress_follows_scores(client, text_review):
    browser = Browser(client)
    judge_id = text_review["judges"][0]
    assigned = text_review["per_judge"][judge_id]
    sessions_before = counts()[0]
    response = start(browser, text_review["links"][judge_id])
    assert (response.status_code, response.headers["Location"]) == (303, "/judge")
    cookie = next(c for c in set_cookies(response) if c.startswith("sp_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert counts()[0] == sessions_before + 1

    listing = browser.get("/judge")
    page = text(listing)
    assert listing.status_code == 200
    assert progress(page) == f"已评 0 / {assigned}"
    assert listing.headers["Referrer-Policy"] == "no-referrer" and listing.headers["Cache-Control"] == "no-store"
    case_ids = re.findall(r'href="/judge/cases/([^"]+)"', page)
    assert len(case_ids) == assigned and page.count(">未评<") == assigned

    case_page = text(browser.get(f"/judge/cases/{case_ids[0]}"))
    for name, maximum, key in (("前瞻性", 30, "foresight"), ("实践性", 30, "practicality"), ("成效性", 40, "effectiveness")):
        assert re.search(rf'<label for="c-{key}">{name}</label>\s*'
                         rf'<span class="criterion-max" id="c-{key}-max">（满分 {maximum} 分）</span>', case_page), name
        assert re.search(rf'<input type="number" id="c-{key}" name="criteria\.{key}" value=""\s+'
                         rf'step="0\.1" min="0" max="{maximum}"', case_page), key
    assert '<label for="f-comment">评语</label>' in case_page
    assert '<button type="submit" class="primary">保存评分</button>' in case_page
    assert '<label for="f-reason">回避理由</label>' in case_page and ">回避</button>" in case_page
    assert "牵头人办公电话" in case_page and "案例创新点" in case_page

    csrf = csrf_of(case_page)
    refused = browser.post(f"/judge/cases/{case_ids[0]}/score", {
        "csrf_token": csrf, "criteria.foresight": "31", "criteria.practicality": "20.5",
        "criteria.effectiveness": "abc", "comment": "很好"})
    page = text(refused)
    assert refused.status_code == 400
    assert re.search(r'id="c-foresight-error">“前瞻性”的分数应在 0～30 分之间</p>', page)
    assert re.search(r'id="c-effectiveness-error">“成效性”的分数应为数字，最多一位小数</p>', page)
    assert 'name="criteria.practicality" value="20.5"' in page and "很好</textarea>" in page
    assert progress(text(browser.get("/judge"))) == f"已评 0 / {assigned}"

    saved = browser.post(f"/judge/cases/{case_ids[0]}/score", {
        "csrf_token": csrf, "criteria.foresight": "27.5", "criteria.practicality": "20",
        "criteria.effectiveness": "35.5", "comment": "好"})
    assert (saved.status_code, saved.headers["Location"]) == (303, "/judge?done=saved")
    page = text(browser.get("/judge?done=saved"))
    assert progress(page) == f"已评 1 / {assigned}"
    assert "评分已保存。" in page
    again = text(browser.get(f"/judge/cases/{case_ids[0]}"))
    assert 'name="criteria.foresight" value="27.5"' in again and 'name="criteria.practicality" value="20"' in again
    assert '<strong id="score-total" data-max="100">83</strong>' in again

    forged = browser.post(f"/judge/cases/{case_ids[0]}/score", {"csrf_token": "x" * 43, "criteria.foresight": "1"})
    assert forged.status_code == 403

    out = browser.post("/judge/logout", {"csrf_token": csrf})
    assert out.status_code == 200 and "您已退出评分" in text(out) and "sp_session" not in browser.jar
    from chalicelib.store.models import AuditEntry
    # the judge's own trail, of its competition (rows of one moment, in any order)
    trail = [r.action for r in AuditEntry.query(f"judge#shenzhen-2023#{judge_id}")]
    assert trail.count("session.open") == trail.count("session.close") == 1
    assert list(AuditEntry.query(f"judge#{judge_id}")) == []
    assert counts()[0] == sessions_before


def test_bad_links_get_a_chinese_401_page(client, clock, text_review):
    browser = Browser(client)
    org = text_review["org"]
    first, second = text_review["judges"][:2]
    token = text_review["links"][first]
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "not-a-link-at-all"):
        response = browser.get(f"/j/{bad}")
        assert response.status_code == 401
        assert "评分链接无效或已过期" in text(response) and "请使用主办单位最新发送的评分链接" in text(response)
        assert response.headers["Referrer-Policy"] == "no-referrer"

    start(browser, token)
    assert browser.get("/judge").status_code == 200
    assert org.call("DELETE", f"/admin/judges/{first}/links/text_review")[0] == 204
    revoked = browser.get(f"/j/{token}")
    assert revoked.status_code == 401 and "已失效" in text(revoked)
    ended = browser.get("/judge")
    assert ended.status_code == 401 and "评分链接已被撤销" in text(ended)
    login_form = text(client.http.get("/login"))
    assert browser.post("/judge/start", {"link": token, "csrf_token": csrf_of(login_form)}).status_code in (401, 403)

    old = text_review["links"][second]
    fresh = links(org, "text_review")[second]
    assert browser.get(f"/j/{old}").status_code == 401
    assert browser.get(f"/j/{fresh}").status_code == 200

    clock.set(datetime(2023, 6, 17, 0, 0, 1, tzinfo=CHINA))
    expired = browser.get(f"/j/{fresh}")
    assert expired.status_code == 401 and "已截止" in text(expired)


def test_another_judges_case_is_404_and_closed_stage_refuses_scores(client, clock, text_review):
    browser = Browser(client)
    judge_id = text_review["judges"][0]
    start(browser, text_review["links"][judge_id])
    page = text(browser.get("/judge"))
    mine = set(re.findall(r'href="/judge/cases/([^"]+)"', page))
    other = next(c for c in text_review["cases"] if c not in mine)
    assert browser.get(f"/judge/cases/{other}").status_code == 404
    case_id = sorted(mine)[0]
    csrf = csrf_of(text(browser.get(f"/judge/cases/{case_id}")))
    clock.set(datetime(2023, 6, 17, 0, 0, 1, tzinfo=CHINA))
    refused = browser.post(f"/judge/cases/{case_id}/score", {
        "csrf_token": csrf, "criteria.foresight": "1", "criteria.practicality": "1", "criteria.effectiveness": "1"})
    assert refused.status_code == 409 and "已锁定" in text(refused)


def test_recusal_from_the_case_page(client, text_review):
    browser = Browser(client)
    judge_id = text_review["judges"][0]
    start(browser, text_review["links"][judge_id])
    page = text(browser.get("/judge"))
    case_id = re.findall(r'href="/judge/cases/([^"]+)"', page)[0]
    csrf = csrf_of(text(browser.get(f"/judge/cases/{case_id}")))
    empty = browser.post(f"/judge/cases/{case_id}/recuse", {"csrf_token": csrf, "reason": " "})
    assert empty.status_code == 400 and 'id="f-reason-error"' in text(empty)
    asked = browser.post(f"/judge/cases/{case_id}/recuse", {"csrf_token": csrf, "reason": " 曾在该单位任职 "})
    confirm_page = text(asked)
    assert asked.status_code == 200 and "<h1>确认回避</h1>" in confirm_page     # nothing written yet
    assert '<p class="reason">曾在该单位任职</p>' in confirm_page and ">确认回避</button>" in confirm_page
    assert f'<a href="/judge/cases/{case_id}">取消，返回案例</a>' in confirm_page
    assert browser.get(f"/judge/cases/{case_id}").status_code == 200
    assert progress(text(browser.get("/judge"))) == f"已评 0 / {text_review['per_judge'][judge_id]}"
    done = browser.post(f"/judge/cases/{case_id}/recuse", {"csrf_token": csrf_of(confirm_page),
                                                           "reason": "曾在该单位任职", "confirm": "yes"})
    assert (done.status_code, done.headers["Location"]) == (303, "/judge?done=recused")
    assigned = text_review["per_judge"][judge_id]
    assert progress(text(browser.get("/judge"))) == f"已评 0 / {assigned - 1}"
    assert browser.get(f"/judge/cases/{case_id}").status_code == 404


# -- coaching: the judge's feedback form, the unit's anonymised view, replies, versions ---------------------

def test_coaching_feedback_reaches_the_unit_anonymised_with_replies_and_versions(api, client, clock):
    cases, tokens = submitted_cases(api, 2)
    set_status(cases, "advanced")
    clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
    org, _ = organiser(api)
    make_judges(org, 2)
    assert org.call("POST", "/admin/stages/coaching/assignments", {})[0] == 200
    issued = links(org, "coaching")
    case_id = cases[0]
    judge_browser = None
    for token in issued.values():
        candidate = Browser(client)
        start(candidate, token)
        if f"/judge/cases/{case_id}" in text(candidate.get("/judge")):
            judge_browser = candidate
    assert judge_browser is not None
    page = text(judge_browser.get(f"/judge/cases/{case_id}"))
    assert '<label for="f-point-0">意见1</label>' in page and ">提交辅导意见</button>" in page
    assert "保存评分" not in page
    csrf = csrf_of(page)
    none = judge_browser.post(f"/judge/cases/{case_id}/feedback", {"csrf_token": csrf, "points": ["", " "]})
    assert none.status_code == 400
    sent = judge_browser.post(f"/judge/cases/{case_id}/feedback",
                              {"csrf_token": csrf, "points": ["背景部分请补充数据", "", "成果请量化"]})
    assert (sent.status_code, sent.headers["Location"]) == (303, "/judge?done=feedback")
    page = text(judge_browser.get(f"/judge/cases/{case_id}"))
    assert "背景部分请补充数据</textarea>" in page and "成果请量化</textarea>" in page

    unit = Browser(client)
    unit_token, unit_csrf = unit_session(api, tokens[case_id])
    unit.jar["sp_session"] = unit_token
    page = text(unit.get(f"/cases/{case_id}/feedback"))
    assert "<h2 id=\"expert-1\">专家1</h2>" in page
    assert "背景部分请补充数据" in page and "成果请量化" in page
    assert "评委1号" not in page and "评委2号" not in page
    keys = re.findall(r'name="reply\.([0-9a-f]{16})"', page)
    assert len(keys) == 2
    assert '<label for="r-1-1">回复专家1第1条意见</label>' in page
    replied = unit.post(f"/cases/{case_id}/feedback", {"csrf_token": unit_csrf, f"reply.{keys[0]}": "已补充 2022 年数据"})
    assert replied.status_code == 303
    page = text(unit.get(f"/cases/{case_id}/feedback"))
    assert "已补充 2022 年数据</textarea>" in page and "回复已保存。" not in page
    status, data = api.as_(unit_token).call("GET", f"/cases/{case_id}/feedback/replies")
    assert status == 200 and data["feedback"][0]["points"][0]["reply"] == "已补充 2022 年数据"
    assert '<a class="button primary" href="/cases/' + case_id + '/edit">' in page

    unit_api = api.as_(unit_token)
    current = unit_api.call("GET", f"/cases/{case_id}")[1]
    revised = {k: current[k] for k in ("category", "recommending_unit", "title", "leader", "contact", "background",
                                       "innovations", "results", "originality_pledge")}
    revised["title"] = "案例1（修改稿）"
    status, after = unit_api.call("PUT", f"/cases/{case_id}", {**revised, "version": current["version"]})
    assert status == 200, after
    page = text(unit.get(f"/cases/{case_id}/versions"))
    assert f'/cases/{case_id}/versions/{after["version"]}">第 {after["version"]} 版（当前版本）' in page
    assert f'/cases/{case_id}/versions/{current["version"]}">第 {current["version"]} 版</a>' in page
    old = text(unit.get(f"/cases/{case_id}/versions/{current['version']}"))
    assert "<h1>案例1</h1>" in old and "当时状态：进入综合评选" in old
    assert "<h1>案例1（修改稿）</h1>" in text(unit.get(f"/cases/{case_id}/versions/{after['version']}"))
    other_unit = Browser(client)
    other_unit.jar["sp_session"] = unit_session(api, tokens[cases[1]])[0]
    assert other_unit.get(f"/cases/{case_id}/feedback").status_code == 403


# -- the live final: draw, scoreboard, QR sheet, timer ----------------------------------------------------

@pytest.fixture
def final(api, clock):
    cases, _ = submitted_cases(api, 4)
    set_status(cases, "advanced")
    clock.set(datetime(2023, 6, 25, 9, 0, tzinfo=CHINA))
    org, session = organiser(api)
    judge_ids = make_judges(org, 5)
    assert org.call("POST", "/admin/stages/final/assignments", {})[0] == 200
    return {"org": org, "cases": cases, "judges": judge_ids, "session": session}


def test_draw_is_reproducible_from_its_seed(final):
    from chalicelib.domain.draw import draw_order
    org = final["org"]
    status, first = org.call("POST", "/admin/stages/final/draw", {"seed": "hall-2023"})
    assert status == 200, first
    order = [o["case_id"] for o in first["draws"]["development"]["order"]]
    assert order == list(draw_order(final["cases"], "hall-2023"))
    assert first["draws"]["development"]["case_ids"] == sorted(final["cases"])
    assert first["draws"]["service"]["order"] == []
    again = org.call("POST", "/admin/stages/final/draw", {"seed": "hall-2023", "category": "development"})[1]
    assert [o["case_id"] for o in again["draws"]["development"]["order"]] == order
    status, shown = org.call("GET", "/admin/stages/final/draw")
    assert status == 200 and shown["draws"]["development"]["seed"] == "hall-2023"
    status, random_draw = org.call("POST", "/admin/stages/final/draw", {"category": "development"})
    seed = random_draw["seed"]
    assert status == 200 and re.fullmatch(r"[0-9a-f]{16}", seed)
    drawn = [o["case_id"] for o in random_draw["draws"]["development"]["order"]]
    assert drawn == list(draw_order(final["cases"], seed))
    assert org.call("POST", "/admin/stages/final/draw", {"seed": "no spaces"})[0] == 400
    assert org.call("POST", "/admin/stages/text_review/draw", {})[0] == 404
    from chalicelib.store.models import AuditEntry
    from chalicelib import bootstrap
    logged = list(AuditEntry.query(f"draw#{bootstrap.competition().id}#final#development"))
    assert [json.loads(e.detail)["seed"] for e in logged] == ["hall-2023", "hall-2023", seed]


def test_scoreboard_shows_who_scored_then_the_totals_and_the_trimmed_mean_after_the_reveal(api, client, final):
    org = final["org"]
    org.call("POST", "/admin/stages/final/draw", {"seed": "board-1"})
    order = [o["case_id"] for o in org.call("GET", "/admin/stages/final/draw")[1]["draws"]["development"]["order"]]
    issued = links(org, "final")
    sessions = {}
    for judge_id, token in issued.items():
        status, s = api.call("POST", "/judge/sessions", {"link": token})
        sessions[judge_id] = api.as_(s["token"])
    first_case = order[0]
    totals = [60, 70, 80, 90]
    for judge_id, total in zip(sorted(sessions)[:4], totals):
        sheet = {"criteria": {"foresight": 25, "practicality": 25, "effectiveness": total - 50}}
        status, saved = sessions[judge_id].call("PUT", f"/judge/cases/{first_case}/score", sheet)
        assert status == 200, saved
    status, board = org.call("GET", "/admin/final/scoreboard?category=development")
    assert status == 200
    assert board["judges"] == ["评委1", "评委2", "评委3", "评委4", "评委5"]
    assert [c["case_id"] for c in board["cases"]] == order
    row = board["cases"][0]
    assert [(j["scored"], j["total"]) for j in row["judges"]] == [(True, None)] * 4 + [(False, None)]
    assert (row["scored"], row["assigned"], row["complete"], row["revealed"], row["score"]) == (4, 5, False, False, None)
    last = sorted(sessions)[4]
    sessions[last].call("PUT", f"/judge/cases/{first_case}/score",
                        {"criteria": {"foresight": 25, "practicality": 25.5, "effectiveness": 35}})
    hall = {"category": "development", "case_id": first_case}
    assert org.call("POST", "/admin/final/live", {**hall, "action": "present"})[0] == 200
    status, board = org.call("POST", "/admin/final/live", {**hall, "action": "reveal"})
    assert status == 200, board
    row = board["cases"][0]
    assert [j["total"] for j in row["judges"]] == [60.0, 70.0, 80.0, 90.0, 85.5]
    assert [j["dropped"] for j in row["judges"]] == ["lowest", None, None, "highest", None]
    assert (row["complete"], row["score"], row["score_text"], row["rank"]) == (True, 78.5, "78.50", 1)  # (70+80+85.5)/3
    assert org.call("GET", "/admin/final/scoreboard?category=nope")[0] == 400

    page_browser = Browser(client)
    page_browser.jar["sp_session"] = final["session"]["token"]
    response = page_browser.get("/admin/final/scoreboard?category=development")
    page = text(response)
    assert response.status_code == 200
    assert 'data-live-source="/admin/final/scoreboard/board?category=development"' in page
    assert '<td class="col-final">78.50</td>' in page and "评委5" in page
    assert "评委1号" not in page and all(j not in page for j in final["judges"])   # judges stay anonymous


def test_organiser_pages_need_an_organiser(client, final, api):
    browser = Browser(client)
    for path in ("/admin/final/timer", "/admin/final/scoreboard", "/admin/final/draw", "/admin/stages/final/links/qr",
                 "/admin/judges/import"):
        response = browser.get(path)
        assert (response.status_code, response.headers.get("Location")) == (303, "/login"), path
    browser.jar["sp_session"] = final["session"]["token"]
    timer = text(browser.get("/admin/final/timer"))
    assert '<p class="timer-display" id="timer-display" role="timer" aria-live="off">8:00</p>' in timer
    assert ">开始</button>" in timer and ">暂停</button>" in timer and ">重置</button>" in timer
    draw_page = browser.get("/admin/final/draw")
    assert draw_page.status_code == 200 and "尚未抽签" in text(draw_page)
    drawn = browser.post("/admin/final/draw", {"csrf_token": final["session"]["csrf_token"], "category": "",
                                               "seed": "from-the-page"})
    assert drawn.status_code == 303
    assert '<code class="seed">from-the-page</code>' in text(browser.get("/admin/final/draw"))


def test_qr_sheet_issues_links_and_renders_one_svg_per_judge(client, final, api):
    browser = Browser(client)
    browser.jar["sp_session"] = final["session"]["token"]
    form = browser.get("/admin/stages/final/links/qr")
    assert form.status_code == 200 and "生成评分链接二维码" in text(form)
    response = browser.post("/admin/stages/final/links/qr", {"csrf_token": final["session"]["csrf_token"]})
    page = text(response)
    assert response.status_code == 200
    assert page.count('<figure class="qr-card"') == 5 and page.count("<svg ") == 5
    assert "评委1号" in page and 'aria-label="评委1号的评分链接二维码"' in page
    assert browser.post("/admin/stages/final/links/qr", {"csrf_token": "wrong"}).status_code == 403


# -- judges from a spreadsheet --------------------------------------------------------------------------

def xlsx(rows, headers=("姓名", "电子邮箱", "手机", "工作单位", "评审类别", "回避单位")) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post_xlsx(client, token, data):
    response = client.http.post("/api/v1/admin/judges/import", body=data,
                                headers={"Content-Type": XLSX, "Authorization": f"Bearer {token}"})
    return response.status_code, json.loads(response.body)


def test_import_with_a_bad_row_imports_nothing(api, client, clock):
    org, session = organiser(api)
    good = ("王专家", "wang@example.org", 13800138000, "深圳大学", "发展提质、服务增效", "深圳市第1局")
    bad = ("李专家", "not-an-email", "", "市委党校", "发展质量", "")
    status, refused = post_xlsx(client, session["token"], xlsx([good, bad, ("", "", "", "", "", ""),
                                                                ("赵专家", "WANG@example.org", "", "", "党建赋能", "")]))
    assert status == 400
    assert refused["error"]["code"] == "invalid" and "未导入任何评委" in refused["error"]["message"]
    assert [(r["row"], r["field"]) for r in refused["error"]["rows"]] == [
        (3, "电子邮箱"), (3, "评审类别"), (5, "电子邮箱"), (5, "工作单位")]
    assert "发展质量" in refused["error"]["rows"][1]["message"]
    assert "与第 2 行的电子邮箱重复" == refused["error"]["rows"][2]["message"]
    assert org.call("GET", "/admin/judges")[1]["judges"] == []

    status, done = post_xlsx(client, session["token"], xlsx([good, ("李专家", "li@example.org", "", "市委党校", "党建赋能", "")]))
    assert status == 201, done
    assert done["imported"] == 2
    judges = sorted(org.call("GET", "/admin/judges")[1]["judges"], key=lambda j: j["email"])
    assert [(j["name"], j["mobile"], j["categories"], j["conflicts"]) for j in judges] == [
        ("李专家", None, ["empowerment"], []),
        ("王专家", "13800138000", ["development", "service"], ["深圳市第1局"])]
    status, twice = post_xlsx(client, session["token"], xlsx([good]))
    assert status == 400 and "已有使用该电子邮箱的评委" in twice["error"]["rows"][0]["message"]
    status, junk = post_xlsx(client, session["token"], b"not a spreadsheet")
    assert status == 400 and "xlsx" in junk["error"]["message"]
    status, headless = post_xlsx(client, session["token"], xlsx([good], headers=("名字", "邮箱")))
    assert status == 400 and "缺少表头" in headless["error"]["message"]
    unit_token = register_unit(api, 9)
    assert post_xlsx(client, unit_token, xlsx([good]))[0] == 403


def test_template_has_the_chinese_headers(api, client, clock):
    from openpyxl import load_workbook
    _, session = organiser(api)
    from tests.browser import followed_download
    data, disposition = followed_download(client.http.get("/admin/judges/template.xlsx",
                                                          headers={"Cookie": f"sp_session={session['token']}"}))
    assert disposition.startswith("attachment; filename*=UTF-8''") and "评委名单导入模板.xlsx" in unquote(disposition)
    book = load_workbook(io.BytesIO(data))
    assert [c.value for c in book["评委名单"][1]] == ["姓名", "电子邮箱", "手机", "工作单位", "评审类别", "回避单位"]
    page = text(client.http.get("/admin/judges/import", headers={"Cookie": f"sp_session={session['token']}"}))
    assert '<label for="f-judge-file">评委名单文件（.xlsx）</label>' in page
