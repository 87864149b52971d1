"""Issue 17 part 6, counted: a unit with cases in 5 competitions lists each competition's cases with one Query
(GET /api/v1/cases?competition=<id>, never a Scan), and the ranking of any competition
(GET /api/v1/admin/stages/{stage}/ranking?competition=<id>) costs what the current one's does. And the console's
export page exports an earlier competition (its select of 竞赛届次, default the current one).

AWS calls are counted at botocore's `BaseClient._make_api_call` as in test_request_cost.py; the competitions
themselves are read once per process (bootstrap's cache, COMPETITION_CACHE_SECONDS), so each request is measured
after one warm-up request of the same competition."""
from __future__ import annotations

import html as htmllib
import io
import re
from collections import Counter
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.browser import text
from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_admin_pages import log_in
from tests.integration.test_judging_api import organiser
from tests.integration.test_request_cost import recorder  # noqa: F401  (the fixture)

YEARS = (2024, 2025, 2026, 2027)
PASSWORD = "correct-horse-1"


@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


def next_year(year: int) -> str:
    """复制上一届 (the year before) → `year`, 开始, its windows seeded, made current (through the services)."""
    from chalicelib import bootstrap
    from chalicelib.services import competitions, stages
    from chalicelib.services.accounts import Principal

    admin = Principal("organiser", "t1", account_id="org1", username="admin", organiser_role="admin")
    repo, now = bootstrap.deps().competitions, bootstrap.now()
    new_id = f"shenzhen-{year}"
    copied = competitions.copy_from(repo, admin, f"shenzhen-{year - 1}", new_id, now)
    competitions.start(repo, admin, new_id, copied.version, [], now)
    comp = bootstrap.competition_by_id(new_id)
    stages.seed(bootstrap.deps().stages, comp, comp.default_windows)
    competitions.activate(repo, admin, new_id, now)
    return new_id


@pytest.fixture
def five_years(api, clock):
    """One unit with a submitted case in each of shenzhen-2023 … shenzhen-2027 (2027 the current one)."""
    unit = api.as_(register_unit(api, 1))
    ids = {}
    for year in (2023, *YEARS):
        if year != 2023:
            next_year(year)
            clock.set(datetime(year, 6, 1, 10, 0, tzinfo=CHINA))
            status, session = api.call("POST", "/sessions", {"username": "unit1", "password": PASSWORD})
            assert status == 200, session                             # the same account, a year later
            unit = api.as_(session["token"])
        status, case = unit.call("POST", "/cases", case_body(title=f"{year}年的案例"))
        assert status == 201, case
        assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
        ids[f"shenzhen-{year}"] = case["id"]
    assert api.call("GET", "/competition")[1]["id"] == "shenzhen-2027"
    return unit, ids


def dynamodb(calls: list[tuple[str, str]]) -> Counter:
    return Counter(op for service, op in calls if service == "dynamodb")


def test_a_units_cases_of_each_of_five_competitions_are_one_query_each(five_years, recorder):  # noqa: F811
    unit, ids = five_years
    for competition_id, case_id in ids.items():
        path = f"/cases?competition={competition_id}"
        unit.call("GET", path)                                        # warm: the competition's definition
        status, body, calls = recorder.measure(lambda: unit.call("GET", path))
        assert status == 200 and [c["id"] for c in body["cases"]] == [case_id]
        assert body["cases"][0]["title"] == f"{competition_id[-4:]}年的案例"
        ops = dynamodb(calls)
        assert ops["Query"] == 1 and ops["Scan"] == 0, (competition_id, calls)
        assert sum(ops.values()) <= 2, (competition_id, calls)      # the session's read and the one Query
        assert {service for service, _ in calls} == {"dynamodb"}


def test_the_ranking_of_any_competition_costs_what_the_current_ones_does(five_years, api, recorder):  # noqa: F811
    _, ids = five_years
    org = organiser(api)
    costs = {}
    for competition_id in (None, *ids):
        path = "/admin/stages/text_review/ranking" + (f"?competition={competition_id}" if competition_id else "")
        org.call("GET", path)
        status, body, calls = recorder.measure(lambda: org.call("GET", path))
        assert status == 200 and body["stage"] == "text_review", body
        ranked = [e["case_id"] for entries in body["categories"].values() for e in entries]
        if competition_id is not None:
            assert ranked == [ids[competition_id]]                   # that competition's case, no other
        assert dynamodb(calls)["Scan"] == 0
        costs[competition_id] = dynamodb(calls)
    current = costs.pop(None)
    # the live ranking's figure of test_calls_per_request.py: the session, one BatchGetItem (the stage row and
    # the stored rankings), one Query of the cases, one of each category's scores (a closed stage: none)
    assert current == {"GetItem": 1, "BatchGetItem": 1, "Query": 1 + 3}
    assert all(cost == current for cost in costs.values()), costs
    status, body = org.call("GET", "/admin/stages/text_review/ranking?competition=nosuch-1999")
    assert status == 400 and set(body["error"]["fields"]) == {"competition"}


def test_the_console_exports_an_earlier_competition(five_years, client):
    from tests.integration.test_exports_api import read_export
    _, ids = five_years
    browser, token = log_in(client)
    page = text(browser.get("/admin/exports"))
    select = re.search(r'<select id="f-competition" name="competition"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', select)
    assert {value for value, _, _ in options} == set(ids)
    assert [(value, name) for value, chosen, name in options if chosen] == [
        ("shenzhen-2027", htmllib.unescape(name)) for value, _, name in options if value == "shenzhen-2027"]
    assert "（当前届次）" in dict((v, n) for v, _, n in options)["shenzhen-2027"]

    started = browser.post("/admin/exports", {"csrf_token": token, "kind": "registrations_xlsx",
                                              "competition": "shenzhen-2023"})
    assert started.status_code == 303
    location = started.headers["Location"]
    assert re.fullmatch(r"/admin/exports\?competition=shenzhen-2023&job=\w+", location), location
    job_id = location.rsplit("job=", 1)[1]
    from scripts import local_jobs
    assert local_jobs.run_queued_exports() == [job_id]
    page = text(browser.get(location))
    assert f'data-export-job="{job_id}" data-status="done"' in page
    assert re.search(r'<option value="shenzhen-2023" selected>', page)
    link = re.search(r'<a href="([^"]+)" download>下载 ([^<]+)</a>', page)
    assert link.group(2).startswith("2023年")
    book = load_workbook(io.BytesIO(read_export(job_id, "registrations_xlsx")))
    cells = {str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c}
    assert "2023年的案例" in cells and "2024年的案例" not in cells
    assert f'data-export-job="{job_id}"' not in text(browser.get("/admin/exports"))      # the current one's list

    bad = browser.post("/admin/exports", {"csrf_token": token, "kind": "registrations_xlsx",
                                          "competition": "nosuch-1999"})
    assert bad.status_code == 400 and 'id="f-competition-error"' in text(bad)
