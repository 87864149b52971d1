"""A confirmed attachment is out of the browser's reach: the presigned POST names only the upload key, and
confirm copies the upload to the served key before checking it. moto does not enforce the POST policy, so
the policy is decoded here, and a second post to the old grant (same size, the same type, different bytes,
even after the deadline) must leave what the unit and the organiser download unchanged."""
from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from chalicelib import bootstrap
from chalicelib.services import accounts
from chalicelib.store import cases as case_store
from scripts import backup as cli
from tests.conftest import case_body, register_unit

CHINA = timezone(timedelta(hours=8))
AFTER_SUBMISSION = datetime(2023, 6, 10, 9, 0, tzinfo=CHINA)      # 文本申报 closed 2023-06-09 23:59:59
ORIGINAL = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 900 + b"\n%%EOF\n"
REPLACEMENT = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"9" * 900 + b"\n%%EOF\n"


@pytest.fixture
def unit(api):
    return api.as_(register_unit(api, 1))


@pytest.fixture
def case(unit) -> dict[str, Any]:
    return unit.call("POST", "/cases", case_body())[1]


def policy_of(form: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(form["fields"]["policy"]))


def condition(policy: dict[str, Any], name: str) -> Any:
    [value] = [c[name] for c in policy["conditions"] if isinstance(c, dict) and name in c]
    return value


def post(form: dict[str, Any], data: bytes, content_type: str) -> None:
    """What the browser does with the grant: a multipart POST straight to the bucket."""
    response = requests.post(form["url"], data=form["fields"], files={"file": ("x", data, content_type)}, timeout=10)
    assert response.status_code in (200, 201, 204), response.text


def fetched(url: str) -> bytes:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return response.content


def head(key: str) -> dict[str, Any] | None:
    return bootstrap.files().head(key)


def test_the_grant_names_only_the_upload_key_and_expires_within_300_s(unit, case) -> None:
    before = time.time()
    status, grant = unit.call("POST", f"/cases/{case['id']}/attachments",
                              {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(ORIGINAL)})
    assert status == 201, grant
    policy = policy_of(grant["upload"])
    upload_key = f"uploads/{case['id']}/{grant['attachment_id']}"
    assert condition(policy, "key") == grant["upload"]["fields"]["key"] == upload_key
    assert condition(policy, "Content-Type") == "application/pdf"
    assert ["content-length-range", len(ORIGINAL), len(ORIGINAL)] in policy["conditions"]
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert before < expires <= before + 300 + 1
    assert grant["expires_in"] == 300


def test_a_post_to_the_old_grant_after_confirm_never_reaches_the_served_file(api, unit, case, clock, tmp_path,
                                                                             monkeypatch) -> None:
    _, grant = unit.call("POST", f"/cases/{case['id']}/attachments",
                         {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(ORIGINAL)})
    aid, form = grant["attachment_id"], grant["upload"]
    post(form, ORIGINAL, "application/pdf")
    assert unit.call("POST", f"/cases/{case['id']}/attachments/{aid}/confirm")[1]["status"] == "verified"

    record = case_store.attachments_of(case_store.get(case["id"]))[aid]
    assert (record["status"], record["upload_key"]) == ("verified", form["fields"]["key"])
    assert re.fullmatch(rf"cases/{case['id']}/{aid}/[0-9a-f]{{16}}", record["key"])   # this confirm's own copy
    assert head(record["upload_key"]) is None                # the upload is gone once copied in
    assert head(record["key"])["ContentLength"] == len(ORIGINAL)

    post(form, REPLACEMENT, "application/pdf")               # same size, same type: the policy would allow it
    assert head(record["upload_key"]) is not None
    assert fetched(unit.call("GET", f"/cases/{case['id']}/attachments/{aid}")[1]["url"]) == ORIGINAL
    assert unit.call("POST", f"/cases/{case['id']}/attachments/{aid}/confirm")[1]["status"] == "verified"
    assert fetched(unit.call("GET", f"/cases/{case['id']}/attachments/{aid}")[1]["url"]) == ORIGINAL

    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    clock.set(AFTER_SUBMISSION)                              # after the deadline: the grant is all there is
    post(form, REPLACEMENT, "application/pdf")
    accounts.ensure_organiser(bootstrap.deps().accounts, "organiser", "organiser-password-1", bootstrap.config(), bootstrap.now())
    organiser = api.as_(api.call("POST", "/sessions", {"username": "organiser",
                                                       "password": "organiser-password-1"})[1]["token"])
    assert fetched(organiser.call("GET", f"/cases/{case['id']}/attachments/{aid}")[1]["url"]) == ORIGINAL

    monkeypatch.setenv("TABLE_PREFIX", bootstrap.config().table_prefix)
    monkeypatch.setenv("BUCKET_NAME", bootstrap.config().bucket)
    manifest = cli.dump(tmp_path / "backup")                 # the backup carries the served object
    assert record["key"] in manifest["objects"]
    assert (tmp_path / "backup" / "objects" / record["key"]).read_bytes() == ORIGINAL


