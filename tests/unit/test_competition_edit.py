"""The competition builder's rules (chalicelib/domain/competition_edit.py): 复制上一届, 新建, validation by field,
edits refused by what the competition's progress locks, and the state moves 草稿 → 进行中 → 已结束."""
from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from chalicelib import competitions
from chalicelib.domain import competition_edit as module
from chalicelib.domain.competition import CHINA, STAGE_NAMES, STAGE_ORDER, StageId, competition_from_config
from chalicelib.domain.competition_edit import (
    CompetitionState, FieldError, Progress, as_fields, blank_competition, changed_paths, copy_for_next_year, edit,
    format_path, merge, parse_path, shift_time, start_errors, state_of, validate,
)

DRAFT, RUNNING, FINISHED = CompetitionState.DRAFT, CompetitionState.RUNNING, CompetitionState.FINISHED
S = StageId
CJK = re.compile(r"[\u4e00-\u9fff]")


def config_2023() -> dict:
    return copy.deepcopy(competitions.load("shenzhen-2023"))


def running() -> dict:
    return {**config_2023(), "state": RUNNING.value}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def progress_at(moment: str, definition: dict | None = None, state: CompetitionState = RUNNING,
                scoring: tuple[StageId, ...] = ()) -> Progress:
    windows = competition_from_config(definition or config_2023()).default_windows
    return Progress.from_windows(state, windows, at(moment), scoring_started=scoring)


BEFORE_START = "2023-05-01T12:00:00"
SUBMISSION_OPEN = "2023-05-25T12:00:00"
TEXT_REVIEW_OPEN = "2023-06-12T12:00:00"
COACHING_OPEN = "2023-06-20T12:00:00"
FINAL_OPEN = "2023-06-28T12:00:00"
FINAL_CLOSED = "2023-07-15T12:00:00"
ALL_CLOSED = "2023-08-05T12:00:00"


def codes(errors: list[FieldError]) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in errors}


def refused(definition: dict, changes: dict, progress: Progress) -> set[tuple[str, str]]:
    before = copy.deepcopy(definition)
    result, errors = edit(definition, changes, progress)
    assert errors, "the edit was accepted"
    assert result == before and definition == before        # refused: nothing changed, the argument untouched
    assert all(CJK.search(e.message) for e in errors)
    return codes(errors)


def accepted(definition: dict, changes: dict, progress: Progress) -> dict:
    before = copy.deepcopy(definition)
    result, errors = edit(definition, changes, progress)
    assert errors == []
    assert definition == before                              # a new dict; the argument untouched
    return result


# -- 复制上一届 -----------------------------------------------------------------------------------------

def test_a_copy_of_2023_is_2024_with_the_same_rules_as_a_draft():
    old = config_2023()
    new = copy_for_next_year(old, "shenzhen-2024")
    assert old == config_2023()                              # the source is not modified
    assert new["id"] == "shenzhen-2024" and new["state"] == "draft" and state_of(new) is DRAFT
    assert new["name"] == old["name"].replace("2023年", "2024年") and new["name"].startswith("2024年深圳市")
    assert "2023" not in new["name"] + new["short_name"] + new["notice_number"]
    assert new["short_name"] == "2024年深圳市“党建杯”机关创新创优竞赛"
    assert new["notice_number"] == "深直工字〔2024〕3号"
    assert new["notice_text"] == "shenzhen-2024-notice.txt"
    assert new["theme"] == old["theme"]
    for key in ("categories", "hosts", "contacts", "limits", "quotas", "prizes", "ranking", "presentation",
                "final_live", "originality", "unit_systems", "timezone"):
        assert new[key] == old[key], key
    assert [(s["id"], s["name"], s["opens_at"], s["closes_at"]) for s in new["stages"]] == [
        ("submission", "文本申报", "2024-05-19T00:00:00+08:00", "2024-06-09T23:59:59+08:00"),
        ("text_review", "文本评审", "2024-06-10T00:00:00+08:00", "2024-06-16T23:59:59+08:00"),
        ("coaching", "专家辅导", "2024-06-17T00:00:00+08:00", "2024-06-23T23:59:59+08:00"),
        ("final", "综合评选", "2024-06-24T00:00:00+08:00", "2024-07-10T23:59:59+08:00"),
        ("provincial", "省赛准备", "2024-07-11T00:00:00+08:00", "2024-07-31T23:59:59+08:00"),
    ]
    assert new["honors"]["reference_date"] == "2024-05-04"
    assert new["honors"]["rules"] == old["honors"]["rules"]
    comp = competition_from_config(new)
    assert (comp.id, comp.max_chars, comp.advance_per_category) == ("shenzhen-2024", 3000, 15)
    assert validate(new) == []


def test_a_copy_may_skip_years_and_never_goes_back():
    new = copy_for_next_year(config_2023(), "shenzhen-2026", years=3)
    assert new["name"].startswith("2026年") and new["notice_number"] == "深直工字〔2026〕3号"
    assert new["stages"][0]["opens_at"] == "2026-05-19T00:00:00+08:00"
    assert new["honors"]["reference_date"] == "2026-05-04"
    assert validate(new) == []
    for years in (0, -1):
        with pytest.raises(ValueError):
            copy_for_next_year(config_2023(), "x", years=years)


def test_a_copy_of_a_copy_moves_on_again():
    twice = copy_for_next_year(copy_for_next_year(config_2023(), "shenzhen-2024"), "shenzhen-2025")
    assert twice["name"].startswith("2025年") and twice["stages"][4]["closes_at"] == "2025-07-31T23:59:59+08:00"
    assert twice["state"] == "draft" and validate(twice) == []


def test_only_the_competitions_own_years_change_in_its_words():
    old = config_2023()
    old["name"] = "2023年竞赛（2019年以来第五届，编号20230）"
    old["theme"] = "2023年：奋进"
    new = copy_for_next_year(old, "n")
    assert new["name"] == "2024年竞赛（2019年以来第五届，编号20230）"
    assert new["theme"] == "2024年：奋进"


