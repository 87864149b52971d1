import json
import random
from decimal import Context, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from chalicelib.domain.ranking import (
    JudgeScore, Method, PrizeBand, RankedCase, RankingConfigError, RankingSettings, from_config,
    rank_category, rank_from_record, ranking_inputs_digest, ranking_record, score_display,
)

CONFIG = json.loads((Path(__file__).parents[2] / "chalicelib/competitions/shenzhen-2023.json").read_text("utf-8"))
BANDS = (PrizeBand("first", 1, 5), PrizeBand("second", 6, 10), PrizeBand("third", 11, 15))


def score(judge: str, case: str, foresight: float, practicality: float, effectiveness: float) -> JudgeScore:
    """Criterion values in points, as a judge types them; stored in tenths."""
    tenths = {name: int(Decimal(str(value)) * 10)
              for name, value in (("foresight", foresight), ("practicality", practicality),
                                  ("effectiveness", effectiveness))}
    return JudgeScore(judge, case, tenths)


def totals(case: str, *points: float, effectiveness: float = 30) -> list[JudgeScore]:
    """Scores of one case with the given totals (points) and a fixed effectiveness."""
    return [score(f"j{i}", case, total - effectiveness, 0, effectiveness) for i, total in enumerate(points)]


def by_case(*score_lists: list[JudgeScore]) -> dict[str, list[JudgeScore]]:
    return {scores[0].case_id: scores for scores in score_lists}


def ranks(ranked: list[RankedCase]) -> list[tuple[str, int, bool]]:
    return [(r.case_id, r.rank, r.tie) for r in ranked]


# --------------------------------------------------------------------------- golden cases

def test_judge_score_total_is_sum_of_criteria_in_tenths() -> None:
    assert score("j1", "c1", 27.5, 28, 35.5).total == 910


def test_trimmed_mean_with_five_scores_drops_one_highest_and_one_lowest() -> None:
    scores = by_case(totals("c1", 80.5, 85, 90, 70, 95))
    [ranked] = rank_category(scores, ["c1"], "trimmed_mean")
    assert ranked == RankedCase("c1", 1, Fraction(2555, 30), Fraction(4205, 50), Fraction(30), 5,
                                False, None, None, False)
    assert score_display(ranked.aggregate) == 85.17


def test_trimmed_mean_with_four_scores_is_the_plain_mean() -> None:
    scores = by_case(totals("c1", 80, 85, 90, 70))
    [ranked] = rank_category(scores, ["c1"], "trimmed_mean")
    assert (ranked.aggregate, ranked.plain_mean) == (Fraction("81.25"), Fraction("81.25"))


def test_trim_min_scores_is_configurable() -> None:
    scores = by_case(totals("c1", 80, 85, 90, 70))
    [ranked] = rank_category(scores, ["c1"], "trimmed_mean", trim_min_scores=4)
    assert ranked.aggregate == Fraction("82.5")


def test_mean_method_never_trims() -> None:
    scores = by_case(totals("c1", 80.5, 85, 90, 70, 95))
    [ranked] = rank_category(scores, ["c1"], "mean")
    assert ranked.aggregate == Fraction("84.1")


def test_full_three_level_tie_shares_the_rank_and_the_next_rank_skips() -> None:
    distinct = [totals(f"c{i}", 99 - i) for i in range(1, 7)]
    # different scores, same aggregate (85), same plain mean (85), same effectiveness mean (30)
    tied_a = [score("j1", "t_a", 50, 0, 30), score("j2", "t_a", 60, 0, 30)]
    tied_b = [score("j1", "t_b", 53, 0, 32), score("j2", "t_b", 57, 0, 28)]
    last = totals("z", 70)
    ranked = rank_category(by_case(*distinct, tied_a, tied_b, last),
                           ["z", "t_b", "t_a", *(f"c{i}" for i in range(1, 7))], "trimmed_mean")
    assert ranks(ranked) == [("c1", 1, False), ("c2", 2, False), ("c3", 3, False), ("c4", 4, False),
                             ("c5", 5, False), ("c6", 6, False), ("t_a", 7, True), ("t_b", 7, True),
                             ("z", 9, False)]


