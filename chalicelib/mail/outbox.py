"""The mail port: each mail is sent at most once per (kind, object, recipient), whatever retries.

A conditional write of the mail-log row claims the mail before it is sent; a retry finds the row and
skip. The log is a repository (services/repositories.MailRepository: store/mail.py over DynamoDB, its twin
store/memory_mail.py); each function takes it as `mail`, from its caller. The rows that ride in another
table's transaction (`prepare`, `queue`) are built here as domain records (domain/MailRecord); the
store repository that runs that transaction writes them (store/mail.save_in). Nothing here imports store/.
Adapters: SES (AWS global regions) and SMTP (the aws-cn partition, government relays).
"""
from __future__ import annotations

from datetime import datetime
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ..domain.clock import epoch
from ..config import SmtpRelay
from ..domain.accounts import EMAIL
from ..domain.mail_record import MailRecord
from .render import render

if TYPE_CHECKING:
    from ..services.repositories import MailRepository

# Names the mail-log row in the message itself: an SES bounce event carries the original headers (event
# publishing always includes them; identity notifications when "headers in notifications" is on), so a bounce
# finds its row without SES's message id.
MAIL_KEY_HEADER = "X-Saiping-Mail"
# Send calls of one once-only mail at most: a failed send is tried again by the next run of its job (the
# result mail every 5 minutes), and a mail SES keeps refusing stays "failed" in the mail log after this many.
MAX_ATTEMPTS = 5


class Transport(Protocol):
    def send(self, message: EmailMessage) -> str: ...


class SesTransport:
    """SES's SendRawEmail, naming the stage's configuration set: its event destination reports bounces and
    complaints to the stage's topic (infra/base.json), whatever the identity's default set is."""

    def __init__(self, ses: Any, configuration_set: str = ""):
        self.ses = ses
        self.configuration_set = configuration_set

    def send(self, message: EmailMessage) -> str:
        request: dict[str, Any] = {"RawMessage": {"Data": message.as_bytes()}}
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        answer = self.ses.send_raw_email(**request)
        return answer.get("MessageId", "")


class SmtpTransport:
    """One connection per mail to the relay (config.SmtpRelay). With TLS (always in AWS) the session is
    encrypted before login and data: implicit TLS on port 465, else STARTTLS; a relay that does not offer
    STARTTLS, or whose certificate does not verify, fails the send (the mail log says failed) instead of
    carrying the password and the mail in clear."""

    def __init__(self, relay: SmtpRelay, context: ssl.SSLContext | None = None):
        self.relay = relay
        self.context = context

    def send(self, message: EmailMessage) -> str:
        relay = self.relay
        context = self.context or ssl.create_default_context()
        if relay.tls and relay.implicit_tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(relay.host, relay.port, timeout=20, context=context)
        else:
            connection = smtplib.SMTP(relay.host, relay.port, timeout=20)
        with connection as smtp:
            if relay.tls and not relay.implicit_tls:
                smtp.starttls(context=context)      # SMTPNotSupportedError when the relay does not offer it
            if relay.username:
                smtp.login(relay.username, relay.password)
            smtp.send_message(message)
        return str(message["Message-ID"])