def test_a_refused_upload_leaves_neither_object(unit, case) -> None:
    _, grant = unit.call("POST", f"/cases/{case['id']}/attachments",
                         {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(ORIGINAL)})
    spoofed = b"%PDF-1.7\n<< /S /JavaScript /JS (app.alert(1)) >>\n".ljust(len(ORIGINAL) - 7, b" ") + b"\n%%EOF\n"
    post(grant["upload"], spoofed, "application/pdf")
    status, refused = unit.call("POST", f"/cases/{case['id']}/attachments/{grant['attachment_id']}/confirm")
    assert (status, refused["error"]["code"], refused["error"]["fields"]) == (
        400, "invalid", {"file": "PDF 中含有JavaScript 脚本（/JavaScript）"})
    assert refused["error"]["message"] == "附件校验未通过：PDF 中含有JavaScript 脚本（/JavaScript），已删除，请重新上传"
    assert head(grant["upload"]["fields"]["key"]) is None
    assert head(f"cases/{case['id']}/{grant['attachment_id']}") is None
    assert unit.call("GET", f"/cases/{case['id']}")[1]["attachments"] == []


def test_a_record_made_before_the_upload_key_is_checked_where_it_is(unit, case, clock) -> None:
    """Records declared before this change: key under cases/, no upload_key; confirm and download as before."""
    key = f"cases/{case['id']}/old0000000000001"
    record = {"attachment_id": "old0000000000001", "filename": "旧附件.pdf", "content_type": "application/pdf",
              "size": len(ORIGINAL), "status": "pending", "key": key, "created_at": clock.t}
    stored = case_store.CaseRepository().get(case["id"])
    case_store.CaseRepository().put_attachment(stored, record, ("shenzhen-2023", "submission"), "unit:unit1", clock.t,
                              "attachment.declare")
    bootstrap.files().put(key, ORIGINAL, "application/pdf")
    assert unit.call("POST", f"/cases/{case['id']}/attachments/old0000000000001/confirm")[1]["status"] == "verified"
    assert fetched(unit.call("GET", f"/cases/{case['id']}/attachments/old0000000000001")[1]["url"]) == ORIGINAL
    assert unit.call("DELETE", f"/cases/{case['id']}/attachments/old0000000000001")[0] == 204
    assert head(key) is None


def _confirm_with_another_in_its_check(unit, case, aid, monkeypatch, meanwhile) -> tuple[int, Any]:
    """Confirm `aid`, running `meanwhile()` (a second confirm of the same file) while the first one checks its
    copy: the interleaving two browsers, or a unit racing itself, can produce."""
    from chalicelib.services import attachments
    original = attachments._check_object
    calls: list[str] = []

    def checking(files, record):
        calls.append(record["key"])
        if len(calls) == 1:
            meanwhile()
        return original(files, record)

    monkeypatch.setattr(attachments, "_check_object", checking)
    answer = unit.call("POST", f"/cases/{case['id']}/attachments/{aid}/confirm")
    assert len(calls) == 2 and calls[0] != calls[1], calls      # each confirm checked a copy of its own
    return answer


def test_two_confirms_at_once_serve_exactly_the_copy_that_was_checked_and_recorded(unit, case, monkeypatch) -> None:
    _, grant = unit.call("POST", f"/cases/{case['id']}/attachments",
                         {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(ORIGINAL)})
    aid = grant["attachment_id"]
    post(grant["upload"], ORIGINAL, "application/pdf")
    second: dict[str, Any] = {}

    def the_other_confirm():
        post(grant["upload"], REPLACEMENT, "application/pdf")     # valid too, but other bytes
        second["answer"] = unit.call("POST", f"/cases/{case['id']}/attachments/{aid}/confirm")

    status, first = _confirm_with_another_in_its_check(unit, case, aid, monkeypatch, the_other_confirm)
    assert (status, first["status"], second["answer"][0]) == (200, "verified", 200)
    record = case_store.attachments_of(case_store.get(case["id"]))[aid]
    # the second confirm recorded first: its copy is served, the first one's copy is gone, not orphaned
    assert fetched(unit.call("GET", f"/cases/{case['id']}/attachments/{aid}")[1]["url"]) == REPLACEMENT
    listed = bootstrap.s3().list_objects_v2(Bucket=bootstrap.config().bucket, Prefix=f"cases/{case['id']}/{aid}")
    assert [o["Key"] for o in listed.get("Contents", [])] == [record["key"]]


def test_a_refused_confirm_meanwhile_leaves_nothing_served_and_the_first_confirm_says_so(unit, case,
                                                                                          monkeypatch) -> None:
    _, grant = unit.call("POST", f"/cases/{case['id']}/attachments",
                         {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(ORIGINAL)})
    aid = grant["attachment_id"]
    post(grant["upload"], ORIGINAL, "application/pdf")
    second: dict[str, Any] = {}
    bad = ORIGINAL.replace(b"/Type /Catalog", b"/JavaScript   ")[:len(ORIGINAL)]

    def a_bad_confirm():
        post(grant["upload"], bad, "application/pdf")
        second["answer"] = unit.call("POST", f"/cases/{case['id']}/attachments/{aid}/confirm")

    status, first = _confirm_with_another_in_its_check(unit, case, aid, monkeypatch, a_bad_confirm)
    assert second["answer"][0] == 400 and second["answer"][1]["error"]["fields"]["file"]
    assert (status, first["error"]["code"]) == (404, "not_found")     # the file was refused and removed
    assert aid not in case_store.attachments_of(case_store.get(case["id"]))
    listed = bootstrap.s3().list_objects_v2(Bucket=bootstrap.config().bucket, Prefix=f"cases/{case['id']}/")
    assert listed.get("KeyCount", 0) == 0
