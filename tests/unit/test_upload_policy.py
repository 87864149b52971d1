"""The presigned POST policy: moto does not enforce it, so decode what the code generates and check it.

S3 refuses an upload unless every condition of the signed policy holds: the bucket, the exact key, the
declared Content-Type, a content-length-range of exactly the declared size, and the expiration.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timezone
from typing import Any, Iterator

import boto3
import pytest
from botocore.client import BaseClient

from chalicelib import bootstrap
from chalicelib.config import settings
from tests.conftest import case_body, register_unit

KEY = "cases/0123456789abcdef/fedcba9876543210"
PDF = "application/pdf"


@pytest.fixture
def files(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Files adapter exactly as bootstrap builds it, against AWS (no endpoint), with dummy credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)   # its credentials were resolved by earlier tests
    bootstrap.reset()
    yield bootstrap.files()
    bootstrap.reset()


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every API call any botocore client makes; none may happen while presigning."""
    calls: list[tuple[str, str]] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict) -> Any:
        calls.append((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def decode(form: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(form["fields"]["policy"]))


def condition_value(policy: dict[str, Any], name: str) -> Any:
    found = [c[name] for c in policy["conditions"] if isinstance(c, dict) and name in c]
    assert len(found) == 1, (name, policy["conditions"])
    return found[0]


def expiration(policy: dict[str, Any]) -> float:
    return datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def test_policy_pins_the_bucket(files: Any) -> None:
    policy = decode(files.upload_form(KEY, PDF, 1234, 900))
    assert condition_value(policy, "bucket") == settings().bucket == "saiping-local-files"


def test_policy_pins_the_exact_key(files: Any) -> None:
    form = files.upload_form(KEY, PDF, 1234, 900)
    policy = decode(form)
    assert condition_value(policy, "key") == KEY
    assert form["fields"]["key"] == KEY
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in policy["conditions"])


def test_policy_pins_the_content_type_with_eq(files: Any) -> None:
    form = files.upload_form(KEY, "video/mp4", 1234, 900)
    assert condition_value(decode(form), "Content-Type") == "video/mp4"
    assert form["fields"]["Content-Type"] == "video/mp4"


def test_policy_content_length_range_is_exactly_the_declared_size(files: Any) -> None:
    policy = decode(files.upload_form(KEY, PDF, 52_428_800, 900))
    ranges = [c for c in policy["conditions"] if isinstance(c, list) and c[0] == "content-length-range"]
    assert ranges == [["content-length-range", 52_428_800, 52_428_800]]


def test_policy_expires_after_upload_url_seconds(files: Any) -> None:
    seconds = settings().upload_url_seconds
    assert seconds == 300     # the page posts right after declaring
    before = time.time()
    policy = decode(files.upload_form(KEY, PDF, 1234, seconds))
    after = time.time()
    assert before + seconds - 1 <= expiration(policy) <= after + seconds + 1


def test_policy_conditions_are_exactly_these(files: Any) -> None:
    form = files.upload_form(KEY, PDF, 1234, 900)
    fields = form["fields"]
    assert decode(form)["conditions"] == [
        {"Content-Type": PDF},
        ["content-length-range", 1234, 1234],
        {"bucket": "saiping-local-files"},
        {"key": KEY},
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
        {"x-amz-credential": fields["x-amz-credential"]},
        {"x-amz-date": fields["x-amz-date"]},
    ]


def test_policy_covers_every_form_field(files: Any) -> None:
    """S3 refuses a POST carrying a form field that no condition names."""
    form = files.upload_form(KEY, PDF, 1234, 900)
    named = {next(iter(c)) for c in decode(form)["conditions"] if isinstance(c, dict)}
    assert set(form["fields"]) - {"policy", "x-amz-signature"} <= named
    for name, value in form["fields"].items():
        if name not in ("policy", "x-amz-signature"):
            assert condition_value(decode(form), name) == value


def test_policy_signature_verifies_with_the_secret(files: Any) -> None:
    form = files.upload_form(KEY, PDF, 1234, 900)
    fields = form["fields"]
    access_key, day, region, service, terminal = fields["x-amz-credential"].split("/")
    assert (access_key, region, service, terminal) == ("AKIAIOSFODNN7EXAMPLE", "ap-southeast-1", "s3", "aws4_request")
    key = ("AWS4" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").encode()
    for part in (day, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert fields["x-amz-signature"] == expected


def test_policy_url_is_the_buckets_virtual_host_in_aws(files: Any) -> None:
    assert files.upload_form(KEY, PDF, 1234, 900)["url"] == "https://saiping-local-files.s3.ap-southeast-1.amazonaws.com/"


def test_policy_url_points_at_the_emulator_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    bootstrap.reset()
    try:
        form = bootstrap.files().upload_form(KEY, PDF, 1234, 900)
    finally:
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        bootstrap.reset()
    assert form["url"] == "http://127.0.0.1:5000/saiping-local-files"
    assert condition_value(decode(form), "key") == KEY


def test_policy_presigning_makes_no_aws_call(files: Any, aws_calls: list[tuple[str, str]]) -> None:
    files.upload_form(KEY, PDF, 1234, 900)
    files.download_url(KEY, "说明书.pdf", 300)
    assert aws_calls == []


def test_policy_key_never_contains_the_users_file_name(api: Any) -> None:
    """Through the API (moto): the key is the upload key uploads/<case id>/<attachment id>, whatever the name
    was (never the served cases/ key: tests/integration/test_attachment_grant.py)."""
    unit = api.as_(register_unit(api))
    _, case = unit.call("POST", "/cases", case_body())
    names = ["机密-张三的申报材料.pdf", "../../other/cases/x.pdf", "cases%2Fx.pdf", "report.pdf"]
    keys = []
    for name in names:
        status, answer = unit.call("POST", f"/cases/{case['id']}/attachments",
                                   {"filename": name, "content_type": PDF, "size": 1234})
        assert status == 201, answer
        policy = decode(answer["upload"])
        key = condition_value(policy, "key")
        assert key == answer["upload"]["fields"]["key"] == f"uploads/{case['id']}/{answer['attachment_id']}"
        assert re.fullmatch(r"uploads/[0-9a-f]{16}/[0-9a-f]{16}", key)
        stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        assert stem not in key and "pdf" not in key
        assert condition_value(policy, "Content-Type") == PDF
        assert ["content-length-range", 1234, 1234] in policy["conditions"]
        keys.append(key)
    assert len(set(keys)) == len(names)
