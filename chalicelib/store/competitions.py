"""Competitions (竞赛届次) stored as data: the table `competitions`, one item per competition.

`CompetitionRepository` is the services' way in (services/repositories.CompetitionRepository): it reads and writes
the domain `CompetitionRecord` (domain/competition_record.py). A new competition never overwrites an existing id;
a save is conditional on the version as read, with its audit row (whose before and after are the values at the
changed paths) in the same transaction. The list is a Query of the `by_created` index (one constant partition),
newest first.

The current competition (the one every request without a competition works on) is a pointer item, id
`CURRENT` ("~current", never a competition's id: those start with a letter or digit), holding only the id in
`current`; it has no `listing`, so the index never lists it. `make_current` moves it, conditional on the
competition being 进行中, with its audit row (competition.activate) in the same transaction.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..domain import competition_record
from ..domain.competition_edit import CompetitionState, state_of
from ..domain.errors import Conflict, Duplicate, VersionConflict
from . import audit, db
from .models import CompetitionRecord

LISTING = "competitions"     # the one partition of the by_created index
CURRENT = "~current"         # the pointer item's id

__all__ = ["CompetitionRepository", "CURRENT", "LISTING"]


def _domain(row: CompetitionRecord) -> competition_record.CompetitionRecord:
    return competition_record.CompetitionRecord(
        id=row.id, stored_definition=row.definition, state=CompetitionState(row.state), version=int(row.version),
        created_at=float(row.created_at), created_by=row.created_by, updated_at=float(row.updated_at),
        updated_by=row.updated_by)


def _row(record: competition_record.CompetitionRecord) -> CompetitionRecord:
    return CompetitionRecord(record.id, listing=LISTING, definition=record.stored_definition,
                             state=record.state.value, version=record.version, created_at=record.created_at,
                             created_by=record.created_by, updated_at=record.updated_at,
                             updated_by=record.updated_by)


def audit_key(competition_id: str) -> str:
    return f"competition#{competition_id}"


STALE = "竞赛设置已在别处被修改（版本已变化），请刷新后再修改"
TAKEN = "这个竞赛编号已被使用，请换一个"
NOT_RUNNING = "只有进行中的竞赛届次可以设为当前届次"


class CompetitionRepository:
    """Competitions in DynamoDB, as domain records; each write in one transaction with its audit row."""

    def get(self, competition_id: str) -> competition_record.CompetitionRecord | None:
        if competition_id == CURRENT:
            return None
        try:
            return _domain(CompetitionRecord.get(competition_id, consistent_read=True))
        except CompetitionRecord.DoesNotExist:
            return None

    def current_id(self) -> str | None:
        try:
            row = CompetitionRecord.get(CURRENT, consistent_read=True, attributes_to_get=["id", "current"])
        except CompetitionRecord.DoesNotExist:
            return None
        return row.current or None

    def make_current(self, competition_id: str, actor: str, now: float) -> None:
        try:
            with db.transaction() as t:
                t.condition_check(CompetitionRecord, competition_id,
                                  condition=CompetitionRecord.state == CompetitionState.RUNNING.value,
                                  label="competition")
                t.update(CompetitionRecord(CURRENT), actions=[
                    CompetitionRecord.current.set(competition_id), CompetitionRecord.updated_at.set(now),
                    CompetitionRecord.updated_by.set(actor),
                ])
                t.save(audit.entry(audit_key(competition_id), actor, "competition.activate", now,
                                   detail={"current": competition_id}))
        except db.Refused as exc:
            if "competition" in exc.labels:
                raise Conflict(NOT_RUNNING, {"state": NOT_RUNNING}) from exc
            raise Conflict("操作冲突，请刷新后重试") from exc

    def list_all(self) -> list[competition_record.CompetitionRecord]:
        rows = CompetitionRecord.by_created.query(LISTING, scan_index_forward=False)
        return [_domain(r) for r in rows]

    def create(self, record: competition_record.CompetitionRecord, actor: str, now: float) -> None:
        with db.refused_as(Conflict("操作冲突，请刷新后重试"), {"competition": Duplicate(TAKEN, {"id": TAKEN})}):
            with db.transaction() as t:
                t.save(_row(record), condition=CompetitionRecord.id.does_not_exist(), label="competition")
                t.save(audit.entry(audit_key(record.id), actor, "competition.create", now,
                                   after=record.stored_definition,
                                   detail={"version": record.version, "state": record.state.value}))

    def save(self, record: competition_record.CompetitionRecord, definition: Mapping[str, Any],
             changed: Sequence[str], action: str, actor: str, now: float) -> competition_record.CompetitionRecord:
        before = record.definition
        text = competition_record.definition_json(definition)
        saved = competition_record.CompetitionRecord(
            id=record.id, stored_definition=text, state=state_of(definition), version=record.version + 1,
            created_at=record.created_at, created_by=record.created_by, updated_at=now, updated_by=actor)
        with db.refused_as(Conflict("操作冲突，请刷新后重试"), {"competition": VersionConflict(STALE)}):
            with db.transaction() as t:
                t.update(CompetitionRecord(record.id), actions=[
                    CompetitionRecord.definition.set(text), CompetitionRecord.state.set(saved.state.value),
                    CompetitionRecord.version.set(saved.version), CompetitionRecord.updated_at.set(now),
                    CompetitionRecord.updated_by.set(actor),
                ], condition=CompetitionRecord.version == record.version, label="competition")
                t.save(audit.entry(audit_key(record.id), actor, action, now,
                                   before=competition_record.values_at(before, changed),
                                   after=competition_record.values_at(definition, changed),
                                   detail={"version": saved.version, "changed": list(changed)}))
        return saved
