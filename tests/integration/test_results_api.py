"""Closing stages over the API: ranking, advancement (ties at the cut), prizes, honors, award mail."""
from __future__ import annotations

from datetime import datetime

from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_judging_api import judges, organiser

CRITERIA = ("foresight", "practicality", "effectiveness")


def _cases(api, count):
    ids = []
    for n in range(1, count + 1):
        unit = api.as_(register_unit(api, n, unit_name=f"单位{n}"))
        leader = {"name": f"牵头人{n}", "position": "科员", "office_phone": "88134324", "mobile": f"139{n:08d}",
                  "gender": "female" if n % 2 else "male", "rank_level": "section_or_below",
                  "birth_date": "1990-01-01"}
        status, case = unit.call("POST", "/cases", case_body(recommending_unit=f"单位{n}", title=f"案例{n}",
                                                             leader=leader))
        assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
        ids.append(case["id"])
    return ids


def _score_all(api, org, stage, points):
    """Every judge of the stage gives case i the total points[case_id] split over the criteria."""
    links = org.call("POST", f"/admin/stages/{stage}/links")[1]["links"]
    for link in links:
        token = api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"]
        judge_api = api.as_(token)
        for case in judge_api.call("GET", "/judge/cases")[1]["cases"]:
            total = points[case["id"]]
            sheet = {"foresight": min(total, 30), "practicality": min(max(total - 30, 0), 30),
                     "effectiveness": max(total - 60, 0)}
            status, body = judge_api.call("PUT", f"/judge/cases/{case['id']}/score", {"criteria": sheet})
            assert status == 200, body


def test_full_competition_to_awards(api, clock):
    ids = _cases(api, 18)
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 3)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    # case i scores 90 - i, with cases 15 and 16 (index 14, 15) tied at the cut
    points = {cid: 90 - i for i, cid in enumerate(ids)}
    points[ids[15]] = points[ids[14]]
    _score_all(api, org, "text_review", points)
    status, closed = org.call("POST", "/admin/stages/text_review/close")
    assert (status, closed) == (200, {"stage": "text_review", "status": "closed"})
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    ranking = org.call("GET", "/admin/stages/text_review/ranking")[1]["categories"]["development"]
    by_id = {e["case_id"]: e for e in ranking}
    assert [by_id[i]["rank"] for i in ids[:17]] == list(range(1, 16)) + [15, 17]
    assert by_id[ids[14]]["tie"] and by_id[ids[15]]["tie"] and by_id[ids[15]]["advanced"]
    assert by_id[ids[16]]["advanced"] is False
    statuses = [org.call("GET", f"/cases/{i}")[1]["status"] for i in ids]
    assert statuses == ["advanced"] * 16 + ["not_advanced"] * 2

    clock.set(datetime(2023, 6, 25, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    status, final = org.call("POST", "/admin/stages/final/assignments", {})
    assert (status, final["assignments"]) == (200, 16 * 3 - 3)  # judge n is affiliated with 单位n (回避)
    _score_all(api, org, "final", {cid: 90 - i for i, cid in enumerate(ids)})
    assert org.call("POST", "/admin/stages/final/close")[0] == 200
    final_ranking = org.call("GET", "/admin/stages/final/ranking")[1]["categories"]["development"]
    prizes = [e["prize"] for e in final_ranking]
    assert prizes == ["first"] * 5 + ["second"] * 5 + ["third"] * 5 + [None]

    honors = org.call("GET", "/admin/honors")[1]
    assert {n["honor"] for n in honors["nominations"]} >= {"labour_medal"}
    assert len(honors["considered"]) == 5 * 3

    first = org.call("POST", "/admin/notifications/awards")[1]
    second = org.call("POST", "/admin/notifications/awards")[1]
    assert first == {"sent": 15, "skipped": 0} and second == {"sent": 0, "skipped": 15}
    awards = org.call("GET", "/admin/organisation-awards")[1]["units"]
    assert awards[0]["prizes"]["first"] == 1

    winner = final_ranking[0]["case_id"]
    assert org.call("PUT", f"/admin/cases/{winner}/provincial", {"recommended": True}) == (
        200, {"case_id": winner, "provincial": True})
    assert org.call("PUT", f"/admin/cases/{final_ranking[-1]['case_id']}/provincial",
                    {"recommended": True})[0] == 409
    marked = org.call("GET", "/admin/stages/final/ranking")[1]["categories"]["development"]
    assert [e["provincial"] for e in marked] == [True] + [False] * 15
    fairness = org.call("GET", "/admin/stages/final/fairness")[1]
    assert {j["judge_id"] for j in fairness["judges"]} and fairness["categories"][0]["changes"] == []


def test_result_mail_leaves_from_the_schedule_once(api, clock):
    from chalicelib.jobs import schedules
    from chalicelib.store.models import MailRecord

    ids = _cases(api, 3)
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 3)
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    _score_all(api, org, "text_review", {cid: 80 for cid in ids})
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200

    def result_mail():
        return sorted(r.kind for r in MailRecord.scan() if r.kind in ("advance", "not_advance"))
    assert result_mail() == []                        # the close request itself sends none
    schedules.close_due_stages()
    schedules.close_due_stages()
    assert result_mail() == ["advance"] * 3           # once each, however often the schedule runs


def test_a_settled_stage_costs_the_schedule_one_query(api, clock, monkeypatch):
    """Once the text review is closed, decided and its result mail through, its stage row says settled;
    with both ranked stages settled a run of close_due_stages reads the stage rows only (idle cost ~0)."""
    from botocore.client import BaseClient

    from chalicelib import bootstrap
    from chalicelib.jobs import schedules
    from chalicelib.services import stages

    ids = _cases(api, 2)
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 3)
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    _score_all(api, org, "text_review", {cid: 80 for cid in ids})
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    settled = lambda: {s: w.settled  # noqa: E731
                       for s, w in stages.windows(bootstrap.competition(), bootstrap.deps().stages).items()
                       if s in ("text_review", "final")}
    assert settled() == {"text_review": False, "final": False}     # its result mail has not gone yet
    schedules.close_due_stages()
    assert settled() == {"text_review": True, "final": False}
    clock.set(datetime(2023, 7, 20, 9, 0, tzinfo=CHINA))            # every window over: the final closes
    schedules.close_due_stages()
    assert settled() == {"text_review": True, "final": True}

    calls: list[str] = []
    original = BaseClient._make_api_call
    monkeypatch.setattr(BaseClient, "_make_api_call",
                        lambda self, name, params: calls.append(name) or original(self, name, params))
    assert schedules.close_due_stages() == []
    assert calls == ["Query"]
