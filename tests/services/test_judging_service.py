"""The judging services (services/judging.py, scoring.py, judge_portal.py, judge_import.py, extra_judges.py) on
the in-memory repositories: no DynamoDB, no moto (`make test-fast` runs these).

The case and judging twins share one MemoryTables, whose stage rows are the competition's own 2023 windows;
the clock is a time the test passes in. The stage windows come from the stage twin over the same rows, the
live ranking from the result twin over the case twin and the judges' scores.
"""
from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain.clock import moment
from chalicelib import competitions
from chalicelib.domain.case_record import Case, new_case
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.errors import Forbidden, Invalid, NotFound, StageClosed, Unauthenticated
from chalicelib.services import extra_judges, judge_import, judge_portal, judging, results, scoring
from chalicelib.services.accounts import Principal
from chalicelib.services.scoring import JudgePrincipal
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_judging import InMemoryJudgingRepository
from chalicelib.store.memory_results import InMemoryResultRepository, InMemoryStageRepository

CHINA = timezone(timedelta(hours=8))
COMP = competition_from_config(competitions.load("shenzhen-2023"))
IN_TEXT_REVIEW = datetime(2023, 6, 12, 10, 0, tzinfo=CHINA)
IN_COACHING = datetime(2023, 6, 20, 10, 0, tzinfo=CHINA)
AFTER_TEXT_REVIEW = IN_COACHING
ORGANISER = "organiser:boss"
UNIT = Principal("unit", "t1", account_id="acc1", username="unit1", unit_name="深圳市第1局")
SHEET = {"criteria": {"foresight": 25, "practicality": 26.5, "effectiveness": 30}, "comment": "思路清晰"}
SETTINGS: Any = SimpleNamespace(signing_keys=("key-one-for-the-judging-service-tests",), site_url="https://saiping.example",
                               competition_id="shenzhen-2023")   # what links read


def body(title: str, unit: str = "深圳市某某局") -> dict:
    return {"category": "development", "recommending_unit": unit, "title": title}


@pytest.fixture
def tables() -> MemoryTables:
    return MemoryTables()


@pytest.fixture
def cases(tables) -> InMemoryCaseRepository:
    twin = InMemoryCaseRepository(tables)
    for w in COMP.default_windows:
        twin.set_stage(COMP.id, w.id, w.opens_at.timestamp(), w.closes_at.timestamp())
    return twin


@pytest.fixture
def repo(tables, cases) -> InMemoryJudgingRepository:
    return InMemoryJudgingRepository(tables)


@pytest.fixture
def stages(tables) -> InMemoryStageRepository:
    """The stage windows: the twins' stage rows (the competition's own 2023 windows)."""
    return InMemoryStageRepository(tables)


@pytest.fixture
def rankings(cases) -> InMemoryResultRepository:
    """The stored rankings and the ranked cases (the case twin's)."""
    return InMemoryResultRepository(cases)


def submitted(cases: InMemoryCaseRepository, case_id: str, title: str = "案例", unit: str = "深圳市某某局",
              status: str = "submitted") -> Case:
    from dataclasses import replace
    case = replace(new_case(case_id, COMP.id, "acc1", "unit1", body(title, unit), 100, 0.0), status=status)
    cases.put(case)
    return case


def a_judge(repo, name: str = "评委一", affiliation: str = "单位乙", conflicts: tuple[str, ...] = (),
            email: str | None = None):
    raw = {"name": name, "email": email or f"{name}@example.org", "affiliation": affiliation,
           "categories": ["development"], "conflicts": list(conflicts)}
    return judging.create_judge(repo, COMP, raw, ORGANISER, IN_TEXT_REVIEW)


