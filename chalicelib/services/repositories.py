"""What the services need of the store, named as Protocols: the store's repositories (store/cases.py over
DynamoDB) and their in-memory twins (store/memory.py) both answer them, and one contract suite
(tests/integration/test_case_repository_contract.py) holds both to the same behaviour.

A stage key names the window a write must land in, checked in the write itself: (competition, stage) the stage
is open, (competition, stage, "before") it has not opened yet, None the case's own window (a returned case:
before its `resubmit_by`). A refused write raises StageClosed (the window) or VersionConflict (the case as
read changed).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

from ..domain import originality as originality_rules
from ..domain.archive_record import ArchiveCase
from ..domain.case_record import Case, EarlierVersion
from ..domain.certificate_record import Certificate
from ..domain.export_record import ExportJob

StageKey = tuple[str, ...]


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def get_with_stages(self, case_id: str, competition_id: str,
                        stage_ids: Sequence[str]) -> tuple[Case | None, list[Any]]:
        """The case and the stage rows that govern its edits, in one consistent read (None: no row)."""
        ...

    def list_for_owner(self, owner_id: str) -> list[Case]: ...

    def list_for_competition(self, competition_id: str, category: str | None = None) -> list[Case]: ...

    def iter_for_competition(self, competition_id: str) -> Iterator[Case]:
        """The competition's cases page by page (an export reduces each to its row: never all held at once)."""
        ...

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


# -- export jobs (table export_jobs), the console's saved award list (S3), the archive (table archive_cases)
# -- with the originality objects (S3), the issued certificates (table certificates)
class ExportRepository(Protocol):
    def create(self, job: ExportJob) -> None:
        """A new queued job (never over an existing id)."""
        ...

    def get(self, job_id: str) -> ExportJob | None: ...

    def queued(self, limit: int = 10) -> list[ExportJob]:
        """The oldest queued jobs, oldest first."""
        ...

    def latest(self, competition_id: str, limit: int = 10) -> list[ExportJob]:
        """The competition's newest jobs, newest first."""
        ...

    def claim(self, job: ExportJob, now: float) -> ExportJob | None:
        """queued -> running (or running whose lease ran out): the job as claimed, None when someone else has
        it or it is done."""
        ...

    def progress(self, job: ExportJob, percent: int) -> None:
        """The percent (0-99), only while running (else Conflict)."""
        ...

    def finish(self, job: ExportJob, key: str, filename: str, now: float) -> ExportJob: ...

    def fail(self, job: ExportJob, error: str, now: float) -> ExportJob: ...


class AwardListRepository(Protocol):
    def read(self, competition_id: str) -> dict[str, Any] | None:
        """The organisers' saved 优秀组织奖 list ({"units", "saved_by", "saved_at"}), None until saved."""
        ...

    def write(self, competition_id: str, record: Mapping[str, Any], before: Mapping[str, Any] | None, actor: str,
              now: float) -> None:
        """Replace it, with its audit row."""
        ...


class ArchiveRepository(Protocol):
    def put_cases(self, cases: list[ArchiveCase], actor: str, now: float, detail: dict[str, Any]) -> None:
        """Write archived cases (an existing id is overwritten) and the import's audit row."""
        ...

    def count_cases(self) -> int: ...

    def list_cases(self) -> list[ArchiveCase]: ...


class OriginalityObjects(Protocol):
    def load_index(self) -> tuple[originality_rules.ArchiveIndex, str] | None:
        """The stored index and its ETag, None when there is none usable."""
        ...

    def save_index(self, index: originality_rules.ArchiveIndex) -> str: ...

    def cached_flags(self, digest: str) -> dict[str, Any] | None: ...

    def save_flags(self, digest: str, result: dict[str, Any]) -> None: ...


class CertificateRepository(Protocol):
    def record(self, issued: Iterable[Certificate]) -> int:
        """Store the codes (a re-run rewrites the same rows); returns how many."""
        ...

    def get(self, code: str) -> Certificate | None: ...


def certificate_repository() -> CertificateRepository:
    """The process's certificate codes, for the services whose handlers do not pass them in yet (results)."""
    from .. import bootstrap
    return bootstrap.deps().certificates


def case_repository() -> CaseRepository:
    """The process's case repository, for the services whose handlers do not pass one in yet."""
    from .. import bootstrap
    return bootstrap.case_repository()
