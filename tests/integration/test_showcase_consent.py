"""优秀案例展示's consent before the final: `showcase_consent` in the case body (validated, saved with drafts and
edits under the version rules), the unit's later word on its case (PUT /cases/{id}/showcase: a case field, no new
version; a later edit of the body is the latest word again), who may give it, and the showcase before it opens."""
from __future__ import annotations

from datetime import datetime

from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_judging_api import judges, organiser


def test_consent_is_a_field_of_the_body_saved_with_the_draft_and_the_edit(api):
    unit = api.as_(register_unit(api))
    status, case = unit.call("POST", "/cases", case_body(showcase_consent=True))
    assert (status, case["showcase_consent"], case["showcase"]) == (
        201, True, {"consent": True, "hidden": False, "reason": None, "shown": False})
    status, edited = unit.call("PUT", f"/cases/{case['id']}", {**case_body(), "version": 1})
    assert (status, edited["version"], edited["showcase_consent"]) == (200, 2, False)
    status, body = unit.call("PUT", f"/cases/{case['id']}", {**case_body(showcase_consent=True), "version": 1})
    assert (status, body["error"]["code"]) == (409, "version_conflict")
    assert unit.call("GET", f"/cases/{case['id']}")[1]["showcase_consent"] is False


def test_a_consent_that_is_not_true_or_false_is_a_400_naming_the_field(api):
    unit = api.as_(register_unit(api))
    for wrong in ("yes", 1, [], {}):
        status, body = unit.call("POST", "/cases", case_body(showcase_consent=wrong))
        assert (status, body["error"]["code"], body["error"]["fields"]) == (
            400, "invalid", {"showcase_consent": "同意在成果展示中公开应为 true 或 false"}), wrong
    assert unit.call("GET", "/cases")[1]["cases"] == []
    status, case = unit.call("POST", "/cases", case_body(showcase_consent=None))
    assert (status, case["showcase_consent"]) == (201, False)


def test_the_units_word_on_its_case_keeps_the_version_and_a_later_edit_speaks_last(api):
    unit = api.as_(register_unit(api))
    case = unit.call("POST", "/cases", case_body())[1]
    status, body = unit.call("PUT", f"/cases/{case['id']}/showcase", {"consent": True})
    assert (status, body) == (200, {"case_id": case["id"], "consent": True, "hidden": False, "reason": None,
                                    "shown": False})
    view = unit.call("GET", f"/cases/{case['id']}")[1]
    assert (view["version"], view["history"], view["showcase_consent"]) == (1, [], True)
    status, edited = unit.call("PUT", f"/cases/{case['id']}", {**case_body(), "version": 1})
    assert (status, edited["version"], edited["showcase_consent"]) == (200, 2, False)
    assert unit.call("GET", f"/cases/{case['id']}")[1]["showcase_consent"] is False


def test_the_case_form_carries_the_consent_checkbox(api, client):
    token = register_unit(api)
    cookie = {"Cookie": f"sp_session={token}"}
    page = client.http.get("/cases/new", headers=cookie).body.decode()
    assert 'name="showcase_consent"' in page and "同意在成果展示中公开" in page
    assert "案例名称、单位、背景、创新点、成果" in page and "不公开牵头人和联系人的任何个人信息" in page
    case = api.as_(token).call("POST", "/cases", case_body(showcase_consent=True))[1]
    page = client.http.get(f"/cases/{case['id']}/edit", headers=cookie).body.decode()
    assert 'name="showcase_consent" value="1" checked' in page


def test_the_showcase_says_when_it_opens_before_the_final_is_closed(api, client):
    unit = api.as_(register_unit(api))
    case = unit.call("POST", "/cases", case_body(showcase_consent=True))[1]
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    status, data = api.call("GET", "/showcase")
    assert (status, data["open"], data["count"], data["cases"]) == (200, False, 0, [])
    final = next(s for s in api.call("GET", "/competition")[1]["stages"] if s["id"] == "final")
    assert data["opens_at"] == final["closes_at"]
    page = client.http.get("/showcase").body.decode()
    assert "优秀案例展示将在综合评选结束、评选结果公布后开放" in page and 'name="q"' not in page


def test_a_judge_cannot_touch_a_units_consent(api, clock):
    unit = api.as_(register_unit(api))
    case = unit.call("POST", "/cases", case_body())[1]
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 1)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    link = org.call("POST", "/admin/stages/text_review/links")[1]["links"][0]["url"].rsplit("/j/", 1)[1]
    judge = api.as_(api.call("POST", "/judge/sessions", {"link": link})[1]["token"])
    for method, path, body in (("PUT", f"/cases/{case['id']}/showcase", {"consent": True}),
                               ("PUT", f"/admin/cases/{case['id']}/showcase", {"shown": False, "reason": "x"})):
        status, answer = judge.call(method, path, body)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), path
    assert org.call("GET", f"/cases/{case['id']}")[1]["showcase"]["consent"] is False


def test_a_read_only_organiser_cannot_take_a_case_down(api):
    from tests.integration.team import member
    unit = api.as_(register_unit(api))
    case = unit.call("POST", "/cases", case_body(showcase_consent=True))[1]
    org = organiser(api)
    viewer = api.as_(member(api, org, "viewer1", "viewer"))
    status, body = viewer.call("PUT", f"/admin/cases/{case['id']}/showcase", {"shown": False, "reason": "待核实"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert org.call("GET", f"/cases/{case['id']}")[1]["showcase"]["hidden"] is False


def test_the_ticked_checkbox_is_saved_with_the_draft_and_unticking_it_saves_false(api, client):
    from urllib.parse import urlencode

    from tests.browser import csrf_of
    token = register_unit(api)
    page = client.http.get("/cases/new", headers={"Cookie": f"sp_session={token}"}).body.decode()
    cookie = {"Cookie": f"sp_session={token}", "Content-Type": "application/x-www-form-urlencoded"}
    form = {"csrf_token": csrf_of(page), "action": "save",
            "category": "development", "title": "党建引领数字政府建设", "showcase_consent": "1"}
    response = client.http.post("/cases/new", headers=cookie, body=urlencode(form).encode())
    assert response.status_code == 303, response.body
    case_id = response.headers["Location"].split("/")[2]
    unit = api.as_(token)
    assert (unit.call("GET", f"/cases/{case_id}")[1]["showcase_consent"]) is True
    form = {**{k: v for k, v in form.items() if k != "showcase_consent"}, "version": "1"}
    assert client.http.post(f"/cases/{case_id}/edit", headers=cookie, body=urlencode(form).encode()).status_code == 303
    view = unit.call("GET", f"/cases/{case_id}")[1]
    assert (view["version"], view["showcase_consent"]) == (2, False)
