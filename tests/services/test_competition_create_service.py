"""services/competitions.create (the contract's POST: the server picks the id) and activate, on the in-memory
twin: no DynamoDB, no moto."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.competition_edit import CompetitionState
from chalicelib.domain.errors import Conflict, Forbidden, Invalid
from chalicelib.services import competitions
from chalicelib.services.accounts import Principal
from chalicelib.store.memory import MemoryTables
from chalicelib.store.memory_competitions import InMemoryCompetitionRepository

CHINA = timezone(timedelta(hours=8))
SOURCE = "shenzhen-2023"
NOW = datetime(2023, 3, 1, 9, 0, tzinfo=CHINA)
ORGANISER = Principal("organiser", "t1", account_id="org1", username="admin", organiser_role="admin")
VIEWER = Principal("organiser", "t2", account_id="org2", username="viewer", organiser_role="viewer")


@pytest.fixture
def tables() -> MemoryTables:
    return MemoryTables()


@pytest.fixture
def repo(tables) -> InMemoryCompetitionRepository:
    twin = InMemoryCompetitionRepository(tables)
    assert competitions.seed(twin, SOURCE, NOW)
    return twin


def test_the_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_competition_create_service; assert 'moto' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_a_copy_takes_the_sources_id_with_the_year_replaced_and_the_given_name(repo) -> None:
    made = competitions.create(repo, ORGANISER, SOURCE, "2024年深圳党建杯", 2024, NOW)
    assert (made.id, made.state, made.name) == ("shenzhen-2024", CompetitionState.DRAFT, "2024年深圳党建杯")
    source = repo.get(SOURCE).definition
    definition = made.definition
    assert definition["categories"] == source["categories"]
    assert definition["quotas"] == source["quotas"] and definition["prizes"] == source["prizes"]
    assert [s["opens_at"][:4] for s in definition["stages"]] == ["2024"] * 5
    again = competitions.create(repo, ORGANISER, SOURCE, "再一份", 2024, NOW)
    assert again.id == "shenzhen-2024-2"
    assert competitions.create(repo, ORGANISER, SOURCE, "再一份", 2024, NOW).id == "shenzhen-2024-3"


def test_a_copy_years_later_shifts_the_windows_by_the_years_between(repo) -> None:
    made = competitions.create(repo, ORGANISER, SOURCE, "2026年", 2026, NOW)
    assert made.id == "shenzhen-2026"
    assert [s["closes_at"][:4] for s in made.definition["stages"]] == ["2026"] * 5
    assert made.definition["honors"]["reference_date"].startswith("2026-")


def test_a_blank_one_gets_a_slug_of_its_year(repo) -> None:
    first = competitions.create(repo, ORGANISER, None, "区级选拔赛", 2025, NOW)
    second = competitions.create(repo, ORGANISER, None, "区级选拔赛二", 2025, NOW)
    assert (first.id, second.id) == ("c2025-1", "c2025-2")
    assert first.state == CompetitionState.DRAFT
    assert first.definition["stages"][0]["opens_at"].startswith("2025-")


def test_field_errors_for_the_name_the_year_and_the_source(repo) -> None:
    with pytest.raises(Invalid) as error:
        competitions.create(repo, ORGANISER, "nowhere", "", 1900, NOW)
    assert set(error.value.fields) == {"copy_from", "name", "year"}
    with pytest.raises(Invalid) as error:
        competitions.create(repo, ORGANISER, SOURCE, "同一年", 2023, NOW)
    assert set(error.value.fields) == {"year"} and "2023" in error.value.fields["year"]
    with pytest.raises(Invalid) as error:
        competitions.create(repo, ORGANISER, None, "x", True, NOW)
    assert set(error.value.fields) == {"year"}
    with pytest.raises(Forbidden):
        competitions.create(repo, VIEWER, SOURCE, "x", 2024, NOW)
    assert [r.id for r in repo.list_all()] == [SOURCE]


def test_activate_makes_a_running_one_current_and_refuses_a_draft(repo, tables) -> None:
    assert competitions.current_id(repo) is None
    competitions.activate(repo, ORGANISER, SOURCE, NOW)
    assert competitions.current_id(repo) == SOURCE
    assert tables.audit[-1] == (f"competition#{SOURCE}", ORGANISER.actor, "competition.activate")
    draft = competitions.create(repo, ORGANISER, SOURCE, "2024年", 2024, NOW)
    with pytest.raises(Conflict) as error:
        competitions.activate(repo, ORGANISER, draft.id, NOW)
    assert "state" in error.value.fields
    with pytest.raises(Forbidden):
        competitions.activate(repo, VIEWER, SOURCE, NOW)
    assert competitions.current_id(repo) == SOURCE
