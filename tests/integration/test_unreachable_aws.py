"""An AWS service that does not answer: every client gives up after its short timeouts and the request answers
503 `unavailable` with Retry-After, on the JSON API and on the pages alike (docs/RELIABILITY.md).

No moto here: the app's endpoint is a real socket on this machine, either one that accepts connections and never
answers (a frozen store: the read timeout) or one that nothing listens on (a store that is gone: refused at
once). The frozen listener counts the connections it is given, which is how many attempts each client made.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Iterator

import pytest

from chalicelib.config import AwsTimeouts
from tests.browser import Browser, csrf_of, text

LOGIN = {"username": "unit1", "password": "correct-horse-1"}


class FrozenService:
    """Accepts every connection, reads what is sent, answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.closed = True
        for conn in [*self.connections, self.sock]:
            conn.close()


def _nothing_listening() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def frozen() -> Iterator[FrozenService]:
    service = FrozenService()
    yield service
    service.close()


def _client_at(endpoint: str, monkeypatch):
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    bootstrap.reset()
    return Client(app)


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    from chalicelib import bootstrap
    yield
    bootstrap.reset()


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, (response.status_code, response.body[:300])
    assert response.headers.get("Retry-After", "").isdigit(), response.headers
    assert "服务暂时繁忙" in response.body.decode("utf-8")


def _api_login(client):
    return client.http.post("/api/v1/sessions", headers={"Content-Type": "application/json"},
                            body=('{"username": "%(username)s", "password": "%(password)s"}' % LOGIN).encode())


def _page_login(client):
    browser = Browser(client)
    form = browser.get("/login")
    assert form.status_code == 200          # the form itself needs no AWS call
    return browser.post("/login", {"csrf_token": csrf_of(text(form)), **LOGIN})


@pytest.mark.parametrize("door", [_api_login, _page_login], ids=["api", "page"])
def test_a_frozen_store_answers_503_after_each_clients_attempts(frozen, monkeypatch, door, capsys):
    timeouts = AwsTimeouts()
    with _client_at(frozen.url, monkeypatch) as client:
        started = time.monotonic()
        answer = door(client)
        elapsed = time.monotonic() - started
    _assert_unavailable(answer)
    # the first AWS call of the request was tried max_attempts times, each on a new connection that the read
    # timeout gave up on; the request then answered (no second call was tried). The page door's form read the
    # current competition first (one call, given up on the same way; its packaged definition stands in and
    # the failure is remembered, so the sign-in's own first call is the next one tried)
    calls = 2 if door is _page_login else 1
    assert len(frozen.connections) == timeouts.max_attempts * calls
    with capsys.disabled():
        print(f"\nfrozen store, {door.__name__}: 503 after {elapsed:.2f} s "
              f"({timeouts.max_attempts} attempts × read timeout {timeouts.read_seconds} s)")


@pytest.mark.parametrize("door", [_api_login, _page_login], ids=["api", "page"])
def test_a_store_that_is_gone_answers_503(monkeypatch, door):
    with _client_at(_nothing_listening(), monkeypatch) as client:
        _assert_unavailable(door(client))


def test_every_client_carries_the_short_timeouts(monkeypatch):
    """The store's PynamoDB connection, the S3 client and the other boto3 clients alike."""
    from chalicelib import bootstrap
    from chalicelib.store import db

    monkeypatch.setenv("AWS_ENDPOINT_URL", _nothing_listening())
    bootstrap.reset()
    bootstrap.config()
    timeouts = AwsTimeouts()
    for client in (db.connection().client, bootstrap.s3(), bootstrap.client("ses"), bootstrap.client("lambda")):
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (timeouts.connect_seconds, timeouts.read_seconds)
        assert config.retries["total_max_attempts"] == timeouts.max_attempts, (client, config.retries)


def test_every_model_sends_through_the_one_connection(monkeypatch):
    """store/db.py `bind`: one PynamoDB connection, so one botocore client, for all the tables, rebinding too."""
    from chalicelib import bootstrap
    from chalicelib.store import db, models

    for _ in range(2):
        monkeypatch.setenv("AWS_ENDPOINT_URL", _nothing_listening())
        bootstrap.reset()
        bootstrap.config()
        shared = db.connection()
        assert shared.client.meta.endpoint_url == bootstrap.config().endpoint_url
        for model in models.MODELS:
            assert model._get_connection().connection is shared, model.__name__


def test_timeouts_are_configurable(monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("AWS_CONNECT_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("AWS_READ_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("AWS_CALL_MAX_ATTEMPTS", "3")
    config.reset()
    assert config.settings().aws_timeouts == AwsTimeouts(0.5, 3.0, 3)
    config.reset()
