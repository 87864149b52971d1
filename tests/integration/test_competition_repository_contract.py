"""One contract for the competition repository: the same tests against DynamoDB (moto) and the in-memory twin.

Every condition the DynamoDB transactions check is checked here on both: a new id (never over an existing one)
and the version as read; each refused write raises the same domain error and leaves the competition as it was.
Each write has its audit row, whose before and after are the values at the changed paths; the list is newest
first (a Query of the by_created index: tests/conftest.py fails a Scan).
"""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from chalicelib import competitions as configs
from chalicelib.domain.competition_edit import CompetitionState, blank_competition, copy_for_next_year
from chalicelib.domain.competition_record import CompetitionRecord, new_record, values_at
from chalicelib.domain.errors import Conflict, Duplicate, VersionConflict
from chalicelib.services.repositories import CompetitionRepository
from chalicelib.store.memory import MemoryTables
from chalicelib.store.memory_competitions import InMemoryCompetitionRepository
from tests.integration.backends import BACKENDS, backend as built

T = 1_700_000_000.0
ACTOR = "organiser:admin"
SOURCE = configs.load("shenzhen-2023")

# (action, actor, changed paths or None, before, after) of each audit row of a competition, oldest first
AuditOf = Callable[[str], list[tuple[str, str, Any, Any, Any]]]


def _dynamodb() -> tuple[CompetitionRepository, AuditOf]:
    from chalicelib.store.competitions import CompetitionRepository as DynamoCompetitions
    from chalicelib.store.models import AuditEntry

    def audit_of(competition_id: str) -> list[tuple[str, str, Any, Any, Any]]:
        found = []
        for e in AuditEntry.query(f"competition#{competition_id}"):
            detail = json.loads(e.detail) if e.detail else {}
            found.append((e.action, e.actor, detail.get("changed"), e.before_digest, e.after_digest))
        return found
    return DynamoCompetitions(), audit_of


def _memory() -> tuple[CompetitionRepository, AuditOf]:
    from chalicelib.store import audit

    tables = MemoryTables()
    twin = InMemoryCompetitionRepository(tables)

    def audit_of(competition_id: str) -> list[tuple[str, str, Any, Any, Any]]:
        changes = [c for c in twin.changes if c.competition_id == competition_id]
        rows = [(entity, actor, action) for entity, actor, action in tables.audit
                if entity == f"competition#{competition_id}"]
        assert [(c.actor, c.action) for c in changes] == [(actor, action) for _, actor, action in rows]
        return [(c.action, c.actor, list(c.changed) if c.created is None else None,
                 audit.digest(dict(c.before)) if c.before is not None else None,
                 audit.digest(dict(c.after)) if c.after is not None else audit.digest(c.created)) for c in changes]
    return twin, audit_of


@pytest.fixture(params=BACKENDS)
def backend(request) -> tuple[CompetitionRepository, AuditOf]:
    return built(request, _dynamodb, _memory)


@pytest.fixture
def repo(backend) -> CompetitionRepository:
    return backend[0]


@pytest.fixture
def audit_of(backend) -> AuditOf:
    return backend[1]


def running(at: float = T) -> CompetitionRecord:
    return new_record({**SOURCE, "state": "running"}, "system:seed", at)


def draft(competition_id: str = "shenzhen-2024", at: float = T) -> CompetitionRecord:
    return new_record(copy_for_next_year(SOURCE, competition_id), ACTOR, at)


def _digest(value: Any) -> str | None:
    from chalicelib.store import audit
    return audit.digest(value)


# -- reads and creation -----------------------------------------------------------------------------

def test_unknown_competitions_are_none_and_the_list_starts_empty(repo) -> None:
    assert repo.get("nosuchcompetition") is None
    assert repo.list_all() == []


def test_a_created_competition_reads_back_with_its_definition(repo, audit_of) -> None:
    record = running()
    repo.create(record, "system:seed", T)
    stored = repo.get(record.id)
    assert stored == record
    assert (stored.state, stored.version, stored.created_at, stored.created_by) == \
        (CompetitionState.RUNNING, 1, T, "system:seed")
    assert stored.definition == {**SOURCE, "state": "running"}
    assert audit_of(record.id) == [("competition.create", "system:seed", None, None,
                                    _digest(record.stored_definition))]


def test_a_new_competition_never_overwrites_an_existing_id(repo) -> None:
    record = running()
    repo.create(record, "system:seed", T)
    other = new_record({**blank_competition(record.id, "另一个", 2023)}, ACTOR, T + 5)
    with pytest.raises(Duplicate) as taken:
        repo.create(other, ACTOR, T + 5)
    assert set(taken.value.fields or {}) == {"id"}
    assert repo.get(record.id) == record
    assert [r.id for r in repo.list_all()] == [record.id]


def test_the_list_is_newest_first(repo) -> None:
    repo.create(running(T), "system:seed", T)
    repo.create(draft("shenzhen-2025", T + 20), ACTOR, T + 20)
    repo.create(draft("shenzhen-2024", T + 10), ACTOR, T + 10)
    listed = repo.list_all()
    assert [r.id for r in listed] == ["shenzhen-2025", "shenzhen-2024", "shenzhen-2023"]
    assert [r.state for r in listed] == [CompetitionState.DRAFT, CompetitionState.DRAFT, CompetitionState.RUNNING]
    assert listed[1] == repo.get("shenzhen-2024")


# -- saves ------------------------------------------------------------------------------------------

