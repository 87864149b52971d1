"""Fairness report: how much the outcome depends on the method and on the judges.

Per category: every case whose rank *band* differs between the ranking
methods (``mean``, ``trimmed_mean``, ``zscore``). Bands are split after each
edge rank: by default the ends of the prize bands and the advance cut, i.e.
1-5 | 6-10 | 11-15 | 16+ in 2023. A case that is 5th by one method and 6th by
another changes band; one that moves from 2nd to 4th does not.

Per judge, over all the cases in the report (points, computed exactly and
converted to float at the end):

* ``count``, ``mean`` and ``std_dev`` (population standard deviation) of the
  judge's totals;
* ``severity`` = the judge's mean minus the mean, over the same cases, of
  each case's panel mean (all judges' totals of that case, this judge
  included). Negative: stricter than the panel; positive: more lenient;
* ``agreement`` = Spearman's rank correlation (ties get average ranks; Pearson
  correlation of the ranks) between the judge's totals and the *leave-one-out*
  panel mean, the mean of the *other* judges' totals of each case. Leaving the
  judge out keeps a judge from agreeing with themself, which with five judges
  per case would inflate every figure. Only cases with at least one other
  score count (``agreement_cases``); fewer than 3 such cases, or no spread in
  either series, gives ``None``. (Kendall's W is not used: in text review each
  case has its own panel of five, so few cases are scored by all judges.)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from chalicelib.domain.ranking import (JudgeScore, Method, RankingSettings, TENTHS_PER_POINT,
                                       exact_sqrt, prize_bands_from_config, rank_category)

COMPARED_METHODS = (Method.MEAN, Method.TRIMMED_MEAN, Method.ZSCORE)


@dataclass(frozen=True, slots=True)
class BandChange:
    case_id: str
    ranks: dict[str, int]   # method -> rank
    bands: dict[str, str]   # method -> band label such as "6-10"


@dataclass(frozen=True, slots=True)
class CategoryFairness:
    category: str
    band_edges: tuple[int, ...]
    changes: list[BandChange]   # best first by the configured method


@dataclass(frozen=True, slots=True)
class JudgeStats:
    judge_id: str
    categories: tuple[str, ...]
    count: int
    mean: float
    std_dev: float
    severity: float
    agreement: float | None
    agreement_cases: int


@dataclass(frozen=True, slots=True)
class FairnessReport:
    categories: list[CategoryFairness]
    judges: list[JudgeStats]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fairness_report(case_ids_by_category: Mapping[str, Sequence[str]],
                    scores_by_case: Mapping[str, Sequence[JudgeScore]],
                    settings: RankingSettings,
                    band_edges: Sequence[int] | None = None) -> FairnessReport:
    """``band_edges`` default: the ends of ``settings.prize_bands`` and its
    advance quota; pass ``band_edges_from_config`` to get 5, 10, 15 in any stage."""
    edges = tuple(sorted(set(band_edges))) if band_edges is not None else _settings_edges(settings)
    categories = [category_fairness(category, ids, scores_by_case, settings, edges)
                  for category, ids in case_ids_by_category.items()]
    return FairnessReport(categories, judge_stats(case_ids_by_category, scores_by_case))


def band_edges_from_config(competition: Mapping[str, Any]) -> tuple[int, ...]:
    """Prize band ends plus the advance cut: (5, 10, 15) for 2023."""
    edges = {band.last_rank for band in prize_bands_from_config(competition)}
    quota = competition.get("quotas", {}).get("advance_per_category")
    return tuple(sorted(edges | ({quota} if quota is not None else set())))


def band_label(rank: int, edges: Sequence[int]) -> str:
    low = 1
    for edge in edges:
        if rank <= edge:
            return f"{low}-{edge}"
        low = edge + 1
    return f"{low}+"


# --------------------------------------------------------------------------- per category

def category_fairness(category: str, case_ids: Sequence[str],
                      scores_by_case: Mapping[str, Sequence[JudgeScore]],
                      settings: RankingSettings, edges: Sequence[int]) -> CategoryFairness:
    ranks: dict[str, dict[str, int]] = {cid: {} for cid in case_ids}
    for method in COMPARED_METHODS:
        for ranked in rank_category(scores_by_case, case_ids, method, settings.trim_min_scores,
                                    settings.tie_break_criterion):
            ranks[ranked.case_id][method.value] = ranked.rank
    changes = []
    for cid, by_method in ranks.items():
        bands = {m: band_label(r, edges) for m, r in by_method.items()}
        if len(set(bands.values())) > 1:
            changes.append(BandChange(cid, by_method, bands))
    changes.sort(key=lambda c: (c.ranks[settings.method.value], c.case_id))
    return CategoryFairness(category, tuple(edges), changes)


def _settings_edges(settings: RankingSettings) -> tuple[int, ...]:
    edges = {band.last_rank for band in settings.prize_bands}
    if settings.advance_quota is not None:
        edges.add(settings.advance_quota)
    return tuple(sorted(edges))


# --------------------------------------------------------------------------- per judge

def judge_stats(case_ids_by_category: Mapping[str, Sequence[str]],
                scores_by_case: Mapping[str, Sequence[JudgeScore]]) -> list[JudgeStats]:
    """Statistics of every judge who scored any of the cases; sorted by judge id."""
    category_of = {cid: category for category, ids in case_ids_by_category.items() for cid in ids}
    by_judge: dict[str, list[JudgeScore]] = {}
    for cid in category_of:
        for score in scores_by_case.get(cid, ()):
            by_judge.setdefault(score.judge_id, []).append(score)
    return [_one_judge(judge, scores, scores_by_case, category_of)
            for judge, scores in sorted(by_judge.items())]


def _one_judge(judge_id: str, scores: Sequence[JudgeScore],
               scores_by_case: Mapping[str, Sequence[JudgeScore]],
               category_of: Mapping[str, str]) -> JudgeStats:
    totals = [s.total for s in scores]
    mean = Fraction(sum(totals), len(totals))
    panel_means = [_mean(s.total for s in scores_by_case[score.case_id]) for score in scores]
    pairs = [(score.total, _mean(o.total for o in scores_by_case[score.case_id] if o.judge_id != judge_id))
             for score in scores if len(scores_by_case[score.case_id]) > 1]
    agreement = spearman([p[0] for p in pairs], [p[1] for p in pairs])
    return JudgeStats(
        judge_id=judge_id,
        categories=tuple(sorted({category_of[s.case_id] for s in scores})),
        count=len(totals),
        mean=_points(mean),
        std_dev=float(exact_sqrt(_variance(totals)) / TENTHS_PER_POINT),
        severity=_points(mean - sum(panel_means, Fraction(0)) / len(panel_means)),
        agreement=agreement,
        agreement_cases=len(pairs),
    )


def spearman(xs: Sequence[Fraction | int], ys: Sequence[Fraction | int]) -> float | None:
    """Spearman's rho with average ranks for ties; None below 3 pairs or with no spread."""
    if len(xs) != len(ys):
        raise ValueError("spearman needs two series of the same length")
    if len(xs) < 3:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mx, my = _mean(rx), _mean(ry)
    cov = sum(((a - mx) * (b - my) for a, b in zip(rx, ry)), Fraction(0))
    vx = sum(((a - mx) ** 2 for a in rx), Fraction(0))
    vy = sum(((b - my) ** 2 for b in ry), Fraction(0))
    if vx == 0 or vy == 0:
        return None
    return float(cov / Fraction(exact_sqrt(vx * vy)))


def average_ranks(values: Sequence[Fraction | int]) -> list[Fraction]:
    """1-based ranks, ascending; equal values share the mean of their positions."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks: list[Fraction] = [Fraction(0)] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = Fraction(start + end + 2, 2)
        start = end + 1
    return ranks


def _mean(values: Iterable[Fraction | int]) -> Fraction:
    items = list(values)
    return Fraction(sum(items, Fraction(0)), len(items))


def _variance(totals: Sequence[int]) -> Fraction:
    mean = Fraction(sum(totals), len(totals))
    return sum(((t - mean) ** 2 for t in totals), Fraction(0)) / len(totals)


def _points(tenths: Fraction) -> float:
    return float(tenths / TENTHS_PER_POINT)
