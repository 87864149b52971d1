from hypothesis import given, strategies as st

from chalicelib.domain.organisation_award import (
    AwardWeights, UnitCase, UnitTally, suggest, tally_units,
)


def tally(unit: str, cases: int, submitted: int, advanced: int, first: int, second: int, third: int,
          score: int) -> UnitTally:
    return UnitTally(unit, cases, submitted, advanced, {"first": first, "second": second, "third": third}, score)


def test_tally_counts_each_stage_and_scores_with_the_default_weights() -> None:
    cases = [UnitCase("市司法局", "draft", None), UnitCase("市司法局", "withdrawn", None),
             UnitCase("市司法局", "not_advanced", None), UnitCase("市司法局", "awarded", "first"),
             UnitCase(" 市司法局 ", "awarded", "third"), UnitCase("市司法局", "not_awarded", None),
             UnitCase("市司法局", "advanced", None), UnitCase("市司法局", "submitted", None)]
    # submitted 6 * 1 + advanced 4 * 3 + first 10 + third 3
    assert tally_units(cases) == [tally("市司法局", 8, 6, 4, 1, 0, 1, 31)]


def test_cases_returned_or_rejected_at_review_count_as_cases_only() -> None:
    cases = [UnitCase("市司法局", "returned", None), UnitCase("市司法局", "rejected", None),
             UnitCase("市司法局", "submitted", None)]
    assert tally_units(cases) == [tally("市司法局", 3, 1, 0, 0, 0, 0, 1)]


def test_units_sort_by_score_then_prizes_then_name() -> None:
    cases = ([UnitCase("乙", "awarded", "first")]                                   # 1 + 3 + 10 = 14
             + [UnitCase("甲", "awarded", "second"), UnitCase("甲", "submitted", None),
                UnitCase("甲", "not_awarded", None)]                                   # 10 + 1 + 4 = 15
             + [UnitCase("丙", "awarded", "second")] + [UnitCase("丙", "not_awarded", None)] * 2  # 10 + 8 = 18
             + [UnitCase("丁", "awarded", "first"), UnitCase("丁", "not_advanced", None)])       # 14 + 1 = 15
    # 丁 and 甲 tie on score; 丁 has a first prize
    assert [(u.unit, u.score) for u in tally_units(cases)] == [("丙", 18), ("丁", 15), ("甲", 15), ("乙", 14)]


def test_equal_merit_is_ordered_by_unit_name() -> None:
    cases = [UnitCase("b", "submitted", None), UnitCase("a", "submitted", None)]
    assert [u.unit for u in tally_units(cases)] == ["a", "b"]


def test_weights_come_from_the_config() -> None:
    weights = AwardWeights.from_config({"organisation_award": {"weights": {"submitted": 2, "first": 20}}})
    assert weights == AwardWeights(submitted=2, advanced=3, first=20, second=6, third=3)
    assert tally_units([UnitCase("a", "awarded", "first")], weights)[0].score == 2 + 3 + 20
    assert AwardWeights.from_config({}) == AwardWeights()


def test_to_dict_has_the_contract_shape() -> None:
    assert tally_units([UnitCase("a", "awarded", "second")])[0].to_dict() == {
        "unit": "a", "cases": 1, "submitted": 1, "advanced": 1,
        "prizes": {"first": 0, "second": 1, "third": 0}, "score": 10}


def test_suggest_keeps_units_tied_with_the_last_place() -> None:
    units = [tally("a", 3, 3, 1, 1, 0, 0, 16), tally("b", 2, 2, 1, 0, 1, 0, 11),
             tally("c", 2, 2, 1, 0, 1, 0, 11), tally("d", 1, 1, 0, 0, 0, 0, 1)]
    assert [u.unit for u in suggest(units, 2)] == ["a", "b", "c"]
    assert [u.unit for u in suggest(units, 1)] == ["a"]
    assert [u.unit for u in suggest(units, 10)] == ["a", "b", "c", "d"]


def test_suggest_leaves_out_units_without_a_score() -> None:
    assert suggest([tally("a", 1, 0, 0, 0, 0, 0, 0)], 3) == []
    assert suggest([tally("a", 1, 1, 0, 0, 0, 0, 1)], 0) == []


statuses = st.sampled_from(["draft", "submitted", "withdrawn", "advanced", "not_advanced", "awarded", "not_awarded"])


def unit_case(unit: str, status: str, prize: str) -> UnitCase:
    return UnitCase(unit, status, prize if status == "awarded" else None)


unit_cases = st.lists(st.builds(unit_case, st.sampled_from(["a", "b", "c", "d"]), statuses,
                                st.sampled_from(["first", "second", "third"])))


@given(unit_cases)
def test_tallies_are_sorted_and_add_up(cases: list[UnitCase]) -> None:
    tallies = tally_units(cases)
    assert tallies == sorted(tallies, key=UnitTally.sort_key)
    assert sum(u.cases for u in tallies) == len(cases)
    assert all(u.cases >= u.submitted >= u.advanced >= sum(u.prizes.values()) for u in tallies)
