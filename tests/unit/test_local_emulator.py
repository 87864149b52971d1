"""The local emulator's journal (scripts/local_emulator.py): what it counts as a change, how it frames
records, and that a torn last record (a crash mid-append, never acknowledged) is cut off."""
from __future__ import annotations

import io

import pytest

from scripts.local_emulator import DurableApp, Journal, mutates


def _environ(method: str, path: str = "/", body: bytes = b"", **extra: str) -> dict:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "CONTENT_TYPE": "",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), **extra}


@pytest.mark.parametrize(("environ", "body", "changes"), [
    (_environ("POST", HTTP_X_AMZ_TARGET="DynamoDB_20120810.TransactWriteItems"), b"{}", True),
    (_environ("POST", HTTP_X_AMZ_TARGET="DynamoDB_20120810.PutItem"), b"{}", True),
    (_environ("POST", HTTP_X_AMZ_TARGET="DynamoDB_20120810.UpdateTimeToLive"), b"{}", True),
    (_environ("POST", HTTP_X_AMZ_TARGET="DynamoDB_20120810.Query"), b"{}", False),
    (_environ("POST", HTTP_X_AMZ_TARGET="DynamoDB_20120810.BatchGetItem"), b"{}", False),
    (_environ("POST", HTTP_X_AMZ_TARGET="DynamoDB_20120810.DescribeTable"), b"{}", False),
    (_environ("POST", CONTENT_TYPE="application/x-www-form-urlencoded"), b"Action=SendRawEmail&X=1", True),
    (_environ("POST", CONTENT_TYPE="application/x-www-form-urlencoded"), b"Action=GetSendQuota", False),
    (_environ("PUT", "/bucket/cases/c1/a1"), b"%PDF", True),
    (_environ("POST", "/bucket", CONTENT_TYPE="multipart/form-data; boundary=x"), b"--x", True),
    (_environ("DELETE", "/bucket/key"), b"", True),
    (_environ("GET", "/bucket/key"), b"", False),
    (_environ("HEAD", "/bucket/key"), b"", False),
    (_environ("POST", "/moto-api/recorder/start-recording"), b"", False),
])
def test_what_counts_as_a_change(environ, body, changes):
    assert mutates(environ, body) is changes


def test_records_come_back_in_order_and_a_torn_last_one_is_cut_off(tmp_path):
    journal = Journal(tmp_path / "journal")
    journal.append(1, {"REQUEST_METHOD": "PUT", "PATH_INFO": "/b/k"}, b"\x00body\xff")
    journal.append(2, {"REQUEST_METHOD": "DELETE", "PATH_INFO": "/b/k"}, b"")
    whole = (tmp_path / "journal").stat().st_size
    journal.append(3, {"REQUEST_METHOD": "PUT", "PATH_INFO": "/b/k2"}, b"x" * 100)
    journal.file.close()
    with open(tmp_path / "journal", "r+b") as f:       # as if the machine died in the middle of record 3
        f.truncate(whole + 30)
    again = Journal(tmp_path / "journal")
    assert [(seq, meta["PATH_INFO"], body) for seq, meta, body in again.entries] == [
        (1, "/b/k", b"\x00body\xff"), (2, "/b/k", b"")]
    assert (again.last_seq, (tmp_path / "journal").stat().st_size) == (2, whole)


def test_a_change_is_on_disk_before_its_answer_and_a_refused_one_is_not_journaled(tmp_path):
    answers = iter([("200 OK", b"{}"), ("400 Bad Request", b'{"__type": "ConditionalCheckFailed"}')])
    seen_on_disk: list[int] = []

    def app(environ, start_response):
        status, body = next(answers)
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    journal = Journal(tmp_path / "journal")
    durable = DurableApp(app, journal)
    for _ in range(2):
        environ = _environ("POST", body=b'{"TableName": "t"}', HTTP_X_AMZ_TARGET="DynamoDB_20120810.PutItem")
        durable(environ, lambda status, headers: seen_on_disk.append(len(Journal(tmp_path / "journal").entries)))
    assert seen_on_disk == [1, 1]
    assert [(seq, body) for seq, _, body in Journal(tmp_path / "journal").entries] == [(1, b'{"TableName": "t"}')]


def test_a_full_journal_is_compacted_after_the_change_that_filled_it_and_before_the_next_request(tmp_path):
    order: list[str] = []

    def app(environ, start_response):
        order.append(f"request {len(order)}")
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    journal = Journal(tmp_path / "journal")
    durable = DurableApp(app, journal, max_journal_bytes=300)

    def compact():
        on_disk = Journal(tmp_path / "journal")
        order.append(f"snapshot at {durable.seq} with {len(on_disk.entries)} on disk")
        journal.clear()

    durable.compact = compact
    for _ in range(5):
        environ = _environ("POST", body=b"x" * 100, HTTP_X_AMZ_TARGET="DynamoDB_20120810.PutItem")
        durable(environ, lambda status, headers: None)
        durable(_environ("GET", "/bucket/key"), lambda status, headers: None)   # a read never fills it
    assert [o for o in order if o.startswith("snapshot")] == ["snapshot at 2 with 2 on disk",
                                                              "snapshot at 4 with 2 on disk"]
    assert order.index("snapshot at 2 with 2 on disk") == order.index("request 2") + 1
    assert [seq for seq, _, _ in Journal(tmp_path / "journal").entries] == [5]
