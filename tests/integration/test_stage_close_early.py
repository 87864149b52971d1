"""Closing a stage before its window ends: the window ends at that moment (closes_at = the time of closing, in
the close's own transaction, audited with the window before and after), so the next stage may open at once —
for every stage, over the API and from the console; the schedule's closes leave the window alone; closing
again changes nothing; every reader of the window shows the new end."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from tests.browser import Browser, text
from tests.conftest import CHINA
from tests.integration.test_admin_pages import log_in, submit
from tests.integration.test_judge_pages import links, make_judges, start
from tests.integration.test_judging_api import organiser

STAGES = ("submission", "text_review", "coaching", "final", "provincial")
INSIDE = {   # a moment inside each stage's 2023 window (the config's defaults)
    "submission": datetime(2023, 6, 1, 10, 0, 0, tzinfo=CHINA),
    "text_review": datetime(2023, 6, 12, 9, 30, 15, tzinfo=CHINA),
    "coaching": datetime(2023, 6, 20, 15, 0, 0, tzinfo=CHINA),
    "final": datetime(2023, 6, 25, 11, 45, 30, tzinfo=CHINA),
    "provincial": datetime(2023, 7, 15, 9, 0, 0, tzinfo=CHINA),
}
CONFIG = {
    "submission": ("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00"),
    "text_review": ("2023-06-10T00:00:00+08:00", "2023-06-16T23:59:59+08:00"),
    "coaching": ("2023-06-17T00:00:00+08:00", "2023-06-23T23:59:59+08:00"),
    "final": ("2023-06-24T00:00:00+08:00", "2023-07-10T23:59:59+08:00"),
    "provincial": ("2023-07-11T00:00:00+08:00", "2023-07-31T23:59:59+08:00"),
}
NAMES = {"submission": "文本申报", "text_review": "文本评审", "coaching": "专家辅导", "final": "综合评选",
         "provincial": "省赛准备"}


def iso(moment: datetime) -> str:
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def chinese(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}"


def public_stages(api) -> dict[str, dict]:
    status, body = api.call("GET", "/competition")
    assert status == 200
    return {s["id"]: s for s in body["stages"]}


def closes(stage: str) -> list[dict]:
    from chalicelib.store import audit
    return [json.loads(e.detail) for e in audit.history(f"stage#shenzhen-2023#{stage}") if e.action == "stage.close"]


def window(stage: str, status: str, closes_at: str | None = None) -> dict:
    opens_at, default_closes_at = CONFIG[stage]
    return {"id": stage, "name": NAMES[stage], "opens_at": opens_at, "closes_at": closes_at or default_closes_at,
            "status": status}


@pytest.mark.parametrize("stage", STAGES)
def test_closing_a_stage_early_ends_its_window_then_and_the_next_stage_opens_at_once(api, clock, stage):
    moment = INSIDE[stage]
    clock.set(moment)
    org = organiser(api)
    assert public_stages(api)[stage] == window(stage, "open")

    assert org.call("POST", f"/admin/stages/{stage}/close") == (200, {"stage": stage, "status": "closed"})

    seen = public_stages(api)
    assert seen[stage] == window(stage, "closed", iso(moment))
    assert closes(stage) == [{"before": {"opens_at": CONFIG[stage][0], "closes_at": CONFIG[stage][1]},
                              "after": {"opens_at": CONFIG[stage][0], "closes_at": iso(moment)},
                              "ended_early": True}]
    if stage == "final":   # its window passed: the final's close closed it first, its window as it was
        assert seen["text_review"] == window("text_review", "closed")
        assert closes("text_review")[0]["ended_early"] is False
    following = STAGES[STAGES.index(stage) + 1:]
    for later in following[1:]:
        assert seen[later] == window(later, "pending")
    if following:
        nxt = following[0]
        overlapping = org.call("PUT", f"/admin/stages/{nxt}", {"opens_at": iso(moment - timedelta(seconds=1)),
                                                             "closes_at": CONFIG[nxt][1]})
        assert overlapping[0] == 400 and overlapping[1]["error"]["fields"] == {"opens_at": (
            f"{NAMES[nxt]}的开始时间必须晚于{NAMES[stage]}的截止时间（{chinese(moment)}），阶段时间不能重叠")}
        opens = moment + timedelta(seconds=1)
        status, moved = org.call("PUT", f"/admin/stages/{nxt}", {"opens_at": iso(opens), "closes_at": CONFIG[nxt][1]})
        assert status == 200, moved
        clock.set(opens)
        assert public_stages(api)[nxt] == {**window(nxt, "open"), "opens_at": iso(opens)}


@pytest.mark.parametrize("stage", STAGES)
def test_closing_again_is_idempotent_and_changes_nothing(api, clock, stage):
    clock.set(INSIDE[stage])
    org = organiser(api)
    assert org.call("POST", f"/admin/stages/{stage}/close")[0] == 200
    seen = public_stages(api)
    clock.set(INSIDE[stage] + timedelta(hours=2))
    org = organiser(api)          # an organiser's session ends after 30 idle minutes
    assert org.call("POST", f"/admin/stages/{stage}/close") == (200, {"stage": stage, "status": "closed"})
    assert public_stages(api) == seen and seen[stage]["closes_at"] == iso(INSIDE[stage])
    assert len(closes(stage)) == 1


def test_the_schedules_close_after_the_window_leaves_the_window_as_it_was(api, clock):
    from chalicelib.jobs import schedules
    clock.set(datetime(2023, 6, 17, 0, 5, tzinfo=CHINA))
    assert schedules.close_due_stages() == ["text_review"]
    assert public_stages(api)["text_review"] == window("text_review", "closed")
    window_then = {"opens_at": CONFIG["text_review"][0], "closes_at": CONFIG["text_review"][1]}
    assert closes("text_review") == [{"before": window_then, "after": window_then, "ended_early": False}]


def test_a_close_after_the_window_passed_keeps_the_window(api, clock):
    clock.set(datetime(2023, 6, 24, 8, 0, tzinfo=CHINA))
    org = organiser(api)
    assert org.call("POST", "/admin/stages/coaching/close")[0] == 200
    assert public_stages(api)["coaching"] == window("coaching", "closed")
    assert closes("coaching")[0]["ended_early"] is False


def test_a_window_moved_between_the_read_and_the_close_is_read_again(api, clock, monkeypatch):
    """The close's condition names the window it read; a window moved meanwhile is read afresh."""
    from chalicelib.store import stages as store
    moment = INSIDE["text_review"]
    clock.set(moment)
    org = organiser(api)
    read = store._read
    moved = []

    def read_then_move(competition_id: str, stage_id: str):
        row = read(competition_id, stage_id)
        if not moved:    # another organiser extends the window just after this read
            moved.append(True)
            later = datetime(2023, 6, 16, 20, 0, tzinfo=CHINA).timestamp()
            store.move_window(competition_id, stage_id, row.opens_at, later, "other", moment.timestamp(), before={})
        return row

    monkeypatch.setattr(store, "_read", read_then_move)
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    assert public_stages(api)["text_review"]["closes_at"] == iso(moment)
    assert closes("text_review") == [{"before": {"opens_at": CONFIG["text_review"][0],
                                                 "closes_at": "2023-06-16T20:00:00+08:00"},
                                      "after": {"opens_at": CONFIG["text_review"][0], "closes_at": iso(moment)},
                                      "ended_early": True}]


