"""Originality across years (services/originality.py with services/competition_archive.py) on the in-memory
twins: the cases of every earlier competition on the deployment are in a later one's corpus, with their year,
by themselves (no import); a later competition is never in an earlier one's corpus. No DynamoDB, no moto."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.clock import moment
from chalicelib import competitions as configs
from chalicelib.domain.case_record import new_case
from chalicelib.domain.competition import Competition, competition_from_config
from chalicelib.domain.competition_edit import CompetitionState, copy_for_next_year
from chalicelib.domain.competition_record import new_record
from chalicelib.domain.errors import NotFound
from chalicelib.services import competition_archive, originality
from chalicelib.services.accounts import Principal
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_competitions import InMemoryCompetitionRepository
from chalicelib.store.memory_originality import InMemoryArchiveRepository, InMemoryOriginalityObjects
from tests.originality_corpus import Texts

CHINA = timezone(timedelta(hours=8))
T = datetime(2023, 6, 1, 10, 0, tzinfo=CHINA).timestamp()
DEF_2023 = configs.load("shenzhen-2023")
ORGANISER = Principal("organiser", "t3", account_id="org1", username="admin")


def test_the_service_tests_run_without_moto() -> None:
    code = ("import sys, tests.services.test_originality_across_years; "
            "assert 'moto' not in sys.modules, 'moto imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def definition(years: int, state: CompetitionState, new_id: str | None = None) -> dict:
    found = dict(DEF_2023) if not years else copy_for_next_year(DEF_2023, new_id or f"shenzhen-{2023 + years}", years)
    found["state"] = state.value
    return found


class World:
    def __init__(self) -> None:
        self.tables = MemoryTables()
        self.competitions = InMemoryCompetitionRepository(self.tables)
        self.cases = InMemoryCaseRepository(self.tables)
        self.archive = InMemoryArchiveRepository(self.tables)
        self.objects = InMemoryOriginalityObjects()
        self.n = 0

    def competition(self, years: int, state: CompetitionState = CompetitionState.RUNNING,
                    new_id: str | None = None, created: float = T) -> Competition:
        d = definition(years, state, new_id)
        self.competitions.create(new_record(d, "system:test", created + years), "system:test", created + years)
        return competition_from_config(d)

    def submit(self, comp: Competition, text: dict, status: str = "submitted") -> str:
        self.n += 1
        case = new_case(f"case{self.n}", comp.id, f"acc{self.n}", f"unit{self.n}", {**text, "category": "development"},
                        100, T)
        self.cases.put(replace(case, status=status))
        return case.id

    def report(self, comp: Competition) -> dict:
        return originality.report(comp, self.archive, self.objects, self.cases, self.competitions)


@pytest.fixture
def world() -> World:
    return World()


def test_a_near_copy_of_an_earlier_competitions_case_is_flagged_with_its_year_without_an_import(world) -> None:
    texts = Texts(7)
    c2023 = world.competition(0)
    c2024 = world.competition(1)
    original = texts.case()
    old_id = world.submit(c2023, original)
    world.submit(c2023, texts.case())
    new_id = world.submit(c2024, texts.near_copy(original))
    world.submit(c2024, texts.case())
    assert world.archive.count_cases() == 0

    report = world.report(c2024)
    assert (report["checked"], report["archived"]) == (2, 2)
    [flag] = report["flags"]
    assert flag["case_id"] == new_id
    [match] = flag["matches"]
    assert (match["source"], match["year"], match["other_id"], match["other_title"]) == (
        "archive", 2023, old_id, original["title"])
    assert match["similarity"] > 0.5 and match["passages"]

    # a later competition is not in an earlier one's corpus: 2023 flags nothing
    early = world.report(c2023)
    assert early["flags"] == [] and (early["checked"], early["archived"]) == (2, 0)


def test_the_earlier_competitions_state_does_not_matter_but_drafts_and_withdrawn_cases_are_not_compared(world) -> None:
    texts = Texts(8)
    c2023 = world.competition(0, CompetitionState.RUNNING)          # still 进行中 when 2025 runs
    draft = world.competition(1, CompetitionState.DRAFT, "shenzhen-draft")
    c2025 = world.competition(2)
    kept, withdrawn, in_draft = texts.case(), texts.case(), texts.case()
    kept_id = world.submit(c2023, kept)
    world.submit(c2023, withdrawn, status="withdrawn")
    world.submit(draft, in_draft)                                  # a draft's case (none in practice)
    for text in (kept, withdrawn, in_draft):
        world.submit(c2025, texts.near_copy(text))
    report = world.report(c2025)
    assert [(m["other_id"], m["year"]) for f in report["flags"] for m in f["matches"]] == [(kept_id, 2023)]


def test_a_copy_of_the_imported_archive_and_of_an_earlier_competition_both_say_archive(world) -> None:
    texts = Texts(9)
    c2023, c2024 = world.competition(0), world.competition(1)
    imported, earlier = texts.case(), texts.case()
    raw = {"year": 2022, "cases": [{**imported, "unit": "往年单位", "category": "development"}]}
    assert originality.import_archive(c2024, world.archive, world.objects, ORGANISER, raw, moment(T)) == 1
    earlier_id = world.submit(c2023, earlier)
    a = world.submit(c2024, texts.near_copy(imported))
    b = world.submit(c2024, texts.near_copy(earlier))
    report = world.report(c2024)
    assert report["archived"] == 2
    found = {f["case_id"]: [(m["source"], m["year"]) for m in f["matches"]] for f in report["flags"]}
    assert found == {a: [("archive", 2022)], b: [("archive", 2023)]}
    assert [m["other_id"] for m in next(f for f in report["flags"] if f["case_id"] == b)["matches"]] == [earlier_id]


def test_asking_again_reads_the_cache_and_a_change_in_an_earlier_competition_checks_again(world) -> None:
    texts = Texts(10)
    c2023, c2024 = world.competition(0), world.competition(1)
    original = texts.case()
    world.submit(c2024, texts.near_copy(original))
    first = world.report(c2024)
    assert first["flags"] == []
    cached = world.objects.flags[c2024.id]
    assert world.report(c2023)["flags"] == []                   # the earlier year's own check keeps its own result
    assert world.report(c2024) == first and world.objects.flags[c2024.id] is cached
    # a case submitted later in the earlier competition (it was still running): the next check includes it
    world.submit(c2023, original)
    again = world.report(c2024)
    assert [m["year"] for f in again["flags"] for m in f["matches"]] == [2023]


def test_a_new_competitions_first_check_includes_the_earlier_ones_even_with_a_cached_result(world) -> None:
    texts = Texts(11)
    c2023 = world.competition(0)
    original = texts.case()
    world.submit(c2023, original)
    assert world.report(c2023)["flags"] == []                       # a cached result of 2023's inputs
    c2024 = world.competition(1)
    world.submit(c2024, texts.near_copy(original))
    assert [m["year"] for f in world.report(c2024)["flags"] for m in f["matches"]] == [2023]


def test_earlier_is_by_year_then_by_creation_and_a_stored_competition_is_placed_by_its_own_position(world) -> None:
    world.competition(0, new_id=None)
    world.competition(1, new_id="shenzhen-2024")
    world.competition(1, new_id="district-2024", created=T + 100)    # same year, created later
    world.competition(2, CompetitionState.DRAFT, new_id="shenzhen-2025")
    records = world.competitions.list_all()
    ids = lambda found: [e.id for e in found]  # noqa: E731
    assert ids(competition_archive.earlier_than(records, "district-2024", 2024)) == ["shenzhen-2023", "shenzhen-2024"]
    assert ids(competition_archive.earlier_than(records, "shenzhen-2024", 2024)) == ["shenzhen-2023"]
    assert ids(competition_archive.earlier_than(records, "shenzhen-2023", 2023)) == []
    # not stored (the deployment's JSON competition): the competitions of an earlier year
    assert ids(competition_archive.earlier_than(records, "elsewhere-2025", 2025)) == [
        "shenzhen-2023", "shenzhen-2024", "district-2024"]


def test_the_public_archive_lists_earlier_non_draft_competitions_newest_first_and_hides_drafts(world) -> None:
    c2023 = world.competition(0)
    world.competition(1, CompetitionState.DRAFT, new_id="shenzhen-draft")
    c2025 = world.competition(2)
    listed = competition_archive.archive_list(world.competitions, c2025)
    assert listed == [{"id": c2023.id, "name": c2023.name, "year": 2023}]
    comp, year = competition_archive.public_competition(world.competitions, c2023.id)
    assert (comp.id, comp.name, year) == (c2023.id, c2023.name, 2023)
    for hidden in ("shenzhen-draft", "nothing-here"):
        with pytest.raises(NotFound):
            competition_archive.public_competition(world.competitions, hidden)
