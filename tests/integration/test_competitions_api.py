"""The competitions' API (竞赛届次) over the app's HTTP test client (moto): the list, any competition's shape,
新建届次 / 复制上一届, edits with errors by field and locks, and 设为当前届次."""
from __future__ import annotations

import pytest

from tests.conftest import register_unit
from tests.integration.test_judging_api import organiser

SOURCE = "shenzhen-2023"


@pytest.fixture
def seeded(api):
    from chalicelib import bootstrap
    from chalicelib.services import competitions
    competitions.seed(bootstrap.deps().competitions, SOURCE, bootstrap.now())
    return api


def test_the_list_shows_drafts_only_to_organisers_and_flags_the_current_one(seeded):
    api = seeded
    org = organiser(api)
    code, made = org.call("POST", "/admin/competitions", {"copy_from": SOURCE, "name": "2024年党建杯", "year": 2024})
    assert (code, made) == (201, {"id": "shenzhen-2024"})
    assert org.call("POST", f"/admin/competitions/{SOURCE}/activate")[0] == 200

    code, body = org.call("GET", "/competitions")
    assert code == 200
    assert [(c["id"], c["year"], c["status"], c["current"]) for c in body["competitions"]] == [
        (SOURCE, 2023, "running", True), ("shenzhen-2024", 2024, "draft", False)]
    assert body["competitions"][1]["name"] == "2024年党建杯"

    code, public = api.call("GET", "/competitions")
    assert code == 200 and [c["id"] for c in public["competitions"]] == [SOURCE]
    unit = api.as_(register_unit(api))
    assert [c["id"] for c in unit.call("GET", "/competitions")[1]["competitions"]] == [SOURCE]
    assert api.call("GET", "/competitions/shenzhen-2024")[0] == 404
    assert org.call("GET", "/competitions/shenzhen-2024")[0] == 200


def test_any_competition_has_the_shape_of_the_current_one(seeded):
    api = seeded
    code, current = api.call("GET", "/competition")
    assert code == 200
    code, same = api.call("GET", f"/competitions/{SOURCE}")
    assert (code, same) == (200, current)
    org = organiser(api)
    org.call("POST", "/admin/competitions", {"copy_from": SOURCE, "name": "2024年党建杯", "year": 2024})
    code, copied = org.call("GET", "/competitions/shenzhen-2024")
    assert code == 200 and copied["name"] == "2024年党建杯" and copied["categories"] == current["categories"]
    assert [s["opens_at"][:4] for s in copied["stages"]] == ["2024"] * 5
    assert {s["status"] for s in copied["stages"]} == {"pending"}
    assert api.call("GET", "/competitions/nosuch")[0] == 404


def test_create_refuses_by_field_and_only_for_organisers(seeded):
    api = seeded
    org = organiser(api)
    code, body = org.call("POST", "/admin/competitions", {"copy_from": "nosuch", "name": "", "year": "2024"})
    assert code == 400 and set(body["error"]["fields"]) == {"copy_from", "name", "year"}
    assert body["error"]["code"] == "invalid"
    code, body = org.call("POST", "/admin/competitions", {"copy_from": None, "name": "区级选拔赛", "year": 2025})
    assert (code, body) == (201, {"id": "c2025-1"})
    unit = api.as_(register_unit(api))
    assert unit.call("POST", "/admin/competitions", {"copy_from": None, "name": "x", "year": 2025})[0] == 403
    assert api.call("POST", "/admin/competitions", {"copy_from": None, "name": "x", "year": 2025})[0] == 401