def test_a_copy_carries_no_data_and_no_organiser_close_of_a_stage():
    old = config_2023()
    old["stages"][0].update(closed=True, closed_at="2023-06-09T18:00:00+08:00", settled=True)
    old["cases"] = [{"id": "c1"}]
    old["state"] = "finished"
    new = copy_for_next_year(old, "n")
    assert "cases" not in new and new["state"] == "draft"
    assert set(new["stages"][0]) == {"id", "name", "opens_at", "closes_at"}


def test_a_copy_keeps_the_beijing_wall_clock_whatever_offset_the_source_wrote():
    old = config_2023()
    old["stages"][0]["opens_at"] = "2023-05-18T16:00:00+00:00"        # 2023-05-19 00:00 in Beijing
    old["stages"][0]["closes_at"] = "2023-06-09T23:59:59"             # naive: Beijing time
    new = copy_for_next_year(old, "n")
    assert new["stages"][0]["opens_at"] == "2024-05-19T00:00:00+08:00"
    assert new["stages"][0]["closes_at"] == "2024-06-09T23:59:59+08:00"


def leap_2024() -> dict:
    """A 2024 competition whose windows touch 29 February."""
    d = copy_for_next_year(config_2023(), "leap-2024")
    times = [("2024-02-01T00:00:00", "2024-02-28T23:59:59"), ("2024-02-29T00:00:00", "2024-02-29T12:00:00"),
             ("2024-02-29T12:00:01", "2024-02-29T23:59:59"), ("2024-03-01T00:00:00", "2024-03-10T23:59:59"),
             ("2024-03-11T00:00:00", "2024-03-31T23:59:59")]
    for stage, (opens, closes) in zip(d["stages"], times):
        stage["opens_at"], stage["closes_at"] = opens + "+08:00", closes + "+08:00"
    d["honors"]["reference_date"] = "2024-02-29"
    assert validate(d) == []
    return d


def test_29_february_becomes_1_march_for_an_opening_and_28_february_for_a_closing_or_a_date():
    new = copy_for_next_year(leap_2024(), "leap-2025")
    assert [(s["opens_at"][:19], s["closes_at"][:19]) for s in new["stages"]] == [
        ("2025-02-01T00:00:00", "2025-02-28T23:59:59"), ("2025-03-01T00:00:00", "2025-02-28T12:00:00"),
        ("2025-03-01T12:00:01", "2025-02-28T23:59:59"), ("2025-03-01T00:00:00", "2025-03-10T23:59:59"),
        ("2025-03-11T00:00:00", "2025-03-31T23:59:59")]
    assert new["honors"]["reference_date"] == "2025-02-28"
    competition_from_config(new)
    # windows lying wholly on a 29 February that the new year lacks cannot keep their times: validate says so
    assert {e.code for e in validate(new)} <= {"window_order", "window_overlap"} and validate(new)
    again = copy_for_next_year(leap_2024(), "leap-2028", years=4)          # 2028 has a 29 February
    assert again["stages"][1]["opens_at"] == "2028-02-29T00:00:00+08:00"
    assert again["honors"]["reference_date"] == "2028-02-29" and validate(again) == []


def with_windows(definition: dict, times: list[tuple[str, str]]) -> dict:
    for stage, (opens, closes) in zip(definition["stages"], times):
        stage["opens_at"], stage["closes_at"] = opens + "+08:00", closes + "+08:00"
    return definition


def test_a_window_touching_29_february_keeps_its_gap_before_the_next():
    opening_on_29 = with_windows(leap_2024(), [
        ("2024-02-01T00:00:00", "2024-02-28T23:59:59"), ("2024-02-29T00:00:00", "2024-03-05T23:59:59"),
        ("2024-03-06T00:00:00", "2024-03-07T23:59:59"), ("2024-03-08T00:00:00", "2024-03-10T23:59:59"),
        ("2024-03-11T00:00:00", "2024-03-31T23:59:59")])
    assert validate(opening_on_29) == []
    new = copy_for_next_year(opening_on_29, "n")
    assert new["stages"][1]["opens_at"] == "2025-03-01T00:00:00+08:00" and validate(new) == []
    closing_on_29 = with_windows(leap_2024(), [
        ("2024-02-01T00:00:00", "2024-02-29T23:59:59"), ("2024-03-01T00:00:00", "2024-03-05T23:59:59"),
        ("2024-03-06T00:00:00", "2024-03-07T23:59:59"), ("2024-03-08T00:00:00", "2024-03-10T23:59:59"),
        ("2024-03-11T00:00:00", "2024-03-31T23:59:59")])
    new = copy_for_next_year(closing_on_29, "n")
    assert (new["stages"][0]["closes_at"], new["stages"][1]["opens_at"]) == (
        "2025-02-28T23:59:59+08:00", "2025-03-01T00:00:00+08:00")
    assert validate(new) == []


def test_shift_time_keeps_the_wall_clock():
    assert shift_time(at("2023-06-09T23:59:59"), 1, opening=False) == at("2024-06-09T23:59:59")
    assert shift_time(at("2024-02-29T08:00:00"), 1, opening=True) == at("2025-03-01T08:00:00")
    assert shift_time(at("2024-02-29T08:00:00"), 1, opening=False) == at("2025-02-28T08:00:00")


# -- 新建 ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("year", [2024, 2028, 2031])
def test_a_blank_competition_is_a_valid_draft_in_its_year(year):
    d = blank_competition(f"test-{year}", f"{year}年测试竞赛", year)
    assert validate(d) == []
    comp = competition_from_config(d)
    assert comp.id == f"test-{year}" and comp.name == f"{year}年测试竞赛" and state_of(d) is DRAFT
    assert len(comp.categories) == 1 and sum(k.max for k in comp.categories[0].criteria) == 100
    assert tuple(w.id for w in comp.default_windows) == STAGE_ORDER
    assert [w.name for w in comp.default_windows] == [STAGE_NAMES[s] for s in STAGE_ORDER]
    assert all(w.opens_at.year == year and w.closes_at.year == year for w in comp.default_windows)
    assert all(a.closes_at < b.opens_at for a, b in zip(comp.default_windows, comp.default_windows[1:]))
    assert d["honors"]["reference_date"].startswith(str(year))
    # what only the organisers can say is left to fill in before it starts
    assert codes(start_errors(d)) == {("theme", "required_field"), ("hosts", "required_field"),
                                      ("contacts", "required_field")}


