"""services/competitions.py on the in-memory competition repository: no DynamoDB, no moto (`make test-fast`).

The stage rows are the 2023 competition's own windows (store/memory.StageRow, as the stages table keeps them);
the clock is a datetime the test passes in.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import competitions as configs
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.competition_edit import CompetitionState
from chalicelib.domain.errors import Conflict, Duplicate, Forbidden, Invalid, NotFound, StageClosed, VersionConflict
from chalicelib.services import competitions
from chalicelib.services.accounts import Principal
from chalicelib.store.memory import MemoryTables, StageRow
from chalicelib.store.memory_competitions import InMemoryCompetitionRepository
from chalicelib.store.memory_judging import InMemoryJudgingRepository
from chalicelib.store.memory_results import InMemoryStageRepository

CHINA = timezone(timedelta(hours=8))
SOURCE = "shenzhen-2023"
COMP = competition_from_config(configs.load(SOURCE))
BEFORE_2023 = datetime(2023, 3, 1, 9, 0, tzinfo=CHINA)
IN_TEXT_REVIEW = datetime(2023, 6, 12, 10, 0, tzinfo=CHINA)
AFTER_ALL = datetime(2023, 8, 15, 10, 0, tzinfo=CHINA)
ORGANISER = Principal("organiser", "t1", account_id="org1", username="admin", organiser_role="admin")
VIEWER = Principal("organiser", "t2", account_id="org2", username="viewer", organiser_role="viewer")
UNIT = Principal("unit", "t3", account_id="acc1", username="unit1", unit_name="深圳市第1局")
JUDGE = Principal("judge", "t4", judge_id="j1", stage="text_review")


def rows_2023(closed: bool = False) -> list[StageRow]:
    return [StageRow(SOURCE, w.id, w.opens_at.timestamp(), w.closes_at.timestamp(), closed) for w in COMP.default_windows]


@pytest.fixture
def tables() -> MemoryTables:
    return MemoryTables()


@pytest.fixture
def repo(tables) -> InMemoryCompetitionRepository:
    twin = InMemoryCompetitionRepository(tables)
    assert competitions.seed(twin, SOURCE, BEFORE_2023)
    return twin


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_competition_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_deployments_competition_is_seeded_once_as_running(repo, tables) -> None:
    record = competitions.get(repo, ORGANISER, SOURCE)
    assert (record.state, record.version, record.created_by) == (CompetitionState.RUNNING, 1, "system:seed")
    assert record.definition["state"] == "running"
    assert {k: v for k, v in record.definition.items() if k != "state"} == configs.load(SOURCE)
    assert competitions.seed(repo, SOURCE, AFTER_ALL) is False
    assert competitions.get(repo, ORGANISER, SOURCE) == record
    assert tables.audit == [(f"competition#{SOURCE}", "system:seed", "competition.create")]


def test_copy_2023_to_2024_then_edit_a_criterions_maximum_and_the_quota(repo, tables) -> None:
    copied = competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    assert (copied.id, copied.state, copied.version) == ("shenzhen-2024", CompetitionState.DRAFT, 1)
    definition = copied.definition
    assert definition["name"].startswith("2024年") and definition["state"] == "draft"
    assert [s["opens_at"][:4] for s in definition["stages"]] == ["2024"] * 5
    assert competitions.get(repo, ORGANISER, SOURCE).definition["name"].startswith("2023年")   # the source stays

    changes = {"categories[0].criteria[0].max": 35, "categories[0].criteria[1].max": 25,
               "quotas.advance_per_category": 20}
    saved = competitions.edit(repo, ORGANISER, "shenzhen-2024", changes, 1, [], BEFORE_2023)
    assert saved.version == 2 and saved.updated_by == ORGANISER.actor
    criteria = saved.definition["categories"][0]["criteria"]
    assert [c["max"] for c in criteria] == [35, 25, 40]
    assert saved.definition["quotas"]["advance_per_category"] == 20
    assert competitions.get(repo, ORGANISER, "shenzhen-2024") == saved

    change = repo.changes[-1]
    assert (change.action, change.actor) == ("competition.edit", ORGANISER.actor)
    assert set(change.changed) == set(changes)
    assert change.before == {"categories[0].criteria[0].max": 30, "categories[0].criteria[1].max": 30,
                             "quotas.advance_per_category": 15}
    assert change.after == changes
    assert tables.audit[-1] == ("competition#shenzhen-2024", ORGANISER.actor, "competition.edit")


def _form_save(repo, competition_id: str, form: dict[str, str], now: datetime = BEFORE_2023):
    """What the builder's page does with a posted form: its fields' kinds, the changes, the edit."""
    record = competitions.get(repo, ORGANISER, competition_id)
    state = competitions.progress(record, [], now)
    kinds = competitions.form_paths(competitions.builder_form(record, state))
    changes = competitions.form_changes(record, kinds, {k: [v] for k, v in form.items()})
    return changes, competitions.edit(repo, ORGANISER, competition_id, changes, record.version, [], now)


def test_the_builder_form_adds_and_removes_criteria_and_categories(repo, tables) -> None:
    competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    before = competitions.get(repo, ORGANISER, "shenzhen-2024").definition["categories"]
    # 发展提质: 前瞻性 30, 实践性 30, 成效性 40 → remove 实践性, add 协同性 20, 前瞻性 becomes 40 in the same save
    changes, saved = _form_save(repo, "shenzhen-2024", {
        "categories[0].criteria[1]": "1", "categories[0].criteria[0].max": "40",
        "categories[0].criteria[3].name": "协同性", "categories[0].criteria[3].max": "20",
        "categories[1].name": "治理增效（新）"})
    assert set(changes) == {"categories[0].criteria", "categories[1].name"}
    criteria = saved.definition["categories"][0]["criteria"]
    assert [(c["id"], c["name"], c["max"]) for c in criteria] == [
        ("foresight", "前瞻性", 40), ("effectiveness", "成效性", 40), ("criterion_4", "协同性", 20)]
    assert saved.definition["categories"][1]["name"] == "治理增效（新）"
    assert saved.definition["categories"][1]["criteria"] == before[1]["criteria"]

    # a new category starts with the first one's criteria; another is removed in the same save
    changes, saved = _form_save(repo, "shenzhen-2024", {
        f"categories[{len(before)}].name": "基层减负", "categories[2]": "1", "categories[1].criteria[0].max": "35",
        "categories[1].criteria[1].max": "25"})
    assert set(changes) == {"categories"}
    after = saved.definition["categories"]
    assert [c["name"] for c in after] == [before[0]["name"], "治理增效（新）", "基层减负"]
    assert [c["max"] for c in after[1]["criteria"]][:2] == [35, 25]
    assert after[2]["id"] == f"category_{len(before) + 1}" and after[2]["criteria"] == after[0]["criteria"]
    assert tables.audit[-1] == ("competition#shenzhen-2024", ORGANISER.actor, "competition.edit")


def test_a_new_criterion_without_a_maximum_is_refused_by_its_field_and_nothing_changes(repo) -> None:
    competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    with pytest.raises(Invalid) as refused:
        _form_save(repo, "shenzhen-2024", {"categories[0].criteria[1]": "1", "categories[0].criteria[3].name": "协同性"})
    assert set(refused.value.fields or {}) == {"categories[0].criteria[2].max"}     # the new one is the third now
    assert "满分" in refused.value.fields["categories[0].criteria[2].max"]
    assert competitions.get(repo, ORGANISER, "shenzhen-2024").version == 1


def test_a_removal_leaves_a_full_score_of_the_remaining_maxima(repo) -> None:
    competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    _, saved = _form_save(repo, "shenzhen-2024", {"categories[0].criteria[1]": "1"})
    assert [c["max"] for c in saved.definition["categories"][0]["criteria"]] == [30, 40]


def test_the_delete_boxes_and_new_rows_are_not_offered_once_the_categories_are_locked(repo) -> None:
    record = competitions.get(repo, ORGANISER, SOURCE)
    state = competitions.progress(record, rows_2023(), IN_TEXT_REVIEW)
    kinds = {f["path"]: f["kind"] for s in competitions.builder_form(record, state)
             for g in s["groups"] for f in g["fields"]}
    assert not {k for k, kind in kinds.items() if kind in competitions.LIST_KINDS}
    draft = competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    kinds = competitions.form_paths(competitions.builder_form(draft, competitions.progress(draft, [], BEFORE_2023)))
    assert kinds["categories[0].criteria[0]"] == "remove" and kinds["categories[0].criteria[3].max"] == "new_int"
    values = [f["value"] for s in competitions.builder_form(draft, competitions.progress(draft, [], BEFORE_2023))
              for g in s["groups"] for f in g["fields"] if f["kind"] in competitions.LIST_KINDS]
    assert values and set(values) == {""}                 # unticked, empty


def test_an_edit_that_breaks_a_rule_is_refused_by_its_field(repo) -> None:
    competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    with pytest.raises(Invalid) as refused:
        competitions.edit(repo, ORGANISER, "shenzhen-2024", {"categories[0].criteria[0].max": 0}, 1, [],
                          BEFORE_2023)
    assert set(refused.value.fields or {}) == {"categories[0].criteria[0].max"}
    assert competitions.get(repo, ORGANISER, "shenzhen-2024").version == 1


def test_criteria_are_locked_once_scoring_began(repo) -> None:
    with pytest.raises(StageClosed) as refused:
        competitions.edit(repo, ORGANISER, SOURCE, {"categories[0].criteria[0].max": 35,
                                                    "categories[0].criteria[1].max": 25}, 1, rows_2023(),
                          IN_TEXT_REVIEW)
    assert set(refused.value.fields or {}) == {"categories[0].criteria[0].max", "categories[0].criteria[1].max"}
    assert "文本评审已开始" in refused.value.fields["categories[0].criteria[0].max"]
    # before 文本评审 opens, a judge's first score locks them too (the stages in which scoring started)
    in_submission = datetime(2023, 6, 1, 10, 0, tzinfo=CHINA)
    with pytest.raises(StageClosed):
        competitions.edit(repo, ORGANISER, SOURCE, {"categories[0].criteria[0].max": 35,
                                                    "categories[0].criteria[1].max": 25}, 1, rows_2023(),
                          in_submission, scoring_started=["text_review"])
    # what is free while it runs still changes
    saved = competitions.edit(repo, ORGANISER, SOURCE, {"theme": "新主题"}, 1, rows_2023(), IN_TEXT_REVIEW)
    assert (saved.version, saved.definition["theme"]) == (2, "新主题")


def test_a_stage_row_overrides_the_definitions_window(repo) -> None:
    """The organiser closed 文本申报 early: its row says closed, so the categories are locked already."""
    early = datetime(2023, 5, 1, 10, 0, tzinfo=CHINA)
    rows = [r if r.stage_id != "submission" else StageRow(SOURCE, "submission", early.timestamp() - 86400,
                                                          early.timestamp() - 60, True) for r in rows_2023()]
    with pytest.raises(StageClosed) as refused:
        competitions.edit(repo, ORGANISER, SOURCE, {"limits.max_chars": 4000}, 1, rows, early)
    assert set(refused.value.fields or {}) == {"limits.max_chars"}
    saved = competitions.edit(repo, ORGANISER, SOURCE, {"limits.max_chars": 4000}, 1, rows_2023(), early)
    assert saved.definition["limits"]["max_chars"] == 4000


def test_a_stale_version_is_refused(repo) -> None:
    first = competitions.edit(repo, ORGANISER, SOURCE, {"theme": "一"}, 1, [], BEFORE_2023)
    with pytest.raises(VersionConflict):
        competitions.edit(repo, ORGANISER, SOURCE, {"theme": "二"}, 1, [], BEFORE_2023)
    assert competitions.get(repo, ORGANISER, SOURCE) == first
    # the write itself is on the version as read: a save racing another one is refused
    read = repo.get(SOURCE)
    assert read is not None
    repo.save(read, {**read.definition, "theme": "三"}, ["theme"], "competition.edit", "organiser:other", 1.0)
    with pytest.raises(VersionConflict):
        repo.save(read, {**read.definition, "theme": "四"}, ["theme"], "competition.edit", ORGANISER.actor, 2.0)
    with pytest.raises(Invalid) as refused:
        competitions.edit(repo, ORGANISER, SOURCE, {"theme": "五"}, "3", [], BEFORE_2023)
    assert set(refused.value.fields or {}) == {"version"}


def test_units_judges_and_viewers_are_refused(repo) -> None:
    for who in (UNIT, JUDGE):
        calls = [lambda: competitions.list_competitions(repo, who), lambda: competitions.get(repo, who, SOURCE),
                 lambda: competitions.create_blank(repo, who, "new-2025", "新竞赛", 2025, BEFORE_2023),
                 lambda: competitions.copy_from(repo, who, SOURCE, "shenzhen-2024", BEFORE_2023),
                 lambda: competitions.edit(repo, who, SOURCE, {"theme": "x"}, 1, [], BEFORE_2023),
                 lambda: competitions.start(repo, who, SOURCE, 1, [], BEFORE_2023),
                 lambda: competitions.finish(repo, who, SOURCE, 1, [], AFTER_ALL)]
        for call in calls:
            with pytest.raises(Forbidden):
                call()
    assert [r.id for r in competitions.list_competitions(repo, VIEWER)] == [SOURCE]
    assert competitions.get(repo, VIEWER, SOURCE).id == SOURCE
    with pytest.raises(Forbidden):
        competitions.edit(repo, VIEWER, SOURCE, {"theme": "x"}, 1, [], BEFORE_2023)
    with pytest.raises(Forbidden):
        competitions.copy_from(repo, VIEWER, SOURCE, "shenzhen-2024", BEFORE_2023)
    assert repo.get(SOURCE).version == 1 and repo.get("shenzhen-2024") is None


def test_new_ids_are_checked_and_never_reused(repo) -> None:
    for bad in ("ab", "Shenzhen-2024", "shenzhen_2024", "-shenzhen", "深圳-2024", "a" * 41, None, 2024):
        with pytest.raises(Invalid) as refused:
            competitions.copy_from(repo, ORGANISER, SOURCE, bad, BEFORE_2023)
        assert set(refused.value.fields or {}) == {"id"}
    with pytest.raises(Duplicate) as taken:
        competitions.copy_from(repo, ORGANISER, SOURCE, SOURCE, BEFORE_2023)
    assert set(taken.value.fields or {}) == {"id"}
    with pytest.raises(NotFound):
        competitions.copy_from(repo, ORGANISER, "nosuchcompetition", "shenzhen-2024", BEFORE_2023)
    with pytest.raises(Invalid) as refused:
        competitions.create_blank(repo, ORGANISER, "x", " ", 1800, BEFORE_2023)
    assert set(refused.value.fields or {}) == {"id", "name", "year"}


def test_start_is_refused_while_invalid_then_allowed(repo, tables) -> None:
    blank = competitions.create_blank(repo, ORGANISER, "shenzhen-2025", "2025年深圳市机关创新大赛", 2025, BEFORE_2023)
    assert (blank.state, blank.definition["stages"][0]["opens_at"][:4]) == (CompetitionState.DRAFT, "2025")
    with pytest.raises(Invalid) as refused:
        competitions.start(repo, ORGANISER, "shenzhen-2025", 1, [], BEFORE_2023)
    assert {"theme", "hosts", "contacts", "state"} <= set(refused.value.fields or {})
    assert repo.get("shenzhen-2025").state == CompetitionState.DRAFT

    filled = competitions.edit(repo, ORGANISER, "shenzhen-2025", {
        "theme": "创新引领", "hosts": ["中共深圳市直属机关工作委员会"],
        "contacts": [{"name": "张三", "phone": "0755-88134324"}]}, 1, [], BEFORE_2023)
    started = competitions.start(repo, ORGANISER, "shenzhen-2025", filled.version, [], BEFORE_2023)
    assert (started.state, started.definition["state"], started.version) == (CompetitionState.RUNNING, "running", 3)
    assert tables.audit[-1] == ("competition#shenzhen-2025", ORGANISER.actor, "competition.start")
    with pytest.raises(Conflict):
        competitions.start(repo, ORGANISER, "shenzhen-2025", started.version, [], BEFORE_2023)


def test_finish_waits_for_the_last_stage_and_ended_is_read_only(repo, tables) -> None:
    with pytest.raises(Conflict) as refused:
        competitions.finish(repo, ORGANISER, SOURCE, 1, rows_2023(), IN_TEXT_REVIEW)
    assert set(refused.value.fields or {}) == {"state"}
    ended = competitions.finish(repo, ORGANISER, SOURCE, 1, rows_2023(), AFTER_ALL)
    assert (ended.state, ended.version) == (CompetitionState.FINISHED, 2)
    assert tables.audit[-1] == (f"competition#{SOURCE}", ORGANISER.actor, "competition.finish")
    for changes in ({"name": "新名称"}, {"theme": "x"}, {"state": "running"}):
        with pytest.raises(Conflict) as refused:
            competitions.edit(repo, ORGANISER, SOURCE, changes, 2, rows_2023(), AFTER_ALL)
        assert refused.value.fields
    assert competitions.get(repo, ORGANISER, SOURCE) == ended
    # a copy for next year is still made from it
    assert competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", AFTER_ALL).state == CompetitionState.DRAFT


def test_the_list_is_newest_first(repo) -> None:
    competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023 + timedelta(days=1))
    competitions.create_blank(repo, ORGANISER, "shenzhen-2025", "2025年大赛", 2025, BEFORE_2023 + timedelta(days=2))
    assert [r.id for r in competitions.list_competitions(repo, ORGANISER)] == ["shenzhen-2025", "shenzhen-2024",
                                                                               SOURCE]


def test_the_view_names_the_state_in_chinese(repo) -> None:
    view = competitions.competition_view(repo.get(SOURCE))
    assert (view["id"], view["state"], view["state_name"], view["version"]) == (SOURCE, "running", "进行中", 1)
    assert view["definition"]["categories"] == configs.load(SOURCE)["categories"]


def _started_2024(repo) -> None:
    copied = competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    competitions.start(repo, ORGANISER, "shenzhen-2024", copied.version, [], BEFORE_2023)


def test_activate_makes_a_running_competition_the_current_one(repo, tables) -> None:
    assert repo.current_id() is None
    assert competitions.activate(repo, ORGANISER, SOURCE, BEFORE_2023).id == SOURCE
    assert repo.current_id() == SOURCE
    _started_2024(repo)
    record = competitions.activate(repo, ORGANISER, "shenzhen-2024", BEFORE_2023)
    assert (record.id, record.state, repo.current_id()) == ("shenzhen-2024", CompetitionState.RUNNING, "shenzhen-2024")
    assert tables.audit[-1] == ("competition#shenzhen-2024", ORGANISER.actor, "competition.activate")
    # the current one again: answered as it is, nothing written
    before = list(tables.audit)
    assert competitions.activate(repo, ORGANISER, "shenzhen-2024", BEFORE_2023) == record
    assert tables.audit == before


def test_a_draft_must_be_started_first_and_an_ended_one_is_never_made_current_again(repo) -> None:
    competitions.copy_from(repo, ORGANISER, SOURCE, "shenzhen-2024", BEFORE_2023)
    with pytest.raises(Conflict) as refused:
        competitions.activate(repo, ORGANISER, "shenzhen-2024", BEFORE_2023)
    assert set(refused.value.fields or {}) == {"state"} and "开始" in refused.value.fields["state"]
    competitions.finish(repo, ORGANISER, SOURCE, 1, rows_2023(), AFTER_ALL)
    with pytest.raises(Conflict) as refused:
        competitions.activate(repo, ORGANISER, SOURCE, AFTER_ALL)
    assert set(refused.value.fields or {}) == {"state"}
    assert repo.current_id() is None
    with pytest.raises(NotFound):
        competitions.activate(repo, ORGANISER, "nosuch-2030", AFTER_ALL)


def test_only_organisers_with_write_rights_activate(repo) -> None:
    for who in (UNIT, JUDGE, VIEWER):
        with pytest.raises(Forbidden):
            competitions.activate(repo, who, SOURCE, BEFORE_2023)
    assert repo.current_id() is None


def test_a_window_saved_in_the_builder_moves_the_stage_row_it_runs_on(repo, tables) -> None:
    """Once the stages have rows, they are what the windows are: the builder edits and moves them, and a window
    moved on the 阶段 page is what it shows and edits."""
    stage_repo = InMemoryStageRepository(tables)
    stage_repo.seed(SOURCE, [(w.id, w.opens_at.timestamp(), w.closes_at.timestamp()) for w in COMP.default_windows])
    in_submission = datetime(2023, 5, 25, 10, 0, tzinfo=CHINA)
    later = datetime(2023, 6, 12, 23, 59, 59, tzinfo=CHINA)
    record = competitions.get(repo, ORGANISER, SOURCE)
    final = COMP.default_windows[3]
    final_closes = datetime(2023, 7, 9, 18, 0, tzinfo=CHINA)
    stage_repo.set_stage(SOURCE, "final", final.opens_at.timestamp(), final_closes.timestamp())  # the 阶段 page's
    shown, rows, _ = competitions.edit_inputs(record, stage_repo, InMemoryJudgingRepository(tables), in_submission)
    assert shown.definition["stages"][3]["closes_at"] == "2023-07-09T18:00:00+08:00"
    assert record.definition["stages"][3]["closes_at"] == "2023-07-10T23:59:59+08:00"
    with pytest.raises(Invalid) as refused:          # overlaps 文本评审 (opens 06-10): refused, nothing moves
        competitions.edit(repo, ORGANISER, SOURCE, {"stages.submission.closes_at": later.isoformat()}, 1, rows,
                          in_submission, moves=stage_repo)
    assert "stages.text_review.opens_at" in (refused.value.fields or {})
    assert {r.stage_id: r.closes_at for r in stage_repo.all_for(SOURCE)}["submission"] == COMP.default_windows[0].closes_at.timestamp()
    changes = {"stages.submission.closes_at": later.isoformat(),
               "stages.text_review.opens_at": "2023-06-13T00:00:00+08:00"}
    with pytest.raises(TypeError):       # rows to move and nothing to move them with: a caller's mistake
        competitions.edit(repo, ORGANISER, SOURCE, changes, 1, rows, in_submission)
    saved = competitions.edit(repo, ORGANISER, SOURCE, changes, 1, rows, in_submission, moves=stage_repo)
    moved = {r.stage_id: r for r in stage_repo.all_for(SOURCE)}
    assert (moved["submission"].closes_at, moved["text_review"].opens_at) == (
        later.timestamp(), datetime(2023, 6, 13, tzinfo=CHINA).timestamp())
    assert moved["final"].closes_at == final_closes.timestamp()
    assert [s["closes_at"] for s in saved.definition["stages"]][::3] == [   # only what was edited is written
        "2023-06-12T23:59:59+08:00", "2023-07-10T23:59:59+08:00"]
    assert [a for a in tables.audit if a[2] == "stage.window"] == [
        (f"stage#{SOURCE}#submission", ORGANISER.actor, "stage.window"),
        (f"stage#{SOURCE}#text_review", ORGANISER.actor, "stage.window")]
    # the rows are what the builder shows from now on, and an unrelated edit leaves them as they are
    shown, rows, _ = competitions.edit_inputs(saved, stage_repo, InMemoryJudgingRepository(tables), in_submission)
    assert shown.definition["stages"][1]["opens_at"] == "2023-06-13T00:00:00+08:00"
    competitions.edit(repo, ORGANISER, SOURCE, {"theme": "新主题"}, saved.version, rows, in_submission, moves=stage_repo)
    assert {r.stage_id: r for r in stage_repo.all_for(SOURCE)} == moved
