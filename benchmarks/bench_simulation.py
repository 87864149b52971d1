"""A whole competition against the emulator: the five stages of the 2023 notice, mail, every export.

    .venv/bin/python benchmarks/bench_simulation.py [--cases 600] [--judges 30] [--inprocess] [--json FILE]

The app runs in this process through chalice's test client (as `chalice local` would run it); every AWS call
goes over HTTP to a moto *server* on a free port (as `make run` does), unless --inprocess (moto inside this
process: faster, less realistic). The clock is moved from stage to stage (the notice's dates); the schedules
(close_due_stages, send_reminders) and the exports function are called as EventBridge / Lambda would.

Stages (notice VII): 文本申报 (units register, write, upload an attachment, submit), 文本评审 (30 judges, 5 per
case, 15 advance per category), 专家辅导 (coaches' feedback, units' replies and revisions), 综合评选 (draw, every
judge of the category scores every finalist, live scoreboard, prizes), 省赛准备 (provincial picks, honors,
award mail, all five exports, the certificate check). For each: wall time, requests, AWS calls by operation,
DynamoDB request units (benchmarks/aws_calls.py), S3 and SES volume. --json writes it all for
benchmarks/cost_model.py.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from aws_calls import Meter, Tally  # noqa: E402

CHINA = timezone(timedelta(hours=8))
CATEGORIES = {"development": ("foresight", "practicality", "effectiveness"),
              "service": ("targeting", "mechanism", "effectiveness"),
              "empowerment": ("innovation", "effectiveness", "replicability")}
MAXIMA = {"foresight": 30, "practicality": 30, "targeting": 30, "mechanism": 30, "innovation": 30,
          "replicability": 30, "effectiveness": 40}
WORDS = "党建引领创新服务群众机制改革数字治理基层组织先锋队伍作风建设发展提质增效赋能营商环境民生保障社区志愿" \
        "城市管理政务数据共享平台网格融合实践成效推广示范标准流程考核监督协同联动阵地品牌"
PDF_BYTES = 200 * 1024          # one attachment per case in the emulator (the cost model scales S3 separately)


class Clock:
    """The simulation's clock (tests/conftest.py has one too, but importing it unsets AWS_ENDPOINT_URL)."""

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.t, tz=timezone.utc)

    def set(self, when: datetime) -> None:
        self.t = when.timestamp()


class Run:
    """Requests through the app, timed and metered; non-2xx answers are kept (a few are expected)."""

    def __init__(self, client: Any, meter: Meter) -> None:
        self.client = client
        self.meter = meter
        self.durations: list[float] = []
        self.app_seconds = 0.0
        self.by_route: dict[str, list[float]] = defaultdict(list)
        self.unexpected: Counter = Counter()

    def call(self, method: str, path: str, body: Any = None, token: str | None = None, route: str | None = None,
             ok: tuple[int, ...] = (200, 201, 202, 204)) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        with self.meter.measure() as t:
            start = time.perf_counter()
            response = getattr(self.client.http, method.lower())("/api/v1" + path, headers=headers, body=payload)
            spent = time.perf_counter() - start
        self.durations.append(spent)
        self.app_seconds += max(0.0, spent - t.aws_seconds)
        self.by_route[f"{method} {route or path}"].append(spent)
        data = json.loads(response.body) if response.body and response.headers.get(
            "Content-Type", "").startswith("application/json") else response.body
        if response.status_code not in ok:
            self.unexpected[(method, route or path, response.status_code)] += 1
            if self.unexpected[(method, route or path, response.status_code)] == 1:
                print(f"  unexpected: {method} {path} -> {response.status_code} {str(data)[:300]}", flush=True)
        return response.status_code, data

    def get_page(self, path: str, token: str) -> int:
        with self.meter.measure() as t:
            start = time.perf_counter()
            response = self.client.http.get(path, headers={"Cookie": f"sp_session={token}"})
            spent = time.perf_counter() - start
        self.durations.append(spent)
        self.app_seconds += max(0.0, spent - t.aws_seconds)
        self.by_route[f"GET {re.sub(r'/[0-9a-zA-Z_-]{12,}', '/{id}', path)}"].append(spent)
        return response.status_code


def text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(n)) + "。"


