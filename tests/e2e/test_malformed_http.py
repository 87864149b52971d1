"""Malformed input over real HTTP (`make run`'s stack): what chalice's test client cannot send — raw bytes
that are not UTF-8 in the request line, the headers and the body — gets a 4xx, never a 5xx, and the stack's
log carries no traceback and no ERROR line. (tests/integration/test_malformed_input.py sweeps every route.)"""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ARTIFACTS, running_stack

NAME = "malformed-http-stack"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("malformed-http-data"), NAME) as started:
        yield started.url


def raw_request(base: str, request_line: bytes, headers: list[bytes], body: bytes = b"") -> tuple[int, bytes]:
    """One request as bytes on the socket; the answer's status and body."""
    parts = urlsplit(base)
    head = [request_line, b"Host: " + parts.netloc.encode(), b"Connection: close",
            b"Content-Length: " + str(len(body)).encode(), *headers]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


JSON = b"Content-Type: application/json"
FORM = b"Content-Type: application/x-www-form-urlencoded"


def test_raw_bytes_never_give_a_server_error(base):
    post = lambda path: b"POST " + path + b" HTTP/1.1"   # noqa: E731
    refused_fields = {
        b"/api/v1/accounts": (b'{"username": "a\xed\xa0\x80", "password": "x"}', "username"),
        b"/api/v1/sessions": (b'{"username": "ok", "password": "\xff\xfe"}', "password"),
        b"/api/v1/judge/sessions": (b'{"link": "\\ud800"}', "link"),
        b"/api/v1/password-resets": (b'{"username": NaN}', "username"),
    }
    answers = {}
    for path, (body, field) in refused_fields.items():
        status, text = raw_request(base, post(path), [JSON], body)
        answers[path] = (status, json.loads(text)["error"]["code"], list(json.loads(text)["error"]["fields"]))
    assert answers == {path: (400, "invalid", [field]) for path, (_, field) in refused_fields.items()}

    status, text = raw_request(base, post(b"/login"), [FORM], b"csrf_token=x&username=%ED%A0%80&password=\xff")
    assert (status, "“username”含有无法识别的字符" in text.decode("utf-8")) == (400, True)

    others = [
        (b"GET /api/v1/cases/%ED%A0%80 HTTP/1.1", [b"Authorization: Bearer \xff\x00garbage"]),
        (b"GET /api/v1/cases/\xed\xa0\x80 HTTP/1.1", []),
        (b"GET /api/v1/cases?x=%ED%A0%80%00 HTTP/1.1", [b"Authorization: Bearer \xed\xa0\x80"]),
        (b"GET /api/v1/account HTTP/1.1", [b"Cookie: sp_session=\xff\xfe; sp_csrf=\x00"]),
        (b"GET /cases/%00 HTTP/1.1", [b"Cookie: sp_session=\xed\xa0\x80"]),
        (b"GET /verify/%ED%A0%80 HTTP/1.1", []),
        (b"GET /login?next=%ED%A0%80 HTTP/1.1", []),
        (b"POST /api/v1/cases HTTP/1.1", [JSON, b"Authorization: Bearer " + b"\xff" * 300]),
    ]
    statuses = [raw_request(base, line, headers)[0] for line, headers in others]   # 303: to /login
    assert statuses == [401, 400, 400, 401, 303, 404, 200, 401]

    log = (ARTIFACTS / f"{NAME}.log").read_text("utf-8", "replace")
    assert ("Traceback" in log, " ERROR " in log or "- ERROR -" in log) == (False, False)
