"""AWS calls per request for every route of the app's route table (tests/integration/route_tour.py runs a small
competition through its five stages, then sweeps the routes it did not use): no request path makes a Scan or a
DescribeTable, and each route stays under a generous bound of calls, so a regression (a read per item in a
list, a forgotten cache) fails here. The figures themselves: benchmarks/bench_request_calls.py and
docs/PERFORMANCE.md "AWS calls per request"."""
from __future__ import annotations

import pytest

from benchmarks.aws_calls import Meter
from tests.integration.route_tour import Tour, routes

# Calls of one request (DynamoDB + S3 + SES). The tour has 9 cases and 9 judges; the bulk routes below send one
# mail per judge or per awarded case and write its log row (docs/MAIL.md), so they grow with those counts.
# Closing a ranked stage works per category (3): its stored ranking looked up, its scores read, the record
# put to S3, the outcomes written (a transaction per 50 cases), the ranking row saved.
MAX_CALLS = 16
BULK = {("POST", "/api/v1/admin/stages/{stage_id}/links"), ("POST", "/admin/links/{stage_id}"),
        ("POST", "/admin/stages/{stage_id}/links/qr"), ("POST", "/api/v1/admin/notifications/awards"),
        ("POST", "/admin/notifications/awards"),
        ("POST", "/api/v1/admin/stages/{stage_id}/close"), ("POST", "/admin/stages/{stage_id}/close")}
MAX_BULK = 6 * 9 + 12


@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


@pytest.fixture
def visits(client, clock):
    meter = Meter()
    meter.attach_app()
    return Tour(client, meter, clock).run()


def test_every_route_of_the_table_is_called_without_a_scan_and_within_its_bound(visits):
    assert {(v.method, v.route) for v in visits} >= set(routes())
    scans = [(v.method, v.route) for v in visits if v.tally.by_service("dynamodb").get("Scan")]
    described = [(v.method, v.route) for v in visits if v.tally.by_service("dynamodb").get("DescribeTable")]
    over = [(v.method, v.route, v.status, dict(v.tally.calls)) for v in visits
            if v.tally.total() > (MAX_BULK if (v.method, v.route) in BULK else MAX_CALLS)]
    assert (scans, described, over) == ([], [], [])


def test_the_scripted_uses_succeed(visits):
    """The control: the tour's real uses of the routes (not the sweep) get the answers a user gets, so the
    bounds above are measured on working requests and not on early refusals."""
    refused = [(v.method, v.route, v.role, v.status) for v in visits if v.how == "scripted" and v.status >= 400
               and v.route != "/judge/cases/{case_id}/attachments/{attachment_id}"]   # judge 1 is not on that case: 404
    assert refused == []


def test_the_ranking_of_a_closed_stage_is_three_dynamodb_calls(visits):
    """The session, one BatchGetItem for the stage's row and the categories' stored rankings, one Query for
    the cases' 省赛 marks; while the stage runs the live ranking reads the scores as well."""
    ranked = [dict(v.tally.by_service("dynamodb")) for v in visits
              if (v.method, v.route, v.how) == ("GET", "/api/v1/admin/stages/{stage_id}/ranking", "scripted")]
    assert len(ranked) == 2
    live, closed = ranked
    assert closed == {"GetItem": 1, "BatchGetItem": 1, "Query": 1}
    assert live == {"GetItem": 1, "BatchGetItem": 1, "Query": 1 + 3}