def case_body(rng: random.Random, category: str, unit: str, n: int) -> dict[str, Any]:
    return {
        "category": category, "recommending_unit": unit, "title": f"{text(rng, 14)[:-1]}（{n}）",
        "leader": {"name": f"牵头人{n}", "position": "科长", "office_phone": "0755-88134324",
                   "mobile": f"139{n:08d}", "gender": rng.choice(["female", "male"]),
                   "rank_level": rng.choice(["section_or_below", "above_section"]),
                   "birth_date": f"{rng.randint(1970, 1996)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"},
        "contact": {"name": f"联系人{n}", "position": "科员", "office_phone": "88134324", "mobile": f"137{n:08d}"},
        "background": text(rng, 700), "innovations": [text(rng, 300), text(rng, 300), text(rng, 200)],
        "results": [text(rng, 300), text(rng, 250)], "originality_pledge": True,
    }


def start_emulator(rollback_copies: bool):
    """moto's server; by default with the item-level rollback of benchmarks/moto_server.py (moto's own
    copies every touched table per transaction: --moto-rollback keeps that)."""
    from bench_close_stage import start_emulator as start
    return start() if rollback_copies else start(Path(__file__).with_name("moto_server.py"))


def run_schedules(run: Run, stage_tally: Tally, jobs: Counter) -> None:
    """What EventBridge runs in AWS: the 5-minute close/mail schedule and the hourly reminders."""
    from chalicelib.jobs import reminders, schedules
    start = time.perf_counter()
    schedules.close_due_stages()
    jobs["close_due_stages"] += 1
    jobs["close_due_stages_seconds"] += time.perf_counter() - start
    start = time.perf_counter()
    reminders.send_reminders()
    jobs["send_reminders"] += 1
    jobs["send_reminders_seconds"] += time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--judges", type=int, default=30)
    parser.add_argument("--cases-per-unit", type=int, default=6)
    parser.add_argument("--inprocess", action="store_true")
    parser.add_argument("--moto-rollback", action="store_true",
                        help="moto's own transaction rollback (copies whole tables; slow, memory-hungry)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.judges % 3:
        raise SystemExit("--judges: a multiple of 3 (one third per category)")

    proc = None
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "ap-southeast-1", "SAIPING_LOCAL": "1", "MAIL_RATE_PER_SECOND": "0",
                       "ASYNC_MODE": "poll"})
    if args.inprocess:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        from moto import mock_aws
        mock = mock_aws()
        mock.start()
        where = "moto in process"
    else:
        proc, port = start_emulator(args.moto_rollback)
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        where = (f"moto server over HTTP (127.0.0.1:{port}), "
                 f"{'its own' if args.moto_rollback else 'item-level (benchmarks/moto_server.py)'} transaction rollback")
    try:
        report = simulate(args, where)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except Exception:
                proc.kill()
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        print(f"written: {args.json}")


