"""审核 over the API: POST /api/v1/admin/cases/{id}/review — each decision, its validation by field, who may,
when, the returned case's own window for corrections, the rejected case's exit, the mail and the audit row;
and that returned and rejected cases are never assigned, ranked, counted or exported as entries."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from chalicelib.store import audit
from tests.conftest import CHINA, case_body, register_unit
from tests.integration.mailbox import bodies, ses_messages
from tests.integration.team import member
from tests.integration.test_judging_api import judges, organiser

AFTER_SUBMISSION = datetime(2023, 6, 10, 9, 0, tzinfo=CHINA)
RESUBMIT_BY = "2023-06-12T18:00:00+08:00"


@pytest.fixture
def world(api, clock):
    """Three units, each with one submitted case (单位1, 单位2, 单位3); submission has closed."""
    units, cases = [], []
    for n in (1, 2, 3):
        unit = api.as_(register_unit(api, n, unit_name=f"单位{n}"))
        status, case = unit.call("POST", "/cases", case_body(recommending_unit=f"单位{n}", title=f"案例{n}"))
        assert status == 201, case
        assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
        units.append(unit)
        cases.append(case["id"])
    clock.set(AFTER_SUBMISSION)
    return {"org": organiser(api), "units": [log_in(api, n) for n in (1, 2, 3)], "cases": cases}


def log_in(api, n: int):
    """A fresh session of unit n (those opened during submission have ended by now)."""
    status, data = api.call("POST", "/sessions", {"username": f"unit{n}", "password": "correct-horse-1"})
    assert status == 200, data
    return api.as_(data["token"])


def review_mails() -> list:
    return [m for m in ses_messages() if "审核结果" in m["Subject"]]


def test_accepting_keeps_the_case_submitted_and_answers_the_case_with_its_review(world):
    org, case_id = world["org"], world["cases"][0]
    status, data = org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "accepted"})
    assert status == 200, data
    assert (data["id"], data["status"], data["status_name"], data["review"]) == (case_id, "submitted", "已提交", {
        "decision": "accepted", "decision_name": "通过", "reason": None, "resubmit_by": None,
        "reviewed_at": "2023-06-10T09:00:00+08:00", "state": "accepted"})


def test_returning_needs_a_reason_and_a_deadline_in_the_future_before_text_review_closes(world):
    org, case_id = world["org"], world["cases"][0]
    path = f"/admin/cases/{case_id}/review"
    answers = [org.call("POST", path, body) for body in (
        {"decision": "returned"},
        {"decision": "returned", "reason": "  ", "resubmit_by": "2023-06-10T08:00:00+08:00"},
        {"decision": "returned", "reason": "请补充成果数据", "resubmit_by": "2023-06-17T09:00:00+08:00"},
        {"decision": "returned", "reason": "请补充成果数据", "resubmit_by": "下周一"},
        {"decision": "rejected"},
        {"decision": "maybe", "reason": "x"},
        {"decision": "rejected", "reason": 5},
        [1, 2],
    )]
    assert [(s, d["error"]["code"], sorted(d["error"]["fields"])) for s, d in answers] == [
        (400, "invalid", ["reason", "resubmit_by"]), (400, "invalid", ["reason", "resubmit_by"]),
        (400, "invalid", ["resubmit_by"]), (400, "invalid", ["resubmit_by"]), (400, "invalid", ["reason"]),
        (400, "invalid", ["decision"]), (400, "invalid", ["reason"]), (400, "invalid", ["body"])]
    assert answers[2][1]["error"]["fields"]["resubmit_by"] == (
        "修改截止时间应早于文本评审截止时间（2023年6月16日 23:59），以便重新提交后仍能审核和评审")
    assert answers[1][1]["error"]["fields"]["resubmit_by"] == "修改截止时间应晚于现在（2023年6月10日 09:00）"
    assert org.call("GET", f"/cases/{case_id}")[1]["review"] is None


def test_a_returned_case_is_edited_and_submitted_again_until_its_deadline_though_submission_is_closed(
        api, world, clock):
    org, unit, case_id = world["org"], world["units"][0], world["cases"][0]
    status, data = org.call("POST", f"/admin/cases/{case_id}/review",
                            {"decision": "returned", "reason": "请补充成果数据", "resubmit_by": RESUBMIT_BY})
    assert status == 200, data
    assert (data["status"], data["status_name"], data["review"]["resubmit_by"]) == (
        "returned", "退回修改", RESUBMIT_BY)
    other = world["units"][1]
    refused = other.call("PUT", f"/cases/{world['cases'][1]}", {**case_body(recommending_unit="单位2"), "version": 1})
    assert (refused[0], refused[1]["error"]["code"]) == (409, "stage_closed")     # only this case's window

    clock.set(datetime(2023, 6, 12, 17, 0, tzinfo=CHINA))
    unit, org = log_in(api, 1), organiser(api)
    current = unit.call("GET", f"/cases/{case_id}")[1]
    status, edited = unit.call("PUT", f"/cases/{case_id}", {
        **case_body(recommending_unit="单位1", title="案例1", results=["成果一：办件时间缩短 40%"]),
        "version": current["version"]})
    assert (status, edited["status"], edited["version"], edited["results"]) == (
        200, "returned", current["version"] + 1, ["成果一：办件时间缩短 40%"])
    status, again = unit.call("POST", f"/cases/{case_id}/submit")
    assert (status, again["status"], again["review"]["state"]) == (200, "submitted", "resubmitted")
    status, data = org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "accepted"})
    assert (status, data["status"], data["review"]["state"]) == (200, "submitted", "accepted")


def test_after_its_deadline_a_returned_case_can_be_neither_edited_nor_submitted(api, world, clock):
    org, case_id = world["org"], world["cases"][0]
    org.call("POST", f"/admin/cases/{case_id}/review",
             {"decision": "returned", "reason": "请补充成果数据", "resubmit_by": RESUBMIT_BY})
    clock.set(datetime(2023, 6, 12, 18, 0, tzinfo=CHINA))
    unit = log_in(api, 1)
    edit = unit.call("PUT", f"/cases/{case_id}", {**case_body(), "version": 1})
    submit = unit.call("POST", f"/cases/{case_id}/submit")
    assert [(s, d["error"]["code"], d["error"]["message"]) for s, d in (edit, submit)] == [
        (409, "stage_closed", "退回修改的截止时间（2023年6月12日 18:00）已过，不能再修改或提交")] * 2
    assert unit.call("GET", f"/cases/{case_id}")[1]["status"] == "returned"


def test_a_rejected_case_cannot_be_submitted_again_nor_reviewed_again(world):
    org, unit, case_id = world["org"], world["units"][0], world["cases"][0]
    status, data = org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "rejected", "reason": "抄袭往年案例"})
    assert (status, data["status"], data["status_name"], data["review"]["reason"]) == (
        200, "rejected", "不予受理", "抄袭往年案例")
    submit = unit.call("POST", f"/cases/{case_id}/submit")
    again = org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "accepted"})
    assert [(s, d["error"]["code"]) for s, d in (submit, again)] == [(409, "conflict"), (409, "not_submitted")]
    assert submit[1]["error"]["message"] == "该案例经审核不予受理，已退出本届比赛，不能再提交（原因：抄袭往年案例）"


def test_review_is_refused_before_submission_closes_after_text_review_closes_and_on_unsubmitted_cases(
        api, world, clock):
    org, case_id = world["org"], world["cases"][0]
    clock.set(datetime(2023, 6, 1, 10, 0, tzinfo=CHINA))
    status, fresh = log_in(api, 1).call("POST", "/cases", case_body())
    org = organiser(api)
    early = org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "accepted"})
    clock.set(AFTER_SUBMISSION)
    org = organiser(api)
    unsubmitted = org.call("POST", f"/admin/cases/{fresh['id']}/review", {"decision": "accepted"})
    missing = org.call("POST", "/admin/cases/no-such-case/review", {"decision": "accepted"})
    clock.set(datetime(2023, 6, 17, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    late = org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "accepted"})
    assert [(s, d["error"]["code"]) for s, d in (early, unsubmitted, missing, late)] == [
        (409, "stage_closed"), (409, "not_submitted"), (404, "not_found"), (409, "stage_closed")]


def test_a_viewer_may_not_review_a_unit_may_not_either_and_staff_may(api, world):
    org, case_id = world["org"], world["cases"][0]
    viewer = api.as_(member(api, org, "viewer1", "viewer"))
    staff = api.as_(member(api, org, "staff1", "staff"))
    unit = world["units"][0]
    answers = [who.call("POST", f"/admin/cases/{case_id}/review", {"decision": "accepted"})[0]
               for who in (viewer, unit, api, staff)]
    assert answers == [403, 403, 401, 200]


def test_every_decision_is_audited_with_who_what_when_and_before_after(world, clock):
    org, case_id = world["org"], world["cases"][0]
    org.call("POST", f"/admin/cases/{case_id}/review",
             {"decision": "returned", "reason": "请补充成果数据", "resubmit_by": RESUBMIT_BY})
    rows = [e for e in audit.history(f"case#{case_id}") if e.action == "case.review"]
    deadline = datetime(2023, 6, 12, 18, 0, tzinfo=CHINA).timestamp()
    after = {"status": "returned", "decision": "returned", "reason": "请补充成果数据", "resubmit_by": deadline}
    before = {"status": "submitted", "decision": None, "reason": None, "resubmit_by": None}
    assert [(e.actor, e.at, e.before_digest, e.after_digest, json.loads(e.detail)) for e in rows] == [
        ("organiser:boss", AFTER_SUBMISSION.timestamp(), audit.digest(before), audit.digest(after), after)]


def test_the_unit_is_mailed_each_decision_once_in_chinese_with_the_reason_and_the_deadline(world, clock):
    org, first, second = world["org"], world["cases"][0], world["cases"][1]
    org.call("POST", f"/admin/cases/{first}/review",
             {"decision": "returned", "reason": "请补充成果数据", "resubmit_by": RESUBMIT_BY})
    org.call("POST", f"/admin/cases/{second}/review", {"decision": "rejected", "reason": "抄袭往年案例"})
    org.call("POST", f"/admin/cases/{second}/review", {"decision": "rejected", "reason": "抄袭往年案例"})   # 409
    mails = review_mails()
    assert [(m["To"], m["Subject"]) for m in mails] == [
        ("u1@example.gov.cn", "【2023年深圳市“党建杯”机关创新创优竞赛】案例审核结果：退回修改"),
        ("u2@example.gov.cn", "【2023年深圳市“党建杯”机关创新创优竞赛】案例审核结果：不予受理")]
    returned_text, returned_html = bodies(mails[0])
    rejected_text, _ = bodies(mails[1])
    assert "审核结果：退回修改\n原因：请补充成果数据\n" in returned_text
    assert "并于 2023年6月12日 18:00 前重新提交" in returned_text
    assert f"/cases/{first}/edit" in returned_html and "请补充成果数据" in returned_html
    assert "审核结果：不予受理\n原因：抄袭往年案例\n" in rejected_text and "也不能再次提交" in rejected_text


def test_cases_not_reviewed_are_assigned_as_before_and_returned_or_rejected_ones_never(api, world, clock):
    org = world["org"]
    accepted, returned, rejected = world["cases"]
    org.call("POST", f"/admin/cases/{accepted}/review", {"decision": "accepted"})
    org.call("POST", f"/admin/cases/{returned}/review",
             {"decision": "returned", "reason": "请补充", "resubmit_by": RESUBMIT_BY})
    org.call("POST", f"/admin/cases/{rejected}/review", {"decision": "rejected", "reason": "抄袭"})
    clock.set(datetime(2023, 6, 13, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge_ids = judges(org, 3)
    status, plan = org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 2})
    assert (status, plan["assignments"]) == (200, 2)
    slots = org.call("GET", "/admin/stages/text_review/assignments")[1]["assignments"]
    assert {s["case_id"] for s in slots} == {accepted}
    override = org.call("PUT", f"/admin/stages/text_review/assignments/{judge_ids[0]}/{rejected}")
    assert (override[0], sorted(override[1]["error"]["fields"])) == (400, ["case_id"])


def test_a_case_with_text_review_assignments_is_not_returned_until_they_are_removed(world, clock):
    org, case_id = world["org"], world["cases"][0]
    judges(org, 2)
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    status, data = org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "rejected", "reason": "抄袭"})
    assert (status, data["error"]["code"]) == (409, "conflict")
    assert org.call("POST", f"/admin/cases/{case_id}/review", {"decision": "accepted"})[0] == 200


def test_returned_and_rejected_cases_are_not_ranked_counted_or_exported_as_entries(api, world, clock):
    org = world["org"]
    accepted, returned, rejected = world["cases"]
    org.call("POST", f"/admin/cases/{returned}/review",
             {"decision": "returned", "reason": "请补充", "resubmit_by": RESUBMIT_BY})
    org.call("POST", f"/admin/cases/{rejected}/review", {"decision": "rejected", "reason": "抄袭"})
    clock.set(datetime(2023, 6, 13, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    ranking = org.call("GET", "/admin/stages/text_review/ranking")[1]
    assert [e["case_id"] for e in ranking["categories"]["development"]] == [accepted]
    units = {u["unit"]: (u["cases"], u["submitted"], u["score"])
             for u in org.call("GET", "/admin/organisation-awards")[1]["units"]}
    assert units == {"单位1": (1, 1, 1), "单位2": (1, 0, 0), "单位3": (1, 0, 0)}
    from chalicelib.services import exports
    from chalicelib import bootstrap
    book = exports.results_book(bootstrap.deps().judging, bootstrap.competition(), bootstrap.deps().cases, stages=bootstrap.deps().stages, result_repo=bootstrap.deps().results)
    assert [[row.title for row in rows] for _, rows in book.sheets] == [["案例1"], [], []]
    registrations = exports.registrations_book(bootstrap.competition(), bootstrap.deps().accounts, bootstrap.deps().cases)
    assert [(a.unit, a.cases, a.entered) for a in registrations.accounts] == [
        ("单位1", 1, 1), ("单位2", 1, 0), ("单位3", 1, 0)]
    assert [c.status for c in registrations.cases] == ["已提交", "退回修改", "不予受理"]


def test_closing_text_review_leaves_returned_and_rejected_cases_out(api, world, clock):
    org = world["org"]
    accepted, returned, rejected = world["cases"]
    org.call("POST", f"/admin/cases/{returned}/review",
             {"decision": "returned", "reason": "请补充", "resubmit_by": RESUBMIT_BY})
    org.call("POST", f"/admin/cases/{rejected}/review", {"decision": "rejected", "reason": "抄袭"})
    clock.set(datetime(2023, 6, 13, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    statuses = [org.call("GET", f"/cases/{c}")[1]["status"] for c in world["cases"]]
    assert statuses == ["not_advanced", "returned", "rejected"]     # (nobody scored the first)
