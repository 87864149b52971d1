"""Excellent-organisation award tallies (优秀组织奖, notice section 九(二)).

The notice rewards units that mobilised well (发动好), selected well (选拔组织好)
and did well (比赛成绩好) but gives no formula; this module counts, per
recommending unit (推荐单位):

* ``cases``: every case naming the unit, whatever its status;
* ``submitted``: cases not ``draft``, not ``withdrawn`` and not out after 审核
  (``returned`` 退回修改 and not submitted again, ``rejected`` 不予受理);
* ``advanced``: cases that reached the final (``advanced``, ``awarded``,
  ``not_awarded``);
* ``prizes``: ``first`` / ``second`` / ``third`` prizes won;

and scores each unit with weights (``AwardWeights``) that the config may set
under ``organisation_award.weights``. Default weights::

    score = 1 * submitted + 3 * advanced + 10 * first + 6 * second + 3 * third

Units are listed best first: score, then more first, second, third prizes,
then the unit name (only so the list is stable). ``suggest`` proposes a
shortlist for the organiser, who makes the actual decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

PRIZES = ("first", "second", "third")
NOT_SUBMITTED = frozenset({"draft", "withdrawn", "returned", "rejected"})
REACHED_FINAL = frozenset({"advanced", "awarded", "not_awarded"})


@dataclass(frozen=True, slots=True)
class AwardWeights:
    submitted: int = 1
    advanced: int = 3
    first: int = 10
    second: int = 6
    third: int = 3

    @classmethod
    def from_config(cls, competition: Mapping[str, Any]) -> AwardWeights:
        weights = competition.get("organisation_award", {}).get("weights", {})
        return cls(**{name: int(value) for name, value in weights.items()})


DEFAULT_WEIGHTS = AwardWeights()


@dataclass(frozen=True, slots=True)
class UnitCase:
    """What the tally needs of one case."""

    unit: str           # recommending_unit
    status: str         # draft, submitted, withdrawn, advanced, not_advanced, awarded, not_awarded, returned, rejected
    prize: str | None   # first, second, third or None


@dataclass(frozen=True, slots=True)
class UnitTally:
    unit: str
    cases: int
    submitted: int
    advanced: int
    prizes: Mapping[str, int]   # first, second, third -> count
    score: int

    def sort_key(self) -> tuple[int, int, int, int, str]:
        return (-self.score, -self.prizes["first"], -self.prizes["second"], -self.prizes["third"], self.unit)

    def merit(self) -> tuple[int, int, int, int]:
        """The sort key without the name: units with equal merit are tied."""
        return self.sort_key()[:4]

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "cases": self.cases, "submitted": self.submitted,
                "advanced": self.advanced, "prizes": dict(self.prizes), "score": self.score}


def tally_units(cases: Iterable[UnitCase], weights: AwardWeights = DEFAULT_WEIGHTS) -> list[UnitTally]:
    """One tally per recommending unit (name compared after stripping spaces), best first."""
    by_unit: dict[str, list[UnitCase]] = {}
    for case in cases:
        by_unit.setdefault(case.unit.strip(), []).append(case)
    tallies = [_tally(unit, unit_cases, weights) for unit, unit_cases in by_unit.items()]
    return sorted(tallies, key=UnitTally.sort_key)


def _tally(unit: str, cases: Sequence[UnitCase], weights: AwardWeights) -> UnitTally:
    submitted = sum(c.status not in NOT_SUBMITTED for c in cases)
    advanced = sum(c.status in REACHED_FINAL for c in cases)
    prizes = {p: sum(c.prize == p for c in cases) for p in PRIZES}
    score = (weights.submitted * submitted + weights.advanced * advanced + weights.first * prizes["first"]
             + weights.second * prizes["second"] + weights.third * prizes["third"])
    return UnitTally(unit, len(cases), submitted, advanced, prizes, score)


def suggest(units: Sequence[UnitTally], top_n: int) -> list[UnitTally]:
    """The best ``top_n`` units with a positive score, best first, plus any unit
    tied with the last of them: a suggestion never splits equal merit by name."""
    ranked = sorted((u for u in units if u.score > 0), key=UnitTally.sort_key)
    if top_n <= 0 or not ranked:
        return []
    if len(ranked) <= top_n:
        return ranked
    cut = ranked[top_n - 1].merit()
    return ranked[:top_n] + [u for u in ranked[top_n:] if u.merit() == cut]
