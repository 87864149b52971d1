"""One contract for the stage repository: the same tests against DynamoDB (moto) and the in-memory twin.

Seeding never overwrites a window, a closed stage's window does not move, a stage closes once (early: its
window ends then), a close racing another close lands once, the final closes only after the text review, and
only a closed stage settles. The twin keeps its rows in the shared MemoryTables, so the case twin's windows
are the ones it opens and closes.
"""
from __future__ import annotations

import threading
from typing import Iterator

import pytest

from chalicelib.domain.errors import Conflict, StageClosed
from chalicelib.domain.stage_record import EarlierStageOpen, StageRow
from chalicelib.services.repositories import StageRepository
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_results import InMemoryStageRepository
from tests.integration.backends import BACKENDS, backend

COMP = "shenzhen-2023"
T = 1_700_000_000.0
WINDOWS = [("submission", T - 100, T + 100), ("text_review", T + 100, T + 1000), ("final", T + 2000, T + 3000)]


def _dynamodb() -> StageRepository:
    from chalicelib.store.stages import StageRepository as DynamoStages
    return DynamoStages()


@pytest.fixture(params=BACKENDS)
def stages(request) -> Iterator[StageRepository]:
    repo: StageRepository = backend(request, _dynamodb, InMemoryStageRepository)
    assert repo.seed(COMP, WINDOWS) == 3
    yield repo


def row(stages: StageRepository, stage_id: str) -> StageRow:
    [found] = [r for r in stages.all_for(COMP) if r.stage_id == stage_id]
    return found


def test_seeding_creates_the_missing_rows_only_and_reads_back_domain_rows(stages) -> None:
    stages.move_window(COMP, "final", T + 2500, T + 3500, "organiser:admin", T, before={})
    assert stages.seed(COMP, [*WINDOWS, ("coaching", T + 1000, T + 1500)]) == 1
    rows = stages.all_for(COMP)
    assert [r.stage_id for r in rows] == ["coaching", "final", "submission", "text_review"]
    assert row(stages, "final") == StageRow(COMP, "final", T + 2500, T + 3500)   # the moved window stays
    assert row(stages, "submission") == StageRow(COMP, "submission", T - 100, T + 100, False, None, False)
    assert stages.all_for("another-competition") == []


def test_a_closed_stage_s_window_does_not_move(stages) -> None:
    assert stages.close(COMP, "submission", "organiser:admin", T) is True
    with pytest.raises(StageClosed):
        stages.move_window(COMP, "submission", T - 100, T + 500, "organiser:admin", T, before={})
    assert row(stages, "submission").closes_at == T


def test_a_stage_closes_once_and_an_early_close_ends_its_window_then(stages) -> None:
    assert stages.close(COMP, "submission", "organiser:admin", T) is True
    closed = row(stages, "submission")
    assert (closed.closed, closed.closed_at, closed.opens_at, closed.closes_at) == (True, T, T - 100, T)
    assert stages.close(COMP, "submission", "organiser:admin", T + 50) is False
    assert row(stages, "submission") == closed


def test_a_close_after_the_window_s_end_keeps_the_window(stages) -> None:
    assert stages.close(COMP, "text_review", "system:schedule", T + 1200) is True
    closed = row(stages, "text_review")
    assert (closed.closed, closed.closed_at, closed.closes_at) == (True, T + 1200, T + 1000)


def test_a_close_racing_another_close_lands_once(stages) -> None:
    start = threading.Barrier(2)
    answers: list[bool] = []

    def close(actor: str) -> None:
        start.wait()
        answers.append(stages.close(COMP, "text_review", actor, T + 500))
    threads = [threading.Thread(target=close, args=(f"organiser:{n}",)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [False, True]
    assert row(stages, "text_review").closed_at == T + 500


def test_the_final_closes_only_after_the_stage_it_follows(stages) -> None:
    with pytest.raises(EarlierStageOpen):
        stages.close(COMP, "final", "organiser:admin", T + 2500, after="text_review")
    assert row(stages, "final").closed is False
    stages.close(COMP, "text_review", "organiser:admin", T + 1500)
    assert stages.close(COMP, "final", "organiser:admin", T + 2500, after="text_review") is True


def test_a_missing_stage_is_not_closed(stages) -> None:
    assert stages.close(COMP, "coaching", "organiser:admin", T) is False
    assert "coaching" not in {r.stage_id for r in stages.all_for(COMP)}


def test_only_a_closed_stage_settles(stages) -> None:
    with pytest.raises(Conflict):
        stages.settle(COMP, "text_review")
    assert row(stages, "text_review").settled is False
    stages.close(COMP, "text_review", "system:schedule", T + 1200)
    stages.settle(COMP, "text_review")
    assert row(stages, "text_review").settled is True


def test_the_case_twin_sees_the_windows_the_stage_twin_opens_and_closes() -> None:
    tables = MemoryTables()
    stages, cases = InMemoryStageRepository(tables), InMemoryCaseRepository(tables)
    stages.seed(COMP, WINDOWS)
    assert cases.get_with_stages("nosuchcase", COMP, ["submission"])[1] == [row(stages, "submission")]
    stages.close(COMP, "submission", "organiser:admin", T)
    assert cases.stages[(COMP, "submission")].closed is True
