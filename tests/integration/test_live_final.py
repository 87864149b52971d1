"""The live final in the hall (现场控制) through chalice's test client (moto): who may drive it, which case may
present, 亮分 rules, the server-timed presentation, ranks over the revealed cases, a final judge's list in the
drawn order and a finalist's slot on /cases."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from tests.browser import Browser, csrf_of, text
from tests.conftest import CHINA
from tests.integration.test_judge_pages import links, make_judges, organiser, set_status, submitted_cases

HALL = datetime(2023, 6, 28, 9, 0, tzinfo=CHINA)
ORGANISER_ACTOR = "organiser:boss"


@pytest.fixture
def hall(api, clock):
    """Four development finalists in a drawn order, five judges (two of them also on the service panel), and
    each judge's scoring session."""
    cases, unit_names = submitted_cases(api, 5)
    set_status(cases[:4], "advanced")
    set_status(cases[4:], "not_advanced")
    clock.set(HALL)
    org, session = organiser(api)
    judges = make_judges(org, 5)
    assert org.call("POST", "/admin/stages/final/assignments", {})[0] == 200
    status, drawn = org.call("POST", "/admin/stages/final/draw", {"seed": "hall-2023", "category": "development"})
    assert status == 200, drawn
    order = [o["case_id"] for o in drawn["draws"]["development"]["order"]]
    judge_sessions = {}
    for judge_id, token in links(org, "final").items():
        status, opened = api.call("POST", "/judge/sessions", {"link": token})
        assert status == 200, opened
        judge_sessions[judge_id] = (api.as_(opened["token"]), opened["token"])
    return {"org": org, "session": session, "cases": cases[:4], "not_advanced": cases[4], "order": order, "judges": sorted(judges),
            "judge_sessions": judge_sessions, "units": unit_names}


def act(hall, action, **body):
    return hall["org"].call("POST", "/admin/final/live", {"category": "development", "action": action, **body})


def score(hall, judge_id, case_id, total):
    sheet = {"criteria": {"foresight": 25, "practicality": 25, "effectiveness": total - 50}}
    status, saved = hall["judge_sessions"][judge_id][0].call("PUT", f"/judge/cases/{case_id}/score", sheet)
    assert status == 200, saved


def hall_actions(competition_id: str, category: str = "development") -> list[tuple[str, str]]:
    from chalicelib.store.models import AuditEntry
    return [(row.action, row.actor) for row in AuditEntry.query(f"live#{competition_id}#final#{category}")]


def test_only_an_organiser_drives_the_hall(api, hall):
    body = {"category": "development", "action": "present", "case_id": hall["order"][0]}
    assert api.call("POST", "/admin/final/live", body)[0] == 401
    unit_token = api.call("POST", "/sessions", {"username": hall["units"][hall["cases"][0]],
                                                "password": "correct-horse-1"})[1]["token"]
    assert api.as_(unit_token).call("POST", "/admin/final/live", body)[0] == 403
    judge = hall["judge_sessions"][hall["judges"][0]][0]
    status, refused = judge.call("POST", "/admin/final/live", body)
    assert (status, refused["error"]["code"]) == (403, "forbidden")
    assert judge.call("GET", "/admin/final/scoreboard?category=development")[0] == 403
    from chalicelib import bootstrap
    assert hall_actions(bootstrap.competition().id) == []


def test_the_presenting_case_must_be_a_finalist_of_that_category(api, hall):
    status, refused = act(hall, "present", case_id=hall["not_advanced"])
    assert (status, refused["error"]["code"], refused["error"]["fields"]) == (
        400, "invalid", {"case_id": "不是本类别进入综合评选的案例"})
    status, refused = hall["org"].call("POST", "/admin/final/live",
                                       {"category": "service", "action": "present", "case_id": hall["order"][0]})
    assert (status, refused["error"]["fields"]) == (400, {"case_id": "不是本类别进入综合评选的案例"})
    assert act(hall, "present")[1]["error"]["fields"] == {"case_id": "请选择案例"}
    assert hall["org"].call("POST", "/admin/final/live", {"action": "present", "category": "nope", "case_id": "x"})[0] == 400
    status, refused = act(hall, "launch", case_id=hall["order"][0])
    assert (status, refused["error"]["fields"]) == (400, {"action": "没有这个现场操作"})
    status, board = act(hall, "present", case_id=hall["order"][1])
    assert status == 200
    assert (board["presenting"]["case_id"], board["presenting"]["position"]) == (hall["order"][1], 2)
    assert [c["presenting"] for c in board["cases"]] == [False, True, False, False]