def test_every_reader_of_the_window_shows_the_new_end(api, client, clock):
    """The public stages, the home page, the dashboard, the judge's pages and the judges' reminders."""
    from chalicelib import bootstrap
    from chalicelib.services import notifications
    submit(api, 1, title="案例甲", recommending_unit="单位1")
    clock.set(datetime(2023, 6, 16, 9, 30, 15, tzinfo=CHINA))   # the last day: the judges' reminders are due
    org = organiser(api)
    judge_ids = make_judges(org, 1)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    judge = Browser(client)
    assert start(judge, links(org, "text_review")[judge_ids[0]]).status_code == 303

    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    shown = re.compile(r"2023(-06-|年6月)16日? 09:30")          # the pages' date format, either spelling
    assert public_stages(api)["text_review"]["closes_at"] == "2023-06-16T09:30:15+08:00"
    home = text(client.http.get("/"))
    row = re.search(r'<th scope="row">文本评审</th>(.*?)</tr>', home, re.S).group(1)
    assert shown.search(row) and "23:59" not in row
    console, _ = log_in(client)
    dashboard = text(console.get("/admin"))
    row = re.search(r'<th scope="row">文本评审</th>(.*?)</tr>', dashboard, re.S).group(1)
    assert shown.search(row) and "23:59" not in row
    judge_page = text(judge.get("/judge"))
    assert "文本评审已截止，评分已锁定，只能查看。" in judge_page and "截止时间：" not in judge_page
    deps = bootstrap.deps()
    counts = notifications.send_reminders(deps.judging, bootstrap.competition(), deps.ports(), bootstrap.now(),
                                          deps.cases, deps.mail, stages=deps.stages)
    assert counts["judge_reminder"] == 0          # the stage is over: no "one day left" mail


