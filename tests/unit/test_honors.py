import json
from datetime import date
from pathlib import Path

from hypothesis import given, strategies as st

from chalicelib.domain.honors import (
    Consideration, HonorCandidate, HonorResult, HonorRule, HonorSettings, Nomination, ReasonCode,
    age_on, settings_from_config, solve_honors,
)

CONFIG = json.loads((Path(__file__).parents[2] / "chalicelib/competitions/shenzhen-2023.json").read_text("utf-8"))
SETTINGS = settings_from_config(CONFIG)
LABOUR, YOUTH, RED = "labour_medal", "youth_medal", "red_banner"


def candidate(case_id: str, rank: int, *, category: str = "development", name: str = "张三",
              mobile: str = "13800000000", gender: str = "male", rank_level: str = "above_section",
              birth_date: date | None = date(1970, 1, 1)) -> HonorCandidate:
    """By default a leader eligible for nothing: male, above section, 53 years old."""
    return HonorCandidate(case_id, category, rank, name, mobile, gender, rank_level, birth_date)


def considered_for(result: HonorResult, case_id: str) -> dict[str, tuple[bool, str]]:
    return {c.honor: (c.eligible, c.reason_code) for c in result.considered if c.case_id == case_id}


def test_settings_from_config_orders_rules_by_priority() -> None:
    assert SETTINGS == HonorSettings(
        date(2023, 5, 4),
        (HonorRule(LABOUR, "深圳市五一劳动奖章", 1, rank_levels=frozenset({"section_or_below"})),
         HonorRule(YOUTH, "深圳青年五四奖章", 5, max_age=35),
         HonorRule(RED, "深圳市三八红旗手", 5, genders=frozenset({"female"}),
                   rank_levels=frozenset({"section_or_below"}))),
        ("development", "service", "empowerment"),
    )


def test_age_counts_full_years_and_the_birthday_completes_a_year() -> None:
    reference = date(2023, 5, 4)
    assert [age_on(date(1988, 5, 4), reference), age_on(date(1988, 5, 5), reference),
            age_on(date(1987, 5, 4), reference), age_on(date(2000, 2, 29), date(2023, 2, 28)),
            age_on(date(2000, 2, 29), date(2023, 3, 1))] == [35, 34, 36, 22, 23]


def test_leader_exactly_35_on_the_reference_day_is_eligible_for_youth_medal() -> None:
    result = solve_honors([candidate("c1", 2, birth_date=date(1988, 5, 4))], SETTINGS)
    assert result.nominations == [Nomination(YOUTH, "c1", "张三", "development", 2)]
    assert Consideration("c1", YOUTH, True, "符合条件，已提名", ReasonCode.NOMINATED) in result.considered


def test_leader_turning_36_on_the_reference_day_is_not_eligible() -> None:
    result = solve_honors([candidate("c1", 2, birth_date=date(1987, 5, 4))], SETTINGS)
    assert result.nominations == []
    assert Consideration("c1", YOUTH, False, "截至2023年5月4日牵头人已满36周岁，超过35周岁",
                         ReasonCode.OVER_AGE) in result.considered


def test_missing_birth_date_is_not_eligible_for_youth_medal() -> None:
    result = solve_honors([candidate("c1", 2, birth_date=None)], SETTINGS)
    assert considered_for(result, "c1")[YOUTH] == (False, ReasonCode.MISSING_BIRTH_DATE)


def test_labour_medal_only_for_rank_one_section_or_below() -> None:
    result = solve_honors([candidate("first", 1, rank_level="section_or_below", name="甲"),
                           candidate("second", 2, rank_level="section_or_below", name="乙"),
                           candidate("senior", 1, category="service", name="丙")], SETTINGS)
    assert result.nominations == [Nomination(LABOUR, "first", "甲", "development", 1)]
    assert considered_for(result, "second")[LABOUR] == (False, ReasonCode.RANK_OUT_OF_RANGE)
    assert Consideration("senior", LABOUR, False, "牵头人职级为处级及以上，须为科级及以下",
                         ReasonCode.RANK_LEVEL_NOT_ALLOWED) in result.considered


def test_red_banner_needs_a_female_section_or_below_leader() -> None:
    result = solve_honors([candidate("woman", 3, gender="female", rank_level="section_or_below", name="甲"),
                           candidate("senior_woman", 4, gender="female", name="乙"),
                           candidate("man", 5, rank_level="section_or_below", name="丙")], SETTINGS)
    assert result.nominations == [Nomination(RED, "woman", "甲", "development", 3)]
    assert considered_for(result, "senior_woman")[RED] == (False, ReasonCode.RANK_LEVEL_NOT_ALLOWED)
    assert Consideration("man", RED, False, "牵头人性别为男，须为女", ReasonCode.GENDER_NOT_ALLOWED) \
        in result.considered


def test_reason_names_every_failed_rule_and_the_code_the_first() -> None:
    result = solve_honors([candidate("c1", 3)], SETTINGS)
    assert Consideration("c1", LABOUR, False, "名次为第3名，不在第1名之内；牵头人职级为处级及以上，须为科级及以下",
                         ReasonCode.RANK_OUT_OF_RANGE) in result.considered