def simulate(args: argparse.Namespace, where: str) -> dict[str, Any]:
    import boto3
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap
    from chalicelib.services import accounts, stages
    from scripts import local_jobs, local_stack

    rng = random.Random(2023)
    bootstrap.reset()
    local_stack.create_resources("http://127.0.0.1:8000")
    comp = bootstrap.competition()
    stages.seed(comp, comp.default_windows)
    clock = Clock(datetime(2023, 5, 20, 9, 0, tzinfo=CHINA))
    bootstrap.set_clock(clock)
    accounts.ensure_organiser(bootstrap.deps().accounts, "organiser", "organiser-password-1", bootstrap.config(), bootstrap.now())
    cfg = bootstrap.config()
    browser_s3 = boto3.client("s3", region_name=cfg.region, endpoint_url=cfg.endpoint_url)
    browser_s3.meter_ignore = True

    meter = Meter()
    meter.attach_app()
    meter.guard_unattached()
    stages_report: list[dict[str, Any]] = []
    begun = time.perf_counter()

    with Client(app) as client:
        run = Run(client, meter)

        def stage(name: str, label: str):
            return StageTimer(name, label, run, meter, stages_report)

        def organiser() -> str:
            return run.call("POST", "/sessions", {"username": "organiser", "password": "organiser-password-1"})[1][
                "token"]

        units = max(1, args.cases // args.cases_per_unit)
        cases: dict[str, dict[str, Any]] = {}      # id -> {category, token, unit}
        # -- 1 文本申报 ---------------------------------------------------------------------------------
        with stage("submission", "文本申报: register, write, upload, submit") as st:
            run.call("GET", "/competition")
            tokens = []
            for u in range(units):
                name = f"深圳市第{u + 1}局"
                body = {"username": f"unit{u + 1}", "password": "correct-horse-1", "unit_name": name,
                        "unit_system": "municipal" if u % 4 else "district", "contact_name": "张三",
                        "email": f"unit{u + 1}@example.gov.cn", "mobile": "13800138000"}
                run.call("POST", "/accounts", body)
                token = run.call("POST", "/sessions", {"username": body["username"], "password": "correct-horse-1"})[
                    1]["token"]
                tokens.append((token, name, body["username"]))
            for n in range(args.cases):
                token, unit, user = tokens[n % units]
                category = list(CATEGORIES)[n % 3]
                clock.t += 60
                status, case = run.call("POST", "/cases", case_body(rng, category, unit, n), token, "/cases")
                if status != 201:
                    raise SystemExit(f"case {n} not created: {status} {case}")
                cid = case["id"]
                cases[cid] = {"category": category, "token": token, "unit": unit, "user": user}
                body = case_body(rng, category, unit, n)
                run.call("PUT", f"/cases/{cid}", {**body, "version": 1}, token, "/cases/{id}")
                _, declared = run.call("POST", f"/cases/{cid}/attachments", {
                    "filename": "参赛案例说明书.pdf", "content_type": "application/pdf", "size": PDF_BYTES}, token,
                    "/cases/{id}/attachments")
                fields = declared["upload"]["fields"]
                browser_s3.put_object(Bucket=cfg.bucket, Key=fields["key"], ContentType=fields["Content-Type"],
                                      Body=b"%PDF-1.7\n" + b"0" * (PDF_BYTES - 16) + b"\n%%EOF\n")
                st.browser_uploads += 1
                st.browser_upload_bytes += PDF_BYTES
                run.call("POST", f"/cases/{cid}/attachments/{declared['attachment_id']}/confirm", None, token,
                         "/cases/{id}/attachments/{aid}/confirm")
                run.call("GET", f"/cases/{cid}", None, token, "/cases/{id}")
                run.call("POST", f"/cases/{cid}/submit", None, token, "/cases/{id}/submit")
            for token, _, _ in tokens:
                run.call("GET", "/cases", None, token)
                run.get_page("/cases", token)
            clock.set(datetime(2023, 6, 8, 9, 0, tzinfo=CHINA))        # the deadline reminder, a day before
            run_schedules(run, st.tally, st.jobs)

        # -- 2 文本评审 ---------------------------------------------------------------------------------
        with stage("text_review", "文本评审: 30 judges, 5 per case, close, result mail") as st:
            clock.set(datetime(2023, 6, 10, 9, 0, tzinfo=CHINA))
            org = organiser()
            for j in range(args.judges):
                category = list(CATEGORIES)[j % 3]
                affiliation = tokens[j * 3 % units][1] if j % 5 == 4 else f"评审机构{j}"   # 1 in 5 sits in a unit: 回避
                run.call("POST", "/admin/judges", {"name": f"评委{j + 1}", "email": f"judge{j + 1}@example.org",
                                                   "affiliation": affiliation, "categories": [category]}, org)
            run.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 5}, org,
                     "/admin/stages/{stage}/assignments")
            run.call("GET", "/admin/stages/text_review/assignments", None, org, "/admin/stages/{stage}/assignments")
            _, issued = run.call("POST", "/admin/stages/text_review/links", None, org, "/admin/stages/{stage}/links")
            run_schedules(run, st.tally, st.jobs)                      # invitations by mail
            judge_tokens = score_all(run, rng, issued["links"], "text_review", cases)
            run.call("GET", "/admin/stages/text_review/fairness", None, org, "/admin/stages/{stage}/fairness")
            clock.set(datetime(2023, 6, 16, 20, 0, tzinfo=CHINA))
            run_schedules(run, st.tally, st.jobs)                      # judge reminders
            org = organiser()
            st.mark("close")
            run.call("POST", "/admin/stages/text_review/close", None, org, "/admin/stages/{stage}/close")
            st.mark("close done")
            run.call("GET", "/admin/stages/text_review/ranking", None, org, "/admin/stages/{stage}/ranking")
            clock.set(datetime(2023, 6, 17, 0, 5, tzinfo=CHINA))
            run_schedules(run, st.tally, st.jobs)                      # result mail (every case)
            st.mark("result mail done")
            del judge_tokens

        # -- 3 专家辅导 ---------------------------------------------------------------------------------
        with stage("coaching", "专家辅导: feedback, replies, revisions") as st:
            clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
            org = organiser()
            run.call("POST", "/admin/stages/coaching/assignments", {}, org, "/admin/stages/{stage}/assignments")
            _, issued = run.call("POST", "/admin/stages/coaching/links", None, org, "/admin/stages/{stage}/links")
            finalists = set()
            for link in issued["links"]:
                token = run.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"]
                for case in run.call("GET", "/judge/cases", None, token)[1]["cases"]:
                    finalists.add(case["id"])
                    run.call("GET", f"/judge/cases/{case['id']}", None, token, "/judge/cases/{id}")
                    run.call("PUT", f"/judge/cases/{case['id']}/feedback",
                             {"points": [text(rng, 60), text(rng, 80), text(rng, 40)]}, token,
                             "/judge/cases/{id}/feedback")
            clock.set(datetime(2023, 6, 18, 10, 0, tzinfo=CHINA))
            run_schedules(run, st.tally, st.jobs)                      # feedback notices
            fresh: dict[str, str] = {}                                # the units log in again (sessions expire)
            for cid in sorted(finalists):
                user = cases[cid]["user"]
                if user not in fresh:
                    fresh[user] = run.call("POST", "/sessions", {"username": user, "password": "correct-horse-1"})[1][
                        "token"]
                token = fresh[user]
                _, fb = run.call("GET", f"/cases/{cid}/feedback/replies", None, token, "/cases/{id}/feedback/replies")
                keys = [p["key"] for e in fb["feedback"] for p in e["points"]]
                run.call("PUT", f"/cases/{cid}/feedback/replies", {"replies": {k: text(rng, 50) for k in keys}},
                         token, "/cases/{id}/feedback/replies")
                _, current = run.call("GET", f"/cases/{cid}", None, token, "/cases/{id}")
                revised = {k: current[k] for k in ("category", "recommending_unit", "title", "leader", "contact",
                                                   "background", "innovations", "results", "originality_pledge")}
                revised["background"] = text(rng, 750)
                run.call("PUT", f"/cases/{cid}", {**revised, "version": current["version"]}, token, "/cases/{id}",
                         ok=(200, 403, 409))
            st.finalists = len(finalists)

        # -- 4 综合评选 ---------------------------------------------------------------------------------
        with stage("final", "综合评选: draw, every judge scores every finalist, scoreboard, close") as st:
            clock.set(datetime(2023, 6, 26, 9, 0, tzinfo=CHINA))
            org = organiser()
            run.call("POST", "/admin/stages/final/assignments", {}, org, "/admin/stages/{stage}/assignments")
            run.call("POST", "/admin/stages/final/draw", {"seed": "hall-2023"}, org, "/admin/stages/{stage}/draw")
            _, issued = run.call("POST", "/admin/stages/final/links", None, org, "/admin/stages/{stage}/links")
            score_all(run, rng, issued["links"], "final", cases, scoreboard=org)
            org = organiser()
            st.mark("close")
            run.call("POST", "/admin/stages/final/close", None, org, "/admin/stages/{stage}/close")
            clock.set(datetime(2023, 7, 11, 0, 5, tzinfo=CHINA))
            run_schedules(run, st.tally, st.jobs)
            st.mark("result mail done")

        # -- 5 省赛准备 ---------------------------------------------------------------------------------
        with stage("provincial", "省赛准备: picks, honors, award mail, exports, certificate check") as st:
            clock.set(datetime(2023, 7, 12, 9, 0, tzinfo=CHINA))
            org = organiser()
            _, ranking = run.call("GET", "/admin/stages/final/ranking", None, org, "/admin/stages/{stage}/ranking")
            picks = [e["case_id"] for entries in ranking["categories"].values() for e in entries[:3]]
            for cid in picks:
                run.call("PUT", f"/admin/cases/{cid}/provincial", {"recommended": True}, org,
                         "/admin/cases/{id}/provincial")
            run.call("GET", "/admin/honors", None, org)
            run.call("GET", "/admin/organisation-awards", None, org)
            run.call("POST", "/admin/notifications/awards", None, org)
            codes = []
            for kind in ("results_xlsx", "scores_xlsx", "registrations_xlsx", "certificates_pdf", "award_list_docx"):
                _, job = run.call("POST", "/admin/exports", {"kind": kind}, org, "/admin/exports")
                start = time.perf_counter()
                with meter.measure() as t:
                    local_jobs.run_queued_exports()
                st.exports[kind] = {"seconds": round(time.perf_counter() - start, 3),
                                    "aws_seconds": round(t.aws_seconds, 3), "s3_bytes": t.s3_put_bytes,
                                    "calls": {f"{s}.{o}": n for (s, o), n in t.calls.items()}}
                _, view = run.call("GET", f"/admin/exports/{job['id']}", None, org, "/admin/exports/{id}")
                st.exports[kind]["status"] = view.get("status")
            for cert in certificate_codes(cfg)[:20]:
                with meter.measure() as t:
                    start = time.perf_counter()
                    response = client.http.get(f"/verify/{cert}")
                    run.durations.append(time.perf_counter() - start)
                    run.app_seconds += max(0.0, run.durations[-1] - t.aws_seconds)
                codes.append(response.status_code)
            st.verify_statuses = dict(Counter(codes))
            run.call("GET", "/admin/mail", None, org)
            for _ in range(2):
                run_schedules(run, st.tally, st.jobs)

        # -- idle: one run of each schedule with nothing due (what runs all year) -----------------------
        idle: dict[str, Any] = {}
        clock.set(datetime(2023, 9, 1, 9, 0, tzinfo=CHINA))
        from chalicelib.jobs import reminders, schedules
        for name, fn in (("close_due_stages", schedules.close_due_stages), ("send_reminders", reminders.send_reminders)):
            with meter.measure() as t:
                start = time.perf_counter()
                fn()
                spent = time.perf_counter() - start
            idle[name] = {"seconds": round(spent, 4), "aws_seconds": round(t.aws_seconds, 4), **t.as_dict()}

    total_wall = time.perf_counter() - begun
    table_bytes = stored_bytes(cfg)
    durations = sorted(run.durations)
    return {
        "where": where, "cases": args.cases, "judges": args.judges, "units": units,
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_end": os.getloadavg(), "wall_seconds": round(total_wall, 1),
        "stages": stages_report, "idle_schedules": idle, "table_bytes": table_bytes,
        "requests": len(durations), "request_seconds": round(sum(durations), 2),
        "request_app_seconds": round(run.app_seconds, 2),
        "request_p50": durations[len(durations) // 2] if durations else 0,
        "request_p95": durations[int(len(durations) * 0.95)] if durations else 0,
        "unexpected": {f"{m} {p} -> {s}": n for (m, p, s), n in run.unexpected.items()},
        "unattached_calls": {f"{s}.{o}": n for (s, o), n in meter.unattached_calls.items()},
        "total": meter.tally.as_dict(),
        "routes": {k: {"n": len(v), "mean_s": round(sum(v) / len(v), 4)} for k, v in sorted(run.by_route.items())},
    }


def stored_bytes(cfg: Any) -> int:
    """DynamoDB's billable size of every item at the end (the benchmark's own Scan, unmetered client)."""
    import boto3

    from aws_calls import item_size
    from chalicelib.store import models
    ddb = boto3.client("dynamodb", region_name=cfg.region, endpoint_url=cfg.endpoint_url)
    ddb.meter_ignore = True
    total = 0
    for model in models.MODELS:
        for page in ddb.get_paginator("scan").paginate(TableName=model.Meta.table_name):
            total += sum(item_size(i) + 100 for i in page["Items"])    # + 100 bytes of index overhead per item
    return total


def certificate_codes(cfg: Any) -> list[str]:
    """Printed codes, as a visitor would type them: the benchmark's own look, with its own (unmetered) client."""
    import boto3

    from chalicelib.store.models import Certificate
    ddb = boto3.client("dynamodb", region_name=cfg.region, endpoint_url=cfg.endpoint_url)
    ddb.meter_ignore = True
    items = ddb.scan(TableName=Certificate.Meta.table_name, Limit=20)["Items"]
    return [i["code"]["S"] for i in items]


def score_all(run: Run, rng: random.Random, links: list[dict[str, Any]], stage: str, cases: dict[str, Any],
              scoreboard: str | None = None) -> list[str]:
    tokens = []
    for i, link in enumerate(links):
        token = run.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"]
        tokens.append(token)
        run.get_page("/judge", token)
        mine = run.call("GET", "/judge/cases", None, token)[1]["cases"]
        for case in mine:
            cid = case["id"]
            run.call("GET", f"/judge/cases/{cid}", None, token, "/judge/cases/{id}")
            names = CATEGORIES[run_category(cases, cid)]
            sheet = {c: round(rng.uniform(0.5, 0.95) * MAXIMA[c], 1) for c in names}
            run.call("PUT", f"/judge/cases/{cid}/score", {"criteria": sheet, "comment": text(rng, 30)}, token,
                     "/judge/cases/{id}/score")
            if scoreboard and rng.random() < 0.3:                     # the hall's screen polls as scores come
                run.call("GET", f"/admin/final/scoreboard?category={run_category(cases, cid)}", None, scoreboard,
                         "/admin/final/scoreboard?category=")
    return tokens


def run_category(cases: dict[str, Any], cid: str) -> str:
    return cases[cid]["category"]


class StageTimer:
    def __init__(self, name: str, label: str, run: Run, meter: Meter, out: list[dict[str, Any]]) -> None:
        self.name, self.label, self.run, self.meter, self.out = name, label, run, meter, out
        self.jobs: Counter = Counter()
        self.exports: dict[str, Any] = {}
        self.marks: list[tuple[str, float]] = []
        self.browser_uploads = 0
        self.browser_upload_bytes = 0
        self.finalists = 0
        self.verify_statuses: dict[int, int] = {}

    def mark(self, what: str) -> None:
        self.marks.append((what, round(time.perf_counter() - self.start, 2)))
        print(f"  [{self.name}] {what} at {self.marks[-1][1]} s", flush=True)

    def __enter__(self) -> "StageTimer":
        print(f"stage {self.name} ...", flush=True)
        self.start = time.perf_counter()
        self.requests0 = len(self.run.durations)
        self.seconds0 = sum(self.run.durations)
        self.app0 = self.run.app_seconds
        self._cm = self.meter.measure()
        self.tally = self._cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)
        wall = time.perf_counter() - self.start
        requests = len(self.run.durations) - self.requests0
        entry = {"stage": self.name, "label": self.label, "wall_seconds": round(wall, 2), "requests": requests,
                 "request_seconds": round(sum(self.run.durations) - self.seconds0, 2),
                 "request_app_seconds": round(self.run.app_seconds - self.app0, 2),
                 "schedule_runs": {k: v for k, v in self.jobs.items() if not k.endswith("_seconds")},
                 "schedule_seconds": round(sum(v for k, v in self.jobs.items() if k.endswith("_seconds")), 2),
                 "browser_uploads": self.browser_uploads, "browser_upload_bytes": self.browser_upload_bytes,
                 "marks": self.marks, "exports": self.exports, "finalists": self.finalists,
                 "verify_statuses": self.verify_statuses, **self.tally.as_dict()}
        self.out.append(entry)
        print(f"stage {self.name}: {wall:.1f} s, {requests} requests, {self.tally.total()} AWS calls", flush=True)


