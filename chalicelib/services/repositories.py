"""What the services need of the store, named as Protocols: the store's repositories (store/cases.py over
DynamoDB) and their in-memory twins (store/memory.py) both answer them, and one contract suite
(tests/integration/test_case_repository_contract.py) holds both to the same behaviour.

A stage key names the window a write must land in, checked in the write itself: (competition, stage) the stage
is open, (competition, stage, "before") it has not opened yet, None the case's own window (a returned case:
before its `resubmit_by`). A refused write raises StageClosed (the window) or VersionConflict (the case as
read changed).
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence

from ..domain.case_record import Case, EarlierVersion
from ..domain.mail_record import MailRecord

StageKey = tuple[str, ...]


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def get_with_stages(self, case_id: str, competition_id: str,
                        stage_ids: Sequence[str]) -> tuple[Case | None, list[Any]]:
        """The case and the stage rows that govern its edits, in one consistent read (None: no row)."""
        ...

    def list_for_owner(self, owner_id: str) -> list[Case]: ...

    def list_for_competition(self, competition_id: str, category: str | None = None) -> list[Case]: ...

    def get_version(self, case_id: str, version: int) -> EarlierVersion | None: ...

    def create(self, case: Case, stage_key: StageKey, actor: str, now: float) -> None:
        """A new case (never over an existing id), inside the stage window."""
        ...

    def save_text(self, case: Case, body: dict[str, Any], char_count: int, stage_key: StageKey | None,
                  actor: str, now: float, recommended: bool = False) -> Case:
        """A new version of the text on the case as read (its version and status); the old one stays readable.
        `recommended`: the case must still be recommended to the provincial competition, and the first such
        revision keeps the text as awarded (`awarded_body`)."""
        ...

    def set_status(self, case: Case, status: str, stage_key: StageKey | None, actor: str, now: float,
                   submitted_at: float | None = None, also: Sequence[Any] = ()) -> Case:
        """The case's new status, on the case as read; `also`: records written in the same transaction."""
        ...

    def put_attachment(self, case: Case, record: dict[str, Any], stage_key: StageKey | None, actor: str,
                       now: float, action: str, pending_only: bool = False) -> Case:
        """An attachment's record, while the case has the status it was read with; `pending_only`: only while
        the attachment's record is still pending (a confirm), else VersionConflict."""
        ...

    def remove_attachment(self, case: Case, attachment_id: str, stage_key: StageKey | None, actor: str,
                          now: float, action: str, pending_only: bool = False) -> Case:
        """`pending_only`: only while the attachment's record is still pending (a refused confirm)."""
        ...

    def review(self, case: Case, status: str, decision: str, reason: str | None, resubmit_by: float | None,
               competition_id: str, actor: str, now: float) -> Case:
        """An organiser's 审核 decision: after `submission` closed, before `text_review` closes, on the
        submitted case as read (its version, status and previous decision)."""
        ...


def case_repository() -> CaseRepository:
    """The process's case repository, for the services whose handlers do not pass one in yet."""
    from .. import bootstrap
    return bootstrap.case_repository()


# -- the mail log (table mail_log) ------------------------------------------------------------------------
class MailRepository(Protocol):
    """The mail log: one row per (kind, object, recipient), the once-only key of every mail. A claim that is
    refused (the mail was sent, is being sent, bounced, or failed its attempts) answers None, not an error."""

    def get(self, mail_key: str) -> MailRecord | None: ...

    def get_many(self, mail_keys: Sequence[str]) -> list[MailRecord]:
        """The rows of these keys that exist."""
        ...

    def by_message(self, message_id: str) -> list[MailRecord]:
        """The rows sent with this (SES) message id."""
        ...

    def recent(self, competition_id: str, limit: int) -> list[MailRecord]:
        """The competition's mail log, newest first."""
        ...

    def queued(self, competition_id: str, limit: int) -> list[MailRecord]:
        """The mail the queued sender owes (queued, or failed with attempts left), oldest first."""
        ...

    def claim(self, mail_key: str, competition_id: str, kind: str, recipient: str, subject: str, now: float,
              max_attempts: int) -> MailRecord | None:
        """The mail "sending", new or a failed one with fewer than `max_attempts` send calls, counting this
        attempt; None when it may not be sent now."""
        ...

    def claim_queued(self, mail_key: str, now: float, max_attempts: int) -> MailRecord | None:
        """A queued mail (or a failed one with attempts left, still in the queue) "sending", counting the
        attempt; None when another sender has it, it was sent, or it left the queue."""
        ...

    def mark_sent(self, mail_key: str, message_id: str, now: float, subject: str | None = None,
                  dequeue: bool = False) -> None:
        """Sent with this message id (an earlier error cleared); `dequeue`: it leaves the queue."""
        ...

    def mark_failed(self, mail_key: str, error: str, dequeue: bool = False) -> None:
        """The send failed (`error`: the exception's name); `dequeue`: it leaves the queue (its last attempt)."""
        ...

    def mark_bounced(self, mail_key: str, reason: str, now: float) -> None: ...

    def drop(self, mail_key: str, claimed: bool = False) -> bool:
        """The mail "dropped", out of the queue: only while it is queued and unclaimed (else False), or
        `claimed`: the caller's own claim."""
        ...


def mail_repository() -> MailRepository:
    """The process's mail log, for the callers that do not pass one in yet."""
    from .. import bootstrap
    return bootstrap.mail_repository()
