"""The mail port: each mail is sent at most once per (kind, object, recipient), whatever retries.

A conditional put of the mail-log row claims the mail before it is sent; a retry finds the row and
skips. Adapters: SES (AWS global regions) and SMTP (the aws-cn partition, government relays).
"""
from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

from pynamodb.exceptions import PutError

from ..store.models import MailRecord
from .render import render

ADDRESS = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Transport(Protocol):
    def send(self, message: EmailMessage) -> str: ...


class SesTransport:
    def __init__(self, ses: Any):
        self.ses = ses

    def send(self, message: EmailMessage) -> str:
        answer = self.ses.send_raw_email(RawMessage={"Data": message.as_bytes()})
        return answer.get("MessageId", "")


class SmtpTransport:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port

    def send(self, message: EmailMessage) -> str:
        with smtplib.SMTP(self.host, self.port, timeout=20) as smtp:
            smtp.send_message(message)
        return str(message["Message-ID"])


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reason: str = ""


def build_message(sender: str, recipient: str, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr(("赛评 saiping", sender))
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.split("@", 1)[1])
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_once(transport: Transport, sender: str, competition_id: str, kind: str, object_key: str,
              recipient: str, context: dict[str, Any], now: float) -> Outcome:
    """Render and send `kind` to `recipient` unless it was already sent (or is being sent) for
    `object_key`; a send that failed may be tried again."""
    if not ADDRESS.match(recipient or ""):
        return Outcome(False, "invalid_address")
    subject, text, html = render(kind, context)
    record = MailRecord(f"{kind}#{object_key}#{recipient.lower()}", competition_id=competition_id, kind=kind,
                        recipient=recipient, subject=subject, status="sending", created_at=now)
    try:
        record.save(condition=MailRecord.mail_key.does_not_exist() | (MailRecord.status == "failed"))
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc):
            return Outcome(False, "already_sent")
        raise
    try:
        message_id = transport.send(build_message(sender, recipient, subject, text, html))
    except Exception as exc:
        record.update(actions=[MailRecord.status.set("failed"), MailRecord.error.set(type(exc).__name__)])
        raise
    record.update(actions=[MailRecord.status.set("sent"), MailRecord.message_id.set(message_id),
                           MailRecord.sent_at.set(now)])
    return Outcome(True)


def recent(competition_id: str, limit: int = 200) -> list[MailRecord]:
    return list(MailRecord.by_competition.query(competition_id, scan_index_forward=False, limit=limit))
