"""Malformed input on every route of the app's route table: never a 5xx, never a traceback.

Every route (`app.routes`) is called as anonymous and as a role that may call it (the authorization
matrix's RULES, tests/integration/test_authorization_matrix.py), with real ids in its path parameters, and
each bad value kind is put in each place the route can carry one:
  - the JSON body (API writes): a field at the top (`name`), nested (`leader.mobile`) and in a list
    (`innovations[1]`); the bad kinds are lone surrogates (high and low, as JSON escapes and as raw bytes that
    are not UTF-8), NUL and other C0 controls, numbers no field holds (1e400, NaN, Infinity, 5000 digits)
    and nesting 40 deep: each is a 400 `invalid` whose `fields` names exactly that field;
  - the urlencoded form (page posts): the same text kinds percent-encoded and raw: a 400 page naming it;
  - the query string and the path parameters: 400 naming the parameter;
  - the Authorization header and the cookies (garbage tokens): never a 5xx (a 401 or the login page);
  - mis-typed values (a number, an object, a list, null, a boolean, 200 KB of text) in each field of the
    route's request schema (docs/openapi.yaml), on top of a valid body where the test has one: never a 5xx.
Logging is captured: no ERROR record (and so no traceback) for any request.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from tests.conftest import case_body
from tests.integration.test_authorization_matrix import ROLES, ROUTES, may_succeed, rule_for, world  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
WRITES = ("POST", "PUT", "PATCH", "DELETE")

# JSON text kinds: the literal as it goes into the body (between the quotes), and what the field is told.
NOT_UNICODE, CONTROL, NUMBER = "含有无法识别的字符（应为 UTF-8 编码的文本），请重新输入", "含有不可见的控制字符，请删去后重新输入", \
    "数值超出范围（应为有限的数，整数不超过 15 位）"
JSON_KINDS: dict[str, tuple[bytes, str]] = {
    "lone high surrogate (escape)": (b'"a\\ud800b"', NOT_UNICODE),
    "lone low surrogate (escape)": (b'"\\udc00"', NOT_UNICODE),
    "surrogates reversed (escape)": (b'"\\udc00\\ud800"', NOT_UNICODE),
    "encoded surrogate (raw bytes)": (b'"a\xed\xa0\x80"', NOT_UNICODE),
    "invalid UTF-8 (raw bytes)": (b'"\xff\xfe"', NOT_UNICODE),
    "truncated UTF-8 (raw bytes)": (b'"\xe4\xb8"', NOT_UNICODE),
    "NUL": (b'"a\\u0000"', CONTROL),
    "BEL": (b'"\\u0007"', CONTROL),
    "ESC": (b'"\\u001b[31m"', CONTROL),
    "DEL": (b'"\\u007f"', CONTROL),
    "1e400": (b"1e400", NUMBER),
    "-1e400": (b"-1e400", NUMBER),
    "NaN": (b"NaN", NUMBER),
    "Infinity": (b"Infinity", NUMBER),
    "-Infinity": (b"-Infinity", NUMBER),
    "5000 digits": (b"9" * 5000, NUMBER),
    "16 digits": (b"1234567890123456", NUMBER),
}
# (how the body is built around the value, the field path the answer must name)
JSON_PLACES = [
    (lambda v: b'{"name": ' + v + b"}", "name"),
    (lambda v: b'{"title": "ok", "leader": {"name": "ok", "mobile": ' + v + b"}}", "leader.mobile"),
    (lambda v: b'{"innovations": ["ok", ' + v + b"]}", "innovations[1]"),
    (lambda v: b'{"a": {"b": [{"c": [' + v + b"]}]}}", "a.b[0].c[0]"),
]
# Form text kinds: the urlencoded value as sent.
FORM_KINDS = {
    "lone high surrogate (percent-encoded)": "%ED%A0%80",
    "lone low surrogate (percent-encoded)": "%ED%B0%80",
    "invalid UTF-8 (percent-encoded)": "%FF%FE",
    "invalid UTF-8 (raw bytes)": b"\xff\xfe",
    "NUL": "a%00b",
    "BEL": "%07",
    "ESC": "%1B%5B31m",
}
# Query and path parameter kinds (as the decoded text the gateway hands over).
PARAM_KINDS = {"lone high surrogate": "\ud800", "lone low surrogate": "\udc00", "NUL": "a\x00b",
               "BEL": "\x07", "ESC": "\x1b[31m"}
GARBAGE_HEADERS = [
    {"Authorization": "Bearer \x00\x01garbage"}, {"Authorization": "Bearer " + "\u00e9" * 60},
    {"Authorization": "Bearer \ud800"}, {"Authorization": "Bearer " + "A" * 5000}, {"Authorization": "Basic \udcff"},
    {"Cookie": "sp_session=\ud800; sp_csrf=\udc00.\x00"}, {"Cookie": "sp_session=" + "\u00ff" * 40},
    {"X-CSRF-Token": "\ud800", "Cookie": "sp_session=x0"}, {"User-Agent": "\ud800\x00"},
    {"Content-Type": "application/json; charset=\udcff"}, {"Accept": "\x00\ud800"},
]
MISTYPED = [123, 1.5, -1, {"a": "b"}, ["x"], [], None, True, False, "文本", "", "x" * 200_000]


class Sweep:
    def __init__(self) -> None:
        self.requests = 0
        self.failures: list[str] = []
        self.mistyped: Counter[str] = Counter()


def _outcome(response, field: str) -> str:
    """How a mis-typed value was answered: refused naming its field (or its parent), refused otherwise, taken."""
    error = (_json(response) or {}).get("error", {}) if isinstance(_json(response), dict) else {}
    named = any(field == key or field.startswith(key + ".") or key.startswith(field)
                for key in error.get("fields", {}))
    if response.status_code == 400 and named:
        return "400 naming the field"
    return f"{response.status_code // 100}xx" + (" other" if response.status_code == 400 else "")


@pytest.fixture
def errors(caplog):
    caplog.set_level(logging.WARNING)
    return caplog


def _ids(world: dict[str, Any], api) -> dict[str, str]:
    org = api.as_(world["tokens"]["organiser"])
    judge_id = org.call("GET", "/admin/judges")[1]["judges"][0]["id"]
    return {"case_id": world["case_id"], "stage_id": "text_review", "version": "1", "name": "app.css",
            "judge_id": judge_id, "username": "staff1"}


def _path(route: str, ids: dict[str, str], bad: tuple[str, str] | None = None) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1)
        if bad and bad[0] == name:
            return bad[1]
        return ids.get(name, "x0")
    return re.sub(r"\{(\w+)\}", one, route)


def _params(route: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", route)


def _roles(method: str, route: str) -> list[str]:
    """Anonymous and the first role that may call the route."""
    who = rule_for(method, route)
    allowed = next(role for role in ROLES if may_succeed(who, role, route, method))
    return list(dict.fromkeys(["anonymous", allowed]))


def _send(client, method: str, path: str, token: str | None, body: bytes = b"", form: bool = False,
          headers: dict[str, str] | None = None):
    sent = dict(headers or {})
    if path.startswith("/api/"):
        sent.setdefault("Content-Type", "application/json")
        if token:
            sent.setdefault("Authorization", f"Bearer {token}")
    else:
        if form:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if token:
            sent.setdefault("Cookie", f"sp_session={token}")
    try:
        return getattr(client.http, method.lower())(path, headers=sent, body=body)
    except UnicodeEncodeError:       # the answer echoes a lone surrogate: Lambda cannot send it either
        return SimpleNamespace(status_code=502, body=b"the answer is not UTF-8", headers={})


def _json(response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _check(counter: Sweep, errors, what: str, response, expect_field: str | None = None,
           page_names: str | None = None, reason: str | None = None) -> None:
    counter.requests += 1
    problems = []
    if response.status_code >= 500:
        problems.append(f"status {response.status_code}")
    logged = [r for r in errors.records if r.levelno >= logging.ERROR or r.exc_info]
    if logged:
        problems.append(f"logged {[r.getMessage()[:80] for r in logged]}")
    errors.clear()
    if expect_field is not None:
        body = _json(response) or {}
        error = body.get("error", {}) if isinstance(body, dict) else {}
        fields = error.get("fields", {})
        if response.status_code != 400 or error.get("code") != "invalid" or list(fields) != [expect_field] or (
                reason is not None and fields != {expect_field: reason}):
            problems.append(f"not 400 invalid naming {expect_field}: {response.status_code} {str(body)[:160]}")
    if page_names is not None:
        text = response.body.decode("utf-8") if isinstance(response.body, bytes) else str(response.body)
        if response.status_code != 400 or f"“{page_names}”" not in text:
            problems.append(f"not a 400 page naming {page_names}: {response.status_code}")
    if problems:
        counter.failures.append(f"{what}: {'; '.join(problems)}")


def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """Each API write's request schema (docs/openapi.yaml), refs resolved one level."""
    spec = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    components = spec.get("components", {}).get("schemas", {})

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[1]]
        for key in ("allOf", "oneOf", "anyOf"):
            if key in schema:
                merged: dict[str, Any] = {"properties": {}}
                for part in schema[key]:
                    merged["properties"].update(resolve(part).get("properties", {}))
                return merged
        return schema

    found = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                schema = resolve(content["application/json"]["schema"])
                props = {name: resolve(sub) for name, sub in schema.get("properties", {}).items()}
                found[(method.upper(), "/api/v1" + path)] = props
    return found


