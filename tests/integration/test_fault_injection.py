"""Fault injection through botocore's events (tests/integration/faults.py): throttles and 5xx on DynamoDB, S3
and SES calls, through the real HTTP API (chalice test client + moto).

For each request below, a clean run first counts its AWS calls (N) and what it writes (rows added / changed
per table, objects in S3, mails sent). Then, each on a fresh subject and fresh clients (botocore's retry
quota starts full):
  - persistent faults from call k, for every k < N: either the request still succeeds (the faults hit only
    best-effort work: a mail) or it answers 503 `unavailable` with a Chinese message and Retry-After, and
    then the tables, the bucket and the mail sent are exactly as before; the same request without faults
    then succeeds and writes what the clean run wrote;
  - transient faults (seeded: which call, how many attempts, which error) below the client's retry budget:
    the request succeeds, botocore retried, and it wrote exactly what the clean run wrote (one row, not two).
Closing a stage (rankings in S3, outcomes in transactions, result mail by the schedule) and the export job
have their own tests. Mail is counted in moto's SES: never twice through the mail port (the one way a mail
can arrive twice, below the port, is SES acting on a SendRawEmail whose answer is lost: the last test).
"""
from __future__ import annotations

import copy
import itertools
import json
import random
import re
import types
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import boto3
import pytest
from chalicelib.config import AwsTimeouts
from tests.conftest import CHINA, Api, case_body, register_unit
from tests.integration.faults import Faults
from tests.integration.mailbox import ses_messages
from tests.integration.test_judging_api import judges, organiser

PDF_BYTES = b"%PDF-1.7\n" + b"0" * 1000 + b"\n%%EOF\n"
# retries per call: every client (the store's PynamoDB connection and bootstrap's boto3 clients) makes the
# config's AwsTimeouts.max_attempts in all (standard mode), so a fault is tried again that many times less one
RETRIES = {service: AwsTimeouts().max_attempts - 1 for service in ("dynamodb", "s3", "ses")}
HAN = re.compile(r"[\u4e00-\u9fff]")


# -- the world as data ----------------------------------------------------------------------------
# Login counts an attempt before it checks the password (one conditional update per username and per client,
# so parallel guesses cannot all be checked: docs/SECURITY of the accounts): an attempt that then meets a fault
# stays counted, as it would on DynamoDB. Those counters are left out where a login's writes are compared.
ATTEMPT_COUNTERS = ('[{"S": "login#', '[{"S": "client#')


def snapshot(skip_attempt_counters: bool = False) -> dict[str, Any]:
    """Every table's items, every object in the bucket, every mail sent, read from moto's backends (no
    request, so no fault and quick)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    from chalicelib import bootstrap
    cfg = bootstrap.config()
    tables: dict[str, dict[str, str]] = {}
    for name, table in dynamodb_backends[DEFAULT_ACCOUNT_ID][cfg.region].tables.items():
        rows: dict[str, str] = {}
        for item in table.all_items():
            key = json.dumps([item.hash_key.to_json(), item.range_key.to_json() if item.range_key else None],
                             sort_keys=True)
            if not (skip_attempt_counters and key.startswith(ATTEMPT_COUNTERS)):
                rows[key] = json.dumps(item.to_json(), sort_keys=True)
        tables[name] = rows
    bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[cfg.bucket]
    objects = {key: bucket.keys[key].etag for key in list(bucket.keys.keys())}
    return {"tables": tables, "objects": objects, "mails": len(ses_messages())}


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed, as counts: rows added / changed / removed per table, objects added, mails sent."""
    shape: dict[str, Any] = {}
    for name, rows in after["tables"].items():
        old = before["tables"].get(name, {})
        added = len(rows.keys() - old.keys())
        changed = sum(1 for k in rows.keys() & old.keys() if rows[k] != old[k])
        removed = len(old.keys() - rows.keys())
        if added or changed or removed:
            shape[name.rsplit("-", 1)[-1]] = (added, changed, removed)
    shape["objects"] = len(after["objects"].keys() - before["objects"].keys())
    shape["mails"] = after["mails"] - before["mails"]
    return shape