def test_reveal_only_the_presenting_case_and_only_once_it_has_a_score(hall, clock):
    first, second = hall["order"][:2]
    status, refused = act(hall, "reveal", case_id=first)
    assert (status, refused["error"]["code"]) == (409, "conflict")
    act(hall, "present", case_id=first)
    status, refused = act(hall, "reveal", case_id=first)
    assert (status, refused["error"]["message"]) == (409, "还没有评委为该案例评分，没有可亮的分数")
    score(hall, hall["judges"][0], second, 75)
    status, refused = act(hall, "reveal", case_id=second)
    assert (status, refused["error"]["message"]) == (409, "只能为现在展示的案例亮分（页面可能已过期，请刷新）")
    score(hall, hall["judges"][2], first, 82)
    status, board = act(hall, "reveal", case_id=first)
    assert status == 200
    row = board["cases"][0]
    assert (row["revealed"], row["scored"], row["assigned"], row["score_text"], row["rank"]) == (True, 1, 5, "82.00", 1)
    assert [j["total"] for j in row["judges"]] == [None, None, 82.0, None, None]
    assert [j["dropped"] for j in row["judges"]] == [None] * 5          # fewer than 5 scores: nothing dropped
    assert board["cases"][1]["judges"][0]["total"] is None             # scored, not revealed: hidden
    assert act(hall, "reveal", case_id=first)[0] == 200                # again: nothing changes
    score(hall, hall["judges"][4], first, 90)                          # a late score shows once it arrives
    row = hall["org"].call("GET", "/admin/final/scoreboard?category=development")[1]["cases"][0]
    assert ([j["total"] for j in row["judges"]], row["score_text"]) == ([None, None, 82.0, None, 90.0], "86.00")
    from chalicelib import bootstrap
    assert hall_actions(bootstrap.competition().id) == [("final.present", ORGANISER_ACTOR), ("final.reveal", ORGANISER_ACTOR)]


def test_the_presentation_timer_runs_on_the_server(hall, clock):
    status, refused = act(hall, "timer_start")
    assert (status, refused["error"]["message"]) == (409, "请先选择现在展示的案例，再开始计时")
    act(hall, "present", case_id=hall["order"][0])
    board = act(hall, "timer_start")[1]
    assert board["timer"] == {"total_seconds": 480, "warning_seconds": 60, "elapsed_seconds": 0.0, "started": True,
                              "running": True}
    clock.set(HALL + timedelta(minutes=8, seconds=15))
    board = act(hall, "timer_stop")[1]
    assert (board["timer"]["elapsed_seconds"], board["timer"]["running"]) == (495.0, False)
    clock.set(HALL + timedelta(minutes=20))
    assert hall["org"].call("GET", "/admin/final/scoreboard?category=development")[1]["timer"]["elapsed_seconds"] == 495.0
    assert act(hall, "timer_stop")[1]["error"]["message"] == "计时没有在进行，无需停止"
    board = act(hall, "present", case_id=hall["order"][1])[1]           # the next case starts with a fresh timer
    assert (board["timer"]["started"], board["timer"]["elapsed_seconds"]) == (False, 0.0)


