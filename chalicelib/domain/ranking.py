"""Ranking of one category's cases from the judges' scores (排名).

Units. Judges enter criterion values with at most one decimal place; they reach
this module as integers in *tenths* of a point (27.5 -> 275). A judge's score
for a case is the sum of its criteria. Every aggregate handed out
(``RankedCase.aggregate``, ``plain_mean``, ``tie_break_mean``) is an exact
``Fraction`` in *points*; nothing is ever summed in floating point.

Aggregation methods (``Method``, chosen by name in the competition config):

* ``mean``: the plain mean of the case's judge scores.
* ``trimmed_mean`` (the 2023 default, 去掉一个最高分和一个最低分): when the case
  has at least ``trim_min_scores`` scores, drop one highest and one lowest
  score and take the mean of the rest; with fewer scores, the plain mean.
* ``zscore``: each judge's scores are normalised against that judge's own
  scores over the cases being ranked (this category's ``case_ids`` only)::

      mu_j    = (1/n_j) * sum_c x_jc                     exact Fraction
      sigma_j = sqrt((1/n_j) * sum_c (x_jc - mu_j)^2)    population std dev
      z_jc    = (x_jc - mu_j) / sigma_j                  (0 when sigma_j == 0)
      aggregate_c = (1/k_c) * sum_j z_jc                 over the k_c judges of c

  Only the square root is inexact: it is taken with ``Decimal`` at 28
  significant digits (ROUND_HALF_EVEN), then converted exactly to a Fraction,
  so the result is the same on every machine. A z aggregate is unitless (not
  points); ``score_display`` rounds it all the same.

Order (the contract's Ranking rules): aggregate, higher first; ties are broken
by the plain mean of all the case's scores, then by the mean of the
tie-break criterion (``effectiveness``, 成效性/实效性): ``RankKey``. Cases still equal share
a rank and are flagged ``tie``; they are never separated by id or time, and
the next rank skips (7, 7, 9). Cases with no score at all come after every
scored case and share one rank; they never advance nor win a prize.

Outcome: with an advance quota, a case advances when its rank is within it,
so a tie across the cut advances the whole tied group; prizes go by rank
band (1-5 first, 6-10 second, 11-15 third in 2023), so a group tied at 5 all
win first prizes. Either way the group is flagged ``cut_tie``.

Speed. For ``mean`` and ``trimmed_mean`` the sort keys are plain integers:
every mean ``s / n`` is rescaled to ``s * (L // n)`` with ``L`` the least
common multiple of all the counts in play, which orders exactly like the
Fractions without building one per comparison.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Context, Decimal
from enum import Enum
from fractions import Fraction
from math import lcm
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from .competition import StageId

TENTHS_PER_POINT = 10
DEFAULT_TRIM_MIN_SCORES = 5
DEFAULT_TIE_BREAK_CRITERION = "effectiveness"
SQRT_CONTEXT = Context(prec=28)
_TOTAL = attrgetter("total")
_CRITERIA = attrgetter("criteria")


class Method(str, Enum):
    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"
    ZSCORE = "zscore"


class RankingConfigError(ValueError):
    """The competition config names an unknown method or a malformed setting."""


@dataclass(frozen=True, slots=True)
class JudgeScore:
    """One judge's score of one case; ``criteria`` values are in tenths.

    ``criteria`` is copied into a read-only mapping and ``total`` (the sum of
    the criteria) is computed once here: ranking reads it for every score, and
    a score never changes after it is made.
    """

    judge_id: str
    case_id: str
    criteria: Mapping[str, int]
    total: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        criteria = MappingProxyType(dict(self.criteria))
        object.__setattr__(self, "criteria", criteria)
        object.__setattr__(self, "total", sum(criteria.values()))


@dataclass(frozen=True, slots=True)
class PrizeBand:
    """A prize for ranks ``first_rank``..``last_rank`` inclusive."""

    prize: str
    first_rank: int
    last_rank: int


class RankedCase(NamedTuple):
    """One case's place in a category ranking.

    A NamedTuple rather than a frozen dataclass: equally immutable, but about
    three times cheaper to build, which matters with 10,000 cases per ranking.
    ``._asdict()`` gives a plain dict.
    """

    case_id: str
    rank: int
    aggregate: Fraction | None       # points (z units for ``zscore``); None when unscored
    plain_mean: Fraction | None      # points
    tie_break_mean: Fraction | None  # points, the tie-break criterion only
    scores_count: int
    tie: bool                # shares its rank with another case
    advanced: bool | None    # None when no advance quota applies
    prize: str | None
    cut_tie: bool            # its tied group straddles the advance cut or a prize boundary


@dataclass(frozen=True, slots=True)
class RankingSettings:
    method: Method = Method.TRIMMED_MEAN
    trim_min_scores: int = DEFAULT_TRIM_MIN_SCORES
    tie_break_criterion: str = DEFAULT_TIE_BREAK_CRITERION
    advance_quota: int | None = None
    prize_bands: tuple[PrizeBand, ...] = ()

    def rank(self, scores_by_case: Mapping[str, Sequence[JudgeScore]],
             case_ids: Iterable[str]) -> list[RankedCase]:
        return rank_category(scores_by_case, case_ids, self.method, self.trim_min_scores,
                             self.tie_break_criterion, self.advance_quota, self.prize_bands)

    def dropped(self, scores: Sequence[JudgeScore]) -> tuple[JudgeScore, JudgeScore] | None:
        """(highest, lowest): the two scores the aggregate leaves out, or None when it keeps them all.

        Among equal totals the first one in ``scores`` is the one shown as dropped; the aggregate is the
        same whichever of them it is.
        """
        trim_from = _trim_from(self.method, self.trim_min_scores)
        if trim_from is None or len(scores) < trim_from:
            return None
        highest = max(scores, key=_TOTAL)
        lowest = min((s for s in scores if s is not highest), key=_TOTAL)
        return highest, lowest


class RankKey(NamedTuple):
    """Where a scored case stands, as an ascending sort key (best case first): the contract's Ranking rules in
    order. Each part is negated; the means are rescaled to integers that order exactly like the Fractions
    (``_sorted_stats``), a zscore aggregate stays an exact Fraction. Cases with equal keys share a rank and are
    flagged ``tie``: nothing else (not the id, not a time) separates them."""
    aggregate: int | Fraction     # 1. the method's aggregate (mean, trimmed mean or z), higher first
    plain_mean: int               # 2. the plain mean of all the case's scores
    tie_break_mean: int           # 3. the mean of the tie-break criterion (effectiveness: 成效性 / 实效性)


class _Scored(NamedTuple):
    """One scored case while ranking. ``case_id`` after the key orders equal keys for output stability only.
    Sums are in tenths; ``agg_sum`` / ``agg_count`` are the scores the method keeps (all, or all but the
    highest and lowest); ``z`` is the zscore aggregate or None."""
    key: RankKey
    case_id: str
    scores_count: int
    total_sum: int
    tie_break_sum: int
    agg_sum: int
    agg_count: int
    z: Fraction | None


# --------------------------------------------------------------------------- ranking

def rank_category(scores_by_case: Mapping[str, Sequence[JudgeScore]],
                  case_ids: Iterable[str],
                  method: str,
                  trim_min_scores: int = DEFAULT_TRIM_MIN_SCORES,
                  tie_break_criterion: str = DEFAULT_TIE_BREAK_CRITERION,
                  advance_quota: int | None = None,
                  prize_bands: Sequence[PrizeBand] = ()) -> list[RankedCase]:
    """Rank every case of one category, best first.

    ``case_ids`` lists all the category's cases, scored or not; scores of cases
    outside it are ignored. Among cases of equal rank the output is ordered by
    case id purely for stability; the rank itself never depends on the id.
    """
    method = parse_method(method)
    ids = list(dict.fromkeys(case_ids))
    scored = [cid for cid in ids if scores_by_case.get(cid)]
    stats = _sorted_stats(scores_by_case, scored, method, trim_min_scores, tie_break_criterion)
    place = _Placer(advance_quota, prize_bands)
    fraction = _fraction_cache()
    ranked: list[RankedCase] = []
    for rank, size, group in _rank_groups(stats):
        tie = size > 1
        advanced, prize, cut_tie = place(rank, size)
        for case in group:
            per_point = case.scores_count * TENTHS_PER_POINT
            aggregate = case.z if case.z is not None else fraction(case.agg_sum, case.agg_count * TENTHS_PER_POINT)
            ranked.append(RankedCase(case.case_id, rank, aggregate, fraction(case.total_sum, per_point),
                                     fraction(case.tie_break_sum, per_point), case.scores_count, tie,
                                     advanced, prize, cut_tie))
    if len(scored) < len(ids):
        scored_ids = set(scored)
        ranked.extend(_unscored(sorted(c for c in ids if c not in scored_ids), len(scored) + 1, advance_quota))
    return ranked


def parse_method(method: str | Method) -> Method:
    try:
        return Method(method)
    except ValueError:
        known = ", ".join(m.value for m in Method)
        raise RankingConfigError(f"unknown ranking method {method!r} (known: {known})") from None


def _sorted_stats(scores_by_case: Mapping[str, Sequence[JudgeScore]], case_ids: list[str],
                  method: Method, trim_min_scores: int, criterion: str) -> list[_Scored]:
    """Sums per case, sorted best first. Keys are integers that order exactly
    like the means they stand for: each mean s / n becomes s * (L // n), L the
    least common multiple of every count in play."""
    trim_from = _trim_from(method, trim_min_scores)
    counts = {len(scores_by_case[cid]) for cid in case_ids}
    trimmed_counts = {c - 2 for c in counts if trim_from is not None and c >= trim_from}
    scale = lcm(*counts, *trimmed_counts) if counts else 1
    z = zscore_aggregates(scores_by_case, case_ids) if method is Method.ZSCORE else {}
    tie_break_value = itemgetter(criterion)
    stats = []
    for cid in case_ids:
        scores = scores_by_case[cid]
        totals = list(map(_TOTAL, scores))  # map over C getters: no per-score Python frame
        count = len(totals)
        total_sum = sum(totals)
        if trim_from is not None and count >= trim_from:
            agg_sum, agg_count = total_sum - max(totals) - min(totals), count - 2
        else:
            agg_sum, agg_count = total_sum, count
        try:
            tie_break_sum = sum(map(tie_break_value, map(_CRITERIA, scores)))
        except KeyError:
            raise RankingConfigError(f"a score of case {cid!r} lacks the tie-break criterion "
                                     f"{criterion!r}") from None
        per = scale // count
        zc = z.get(cid)
        neg_aggregate = -zc if zc is not None else -agg_sum * (scale // agg_count)
        stats.append(_Scored(RankKey(neg_aggregate, -total_sum * per, -tie_break_sum * per), cid, count,
                             total_sum, tie_break_sum, agg_sum, agg_count, zc))
    stats.sort()
    return stats


def _trim_from(method: Method, trim_min_scores: int) -> int | None:
    """The score count from which one highest and one lowest are dropped; None when never."""
    return max(trim_min_scores, 3) if method is Method.TRIMMED_MEAN else None


def _rank_groups(stats: list[_Scored]) -> Iterable[tuple[int, int, Sequence[_Scored]]]:
    """Yield (rank, size, cases) for each run of equal keys; rank = 1 + cases strictly better."""
    position, n = 0, len(stats)
    while position < n:
        first = stats[position]
        end = position + 1
        if end < n and stats[end].key == first.key:
            while end < n and stats[end].key == first.key:
                end += 1
            yield position + 1, end - position, stats[position:end]
        else:
            yield position + 1, 1, (first,)
        position = end


def _fraction_cache() -> Callable[[int, int], Fraction]:
    """Fraction(n, d), memoised for one ranking: many cases share the same
    sums, and building Fractions was the costliest step of the fast path."""
    cache: dict[tuple[int, int], Fraction] = {}

    def fraction(numerator: int, denominator: int) -> Fraction:
        value = cache.get((numerator, denominator))
        if value is None:
            value = cache[numerator, denominator] = Fraction(numerator, denominator)
        return value
    return fraction


class _Placer:
    """(advanced, prize, cut_tie) for a group of ``size`` cases sharing ``rank``.

    Everything in a tied group gets the same outcome, so a tie across the
    advance cut advances the whole group and a tie at a prize boundary gives
    the whole group the better prize; ``cut_tie`` flags both.
    """

    def __init__(self, advance_quota: int | None, prize_bands: Sequence[PrizeBand]) -> None:
        self._quota = advance_quota
        self._bands = tuple(prize_bands)
        cuts = {band.last_rank for band in prize_bands}
        if advance_quota is not None:
            cuts.add(advance_quota)
        self._cuts = tuple(sorted(cuts))
        self._last_prize_rank = max((band.last_rank for band in prize_bands), default=0)

    def __call__(self, rank: int, size: int) -> tuple[bool | None, str | None, bool]:
        advanced = None if self._quota is None else rank <= self._quota
        prize = _prize_for(rank, self._bands) if rank <= self._last_prize_rank else None
        cut_tie = size > 1 and any(rank <= cut < rank + size - 1 for cut in self._cuts)
        return advanced, prize, cut_tie


def _prize_for(rank: int, prize_bands: Sequence[PrizeBand]) -> str | None:
    for band in prize_bands:
        if band.first_rank <= rank <= band.last_rank:
            return band.prize
    return None


def _unscored(case_ids: list[str], rank: int, advance_quota: int | None) -> list[RankedCase]:
    """Cases nobody scored: last, one shared rank, and (by design) they never
    advance or win a prize, whatever the quota, since there is nothing to rank."""
    tie = len(case_ids) > 1
    advanced = None if advance_quota is None else False
    return [RankedCase(cid, rank, None, None, None, 0, tie, advanced, None, False) for cid in case_ids]


# --------------------------------------------------------------------------- z-score

def zscore_aggregates(scores_by_case: Mapping[str, Sequence[JudgeScore]],
                      case_ids: Iterable[str]) -> dict[str, Fraction]:
    """Mean per-judge z-score of each scored case among ``case_ids`` (formula in the module doc)."""
    ids = [cid for cid in dict.fromkeys(case_ids) if scores_by_case.get(cid)]
    by_judge: dict[str, list[int]] = {}
    for cid in ids:
        for s in scores_by_case[cid]:
            by_judge.setdefault(s.judge_id, []).append(s.total)
    norm = {judge: _judge_normaliser(totals) for judge, totals in by_judge.items()}
    result: dict[str, Fraction] = {}
    for cid in ids:
        scores = scores_by_case[cid]
        z_sum = sum((_z(s.total, *norm[s.judge_id]) for s in scores), Fraction(0))
        result[cid] = z_sum / len(scores)
    return result


def _judge_normaliser(totals: Sequence[int]) -> tuple[Fraction, Fraction]:
    """(mean, 1 / population std dev) of one judge's totals; 1/sigma is 0 when sigma is 0."""
    n = len(totals)
    mean = Fraction(sum(totals), n)
    variance = sum(((Fraction(t) - mean) ** 2 for t in totals), Fraction(0)) / n
    if variance == 0:
        return mean, Fraction(0)
    return mean, 1 / Fraction(exact_sqrt(variance))


def _z(total: int, mean: Fraction, inverse_sigma: Fraction) -> Fraction:
    return (total - mean) * inverse_sigma


def exact_sqrt(value: Fraction) -> Decimal:
    """Square root at 28 significant digits, the same on every machine."""
    return SQRT_CONTEXT.sqrt(SQRT_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator)))