def test_edit_a_copy_then_start_and_activate_it(seeded):
    api = seeded
    org = organiser(api)
    org.call("POST", "/admin/competitions", {"copy_from": SOURCE, "name": "2024年党建杯", "year": 2024})
    code, shape = org.call("GET", "/competitions/shenzhen-2024")
    categories = shape["categories"]
    categories[0]["criteria"][0]["max"] = 0
    code, body = org.call("PUT", "/admin/competitions/shenzhen-2024", {"categories": categories})
    assert code == 400 and body["error"]["code"] == "invalid"
    assert set(body["error"]["fields"]) == {"categories[0].criteria[0].max"}
    categories[0]["criteria"][0]["max"] = 35       # one criterion's maximum: the full score becomes 105
    code, body = org.call("PUT", "/admin/competitions/shenzhen-2024",
                          {"categories": categories, "quotas": {"advance_per_category": 20}})
    assert code == 200, body
    assert body["version"] == 2
    code, shape = org.call("GET", "/competitions/shenzhen-2024")
    assert [c["max"] for c in shape["categories"][0]["criteria"]] == [35, 30, 40]
    assert shape["quotas"] == {"advance_per_category": 20}
    code, body = org.call("PUT", "/admin/competitions/shenzhen-2024", {"version": 1, "name": "旧版本"})
    assert code == 409 and body["error"]["code"] == "version_conflict"

    code, body = org.call("POST", "/admin/competitions/shenzhen-2024/activate")
    assert code == 409 and "state" in body["error"]["fields"]
    code, body = org.call("PUT", "/admin/competitions/shenzhen-2024", {"state": "running"})
    assert code == 200 and body["status"] == "running"
    code, body = org.call("POST", "/admin/competitions/shenzhen-2024/activate")
    assert (code, body) == (200, {"id": "shenzhen-2024", "current": True, "status": "running"})
    listed = org.call("GET", "/competitions")[1]["competitions"]
    assert [(c["id"], c["current"]) for c in listed] == [("shenzhen-2024", True), (SOURCE, False)]


def test_criteria_are_locked_once_scoring_has_begun(seeded, clock):
    from datetime import datetime, timedelta, timezone
    api = seeded
    clock.set(datetime(2023, 6, 12, 10, 0, tzinfo=timezone(timedelta(hours=8))))     # 文本评审 is open
    org = organiser(api)
    code, body = org.call("PUT", f"/admin/competitions/{SOURCE}", {"categories[0].criteria[0].max": 35,
                                                                   "categories[0].criteria[1].max": 25})
    assert code == 409 and body["error"]["code"] == "stage_closed"
    assert "categories[0].criteria[0].max" in body["error"]["fields"]
    code, body = org.call("PUT", f"/admin/competitions/{SOURCE}", {"theme": "新主题"})
    assert code == 200 and body["definition"]["theme"] == "新主题"



def test_a_window_edited_on_the_running_competition_moves_the_stage_it_runs_on(seeded):
    """The windows live in the stage rows once it runs: a window saved here is the one the stages keep, and a
    window moved on the 阶段 endpoint is the one edited here."""
    api = seeded
    org = organiser(api)
    code, _ = org.call("PUT", "/admin/stages/final", {"opens_at": "2023-06-24T00:00:00+08:00",
                                                       "closes_at": "2023-07-09T18:00:00+08:00"})
    assert code == 200
    code, body = org.call("PUT", f"/admin/competitions/{SOURCE}", {"stages.submission.closes_at":
                                                                   "2023-06-12T23:59:59+08:00"})
    assert code == 400 and "stages.text_review.opens_at" in body["error"]["fields"]   # would overlap 文本评审
    code, body = org.call("PUT", f"/admin/competitions/{SOURCE}", {
        "stages.submission.closes_at": "2023-06-12T23:59:59+08:00",
        "stages.text_review.opens_at": "2023-06-13T00:00:00+08:00"})
    assert code == 200, body
    closes = {s["id"]: s["closes_at"] for s in body["definition"]["stages"]}
    assert (closes["submission"], closes["final"]) == ("2023-06-12T23:59:59+08:00", "2023-07-10T23:59:59+08:00")  # as defined
    code, shape = api.call("GET", "/competition")
    windows = {s["id"]: (s["opens_at"], s["closes_at"]) for s in shape["stages"]}
    assert windows["submission"][1] == "2023-06-12T23:59:59+08:00"
    assert windows["text_review"][0] == "2023-06-13T00:00:00+08:00"
    assert windows["final"][1] == "2023-07-09T18:00:00+08:00"
    assert api.call("GET", f"/competitions/{SOURCE}")[1]["stages"] == shape["stages"]