def test_the_2023_definition_is_valid_and_ready_to_start_and_reads_as_running():
    assert validate(config_2023()) == [] and start_errors(config_2023()) == []
    assert state_of(config_2023()) is RUNNING
    assert [s.chinese_name for s in CompetitionState] == ["草稿", "进行中", "已结束"]


# -- validate -------------------------------------------------------------------------------------------

def errors_of(change) -> set[tuple[str, str]]:
    d = config_2023()
    change(d)
    errors = validate(d)
    assert all(CJK.search(e.message) for e in errors), errors
    return codes(errors)


def test_required_fields_are_named():
    def drop(d):
        for key in ("id", "name", "theme", "hosts", "categories", "stages", "limits", "quotas", "honors"):
            del d[key]
    assert errors_of(drop) == {(k, "required_field") for k in (
        "id", "name", "theme", "hosts", "categories", "stages", "limits", "quotas", "honors")}
    assert errors_of(lambda d: d.update(name="")) == {("name", "required_field")}
    assert errors_of(lambda d: d["limits"].pop("max_points")) == {("limits.max_points", "required_field")}
    assert errors_of(lambda d: d["quotas"].clear()) == {("quotas.advance_per_category", "required_field")}
    assert errors_of(lambda d: d["honors"].pop("reference_date")) == {("honors.reference_date", "required_field")}
    assert errors_of(lambda d: d["categories"][1]["criteria"][0].pop("max")) == {
        ("categories[1].criteria[0].max", "required_field")}
    assert errors_of(lambda d: d["stages"][2].pop("opens_at")) == {("stages.coaching.opens_at", "required_field")}
    assert errors_of(lambda d: d.update(categories=[])) == {("categories", "required_field")}
    assert validate("nope") == [FieldError("", "invalid_field", "竞赛设置应为一个对象")]  # type: ignore[arg-type]


def test_texts_have_no_hidden_characters_or_surrounding_blanks():
    assert errors_of(lambda d: d.update(name=" 竞赛")) == {("name", "invalid_field")}
    assert errors_of(lambda d: d.update(theme="主题\u202e")) == {("theme", "invalid_field")}
    assert errors_of(lambda d: d["hosts"].append(5)) == {("hosts[4]", "invalid_field")}
    assert errors_of(lambda d: d["hosts"].append("深圳市总工会")) == {("hosts[4]", "duplicate_name")}
    assert errors_of(lambda d: d["contacts"][0].update(phone="打电话")) == {("contacts[0].phone", "invalid_field")}
    assert errors_of(lambda d: d["contacts"][1].pop("name")) == {("contacts[1].name", "required_field")}
    assert errors_of(lambda d: d.update(name="长" * 201)) == {("name", "invalid_field")}
    assert errors_of(lambda d: d.update(id="Shenzhen 2024")) == {("id", "invalid_field")}
    assert errors_of(lambda d: d.update(timezone="UTC")) == {("timezone", "invalid_field")}
    assert errors_of(lambda d: d.update(state="archived")) == {("state", "invalid_field")}


@pytest.mark.parametrize("value", [0, -10, 30.5, "30", True, None])
def test_a_criterion_maximum_is_a_positive_integer(value):
    found = errors_of(lambda d: d["categories"][0]["criteria"][2].update(max=value))
    code = "required_field" if value is None else "invalid_field"
    assert found == {("categories[0].criteria[2].max", code)}


def test_a_categorys_full_score_is_its_maxima_unless_it_fixes_a_total():
    def forty_five(d):
        d["categories"][2]["criteria"][1]["max"] = 45
    assert errors_of(forty_five) == set()                      # 105 in all: the full score follows the maxima

    def fixed_at_100(d):
        d["categories"][2]["total"] = 100
        forty_five(d)
    assert errors_of(fixed_at_100) == {("categories[2].criteria", "criteria_sum")}
    d = config_2023()
    fixed_at_100(d)
    assert "党建赋能" in validate(d)[0].message and "100" in validate(d)[0].message and "105" in validate(d)[0].message

    def out_of_fifty(d):
        d["categories"][0]["total"] = 50
        d["categories"][0]["criteria"] = [{"id": "a", "name": "甲", "max": 20}, {"id": "b", "name": "乙", "max": 30}]
    assert errors_of(out_of_fifty) == {("ranking.tie_break_criterion", "invalid_field")}     # no effectiveness
    assert errors_of(lambda d: d["categories"][0].update(total=0)) == {("categories[0].total", "invalid_field")}
    assert errors_of(lambda d: d["categories"][0].update(criteria=[])) == {
        ("categories[0].criteria", "required_field"), ("ranking.tie_break_criterion", "invalid_field")}


def test_ids_are_unique_where_they_name_something():
    assert errors_of(lambda d: d["categories"][1].update(id="development")) == {("categories[1].id", "duplicate_id")}
    assert errors_of(lambda d: d["categories"][1].update(name="发展提质")) == {("categories[1].name", "duplicate_name")}
    assert errors_of(lambda d: d["categories"][0]["criteria"][1].update(id="foresight")) == {
        ("categories[0].criteria[1].id", "duplicate_id")}
    assert errors_of(lambda d: d["categories"][0].update(id="发展")) == {("categories[0].id", "invalid_field")}
    assert errors_of(lambda d: d["prizes"][2].update(id="first")) == {("prizes[2].id", "duplicate_id")}
    assert errors_of(lambda d: d["honors"]["rules"][2].update(id="labour_medal")) == {
        ("honors.rules[2].id", "duplicate_id"), ("honors.priority[2]", "invalid_field")}
    # the same criterion id in two categories is the 2023 config's own (effectiveness)
    assert errors_of(lambda d: None) == set()