# -- requests with their headers ------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(api: Api, method: str, path: str, body: Any = None) -> Answer:
    headers = {"Content-Type": "application/json"}
    if api.token:
        headers["Authorization"] = f"Bearer {api.token}"
    payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    response = getattr(api.client.http, method.lower())("/api/v1" + path, headers=headers, body=payload)
    data = json.loads(response.body) if response.body else None
    return Answer(response.status_code, data, {k.lower(): v for k, v in response.headers.items()})


def assert_unavailable(answer: Answer) -> None:
    assert answer.status == 503, (answer.status, answer.body)
    error = answer.body["error"]
    assert error["code"] == "unavailable" and HAN.search(error["message"]), answer.body
    assert answer.headers.get("retry-after", "").isdigit(), answer.headers


# -- the harness ------------------------------------------------------------------------------------
class Harness:
    def __init__(self, seed: int, monkeypatch, clock):
        self.faults = Faults(seed)
        self.rng = random.Random(seed)
        self.clock = clock
        self.faults.no_sleep(monkeypatch)
        self.fresh_clients()
        self.report: list[str] = []

    def fresh_clients(self) -> None:
        """New app clients (full retry quota) with the fault handler in place of moto's."""
        from chalicelib import bootstrap
        bootstrap.reset()
        bootstrap.set_clock(self.clock)
        self.faults.install(Faults.app_clients())

    def exercise(self, name: str, prepare: Callable[[], Any], act: Callable[[Any], Answer],
                 ok: tuple[int, ...] = (200, 201), transient_trials: int = 3,
                 skip_attempt_counters: bool = False, unserved: Callable[[str], bool] | None = None
                 ) -> dict[str, Any]:
        """The clean run, every persistent fault point, a few seeded transient ones. Returns counts.
        `unserved`: object keys a failed request may leave behind because nothing reads them until the retry
        writes them again (an attachment's copy made before its check, its record still pending)."""
        def shot() -> dict[str, Any]:
            return snapshot(skip_attempt_counters)

        def served_only(seen: dict[str, Any]) -> dict[str, Any]:
            if unserved:
                seen["objects"] = {key: tag for key, tag in seen["objects"].items()
                                   if key in before["objects"] or not unserved(key)}
            return seen

        subject = prepare()
        before = shot()
        self.faults.arm()
        answer = act(subject)
        calls = self.faults.disarm()
        clean = delta(before, shot())
        assert answer.status in ok, (name, answer.status, answer.body)
        assert all(not c.faults for c in calls)
        counts = {"calls": len(calls), "unavailable": 0, "succeeded_despite": 0, "transient_ok": 0,
                  "retries": 0}

        for k in range(len(calls)):                      # every call point, persistent faults from there on
            self.fresh_clients()
            subject = prepare()
            before = shot()
            self.faults.arm().persistent_from(k)
            answer = act(subject)
            self.faults.disarm()
            after = shot()
            if answer.status in ok:
                # only best-effort work failed (a mail): the request's own writes all landed
                counts["succeeded_despite"] += 1
                got = delta(before, after)
                assert {t: v for t, v in got.items() if t not in ("mail_log", "mails")} == \
                       {t: v for t, v in clean.items() if t not in ("mail_log", "mails")}, (name, k, got, clean)
                assert got["mails"] <= clean["mails"]
                continue
            assert_unavailable(answer)
            served_only(after)
            assert after == before, (name, k, delta(before, after))   # nothing written, nothing half-written
            counts["unavailable"] += 1
            self.fresh_clients()
            again = act(subject)                         # the client's retry, faults gone
            assert again.status in ok, (name, k, again.status, again.body)
            assert delta(before, served_only(shot())) == clean, (name, k)

        for _ in range(transient_trials):                # fewer faults than the retry budget: retried, once
            self.fresh_clients()
            subject = prepare()
            k = self.rng.randrange(len(calls))
            failures = self.rng.randint(1, RETRIES[calls[k].service])
            before = shot()
            self.faults.arm().transient(k, failures)
            answer = act(subject)
            seen = self.faults.disarm()
            assert answer.status in ok, (name, k, failures, answer.status, answer.body)
            assert len(seen[k].faults) == failures and seen[k].reached, (name, k, seen[k])
            assert delta(before, shot()) == clean, (name, k, failures)
            counts["transient_ok"] += 1
            counts["retries"] += failures
        self.report.append(f"{name}: {counts}")
        return counts


