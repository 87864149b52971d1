"""One contract for the result, final and showcase repositories: the same tests against DynamoDB (moto) and the
in-memory twins (store/memory_results.py, on the case twin's cases).

Rankings are saved and read back (with the stage row in one read), a close's outcomes move only the cases
still in the status they came from, the 省赛 mark lands only on an awarded case, draws are numbered per
category, the live final's states follow one another (a stale change is refused), coaching replies land only
in their open round on a case that may reply, and the showcase marks are written on the case as read.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator

import pytest

from chalicelib.domain.case_record import Case, new_case
from chalicelib.domain.clock import moment
from chalicelib.domain.errors import Conflict, NotFound, StageClosed, VersionConflict
from chalicelib.domain.result_record import FinalRecord, Ranking, RankedCase, ShownCase
from chalicelib.services.repositories import (
    CaseRepository, FinalRepository, ResultRepository, ShowcaseRepository, StageRepository,
)
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_results import (
    InMemoryFinalRepository, InMemoryResultRepository, InMemoryShowcaseRepository, InMemoryStageRepository,
)
from tests.integration.backends import BACKENDS, backend

COMP = "shenzhen-2023"
T = 1_700_000_000.0
WINDOWS = [("text_review", T - 1000, T - 100), ("coaching", T - 100, T + 100), ("final", T + 200, T + 300),
           ("provincial", T + 400, T + 500)]
BODY = {"category": "development", "title": "党建引领数字政府建设", "recommending_unit": "深圳市某某局",
        "showcase_consent": True}
ENTRIES = [{"case_id": "case0001", "rank": 1, "title": "甲", "advanced": True, "prize": None, "tie": False},
           {"case_id": "case0002", "rank": 1, "title": "乙", "advanced": True, "prize": None, "tie": True}]


@dataclass
class Backend:
    cases: CaseRepository
    stages: StageRepository
    results: ResultRepository
    final: FinalRepository
    showcase: ShowcaseRepository
    put: Callable[[Case], None]         # a case stored as it is (status, prize, marks), no conditions


def _dynamodb() -> Backend:
    from chalicelib.store import cases as case_store
    from chalicelib.store.final import FinalRepository as DynamoFinal
    from chalicelib.store.results import ResultRepository as DynamoResults
    from chalicelib.store.showcase import ShowcaseRepository as DynamoShowcase
    from chalicelib.store.stages import StageRepository as DynamoStages

    def put(case: Case) -> None:
        row = case_store._row(case)
        row.prize, row.provincial = case.prize, case.provincial
        row.showcase_choice, row.showcase_hidden = case.showcase_choice, case.showcase_hidden
        row.save()
    return Backend(case_store.CaseRepository(), DynamoStages(), DynamoResults(), DynamoFinal(), DynamoShowcase(), put)


def _memory() -> Backend:
    tables = MemoryTables()
    cases = InMemoryCaseRepository(tables)
    return Backend(cases, InMemoryStageRepository(tables), InMemoryResultRepository(cases),
                   InMemoryFinalRepository(cases), InMemoryShowcaseRepository(cases), cases.put)


@pytest.fixture(params=BACKENDS)
def repos(request) -> Iterator[Backend]:
    built = backend(request, _dynamodb, _memory)
    built.stages.seed(COMP, WINDOWS)
    yield built


def case(repos: Backend, case_id: str = "case0001", status: str = "submitted", owner: str = "acc1",
         **fields: Any) -> Case:
    made = replace(new_case(case_id, COMP, owner, "unit1", BODY, 120, T - 5000), status=status, **fields)
    repos.put(made)
    stored = repos.cases.get(case_id)
    assert stored is not None
    return stored


def ranking(stage: str = "text_review", category: str = "development") -> Ranking:
    return Ranking(COMP, stage, category, "trimmed_mean", "d" * 64, f"rankings/{stage}/{category}-dddd.json",
                   tuple(ENTRIES), T)


# -- rankings ---------------------------------------------------------------------------------------

def test_rankings_are_saved_and_read_back_with_the_stage_row(repos) -> None:
    assert repos.results.get_ranking(COMP, "text_review", "development") is None
    repos.results.save_ranking(ranking())
    stored = repos.results.get_ranking(COMP, "text_review", "development")
    assert stored is not None and stored.results() == ENTRIES
    assert (stored.method, stored.digest, stored.record_key, stored.computed_at, stored.notified) == (
        "trimmed_mean", "d" * 64, "rankings/text_review/development-dddd.json", T, False)
    row, found = repos.results.stage_and_rankings(COMP, "text_review", ("development", "research"))
    assert row is not None and (row.stage_id, row.opens_at, row.closed) == ("text_review", T - 1000, False)
    assert found["research"] is None and found["development"] is not None
    assert found["development"].results() == ENTRIES
    assert repos.results.stage_and_rankings(COMP, "submission", ("development",)) == (None, {"development": None})


def test_a_ranking_is_marked_notified(repos) -> None:
    repos.results.save_ranking(ranking())
    stored = repos.results.get_ranking(COMP, "text_review", "development")
    assert stored is not None
    repos.results.mark_notified(stored)
    again = repos.results.get_ranking(COMP, "text_review", "development")
    assert again is not None and again.notified is True and again.results() == ENTRIES


def test_the_ranked_cases_are_a_projection_with_or_without_the_body(repos) -> None:
    case(repos, "case0001", provincial=False)
    case(repos, "case0002", status="awarded", provincial=True)
    found = repos.results.ranked_cases(COMP)
    assert [(c.id, c.status, c.provincial, c.body["title"]) for c in found] == [
        ("case0001", "submitted", False, BODY["title"]), ("case0002", "awarded", True, BODY["title"])]
    assert all(isinstance(c, RankedCase) for c in found)
    marks = repos.results.ranked_cases(COMP, with_body=False)
    assert [(c.id, c.category_key, dict(c.body)) for c in marks] == [
        ("case0001", "development#case0001", {}), ("case0002", "development#case0002", {})]


def test_outcomes_move_only_the_cases_still_in_the_status_they_came_from(repos) -> None:
    first, second = case(repos, "case0001", status="advanced"), case(repos, "case0002", status="advanced")
    moved = case(repos, "case0003", status="withdrawn")
    changes = [(first, "awarded", "first"), (second, "not_awarded", None), (moved, "awarded", "second")]
    assert repos.results.apply_outcomes(changes, ("advanced",), "organiser:admin", T) == 2
    read = {c: repos.cases.get(c) for c in ("case0001", "case0002", "case0003")}
    assert {k: (v.status, v.prize) for k, v in read.items() if v is not None} == {
        "case0001": ("awarded", "first"), "case0002": ("not_awarded", None), "case0003": ("withdrawn", None)}
    assert repos.results.apply_outcomes(changes, ("advanced",), "organiser:admin", T + 1) == 0   # a repeated close


def test_the_provincial_mark_lands_only_on_an_awarded_case(repos) -> None:
    awarded = case(repos, "case0001", status="awarded", prize="first")
    repos.results.set_provincial(awarded, True, "organiser:admin", T, "推荐理由")
    stored = repos.cases.get("case0001")
    assert stored is not None and (stored.provincial, stored.provincial_reason) == (True, "推荐理由")
    repos.results.set_provincial(stored, False, "organiser:admin", T + 1, "不再需要")
    stored = repos.cases.get("case0001")
    assert stored is not None and (stored.provincial, stored.provincial_reason) == (False, None)
    other = case(repos, "case0002", status="not_awarded")
    with pytest.raises(Conflict):
        repos.results.set_provincial(other, True, "organiser:admin", T, None)
    unmarked = repos.cases.get("case0002")
    assert unmarked is not None and unmarked.provincial is False


# -- the final: draws, the hall, coaching replies ---------------------------------------------------

def test_draws_are_numbered_per_category_and_the_newest_is_current(repos) -> None:
    assert repos.final.latest_draw(COMP, "development") is None
    first = {"category": "development", "seed": "aa", "order": ["case0002", "case0001"]}
    assert repos.final.save_draw(COMP, "development", first, "organiser:admin", T) == 1
    assert repos.final.latest_draw(COMP, "development") == FinalRecord({**first, "sequence": 1}, 1)
    again = {**first, "seed": "bb", "order": ["case0001", "case0002"]}
    assert repos.final.save_draw(COMP, "development", again, "organiser:admin", T) == 2
    latest = repos.final.latest_draw(COMP, "development")
    assert latest is not None and (latest.sequence, latest.record["seed"]) == (2, "bb")
    assert repos.final.latest_draw(COMP, "research") is None
    assert repos.final.latest_live(COMP, "development") is None      # a draw is not a hall state


def test_the_live_final_s_states_follow_one_another_and_a_stale_change_is_refused(repos) -> None:
    assert repos.final.latest_live(COMP, "development") is None
    present = {"category": "development", "presenting": "case0001"}
    assert repos.final.save_live(COMP, "development", "final.present", present, None, 0, "organiser:a", T) == 1
    with pytest.raises(Conflict):
        repos.final.save_live(COMP, "development", "final.present", {"presenting": "case0002"}, None, 0,
                              "organiser:b", T)
    timer = {**present, "timer_started_at": T + 1}
    assert repos.final.save_live(COMP, "development", "final.timer_start", timer, present, 1, "organiser:a",
                                 T + 1) == 2
    assert repos.final.latest_live(COMP, "development") == FinalRecord({**timer, "sequence": 2}, 2)


def test_coaching_replies_land_in_the_open_round_on_a_case_that_may_reply(repos) -> None:
    advanced = case(repos, "case0001", status="advanced")
    repos.final.save_replies(advanced, '{"k": "回复"}', COMP, "coaching", "unit:unit1", T, before={}, after={})
    stored = repos.cases.get("case0001")
    assert stored is not None and stored.feedback_replies == '{"k": "回复"}'
    other = case(repos, "case0002", status="not_advanced")
    with pytest.raises(NotFound):
        repos.final.save_replies(other, "{}", COMP, "coaching", "unit:unit1", T, before={}, after={})
    with pytest.raises(StageClosed):     # the round's window has passed
        repos.final.save_replies(advanced, "{}", COMP, "coaching", "unit:unit1", T + 150, before={}, after={})
    awarded = case(repos, "case0003", status="awarded")
    with pytest.raises(NotFound):        # 赛前辅导: only a case recommended to the provincial competition
        repos.final.save_replies(awarded, "{}", COMP, "provincial", "unit:unit1", T + 450, before={}, after={})
    recommended = case(repos, "case0004", status="awarded", provincial=True)
    repos.final.save_replies(recommended, '{"k": "好"}', COMP, "provincial", "unit:unit1", T + 450, before={},
                             after={})
    stored = repos.cases.get("case0004")
    assert stored is not None and stored.feedback_replies == '{"k": "好"}'


# -- the showcase -----------------------------------------------------------------------------------

def test_the_showcase_reads_the_awarded_cases_only(repos) -> None:
    case(repos, "case0001", status="awarded", prize="first", showcase_choice=False)
    case(repos, "case0002", status="not_awarded")
    [shown] = repos.showcase.awarded(COMP)
    assert shown == ShownCase("case0001", "awarded", shown.body, "first", False, None)
    assert dict(shown.body) == BODY


def test_consent_and_withdraw_are_written_on_the_case_as_read(repos) -> None:
    read = case(repos, "case0001", status="awarded", prize="first")
    withdrawn = repos.showcase.set_choice(read, False, "unit:unit1", moment(T))
    assert withdrawn.showcase_choice is False
    stored = repos.cases.get("case0001")
    assert stored is not None and stored.showcase_choice is False
    with pytest.raises(VersionConflict):      # another change landed since `read`
        repos.showcase.set_choice(read, True, "unit:unit1", moment(T))
    assert repos.showcase.set_choice(withdrawn, True, "unit:unit1", moment(T)).showcase_choice is True
    stored = repos.cases.get("case0001")
    assert stored is not None and stored.showcase_choice is True
    with pytest.raises(VersionConflict):      # another unit's word is not taken on this case
        repos.showcase.set_choice(replace(stored, owner_id="acc2"), False, "unit:unit2", moment(T))


def test_the_organiser_takes_a_case_down_with_a_reason_and_puts_it_back(repos) -> None:
    read = case(repos, "case0001", status="awarded", prize="first")
    hidden = repos.showcase.set_hidden(read, True, "材料待核实", "organiser:admin", moment(T))
    assert (hidden.showcase_hidden, hidden.showcase_hidden_reason) == (True, "材料待核实")
    stored = repos.cases.get("case0001")
    assert stored is not None and (stored.showcase_hidden, stored.showcase_hidden_reason) == (True, "材料待核实")
    with pytest.raises(VersionConflict):
        repos.showcase.set_hidden(read, True, "另一个理由", "organiser:other", moment(T))
    restored = repos.showcase.set_hidden(hidden, False, None, "organiser:admin", moment(T))
    assert (restored.showcase_hidden, restored.showcase_hidden_reason) == (False, None)
    stored = repos.cases.get("case0001")
    assert stored is not None and (stored.showcase_hidden, stored.showcase_hidden_reason) == (False, None)