def test_the_stages_are_the_notices_five_in_order():
    assert errors_of(lambda d: d["stages"].reverse()) >= {("stages", "invalid_field")}
    assert errors_of(lambda d: d["stages"].pop()) == {("stages", "invalid_field")}
    assert errors_of(lambda d: d["stages"][1].update(name="")) == {("stages.text_review.name", "required_field")}
    assert errors_of(lambda d: d["stages"][1].update(opens_at="6月10日")) == {
        ("stages.text_review.opens_at", "invalid_field")}


def test_stage_windows_open_before_they_close_and_after_the_one_before():
    def backwards(d):
        d["stages"][1]["closes_at"] = "2023-06-10T00:00:00+08:00"      # = its opening
    assert errors_of(backwards) == {("stages.text_review.closes_at", "window_order")}

    def overlapping(d):
        d["stages"][2]["opens_at"] = "2023-06-16T23:59:59+08:00"       # = text review's closing
    assert errors_of(overlapping) == {("stages.coaching.opens_at", "window_overlap")}
    d = config_2023()
    overlapping(d)
    assert "专家辅导的开始时间必须晚于文本评审的截止时间" in validate(d)[0].message


def test_the_advance_quota_is_a_positive_integer():
    for bad in (0, -1, "15", 1.5, True):
        assert ("quotas.advance_per_category", "invalid_field") in errors_of(
            lambda d: d["quotas"].update(advance_per_category=bad))
    for fewer in (1, 2, 12):            # a short competition: the prize bands and honor ranks past it stay valid
        assert errors_of(lambda d: d["quotas"].update(advance_per_category=fewer)) == set()
    d = config_2023()
    d["ranking"]["text_review"]["advance_quota"] = 0
    assert codes(validate(d)) == {("ranking.text_review.advance_quota", "invalid_field")}


def test_prize_bands_are_in_order_and_do_not_overlap():
    assert errors_of(lambda d: d["prizes"][1].update(ranks=[5, 10])) == {("prizes[1].ranks", "prize_overlap")}
    assert errors_of(lambda d: d["prizes"][2].update(ranks=[11, 16])) == set()     # reached by a tie at the cut
    for bad in ([10, 6], [0, 5], [1], "1-5", [1, "5"]):
        assert errors_of(lambda d: d["prizes"][1].update(ranks=bad)) == {("prizes[1].ranks", "invalid_field")}
    assert errors_of(lambda d: d.update(prizes=[])) == set()


def test_honors_have_a_sane_age_limit_and_reference_date():
    for bad in (0, 200, 35.5, "35", 10):
        assert errors_of(lambda d: d["honors"]["rules"][1].update(max_age=bad)) == {
            ("honors.rules[1].max_age", "invalid_field")}
    assert errors_of(lambda d: d["honors"]["rules"][1].update(max_age=None)) == set()
    for bad in ("2023-5-4", "2023-02-30", "明天", 20230504):
        assert errors_of(lambda d: d["honors"].update(reference_date=bad)) == {
            ("honors.reference_date", "invalid_field")}
    assert errors_of(lambda d: d["honors"].update(reference_date="2022-05-18")) == {
        ("honors.reference_date", "date_out_of_range")}
    assert errors_of(lambda d: d["honors"].update(reference_date="2022-05-19")) == set()
    assert errors_of(lambda d: d["honors"].update(reference_date="2023-07-11")) == {
        ("honors.reference_date", "date_out_of_range")}
    assert errors_of(lambda d: d["honors"]["rules"][0].update(max_rank=16)) == set()
    assert errors_of(lambda d: d["honors"]["rules"][0].update(max_rank=0)) == {
        ("honors.rules[0].max_rank", "invalid_field")}
    assert errors_of(lambda d: d["honors"]["rules"][2].update(genders=["woman"])) == {
        ("honors.rules[2].genders", "invalid_field")}
    assert errors_of(lambda d: d["honors"]["rules"][0].update(rank_levels=[])) == {
        ("honors.rules[0].rank_levels", "invalid_field")}
    assert errors_of(lambda d: d["honors"]["priority"].append("labour_medal")) == {
        ("honors.priority[3]", "duplicate_id")}


def test_form_attachment_and_live_final_limits_are_positive():
    assert errors_of(lambda d: d["limits"].update(max_chars=0, max_points=-3)) == {
        ("limits.max_chars", "invalid_field"), ("limits.max_points", "invalid_field")}
    assert errors_of(lambda d: d["presentation"]["max_mb"].update(exe=10, mp4=0)) == {
        ("presentation.max_mb.exe", "invalid_field"), ("presentation.max_mb.mp4", "invalid_field")}
    assert errors_of(lambda d: d["presentation"].update(max_mb={})) == {("presentation.max_mb", "invalid_field")}
    assert errors_of(lambda d: d["final_live"].update(slot_minutes=5)) == {("final_live.slot_minutes", "invalid_field")}
    assert errors_of(lambda d: d["final_live"].update(warning_seconds=0)) == {
        ("final_live.warning_seconds", "invalid_field")}


def test_the_ranking_rules_name_a_method_and_a_criterion_every_category_has():
    assert errors_of(lambda d: d["ranking"]["final"].update(method="median")) == {
        ("ranking.final.method", "invalid_field")}
    assert errors_of(lambda d: d["ranking"].update(tie_break_criterion="foresight")) == {
        ("ranking.tie_break_criterion", "invalid_field")}
    assert errors_of(lambda d: d["ranking"]["final"].update(trim_min_scores=0)) == {
        ("ranking.final.trim_min_scores", "invalid_field")}