@pytest.fixture
def harness(aws, clock, client, monkeypatch):
    h = Harness(20261126, monkeypatch, clock)
    yield h
    print("\n" + "\n".join(h.report))


# -- accounts -------------------------------------------------------------------------------------
def test_register_and_login_under_faults(api, harness):
    numbers = iter(range(100, 1000))

    def new_unit() -> dict[str, Any]:
        n = next(numbers)
        return {"username": f"unit{n}", "password": "correct-horse-1", "unit_name": f"深圳市第{n}局",
                "unit_system": "municipal", "contact_name": "张三", "email": f"u{n}@example.gov.cn",
                "mobile": "13800138000"}

    registered = harness.exercise("register", new_unit, lambda body: call(api, "POST", "/accounts", body))
    assert registered["unavailable"] >= 1

    register_unit(api, 1)
    login = {"username": "unit1", "password": "correct-horse-1"}
    logged_in = harness.exercise("login", lambda: login, lambda body: call(api, "POST", "/sessions", body),
                                 skip_attempt_counters=True)
    assert logged_in["unavailable"] >= 1


# -- cases ----------------------------------------------------------------------------------------
def test_case_create_edit_submit_under_faults(api, harness):
    unit = api.as_(register_unit(api, 1))

    harness.exercise("case create", lambda: None, lambda _: call(unit, "POST", "/cases", case_body()))

    def draft() -> dict[str, Any]:
        status, case = unit.call("POST", "/cases", case_body())
        assert status == 201, case
        return case

    harness.exercise("case edit", draft, lambda case: call(
        unit, "PUT", f"/cases/{case['id']}", {**case_body(title="改过的标题"), "version": case["version"]}))
    submitted = harness.exercise("case submit", draft,
                                 lambda case: call(unit, "POST", f"/cases/{case['id']}/submit"))
    assert submitted["unavailable"] >= 1


def test_upload_presign_and_confirm_under_faults(api, harness):
    from chalicelib import bootstrap
    unit = api.as_(register_unit(api, 1))

    def declare_new() -> dict[str, Any]:
        status, case = unit.call("POST", "/cases", case_body())
        assert status == 201
        return case

    harness.exercise("upload presign", declare_new, lambda case: call(
        unit, "POST", f"/cases/{case['id']}/attachments",
        {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(PDF_BYTES)}))

    def uploaded() -> tuple[str, str]:
        case = declare_new()
        status, answer = unit.call("POST", f"/cases/{case['id']}/attachments",
                                   {"filename": "说明书.pdf", "content_type": "application/pdf",
                                    "size": len(PDF_BYTES)})
        assert status == 201, answer
        fields = answer["upload"]["fields"]
        boto3.client("s3", region_name=bootstrap.config().region).put_object(
            Bucket=bootstrap.config().bucket, Key=fields["key"], Body=PDF_BYTES, ContentType=fields["Content-Type"])
        return case["id"], answer["attachment_id"]

    served: list[str] = []

    def upload_to_confirm() -> tuple[str, str]:
        ids = uploaded()
        served.append(f"cases/{ids[0]}/{ids[1]}")
        return ids

    def still_pending(key: str) -> bool:
        """A copy of the attachment that its record does not name (a confirm that failed after copying: the
        record is still pending, the tables are compared whole): nothing downloads it; the retry makes its own."""
        from chalicelib.store import cases as case_store
        if not key.startswith(served[-1] + "/"):
            return False
        case_id, attachment_id = served[-1].split("/")[1:]
        record = case_store.attachments_of(case_store.get(case_id)).get(attachment_id) or {}
        return key != record.get("key") or record.get("status") != "verified"

    confirmed = harness.exercise("upload confirm", upload_to_confirm, lambda ids: call(
        unit, "POST", f"/cases/{ids[0]}/attachments/{ids[1]}/confirm"), unserved=still_pending)
    assert confirmed["unavailable"] >= 1


