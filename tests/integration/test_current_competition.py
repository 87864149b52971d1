"""Many competitions on one deployment, over the HTTP API: with 2023 seeded and current, 2024 is copied from it
and activated; every request without a competition then works on 2024, while 2023's cases stay listed (by
?competition=) and unchanged, and its export still builds 2023's data."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_exports_api import run_jobs
from tests.integration.test_judging_api import organiser

IN_SUBMISSION_2024 = datetime(2024, 6, 1, 10, 0, tzinfo=CHINA)


@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


def start_2024() -> None:
    """复制上一届 2023 → 2024, 开始 it, seed its windows and make it the current one (through the services)."""
    from chalicelib import bootstrap
    from chalicelib.services import competitions, stages
    from chalicelib.services.accounts import Principal

    admin = Principal("organiser", "t1", account_id="org1", username="admin", organiser_role="admin")
    repo, now = bootstrap.deps().competitions, bootstrap.now()
    copied = competitions.copy_from(repo, admin, "shenzhen-2023", "shenzhen-2024", now)
    competitions.start(repo, admin, "shenzhen-2024", copied.version, [], now)
    comp = bootstrap.competition_by_id("shenzhen-2024")
    stages.seed(bootstrap.deps().stages, comp, comp.default_windows)
    assert competitions.activate(repo, admin, "shenzhen-2024", now).id == "shenzhen-2024"


def test_2024_becomes_current_and_2023_stays_readable_and_exportable(api, clock):
    unit = api.as_(register_unit(api, 1))
    status, old = unit.call("POST", "/cases", case_body(title="二〇二三年的案例"))
    assert status == 201
    status, old = unit.call("POST", f"/cases/{old['id']}/submit")
    assert status == 200
    assert api.call("GET", "/competition")[1]["id"] == "shenzhen-2023"

    start_2024()
    clock.set(IN_SUBMISSION_2024)
    status, current = api.call("GET", "/competition")
    assert (status, current["id"]) == (200, "shenzhen-2024")

    # the account belongs to the platform: the unit logs in again a year later
    status, session = api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})
    assert status == 200
    unit = api.as_(session["token"])
    status, new = unit.call("POST", "/cases", case_body(title="二〇二四年的案例"))
    assert status == 201
    assert unit.call("POST", f"/cases/{new['id']}/submit")[0] == 200
    status, listed = unit.call("GET", "/cases")
    assert (status, [c["id"] for c in listed["cases"]]) == (200, [new["id"]])
    status, earlier = unit.call("GET", "/cases?competition=shenzhen-2023")
    assert status == 200 and earlier["cases"] == [old]
    assert unit.call("GET", f"/cases/{old['id']}") == (200, old)
    status, body = unit.call("GET", "/cases?competition=nosuch-1999")
    assert status == 400 and set(body["error"]["fields"]) == {"competition"}

    org = organiser(api)
    status, mine = org.call("GET", "/cases")
    assert [c["id"] for c in mine["cases"]] == [new["id"]]
    status, job = org.call("POST", "/admin/exports", {"kind": "registrations_xlsx", "competition": "shenzhen-2023"})
    assert status == 202, job
    assert run_jobs() == [job["id"]]
    status, view = org.call("GET", f"/admin/exports/{job['id']}")
    assert (status, view["status"]) == (200, "done"), view
    assert view["filename"].startswith("2023年")
    from tests.integration.test_exports_api import read_export
    book = load_workbook(io.BytesIO(read_export(job["id"], "registrations_xlsx")))
    cells = {str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c}
    assert "二〇二三年的案例" in cells and "二〇二四年的案例" not in cells
    status, body = org.call("POST", "/admin/exports", {"kind": "registrations_xlsx", "competition": "nosuch-1999"})
    assert status == 400 and set(body["error"]["fields"]) == {"competition"}