def print_report(r: dict[str, Any]) -> None:
    print()
    print(f"Full competition: {r['cases']} cases, {r['units']} units, {r['judges']} judges; {r['where']}")
    print(f"Python {r['python']}, {r['cpus']} CPUs, load at the end {r['load_end']}, {r['date']}")
    print(f"wall {r['wall_seconds']} s; {r['requests']} requests, {r['request_seconds']} s in requests "
          f"({r['request_app_seconds']} s outside AWS calls), p50 {r['request_p50'] * 1000:.0f} ms, "
          f"p95 {r['request_p95'] * 1000:.0f} ms")
    for s in r["stages"]:
        calls = s["calls"]
        print(f"\n{s['stage']} ({s['label']}): {s['wall_seconds']} s wall, {s['requests']} requests, "
              f"{sum(calls.values())} AWS calls, {s['aws_seconds']} s inside AWS calls, RRU {s['rru']:.0f}, "
              f"WRU {s['wru']:.0f}, S3 put {s['s3_put_bytes'] / 1e6:.1f} MB, mails {s['ses_messages']}")
        for name, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"    {name:38s} {n:7d}")
        for what, at in s["marks"]:
            print(f"    mark: {what} at {at} s")
        for kind, e in s["exports"].items():
            print(f"    export {kind}: {e['seconds']} s ({e['aws_seconds']} s in AWS), {e['s3_bytes'] / 1024:.0f} KiB, "
                  f"{e.get('status')}")
    print("\nidle schedule runs:", json.dumps({k: {"seconds": v["seconds"], "calls": v["calls"]}
                                             for k, v in r["idle_schedules"].items()}, ensure_ascii=False))
    scans = sum(n for k, n in r["total"]["calls"].items() if k.endswith(".Scan"))
    print(f"Scans: {scans}; unattached clients' calls: {r['unattached_calls']}")
    print(f"unexpected answers: {json.dumps(r['unexpected'], ensure_ascii=False)}")


if __name__ == "__main__":
    main()