class Throttled:
    """At most `rate` messages a second through `transport` (a sleep-based limiter, per process).

    SES refuses sends above the account's rate (Throttling: Maximum sending rate exceeded) and relays
    drop bursts; spacing the sends is simpler than retrying them. Each Lambda instance has its own limiter:
    keep MAIL_RATE_PER_SECOND at the account's rate divided by the functions that send at once.
    """

    def __init__(self, transport: Transport, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.transport = transport
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def pace(self) -> None:
        """Wait for the next sending slot and take it."""
        with self._lock:
            now = self.clock()
            if now < self._next:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval

    def send(self, message: EmailMessage) -> str:
        self.pace()
        return self.transport.send(message)


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


def mail_key(competition_id: str, kind: str, object_key: str, recipient: str) -> str:
    """The once-only key of a mail: "<kind>#<competition>#<object>#<recipient>" (a stage's mail to a unit in one
    competition is not the same mail in the next; scripts/migrate_competition_keys.py moves older rows)."""
    return f"{kind}#{competition_id}#{object_key}#{recipient.lower()}"


def send_once(transport: Transport, sender: str, competition_id: str, kind: str, object_key: str,
              recipient: str, context: dict[str, Any], now: datetime, mail: MailRepository) -> Outcome:
    """Render and send `kind` to `recipient` unless it was already sent (or is being sent) for
    `object_key`; a send that failed is tried again by later calls, MAX_ATTEMPTS send calls in all."""
    if not EMAIL.match(recipient or ""):
        return Outcome(False, "invalid_address")
    log = mail
    subject, text, html = render(kind, context)
    # the claim: one write creates the row or takes a failed one back, counting the attempt
    record = log.claim(mail_key(competition_id, kind, object_key, recipient), competition_id, kind, recipient, subject,
                       epoch(now), MAX_ATTEMPTS)
    if record is None:
        return Outcome(False, "already_sent")
    message = build_message(sender, recipient, subject, text, html)
    message[MAIL_KEY_HEADER] = record.mail_key
    try:
        message_id = transport.send(message)
    except Exception as exc:
        log.mark_failed(record.mail_key, type(exc).__name__)
        raise
    log.mark_sent(record.mail_key, message_id, epoch(now))
    return Outcome(True)


@dataclass(frozen=True)
class Prepared:
    """A mail whose log row rides in the caller's own transaction (no call of its own), sent afterwards.

    For mail that a state change makes happen exactly once (a case going draft -> submitted): the change's
    condition is the once-only key, so the row needs no claim, and a request stays within its budget of
    DynamoDB calls. The row says "sent" from the start; `deliver` flips it to "failed" if the send fails.
    """
    record: MailRecord
    message: EmailMessage


def prepare(sender: str, competition_id: str, kind: str, object_key: str, recipient: str | None,
            context: dict[str, Any], now: datetime) -> Prepared | None:
    """Render and build the mail and its log row; None for an invalid address. No I/O."""
    if recipient is None or not EMAIL.match(recipient):
        return None
    subject, text, html = render(kind, context)
    message = build_message(sender, recipient, subject, text, html)
    key = mail_key(competition_id, kind, object_key, recipient)
    message[MAIL_KEY_HEADER] = key
    record = MailRecord(key, competition_id=competition_id, kind=kind, recipient=recipient, subject=subject,
                        status="sent", created_at=epoch(now), message_id=str(message["Message-ID"]),
                        sent_at=epoch(now))
    return Prepared(record, message)


def deliver(transport: Transport, prepared: Prepared, mail: MailRepository) -> bool:
    """Send a prepared mail (its row is already written). A failure is recorded on the row, not raised."""
    try:
        transport.send(prepared.message)
        return True
    except Exception as exc:
        mail.mark_failed(prepared.record.mail_key, type(exc).__name__)
        return False


def recent(competition_id: str, limit: int, mail: MailRepository) -> list[MailRecord]:
    return mail.recent(competition_id, limit)


def would_skip(competition_id: str, kind: str, pairs: list[tuple[str, str]], mail: MailRepository
               ) -> set[tuple[str, str]]:
    """Which (object, recipient) pairs `send_once` would skip now, read without claiming anything: the mail
    was sent, is being sent, bounced, or failed MAX_ATTEMPTS times. One BatchGetItem per 100 pairs."""
    keys = {mail_key(competition_id, kind, obj, recipient): (obj, recipient) for obj, recipient in pairs}
    return {keys[row.mail_key] for row in mail.get_many(list(keys)) if not row.may_retry(MAX_ATTEMPTS)}


# -- queued mail ---------------------------------------------------------------------------------
# A request that would mail many people (issuing the links of a stage) writes each mail's log row "queued" in
# its own transaction and returns; the queued sender (jobs/mail_queue.py: a 1-minute schedule, and an
# asynchronous start right after the request) sends them at MAIL_RATE_PER_SECOND. A queued row carries no body:
# the body is composed at send time from `ref` (a scoring link is never stored), so a mail whose object has
# changed since (a link re-issued or revoked) is dropped instead of sent.

def queue(competition_id: str, kind: str, object_key: str, recipient: str | None, subject: str, ref: str,
          now: datetime) -> MailRecord | None:
    """The log row of a mail to send later ("queued", in the sparse by_queue index); None for an invalid
    address. No I/O: the row rides in the caller's transaction (a new object's key needs no claim)."""
    if recipient is None or not EMAIL.match(recipient):
        return None
    return MailRecord(mail_key(competition_id, kind, object_key, recipient), competition_id=competition_id, kind=kind,
                      recipient=recipient, subject=subject, status="queued", created_at=epoch(now),
                      queued_for=competition_id, ref=ref, attempts=0)


def queued(competition_id: str, limit: int, mail: MailRepository) -> list[MailRecord]:
    """The mail the queued sender owes, oldest first (one Query of the sparse by_queue index)."""
    return mail.queued(competition_id, limit)


def object_of(record: Any) -> str:
    """The object part of a row's key `<kind>#<competition>#<object>#<recipient>`."""
    return str(record.mail_key).split("#", 2)[2].rsplit("#", 1)[0]


def drop(rows: list[MailRecord], mail: MailRepository) -> int:
    """Mark queued rows whose object is already gone "dropped" without claiming them (one conditional
    UpdateItem each: a row another sender has taken meanwhile is left to it). Returns how many."""
    return sum(mail.drop(row.mail_key) for row in rows)


@dataclass(frozen=True)
class Drained:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    skipped: int = 0


def send_queued(transport: Transport, sender: str, rows: list[MailRecord],
                compose: Callable[[MailRecord], dict[str, Any] | None], now: Callable[[], datetime],
                budget_seconds: float | None = None, elapsed: Callable[[], float] = time.monotonic, *,
                mail: MailRepository) -> Drained:
    """Send each queued row at most once: claim it, compose its context (None: its object is gone, the row
    becomes "dropped"), send; a failed send is "failed" and stays queued until MAX_ATTEMPTS send calls.
    After `budget_seconds` no further row is claimed (the rest wait for the next run)."""
    started = elapsed()
    log = mail
    # A dropped mail takes no sending slot; a sent one waits for its slot (at most one interval) after it was
    # composed, so what goes out was read just before.
    pace, send = ((transport.pace, transport.transport.send) if isinstance(transport, Throttled)
                  else ((lambda: None), transport.send))
    sent = failed = dropped = skipped = 0
    for queued_row in rows:
        if budget_seconds is not None and elapsed() - started > budget_seconds:
            break
        row = log.claim_queued(queued_row.mail_key, epoch(now()), MAX_ATTEMPTS)
        if row is None:
            skipped += 1
            continue
        context = compose(row)
        if context is None:
            log.drop(row.mail_key, claimed=True)
            dropped += 1
            continue
        subject, text, html = render(row.kind, context)
        message = build_message(sender, row.recipient, subject, text, html)
        message[MAIL_KEY_HEADER] = row.mail_key
        pace()
        try:
            message_id = send(message)
        except Exception as exc:
            log.mark_failed(row.mail_key, type(exc).__name__, dequeue=(row.attempts or 0) >= MAX_ATTEMPTS)
            failed += 1
            continue
        log.mark_sent(row.mail_key, message_id or str(message["Message-ID"]), epoch(now()), subject=subject,
                      dequeue=True)
        sent += 1
    return Drained(sent, failed, dropped, skipped)


def states(keys: list[str], mail: MailRepository) -> dict[str, str]:
    """The status of each of these mail-log rows that exists (one BatchGetItem per 100 keys)."""
    return {row.mail_key: row.status for row in mail.get_many(keys)} if keys else {}