# -- judging --------------------------------------------------------------------------------------
def _judge_world(api, clock, units: int = 2) -> tuple[Api, Api, list[str]]:
    ids = []
    for n in range(1, units + 1):
        unit = api.as_(register_unit(api, n, unit_name=f"单位{n}"))
        status, case = unit.call("POST", "/cases", case_body(recommending_unit=f"单位{n}", title=f"案例{n}"))
        assert status == 201 and unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
        ids.append(case["id"])
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 2)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    return org, api, ids


def test_score_save_under_faults(api, clock, harness):
    org, api, _ = _judge_world(api, clock)
    link = org.call("POST", "/admin/stages/text_review/links")[1]["links"][0]["url"].rsplit("/j/", 1)[1]
    judge = api.as_(api.call("POST", "/judge/sessions", {"link": link})[1]["token"])
    case_id = judge.call("GET", "/judge/cases")[1]["cases"][0]["id"]
    totals = iter(range(10, 30))

    def sheet() -> dict[str, Any]:
        return {"criteria": {"foresight": 20, "practicality": 20, "effectiveness": next(totals)}, "comment": "好"}

    saved = harness.exercise("score save", sheet, lambda body: call(
        judge, "PUT", f"/judge/cases/{case_id}/score", body))
    assert saved["unavailable"] >= 1


# -- closing a stage: rankings in S3, outcomes in transactions, result mail from the schedule -------------
class Checkpoint:
    """moto's tables, bucket and sent mail as they are now, to go back to (a closed stage cannot be closed
    for the first time again)."""

    def __init__(self):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.ses.models import ses_backends

        from chalicelib import bootstrap
        cfg = bootstrap.config()
        self.dynamodb = dynamodb_backends[DEFAULT_ACCOUNT_ID][cfg.region]
        self.ses = ses_backends[DEFAULT_ACCOUNT_ID][cfg.region]
        self.items = {name: copy.deepcopy(table.items) for name, table in self.dynamodb.tables.items()}
        self.objects = set(snapshot()["objects"])
        self.mails = len(self.ses.sent_messages)

    def restore(self) -> None:
        from chalicelib import bootstrap
        for name, items in self.items.items():
            self.dynamodb.tables[name].items = copy.deepcopy(items)
        cfg = bootstrap.config()
        s3 = boto3.client("s3", region_name=cfg.region)
        for key in set(snapshot()["objects"]) - self.objects:
            s3.delete_object(Bucket=cfg.bucket, Key=key)
        del self.ses.sent_messages[self.mails:]