def assigned(repo, cases, stage: str = "text_review", **judge):
    """A judge on a submitted case in the stage, and the judge's principal there."""
    judge_row = a_judge(repo, **judge)
    case = submitted(cases, "case0001", "党建引领数字政府建设", status="submitted" if stage == "text_review"
                     else "advanced")
    judging.add_assignment(repo, cases, COMP, stage, judge_row.judge_id, case.id, ORGANISER,
                           IN_TEXT_REVIEW)
    return JudgePrincipal(judge_row.judge_id, stage, "token-hash", "csrf", COMP.id), case


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_judging_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_a_judge_scores_an_assigned_case(repo, cases, stages) -> None:
    judge, case = assigned(repo, cases)
    assert scoring.my_cases(repo, judge)["cases"] == [
        {"id": case.id, "title": "党建引领数字政府建设", "category": "development", "scored": False}]
    assert scoring.save_score(repo, COMP, judge, case.id, SHEET, IN_TEXT_REVIEW, stages=stages) == {
        "case_id": case.id, "total": 81.5}
    view = scoring.case_for_judge(repo, cases, COMP, judge, case.id, lambda c, a: f"/files/{a}", stages=stages)
    assert view["my_score"] == {"criteria": {"foresight": 25, "practicality": 26.5, "effectiveness": 30},
                                "total": 81.5, "comment": "思路清晰"}
    assert scoring.my_cases(repo, judge)["cases"][0]["scored"] is True
    assert repo.scores_of_category(COMP.id, "text_review", "development") == [
        (case.id, judge.judge_id, {"foresight": 250, "practicality": 265, "effectiveness": 300}, "organiser")]
    assert (f"case#{case.id}", judge.actor, "score.save") in repo.audit


def test_a_judge_cannot_score_a_case_not_assigned_to_them(repo, cases, stages) -> None:
    judge, case = assigned(repo, cases)
    other = submitted(cases, "case0002")
    with pytest.raises(NotFound):
        scoring.save_score(repo, COMP, judge, other.id, SHEET, IN_TEXT_REVIEW, stages=stages)
    with pytest.raises(NotFound):
        scoring.case_for_judge(repo, cases, COMP, judge, other.id, lambda c, a: "", stages=stages)
    stranger = JudgePrincipal("nobody", "text_review", "h", "c", COMP.id)
    with pytest.raises(NotFound):
        scoring.save_score(repo, COMP, stranger, case.id, SHEET, IN_TEXT_REVIEW, stages=stages)
    assert repo.scores_of_category(COMP.id, "text_review", "development") == []


def test_a_judge_cannot_score_after_the_stage_closed(repo, cases, tables, stages) -> None:
    judge, case = assigned(repo, cases)
    with pytest.raises(StageClosed):
        scoring.save_score(repo, COMP, judge, case.id, SHEET, AFTER_TEXT_REVIEW, stages=stages)
    row = tables.stages[(COMP.id, "text_review")]
    cases.set_stage(COMP.id, "text_review", row.opens_at, row.closes_at, closed=True)   # closed by the organiser
    with pytest.raises(StageClosed):
        scoring.save_score(repo, COMP, judge, case.id, SHEET, IN_TEXT_REVIEW, stages=stages)
    assert repo.scores_of_category(COMP.id, "text_review", "development") == []


def test_the_write_itself_refuses_a_score_once_the_stage_closed(repo, cases, tables) -> None:
    """Closed between the read of the slot and the write: the write's own condition refuses it."""
    judge, case = assigned(repo, cases)
    slot, _ = repo.get_slot_and_stage("text_review", judge.judge_id, case.id, COMP.id)
    row = tables.stages[(COMP.id, "text_review")]
    cases.set_stage(COMP.id, "text_review", row.opens_at, row.closes_at, closed=True)
    with pytest.raises(StageClosed):
        repo.write_slot(slot, {"total": 1, "scored": True}, COMP.id, judge.actor, "score.save",
                        IN_TEXT_REVIEW.timestamp(), None, None)