def test_ranks_and_aggregates_over_the_revealed_cases_come_from_the_ranking_rules(hall):
    from chalicelib import bootstrap
    from chalicelib.domain import ranking
    order, judges = hall["order"], hall["judges"]
    sheets = {order[0]: [70, 72, 74, 76, 90], order[1]: [80, 81, 82, 83, 84], order[2]: [60, 61, 62, 63, 64]}
    for case_id, totals in sheets.items():
        for judge_id, total in zip(judges, totals):
            score(hall, judge_id, case_id, total)
        act(hall, "present", case_id=case_id)
        board = act(hall, "reveal", case_id=case_id)[1]
    settings = ranking.from_config(bootstrap.competition().raw, "final")
    scores = {cid: [ranking.JudgeScore(j, cid, {"foresight": 250, "practicality": 250, "effectiveness": (t - 50) * 10})
                    for j, t in zip(judges, totals)] for cid, totals in sheets.items()}
    expected = {r.case_id: r for r in settings.rank(scores, list(sheets))}
    rows = {r["case_id"]: r for r in board["cases"]}
    assert [(rows[c]["rank"], rows[c]["score"]) for c in order[:3]] == [
        (expected[c].rank, ranking.score_display(expected[c].aggregate)) for c in order[:3]]
    assert [(rows[c]["rank"], rows[c]["score_text"]) for c in order[:3]] == [(2, "74.00"), (1, "82.00"), (3, "62.00")]
    assert [j["dropped"] for j in rows[order[0]]["judges"]] == ["lowest", None, None, None, "highest"]
    assert (rows[order[3]]["revealed"], rows[order[3]]["rank"], rows[order[3]]["score"]) == (False, None, None)
    assert board["revealed_count"] == 3


def test_a_stale_change_is_refused_not_overwritten(hall):
    from chalicelib import bootstrap
    from chalicelib.domain.errors import Conflict
    from chalicelib.store import final as store
    act(hall, "present", case_id=hall["order"][0])
    with pytest.raises(Conflict):
        store.save_live(bootstrap.competition().id, "development", "final.present", {"presenting": hall["order"][1]},
                        None, 0, "organiser:someone", 1.0)
    board = hall["org"].call("GET", "/admin/final/scoreboard?category=development")[1]
    assert board["presenting"]["case_id"] == hall["order"][0]


def test_a_final_judge_sees_the_drawn_order_with_the_presenting_case_on_top(client, hall):
    judge_id = hall["judges"][0]
    judge_api, judge_token = hall["judge_sessions"][judge_id]
    phone = Browser(client)
    phone.jar["sp_session"] = judge_token
    page = text(phone.get("/judge"))
    assert re.findall(r'<li class="judge-case[^"]*" data-case-id="([^"]+)"', page) == hall["order"]
    assert "已评 0 / 4" in page and "现在展示" not in page
    before = judge_api.call("GET", "/judge/final/live")[1]
    assert before == {"signature": "development:"}

    score(hall, judge_id, hall["order"][1], 80)
    act(hall, "present", case_id=hall["order"][2])
    page = text(phone.get("/judge"))
    shown = re.findall(r'<li class="judge-case([^"]*)" data-case-id="([^"]+)"', page)
    assert [cid for _, cid in shown] == [hall["order"][2], hall["order"][0], hall["order"][1], hall["order"][3]]
    assert [cls.strip() for cls, _ in shown] == ["is-presenting", "", "is-scored", ""]
    assert '<span class="badge badge-now">现在展示</span>' in page and "已评 1 / 4" in page
    assert "第 3 个展示 · 发展提质" in page
    assert judge_api.call("GET", "/judge/final/live")[1] == {"signature": f"development:{hall['order'][2]}"}
    assert f'data-signature="development:{hall["order"][2]}"' in page
    assert hall["org"].call("GET", "/judge/final/live")[0] == 401