# --------------------------------------------------------------------------- display

def score_display(aggregate: Fraction | None) -> float | None:
    """The aggregate rounded to 2 decimals, ROUND_HALF_UP (halves away from zero).

    Rounded with integer arithmetic on the exact Fraction, so a value that only
    looks like x.xx5 after a decimal expansion is never rounded up by accident.
    """
    if aggregate is None:
        return None
    hundredths, remainder = divmod(abs(aggregate.numerator) * 100, aggregate.denominator)
    if 2 * remainder >= aggregate.denominator:
        hundredths += 1
    sign = -1 if aggregate < 0 else 1
    return float(Decimal(sign * hundredths).scaleb(-2))


# --------------------------------------------------------------------------- config

def from_config(competition: Mapping[str, Any], stage: str) -> RankingSettings:
    """Ranking settings of ``stage`` from a competition config.

    ``ranking.<stage>`` gives ``method`` and ``trim_min_scores``; the tie-break
    criterion comes from the stage block or ``ranking.tie_break_criterion``.
    By default ``text_review`` applies ``quotas.advance_per_category`` and
    ``final`` applies the ``prizes`` bands; a stage block may override with
    ``advance_quota`` (int or null) and ``award_prizes`` (bool).
    """
    ranking = competition.get("ranking", {})
    block = ranking.get(stage)
    if not isinstance(block, Mapping):
        raise RankingConfigError(f"no ranking settings for stage {stage!r}")
    default_quota = competition.get("quotas", {}).get("advance_per_category") if stage == StageId.TEXT_REVIEW else None
    bands = prize_bands_from_config(competition) if block.get("award_prizes", stage == StageId.FINAL) else ()
    return RankingSettings(
        method=parse_method(block.get("method", Method.TRIMMED_MEAN.value)),
        trim_min_scores=int(block.get("trim_min_scores", DEFAULT_TRIM_MIN_SCORES)),
        tie_break_criterion=block.get("tie_break_criterion",
                                      ranking.get("tie_break_criterion", DEFAULT_TIE_BREAK_CRITERION)),
        advance_quota=block.get("advance_quota", default_quota),
        prize_bands=bands,
    )