def test_priority_labour_before_youth_before_red() -> None:
    everything = candidate("c1", 1, gender="female", rank_level="section_or_below", birth_date=date(1990, 1, 1))
    result = solve_honors([everything], SETTINGS)
    assert result.nominations == [Nomination(LABOUR, "c1", "张三", "development", 1)]
    assert result.considered == [
        Consideration("c1", LABOUR, True, "符合条件，已提名", ReasonCode.NOMINATED),
        Consideration("c1", YOUTH, True, "已提名深圳市五一劳动奖章", ReasonCode.ALREADY_NOMINATED),
        Consideration("c1", RED, True, "已提名深圳市五一劳动奖章", ReasonCode.ALREADY_NOMINATED),
    ]


def test_youth_before_red_when_labour_does_not_apply() -> None:
    young_woman = candidate("c1", 2, gender="female", rank_level="section_or_below", birth_date=date(1990, 1, 1))
    result = solve_honors([young_woman], SETTINGS)
    assert result.nominations == [Nomination(YOUTH, "c1", "张三", "development", 2)]
    assert considered_for(result, "c1")[RED] == (True, ReasonCode.ALREADY_NOMINATED)


def test_one_person_leading_two_eligible_cases_gets_one_honor_with_the_best_ranked() -> None:
    young = {"birth_date": date(1990, 1, 1), "name": " 李四", "mobile": "13900000000 "}
    result = solve_honors([candidate("dev", 3, category="development", **young),
                           candidate("svc", 2, category="service", name="李四", mobile="13900000000",
                                     birth_date=date(1990, 1, 1))], SETTINGS)
    assert result.nominations == [Nomination(YOUTH, "svc", "李四", "service", 2)]
    assert Consideration("dev", YOUTH, True, "已提名深圳青年五四奖章", ReasonCode.ALREADY_NOMINATED) \
        in result.considered


def test_equal_ranks_of_one_person_go_by_category_order() -> None:
    young = {"birth_date": date(1990, 1, 1)}
    result = solve_honors([candidate("emp", 2, category="empowerment", **young),
                           candidate("svc", 2, category="service", **young)], SETTINGS)
    assert [n.case_id for n in result.nominations] == ["svc"]


def test_same_name_with_another_mobile_is_another_person() -> None:
    young = {"birth_date": date(1990, 1, 1)}
    result = solve_honors([candidate("a", 2, mobile="13800000001", **young),
                           candidate("b", 3, mobile="13800000002", **young)], SETTINGS)
    assert [n.case_id for n in result.nominations] == ["a", "b"]


def test_every_case_in_ranks_one_to_five_is_considered_once_per_honor() -> None:
    cases = [candidate(f"c{r}", r, name=f"人{r}") for r in range(1, 8)]
    result = solve_honors(cases, SETTINGS)
    assert [(c.case_id, c.honor) for c in result.considered] == [
        (f"c{r}", honor) for r in range(1, 6) for honor in (LABOUR, YOUTH, RED)]


def test_to_dict_has_the_contract_shape() -> None:
    result = solve_honors([candidate("c1", 1, rank_level="section_or_below")], SETTINGS).to_dict()
    assert result["nominations"] == [{"honor": LABOUR, "case_id": "c1", "leader_name": "张三",
                                      "category": "development", "rank": 1}]
    assert result["considered"][0] == {"case_id": "c1", "honor": LABOUR, "eligible": True,
                                       "reason": "符合条件，已提名", "reason_code": "nominated"}
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result


# --------------------------------------------------------------------------- properties

people = st.sampled_from([("王五", "13700000001"), ("王五", "13700000002"), ("赵六", "13700000003"),
                          ("钱七", "13700000004")])
candidates = st.lists(
    st.builds(lambda i, person, category, rank, gender, level, born: HonorCandidate(
                  f"c{i}", category, rank, person[0], person[1], gender, level, born),
              st.integers(0, 10**6), people, st.sampled_from(["development", "service", "empowerment"]),
              st.integers(1, 7), st.sampled_from(["female", "male"]),
              st.sampled_from(["section_or_below", "above_section"]),
              st.none() | st.dates(date(1980, 1, 1), date(1995, 12, 31))),
    max_size=12, unique_by=lambda c: c.case_id)


@given(candidates)
def test_never_two_honors_per_person(cases: list[HonorCandidate]) -> None:
    result = solve_honors(cases, SETTINGS)
    by_case = {c.case_id: c for c in cases}
    honored = [by_case[n.case_id].person for n in result.nominations]
    assert len(honored) == len(set(honored))


@given(candidates)
def test_every_person_with_an_eligible_case_gets_exactly_one_eligible_honor(cases: list[HonorCandidate]) -> None:
    result = solve_honors(cases, SETTINGS)
    by_case = {c.case_id: c for c in cases}
    eligible = {(c.case_id, c.honor) for c in result.considered if c.eligible}
    assert all((n.case_id, n.honor) in eligible for n in result.nominations)
    assert {by_case[n.case_id].person for n in result.nominations} == {by_case[cid].person for cid, _ in eligible}