def test_a_saved_score_is_kept_until_the_judge_changes_it(repo, cases, stages) -> None:
    judge, case = assigned(repo, cases)
    scoring.save_score(repo, COMP, judge, case.id, SHEET, IN_TEXT_REVIEW, stages=stages)
    with pytest.raises(Invalid):   # a sheet with a value out of range changes nothing
        scoring.save_score(repo, COMP, judge, case.id, {"criteria": {**SHEET["criteria"], "foresight": 31}},
                           moment(IN_TEXT_REVIEW.timestamp() + 60), stages=stages)
    kept = scoring.case_for_judge(repo, cases, COMP, judge, case.id, lambda c, a: "", stages=stages)["my_score"]
    assert kept["total"] == 81.5
    scoring.save_score(repo, COMP, judge, case.id, {"criteria": {**SHEET["criteria"], "foresight": 28}},
                       moment(IN_TEXT_REVIEW.timestamp() + 120), stages=stages)
    changed = scoring.case_for_judge(repo, cases, COMP, judge, case.id, lambda c, a: "", stages=stages)["my_score"]
    assert (changed["total"], changed["comment"]) == (84.5, None)


def test_coaching_feedback_is_kept_and_the_unit_reads_it_anonymised(repo, cases, stages) -> None:
    judge, case = assigned(repo, cases, stage="coaching")
    with pytest.raises(Forbidden):
        scoring.save_score(repo, COMP, judge, case.id, SHEET, IN_COACHING, stages=stages)
    scoring.save_feedback(repo, COMP, judge, case.id, {"points": ["补充数据"]}, IN_COACHING, stages=stages)
    scoring.save_feedback(repo, COMP, judge, case.id, {"points": ["补充数据", "突出创新"]},
                          moment(IN_COACHING.timestamp() + 60), stages=stages)
    view = scoring.case_for_judge(repo, cases, COMP, judge, case.id, lambda c, a: "", stages=stages)
    assert (view["my_feedback"], view["my_score"]) == (["补充数据", "突出创新"], None)
    assert scoring.feedback_for_unit(repo, cases, COMP, UNIT, case.id)["feedback"] == [
        {"judge": "专家1", "points": ["补充数据", "突出创新"], "stage": "coaching", "round": "专家辅导"}]


def test_assignment_keeps_回避(repo, cases) -> None:
    same_unit = a_judge(repo, "评委二", affiliation="深圳市某某局")
    declared = a_judge(repo, "评委三", conflicts=("深圳市某某局",))
    free = a_judge(repo, "评委四")
    case = submitted(cases, "case0001")
    for judge in (same_unit, declared):
        with pytest.raises(Invalid) as refused:
            judging.add_assignment(repo, cases, COMP, "text_review", judge.judge_id, case.id, ORGANISER, moment(0.0))
        assert refused.value.fields == {"judge_id": "需回避"}
    judging.add_assignment(repo, cases, COMP, "text_review", free.judge_id, case.id, ORGANISER, moment(0.0))
    with pytest.raises(Invalid):   # the pair once only
        judging.add_assignment(repo, cases, COMP, "text_review", free.judge_id, case.id, ORGANISER, moment(0.0))
    listed = judging.list_assignments(repo, COMP, "text_review")["assignments"]
    assert [(a["judge_id"], a["case_id"], a["source"]) for a in listed] == [(free.judge_id, case.id, "organiser")]
    returned = submitted(cases, "case0002", status="returned")
    with pytest.raises(Invalid):
        judging.add_assignment(repo, cases, COMP, "text_review", free.judge_id, returned.id, ORGANISER, moment(0.0))
    with pytest.raises(NotFound):
        judging.add_assignment(repo, cases, COMP, "text_review", "nobody", case.id, ORGANISER, moment(0.0))