def test_equal_aggregate_is_broken_by_the_plain_mean() -> None:
    scores = by_case(totals("low", 60, 80, 80, 80, 90), totals("high", 70, 80, 80, 80, 90))
    ranked = rank_category(scores, ["low", "high"], "trimmed_mean")
    assert [(r.case_id, r.rank, r.aggregate, r.plain_mean, r.tie) for r in ranked] == [
        ("high", 1, Fraction(80), Fraction(80), False),
        ("low", 2, Fraction(80), Fraction(78), False),
    ]


def test_equal_aggregate_and_plain_mean_is_broken_by_effectiveness() -> None:
    scores = by_case([score("j1", "a", 25, 25, 30)], [score("j1", "b", 20, 20, 40)])
    ranked = rank_category(scores, ["a", "b"], "trimmed_mean")
    assert [(r.case_id, r.rank, r.tie_break_mean, r.tie) for r in ranked] == [
        ("b", 1, Fraction(40), False), ("a", 2, Fraction(30), False)]


def test_tie_break_criterion_is_configurable() -> None:
    scores = by_case([score("j1", "a", 25, 25, 30)], [score("j1", "b", 20, 20, 40)])
    ranked = rank_category(scores, ["a", "b"], "mean", tie_break_criterion="foresight")
    assert [r.case_id for r in ranked] == ["a", "b"]


def test_tie_across_the_advance_cut_advances_every_tied_case() -> None:
    cases = [totals(f"c{i:02d}", 99 - i) for i in range(1, 15)]           # ranks 1..14
    cases += [totals("tie_a", 80), totals("tie_b", 80), totals("out", 79)]  # 15, 15, 17
    ranked = rank_category(by_case(*cases), [s[0].case_id for s in cases], "trimmed_mean", advance_quota=15)
    tail = [(r.case_id, r.rank, r.tie, r.advanced, r.cut_tie) for r in ranked[13:]]
    assert tail == [("c14", 14, False, True, False), ("tie_a", 15, True, True, True),
                    ("tie_b", 15, True, True, True), ("out", 17, False, False, False)]
    assert sum(r.advanced for r in ranked) == 16


def test_tie_inside_the_quota_is_not_a_cut_tie() -> None:
    cases = [totals("a", 90), totals("b", 90), totals("c", 80)]
    ranked = rank_category(by_case(*cases), ["a", "b", "c"], "mean", advance_quota=3)
    assert [(r.rank, r.tie, r.advanced, r.cut_tie) for r in ranked] == [
        (1, True, True, False), (1, True, True, False), (3, False, True, False)]


def test_prize_bands_with_a_shared_rank_at_five() -> None:
    cases = [totals(f"c{i}", 99 - i) for i in range(1, 5)]                 # ranks 1..4
    cases += [totals("five_a", 90), totals("five_b", 90)]                  # 5, 5
    cases += [totals(f"d{i}", 89 - i) for i in range(1, 11)]               # 7..16
    ranked = rank_category(by_case(*cases), [s[0].case_id for s in cases], "trimmed_mean", prize_bands=BANDS)
    assert [(r.case_id, r.rank, r.prize, r.cut_tie) for r in ranked] == [
        ("c1", 1, "first", False), ("c2", 2, "first", False), ("c3", 3, "first", False),
        ("c4", 4, "first", False), ("five_a", 5, "first", True), ("five_b", 5, "first", True),
        ("d1", 7, "second", False), ("d2", 8, "second", False), ("d3", 9, "second", False),
        ("d4", 10, "second", False), ("d5", 11, "third", False), ("d6", 12, "third", False),
        ("d7", 13, "third", False), ("d8", 14, "third", False), ("d9", 15, "third", False),
        ("d10", 16, None, False),
    ]
    assert all(r.advanced is None for r in ranked)


def test_unscored_cases_come_last_sharing_one_rank() -> None:
    scores = by_case(totals("a", 80), totals("b", 70))
    ranked = rank_category({**scores, "empty": []}, ["x2", "a", "empty", "b", "x1"], "trimmed_mean",
                           advance_quota=15)
    assert ranked[2:] == [RankedCase(cid, 3, None, None, None, 0, True, False, None, False)
                          for cid in ("empty", "x1", "x2")]
    assert [(r.case_id, r.rank, r.advanced) for r in ranked[:2]] == [("a", 1, True), ("b", 2, True)]


def test_a_single_unscored_case_is_not_a_tie() -> None:
    ranked = rank_category(by_case(totals("a", 80)), ["a", "b"], "mean")
    assert ranked[1] == RankedCase("b", 2, None, None, None, 0, False, None, None, False)