def test_a_unit_is_told_the_new_end_of_submission(api, clock):
    from tests.conftest import case_body, register_unit
    unit = api.as_(register_unit(api, 1))
    status, case = unit.call("POST", "/cases", case_body())
    assert status == 201
    organiser(api).call("POST", "/admin/stages/submission/close")
    status, body = unit.call("POST", f"/cases/{case['id']}/submit")
    assert (status, body["error"]["code"]) == (409, "stage_closed")
    assert re.search(r"文本申报已于 ?2023(-06-01T|年6月1日 )10:00", body["error"]["message"])


def test_the_console_closes_early_then_opens_the_next_stage_at_once(client, clock):
    moment = INSIDE["text_review"]
    clock.set(moment)
    browser, token = log_in(client)
    closed = browser.post("/admin/stages/text_review/close", {"csrf_token": token, "confirm": "yes"})
    assert closed.headers["Location"] == "/admin/stages?done=closed"
    page = text(browser.get("/admin/stages"))
    assert '<button type="submit" class="primary">立即开始专家辅导</button>' in page
    assert "立即开始综合评选" not in page                      # the stage before it is still to run
    no_csrf = browser.post("/admin/stages/coaching/open", {})
    assert no_csrf.status_code == 403
    opened = browser.post("/admin/stages/coaching/open", {"csrf_token": token})
    assert opened.headers["Location"] == "/admin/stages?done=opened"
    from tests.conftest import Api
    seen = public_stages(Api(client))
    assert seen["text_review"]["closes_at"] == iso(moment)
    assert seen["coaching"] == {**window("coaching", "pending"), "opens_at": iso(moment + timedelta(seconds=1))}
    clock.set(moment + timedelta(seconds=1))
    assert public_stages(Api(client))["coaching"]["status"] == "open"
    again = browser.post("/admin/stages/coaching/open", {"csrf_token": token})
    assert again.status_code == 409 and "专家辅导正在进行，无需立即开始" in text(again)


def test_the_console_form_moves_the_next_stage_to_open_right_after_an_early_close(client, clock):
    moment = INSIDE["text_review"]
    clock.set(moment)
    browser, token = log_in(client)
    assert browser.post("/admin/stages/text_review/close", {"csrf_token": token, "confirm": "yes"}).status_code == 303
    clock.set(moment + timedelta(minutes=1))
    typed = (moment + timedelta(seconds=45)).strftime("%Y-%m-%dT%H:%M:%S")
    moved = browser.post("/admin/stages/coaching/window", {"csrf_token": token, "opens_at": typed,
                                                           "closes_at": "2023-06-23T23:59:59"})
    assert moved.headers["Location"] == "/admin/stages?done=moved"
    from tests.conftest import Api
    assert public_stages(Api(client))["coaching"]["status"] == "open"


def test_the_coaching_feedback_mail_after_an_early_close_names_the_new_end(api, clock):
    """The feedback notices run for a grace period after coaching ends: they name the end it really had."""
    from app import send_reminders
    from scripts.local_jobs import scheduled_event
    from tests.integration.mailbox import bodies, ses_messages
    from tests.integration.test_judge_pages import set_status
    case_id = submit(api, 1, title="辅导案例")
    set_status([case_id], "advanced")
    clock.set(INSIDE["coaching"])
    org = organiser(api)
    coach = make_judges(org, 1)[0]
    assert org.call("POST", "/admin/stages/coaching/assignments", {})[0] == 200
    status, session = api.call("POST", "/judge/sessions", {"link": links(org, "coaching")[coach]})
    assert status == 200
    assert api.as_(session["token"]).call("PUT", f"/judge/cases/{case_id}/feedback", {"points": ["补充数据"]})[0] == 200
    assert org.call("POST", "/admin/stages/coaching/close")[0] == 200
    later = INSIDE["coaching"] + timedelta(minutes=30)
    clock.set(later)
    assert send_reminders(scheduled_event("send_reminders", later), None)["feedback_available"] == 1
    mail = [m for m in ses_messages() if "专家辅导意见已发布" in m["Subject"]]
    assert len(mail) == 1
    assert re.search(r"专家辅导阶段截止（2023年0?6月20日 15:00）", bodies(mail[0])[0])