def _scored_world(api, clock) -> tuple[Api, list[str], dict[str, str]]:
    """Two submitted cases, each scored by its one judge, in the text review. Returns the organiser, the case
    ids and the units' addresses."""
    org, api, ids = _judge_world(api, clock)
    for n, link in enumerate(org.call("POST", "/admin/stages/text_review/links")[1]["links"]):
        judge = api.as_(api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"])
        for case in judge.call("GET", "/judge/cases")[1]["cases"]:
            body = {"criteria": {"foresight": 25, "practicality": 25, "effectiveness": 30 - 10 * n}}
            assert judge.call("PUT", f"/judge/cases/{case['id']}/score", body)[0] == 200
    return org, ids, {"u1@example.gov.cn", "u2@example.gov.cn"}


def _schedule() -> Any:
    from chalicelib.jobs import schedules
    try:
        return schedules.close_due_stages()
    except Exception as exc:           # the function fails; EventBridge runs it again in 5 minutes
        return exc


def _result_mail_per_recipient() -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in ses_messages():
        if str(message["X-Saiping-Mail"]).strip().startswith(("advance#", "not_advance#")):
            counts[message["To"]] = counts.get(message["To"], 0) + 1
    return counts


def _mail_rows(status: str) -> set[str]:
    """Recipients of result mail whose mail-log row has `status`."""
    rows = snapshot()["tables"]
    found = set()
    for name, items in rows.items():
        if name.endswith("mail_log"):
            for item in (json.loads(v)["Attributes"] for v in items.values()):
                if item["kind"]["S"] in ("advance", "not_advance") and item["status"]["S"] == status:
                    found.add(item["recipient"]["S"])
    return found


def without_mail(shape: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in shape.items() if k != "mails"}


def _statuses(ids: list[str]) -> list[str]:
    from chalicelib.store.models import Case
    return sorted(Case.get(i).status for i in ids)


def test_stage_close_and_result_mail_under_faults(api, clock, harness):
    org, ids, recipients = _scored_world(api, clock)
    start = Checkpoint()
    mails_before = _result_mail_per_recipient()
    close = lambda: call(org, "POST", "/admin/stages/text_review/close")  # noqa: E731

    before = snapshot()
    harness.faults.arm()
    assert close().status == 200
    close_calls = harness.faults.disarm()
    harness.faults.arm()
    assert _schedule() == []
    schedule_calls = harness.faults.disarm()
    clean = delta(before, snapshot())
    outcomes = _statuses(ids)
    assert outcomes == ["advanced", "not_advanced"] or outcomes == ["advanced", "advanced"], outcomes
    mails = _result_mail_per_recipient()
    assert set(mails) == recipients and set(mails.values()) == {1} and not mails_before
    assert any(c.service == "s3" for c in close_calls) and any(c.service == "ses" for c in schedule_calls)
    counts = {"close_calls": len(close_calls), "schedule_calls": len(schedule_calls), "close_503": 0,
              "close_200": 0, "schedule_failed": 0, "mail_left_sending": 0, "transient_ok": 0}

    # the organiser's close, persistent faults from a seeded sample of points (always the S3 put)
    s3_put = next(i for i, c in enumerate(close_calls) if c.service == "s3")
    points = sorted({s3_put, *harness.rng.sample(range(len(close_calls)), min(5, len(close_calls)))})
    for k in points:
        start.restore()
        harness.fresh_clients()
        harness.faults.arm().persistent_from(k)
        answer = close()
        harness.faults.disarm()
        if answer.status == 200:
            counts["close_200"] += 1
        else:
            assert_unavailable(answer)
            counts["close_503"] += 1
        harness.fresh_clients()
        assert close().status == 200                     # the organiser tries again: closing is idempotent
        assert _schedule() == []
        assert delta(before, snapshot()) == clean, (k, delta(before, snapshot()))
        assert _statuses(ids) == outcomes and _result_mail_per_recipient() == mails, k

    # the schedule closing the stage itself (its window has passed), interrupted at a seeded sample of points
    clock.set(datetime(2023, 6, 17, 9, 0, tzinfo=CHINA))
    start.restore()
    harness.fresh_clients()
    harness.faults.arm()
    assert _schedule() == ["text_review"]
    scheduled_calls = harness.faults.disarm()
    scheduled_clean = delta(before, snapshot())
    sends = [i for i, c in enumerate(scheduled_calls) if c.operation == "SendRawEmail"]
    points = sorted({s3_put, sends[0], sends[0] + 1,          # the S3 put; SES; just after SES accepted a mail
                     *harness.rng.sample(range(len(scheduled_calls)), min(5, len(scheduled_calls)))})
    for k in points:
        start.restore()
        harness.fresh_clients()
        harness.faults.arm().persistent_from(k)
        first = _schedule()
        harness.faults.disarm()
        counts["schedule_failed"] += isinstance(first, Exception)
        harness.fresh_clients()
        _schedule()                                      # the next run, 5 minutes later, faults gone
        assert _statuses(ids) == outcomes, (k, scheduled_calls[k])
        got = _result_mail_per_recipient()
        assert set(got.values()) <= {1}, (k, got)        # never twice
        # a mail whose outcome could not be recorded (DynamoDB failing too) keeps its row at "sending" and is
        # never tried again, whether it went out or not; every other mail went out on the next run
        assert set(recipients) - set(got) <= _mail_rows("sending"), (k, scheduled_calls[k], got)
        counts["mail_left_sending"] += len(recipients) - len(got)
        assert without_mail(delta(before, snapshot())) == without_mail(scheduled_clean), (k, scheduled_calls[k])

    # SES alone failing from the first send on: the mails' rows say "failed", the next run sends them, once
    start.restore()
    harness.fresh_clients()
    harness.faults.arm().persistent_from(sends[0], services=["ses"])
    assert _schedule() == ["text_review"]
    harness.faults.disarm()
    assert _mail_rows("failed") == recipients and _result_mail_per_recipient() == {}
    harness.fresh_clients()
    assert _schedule() == []
    assert _result_mail_per_recipient() == mails and delta(before, snapshot()) == scheduled_clean

    # SES accepted the mail, then every DynamoDB call fails: the row stays "sending", no second send
    start.restore()
    harness.fresh_clients()
    harness.faults.arm().persistent_from(sends[0] + 1, services=["dynamodb"])
    _schedule()
    harness.faults.disarm()
    harness.fresh_clients()
    _schedule()
    _schedule()
    assert set(_result_mail_per_recipient().values()) == {1} and len(_mail_rows("sending")) == 1

    for _ in range(2):                                   # transient faults: retried, the same outcome
        start.restore()
        harness.fresh_clients()
        k = harness.rng.randrange(len(scheduled_calls))
        failures = harness.rng.randint(1, RETRIES[scheduled_calls[k].service])
        harness.faults.arm().transient(k, failures)
        assert _schedule() == ["text_review"]
        assert len(harness.faults.disarm()[k].faults) == failures
        assert delta(before, snapshot()) == scheduled_clean and _result_mail_per_recipient() == mails
        counts["transient_ok"] += 1
    harness.report.append(f"stage close: {counts}")


# -- exports: the request, then the job (the `exports` function) building the file into S3 ------------
def _export_objects(job_id: str) -> list[str]:
    return [k for k in snapshot()["objects"] if k.startswith(f"exports/{job_id}/")]


def test_export_job_under_faults(api, clock, harness, monkeypatch):
    from chalicelib.jobs import exports as export_function
    from chalicelib.store import exports as export_store
    from chalicelib.store.exports import LEASE_SECONDS
    from chalicelib.services import exports as export_service
    monkeypatch.setenv("ASYNC_MODE", "poll")
    # progress is written at most every half second of the build: a clock that moves one second a reading
    # makes the number of progress writes (AWS calls) the same in every run
    ticks = itertools.count()
    monkeypatch.setattr(export_service, "time", types.SimpleNamespace(monotonic=lambda: float(next(ticks))))
    harness.fresh_clients()
    unit = api.as_(register_unit(api, 1))
    assert unit.call("POST", "/cases", case_body())[0] == 201
    org = organiser(api)
    export = lambda: call(org, "POST", "/admin/exports", {"kind": "registrations_xlsx"})  # noqa: E731
    requested = harness.exercise("export request", lambda: None, lambda _: export(), ok=(202,))
    assert requested["unavailable"] >= 1

    def job() -> str:
        answer = export()
        assert answer.status == 202, answer.body
        return answer.body["id"]

    def run(job_id: str) -> Any:
        try:
            return export_function.handle({"id": job_id})["outcome"]
        except Exception as exc:          # the function fails; Lambda retries an asynchronous invocation
            return exc

    job_id = job()
    harness.faults.arm()
    assert run(job_id) == "done"
    calls = harness.faults.disarm()
    assert len(_export_objects(job_id)) == 1 and any(c.service == "s3" for c in calls)
    counts = {"calls": len(calls), "failed_job": 0, "function_failed": 0, "transient_ok": 0}
    for k in range(len(calls)):
        harness.fresh_clients()
        job_id = job()
        harness.faults.arm().persistent_from(k)
        outcome = run(job_id)
        harness.faults.disarm()
        status, view = org.call("GET", f"/admin/exports/{job_id}")
        assert status == 200
        if outcome == "failed":
            # the job says so, in Chinese, and the organiser exports again
            assert view["status"] == "failed" and HAN.search(view["error"]), view
            counts["failed_job"] += 1
            again = job()
            assert run(again) == "done" and len(_export_objects(again)) == 1
        else:
            # the function failed before claiming the job (it is still queued: the next invocation builds
            # it) or could not even record the failure (it stays running until its lease runs out, then the
            # next invocation claims it again); either way the file is built once
            assert isinstance(outcome, Exception) and view["status"] == "running", (k, outcome, view)
            counts["function_failed"] += 1
            if export_store.get(job_id).status == "running":
                assert run(job_id) == "busy"
                clock.t += LEASE_SECONDS + 1
            assert run(job_id) == "done"
        assert len(_export_objects(job_id)) <= 1
    # S3 alone refusing the file: the job records the failure in Chinese; exporting again works
    harness.fresh_clients()
    job_id = job()
    harness.faults.arm().persistent_from(0, services=["s3"])
    assert run(job_id) == "failed"
    harness.faults.disarm()
    status, view = org.call("GET", f"/admin/exports/{job_id}")
    assert view["status"] == "failed" and HAN.search(view["error"]) and _export_objects(job_id) == [], view
    counts["failed_job"] += 1
    again = job()
    assert run(again) == "done" and len(_export_objects(again)) == 1
    for _ in range(3):
        harness.fresh_clients()
        job_id = job()
        k = harness.rng.randrange(len(calls))
        failures = harness.rng.randint(1, RETRIES[calls[k].service])
        harness.faults.arm().transient(k, failures)
        assert run(job_id) == "done"
        assert len(harness.faults.disarm()[k].faults) == failures
        status, view = org.call("GET", f"/admin/exports/{job_id}")
        assert view["status"] == "done" and view["url"] and len(_export_objects(job_id)) == 1
        counts["transient_ok"] += 1
    harness.report.append(f"export job: {counts}")


# -- answers lost after the service acted: what "once" means precisely ------------------------------------
def test_lost_answers_show_the_precise_mail_guarantee(api, harness):
    """The fault here comes after moto did the work (the service acted, its answer was lost).

    SES: botocore retries the SendRawEmail in the same call, and SES would send the same raw message again
    (same Message-ID): the one window in which a mail can arrive twice, below the mail port. The mail log
    keeps one row. DynamoDB: a lost answer to the mail port's claim (a conditional update) makes the retry find
    the row; the mail is then not sent and its row stays "sending" (at most once, never twice). A transaction
    is retried with the same ClientRequestToken (botocore fills it in), which real DynamoDB deduplicates for
    10 minutes (moto does not, hence no lost-answer test of transactions here)."""
    def body(n: int) -> dict[str, Any]:
        return {"username": f"unit{n}", "password": "correct-horse-1", "unit_name": f"深圳市第{n}局",
                "unit_system": "municipal", "contact_name": "张三", "email": f"u{n}@example.gov.cn",
                "mobile": "13800138000"}

    def welcome(n: int) -> list[Any]:
        return [m for m in ses_messages() if m["To"] == f"u{n}@example.gov.cn"]

    assert call(api, "GET", "/competition").status == 200   # the competition is read once, then cached
    harness.faults.arm()
    assert call(api, "POST", "/accounts", body(1)).status == 201
    calls = harness.faults.disarm()
    claim = next(i for i, c in enumerate(calls) if c.operation == "UpdateItem")
    send = next(i for i, c in enumerate(calls) if c.operation == "SendRawEmail")
    assert len(welcome(1)) == 1

    harness.faults.arm().lost_response(send)
    assert call(api, "POST", "/accounts", body(2)).status == 201
    harness.faults.disarm()
    twice = welcome(2)
    assert len(twice) == 2 and twice[0]["Message-ID"] == twice[1]["Message-ID"]
    assert _mail_log_statuses("registration") == {"u1@example.gov.cn": "sent", "u2@example.gov.cn": "sent"}

    harness.fresh_clients()
    assert call(api, "GET", "/competition").status == 200   # read again after the fresh clients, then cached
    harness.faults.arm().lost_response(claim)
    assert call(api, "POST", "/accounts", body(3)).status == 201
    harness.faults.disarm()
    assert welcome(3) == [] and _mail_log_statuses("registration")["u3@example.gov.cn"] == "sending"

    tokens: list[str] = []
    from chalicelib.store import db

    def record(request: Any, event_name: str, **_: Any) -> None:
        tokens.append(json.loads(request.body)["ClientRequestToken"])

    db.connection().client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", record)
    unit = api.as_(register_unit(api, 4))
    tokens.clear()
    harness.faults.arm()
    assert call(unit, "POST", "/cases", case_body()).status == 201
    transaction = next(i for i, c in enumerate(harness.faults.disarm()) if c.operation == "TransactWriteItems")
    tokens.clear()
    retries = RETRIES["dynamodb"]
    harness.faults.arm().transient(transaction, retries)
    assert call(unit, "POST", "/cases", case_body()).status == 201
    harness.faults.disarm()
    assert len(tokens) == retries + 1 and len(set(tokens)) == 1 and tokens[0]


def _mail_log_statuses(kind: str) -> dict[str, str]:
    found = {}
    for name, items in snapshot()["tables"].items():
        if name.endswith("mail_log"):
            for item in (json.loads(v)["Attributes"] for v in items.values()):
                if item["kind"]["S"] == kind:
                    found[item["recipient"]["S"]] = item["status"]["S"]
    return found


# -- pages: the same faults give a Chinese 503 page, not a 500 ----------------------------------------------
def test_pages_answer_503_under_persistent_faults(api, client, harness):
    from tests.browser import Browser, csrf_of, text
    register_unit(api, 1)
    browser = Browser(client)
    form = browser.get("/login")
    assert form.status_code == 200
    fields = {"csrf_token": csrf_of(text(form)), "username": "unit1", "password": "correct-horse-1"}
    before = snapshot()
    harness.faults.arm().persistent_from(0)
    refused = browser.post("/login", fields)
    harness.faults.disarm()
    assert refused.status_code == 503 and "服务暂时繁忙" in text(refused)
    assert refused.headers.get("Retry-After", "").isdigit(), refused.headers
    assert snapshot() == before
    harness.fresh_clients()
    assert browser.post("/login", fields).status_code == 303
    harness.fresh_clients()
    harness.faults.arm().persistent_from(0)
    portal = browser.get("/cases")
    harness.faults.disarm()
    assert portal.status_code == 503 and "服务暂时繁忙" in text(portal)
    harness.fresh_clients()
    assert browser.get("/cases").status_code == 200


# -- transactions DynamoDB cancels for a reason other than a condition -------------------------------------
@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError"])
@pytest.mark.parametrize("cancelled", [1, 3, 4])
def test_a_cancelled_transaction_is_tried_again_then_503_not_500(api, harness, monkeypatch, reason, cancelled):
    """DynamoDB cancels a transaction that collides with another one on an item (TransactionConflict) or is
    throttled on one (ThrottlingError); botocore does not retry a TransactionCanceledException, the store
    does (chalicelib/store/db.py: 3 more tries). Cancelled fewer than 4 times: one write, 200. Cancelled
    every time: 503 `unavailable`, nothing written, and the client's retry works."""
    from chalicelib.store import db
    from tests.integration.faults import transaction_cancelled
    pauses: list[float] = []
    monkeypatch.setattr(db.time, "sleep", pauses.append)
    unit = api.as_(register_unit(api, 1))
    status, case = unit.call("POST", "/cases", case_body())
    assert status == 201
    edit = lambda: call(unit, "PUT", f"/cases/{case['id']}", {**case_body(title="改"), "version": 1})  # noqa: E731
    harness.faults.arm()
    status, view = unit.call("GET", f"/cases/{case['id']}")
    reads = len(harness.faults.disarm())
    before = snapshot()
    harness.faults.arm()
    for attempt in range(cancelled):           # the edit's transaction comes right after its reads
        harness.faults.answer(reads + attempt, transaction_cancelled(reason))
    answer = edit()
    calls = harness.faults.disarm()
    tries = calls[reads:reads + min(cancelled + 1, 4)]
    assert [c.operation for c in tries] == ["TransactWriteItems"] * len(tries)
    assert all(c.attempts == 1 for c in tries)
    assert pauses == list(db.RETRY_PAUSES[:min(cancelled, 3)])
    if cancelled < 4:
        assert answer.status == 200
        assert unit.call("GET", f"/cases/{case['id']}")[1]["version"] == 2
        return
    assert_unavailable(answer)
    assert snapshot() == before
    assert edit().status == 200
