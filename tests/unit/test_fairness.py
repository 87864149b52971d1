import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from chalicelib.domain.fairness import (
    BandChange, CategoryFairness, JudgeStats, average_ranks, band_edges_from_config, band_label,
    fairness_report, judge_stats, spearman,
)
from chalicelib.domain.ranking import JudgeScore, RankingSettings, from_config

CONFIG = json.loads((Path(__file__).parents[2] / "chalicelib/competitions/shenzhen-2023.json").read_text("utf-8"))


def scored(case: str, **totals: int) -> list[JudgeScore]:
    """Scores of one case by judge id -> total (points); effectiveness fixed at 30."""
    return [JudgeScore(judge, case, {"foresight": (total - 30) * 10, "effectiveness": 300})
            for judge, total in totals.items()]


# c1: one lenient judge lifts the mean; the trimmed mean and the z-scores put c2 first.
OUTLIER = {"c1": scored("c1", j1=100, j2=60, j3=60, j4=60, j5=60),
           "c2": scored("c2", j1=65, j2=65, j3=65, j4=65, j5=65)}


def test_band_label_splits_after_each_edge() -> None:
    edges = (5, 10, 15)
    assert [band_label(r, edges) for r in (1, 5, 6, 10, 11, 15, 16, 40)] == [
        "1-5", "1-5", "6-10", "6-10", "11-15", "11-15", "16+", "16+"]
    assert band_label(3, ()) == "1+"


def test_band_edges_from_config_are_prize_ends_and_the_advance_cut() -> None:
    assert band_edges_from_config(CONFIG) == (5, 10, 15)


def test_cases_changing_band_between_methods_are_listed() -> None:
    report = fairness_report({"development": ["c1", "c2"]}, OUTLIER, RankingSettings(), band_edges=[1])
    assert report.categories == [CategoryFairness("development", (1,), [
        BandChange("c2", {"mean": 2, "trimmed_mean": 1, "zscore": 1},
                   {"mean": "2+", "trimmed_mean": "1-1", "zscore": "1-1"}),
        BandChange("c1", {"mean": 1, "trimmed_mean": 2, "zscore": 2},
                   {"mean": "1-1", "trimmed_mean": "2+", "zscore": "2+"}),
    ])]


def test_moves_within_a_band_are_not_listed() -> None:
    report = fairness_report({"development": ["c1", "c2"]}, OUTLIER, from_config(CONFIG, "final"))
    assert report.categories == [CategoryFairness("development", (5, 10, 15), [])]


def test_judge_count_mean_spread_and_severity() -> None:
    stats = judge_stats({"development": ["c1", "c2"]}, OUTLIER)
    # panel means: c1 68, c2 65 -> 66.5 over the two cases every judge scored
    assert stats[:2] == [JudgeStats("j1", ("development",), 2, 82.5, 17.5, 16.0, None, 2),
                         JudgeStats("j2", ("development",), 2, 62.5, 2.5, -4.0, None, 2)]
    assert [s.judge_id for s in stats] == ["j1", "j2", "j3", "j4", "j5"]


def test_agreement_is_spearman_with_the_other_judges_mean() -> None:
    scores = {f"c{i}": scored(f"c{i}", j1=a, j2=b, j3=c)
              for i, (a, b, c) in enumerate([(60, 62, 70), (70, 72, 68), (80, 82, 66), (90, 92, 64)])}
    agreement = {s.judge_id: s.agreement for s in judge_stats({"service": list(scores)}, scores)}
    # j1's others: 66, 70, 74, 78 (rising like j1); j3's others: 61, 71, 81, 91 (j3 falls)
    assert agreement == {"j1": 1.0, "j2": 1.0, "j3": -1.0}


def test_spearman_uses_average_ranks_for_ties() -> None:
    assert average_ranks([10, 20, 20, 30]) == [1, Fraction(5, 2), Fraction(5, 2), 4]
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / 22.5 ** 0.5, abs=1e-15)


def test_spearman_needs_three_pairs_and_some_spread() -> None:
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_report_to_dict_is_json_ready() -> None:
    report = fairness_report({"development": ["c1", "c2"]}, OUTLIER, RankingSettings(), band_edges=[1])
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == json.loads(json.dumps(data, ensure_ascii=False))
    assert data["judges"][0]["judge_id"] == "j1"


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=3, max_size=12))
def test_spearman_is_symmetric_and_bounded(pairs: list[tuple[int, int]]) -> None:
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    rho = spearman(xs, ys)
    assert rho == spearman(ys, xs)
    assert rho is None or -1 - 1e-12 <= rho <= 1 + 1e-12
