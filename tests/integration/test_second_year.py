"""Issue 17 as its outside check runs it, over the API only: the 2023 competition run to its end, then 2024 made by
复制上一届 with one criterion's maximum raised (发展 前瞻性 30 → 35: a full score of 105) and a short quota (3 enter
the final), started and made current; a short 2024 run by the same unit accounts with a new panel of judges, its
cut and prizes by the 2024 rules; 2023's cases unchanged for their units and its results still exportable."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.conftest import CHINA, Api, case_body
from tests.integration.finished_competition import _judges, run_to_final
from tests.integration.test_exports_api import read_export, run_jobs
from tests.integration.test_judging_api import organiser

NEXT = "shenzhen-2024"
PASSWORD = "correct-horse-1"


@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


def unit(api: Api, n: int) -> Api:
    """Unit n's account, logged in now (the same account every year)."""
    status, session = api.call("POST", "/sessions", {"username": f"unit{n}", "password": PASSWORD})
    assert status == 200, session
    return api.as_(session["token"])


def _copy_with_a_new_maximum_and_quota(org: Api) -> None:
    status, made = org.call("POST", "/admin/competitions", {
        "copy_from": "shenzhen-2023", "name": "2024年深圳市“党建杯”机关创新创优竞赛", "year": 2024})
    assert (status, made) == (201, {"id": NEXT})
    categories = org.call("GET", f"/competitions/{NEXT}")[1]["categories"]
    categories[0]["criteria"][0]["max"] = 35
    status, body = org.call("PUT", f"/admin/competitions/{NEXT}",
                            {"categories": categories, "quotas": {"advance_per_category": 3}})
    assert status == 200, body
    assert org.call("PUT", f"/admin/competitions/{NEXT}", {"state": "running"})[0] == 200
    assert org.call("POST", f"/admin/competitions/{NEXT}/activate")[0] == 200


def _score_all(api: Api, org: Api, stage: str, maxima: dict[str, dict[str, float]], place: dict[str, int],
               category_of: dict[str, str]) -> None:
    """Every judge gives case k of its category each criterion's maximum less k: totals 105, 102, 99 …."""
    for link in org.call("POST", f"/admin/stages/{stage}/links")[1]["links"]:
        judge = api.as_(api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"])
        for case in judge.call("GET", "/judge/cases")[1]["cases"]:
            sheet = {c: top - place[case["id"]] for c, top in maxima[category_of[case["id"]]].items()}
            status, body = judge.call("PUT", f"/judge/cases/{case['id']}/score", {"criteria": sheet, "comment": "好"})
            assert status == 200, body


def test_a_short_2024_by_the_same_units_under_its_own_rules_leaves_2023_as_it_was(api, clock):
    api.call("GET", "/competition")
    done = run_to_final(api, clock)
    org = organiser(api)
    first_2023 = done.ids["development"][0]
    status, ranking_2023 = org.call("GET", "/admin/stages/final/ranking")
    assert status == 200
    case_2023 = unit(api, 1).call("GET", f"/cases/{first_2023}")[1]

    clock.set(datetime(2024, 3, 1, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    _copy_with_a_new_maximum_and_quota(org)
    shape = api.call("GET", "/competition")[1]
    assert shape["id"] == NEXT and shape["quotas"] == {"advance_per_category": 3}
    maxima = {c["id"]: {k["id"]: k["max"] for k in c["criteria"]} for c in shape["categories"]}
    assert maxima["development"] == {"foresight": 35, "practicality": 30, "effectiveness": 40}

    # the same accounts enter 2024: five development cases and one service case
    clock.set(datetime(2024, 5, 25, 10, 0, tzinfo=CHINA))
    category_of, place = {}, {}
    for n, category in ((1, "development"), (2, "development"), (3, "development"), (4, "development"),
                        (5, "development"), (7, "service")):
        status, case = unit(api, n).call("POST", "/cases", case_body(category=category, title=f"2024年案例{n}"))
        assert status == 201, case
        assert unit(api, n).call("POST", f"/cases/{case['id']}/submit")[0] == 200
        category_of[case["id"]] = category
        place[case["id"]] = sum(1 for c in category_of.values() if c == category) - 1
    assert [c["title"] for c in unit(api, 1).call("GET", "/cases")[1]["cases"]] == ["2024年案例1"]

    # 文本评审 by a new panel: 前瞻性 35 is a full mark now, 35.5 is refused by its field
    clock.set(datetime(2024, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    _judges(org, "development", 11)
    _judges(org, "service", 14)
    assert {j["name"] for j in org.call("GET", "/admin/judges")[1]["judges"]} == {
        f"评委{n}" for n in range(11, 17)}                         # 2023's panel is 2023's
    status, body = org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 3})
    assert status == 200, body
    judges = {j["id"]: j["categories"] for j in org.call("GET", "/admin/judges")[1]["judges"]}
    link = next(link for link in org.call("POST", "/admin/stages/text_review/links")[1]["links"]
                if judges[link["judge_id"]] == ["development"])
    judge = api.as_(api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"])
    case_id = judge.call("GET", "/judge/cases")[1]["cases"][0]["id"]
    status, body = judge.call("PUT", f"/judge/cases/{case_id}/score", {
        "criteria": {"foresight": 35.5, "practicality": 30, "effectiveness": 40}, "comment": "好"})
    assert status == 400 and "criteria.foresight" in body["error"]["fields"]
    _score_all(api, org, "text_review", maxima, place, category_of)
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    development = org.call("GET", "/admin/stages/text_review/ranking")[1]["categories"]["development"]
    assert [(e["rank"], e["score"], e["advanced"]) for e in development] == [
        (1, 105, True), (2, 102, True), (3, 99, True), (4, 96, False), (5, 93, False)]

    # 综合评选 of the three, prizes by the bands
    clock.set(datetime(2024, 6, 25, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    status, body = org.call("POST", "/admin/stages/final/assignments", {})
    assert status == 200, body
    _score_all(api, org, "final", maxima, place, category_of)
    assert org.call("POST", "/admin/stages/final/close")[0] == 200
    final = org.call("GET", "/admin/stages/final/ranking")[1]["categories"]
    assert [(e["rank"], e["score"], e["prize"]) for e in final["development"]] == [
        (1, 105, "first"), (2, 102, "first"), (3, 99, "first")]
    assert [e["prize"] for e in final["service"]] == ["first"]

    # 2023 as it was: the unit's case, the ranking of any competition, the results export
    unit1 = unit(api, 1)
    assert unit1.call("GET", f"/cases/{first_2023}") == (200, case_2023)
    assert unit1.call("GET", "/cases?competition=shenzhen-2023")[1]["cases"] == [case_2023]
    assert org.call("GET", "/admin/stages/final/ranking?competition=shenzhen-2023") == (200, ranking_2023)
    status, job = org.call("POST", "/admin/exports", {"kind": "results_xlsx", "competition": "shenzhen-2023"})
    assert status == 202, job
    assert run_jobs() == [job["id"]]
    view = org.call("GET", f"/admin/exports/{job['id']}")[1]
    assert view["status"] == "done" and view["filename"].startswith("2023年"), view
    book = load_workbook(io.BytesIO(read_export(job["id"], "results_xlsx")))
    cells = {str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c}
    assert done.titles[done.ids["development"][1]] in cells and "2024年案例1" not in cells
