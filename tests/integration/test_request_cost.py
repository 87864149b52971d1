"""Request cost: every request of the units' portal makes at most 3 DynamoDB calls (the session check
included), never a Scan, and presigning makes no S3 call.

Every AWS call goes through botocore's `BaseClient._make_api_call` (PynamoDB's own client included), so
a wrapper there records (service, operation) for exactly the request under test. Each test starts from
freshly bound models (the `aws` fixture), so a call a cold Lambda would make (DescribeTable) counts too.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import pytest
from botocore.client import BaseClient

from chalicelib import bootstrap
from chalicelib.services import accounts
from tests.conftest import case_body, register_unit

MAX_DYNAMODB = 3
PDF = b"%PDF-1.7\n" + b"0" * 100 + b"\n%%EOF\n"
PASSWORD = "correct-horse-1"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.on = False

    def measure(self, request: Callable[[], tuple[int, Any]]) -> tuple[int, Any, list[tuple[str, str]]]:
        self.calls = []
        self.on = True
        try:
            status, data = request()
        finally:
            self.on = False
        return status, data, list(self.calls)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict) -> Any:
        if rec.on:
            rec.calls.append((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return rec


@pytest.fixture
def unit(api):
    return api.as_(register_unit(api))


@pytest.fixture
def case(unit) -> dict[str, Any]:
    return unit.call("POST", "/cases", case_body())[1]


def uploaded(unit, case_id: str, verify: bool) -> str:
    _, answer = unit.call("POST", f"/cases/{case_id}/attachments",
                          {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(PDF)})
    fields = answer["upload"]["fields"]
    bootstrap.s3().put_object(Bucket=bootstrap.config().bucket, Key=fields["key"], Body=PDF,
                              ContentType=fields["Content-Type"])
    if verify:
        assert unit.call("POST", f"/cases/{case_id}/attachments/{answer['attachment_id']}/confirm")[0] == 200
    return answer["attachment_id"]


def dynamodb(calls: list[tuple[str, str]]) -> list[str]:
    return [op for service, op in calls if service == "dynamodb"]


def s3(calls: list[tuple[str, str]]) -> list[str]:
    return [op for service, op in calls if service == "s3"]


def check(calls: list[tuple[str, str]]) -> None:
    ops = dynamodb(calls)
    assert len(ops) <= MAX_DYNAMODB, ops
    assert "Scan" not in ops
    assert "DescribeTable" not in ops


# -- public, accounts, sessions --------------------------------------------------------------------

def test_cost_health(api, recorder) -> None:
    status, _, calls = recorder.measure(lambda: api.call("GET", "/health"))
    assert (status, calls) == (200, [])


def test_cost_competition(api, recorder) -> None:
    status, _, calls = recorder.measure(lambda: api.call("GET", "/competition"))
    assert status == 200
    check(calls)
    assert dynamodb(calls) == ["Query"]


def test_cost_register(api, recorder) -> None:
    body = {"username": "unit9", "password": PASSWORD, "unit_name": "深圳市第9局", "unit_system": "municipal",
            "contact_name": "张三", "email": "u9@example.gov.cn", "mobile": "13800138000"}
    status, _, calls = recorder.measure(lambda: api.call("POST", "/accounts", body))
    assert status == 201
    check(calls)


def test_cost_register_duplicate(api, unit, recorder) -> None:
    body = {"username": "unit1", "password": PASSWORD, "unit_name": "深圳市第1局", "unit_system": "municipal",
            "contact_name": "张三", "email": "u1@example.gov.cn", "mobile": "13800138000"}
    status, _, calls = recorder.measure(lambda: api.call("POST", "/accounts", body))
    assert status == 409
    check(calls)


def test_cost_login(api, unit, recorder) -> None:
    status, _, calls = recorder.measure(lambda: api.call("POST", "/sessions",
                                                         {"username": "unit1", "password": PASSWORD}))
    assert status == 200
    check(calls)


def test_cost_login_wrong_password(api, unit, recorder) -> None:
    status, _, calls = recorder.measure(lambda: api.call("POST", "/sessions",
                                                         {"username": "unit1", "password": "wrong-password"}))
    assert status == 401
    check(calls)


def test_cost_login_locked(api, unit, recorder) -> None:
    for _ in range(5):
        api.call("POST", "/sessions", {"username": "unit1", "password": "wrong-password"})
    status, _, calls = recorder.measure(lambda: api.call("POST", "/sessions",
                                                         {"username": "unit1", "password": PASSWORD}))
    assert status == 429
    check(calls)


def test_cost_logout(unit, recorder) -> None:
    status, _, calls = recorder.measure(lambda: unit.call("DELETE", "/sessions/current"))
    assert status == 204
    check(calls)


def test_cost_bad_token(api, recorder) -> None:
    status, _, calls = recorder.measure(lambda: api.call("GET", "/cases", token="bogus"))
    assert status == 401
    check(calls)
    assert dynamodb(calls) == ["GetItem"]


# -- cases -----------------------------------------------------------------------------------------

def test_cost_list_cases(unit, case, recorder) -> None:
    unit.call("POST", "/cases", case_body(title="第二个"))
    status, data, calls = recorder.measure(lambda: unit.call("GET", "/cases"))
    assert (status, len(data["cases"])) == (200, 2)
    check(calls)


def test_cost_list_cases_organiser_by_category(api, case, recorder) -> None:
    accounts.ensure_organiser(bootstrap.deps().accounts, "organiser", "organiser-password-1", bootstrap.config(), bootstrap.now())
    token = api.call("POST", "/sessions", {"username": "organiser", "password": "organiser-password-1"})[1]["token"]
    status, data, calls = recorder.measure(lambda: api.call("GET", "/cases?category=development", token=token))
    assert (status, len(data["cases"])) == (200, 1)
    check(calls)


def test_cost_get_case(unit, case, recorder) -> None:
    status, _, calls = recorder.measure(lambda: unit.call("GET", f"/cases/{case['id']}"))
    assert status == 200
    check(calls)


def test_cost_create_case(unit, recorder) -> None:
    status, _, calls = recorder.measure(lambda: unit.call("POST", "/cases", case_body()))
    assert status == 201
    check(calls)


def test_cost_update_case(unit, case, recorder) -> None:
    status, _, calls = recorder.measure(
        lambda: unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新"), "version": 1}))
    assert status == 200
    check(calls)


def test_cost_update_case_stale_version(unit, case, recorder) -> None:
    status, _, calls = recorder.measure(
        lambda: unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新"), "version": 5}))
    assert status == 409
    check(calls)


def test_cost_submit_case(unit, case, recorder) -> None:
    status, _, calls = recorder.measure(lambda: unit.call("POST", f"/cases/{case['id']}/submit"))
    assert status == 200
    check(calls)


def test_cost_withdraw_case(unit, case, recorder) -> None:
    unit.call("POST", f"/cases/{case['id']}/submit")
    status, _, calls = recorder.measure(lambda: unit.call("POST", f"/cases/{case['id']}/withdraw"))
    assert status == 200
    check(calls)


def test_cost_case_version(unit, case, recorder) -> None:
    unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新"), "version": 1})
    status, _, calls = recorder.measure(lambda: unit.call("GET", f"/cases/{case['id']}/versions/1"))
    assert status == 200
    check(calls)


def test_cost_overlong_id_never_reaches_dynamodb(unit, recorder) -> None:
    """DynamoDB refuses a key over 2048 bytes with a ValidationException (a 5xx); moto does not, so count."""
    for path in ["/cases/" + "x" * 3000, "/cases/" + "案" * 1000 + "/submit", "/cases/abc/attachments/" + "y" * 600]:
        method = "POST" if path.endswith("/submit") else "GET"
        status, data, calls = recorder.measure(lambda: unit.call(method, path))
        assert (status, data["error"]["code"], calls) == (404, "not_found", []), path


def test_cost_other_units_case(api, case, recorder) -> None:
    other = api.as_(register_unit(api, 2))
    status, _, calls = recorder.measure(lambda: other.call("GET", f"/cases/{case['id']}"))
    assert status == 403
    check(calls)


# -- attachments -----------------------------------------------------------------------------------

def test_cost_declare_attachment_makes_no_s3_call(unit, case, recorder) -> None:
    status, _, calls = recorder.measure(lambda: unit.call(
        "POST", f"/cases/{case['id']}/attachments",
        {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(PDF)}))
    assert status == 201
    check(calls)
    assert s3(calls) == []


def test_cost_confirm_attachment(unit, case, recorder) -> None:
    aid = uploaded(unit, case["id"], verify=False)
    status, _, calls = recorder.measure(
        lambda: unit.call("POST", f"/cases/{case['id']}/attachments/{aid}/confirm"))
    assert status == 200
    check(calls)
    assert s3(calls) == ["CopyObject", "HeadObject", "GetObject", "DeleteObject"]   # copy in, check the copy


def test_cost_confirm_spoofed_attachment(unit, case, recorder) -> None:
    _, answer = unit.call("POST", f"/cases/{case['id']}/attachments",
                          {"filename": "说明书.pdf", "content_type": "application/pdf", "size": 10})
    bootstrap.s3().put_object(Bucket=bootstrap.config().bucket, Key=answer["upload"]["fields"]["key"],
                              Body=b"MZ" + b"\x00" * 8)
    status, _, calls = recorder.measure(
        lambda: unit.call("POST", f"/cases/{case['id']}/attachments/{answer['attachment_id']}/confirm"))
    assert status == 400
    check(calls)


def test_cost_download_attachment_presigns_without_s3_calls(unit, case, recorder) -> None:
    aid = uploaded(unit, case["id"], verify=True)
    status, _, calls = recorder.measure(lambda: unit.call("GET", f"/cases/{case['id']}/attachments/{aid}"))
    assert status == 200
    check(calls)
    assert s3(calls) == []


def test_cost_delete_attachment(unit, case, recorder) -> None:
    aid = uploaded(unit, case["id"], verify=True)
    status, _, calls = recorder.measure(lambda: unit.call("DELETE", f"/cases/{case['id']}/attachments/{aid}"))
    assert status == 204
    check(calls)
    assert s3(calls) == ["DeleteObject", "DeleteObject"]     # the served object and the upload key


# -- the organiser moves a window ------------------------------------------------------------------

def test_cost_move_stage_window(api, recorder) -> None:
    accounts.ensure_organiser(bootstrap.deps().accounts, "organiser", "organiser-password-1", bootstrap.config(), bootstrap.now())
    token = api.call("POST", "/sessions", {"username": "organiser", "password": "organiser-password-1"})[1]["token"]
    status, _, calls = recorder.measure(lambda: api.call("PUT", "/admin/stages/provincial", {
        "opens_at": "2023-07-11T00:00:00+08:00", "closes_at": "2023-08-31T23:59:59+08:00"}, token=token))
    assert status == 200
    check(calls)


# -- the whole portal at once, for the record ------------------------------------------------------

def test_cost_no_request_of_the_portal_scans(api, recorder) -> None:
    everything: Counter[str] = Counter()

    def run(request: Callable[[], tuple[int, Any]]) -> Any:
        status, data, calls = recorder.measure(request)
        assert status < 500, data
        everything.update(dynamodb(calls))
        return data

    run(lambda: api.call("GET", "/competition"))
    register_unit(api)
    token = run(lambda: api.call("POST", "/sessions", {"username": "unit1", "password": PASSWORD}))["token"]
    unit = api.as_(token)
    case = run(lambda: unit.call("POST", "/cases", case_body()))
    run(lambda: unit.call("GET", "/cases"))
    run(lambda: unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新"), "version": 1}))
    run(lambda: unit.call("GET", f"/cases/{case['id']}/versions/1"))
    run(lambda: unit.call("POST", f"/cases/{case['id']}/submit"))
    run(lambda: unit.call("POST", f"/cases/{case['id']}/withdraw"))
    run(lambda: unit.call("GET", f"/cases/{case['id']}"))
    run(lambda: unit.call("DELETE", "/sessions/current"))
    assert everything["Scan"] == 0
    assert everything["DescribeTable"] == 0