def test_a_save_on_the_version_as_read_writes_the_next_version_and_its_audit_row(repo, audit_of) -> None:
    record = draft()
    repo.create(record, ACTOR, T)
    before = record.definition
    after = {**before, "theme": "新主题", "quotas": {"advance_per_category": 20}}
    changed = ["theme", "quotas.advance_per_category"]
    saved = repo.save(record, after, changed, "competition.edit", "organiser:staff", T + 60)
    assert (saved.version, saved.updated_at, saved.updated_by, saved.state) == \
        (2, T + 60, "organiser:staff", CompetitionState.DRAFT)
    assert (saved.created_at, saved.created_by) == (T, ACTOR)
    assert saved.definition == after
    assert repo.get(record.id) == saved
    rows = audit_of(record.id)
    assert [r[:3] for r in rows] == [("competition.create", ACTOR, None),
                                     ("competition.edit", "organiser:staff", changed)]
    assert rows[1][3:] == (_digest(values_at(before, changed)), _digest(values_at(after, changed)))
    assert values_at(before, changed) == {"theme": before["theme"], "quotas.advance_per_category": 15}


def test_the_state_is_the_saved_definitions_own(repo, audit_of) -> None:
    record = draft()
    repo.create(record, ACTOR, T)
    saved = repo.save(record, {**record.definition, "state": "running"}, ["state"], "competition.start", ACTOR,
                      T + 1)
    assert saved.state == CompetitionState.RUNNING
    assert repo.get(record.id).state == CompetitionState.RUNNING
    assert repo.list_all()[0].state == CompetitionState.RUNNING
    assert audit_of(record.id)[-1][:3] == ("competition.start", ACTOR, ["state"])


def test_a_save_on_a_stale_version_is_refused_and_changes_nothing(repo, audit_of) -> None:
    record = draft()
    repo.create(record, ACTOR, T)
    first = repo.save(record, {**record.definition, "theme": "一"}, ["theme"], "competition.edit", ACTOR, T + 1)
    with pytest.raises(VersionConflict):
        repo.save(record, {**record.definition, "theme": "二"}, ["theme"], "competition.edit", ACTOR, T + 2)
    assert repo.get(record.id) == first
    assert len(audit_of(record.id)) == 2
    second = repo.save(first, {**first.definition, "theme": "二"}, ["theme"], "competition.edit", ACTOR, T + 3)
    assert (second.version, second.definition["theme"]) == (3, "二")


def test_a_save_of_a_competition_not_stored_is_refused(repo) -> None:
    with pytest.raises(VersionConflict):
        repo.save(draft(), {**draft().definition, "theme": "x"}, ["theme"], "competition.edit", ACTOR, T)
    assert repo.get("shenzhen-2024") is None


def test_the_audit_values_name_stages_by_their_id(repo, audit_of) -> None:
    record = draft()
    repo.create(record, ACTOR, T)
    after = record.definition
    after["stages"][4]["closes_at"] = "2024-08-01T23:59:59+08:00"
    changed = ["stages.provincial.closes_at"]
    repo.save(record, after, changed, "competition.edit", ACTOR, T + 1)
    assert values_at(after, changed) == {"stages.provincial.closes_at": "2024-08-01T23:59:59+08:00"}
    assert audit_of(record.id)[-1][3:] == (_digest(values_at(record.definition, changed)),
                                           _digest(values_at(after, changed)))


# -- the current competition ------------------------------------------------------------------------

def test_no_competition_is_current_until_one_is_made_current(repo, audit_of) -> None:
    assert repo.current_id() is None
    repo.create(running(), "system:seed", T)
    assert repo.current_id() is None
    repo.make_current("shenzhen-2023", ACTOR, T + 1)
    assert repo.current_id() == "shenzhen-2023"
    assert [r[:2] for r in audit_of("shenzhen-2023")] == [("competition.create", "system:seed"),
                                                          ("competition.activate", ACTOR)]


def test_the_pointer_moves_and_is_never_listed_nor_read_as_a_competition(repo) -> None:
    repo.create(running(), "system:seed", T)
    nxt = draft("shenzhen-2024", T + 10)
    repo.create(nxt, ACTOR, T + 10)
    started = repo.save(nxt, {**nxt.definition, "state": "running"}, ["state"], "competition.start", ACTOR, T + 11)
    repo.make_current("shenzhen-2023", ACTOR, T + 12)
    repo.make_current("shenzhen-2024", ACTOR, T + 13)
    assert repo.current_id() == "shenzhen-2024"
    assert [r.id for r in repo.list_all()] == ["shenzhen-2024", "shenzhen-2023"]
    assert repo.get("~current") is None
    assert repo.get("shenzhen-2024") == started


@pytest.mark.parametrize("state", [s.value for s in CompetitionState if s != CompetitionState.RUNNING] + [None])
def test_only_a_running_competition_can_be_made_current(repo, audit_of, state) -> None:
    repo.create(running(), "system:seed", T)
    repo.make_current("shenzhen-2023", ACTOR, T + 1)
    if state is not None:
        other = new_record({**copy_for_next_year(SOURCE, "shenzhen-2024"), "state": state}, ACTOR, T + 2)
        repo.create(other, ACTOR, T + 2)
    with pytest.raises(Conflict) as refused:
        repo.make_current("shenzhen-2024", ACTOR, T + 3)
    assert set(refused.value.fields or {}) == {"state"}
    assert repo.current_id() == "shenzhen-2023"
    assert [r[0] for r in audit_of("shenzhen-2024")] == (["competition.create"] if state else [])
