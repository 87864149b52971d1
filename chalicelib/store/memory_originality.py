"""In-memory twins of the originality check's store (store/originality.ArchiveRepository and Objects), for
service tests without DynamoDB, S3 or moto. tests/integration/test_archive_repository_contract.py runs the
same tests against both."""
from __future__ import annotations

from typing import Any

from ..domain import originality as domain
from ..domain.archive_record import ArchiveCase
from .memory import MemoryTables
from .originality import CORPUS


class InMemoryArchiveRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.cases: dict[str, ArchiveCase] = {}

    def put_cases(self, cases: list[ArchiveCase], actor: str, now: float, detail: dict[str, Any]) -> None:
        for case in cases:
            self.cases[case.id] = case
        self.tables.audit.append(("archive#" + CORPUS, actor, "archive.import"))

    def count_cases(self) -> int:
        return len(self.cases)

    def list_cases(self) -> list[ArchiveCase]:
        return [self.cases[k] for k in sorted(self.cases)]


class InMemoryOriginalityObjects:
    """The stored index (with an ETag that changes on every save) and the flag cache."""

    def __init__(self) -> None:
        self.index: tuple[domain.ArchiveIndex, str] | None = None
        self.flags: dict[str, tuple[str, dict[str, Any]]] = {}     # competition -> (digest, result)
        self.saves = 0

    def load_index(self) -> tuple[domain.ArchiveIndex, str] | None:
        return self.index

    def save_index(self, index: domain.ArchiveIndex) -> str:
        self.saves += 1
        etag = f'"{self.saves}"'
        self.index = (index, etag)
        return etag

    def cached_flags(self, competition_id: str, digest: str) -> dict[str, Any] | None:
        kept = self.flags.get(competition_id)
        return kept[1] if kept is not None and kept[0] == digest else None

    def save_flags(self, competition_id: str, digest: str, result: dict[str, Any]) -> None:
        self.flags[competition_id] = (digest, result)
