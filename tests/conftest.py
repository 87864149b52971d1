"""Shared fixtures: an in-process moto for integration tests, the app's test client, builders."""
from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import moto  # noqa: F401  (registers moto's stub on every botocore session, including the one the store caches)
import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "ap-southeast-1")
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ["ARGON2_TIME_COST"] = "1"
os.environ["ARGON2_MEMORY_KIB"] = "8192"
os.environ.setdefault("MAIL_RATE_PER_SECOND", "0")   # no throttle in tests (tests/unit/test_mail_throttle.py)
# One process: every competition write clears the process's cache of competitions at once, so a test never sees
# a stale one; a refetch after the time-to-live would only add calls to the requests the tests count.
os.environ.setdefault("COMPETITION_CACHE_SECONDS", "3600")

CHINA = timezone(timedelta(hours=8))


class Clock:
    """A clock the tests move by hand (domain code never reads the real time): `t` is its reading in epoch
    seconds, a call returns it as the aware datetime `bootstrap.now()` gives."""

    def __init__(self, start: datetime):
        self.t = start.timestamp()

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.t, tz=timezone.utc)

    def set(self, when: datetime) -> None:
        self.t = when.timestamp()


def fixed_clock(epoch: float) -> Callable[[], datetime]:
    """A clock for `bootstrap.set_clock` that stays at `epoch` (seconds)."""
    at = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return lambda: at


IN_SUBMISSION = datetime(2023, 6, 1, 10, 0, tzinfo=CHINA)


def create_aws_resources() -> None:
    """What infra/ creates in AWS, in the emulator the environment points at (a moto mock or server):
    the tables, the bucket and the mail sender. Settings and clients are bound afresh."""
    from chalicelib import bootstrap
    from chalicelib.store import schema

    bootstrap.reset()
    cfg = bootstrap.config()
    schema.create_tables(bootstrap.client("dynamodb"))
    s3 = bootstrap.s3()
    if cfg.bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=cfg.bucket, CreateBucketConfiguration={"LocationConstraint": cfg.region})
    bootstrap.client("ses").verify_email_identity(EmailAddress=cfg.mail_sender)


def start_competition(start: datetime = IN_SUBMISSION) -> Clock:
    """Seeds the 2023 competition (the deployment's own: the current one, read from the competitions table) and
    its windows, and starts a clock the test moves by hand (default: in the submission window)."""
    from chalicelib import bootstrap
    from chalicelib.services import competitions, stages

    competitions.seed(bootstrap.deps().competitions, bootstrap.config().competition_id, start)
    comp = bootstrap.competition()
    stages.seed(bootstrap.deps().stages, comp, comp.default_windows)
    c = Clock(start)
    bootstrap.set_clock(c)
    return c


@contextmanager
def one_request_at_a_time() -> Iterator[None]:
    """moto's backends are not thread-safe: two threads' conditional writes can both pass their condition, which
    DynamoDB never lets happen. The in-process mock then answers one request at a time, as the local stack's
    emulator does (scripts/local_emulator.py), so a test racing two threads sees what DynamoDB would do."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    unserialized = BotocoreStubber.process_request

    def serialized(self: Any, request: Any) -> Any:
        with lock:
            return unserialized(self, request)

    BotocoreStubber.process_request = serialized      # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.process_request = unserialized   # type: ignore[method-assign]


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    from chalicelib import bootstrap

    with mock_aws(), one_request_at_a_time():
        create_aws_resources()
        yield
        bootstrap.reset()


@pytest.fixture
def clock(aws) -> Clock:
    """Seeds the 2023 windows and starts the clock inside the submission window."""
    return start_competition()


@pytest.fixture
def client(clock):
    from chalice.test import Client

    from app import app

    with Client(app) as c:
        yield c


class Api:
    """Calls the JSON API through chalice's test client with JSON bodies and a bearer token."""

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.token = token

    def call(self, method: str, path: str, body: Any = None, token: str | None = None, raw: bytes | None = None):
        headers = {"Content-Type": "application/json"}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        payload = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None else b"")
        response = getattr(self.client.http, method.lower())("/api/v1" + path, headers=headers, body=payload)
        data = json.loads(response.body) if response.body else None
        return response.status_code, data

    def as_(self, token: str) -> "Api":
        return Api(self.client, token)


def register_unit(api: Api, n: int = 1, **overrides: Any) -> str:
    """Registers unit n and returns its session token."""
    body = {"username": f"unit{n}", "password": "correct-horse-1", "unit_name": f"深圳市第{n}局",
            "unit_system": "municipal", "contact_name": "张三", "email": f"u{n}@example.gov.cn",
            "mobile": "13800138000", **overrides}
    status, data = api.call("POST", "/accounts", body)
    assert status == 201, data
    status, data = api.call("POST", "/sessions", {"username": body["username"], "password": body["password"]})
    assert status == 200, data
    return data["token"]


def case_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "category": "development", "recommending_unit": "深圳市某某局", "title": "党建引领数字政府建设",
        "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
        "background": "背景介绍。" * 20, "innovations": ["创新点一", "创新点二"], "results": ["成果一"],
        "originality_pledge": True,
    }
    body.update(overrides)
    return body


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture(autouse=True)
def no_scan_in_product_code(monkeypatch):
    """Fails any test during which product code (chalicelib/, except the backup tool) makes a DynamoDB Scan:
    request paths, schedules and jobs Query by key or index only (docs/DATA.md)."""
    import sys

    import botocore.client

    original = botocore.client.BaseClient._make_api_call
    scans: list[str] = []

    def guarded(self, operation, params):
        if operation == "Scan":
            frame = sys._getframe(1)
            while frame is not None:
                name = frame.f_code.co_filename
                if "/chalicelib/" in name and not name.endswith("/chalicelib/store/backup.py"):
                    scans.append(f"{params.get('TableName')} from {name}:{frame.f_lineno}")
                    break
                frame = frame.f_back
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", guarded)
    yield
    assert scans == [], "a Scan on a product code path"
