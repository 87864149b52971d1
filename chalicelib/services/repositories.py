"""What the services need of the store, named as Protocols: the store's repositories (store/cases.py over
DynamoDB) and their in-memory twins (store/memory.py) both answer them, and one contract suite
(tests/integration/test_case_repository_contract.py) holds both to the same behaviour.

A stage key names the window a write must land in, checked in the write itself: (competition, stage) the stage
is open, (competition, stage, "before") it has not opened yet, None the case's own window (a returned case:
before its `resubmit_by`). A refused write raises StageClosed (the window) or VersionConflict (the case as
read changed).
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

from ..domain.case_record import Case, EarlierVersion
from ..domain.competition_record import CompetitionRecord

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


# -- the competitions table (竞赛届次: store/competitions.py, store/memory_competitions.py) ---------------------

class CompetitionRepository(Protocol):
    """Competitions stored as data (domain/competition_record.CompetitionRecord). A refused write raises
    Duplicate (an id in use) or VersionConflict (the competition as read changed)."""

    def get(self, competition_id: str) -> CompetitionRecord | None: ...

    def list_all(self) -> list[CompetitionRecord]:
        """Every competition, newest (created) first."""
        ...

    def create(self, record: CompetitionRecord, actor: str, now: float) -> None:
        """A new competition (never over an existing id), with its audit row."""
        ...

    def save(self, record: CompetitionRecord, definition: Mapping[str, Any], changed: Sequence[str], action: str,
             actor: str, now: float) -> CompetitionRecord:
        """The new definition (its state its own) on the record as read (its version); the audit row's before and
        after are the values at the `changed` paths (competition_edit.changed_paths)."""
        ...