def test_a_judge_who_recused_no_longer_sees_or_scores_the_case(repo, cases, stages) -> None:
    judge, case = assigned(repo, cases)
    with pytest.raises(Invalid):
        scoring.recuse(repo, COMP, judge, case.id, {"reason": " "}, IN_TEXT_REVIEW, stages=stages)
    assert scoring.recuse(repo, COMP, judge, case.id, {"reason": "曾参与该案例"}, IN_TEXT_REVIEW, stages=stages) == {
        "case_id": case.id, "recused": True}
    assert scoring.my_cases(repo, judge)["cases"] == []
    with pytest.raises(NotFound):
        scoring.save_score(repo, COMP, judge, case.id, SHEET, IN_TEXT_REVIEW, stages=stages)
    (slot,) = judging.list_assignments(repo, COMP, "text_review")["assignments"]
    assert (slot["recused"], slot["recusal_reason"]) == (True, "曾参与该案例")


def test_an_organiser_edits_a_judge(repo) -> None:
    judge = a_judge(repo)
    edited = judging.update_judge(repo, COMP, judge.judge_id, {
        "name": "评委一", "email": "new@example.org", "affiliation": "单位丙", "categories": ["development"]},
        ORGANISER, moment(1.0))
    assert judging.judge_view(repo.get_judge(COMP.id, judge.judge_id)) == judging.judge_view(edited)
    assert (edited.email, edited.affiliation, edited.updated_at) == ("new@example.org", "单位丙", 1.0)
    with pytest.raises(NotFound):
        judging.update_judge(repo, COMP, "nobody", {}, ORGANISER, moment(1.0))


def workbook(rows: list[list[str]]) -> bytes:
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(judge_import.template(COMP)))
    sheet = book[judge_import.SHEET]
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_import_with_an_error_by_row_imports_nobody(repo) -> None:
    a_judge(repo, "已有评委", email="taken@example.org")
    category = COMP.categories[0].name
    data = workbook([
        ["评委甲", "jia@example.org", "13800138000", "单位甲", category, ""],
        ["评委乙", "taken@example.org", "", "单位乙", category, ""],
        ["评委丙", "jia@example.org", "", "", "不存在的类别", ""],
    ])
    with pytest.raises(judge_import.RowsInvalid) as refused:
        judge_import.import_judges(repo, COMP, data, ORGANISER, moment(1.0))
    assert [(e.row, e.column, e.message) for e in refused.value.rows] == [
        (3, "email", "已有使用该电子邮箱的评委（已有评委），请勿重复导入"),
        (4, "email", "与第 2 行的电子邮箱重复"),
        (4, "affiliation", "请填写工作单位"),
        (4, "categories", "“不存在的类别”不是评审类别，可填：发展提质、服务增效、党建赋能")]
    assert [j.name for j in repo.list_judges(COMP.id)] == ["已有评委"]


def test_an_import_of_good_rows_saves_every_judge(repo) -> None:
    category = COMP.categories[0].name
    data = workbook([
        ["评委甲", "jia@example.org", "13800138000", "单位甲", category, "单位丙、单位丁"],
        ["评委乙", "yi@example.org", "", "单位乙", category, ""],
    ])
    imported = judge_import.import_judges(repo, COMP, data, ORGANISER, moment(1.0))
    assert [j.name for j in imported] == ["评委甲", "评委乙"]
    stored = {j.name: j for j in repo.list_judges(COMP.id)}
    assert stored["评委甲"].conflicts == ("单位丙", "单位丁") and stored["评委甲"].categories == (COMP.categories[0].id,)
    assert sum(1 for _, _, action in repo.audit if action == "judge.import") == 2