def _valid_bodies(ids: dict[str, str]) -> dict[tuple[str, str], dict[str, Any]]:
    case = case_body()
    return {
        ("POST", "/api/v1/accounts"): {"username": "unit9", "password": "correct-horse-1", "unit_name": "某单位",
                                       "unit_system": "municipal", "contact_name": "张三",
                                       "email": "u9@example.gov.cn", "mobile": "13800138000"},
        ("POST", "/api/v1/sessions"): {"username": "unit1", "password": "wrong-horse-1"},
        ("POST", "/api/v1/cases"): case,
        ("PUT", "/api/v1/cases/{case_id}"): {**case, "version": 1},
        ("POST", "/api/v1/admin/judges"): {"name": "评委", "email": "j@example.org", "affiliation": "机构",
                                           "categories": ["development"]},
        ("PUT", "/api/v1/admin/judges/{judge_id}"): {"name": "评委", "email": "j@example.org", "affiliation": "机构",
                                                     "categories": ["development"]},
        ("POST", "/api/v1/cases/{case_id}/attachments"): {"filename": "a.pdf", "content_type": "application/pdf",
                                                          "size": 1000},
        ("PUT", "/api/v1/judge/cases/{case_id}/score"): {"criteria": {"foresight": 20}, "comment": "评语"},
    }