def test_scores_of_cases_outside_the_category_are_ignored() -> None:
    scores = by_case(totals("a", 80), totals("other", 99))
    assert [r.case_id for r in rank_category(scores, ["a"], "mean")] == ["a"]


def test_zscore_normalises_each_judge_before_averaging() -> None:
    # j1 is harsh and spread out, j2 lenient and narrow; their sigmas are exact (10 and 2 points)
    scores = {
        "c1": [score("j1", "c1", 20, 0, 30)], "c2": [score("j1", "c2", 40, 0, 30)],   # 50, 70
        "c3": [score("j2", "c3", 58, 0, 30)], "c4": [score("j2", "c4", 62, 0, 30)],   # 88, 92
    }
    ranked = rank_category(scores, ["c1", "c2", "c3", "c4"], "zscore")
    assert [(r.case_id, r.rank, r.aggregate, r.plain_mean) for r in ranked] == [
        ("c4", 1, Fraction(1), Fraction(92)), ("c2", 2, Fraction(1), Fraction(70)),
        ("c3", 3, Fraction(-1), Fraction(88)), ("c1", 4, Fraction(-1), Fraction(50)),
    ]


def test_zscore_square_root_is_taken_at_28_digits() -> None:
    scores = {f"c{i}": [score("j1", f"c{i}", total, 0, 0)] for i, total in enumerate((60, 70, 80))}
    ranked = rank_category(scores, list(scores), "zscore")
    sigma = Context(prec=28).sqrt(Context(prec=28).divide(Decimal(20000), Decimal(3)))  # tenths
    assert str(sigma) == "81.64965809277260327324280249"
    assert [r.aggregate for r in ranked] == [100 / Fraction(sigma), Fraction(0), -100 / Fraction(sigma)]
    assert [score_display(r.aggregate) for r in ranked] == [1.22, 0.0, -1.22]


def test_zscore_of_a_judge_without_spread_is_zero() -> None:
    scores = {"a": [score("j1", "a", 50, 0, 30)], "b": [score("j1", "b", 50, 0, 30)]}
    assert [r.aggregate for r in rank_category(scores, ["a", "b"], "zscore")] == [0, 0]


def test_unknown_method_is_refused() -> None:
    with pytest.raises(RankingConfigError):
        rank_category({}, [], "median")


def test_missing_tie_break_criterion_is_refused() -> None:
    scores = {"a": [JudgeScore("j1", "a", {"foresight": 100})]}
    with pytest.raises(RankingConfigError):
        rank_category(scores, ["a"], "mean")


@pytest.mark.parametrize("value, shown", [
    (Fraction("85.125"), 85.13), (Fraction("85.124"), 85.12), (Fraction(1, 3), 0.33),
    (Fraction(2, 3), 0.67), (Fraction("-1.225"), -1.23), (Fraction(100), 100.0), (None, None),
])
def test_score_display_rounds_half_up_to_two_decimals(value: Fraction | None, shown: float | None) -> None:
    assert score_display(value) == shown


# --------------------------------------------------------------------------- config and record

def test_from_config_text_review_applies_the_advance_quota() -> None:
    assert from_config(CONFIG, "text_review") == RankingSettings(Method.TRIMMED_MEAN, 5, "effectiveness", 15, ())


def test_from_config_final_applies_the_prize_bands() -> None:
    assert from_config(CONFIG, "final") == RankingSettings(Method.TRIMMED_MEAN, 5, "effectiveness", None, BANDS)


def test_from_config_stage_block_overrides() -> None:
    config = {**CONFIG, "ranking": {"text_review": {"method": "zscore", "advance_quota": 3,
                                                    "tie_break_criterion": "foresight"}}}
    assert from_config(config, "text_review") == RankingSettings(Method.ZSCORE, 5, "foresight", 3, ())


@pytest.mark.parametrize("ranking", [{"final": {"method": "median"}}, {}])
def test_from_config_refuses_unknown_method_or_stage(ranking: dict) -> None:
    with pytest.raises(RankingConfigError):
        from_config({**CONFIG, "ranking": ranking}, "final")


def test_ranking_record_re_derives_the_same_ranking() -> None:
    scores = by_case(totals("a", 80, 81, 82, 83, 84), totals("b", 80, 80, 80, 80, 80), totals("c", 70))
    settings = from_config(CONFIG, "final")
    record = json.loads(json.dumps(ranking_record(scores, ["a", "b", "c", "d"], settings)))
    assert rank_from_record(record) == settings.rank(scores, ["a", "b", "c", "d"])
    assert record["digest"] == ranking_inputs_digest(scores, ["d", "c", "b", "a"], settings)


