"""services/stages.py on the in-memory stage and case twins: no DynamoDB, no moto (`make test-fast` runs these).

The stage rows are the competition's own 2023 windows, seeded through the service; the clock is a datetime the
test passes in.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import competitions
from chalicelib.domain.case_record import new_case
from chalicelib.domain.competition import StageId, competition_from_config
from chalicelib.domain.errors import Conflict, Invalid, StageClosed
from chalicelib.services import stages
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_judging import InMemoryJudgingRepository
from chalicelib.store.memory_results import InMemoryStageRepository

CHINA = timezone(timedelta(hours=8))
COMP = competition_from_config(competitions.load("shenzhen-2023"))
IN_SUBMISSION = datetime(2023, 6, 1, 10, 0, tzinfo=CHINA)
BODY = {"category": "development", "title": "党建引领数字政府建设", "recommending_unit": "深圳市某某局"}


@pytest.fixture
def tables() -> MemoryTables:
    return MemoryTables()


@pytest.fixture
def repo(tables) -> InMemoryStageRepository:
    twin = InMemoryStageRepository(tables)
    assert stages.seed(twin, COMP, COMP.default_windows) == len(COMP.default_windows)
    return twin


def window(repo, stage: str):
    return stages.windows(COMP, repo)[stage]


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_stage_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_windows_are_the_seeded_rows_and_seeding_again_keeps_them(repo) -> None:
    assert list(stages.windows(COMP, repo)) == list(StageId)
    assert {w.id: (w.opens_at, w.closes_at) for w in stages.windows(COMP, repo).values()} == {
        w.id: (w.opens_at, w.closes_at) for w in COMP.default_windows}
    assert stages.seed(repo, COMP, COMP.default_windows) == 0
    assert stages.windows(COMP, InMemoryStageRepository()) == {w.id: w for w in COMP.default_windows}  # no rows


def test_a_window_moves_and_the_case_twin_sees_the_move(repo, tables) -> None:
    submission = window(repo, StageId.SUBMISSION)
    later = submission.closes_at - timedelta(hours=12)   # ends earlier (the next stage follows at once)
    moved = stages.move_window(repo, COMP, "submission", {"opens_at": submission.opens_at.isoformat(),
                                                          "closes_at": later.isoformat()}, "organiser:admin",
                               IN_SUBMISSION)
    assert moved.closes_at == later == window(repo, StageId.SUBMISSION).closes_at
    assert tables.stages[(COMP.id, StageId.SUBMISSION)].closes_at == later.timestamp()
    assert (f"stage#{COMP.id}#{StageId.SUBMISSION}", "organiser:admin", "stage.window") in tables.audit


def test_a_window_may_not_overlap_the_next_and_a_closed_stage_does_not_move(repo) -> None:
    submission, review = window(repo, StageId.SUBMISSION), window(repo, StageId.TEXT_REVIEW)
    with pytest.raises(Invalid):
        stages.move_window(repo, COMP, "submission", {"opens_at": submission.opens_at.isoformat(),
                                                      "closes_at": (review.opens_at + timedelta(hours=1)).isoformat()},
                           "organiser:admin", IN_SUBMISSION)
    repo.close(COMP.id, StageId.SUBMISSION, "organiser:admin", IN_SUBMISSION.timestamp())
    with pytest.raises(StageClosed):
        stages.move_window(repo, COMP, "submission", {"opens_at": submission.opens_at.isoformat(),
                                                      "closes_at": submission.closes_at.isoformat()},
                           "organiser:admin", IN_SUBMISSION)


def test_a_stage_closed_early_lets_the_next_open_now(repo) -> None:
    repo.close(COMP.id, StageId.SUBMISSION, "organiser:admin", IN_SUBMISSION.timestamp())
    review = window(repo, StageId.TEXT_REVIEW)
    later = IN_SUBMISSION + timedelta(minutes=5)
    opened = stages.open_now(repo, COMP, "text_review", "organiser:admin", later)
    assert (opened.opens_at, opened.closes_at) == (later, review.closes_at)
    assert window(repo, StageId.TEXT_REVIEW).status(later) == "open"
    with pytest.raises(Conflict):
        stages.open_now(repo, COMP, "text_review", "organiser:admin", later)


def test_open_work_of_the_submission_lists_the_unsubmitted_cases(repo, tables) -> None:
    cases = InMemoryCaseRepository(tables)
    draft = new_case("case0001", COMP.id, "acc1", "unit1", BODY, 120, IN_SUBMISSION.timestamp())
    cases.put(draft)
    cases.put(replace(new_case("case0002", COMP.id, "acc2", "unit2", {**BODY, "title": "另一个"}, 120,
                               IN_SUBMISSION.timestamp()), status="submitted"))
    work = stages.open_work(InMemoryJudgingRepository(tables), cases, COMP, "submission")
    assert work["kind"] == "drafts" and work["totals"] == {"drafts": 1}
    [development] = [c for c in work["categories"] if c["id"] == "development"]
    assert development["drafts"] == [{"case_id": "case0001", "title": BODY["title"], "unit": "深圳市某某局",
                                      "status": "草稿"}]
