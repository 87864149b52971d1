"""The mail log (table mail_log): one row per (kind, object, recipient), the once-only key of every mail.

`MailRepository` is the services' and the mail port's way in (services/repositories.MailRepository): it reads
and writes the domain `MailRecord` (domain/mail_record.py). A claim is one conditional UpdateItem (the row is
created, or a failed one with attempts left is taken back, counting the attempt); a refused claim is an answer
(None), not an error. The rows that ride in another table's transaction (a submission receipt, a queued
invitation) are domain records made by mail/outbox.py; the store repository that runs that transaction writes
them with `save_in` (store/cases.py, store/judging.py).
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

from pynamodb.exceptions import UpdateError

from ..domain import mail_record
from .models import MailRecord

__all__ = ["MailRepository"]


def _domain(row: MailRecord) -> mail_record.MailRecord:
    return mail_record.MailRecord(
        mail_key=row.mail_key, competition_id=row.competition_id, kind=row.kind, recipient=row.recipient,
        subject=row.subject, status=row.status, created_at=float(row.created_at or 0), message_id=row.message_id,
        error=row.error, attempts=_int(row.attempts), sent_at=_number(row.sent_at),
        bounced_at=_number(row.bounced_at), queued_for=row.queued_for, ref=row.ref,
        claimed_at=_number(row.claimed_at))


def _row(record: mail_record.MailRecord) -> MailRecord:
    """The row of a domain record; unset fields stay absent (the sparse indexes see only what is set)."""
    values = {name: value for name, value in asdict(record).items() if value is not None and name != "mail_key"}
    return MailRecord(record.mail_key, **values)


def save_in(transaction: Any, record: mail_record.MailRecord) -> None:
    """Write a mail-log row in another table's transaction (store/db.transaction): a submission receipt with
    the submit, a queued invitation with its link. The key is a new object's, so the row needs no claim."""
    transaction.save(_row(record))


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _refused(exc: UpdateError) -> bool:
    return "ConditionalCheckFailed" in str(exc)


class MailRepository:
    """The mail log in DynamoDB, as domain records."""

    # -- reads ---------------------------------------------------------------------------------------
    def get(self, mail_key: str) -> mail_record.MailRecord | None:
        try:
            return _domain(MailRecord.get(mail_key))
        except MailRecord.DoesNotExist:
            return None

    def get_many(self, mail_keys: Sequence[str]) -> list[mail_record.MailRecord]:
        """The rows of these keys that exist (one BatchGetItem per 100 keys)."""
        keys = list(dict.fromkeys(mail_keys))
        return [_domain(r) for r in MailRecord.batch_get(keys)] if keys else []

    def by_message(self, message_id: str) -> list[mail_record.MailRecord]:
        """The rows sent with this message id (the sparse index by_message)."""
        return [_domain(r) for r in MailRecord.by_message.query(message_id)]

    def recent(self, competition_id: str, limit: int) -> list[mail_record.MailRecord]:
        """The competition's mail log, newest first."""
        return [_domain(r) for r in MailRecord.by_competition.query(competition_id, scan_index_forward=False,
                                                                     limit=limit)]

    def queued(self, competition_id: str, limit: int) -> list[mail_record.MailRecord]:
        """The mail the queued sender owes, oldest first (one Query of the sparse index by_queue)."""
        return [_domain(r) for r in MailRecord.by_queue.query(competition_id, limit=limit)]

    # -- claims --------------------------------------------------------------------------------------
    def claim(self, mail_key: str, competition_id: str, kind: str, recipient: str, subject: str, now: float,
              max_attempts: int) -> mail_record.MailRecord | None:
        """Create the row "sending", or take back a failed one with attempts left, counting the attempt;
        None when it was sent, is being sent, bounced or has failed `max_attempts` times."""
        row = MailRecord(mail_key)
        retry = (MailRecord.status == "failed") & (MailRecord.attempts.does_not_exist()
                                                   | (MailRecord.attempts < max_attempts))
        try:
            row.update(actions=[
                MailRecord.competition_id.set(competition_id), MailRecord.kind.set(kind),
                MailRecord.recipient.set(recipient), MailRecord.subject.set(subject),
                MailRecord.status.set("sending"), MailRecord.created_at.set(MailRecord.created_at | now),
                MailRecord.attempts.set((MailRecord.attempts | 0) + 1),
            ], condition=MailRecord.mail_key.does_not_exist() | retry)
        except UpdateError as exc:
            if _refused(exc):
                return None
            raise
        return _domain(row)

    def claim_queued(self, mail_key: str, now: float, max_attempts: int) -> mail_record.MailRecord | None:
        """Take a queued row (or a failed one with attempts left) for sending, counting the attempt; None when
        another sender has it, it was sent, or it left the queue."""
        row = MailRecord(mail_key)
        waiting = (MailRecord.status == "queued") | ((MailRecord.status == "failed")
                                                      & (MailRecord.attempts < max_attempts))
        try:
            row.update(actions=[MailRecord.status.set("sending"),
                                MailRecord.attempts.set((MailRecord.attempts | 0) + 1),
                                MailRecord.claimed_at.set(now)],
                       condition=MailRecord.queued_for.exists() & waiting)
        except UpdateError as exc:
            if _refused(exc):
                return None
            raise
        return _domain(row)

    # -- outcomes ------------------------------------------------------------------------------------
    def mark_sent(self, mail_key: str, message_id: str, now: float, subject: str | None = None,
                  dequeue: bool = False) -> None:
        """Sent with this message id, the error of an earlier attempt cleared; `subject`: the one it went with,
        `dequeue`: it leaves the queue."""
        actions: list[Any] = [MailRecord.status.set("sent"), MailRecord.message_id.set(message_id)]
        if subject is not None:
            actions.append(MailRecord.subject.set(subject))
        actions += [MailRecord.sent_at.set(now), MailRecord.error.remove()]
        if dequeue:
            actions.append(MailRecord.queued_for.remove())
        MailRecord(mail_key).update(actions=actions)

    def mark_failed(self, mail_key: str, error: str, dequeue: bool = False) -> None:
        """The send failed; `dequeue`: it leaves the queue (its last attempt)."""
        actions: list[Any] = [MailRecord.status.set("failed"), MailRecord.error.set(error)]
        if dequeue:
            actions.append(MailRecord.queued_for.remove())
        MailRecord(mail_key).update(actions=actions)

    def mark_bounced(self, mail_key: str, reason: str, now: float) -> None:
        MailRecord(mail_key).update(actions=[MailRecord.status.set("bounced"), MailRecord.error.set(reason),
                                             MailRecord.bounced_at.set(now)])

    def drop(self, mail_key: str, claimed: bool = False) -> bool:
        """The row "dropped", out of the queue: only while it is still queued and unclaimed (False when another
        sender has taken it meanwhile), or `claimed`: the caller's own claim."""
        actions: list[Any] = [MailRecord.status.set("dropped"), MailRecord.queued_for.remove()]
        if claimed:
            MailRecord(mail_key).update(actions=actions)
            return True
        try:
            MailRecord(mail_key).update(actions=actions,
                                        condition=MailRecord.queued_for.exists() & (MailRecord.status == "queued"))
        except UpdateError as exc:
            if _refused(exc):
                return False
            raise
        return True