def prize_bands_from_config(competition: Mapping[str, Any]) -> tuple[PrizeBand, ...]:
    return tuple(PrizeBand(p["id"], int(p["ranks"][0]), int(p["ranks"][1]))
                 for p in competition.get("prizes", []))


# --------------------------------------------------------------------------- record

def ranking_record(scores_by_case: Mapping[str, Sequence[JudgeScore]], case_ids: Iterable[str],
                   settings: RankingSettings) -> dict[str, Any]:
    """A JSON-serialisable record of everything a ranking depends on, plus its
    SHA-256 ``digest``, so that a later reader can re-derive the same ranking
    (``rank_from_record``) and check that nothing changed."""
    ids = sorted(set(case_ids))
    body = {
        "method": settings.method.value,
        "trim_min_scores": settings.trim_min_scores,
        "tie_break_criterion": settings.tie_break_criterion,
        "advance_quota": settings.advance_quota,
        "prize_bands": [[b.prize, b.first_rank, b.last_rank] for b in settings.prize_bands],
        "case_ids": ids,
        "scores": sorted(([s.case_id, s.judge_id, dict(sorted(s.criteria.items()))]
                          for cid in ids for s in scores_by_case.get(cid, ())),
                         key=lambda row: (row[0], row[1])),
    }
    return {**body, "digest": _digest(body)}


