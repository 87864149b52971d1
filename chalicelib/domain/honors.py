"""Honor nominations from the final ranking (荣誉推荐, notice section 九).

The 2023 rules (all read from the config's ``honors`` block):

* ``labour_medal`` 深圳市五一劳动奖章: rank 1 of each category, leader
  ``section_or_below``;
* ``youth_medal`` 深圳青年五四奖章: ranks 1-5, leader at most 35 full years old
  on 2023-05-04 (35 that very day is eligible; turning 36 that day is not);
* ``red_banner`` 深圳市三八红旗手: ranks 1-5, leader ``female`` and
  ``section_or_below``.

The three honors are not awarded twice (不重复授予): one person (same leader name
and mobile, compared after stripping spaces) gets at most one. Honors are handed
out in ``priority`` order, so a person eligible for several gets the first; for
each honor, cases are taken best rank first, then in category order
(development, service, empowerment), so a person leading several eligible cases
gets the honor with the best-ranked one. Every case in the ranks any rule looks
at (1-5) is reported in ``considered`` once per honor, with the reason.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Iterable, Mapping, Sequence

DEFAULT_CATEGORY_ORDER = ("development", "service", "empowerment")
GENDER_NAMES = {"female": "女", "male": "男"}
RANK_LEVEL_NAMES = {"section_or_below": "科级及以下", "above_section": "处级及以上"}


@dataclass(frozen=True, slots=True)
class HonorRule:
    id: str
    name: str
    max_rank: int
    max_age: int | None = None
    genders: frozenset[str] | None = None       # None: any gender
    rank_levels: frozenset[str] | None = None   # None: any rank level


@dataclass(frozen=True, slots=True)
class HonorSettings:
    reference_date: date
    rules: tuple[HonorRule, ...]   # in priority order
    category_order: tuple[str, ...] = DEFAULT_CATEGORY_ORDER


@dataclass(frozen=True, slots=True)
class HonorCandidate:
    """A case of the final ranking with its leader (牵头人)."""

    case_id: str
    category: str
    rank: int
    leader_name: str
    leader_mobile: str
    gender: str | None
    rank_level: str | None
    birth_date: date | None

    @property
    def person(self) -> tuple[str, str]:
        return self.leader_name.strip(), self.leader_mobile.strip()


@dataclass(frozen=True, slots=True)
class Nomination:
    honor: str
    case_id: str
    leader_name: str
    category: str
    rank: int


class ReasonCode(StrEnum):
    NOMINATED = "nominated"
    ALREADY_NOMINATED = "already_nominated"      # held back by one honor per person
    RANK_OUT_OF_RANGE = "rank_out_of_range"
    RANK_LEVEL_NOT_ALLOWED = "rank_level_not_allowed"
    GENDER_NOT_ALLOWED = "gender_not_allowed"
    MISSING_BIRTH_DATE = "missing_birth_date"
    OVER_AGE = "over_age"


@dataclass(frozen=True, slots=True)
class Consideration:
    case_id: str
    honor: str
    eligible: bool      # meets this honor's rules on its own
    reason: str         # Chinese, for the organiser
    reason_code: ReasonCode  # a str: stable English code


@dataclass(frozen=True, slots=True)
class HonorResult:
    nominations: list[Nomination]
    considered: list[Consideration]

    def to_dict(self) -> dict[str, Any]:
        return {"nominations": [asdict(n) for n in self.nominations],
                "considered": [asdict(c) for c in self.considered]}


@dataclass(frozen=True, slots=True)
class RuleFailure:
    code: ReasonCode
    reason: str


# --------------------------------------------------------------------------- config

def settings_from_config(competition: Mapping[str, Any]) -> HonorSettings:
    """Honor rules from the config's ``honors`` block, ordered by ``priority``
    (rules missing from ``priority`` keep their listed order, after it)."""
    block = competition["honors"]
    rules = [_rule_from_config(r) for r in block["rules"]]
    priority = list(block.get("priority", []))
    rules.sort(key=lambda r: priority.index(r.id) if r.id in priority else len(priority))
    categories = tuple(c["id"] for c in competition.get("categories", [])) or DEFAULT_CATEGORY_ORDER
    return HonorSettings(date.fromisoformat(block["reference_date"]), tuple(rules), categories)


def _rule_from_config(rule: Mapping[str, Any]) -> HonorRule:
    def optional_set(key: str) -> frozenset[str] | None:
        return frozenset(rule[key]) if rule.get(key) is not None else None
    return HonorRule(rule["id"], rule["name"], int(rule["max_rank"]),
                     rule.get("max_age"), optional_set("genders"), optional_set("rank_levels"))


# --------------------------------------------------------------------------- solver

def solve_honors(candidates: Iterable[HonorCandidate], settings: HonorSettings) -> HonorResult:
    """Nominate and explain: see the module docstring for the rules."""
    considered_ranks = max((r.max_rank for r in settings.rules), default=0)
    in_view = sorted((c for c in candidates if 1 <= c.rank <= considered_ranks),
                     key=lambda c: _case_order(c, settings.category_order))
    honored: dict[tuple[str, str], HonorRule] = {}
    nominations: list[Nomination] = []
    decisions: dict[tuple[str, str], Consideration] = {}
    for rule in settings.rules:
        for case in in_view:
            failures = rule_failures(rule, case, settings.reference_date)
            if failures:
                decisions[case.case_id, rule.id] = _not_eligible(case, rule, failures)
            elif case.person in honored:
                held = honored[case.person]
                decisions[case.case_id, rule.id] = Consideration(
                    case.case_id, rule.id, True, f"已提名{held.name}", ReasonCode.ALREADY_NOMINATED)
            else:
                honored[case.person] = rule
                nominations.append(Nomination(rule.id, case.case_id, case.leader_name.strip(),
                                              case.category, case.rank))
                decisions[case.case_id, rule.id] = Consideration(
                    case.case_id, rule.id, True, "符合条件，已提名", ReasonCode.NOMINATED)
    considered = [decisions[case.case_id, rule.id] for case in in_view for rule in settings.rules]
    return HonorResult(nominations, considered)


def _case_order(case: HonorCandidate, category_order: Sequence[str]) -> tuple[int, int, str]:
    position = category_order.index(case.category) if case.category in category_order else len(category_order)
    return case.rank, position, case.case_id


def rule_failures(rule: HonorRule, case: HonorCandidate, reference_date: date) -> list[RuleFailure]:
    """Every condition of ``rule`` the case fails on its own, in a fixed order
    (rank, rank level, gender, age); empty when the case is eligible.
    The one-honor-per-person rule is not a condition here: see ``solve_honors``."""
    failures = []
    if case.rank > rule.max_rank:
        span = "第1名" if rule.max_rank == 1 else f"第1至{rule.max_rank}名"
        failures.append(RuleFailure(ReasonCode.RANK_OUT_OF_RANGE, f"名次为第{case.rank}名，不在{span}之内"))
    if rule.rank_levels is not None and case.rank_level not in rule.rank_levels:
        failures.append(RuleFailure(ReasonCode.RANK_LEVEL_NOT_ALLOWED,
                                 f"牵头人职级为{_name(RANK_LEVEL_NAMES, case.rank_level)}，"
                                 f"须为{_names(RANK_LEVEL_NAMES, rule.rank_levels)}"))
    if rule.genders is not None and case.gender not in rule.genders:
        failures.append(RuleFailure(ReasonCode.GENDER_NOT_ALLOWED,
                                 f"牵头人性别为{_name(GENDER_NAMES, case.gender)}，"
                                 f"须为{_names(GENDER_NAMES, rule.genders)}"))
    if rule.max_age is not None:
        failures.extend(_age_failures(rule.max_age, case.birth_date, reference_date))
    return failures


def _age_failures(max_age: int, birth_date: date | None, reference_date: date) -> list[RuleFailure]:
    if birth_date is None:
        return [RuleFailure(ReasonCode.MISSING_BIRTH_DATE, "牵头人出生日期未填写，无法计算年龄")]
    age = age_on(birth_date, reference_date)
    if age > max_age:
        return [RuleFailure(ReasonCode.OVER_AGE,
                         f"截至{_chinese_date(reference_date)}牵头人已满{age}周岁，超过{max_age}周岁")]
    return []


def age_on(birth_date: date, reference_date: date) -> int:
    """Full years (周岁) on ``reference_date``: the birthday itself counts as a
    year completed. A 29 February birthday completes its year on 1 March in
    non-leap years."""
    before_birthday = (reference_date.month, reference_date.day) < (birth_date.month, birth_date.day)
    return reference_date.year - birth_date.year - int(before_birthday)


def _not_eligible(case: HonorCandidate, rule: HonorRule, failures: list[RuleFailure]) -> Consideration:
    """Reason text names every failed rule; the code is the first of them."""
    return Consideration(case.case_id, rule.id, False, "；".join(f.reason for f in failures), failures[0].code)


def _name(names: Mapping[str, str], value: str | None) -> str:
    return "未填写" if value is None else names.get(value, value)


def _names(names: Mapping[str, str], values: Iterable[str]) -> str:
    return "或".join(names.get(v, v) for v in sorted(values))


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
