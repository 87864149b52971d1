"""Issuing the scoring links of a stage to many judges: `POST /api/v1/admin/stages/text_review/links`.

    .venv/bin/python benchmarks/bench_issue_links.py [--judges 200] [--runs 3] [--mail-rate 0]

The emulator is moto's server (benchmarks/moto_server.py) on a free port; the app runs in this process through
Chalice's test client (the request path without API Gateway), its AWS calls going over HTTP to the emulator.
Seeded through the app: 40 submitted cases of one category and `--judges` judges of that category, the text
review's assignments at 5 judges a case (each judge gets a case). Then the organiser issues the links `--runs`
times (each run replaces every link: the same work as the first). Printed: the wall time of each request, and
the AWS calls of the last one by operation. The request only queues the invitations; then the queued sender
(the app's `send_queued_mail`, as its schedule or the API's asynchronous start runs it) mails the last run's,
and its wall time and AWS calls are printed too (the earlier runs' queued invitations are dropped by it, their
links having been replaced). `--mail-rate`: MAIL_RATE_PER_SECOND of the mail port (0: no limiter, the
emulator's own speed; the stack's default is 10 a second, which alone spaces 200 mails over 20 s).
"""
from __future__ import annotations

from chalicelib.domain.clock import moment
import argparse
import os
import statistics
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_cold_start_requests import free_port, start_emulator  # noqa: E402

CASES, JUDGES_PER_CASE = 40, 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--judges", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mail-rate", type=float, default=0.0)
    args = parser.parse_args()
    port = free_port()
    server = start_emulator(port)
    try:
        import tests.conftest  # noqa: F401  (test settings: cheap argon2; it also drops AWS_ENDPOINT_URL)
        os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ap-southeast-1",
                           "TABLE_PREFIX": "saiping-bench-", "BUCKET_NAME": "saiping-bench-files",
                           "SIGNING_KEYS": "bench-signing-key", "MAIL_RATE_PER_SECOND": repr(args.mail_rate),
                           "SITE_URL": "https://bench.example.org"})
        from botocore.client import BaseClient
        from chalice.test import Client

        from app import app, send_queued_mail
        from chalicelib.jobs import mail_queue
        from chalicelib import bootstrap
        from tests.conftest import CHINA, Api, create_aws_resources, start_competition
        from tests.integration.test_judging_api import judges, organiser, submitted_cases

        bootstrap.reset()
        create_aws_resources()
        clock = start_competition()
        made: Counter = Counter()
        original = BaseClient._make_api_call

        def counting(self, operation_name, api_params):
            made[f"{self.meta.service_model.service_name}.{operation_name}"] += 1
            return original(self, operation_name, api_params)

        with Client(app) as client:
            api = Api(client)
            submitted_cases(api, clock, units=CASES // 2, per_unit=2)
            clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
            org = organiser(api)
            judges(org, args.judges)
            status, plan = org.call("POST", "/admin/stages/text_review/assignments",
                                    {"judges_per_case": JUDGES_PER_CASE})
            assert status == 200, plan
            BaseClient._make_api_call = counting
            times = []
            for _ in range(args.runs):
                made.clear()
                start = time.perf_counter()
                status, issued = org.call("POST", "/admin/stages/text_review/links")
                times.append(time.perf_counter() - start)
                assert status == 200, issued
            requested = dict(made)
            made.clear()
            start = time.perf_counter()
            drained = send_queued_mail(mail_queue.start_event(moment(time.time())), None)
            drain_time = time.perf_counter() - start
            BaseClient._make_api_call = original
        print(f"{len(issued['links'])} judges, {CASES} cases, mail rate {args.mail_rate or 'unlimited'}/s")
        print("request s: " + ", ".join(f"{t:.2f}" for t in times) + f"  (median {statistics.median(times):.2f})")
        print("AWS calls of the last request: " + ", ".join(f"{op} {n}" for op, n in sorted(requested.items())))
        print(f"queued sender: {drain_time:.2f} s, {drained}")
        print("AWS calls of the sender: " + ", ".join(f"{op} {n}" for op, n in sorted(made.items())))
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