def ranking_inputs_digest(scores_by_case: Mapping[str, Sequence[JudgeScore]], case_ids: Iterable[str],
                          settings: RankingSettings) -> str:
    return ranking_record(scores_by_case, case_ids, settings)["digest"]


def rank_from_record(record: Mapping[str, Any]) -> list[RankedCase]:
    """Re-derive a ranking from ``ranking_record`` output; refuses a record whose digest is off."""
    body = {k: v for k, v in record.items() if k != "digest"}
    if _digest(body) != record.get("digest"):
        raise RankingConfigError("ranking record digest does not match its contents")
    scores: dict[str, list[JudgeScore]] = {}
    for case_id, judge_id, criteria in body["scores"]:
        scores.setdefault(case_id, []).append(JudgeScore(judge_id, case_id, criteria))
    settings = RankingSettings(parse_method(body["method"]), body["trim_min_scores"],
                               body["tie_break_criterion"], body["advance_quota"],
                               tuple(PrizeBand(*band) for band in body["prize_bands"]))
    return settings.rank(scores, body["case_ids"])


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def in_rank_window(ranked: Sequence[tuple[str, int, int]], first: int, last: int) -> list[str]:
    """The scored cases whose places reach into ranks ``first``..``last`` (inclusive), best first.

    ``ranked``: (case id, rank, scores count) of one category, as ranked. A tied group holds the places
    rank .. rank + size - 1 (7, 7, 9: the two 7s hold 7 and 8); the whole group is in when any of its
    places is, so a tie is never split by the window. Unscored cases have no place and are never in.
    """
    sizes: dict[int, int] = {}
    for _, rank, count in ranked:
        if count:
            sizes[rank] = sizes.get(rank, 0) + 1
    return [case_id for case_id, rank, count in ranked
            if count and rank <= last and rank + sizes[rank] - 1 >= first]
