"""The in-memory twin of store/competitions.CompetitionRepository, for service tests without DynamoDB (or moto).

It keeps what the repository's transactions check (a new id, the version as read) and refuses a write with the
same domain errors; each write adds its audit row to the shared `MemoryTables.audit`, and `changes` keeps what
the real audit row digests (the changed paths, their values before and after).
tests/integration/test_competition_repository_contract.py runs the same tests against both.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from ..domain import competition_record
from ..domain.competition_edit import state_of
from ..domain.competition_record import CompetitionRecord
from ..domain.errors import Duplicate, VersionConflict
from .memory import MemoryTables

STALE = "竞赛设置已在别处被修改（版本已变化），请刷新后再修改"
TAKEN = "这个竞赛编号已被使用，请换一个"


@dataclass(frozen=True)
class Change:
    """What an audit row is about: the action, who, and of a save the changed paths and their values before and
    after; of a creation the definition's text (`created`)."""
    competition_id: str
    actor: str
    action: str
    changed: tuple[str, ...] = ()
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    created: str | None = None


class InMemoryCompetitionRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.audit = self.tables.audit
        self.records: dict[str, CompetitionRecord] = {}
        self.changes: list[Change] = []
        self.current: str | None = None

    def put(self, record: CompetitionRecord) -> None:
        """Store a record as it is (what a test seeds; no conditions, no audit)."""
        self.records[record.id] = record

    # -- reads -------------------------------------------------------------------------------------
    def get(self, competition_id: str) -> CompetitionRecord | None:
        return self.records.get(competition_id)

    def list_all(self) -> list[CompetitionRecord]:
        return sorted(self.records.values(), key=lambda r: r.created_at, reverse=True)

    # -- writes ------------------------------------------------------------------------------------
    def create(self, record: CompetitionRecord, actor: str, now: float) -> None:
        if record.id in self.records:
            raise Duplicate(TAKEN, {"id": TAKEN})
        self.records[record.id] = record
        self.audit.append((f"competition#{record.id}", actor, "competition.create"))
        self.changes.append(Change(record.id, actor, "competition.create", created=record.stored_definition))

    def save(self, record: CompetitionRecord, definition: Mapping[str, Any], changed: Sequence[str], action: str,
             actor: str, now: float) -> CompetitionRecord:
        stored = self.records.get(record.id)
        if stored is None or stored.version != record.version:
            raise VersionConflict(STALE)
        saved = replace(stored, stored_definition=competition_record.definition_json(definition),
                        state=state_of(definition), version=stored.version + 1, updated_at=now, updated_by=actor)
        self.records[record.id] = saved
        self.audit.append((f"competition#{record.id}", actor, action))
        self.changes.append(Change(record.id, actor, action, tuple(changed),
                                   competition_record.values_at(stored.definition, changed),
                                   competition_record.values_at(definition, changed)))
        return saved

    def current_id(self) -> str | None:
        return self.current

    def make_current(self, competition_id: str, actor: str, now: float) -> None:
        before = self.current
        self.current = competition_id
        self.audit.append((f"competition#{competition_id}", actor, "competition.activate"))
        self.changes.append(Change(competition_id, actor, "competition.activate", (), {"current": before},
                                   {"current": competition_id}))