def test_finalists_see_their_presentation_order_and_time_on_their_cases(api, client, hall):
    org = hall["org"]
    assert act(hall, "schedule", starts_at="2023-06-28T09:30")[0] == 200
    status, refused = act(hall, "schedule", starts_at="明天上午")
    assert (status, refused["error"]["fields"]) == (400, {"starts_at": "请填写正确的开始时间，例如 2023-06-28 09:00"})
    third = hall["order"][2]
    token = api.call("POST", "/sessions", {"username": hall["units"][third], "password": "correct-horse-1"})[1]["token"]
    unit = Browser(client)
    unit.jar["sp_session"] = token
    page = text(unit.get("/cases"))
    assert "综合评选现场展示：发展提质第 3 个展示（共 4 个），预计 2023年6月28日 09:50 开始，展示时间不超过 8 分钟。" in page
    assert act(hall, "schedule", starts_at="")[0] == 200
    page = text(unit.get("/cases"))
    assert "综合评选现场展示：发展提质第 3 个展示（共 4 个），展示时间不超过 8 分钟。" in page
    assert org.call("GET", "/admin/final/scoreboard?category=development")[1]["starts_at"] is None


def test_the_control_page_drives_the_hall_with_forms(client, hall):
    console = Browser(client)
    console.jar["sp_session"] = hall["session"]["token"]
    page = text(console.get("/admin/final/control?category=development"))
    assert '<label for="f-present-case">选择现在展示的案例</label>' in page
    assert '<a href="/admin/final/control" aria-current="page">综合评选现场</a>' in page   # the console menu
    assert ">计时开始</button>" in page and ">亮分</button>" in page and "尚未选择现在展示的案例" in page
    csrf = csrf_of(page)
    form = {"csrf_token": csrf, "category": "development", "action": "present", "case_id": hall["order"][0]}
    done = console.post("/admin/final/control", form)
    assert (done.status_code, done.headers["Location"]) == (303, "/admin/final/control?category=development&done=present")
    page = text(console.get(done.headers["Location"]))
    assert "已设为现在展示的案例。" in page and "已评分 0 / 5" in page and "第 1 个展示（共 4 个）" in page
    refused = console.post("/admin/final/control", {**form, "action": "reveal"})
    assert refused.status_code == 409 and "还没有评委为该案例评分，没有可亮的分数" in text(refused)
    assert console.post("/admin/final/control", {**form, "csrf_token": "wrong"}).status_code == 403
    status_part = text(console.get("/admin/final/control/status?category=development"))
    assert "<html" not in status_part and "已评分 0 / 5" in status_part
    assert console.get("/admin/final/control?category=nope").status_code == 404
    board = text(console.get("/admin/final/scoreboard/board?category=development"))
    assert "现在展示 · 第 1 号" in board and "评分 0 / 5" in board and "<html" not in board


def test_the_timer_and_draw_pages_keep_the_console_menu(client, hall):
    console = Browser(client)
    console.jar["sp_session"] = hall["session"]["token"]
    for path in ("/admin/final/timer", "/admin/final/draw", "/admin/final/control"):
        page = text(console.get(path))
        assert '<nav class="admin-nav" aria-label="管理台导航">' in page, path
    assert "展示时间不超过 8 分钟" in text(console.get("/admin/final/timer"))
    anonymous = Browser(client)
    for path in ("/admin/final/control", "/admin/final/control/status", "/admin/final/scoreboard/board"):
        assert anonymous.get(path).status_code == 303, path
    assert json.loads(client.http.get("/api/v1/judge/final/live").body)["error"]["code"] == "unauthenticated"


def test_a_category_longer_than_one_screen_pages_through(hall):
    """15 rows fit one 1080 px screen; longer categories (a tie at the cut) are split into pages for final.js."""
    from chalicelib.web.templating import render
    board = hall["org"].call("GET", "/admin/final/scoreboard?category=development")[1]
    fragment = render("pages/judge/_board.html", board=board, page_rows=3)
    assert '<div class="board-live" data-pages="2">' in fragment
    assert re.findall(r'data-page="(\d)"', fragment) == ["0", "0", "0", "1"]
    assert '<p class="board-page" data-board-page>第 1 / 2 页</p>' in fragment
    assert "data-board-page" not in render("pages/judge/_board.html", board=board, page_rows=15)
