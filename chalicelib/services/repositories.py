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


# -- stages, rankings, the final and the showcase (the stage, ranking and audit tables; marks on the case) --------
from ..domain.result_record import FinalRecord, RankedCase, Ranking, ShownCase  # noqa: E402
from ..domain.stage_record import StageRow  # noqa: E402


class StageRepository(Protocol):
    """The stage windows (store/stages.py; the twin keeps them in MemoryTables.stages)."""

    def all_for(self, competition_id: str) -> list[StageRow]: ...

    def seed(self, competition_id: str, windows: list[tuple[str, float, float]]) -> int:
        """Create the missing rows (never over a window the organiser moved); how many."""
        ...

    def move_window(self, competition_id: str, stage_id: str, opens_at: float, closes_at: float, actor: str,
                    now: float, before: dict) -> None:
        """A new window, while the stage was not closed (else StageClosed)."""
        ...

    def close(self, competition_id: str, stage_id: str, actor: str, now: float, after: str | None = None) -> bool:
        """Close for good (a close before the window's end ends it at `now`), only once `after` is closed
        (else EarlierStageOpen); False when it was closed already."""
        ...

    def settle(self, competition_id: str, stage_id: str) -> None:
        """Mark a closed stage whose consequences are all done (else Conflict)."""
        ...


class ResultRepository(Protocol):
    """The stored rankings, and what closing a stage writes on the cases."""

    def get_ranking(self, competition_id: str, stage: str, category: str) -> Ranking | None: ...

    def stage_and_rankings(self, competition_id: str, stage: str, categories: tuple[str, ...]
                           ) -> tuple[StageRow | None, dict[str, Ranking | None]]:
        """The stage's row and its categories' rankings in one read."""
        ...

    def ranked_cases(self, competition_id: str, with_body: bool = True) -> list[RankedCase]:
        """The competition's cases as a ranking page reads them (a projection); `with_body` False: the marks only."""
        ...

    def save_ranking(self, ranking: Ranking) -> None: ...

    def apply_outcomes(self, changes: Sequence[tuple[Any, str, str | None]], from_statuses: tuple[str, ...],
                       actor: str, now: float) -> int:
        """(case, status, prize) each while the case is still in one of `from_statuses`; how many moved."""
        ...

    def set_provincial(self, case: Any, recommended: bool, actor: str, now: float,
                       reason: str | None = None) -> None:
        """The 省赛 mark and its reason, only on a case still awarded (else Conflict)."""
        ...

    def mark_notified(self, ranking: Ranking) -> None: ...


class FinalRepository(Protocol):
    """The live final's logs (the draws, the hall states; numbered per category) and the coaching replies."""

    def save_draw(self, competition_id: str, category: str, record: dict[str, Any], actor: str, now: float) -> int:
        """The category's next draw; its sequence number (Conflict if another took it)."""
        ...

    def latest_draw(self, competition_id: str, category: str) -> FinalRecord | None: ...

    def save_live(self, competition_id: str, category: str, action: str, record: dict[str, Any],
                  before: dict[str, Any] | None, expected: int, actor: str, now: float) -> int:
        """The next hall state after the one numbered `expected` (Conflict if another change landed)."""
        ...

    def latest_live(self, competition_id: str, category: str) -> FinalRecord | None: ...

    def save_replies(self, case: Any, replies_json: str, competition_id: str, stage: str, actor: str, now: float,
                     before: Any, after: Any) -> None:
        """A unit's replies while the coaching round is open (StageClosed), on a case that may reply (NotFound)."""
        ...


class ShowcaseRepository(Protocol):
    """The awarded cases as the showcase reads them, and its marks on the case (VersionConflict if changed)."""

    def awarded(self, competition_id: str) -> list[ShownCase]: ...

    def set_choice(self, case: Case, consent: bool, actor: str, now: float) -> Case: ...

    def set_hidden(self, case: Case, hidden: bool, reason: str | None, actor: str, now: float) -> Case: ...


def stage_repository() -> StageRepository:
    """The process's stage repository, for the services whose handlers do not pass one in yet."""
    from .. import bootstrap
    return bootstrap.deps().stages


def result_repository() -> ResultRepository:
    """The process's result repository, for the services whose callers do not pass one in yet."""
    from .. import bootstrap
    return bootstrap.deps().results


def final_repository() -> FinalRepository:
    """The process's final repository, for the services whose callers do not pass one in yet."""
    from .. import bootstrap
    return bootstrap.deps().final