def test_every_error_is_collected_not_only_the_first():
    d = config_2023()
    d["name"] = ""
    d["categories"][0]["criteria"][2]["max"] = 0
    d["categories"][1]["total"] = 100
    d["categories"][1]["criteria"][0]["max"] = 50
    d["stages"][1]["closes_at"] = "2023-06-01T00:00:00+08:00"
    d["quotas"]["advance_per_category"] = 0
    d["prizes"][1]["ranks"] = [4, 10]
    d["honors"]["rules"][1]["max_age"] = 300
    d["limits"]["max_chars"] = -1
    assert codes(validate(d)) == {
        ("name", "required_field"), ("categories[0].criteria[2].max", "invalid_field"),
        ("categories[1].criteria", "criteria_sum"), ("stages.text_review.closes_at", "window_order"),
        ("quotas.advance_per_category", "invalid_field"), ("prizes[1].ranks", "prize_overlap"),
        ("honors.rules[1].max_age", "invalid_field"), ("limits.max_chars", "invalid_field")}
    fields = as_fields(validate(d))
    assert fields["categories[1].criteria"] == "类别“服务增效”各项评分细则的满分合计应为 100（现为 120）"
    assert as_fields([FieldError("a", "x", "一"), FieldError("a", "y", "二")]) == {"a": "一；二"}


# -- paths and merging -----------------------------------------------------------------------------------

