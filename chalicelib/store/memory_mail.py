"""The in-memory twin of store/mail.MailRepository, for service tests without DynamoDB (or moto).

It keeps what the repository's conditional writes check: a mail is claimed once (a failed one again while it
has attempts left), a queued one only while it is queued, and dropping a queued one only while nobody has
claimed it. Its writes neither check a stage window nor write audit rows; its rows are the shared
`MemoryTables.mail`, where the case and judging twins put the rows that ride in their writes (a submission
receipt, a queued invitation), as the DynamoDB repositories write them in their transactions.
tests/integration/test_mail_repository_contract.py runs the same tests against both.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ..domain.mail_record import MailRecord
from .memory import MemoryTables


class InMemoryMailRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.rows: dict[str, MailRecord] = self.tables.mail

    # -- what a test sets up -----------------------------------------------------------------------
    def put(self, record: MailRecord) -> None:
        """Store a row as it is (what a test seeds, or a row another table's transaction wrote)."""
        self.rows[record.mail_key] = record

    # -- reads -------------------------------------------------------------------------------------
    def get(self, mail_key: str) -> MailRecord | None:
        return self.rows.get(mail_key)

    def get_many(self, mail_keys: Sequence[str]) -> list[MailRecord]:
        return [self.rows[k] for k in dict.fromkeys(mail_keys) if k in self.rows]

    def by_message(self, message_id: str) -> list[MailRecord]:
        return [r for r in self.rows.values() if r.message_id == message_id]

    def recent(self, competition_id: str, limit: int) -> list[MailRecord]:
        found = [r for r in self.rows.values() if r.competition_id == competition_id]
        return sorted(found, key=lambda r: r.created_at, reverse=True)[:limit]

    def queued(self, competition_id: str, limit: int) -> list[MailRecord]:
        found = [r for r in self.rows.values() if r.queued_for == competition_id]
        return sorted(found, key=lambda r: r.created_at)[:limit]

    # -- claims --------------------------------------------------------------------------------------
    def claim(self, mail_key: str, competition_id: str, kind: str, recipient: str, subject: str, now: float,
              max_attempts: int) -> MailRecord | None:
        stored = self.rows.get(mail_key)
        if stored is not None and not stored.may_retry(max_attempts):
            return None
        if stored is None:
            claimed = MailRecord(mail_key, competition_id, kind, recipient, subject, "sending", created_at=now,
                                 attempts=1)
        else:   # an update keeps what it does not set
            claimed = replace(stored, competition_id=competition_id, kind=kind, recipient=recipient,
                              subject=subject, status="sending", attempts=(stored.attempts or 0) + 1)
        self.rows[mail_key] = claimed
        return claimed

    def claim_queued(self, mail_key: str, now: float, max_attempts: int) -> MailRecord | None:
        stored = self.rows.get(mail_key)
        if stored is None or stored.queued_for is None or not (
                stored.status == "queued" or stored.may_retry(max_attempts)):
            return None
        claimed = replace(stored, status="sending", attempts=(stored.attempts or 0) + 1, claimed_at=now)
        self.rows[mail_key] = claimed
        return claimed

    # -- outcomes ------------------------------------------------------------------------------------
    def mark_sent(self, mail_key: str, message_id: str, now: float, subject: str | None = None,
                  dequeue: bool = False) -> None:
        stored = self._stored(mail_key)
        self.rows[mail_key] = replace(stored, status="sent", message_id=message_id, sent_at=now, error=None,
                                      subject=stored.subject if subject is None else subject,
                                      queued_for=None if dequeue else stored.queued_for)

    def mark_failed(self, mail_key: str, error: str, dequeue: bool = False) -> None:
        stored = self._stored(mail_key)
        self.rows[mail_key] = replace(stored, status="failed", error=error,
                                      queued_for=None if dequeue else stored.queued_for)

    def mark_bounced(self, mail_key: str, reason: str, now: float) -> None:
        self.rows[mail_key] = replace(self._stored(mail_key), status="bounced", error=reason, bounced_at=now)

    def drop(self, mail_key: str, claimed: bool = False) -> bool:
        stored = self.rows.get(mail_key)
        if not claimed and (stored is None or stored.queued_for is None or stored.status != "queued"):
            return False
        self.rows[mail_key] = replace(self._stored(mail_key), status="dropped", queued_for=None)
        return True

    def _stored(self, mail_key: str) -> MailRecord:
        """The row an unconditional update changes (DynamoDB would create a bare one; the twin's callers
        always update a row they claimed or read, so a missing one is a test's mistake)."""
        stored = self.rows.get(mail_key)
        if stored is None:
            raise KeyError(mail_key)
        return stored
