"""Judging over the API: judges, assignment with 回避, links (forged, revoked, re-issued), scores, coaching."""
from __future__ import annotations

from datetime import datetime

from tests.conftest import CHINA, case_body, register_unit

ORGANISER = ("boss", "organiser-pass-1")


def organiser(api):
    from chalicelib import bootstrap
    from chalicelib.services import accounts
    accounts.ensure_organiser(bootstrap.deps().accounts, *ORGANISER, bootstrap.config(), bootstrap.now())
    status, data = api.call("POST", "/sessions", {"username": ORGANISER[0], "password": ORGANISER[1]})
    assert status == 200
    return api.as_(data["token"])


def submitted_cases(api, clock, units=4, per_unit=2, category="development"):
    ids = []
    for n in range(1, units + 1):
        unit = api.as_(register_unit(api, n, unit_name=f"单位{n}"))
        for k in range(per_unit):
            status, case = unit.call("POST", "/cases", case_body(category=category, recommending_unit=f"单位{n}",
                                                                 title=f"案例{n}-{k}"))
            assert status == 201
            assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
            ids.append(case["id"])
    return ids


def judges(org, count=5, category="development"):
    ids = []
    for n in range(1, count + 1):
        status, j = org.call("POST", "/admin/judges", {"name": f"评委{n}", "email": f"j{n}@example.org",
                                                       "affiliation": f"单位{n}", "categories": [category]})
        assert status == 201, j
        ids.append(j["id"])
    return ids


def into_text_review(clock):
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))


def test_assignment_respects_conflicts_and_balance(api, clock):
    cases = submitted_cases(api, clock)
    into_text_review(clock)
    org = organiser(api)
    judges(org, 5)
    status, result = org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 3})
    assert status == 200, result
    assert result["assignments"] == len(cases) * 3
    loads = sorted(result["per_judge"].values())
    assert loads[-1] - loads[0] <= 1
    status, again = org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 3})
    assert again["new"] == 0


def test_link_session_score_and_revoke(api, clock):
    cases = submitted_cases(api, clock, units=2, per_unit=1)
    into_text_review(clock)
    org = organiser(api)
    judges(org, 3)
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    status, issued = org.call("POST", "/admin/stages/text_review/links")
    assert status == 200 and issued["links"]
    link = issued["links"][0]["url"].rsplit("/j/", 1)[1]
    assert api.call("POST", "/judge/sessions", {"link": link + "x"})[0] == 401
    status, session = api.call("POST", "/judge/sessions", {"link": link})
    assert status == 200, session
    judge_api = api.as_(session["token"])
    status, mine = judge_api.call("GET", "/judge/cases")
    assert status == 200 and mine["stage"] == "text_review"
    case_id = mine["cases"][0]["id"]
    other = next(c for c in cases if c not in {c["id"] for c in mine["cases"]})
    assert judge_api.call("GET", f"/judge/cases/{other}")[0] == 404
    bad = judge_api.call("PUT", f"/judge/cases/{case_id}/score", {"criteria": {"foresight": 31, "practicality": 1,
                                                                              "effectiveness": 1}})
    assert bad[0] == 400 and "criteria.foresight" in bad[1]["error"]["fields"]
    assert judge_api.call("PUT", f"/judge/cases/{case_id}/score",
                          {"criteria": {"foresight": 27.5, "practicality": 20}})[0] == 400
    status, saved = judge_api.call("PUT", f"/judge/cases/{case_id}/score",
                                   {"criteria": {"foresight": 27.5, "practicality": 20, "effectiveness": 35.5},
                                    "comment": "好"})
    assert (status, saved) == (200, {"case_id": case_id, "total": 83.0})
    assert judge_api.call("GET", "/judge/cases")[1]["cases"][0]["scored"] is True
    assert org.call("DELETE", f"/admin/judges/{session['judge_id']}/links/text_review")[0] == 204
    assert judge_api.call("GET", "/judge/cases")[0] == 401
    assert api.call("POST", "/judge/sessions", {"link": link})[0] == 401


def _one_case_with_its_judge(api, clock):
    """One submitted case in text review, one judge on it with an open session: (the judge's API, the case id)."""
    submitted_cases(api, clock, units=1, per_unit=1)
    into_text_review(clock)
    org = organiser(api)
    judges(org, 2)
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    link = org.call("POST", "/admin/stages/text_review/links")[1]["links"][0]["url"].rsplit("/j/", 1)[1]
    judge_api = api.as_(api.call("POST", "/judge/sessions", {"link": link})[1]["token"])
    case_id = judge_api.call("GET", "/judge/cases")[1]["cases"][0]["id"]
    return judge_api, case_id


def test_scores_after_close_are_refused(api, clock):
    judge_api, case_id = _one_case_with_its_judge(api, clock)
    clock.set(datetime(2023, 6, 17, 0, 0, 0, tzinfo=CHINA))
    status, err = judge_api.call("PUT", f"/judge/cases/{case_id}/score",
                                 {"criteria": {"foresight": 1, "practicality": 1, "effectiveness": 1}})
    assert (status, err["error"]["code"]) == (409, "stage_closed")


def test_recusal_drops_the_case_and_flags_it(api, clock):
    submitted_cases(api, clock, units=2, per_unit=1)
    into_text_review(clock)
    org = organiser(api)
    judges(org, 3)
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    link = org.call("POST", "/admin/stages/text_review/links")[1]["links"][0]
    judge_api = api.as_(api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"])
    case_id = judge_api.call("GET", "/judge/cases")[1]["cases"][0]["id"]
    assert judge_api.call("POST", f"/judge/cases/{case_id}/recuse", {"reason": ""})[0] == 400
    assert judge_api.call("POST", f"/judge/cases/{case_id}/recuse", {"reason": "曾参与该案例指导"}) == (
        200, {"case_id": case_id, "recused": True})
    assert case_id not in {c["id"] for c in judge_api.call("GET", "/judge/cases")[1]["cases"]}
    assert judge_api.call("GET", f"/judge/cases/{case_id}")[0] == 404
    rows = org.call("GET", "/admin/stages/text_review/assignments")[1]["assignments"]
    flagged = [r for r in rows if r["recused"]]
    assert [(r["judge_id"], r["case_id"], r["recusal_reason"]) for r in flagged] == [
        (link["judge_id"], case_id, "曾参与该案例指导")]
    again = org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[1]
    assert again["new"] == 1


def test_a_score_for_a_case_whose_category_left_the_settings_is_refused(api, clock):
    from chalicelib.store.models import Assignment
    judge_api, case_id = _one_case_with_its_judge(api, clock)
    slot = next(s for s in Assignment.scan() if s.case_id == case_id)
    slot.update(actions=[Assignment.category.set("retired")])      # a category the config no longer has
    status, err = judge_api.call("PUT", f"/judge/cases/{case_id}/score",
                                 {"criteria": {"foresight": 1, "practicality": 1, "effectiveness": 1}})
    assert (status, err["error"]["code"]) == (409, "conflict")
    assert "类别" in err["error"]["message"]
    slot.refresh()
    assert not slot.scored and slot.total is None
