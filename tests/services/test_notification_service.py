"""services/notifications.py and the mail port on the in-memory twins (the mail log, the cases): no DynamoDB,
no moto (`make test-fast` runs these). The transport is a list of the messages sent; the units' accounts,
read from another table, are a list the test gives.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain.clock import moment
from chalicelib import competitions
from chalicelib.domain.case_record import new_case
from chalicelib.domain.competition import StageId, competition_from_config
from chalicelib.domain.mail_record import MailRecord
from chalicelib.mail import outbox
from chalicelib.services import notifications
from chalicelib.store.memory import InMemoryCaseRepository
from chalicelib.store.memory_mail import InMemoryMailRepository

CHINA = timezone(timedelta(hours=8))
COMP = competition_from_config(competitions.load("shenzhen-2023"))
SUBMISSION = next(w for w in COMP.default_windows if w.id == StageId.SUBMISSION)
T = SUBMISSION.closes_at.timestamp() - 2 * 86400
SENDER = "saiping@example.org"


class Outbox:
    """A transport that keeps what it sends (or fails every send while `down`)."""

    def __init__(self, down: bool = False) -> None:
        self.sent: list[EmailMessage] = []
        self.calls = 0
        self.down = down

    def send(self, message: EmailMessage) -> str:
        self.calls += 1
        if self.down:
            raise ConnectionError("relay down")
        self.sent.append(message)
        return f"ses-{len(self.sent)}"


@pytest.fixture
def mail() -> InMemoryMailRepository:
    return InMemoryMailRepository()


@pytest.fixture
def transport() -> Outbox:
    return Outbox()


@pytest.fixture
def ports(transport) -> Any:
    return SimpleNamespace(transport=transport, sender=SENDER, site_url="https://saiping.example.org")


def _award(transport: Any, mail: InMemoryMailRepository, case_id: str, recipient: str) -> outbox.Outcome:
    return outbox.send_once(transport, SENDER, COMP.id, "award", case_id, recipient, {
        "competition": COMP.short_name, "title": "案例", "unit": "深圳市某某局", "prize": "一等奖",
        "verify_url": "https://saiping.example.org/verify/x", "code": "X", "site_url": "https://saiping.example.org",
        "hosts": "、".join(COMP.hosts)}, moment(T), mail)


def test_the_service_tests_run_without_moto() -> None:
    code = ("import sys, tests.services.test_notification_service; "
            "assert 'moto' not in sys.modules, 'moto imported'")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_award_mail_goes_once_per_recipient(transport, mail) -> None:
    first = [_award(transport, mail, c, r) for c, r in (("case1", "A@example.gov.cn"), ("case2", "b@example.gov.cn"))]
    again = [_award(transport, mail, c, r) for c, r in (("case1", "a@example.gov.cn"), ("case2", "b@example.gov.cn"))]
    assert first == [outbox.Outcome(True)] * 2
    assert again == [outbox.Outcome(False, "already_sent")] * 2
    assert [m["To"] for m in transport.sent] == ["A@example.gov.cn", "b@example.gov.cn"]
    key = outbox.mail_key(COMP.id, "award", "case1", "a@example.gov.cn")
    assert transport.sent[0][outbox.MAIL_KEY_HEADER] == key
    row = mail.get(key)
    assert row is not None and (row.status, row.message_id, row.attempts, row.sent_at) == ("sent", "ses-1", 1, T)
    assert outbox.would_skip(COMP.id, "award", [("case1", "a@example.gov.cn"), ("case3", "c@example.gov.cn")], mail) == \
        {("case1", "a@example.gov.cn")}
    assert _award(transport, mail, "case3", "not an address") == outbox.Outcome(False, "invalid_address")


def test_a_failing_mail_is_tried_up_to_the_limit(mail) -> None:
    down = Outbox(down=True)
    for _ in range(outbox.MAX_ATTEMPTS):
        with pytest.raises(ConnectionError):
            _award(down, mail, "case1", "a@example.gov.cn")
    assert _award(down, mail, "case1", "a@example.gov.cn") == outbox.Outcome(False, "already_sent")
    assert down.calls == outbox.MAX_ATTEMPTS
    row = mail.get(outbox.mail_key(COMP.id, "award", "case1", "a@example.gov.cn"))
    assert row is not None and (row.status, row.attempts, row.error) == ("failed", outbox.MAX_ATTEMPTS,
                                                                         "ConnectionError")
    up = Outbox()
    assert _award(up, mail, "case1", "a@example.gov.cn") == outbox.Outcome(False, "already_sent")
    assert up.calls == 0


def test_a_failed_mail_with_attempts_left_goes_on_the_next_run(mail) -> None:
    with pytest.raises(ConnectionError):
        _award(Outbox(down=True), mail, "case1", "a@example.gov.cn")
    up = Outbox()
    assert _award(up, mail, "case1", "a@example.gov.cn") == outbox.Outcome(True)
    row = mail.get(outbox.mail_key(COMP.id, "award", "case1", "a@example.gov.cn"))
    assert row is not None and (row.status, row.attempts, row.error) == ("sent", 2, None)


def _bounce(message_id: str, recipient: str, headers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                                              "bouncedRecipients": [{"emailAddress": recipient,
                                                                     "diagnosticCode": "smtp; 550 5.1.1"}]},
            "mail": {"messageId": message_id, **({"headers": headers} if headers is not None else {})}}


def test_a_bounce_marks_the_record_by_message_id(transport, mail) -> None:
    _award(transport, mail, "case1", "a@example.gov.cn")
    key = outbox.mail_key(COMP.id, "award", "case1", "a@example.gov.cn")
    assert notifications.record_bounces([_bounce("ses-unknown", "a@example.gov.cn")], moment(T + 5), mail) == 0
    assert notifications.record_bounces([_bounce("ses-1", "other@example.gov.cn")], moment(T + 5), mail) == 0
    assert notifications.record_bounces([{"eventType": "Delivery", "mail": {"messageId": "ses-1"}}, "not a note"],
                                        moment(T + 5), mail) == 0
    assert notifications.record_bounces([_bounce("ses-1", "A@example.gov.cn")], moment(T + 5), mail) == 1
    row = mail.get(key)
    assert row is not None
    assert (row.status, row.error, row.bounced_at) == ("bounced", "Permanent/General: smtp; 550 5.1.1", T + 5)
    assert _award(transport, mail, "case1", "a@example.gov.cn") == outbox.Outcome(False, "already_sent")


def test_a_bounce_finds_the_record_by_its_mail_key_header(transport, mail) -> None:
    _award(transport, mail, "case1", "a@example.gov.cn")
    key = outbox.mail_key(COMP.id, "award", "case1", "a@example.gov.cn")
    header = [{"name": "x-saiping-mail", "value": f" {key}\r\n "}]
    assert notifications.record_bounces([_bounce("not-the-ses-id", "a@example.gov.cn", header)], moment(T + 9), mail) == 1
    row = mail.get(key)
    assert row is not None and row.status == "bounced"


def test_the_mail_log_is_newest_first_and_filtered_by_kind(mail) -> None:
    mail.put(MailRecord("award#c1#a@x.org", COMP.id, "award", "a@x.org", "获奖通知", "sent", T, sent_at=T + 1))
    mail.put(MailRecord("registration#u#b@x.org", COMP.id, "registration", "b@x.org", "注册", "failed", T + 60,
                        error="ConnectionError"))
    mail.put(MailRecord("award#c9#a@x.org", "other", "award", "a@x.org", "获奖通知", "sent", T + 90))
    shown = notifications.mail_log(COMP, mail)["mail"]
    assert [m["kind"] for m in shown] == ["registration", "award"]
    assert shown[1]["sent_at"] == datetime.fromtimestamp(T + 1, CHINA).isoformat(timespec="seconds")
    assert shown[0]["sent_at"] is None and shown[0]["error"] == "ConnectionError"
    assert [m["kind"] for m in notifications.mail_log(COMP, mail, kind="award")["mail"]] == ["award"]


def test_a_welcome_mail_goes_once(ports, transport, mail) -> None:
    mailing = notifications.Mailing(lambda: ports, COMP, mail)
    account = SimpleNamespace(id="acc1", email="u1@example.gov.cn", unit_name="深圳市第1局", username="unit1",
                              contact_name="张三")
    assert notifications.registered(account, moment(T), mailing) is True
    assert notifications.registered(account, moment(T + 1), mailing) is False
    assert len(transport.sent) == 1
    assert mail.get(outbox.mail_key(COMP.id, "registration", "acc1", "u1@example.gov.cn")) is not None


def test_a_receipt_that_cannot_be_sent_is_marked_failed(ports, mail) -> None:
    mailing = notifications.Mailing(lambda: replace_transport(ports, Outbox(down=True)), COMP, mail)
    case = new_case("case0001", COMP.id, "acc1", "unit1", {"category": "development", "title": "案例"}, 10, T)
    principal = SimpleNamespace(email="u1@example.gov.cn", unit_name="深圳市第1局")
    prepared = notifications.receipt(COMP, principal, case, T + 100,
                                     datetime.fromtimestamp(T, timezone.utc), mailing)
    assert prepared is not None
    mail.put(prepared.record)        # the row the submit's transaction wrote
    assert notifications.deliver(prepared, mailing) is False
    row = mail.get(prepared.record.mail_key)
    assert row is not None and (row.status, row.error) == ("failed", "ConnectionError")


def replace_transport(ports: Any, transport: Any) -> Any:
    return SimpleNamespace(**{**vars(ports), "transport": transport})


def test_deadline_reminders_go_to_units_with_a_draft_only_once(ports, transport, mail) -> None:
    cases = InMemoryCaseRepository()
    body = {"category": "development", "title": "草稿案例"}
    cases.put(new_case("case1", COMP.id, "acc1", "unit1", body, 10, T - 100))
    cases.put(replace(new_case("case2", COMP.id, "acc2", "unit2", body, 10, T - 100), status="submitted"))
    cases.put(new_case("case3", COMP.id, "acc2", "unit2", {**body, "title": ""}, 10, T - 100))
    units = [SimpleNamespace(id="acc1", email="u1@example.gov.cn", unit_name="深圳市第1局"),
             SimpleNamespace(id="acc2", email="u2@example.gov.cn", unit_name="深圳市第2局"),
             SimpleNamespace(id="acc3", email="u3@example.gov.cn", unit_name="深圳市第3局")]
    ports.accounts = SimpleNamespace(list_units=lambda: units)
    now = datetime.fromtimestamp(T, timezone.utc)
    assert notifications.deadline_reminders(COMP, ports, SUBMISSION, 3, now, cases, mail) == 1
    assert notifications.deadline_reminders(COMP, ports, SUBMISSION, 3, now, cases, mail) == 0
    assert [m["To"] for m in transport.sent] == ["u1@example.gov.cn"]
    assert "草稿案例" in transport.sent[0].get_body(("plain",)).get_content()


def test_a_feedback_notice_reads_the_case_from_the_repository(ports, transport, mail) -> None:
    cases = InMemoryCaseRepository()
    cases.put(new_case("case1", COMP.id, "acc1", "unit1", {"category": "development", "title": "辅导案例"}, 10, T))
    coaching = next(w for w in COMP.default_windows if w.id == StageId.COACHING)
    slots = [SimpleNamespace(case_id="case1", feedback="意见"), SimpleNamespace(case_id="gone", feedback="意见"),
             SimpleNamespace(case_id="case1", feedback=None)]
    judging = SimpleNamespace(slots_of_stage=lambda *_: slots)
    ports.accounts = SimpleNamespace(list_units=lambda: [
        SimpleNamespace(id="acc1", email="u1@example.gov.cn", unit_name="深圳市第1局")])
    now = coaching.opens_at + timedelta(hours=1)
    assert notifications.feedback_notices(judging, COMP, ports, coaching, now, cases, mail) == 1
    assert notifications.feedback_notices(judging, COMP, ports, coaching, now, cases, mail) == 0
    assert "辅导案例" in transport.sent[0].get_body(("plain",)).get_content()