def _mistyped_bodies(base: dict[str, Any], props: dict[str, Any]):
    """(field path, body) with one field of the schema (or its nested fields) replaced by each mis-typed value."""
    for name, schema in props.items():
        for value in MISTYPED:
            yield name, {**base, name: value}
        for sub in (schema.get("properties") or {}) if isinstance(schema, dict) else {}:
            inner = base.get(name) if isinstance(base.get(name), dict) else {}
            for value in MISTYPED[:8]:
                yield f"{name}.{sub}", {**base, name: {**inner, sub: value}}


def test_malformed_input_on_every_route(client, api, world, errors, capsys):
    started = time.perf_counter()
    tokens, ids = world["tokens"], _ids(world, api)
    counter = Sweep()
    schemas, valid = _schemas(), _valid_bodies(ids)
    enders = ("/api/v1/sessions/current", "/logout", "/judge/logout", "/api/v1/account/sessions",
              "/account/sessions/end-all", "/api/v1/account/totp")
    for method, route in sorted(ROUTES, key=lambda r: r[1].startswith(enders)):
        api_route = route.startswith("/api/")
        for headers in GARBAGE_HEADERS:          # no token but the garbage one
            _check(counter, errors, f"{method} {route} headers {list(headers)}",
                   _send(client, method, _path(route, ids), None, headers=headers))
        for role in _roles(method, route):
            token = tokens[role]
            what = f"{role} {method} {route}"
            for kind, value in PARAM_KINDS.items():
                for name in _params(route):
                    response = _send(client, method, _path(route, ids, (name, value)), token)
                    _check(counter, errors, f"{what} path {name} {kind}", response,
                           expect_field=name if api_route else None, page_names=None if api_route else name)
                response = _send(client, method, _path(route, ids) + "?category=" + value, token)
                _check(counter, errors, f"{what} query {kind}", response,
                       expect_field="category" if api_route else None, page_names=None if api_route else "category")
            if method not in WRITES:
                continue
            if api_route:
                for kind, (literal, reason) in JSON_KINDS.items():
                    for build, field in JSON_PLACES:
                        response = _send(client, method, _path(route, ids), token, build(literal))
                        _check(counter, errors, f"{what} json {field} {kind}", response, expect_field=field,
                               reason=reason)
                deep = b'{"x": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}"
                _check(counter, errors, f"{what} json nesting", _send(client, method, _path(route, ids), token, deep),
                       expect_field="x" + "[0]" * 11)
                huge = b'{"username": "' + b"x" * (1024 * 1024) + b'"}'
                response = _send(client, method, _path(route, ids), token, huge)
                _check(counter, errors, f"{what} json 1 MB", response)
            else:
                for kind, value in FORM_KINDS.items():
                    encoded = value if isinstance(value, bytes) else value.encode("ascii")
                    body = b"csrf_token=x&username=" + encoded + b"&title=ok"
                    _check(counter, errors, f"{what} form {kind}", _send(client, method, _path(route, ids), token,
                                                                         body, form=True), page_names="username")
        if api_route and method in WRITES:             # mis-typed values: as the role that may call it
            role = _roles(method, route)[-1]
            base = valid.get((method, route), {})
            for field, body in _mistyped_bodies(base, schemas.get((method, route), {})):
                response = _send(client, method, _path(route, ids), tokens[role],
                                 json.dumps(body, ensure_ascii=False).encode())
                _check(counter, errors, f"{role} {method} {route} mistyped {field}", response)
                counter.mistyped[_outcome(response, field)] += 1
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nmalformed input: {len(ROUTES)} routes, {counter.requests} requests, "
              f"{len(counter.failures)} failures, {elapsed:.1f} s; mis-typed values: {dict(counter.mistyped)}")
    assert counter.failures == []
    assert counter.requests > 5000
