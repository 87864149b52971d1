"""The request door (chalicelib/web/inbound.py): what no field can hold is refused naming its field."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import Invalid
from chalicelib.web import inbound


def refused(call, *args) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        call(*args)
    return caught.value.fields


@pytest.mark.parametrize("raw, fields", [
    (b'{"username": "\\ud800"}', {"username": inbound.NOT_UNICODE}),
    (b'{"username": "ok", "password": "\\udfff"}', {"password": inbound.NOT_UNICODE}),
    (b'{"leader": {"name": "ok", "mobile": "a\xed\xa0\x80"}}', {"leader.mobile": inbound.NOT_UNICODE}),
    (b'{"innovations": ["ok", "\xff"]}', {"innovations[1]": inbound.NOT_UNICODE}),
    (b'{"title": "a\\u0000b"}', {"title": inbound.CONTROL}),
    (b'{"title": "\\u001b[31m"}', {"title": inbound.CONTROL}),
    (b'{"title": "\\u0085"}', {"title": inbound.CONTROL}),
    (b'{"size": 1e400}', {"size": inbound.NUMBER}),
    (b'{"size": NaN}', {"size": inbound.NUMBER}),
    (b'{"a": [-Infinity]}', {"a[0]": inbound.NUMBER}),
    (b'{"version": ' + b"1" * 5000 + b"}", {"version": inbound.NUMBER}),
    (b'{"x": ' + b"[" * 30 + b"]" * 30 + b"}", {"x" + "[0]" * 11: inbound.TOO_DEEP}),
    (b'{"a\\u0000": 1}', {"body": inbound.BAD_NAME}),
    (b'"\\ud800"', {"body": inbound.NOT_UNICODE}),
    (b'{"a": "\\ud800", "b": "\\u0000"}', {"a": inbound.NOT_UNICODE}),     # the first in reading order
    (b'{"a": "\xff', {"body": "编码应为 UTF-8"}),
    (b'{"a": ', {"body": "JSON 格式错误"}),
    (b"[" * 100_000, {"body": "JSON 格式错误"}),
])
def test_json_that_no_field_holds_is_refused_naming_the_field(raw, fields):
    assert refused(inbound.parse_json, raw) == fields


def test_good_json_passes_whole():
    raw = ('{"background": "第一段\\n\\t第二段\\r\\n", "emoji": "\\ud83d\\ude00", "n": 123456789012345, '
           '"f": -1.5e3, "ok": true, "none": null, "list": [{"a": []}]}').encode()
    assert inbound.parse_json(raw) == {"background": "第一段\n\t第二段\r\n", "emoji": "😀", "n": 123456789012345,
                                       "f": -1500.0, "ok": True, "none": None, "list": [{"a": []}]}


@pytest.mark.parametrize("raw, fields", [
    (b"csrf_token=x&username=%ED%A0%80", {"username": inbound.NOT_UNICODE}),
    (b"username=%FF", {"username": inbound.NOT_UNICODE}),
    (b"username=\xff\xfe", {"username": inbound.NOT_UNICODE}),
    (b"title=a%00b", {"title": inbound.CONTROL}),
    (b"%00=1", {"form": inbound.BAD_NAME}),
])
def test_forms_that_no_field_holds_are_refused_naming_the_field(raw, fields):
    assert refused(inbound.parse_form, raw) == fields


def test_good_forms_keep_line_breaks():
    assert inbound.parse_form("background=%E7%AC%AC%0D%0A%09x&a=&a=2".encode()) == {
        "background": ["第\r\n\tx"], "a": ["", "2"]}


def test_path_and_query_parameters_hold_no_line_break_or_control():
    assert refused(inbound.check_request_params, {"case_id": "a\nb"}, None) == {"case_id": inbound.CONTROL}
    assert refused(inbound.check_request_params, None, {"category": ["ok", "\udc80"]}) == {
        "category": inbound.NOT_UNICODE}
    assert inbound.check_request_params({"case_id": "c-1"}, {"category": ["development"]}) is None


def _upload(disposition: bytes, data: bytes) -> tuple[str, bytes]:
    body = (b"--B\r\nContent-Disposition: form-data; " + disposition + b"\r\n\r\n" + data + b"\r\n--B--\r\n")
    return "multipart/form-data; boundary=B", body


@pytest.mark.parametrize("disposition, data, fields", [
    (b'name="csrf_token"', b"x\xed\xa0\x80", {"csrf_token": inbound.NOT_UNICODE}),
    (b'name="note"', b"a\x00b", {"note": inbound.CONTROL}),
    (b'name="file"; filename="a\x07.xlsx"', b"PK", {"file": "文件名" + inbound.CONTROL}),
])
def test_upload_forms_that_no_field_holds_are_refused_naming_the_field(disposition, data, fields):
    from chalicelib.web import multipart
    assert refused(multipart.parse, *_upload(disposition, data), 1 << 20) == fields


def test_an_uploaded_file_keeps_its_bytes():
    from chalicelib.web import multipart
    parts = multipart.parse(*_upload(b'name="file"; filename="\xe5\xbe\x80\xe5\xb9\xb4.xlsx"', b"PK\x00\xff"), 1 << 20)
    assert {k: (p.filename, p.data) for k, p in parts.items()} == {"file": ("往年.xlsx", b"PK\x00\xff")}