def test_ranking_record_with_altered_scores_is_refused() -> None:
    record = ranking_record(by_case(totals("a", 80)), ["a"], RankingSettings())
    record["scores"][0][2]["effectiveness"] = 400
    with pytest.raises(RankingConfigError):
        rank_from_record(record)


def test_ranking_digest_changes_with_the_method() -> None:
    scores = by_case(totals("a", 80))
    assert (ranking_inputs_digest(scores, ["a"], RankingSettings(Method.MEAN))
            != ranking_inputs_digest(scores, ["a"], RankingSettings(Method.TRIMMED_MEAN)))


# --------------------------------------------------------------------------- properties

JUDGES = [f"j{i}" for i in range(8)]
criterion = st.integers(0, 3).map(lambda x: x * 50)   # a small domain, so that ties happen


@st.composite
def categories(draw: st.DrawFn) -> dict[str, list[JudgeScore]]:
    count = draw(st.integers(1, 10))
    scores: dict[str, list[JudgeScore]] = {}
    for i in range(count):
        case = f"c{i}"
        judges = draw(st.lists(st.sampled_from(JUDGES), unique=True, max_size=7))
        scores[case] = [JudgeScore(j, case, {"foresight": draw(criterion), "practicality": draw(criterion),
                                             "effectiveness": draw(criterion)}) for j in judges]
    return scores


methods = st.sampled_from(["mean", "trimmed_mean", "zscore"])


def rank_of(ranked: list[RankedCase]) -> dict[str, int]:
    return {r.case_id: r.rank for r in ranked}


@given(categories(), methods, st.randoms(use_true_random=False))
def test_ranking_is_independent_of_input_order(scores: dict, method: str, rnd: random.Random) -> None:
    ids = list(scores)
    shuffled_ids = rnd.sample(ids, len(ids))
    shuffled = {cid: rnd.sample(scores[cid], len(scores[cid])) for cid in rnd.sample(ids, len(ids))}
    assert rank_category(shuffled, shuffled_ids, method, advance_quota=3, prize_bands=BANDS) == \
        rank_category(scores, ids, method, advance_quota=3, prize_bands=BANDS)


@given(categories(), st.sampled_from(["mean", "trimmed_mean"]))
def test_aggregate_lies_within_the_judges_totals(scores: dict, method: str) -> None:
    for ranked in rank_category(scores, list(scores), method):
        case_totals = [Fraction(s.total, 10) for s in scores[ranked.case_id]]
        if case_totals:
            assert min(case_totals) <= ranked.aggregate <= max(case_totals)
        else:
            assert ranked.aggregate is None


@given(categories(), methods, st.data())
def test_swapping_two_cases_scores_swaps_their_ranks(scores: dict, method: str, data: st.DataObject) -> None:
    a, b = data.draw(st.sampled_from(list(scores))), data.draw(st.sampled_from(list(scores)))
    swapped = {**scores,
               a: [JudgeScore(s.judge_id, a, s.criteria) for s in scores[b]],
               b: [JudgeScore(s.judge_id, b, s.criteria) for s in scores[a]]}
    before, after = rank_of(rank_category(scores, list(scores), method)), \
        rank_of(rank_category(swapped, list(scores), method))
    assert after == {**before, a: before[b], b: before[a]}


@given(categories(), methods)
def test_rank_is_one_plus_the_number_of_strictly_better_cases(scores: dict, method: str) -> None:
    ranked = rank_category(scores, list(scores), method)

    def key(r: RankedCase) -> tuple:
        return (0,) if r.aggregate is None else (1, r.aggregate, r.plain_mean, r.tie_break_mean)

    for r in ranked:
        assert r.rank == 1 + sum(key(other) > key(r) for other in ranked)
        assert r.tie == any(other.rank == r.rank for other in ranked if other is not r)


@settings(max_examples=50)
@given(categories(), st.integers(1, 6))
def test_advanced_is_rank_within_quota_for_scored_cases(scores: dict, quota: int) -> None:
    for r in rank_category(scores, list(scores), "trimmed_mean", advance_quota=quota):
        assert r.advanced == (r.aggregate is not None and r.rank <= quota)