def test_extra_judges_go_to_the_cases_near_the_cut(repo, cases, stages, rankings) -> None:
    case_ids = [submitted(cases, f"case{i:04d}", f"案例{i}").id for i in range(1, 4)]
    first = a_judge(repo, "评委一")
    second = a_judge(repo, "评委二")
    near = a_judge(repo, "评委三", affiliation="深圳市某某局")    # 回避: never on these cases
    for case_id in case_ids:
        judging.add_assignment(repo, cases, COMP, "text_review", first.judge_id, case_id, ORGANISER, moment(0.0))
    scorer = JudgePrincipal(first.judge_id, "text_review", "token-hash", "csrf", COMP.id)
    for points, case_id in zip((30, 25, 20), case_ids):     # the live ranking: the cases in this order
        scoring.save_score(repo, COMP, scorer, case_id, {"criteria": {**SHEET["criteria"], "effectiveness": points}},
                           IN_TEXT_REVIEW, stages=stages)
    live = results.ranking(repo, COMP, "text_review", results=rankings)["categories"]["development"]
    assert [(e["case_id"], e["rank"], e["scores_count"]) for e in live] == [(c, r, 1) for r, c in enumerate(case_ids, 1)]
    raw = {"judges_per_case": 1, "from_rank": 2, "to_rank": 3}
    preview = extra_judges.add_extra_judges(repo, cases, COMP, raw, ORGANISER, IN_TEXT_REVIEW, write=False, stages=stages,
                                            result_repo=rankings)
    assert (preview["written"], preview["assignments"]) == (False, 2)
    assert repo.slots_of_judge(COMP.id, "text_review", second.judge_id) == []
    found = extra_judges.add_extra_judges(repo, cases, COMP, raw, ORGANISER, IN_TEXT_REVIEW, stages=stages,
                                          result_repo=rankings)
    assert [c["case_id"] for c in found["cases"]] == case_ids[1:]
    assert found["judges"] == [second.judge_id] and found["needs_link"] == [second.judge_id]
    assert [(s.case_id, s.source) for s in repo.slots_of_judge(COMP.id, "text_review", second.judge_id)] == [
        (case_ids[1], "extra"), (case_ids[2], "extra")]
    assert repo.slots_of_judge(COMP.id, "text_review", near.judge_id) == []
    again = extra_judges.add_extra_judges(repo, cases, COMP, raw, ORGANISER, IN_TEXT_REVIEW, stages=stages,
                                          result_repo=rankings)
    assert again["assignments"] == 0     # asking again adds only what is missing
    with pytest.raises(StageClosed):
        extra_judges.add_extra_judges(repo, cases, COMP, raw, ORGANISER, AFTER_TEXT_REVIEW, stages=stages,
                                   result_repo=rankings)


def test_a_link_opens_one_session_until_it_is_revoked(repo, cases, stages) -> None:
    judge, case = assigned(repo, cases)
    (issued,) = judging.issue_links(repo, COMP, SETTINGS, "text_review", ORGANISER, IN_TEXT_REVIEW, stages=stages)
    token = issued.url.rsplit("/j/", 1)[1]
    assert issued.mail == "queued" and len(repo.mails) == 1
    preview = judge_portal.preview_link(repo, {COMP.id: COMP}.__getitem__, SETTINGS, token, IN_TEXT_REVIEW, stages=stages)
    assert (preview.judge_name, preview.assigned) == ("评委一", 1)
    session = judging.open_judge_session(repo, {COMP.id: COMP}.__getitem__, SETTINGS, token, IN_TEXT_REVIEW, stages=stages)
    who = scoring.authenticate_judge(repo, session.token, IN_TEXT_REVIEW)
    assert (who.judge_id, who.stage) == (judge.judge_id, "text_review")
    assert judging.link_states(repo, COMP, "text_review", [judge.judge_id])[judge.judge_id].state == "opened"
    judging.revoke_link(repo, COMP, judge.judge_id, "text_review", ORGANISER, IN_TEXT_REVIEW)
    with pytest.raises(Unauthenticated):
        scoring.authenticate_judge(repo, session.token, IN_TEXT_REVIEW)
    with pytest.raises(Unauthenticated):
        judging.open_judge_session(repo, {COMP.id: COMP}.__getitem__, SETTINGS, token, IN_TEXT_REVIEW, stages=stages)