def test_paths_read_and_write_in_the_jsons_keys():
    assert parse_path("categories[0].criteria[2].max") == ["categories", 0, "criteria", 2, "max"]
    assert parse_path("stages.text_review.closes_at") == ["stages", "text_review", "closes_at"]
    assert format_path(["categories", 0, "criteria", 2, "max"]) == "categories[0].criteria[2].max"
    for bad in ("", "a..b", "a[x]"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_changes_merge_by_path_by_nested_dict_by_index_or_by_id():
    d = config_2023()
    by_path, _ = merge(d, {"stages.coaching.closes_at": "2023-06-24T12:00:00+08:00",
                           "categories[0].criteria[2].max": 41, "limits.max_chars": 3500})
    nested, _ = merge(d, {"stages": {"coaching": {"closes_at": "2023-06-24T12:00:00+08:00"}},
                          "categories": {"0": {"criteria": {"effectiveness": {"max": 41}}}},
                          "limits": {"max_chars": 3500}})
    assert by_path == nested and by_path["stages"][2]["closes_at"] == "2023-06-24T12:00:00+08:00"
    assert by_path["categories"][0]["criteria"][2]["max"] == 41 and by_path["limits"] == {"max_chars": 3500,
                                                                                          "max_points": 3}
    assert d == config_2023()
    appended, errors = merge(d, {"prizes[3]": {"id": "fourth", "name": "优秀奖", "ranks": [16, 20]}})
    assert errors == [] and appended["prizes"][3]["id"] == "fourth"
    replaced, _ = merge(d, {"hosts": ["甲单位"]})
    assert replaced["hosts"] == ["甲单位"]
    _, errors = merge(d, {"categories[7].name": "x", "stages.semifinal.opens_at": "x", "name[0]": "x",
                          "prizes[9]": {}})
    assert codes(errors) == {("categories[7].name", "unknown_field"), ("stages.semifinal.opens_at", "unknown_field"),
                             ("name[0]", "unknown_field"), ("prizes[9]", "unknown_field")}


def test_changed_paths_are_as_deep_as_the_shapes_agree():
    d = config_2023()
    after = copy.deepcopy(d)
    after["categories"][1]["criteria"][0]["max"] = 35
    after["categories"][1]["criteria"][1]["max"] = 25
    after["stages"][3]["closes_at"] = "2023-07-11T12:00:00+08:00"
    after["prizes"].append({"id": "fourth", "name": "优秀奖", "ranks": [16, 20]})
    after["honors"]["rules"][1]["max_age"] = 40
    assert changed_paths(d, after) == [
        "categories[1].criteria[0].max", "categories[1].criteria[1].max", "stages.final.closes_at", "prizes",
        "honors.rules[1].max_age"]
    assert changed_paths(d, copy.deepcopy(d)) == []
    assert changed_paths({"a": None}, {}) == [] and changed_paths({"a": 1}, {"a": True}) == ["a"]


# -- edit: the locks -------------------------------------------------------------------------------------

def test_progress_from_the_windows_and_now():
    p = progress_at(TEXT_REVIEW_OPEN)
    assert p.opened == {S.SUBMISSION, S.TEXT_REVIEW} and p.closed == {S.SUBMISSION}
    assert progress_at(BEFORE_START).opened == frozenset()
    assert progress_at(ALL_CLOSED).closed == set(STAGE_ORDER)
    assert Progress(RUNNING, at(BEFORE_START), closed=frozenset({S.SUBMISSION})).opened == {S.SUBMISSION}
    assert Progress(RUNNING, at(BEFORE_START), scoring_started=frozenset({S.FINAL})).opened == {S.FINAL}


def test_an_ended_competition_is_read_only():
    d = {**config_2023(), "state": FINISHED.value}
    p = progress_at(ALL_CLOSED, state=FINISHED)
    assert refused(d, {"name": "新名称"}, p) == {("name", "read_only")}
    assert refused(d, {"contacts[0].phone": "88888888"}, p) == {("contacts[0].phone", "read_only")}
    assert refused(d, {"state": RUNNING.value}, p) == {("state", "invalid_transition")}
    assert accepted(d, {}, p) == d and accepted(d, {"name": d["name"]}, p) == d


def test_the_id_never_changes():
    draft = copy_for_next_year(config_2023(), "shenzhen-2024")
    assert refused(draft, {"id": "shenzhen-2025"}, Progress(DRAFT, at(BEFORE_START))) == {("id", "immutable_field")}
    assert refused(running(), {"id": "x"}, progress_at(BEFORE_START)) == {("id", "immutable_field")}


def test_a_draft_may_change_anything_else_whatever_the_clock_says():
    draft = copy_for_next_year(config_2023(), "shenzhen-2024")
    late = Progress(DRAFT, at("2025-01-01T00:00:00"))          # a draft's windows have not begun
    result = accepted(draft, {"categories[0].criteria": [{"id": "a", "name": "甲", "max": 50},
                                                         {"id": "effectiveness", "name": "实效性", "max": 50}],
                              "limits.max_chars": 5000,
                              "prizes[2].ranks": [11, 12], "quotas.advance_per_category": 12, "honors.rules[1].max_age": 40,
                              "stages.submission.opens_at": "2024-05-10T00:00:00+08:00",
                              "timezone": "Asia/Shanghai", "theme": "新主题"}, late)
    assert result["limits"]["max_chars"] == 5000 and result["categories"][0]["criteria"][0]["id"] == "a"
    assert result["stages"][0]["opens_at"] == "2024-05-10T00:00:00+08:00"


def test_names_theme_hosts_and_contacts_stay_editable_until_the_end():
    d = running()
    for moment in (BEFORE_START, SUBMISSION_OPEN, FINAL_OPEN, ALL_CLOSED):
        result = accepted(d, {"name": "2023年新名称", "theme": "新主题", "short_name": "简称",
                              "hosts[3]": "深圳市妇联", "contacts": [{"name": "李明", "phone": "0755-88000000"}],
                              "stages.final.name": "综合评选（现场）"}, progress_at(moment))
        assert result["theme"] == "新主题" and result["contacts"][0]["name"] == "李明"


def test_categories_and_form_limits_lock_when_submission_opens():
    d = running()
    new_category = {"id": "extra", "name": "新类别", "criteria": [{"id": "effectiveness", "name": "实效性", "max": 100}]}
    changes = {"categories[3]": new_category}
    assert accepted(d, changes, progress_at(BEFORE_START))["categories"][3]["id"] == "extra"
    assert accepted(d, {"limits.max_chars": 4000, "categories[0].name": "发展"}, progress_at(BEFORE_START))
    p = progress_at(SUBMISSION_OPEN)
    assert refused(d, changes, p) == {("categories", "locked_field")}
    assert refused(d, {"categories[0].name": "发展", "categories[1].id": "svc"}, p) == {
        ("categories[0].name", "locked_field"), ("categories[1].id", "locked_field")}
    assert refused(d, {"limits": {"max_chars": 4000, "max_points": 5}}, p) == {
        ("limits.max_chars", "locked_field"), ("limits.max_points", "locked_field")}
    _, errors = edit(d, changes, p)
    assert errors[0].message == "文本申报已开始，类别不能再修改"
    assert refused(d, {"unit_systems[1].name": "区直机关"}, p) == {("unit_systems[1].name", "locked_field")}


def test_criteria_and_maxima_lock_when_the_first_scoring_stage_opens():
    d = running()
    changes = {"categories[0].criteria[0].max": 25, "categories[0].criteria[2].max": 45}
    result = accepted(d, changes, progress_at(SUBMISSION_OPEN))          # submitted cases carry no scores yet
    assert [k["max"] for k in result["categories"][0]["criteria"]] == [25, 30, 45]
    p = progress_at(TEXT_REVIEW_OPEN)
    assert refused(d, changes, p) == {("categories[0].criteria[0].max", "locked_field"),
                                      ("categories[0].criteria[2].max", "locked_field")}
    _, errors = edit(d, changes, p)
    assert errors[0].message == "文本评审已开始，评分细则和满分不能再修改"
    assert refused(d, {"categories[0].criteria[0].name": "前瞻"}, p) == {
        ("categories[0].criteria[0].name", "locked_field")}
    assert refused(d, {"categories[2].criteria[3]": {"id": "new", "name": "新", "max": 1}}, p) >= {
        ("categories[2].criteria", "locked_field")}
    assert refused(d, {"ranking.tie_break_criterion": "effectiveness_x"}, p) >= {
        ("ranking.tie_break_criterion", "locked_field")}
    # scoring begun in any stage locks them too
    early = progress_at(SUBMISSION_OPEN, scoring=(S.FINAL,))
    assert refused(d, changes, early) == {("categories[0].criteria[0].max", "locked_field"),
                                          ("categories[0].criteria[2].max", "locked_field")}


def test_a_stages_ranking_rules_lock_when_it_opens():
    d = running()
    assert accepted(d, {"ranking.final.trim_min_scores": 7}, progress_at(COACHING_OPEN))
    assert refused(d, {"ranking.final.trim_min_scores": 7}, progress_at(FINAL_OPEN)) == {
        ("ranking.final.trim_min_scores", "locked_field")}
    assert refused(d, {"ranking.text_review.method": "mean"}, progress_at(TEXT_REVIEW_OPEN)) == {
        ("ranking.text_review.method", "locked_field")}


def test_a_window_moves_only_while_its_stage_has_not_opened():
    d = running()
    p = progress_at(SUBMISSION_OPEN)
    moved = accepted(d, {"stages.coaching": {"opens_at": "2023-06-18T00:00:00+08:00",
                                             "closes_at": "2023-06-22T23:59:59+08:00"}}, p)
    assert moved["stages"][2]["opens_at"] == "2023-06-18T00:00:00+08:00"
    assert refused(d, {"stages.submission.opens_at": "2023-05-20T00:00:00+08:00"}, p) == {
        ("stages.submission.opens_at", "locked_field")}
    # a pending window still keeps the notice's order
    assert refused(d, {"stages.text_review.opens_at": "2023-06-09T00:00:00+08:00"}, p) == {
        ("stages.text_review.opens_at", "window_overlap")}


def test_an_open_stages_closing_may_be_extended_never_into_the_past_or_before_its_opening():
    d = running()
    p = progress_at(SUBMISSION_OPEN)
    longer = accepted(d, {"stages.submission.closes_at": "2023-06-09T18:00:00+08:00"}, p)
    assert longer["stages"][0]["closes_at"] == "2023-06-09T18:00:00+08:00"      # earlier, yet still to come
    assert refused(d, {"stages.submission.closes_at": "2023-05-25T11:00:00+08:00"}, p) == {
        ("stages.submission.closes_at", "window_in_past")}
    assert refused(d, {"stages.submission.closes_at": "2023-05-18T00:00:00+08:00"}, p) == {
        ("stages.submission.closes_at", "window_in_past"), ("stages.submission.closes_at", "window_order")}
    # extended into the next stage's window: the next one must move too (it has not opened, so it may)
    assert refused(d, {"stages.submission.closes_at": "2023-06-12T23:59:59+08:00"}, p) == {
        ("stages.text_review.opens_at", "window_overlap")}
    both = accepted(d, {"stages.submission.closes_at": "2023-06-12T23:59:59+08:00",
                        "stages.text_review.opens_at": "2023-06-13T00:00:00+08:00"}, p)
    assert both["stages"][1]["opens_at"] == "2023-06-13T00:00:00+08:00"


def test_a_closed_stages_window_is_fixed():
    d = running()
    p = progress_at(TEXT_REVIEW_OPEN)
    assert refused(d, {"stages.submission.closes_at": "2023-06-09T23:00:00+08:00"}, p) == {
        ("stages.submission.closes_at", "locked_field")}
    closed_early = Progress(RUNNING, at(SUBMISSION_OPEN), closed=frozenset({S.SUBMISSION}))   # closed by hand
    assert refused(d, {"stages.submission.closes_at": "2023-06-01T23:00:00+08:00"}, closed_early) == {
        ("stages.submission.closes_at", "locked_field")}
    assert refused(d, {"stages": list(reversed(d["stages"]))}, p) >= {("stages", "locked_field")}


def test_the_advance_quota_locks_when_text_review_closes():
    d = running()
    assert accepted(d, {"quotas.advance_per_category": 15}, progress_at(TEXT_REVIEW_OPEN)) == d
    fewer = {"quotas.advance_per_category": 12, "prizes[1].ranks": [5, 8], "prizes[2].ranks": [9, 12],
             "prizes[0].ranks": [1, 4]}
    assert accepted(d, fewer, progress_at(TEXT_REVIEW_OPEN))["quotas"]["advance_per_category"] == 12
    assert accepted(d, {"quotas.advance_per_category": 3}, progress_at(TEXT_REVIEW_OPEN))["prizes"] == d["prizes"]
    assert refused(d, fewer, progress_at(COACHING_OPEN)) == {("quotas.advance_per_category", "locked_field")}
    _, errors = edit(d, fewer, progress_at(COACHING_OPEN))
    assert errors[0].message == "文本评审已结束，晋级名额不能再修改"


def test_an_error_already_there_is_not_blamed_on_an_unrelated_edit():
    d = running()
    d["categories"][0]["total"] = 100
    d["categories"][0]["criteria"][0]["max"] = 35            # 105 against a fixed 100, before this edit
    p = progress_at(SUBMISSION_OPEN)
    assert accepted(d, {"theme": "新主题"}, p)["theme"] == "新主题"
    assert refused(d, {"categories[0].criteria[1].max": 20}, p) == {("categories[0].criteria", "criteria_sum")}
    assert accepted(d, {"categories[0].criteria[1].max": 25}, p)["categories"][0]["criteria"][1]["max"] == 25


def test_prize_bands_and_honors_lock_when_the_final_closes():
    d = running()
    p = progress_at(FINAL_OPEN)
    assert accepted(d, {"prizes[0].name": "特等奖", "honors.rules[1].max_age": 40,
                        "honors.reference_date": "2023-05-01"}, p)
    p = progress_at(FINAL_CLOSED)
    assert refused(d, {"prizes[0].name": "特等奖", "honors.rules[1].max_age": 40,
                       "honors.reference_date": "2023-05-01"}, p) == {
        ("prizes[0].name", "locked_field"), ("honors.rules[1].max_age", "locked_field"),
        ("honors.reference_date", "locked_field")}
    _, errors = edit(d, {"honors.rules[1].max_age": 40}, p)
    assert errors[0].message == "综合评选已结束，荣誉规则不能再修改"


def test_the_other_parts_lock_when_what_they_govern_begins():
    d = running()
    assert accepted(d, {"presentation.max_mb.mp4": 800}, progress_at(TEXT_REVIEW_OPEN))
    assert refused(d, {"presentation.max_mb.mp4": 800}, progress_at(COACHING_OPEN)) == {
        ("presentation.max_mb.mp4", "locked_field")}
    assert accepted(d, {"final_live.presentation_minutes": 9}, progress_at(COACHING_OPEN))
    assert refused(d, {"final_live.presentation_minutes": 9}, progress_at(FINAL_OPEN)) == {
        ("final_live.presentation_minutes", "locked_field")}
    assert accepted(d, {"originality.threshold": 0.6}, progress_at(SUBMISSION_OPEN))
    assert refused(d, {"originality.threshold": 0.6}, progress_at(TEXT_REVIEW_OPEN)) == {
        ("originality.threshold", "locked_field")}
    assert refused(d, {"timezone": "Asia/Shanghai", "extra": 1}, progress_at(BEFORE_START)) == {
        ("extra", "locked_field")}
    assert accepted(d, {"local_demo_windows_days.final": 10, "presentation._doc": "说明"}, progress_at(FINAL_OPEN))


def test_every_refusal_of_one_edit_is_reported():
    d = running()
    p = progress_at(FINAL_CLOSED)
    found = refused(d, {"categories[0].name": "甲", "categories[0].criteria[0].max": 10, "limits.max_points": 4,
                        "stages.final.closes_at": "2023-07-20T00:00:00+08:00", "quotas.advance_per_category": 14,
                        "prizes[0].ranks": [1, 4], "honors.rules[0].max_rank": 2, "name": "新名称"}, p)
    assert found >= {("categories[0].name", "locked_field"), ("categories[0].criteria[0].max", "locked_field"),
                     ("limits.max_points", "locked_field"), ("stages.final.closes_at", "locked_field"),
                     ("quotas.advance_per_category", "locked_field"), ("prizes[0].ranks", "locked_field"),
                     ("honors.rules[0].max_rank", "locked_field")}
    assert "name" not in {f for f, _ in found}


def test_an_edit_that_breaks_the_definition_is_refused_by_field():
    d = running()
    p = progress_at(BEFORE_START)
    assert refused(d, {"categories[0].criteria[0].max": 0}, p) == {("categories[0].criteria[0].max", "invalid_field")}
    assert refused(d, {"name": ""}, p) == {("name", "required_field")}
    assert refused(d, {"nope[0]": 1}, p) == {("nope[0]", "unknown_field")}
    assert refused(d, "name=x", p) == {("", "invalid_field")}                         # type: ignore[arg-type]


# -- edit: the state moves -------------------------------------------------------------------------------

def ready_draft() -> dict:
    return copy_for_next_year(config_2023(), "shenzhen-2024")


def test_a_draft_starts_only_when_it_is_valid_and_complete():
    p = Progress(DRAFT, at("2024-01-01T00:00:00"))
    started = accepted(ready_draft(), {"state": "running"}, p)
    assert state_of(started) is RUNNING
    blank = blank_competition("new-2024", "2024年新竞赛", 2024)
    assert refused(blank, {"state": "running"}, p) == {
        ("theme", "required_field"), ("hosts", "required_field"), ("contacts", "required_field"),
        ("state", "invalid_transition")}
    filled = accepted(blank, {"state": "running", "theme": "主题", "hosts": ["主办单位"],
                              "contacts": [{"name": "王宇昕", "phone": "88134324"}]}, p)
    assert state_of(filled) is RUNNING
    broken = ready_draft()
    broken["categories"][0]["criteria"][0]["max"] = 0
    found = refused(broken, {"state": "running"}, p)
    assert found == {("categories[0].criteria[0].max", "invalid_field"), ("state", "invalid_transition")}
    _, errors = edit(broken, {"state": "running"}, p)
    assert next(e for e in errors if e.field == "state").message == "还有 1 处设置需要修改或填写，竞赛不能开始"


def test_a_competition_ends_only_after_its_last_stage_closed_and_never_goes_back():
    d = running()
    assert refused(d, {"state": "finished"}, progress_at(FINAL_CLOSED)) == {("state", "invalid_transition")}
    _, errors = edit(d, {"state": "finished"}, progress_at(FINAL_CLOSED))
    assert errors[0].message == "省赛准备阶段结束后，竞赛才能结束"
    ended = accepted(d, {"state": "finished"}, progress_at(ALL_CLOSED))
    assert state_of(ended) is FINISHED
    assert state_of(accepted(config_2023(), {"state": "finished"}, progress_at(ALL_CLOSED))) is FINISHED
    assert refused(d, {"state": "draft"}, progress_at(BEFORE_START)) == {("state", "invalid_transition")}
    assert refused(ready_draft(), {"state": "finished"}, Progress(DRAFT, at(ALL_CLOSED))) == {
        ("state", "invalid_transition")}
    assert refused(d, {"state": "paused"}, progress_at(BEFORE_START)) >= {("state", "invalid_field")}
    assert accepted(d, {"state": "running"}, progress_at(BEFORE_START)) == d


# -- purity -------------------------------------------------------------------------------------------------

def test_the_rules_read_no_clock_and_no_aws():
    source = Path(module.__file__).read_text(encoding="utf-8")
    for forbidden in ("boto", "pynamodb", ".now(", "time.time", "os.environ", "import time", "datetime.today",
                      "date.today", "chalicelib.store", "..store", "..services"):
        assert forbidden not in source, forbidden


def test_a_shifted_copy_is_not_a_day_off_anywhere():
    old = competition_from_config(config_2023()).default_windows
    new = competition_from_config(copy_for_next_year(config_2023(), "n")).default_windows
    for a, b in zip(old, new):
        assert (b.opens_at - a.opens_at) in (timedelta(days=365), timedelta(days=366))
        assert (b.opens_at.astimezone(CHINA).time(), b.closes_at.astimezone(CHINA).time()) == (
            a.opens_at.astimezone(CHINA).time(), a.closes_at.astimezone(CHINA).time())


@pytest.mark.parametrize("make", [lambda: blank_competition("blank-2024", "2024年新竞赛", 2024),
                                  lambda: copy_for_next_year(config_2023(), "shenzhen-2024")],
                         ids=["blank", "copy"])
def test_the_other_rules_read_a_new_definition_as_they_read_2023(make):
    from chalicelib.domain import fairness, honors, live_final, ranking
    d = make()
    comp = competition_from_config(d)
    assert ranking.from_config(d, S.TEXT_REVIEW).advance_quota == 15
    assert [b.last_rank for b in ranking.from_config(d, S.FINAL).prize_bands] == [5, 10, 15]
    assert fairness.band_edges_from_config(d) == (5, 10, 15)
    assert honors.settings_from_config(d).reference_date.year == 2024
    assert live_final.presentation_from_config(d).minutes == 8
    assert comp.presentation_limits() == {"pptx": 100, "ppt": 100, "pdf": 100, "mp4": 500}
    assert comp.demo_windows(datetime(2024, 3, 1).date())[0].opens_at.year == 2024


def test_every_code_the_rules_give_is_a_documented_stable_code():
    source = Path(module.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'(?:FieldError\([^,]+, |self\.add\([^,]+, |code = |else )"([a-z_]+)"', source))
    assert used == set(module.CODES)
    listed = module.__doc__.split("The codes are `CODES` (")[1].split(")")[0]
    assert re.findall(r"[a-z_]+", listed) == list(module.CODES)


def test_the_progress_says_the_state_the_locks_follow():
    d = ready_draft()                                        # written as a draft, but the services say it runs
    assert refused(d, {"limits.max_chars": 4000}, progress_at(SUBMISSION_OPEN)) == {("limits.max_chars", "locked_field")}
    assert refused(d, {"name": "x"}, progress_at(SUBMISSION_OPEN, state=FINISHED)) == {("name", "read_only")}
