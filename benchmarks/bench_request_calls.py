"""AWS calls per request, for every route of the app's route table (API and pages), as the role that uses it.

    .venv/bin/python benchmarks/bench_request_calls.py [--markdown] [--json FILE]

In-process moto; a small competition run through its five stages by tests/integration/route_tour.py, every
request metered with botocore events (benchmarks/aws_calls.py). Prints one row per route: method, path, role,
status, DynamoDB calls by operation, S3 calls, SES calls, Scans. Goals (issue 8): a write 1-2 calls, a list 1
Query, 0 Scans anywhere. Rows with `plain` were not used by the scripted competition: the sweep called them
with an empty body at the end (a refusal path is what is measured then).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHORT = {"GetItem": "Get", "Query": "Query", "PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete",
         "TransactWriteItems": "TxWrite", "TransactGetItems": "TxGet", "BatchWriteItem": "BatchWrite",
         "BatchGetItem": "BatchGet", "Scan": "SCAN", "DescribeTable": "Describe"}


def tour():
    import tests.conftest  # noqa: F401  (the test environment: no endpoint, cheap argon2, moto registered)
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from benchmarks.aws_calls import Meter
    from chalicelib import bootstrap
    from tests.conftest import create_aws_resources, start_competition
    from tests.integration.route_tour import Tour

    with mock_aws():
        create_aws_resources()
        clock = start_competition()
        meter = Meter()
        meter.attach_app()
        import os
        os.environ["ASYNC_MODE"] = "poll"
        bootstrap.reset()
        bootstrap.set_clock(clock)
        meter.attach_app()
        with Client(app) as client:
            visits = Tour(client, meter, clock).run()
        bootstrap.reset()
    return visits


def note(v) -> str:
    """Why a row is above the goal (a write 1-2 calls, a list 1 Query, besides the session check)."""
    ddb = v.tally.by_service("dynamodb")
    n = sum(ddb.values())
    r = v.route
    if v.how == "plain":
        return "sweep: empty body, refusal path" if v.status >= 400 else "sweep"
    if "/links" in r and v.method == "POST":
        return ("bulk: the links, audit rows and mail-log rows of 33 judges per TxWrite (100 items), "
                "then one SES call per judge")
    if r.endswith("/ranking"):
        return "the stage row + the categories' stored rankings (1 BatchGet); live: the cases and scores (Query)"
    if "notifications/awards" in r:
        return "bulk: per awarded case a mail claim (Update), SES, a sent mark (Update)"
    if r.endswith("/close"):
        return "bulk, per category: stored ranking (Get), scores (Query), a TxWrite per 50 cases, ranking (Put) + S3"
    if r.endswith("/draw") and v.method == "POST":
        return "per category: the finalists (Query) and one Put; organiser, once per final"
    if r.startswith("/admin") or "/admin/" in r:
        if ddb.get("Query", 0) > 1:
            return "organiser page/report: one Query per (stage, category) partition of by_stage_category"
    if r.startswith("/api/v1/judge/cases") or r.startswith("/judge/cases"):
        if n > 2:
            return "judge session + link (1 TxGet), slot + case (1 TxGet), the change + audit row (1 TxWrite)"
    if v.method in ("PUT", "POST", "DELETE") and ddb.get("TransactWriteItems") and n >= 3:
        return "session (Get) + the rows the conditions need (TxGet/Get) + change + audit row (1 TxWrite)"
    if v.method == "GET" and ddb.get("Query", 0) > 1:
        return "feedback: the case's slots of coaching (Query) + replies; a few per coached case"
    return ""


def summarise(visits):
    """One row per (method, route): the visit with the most calls stands for the route (worst case)."""
    rows = {}
    for v in visits:
        key = (v.method, v.route)
        if key not in rows or v.tally.total() > rows[key].tally.total():
            rows[key] = v
    return [rows[k] for k in sorted(rows, key=lambda k: (k[1], k[0]))]


def dynamo_text(v) -> str:
    ops = v.tally.by_service("dynamodb")
    return " ".join(f"{SHORT.get(op, op)}×{n}" if n > 1 else SHORT.get(op, op) for op, n in sorted(ops.items())) or "–"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    visits = tour()
    rows = summarise(visits)
    scans = sum(v.tally.by_service("dynamodb").get("Scan", 0) for v in visits)
    if args.markdown:
        print("| Method | Path | Role | Stage | Status | DynamoDB calls | S3 | SES | Scans | Note |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    for v in rows:
        s3 = sum(v.tally.by_service("s3").values())
        ses = sum(v.tally.by_service("ses").values())
        scan = v.tally.by_service("dynamodb").get("Scan", 0)
        if args.markdown:
            print(f"| {v.method} | `{v.route}` | {v.role} | {v.stage} | {v.status} | {dynamo_text(v)} "
                  f"| {s3 or '–'} | {ses or '–'} | {scan} | {note(v)} |")
        else:
            print(f"{v.method:6s} {v.route:58s} {v.role:10s} {v.stage:11s} {v.status:3d}  "
                  f"{dynamo_text(v):40s} s3={s3} ses={ses} scans={scan} {v.how}")
    total = Counter()
    for v in visits:
        total.update(v.tally.calls)
    print(f"\n{len(rows)} routes, {len(visits)} requests; Scans on request paths: {scans}")
    if args.json:
        args.json.write_text(json.dumps([{"method": v.method, "route": v.route, "role": v.role, "stage": v.stage,
                                          "status": v.status, "how": v.how, **v.tally.as_dict()} for v in rows],
                                        ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
