"""Judge assignment engine: who scores which case in each judging stage.

Pure and deterministic: the same cases, judges and pairs give the same plan,
whatever order they come in (everything is sorted by id first, and no
randomness is used).

Rules (api-v1.md, "Organiser" and "Judges"):

* 回避 — a judge never gets a case whose recommending unit is the judge's own
  affiliation or one of the units the judge declared a conflict with.
* Recusals — a pair in ``excluded`` is never assigned again.  A pair that is in
  both ``existing`` and ``excluded`` counts as excluded: the recusal dropped
  that assignment, so it is left out of the plan.
* Re-running keeps every other ``existing`` pair (it may already hold a score)
  and only fills gaps.  Existing pairs are kept as they are, even one that
  would be a conflict today (the data changed since); the caller decides what
  to do with such a pair.  Existing pairs count toward a case's ``k``.
* Loads are balanced **per category**: a judge of several categories has one
  load per category (the count of that category's pairs, existing included),
  and "within one of each other" is required among the judges of one
  category only.  ``Plan.per_judge`` reports the total over all pairs.

Balancing (text review and coaching): the load vectors that assignments can
produce (cases with their remaining need on one side, eligible judges on the
other) form an M-convex set, so a *decreasingly minimal* vector exists that at
once has the smallest possible maximum load and the largest possible minimum
load (Frank & Murota, "Discrete decreasing minimization").  Whenever loads
within one are feasible, that vector has them.  The engine starts from a
greedy fill and then improves it with augmenting paths in the residual graph of
the cases -> judges flow (move one slot from judge ``a`` to judge ``b`` along
a chain of cases, intermediate loads unchanged) until no path leads from a
judge to one at least two lighter; that local condition is exactly
dec-minimality.  The greedy start is only a start: optimality comes from the
path search, not from the greedy.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CATEGORY_NAMES",
    "AssignmentError",
    "CaseRef",
    "JudgeRef",
    "Plan",
    "is_conflict",
    "normalise_unit",
    "plan_coaching",
    "plan_extra",
    "plan_final",
    "plan_text_review",
]

Pair = tuple[str, str]  # (judge_id, case_id)

#: Chinese names of the fixed category ids, used in error messages.
CATEGORY_NAMES: Mapping[str, str] = {
    "development": "发展提质",
    "service": "服务增效",
    "empowerment": "党建赋能",
}


@dataclass(frozen=True)
class CaseRef:
    """What the engine needs to know about a case."""

    case_id: str
    category: str
    recommending_unit: str


@dataclass(frozen=True)
class JudgeRef:
    """What the engine needs to know about a judge.

    ``conflicts`` are unit names the judge declared and must not review, on top
    of the judge's own ``affiliation``.
    """

    judge_id: str
    categories: frozenset[str]
    affiliation: str
    conflicts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """The result of planning one stage.

    ``pairs``: every (judge_id, case_id) pair after the plan (kept existing
    pairs plus ``new``), sorted.  ``new``: the pairs to create, sorted.
    ``per_judge``: number of pairs per judge over all categories, for every
    judge passed in (0 when none) and every judge appearing in ``pairs``,
    ordered by judge id.
    """

    pairs: tuple[Pair, ...]
    new: tuple[Pair, ...]
    per_judge: dict[str, int] = field(default_factory=dict)


class AssignmentError(Exception):
    """The stage cannot be planned as asked.

    ``code``: ``"no_judges"`` (a category with cases to fill has no judge, or
    a case has no possible judge at all) or ``"cannot_meet_k"`` (a case has
    fewer eligible judges than it needs).  ``message``: Chinese, names the
    category and the case and says what to fix.  ``category`` and
    ``case_ids`` (every case of that category with the same problem) let the
    caller point at the data.
    """

    def __init__(
        self, code: str, message: str, *, category: str = "", case_ids: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.category = category
        self.case_ids = tuple(case_ids)


# --------------------------------------------------------------------------- 回避


def normalise_unit(name: str) -> str:
    """Fold a unit name for comparison.

    NFKC (full-width -> half-width, compatibility forms), case-folded, then
    NFKC again (the Unicode ``NFKC_Casefold`` recipe), with every whitespace
    and invisible format character (zero-width space, BOM) removed, so
    ``"深圳市 财政局"``, ``"深圳市财政局\u3000"`` and ``"ＳＺ局"`` / ``"sz局"`` compare equal.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return "".join(
        ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Cf"
    )


def _blocked_units(judge: JudgeRef) -> frozenset[str]:
    """Normalised units the judge must not review; an empty name blocks nothing."""
    units = {normalise_unit(judge.affiliation)}
    units.update(normalise_unit(unit) for unit in judge.conflicts)
    units.discard("")
    return frozenset(units)


def is_conflict(judge: JudgeRef, case: CaseRef) -> bool:
    """True when the judge must not review the case (回避).

    The case's recommending unit equals the judge's affiliation or one of the
    judge's declared conflicts, after :func:`normalise_unit`.  An empty unit
    name (after normalising) is never a conflict.
    """
    unit = normalise_unit(case.recommending_unit)
    return bool(unit) and unit in _blocked_units(judge)


# --------------------------------------------------------------------------- inputs


@dataclass
class _Inputs:
    cases: list[CaseRef]  # sorted by case_id
    judges: list[JudgeRef]  # sorted by judge_id
    kept: set[Pair]  # existing pairs minus excluded ones
    excluded: frozenset[Pair]


def _prepare(
    cases: Iterable[CaseRef],
    judges: Iterable[JudgeRef],
    existing: Iterable[Pair],
    excluded: Iterable[Pair],
) -> _Inputs:
    case_list = _unique(cases, "case_id")
    judge_list = _unique(judges, "judge_id")
    excluded_set = frozenset((str(j), str(c)) for j, c in excluded)
    kept = {(str(j), str(c)) for j, c in existing} - excluded_set
    return _Inputs(case_list, judge_list, kept, excluded_set)


def _unique(items: Iterable, key: str) -> list:
    """Sort by id; an identical duplicate is dropped, a differing one is an error."""
    by_id: dict[str, object] = {}
    for item in items:
        ident = getattr(item, key)
        if ident in by_id and by_id[ident] != item:
            raise ValueError(f"two different entries share {key} {ident!r}")
        by_id[ident] = item
    return [by_id[ident] for ident in sorted(by_id)]


def _category_label(category: str) -> str:
    name = CATEGORY_NAMES.get(category)
    return f"「{name}」({category})" if name else f"「{category}」"


def _plan(kept: set[Pair], new: Iterable[Pair], judges: Sequence[JudgeRef]) -> Plan:
    new_sorted = tuple(sorted(set(new) - kept))
    pairs = tuple(sorted(kept.union(new_sorted)))
    counts: dict[str, int] = {j.judge_id: 0 for j in judges}
    for judge_id, _ in pairs:
        counts[judge_id] = counts.get(judge_id, 0) + 1
    return Plan(pairs=pairs, new=new_sorted, per_judge={j: counts[j] for j in sorted(counts)})


def _by_category(cases: Sequence[CaseRef]) -> dict[str, list[CaseRef]]:
    groups: dict[str, list[CaseRef]] = {}
    for case in cases:  # already sorted by case_id, so each group is too
        groups.setdefault(case.category, []).append(case)
    return {cat: groups[cat] for cat in sorted(groups)}


# --------------------------------------------------------------------------- balanced fill


def _balanced_fill(
    category: str,
    cases: Sequence[CaseRef],
    judges: Sequence[JudgeRef],
    k: int,
    inputs: _Inputs,
    what_to_fix: str,
) -> list[Pair]:
    """New pairs giving every case of one category ``k`` judges, loads dec-min."""
    pool = [j for j in judges if category in j.categories]
    pool_index = {j.judge_id: i for i, j in enumerate(pool)}
    blocked = [_blocked_units(j) for j in pool]

    load = [0] * len(pool)  # this category's pairs per pool judge, existing included
    holders: dict[str, set[str]] = {c.case_id: set() for c in cases}
    for judge_id, case_id in inputs.kept:
        if case_id in holders:
            holders[case_id].add(judge_id)
            if judge_id in pool_index:
                load[pool_index[judge_id]] += 1

    # Cases still short of k, with the pool judges that may fill them.
    need: list[int] = []
    eligible: list[list[int]] = []
    short_ids: list[str] = []
    short: list[tuple[str, int, int]] = []  # (case_id, needed, available)
    for case in cases:
        missing = k - len(holders[case.case_id])
        if missing <= 0:
            continue
        unit = normalise_unit(case.recommending_unit)
        options = [
            i
            for i, judge in enumerate(pool)
            if judge.judge_id not in holders[case.case_id]
            and (judge.judge_id, case.case_id) not in inputs.excluded
            and not (unit and unit in blocked[i])
        ]
        if len(options) < missing:
            short.append((case.case_id, missing, len(options)))
        need.append(missing)
        eligible.append(options)
        short_ids.append(case.case_id)

    if short:
        _raise_short(category, short, k, have_pool=bool(pool), what_to_fix=what_to_fix)
    if not need:
        return []

    # Greedy start: most constrained cases first, each takes its lightest judges.
    taken: list[set[int]] = [set() for _ in need]  # new judges per short case
    carries: list[set[int]] = [set() for _ in pool]  # new cases per judge
    order = sorted(range(len(need)), key=lambda c: (len(eligible[c]) - need[c], c))
    for c in order:
        for j in sorted(eligible[c], key=lambda j: (load[j], j))[: need[c]]:
            taken[c].add(j)
            carries[j].add(c)
            load[j] += 1

    _rebalance(load, eligible, taken, carries)

    return [
        (pool[j].judge_id, short_ids[c]) for c in range(len(need)) for j in sorted(taken[c])
    ]


def _rebalance(
    load: list[int],
    eligible: list[list[int]],
    taken: list[set[int]],
    carries: list[set[int]],
) -> None:
    """Move new slots along augmenting paths until the loads are dec-min.

    Levels are peeled from the top: BFS from every active judge of the maximum
    load M; if it reaches a judge of load <= M - 2, shift one slot along the
    path and repeat; if not, everything it reached is final (no later move can
    open a path out of a closed reachable set) and leaves the active set.

    Sets of ints iterate in an order fixed by the operations done on them (int
    hashes are not randomised), so the result is deterministic.
    """
    active = set(range(len(load)))
    while active:
        top = max(load[j] for j in active)
        if top - min(load[j] for j in active) < 2:
            return
        sources = sorted(j for j in active if load[j] == top)
        reached, target = _search(sources, top - 2, load, eligible, taken, carries)
        if target is None:
            active.difference_update(reached)
            continue
        j = target
        while (step := reached[j]) is not None:
            prev, c = step  # slot of case c moves from prev to j
            taken[c].discard(prev)
            taken[c].add(j)
            carries[prev].discard(c)
            carries[j].add(c)
            j = prev
        load[j] -= 1
        load[target] += 1


def _search(
    sources: list[int],
    threshold: int,
    load: list[int],
    eligible: list[list[int]],
    taken: list[set[int]],
    carries: list[set[int]],
) -> tuple[dict[int, tuple[int, int] | None], int | None]:
    """BFS judge -> (a new case it carries) -> another eligible judge of that case.

    Returns the BFS tree (judge -> (previous judge, case) or None for a source)
    and the lightest reached judge with load <= threshold, or None.
    """
    reached: dict[int, tuple[int, int] | None] = {s: None for s in sources}
    seen_cases: set[int] = set()
    queue = deque(sources)
    floor = min(load)
    best: int | None = None
    while queue:
        j = queue.popleft()
        for c in carries[j]:
            if c in seen_cases:
                continue
            seen_cases.add(c)
            for b in eligible[c]:
                if b in reached or b in taken[c]:
                    continue
                reached[b] = (j, c)
                queue.append(b)
                if load[b] <= threshold and (best is None or (load[b], b) < (load[best], best)):
                    best = b
                    if load[b] == floor:
                        return reached, best
    return reached, best


def _raise_short(
    category: str,
    short: list[tuple[str, int, int]],
    k: int,
    *,
    have_pool: bool,
    what_to_fix: str,
) -> None:
    label = _category_label(category)
    case_id, missing, available = short[0]
    others = f"（该类别另有 {len(short) - 1} 个案例同样不足）" if len(short) > 1 else ""
    ids = [s[0] for s in short]
    if not have_pool:
        raise AssignmentError(
            "no_judges",
            f"类别{label}没有评委，无法为案例 {case_id} 分配评委{others}。请先添加该类别的评委。",
            category=category,
            case_ids=ids,
        )
    raise AssignmentError(
        "cannot_meet_k",
        f"类别{label}的案例 {case_id} 需要每案 {k} 名评委，还差 {missing} 名，"
        f"但可分配的评委只有 {available} 名（已除去回避、已退出和已分配的评委）{others}。"
        f"{what_to_fix}",
        category=category,
        case_ids=ids,
    )


# --------------------------------------------------------------------------- stages


def plan_text_review(
    cases: Iterable[CaseRef],
    judges: Iterable[JudgeRef],
    k: int,
    existing: Iterable[Pair] = (),
    excluded: Iterable[Pair] = (),
) -> Plan:
    """文本评审: every case gets ``k`` judges of its category, no conflicts.

    Existing pairs are kept and count toward ``k``; only gaps are filled.
    Within each category the judges' loads (existing included) are within one
    of each other whenever conflicts and kept pairs allow it; otherwise the
    largest load is as small as possible (and the smallest as large as
    possible).  Raises :class:`AssignmentError` when a case cannot get ``k``
    judges, before anything is planned.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"judges per case must be a positive integer, got {k!r}")
    inputs = _prepare(cases, judges, existing, excluded)
    fix = "请添加该类别评委、检查回避设置或减少每案评委数。"
    new: list[Pair] = []
    for category, group in _by_category(inputs.cases).items():
        new += _balanced_fill(category, group, inputs.judges, k, inputs, fix)
    return _plan(inputs.kept, new, inputs.judges)


def plan_coaching(
    cases: Iterable[CaseRef],
    judges: Iterable[JudgeRef],
    existing: Iterable[Pair] = (),
    excluded: Iterable[Pair] = (),
) -> Plan:
    """专家辅导: one expert of its category per case, balanced within one per category.

    A case that already has an (existing) expert gets no other.
    """
    inputs = _prepare(cases, judges, existing, excluded)
    fix = "请添加该类别的辅导专家或检查回避设置。"
    new: list[Pair] = []
    for category, group in _by_category(inputs.cases).items():
        new += _balanced_fill(category, group, inputs.judges, 1, inputs, fix)
    return _plan(inputs.kept, new, inputs.judges)


def plan_final(
    cases: Iterable[CaseRef],
    judges: Iterable[JudgeRef],
    existing: Iterable[Pair] = (),
    excluded: Iterable[Pair] = (),
) -> Plan:
    """综合评选: every judge of a category on every case of it.

    Conflicts and excluded pairs are left out; existing pairs are kept.
    Raises :class:`AssignmentError` (``no_judges``) when a case would end up
    with no judge at all.
    """
    inputs = _prepare(cases, judges, existing, excluded)
    blocked = {j.judge_id: _blocked_units(j) for j in inputs.judges}
    assigned_cases = {case_id for _, case_id in inputs.kept}
    new: list[Pair] = []
    for category, group in _by_category(inputs.cases).items():
        panel = [j.judge_id for j in inputs.judges if category in j.categories]
        uncovered: list[str] = []
        for case in group:
            unit = normalise_unit(case.recommending_unit)
            chosen = [
                judge_id
                for judge_id in panel
                if (judge_id, case.case_id) not in inputs.excluded
                and not (unit and unit in blocked[judge_id])
            ]
            if not chosen and case.case_id not in assigned_cases:
                uncovered.append(case.case_id)
            new += [(judge_id, case.case_id) for judge_id in chosen]
        if uncovered:
            label = _category_label(category)
            others = (
                f"（该类别另有 {len(uncovered) - 1} 个案例同样没有评委）" if len(uncovered) > 1 else ""
            )
            reason = "该类别没有评委" if not panel else "该类别的评委全部回避或已退出"
            raise AssignmentError(
                "no_judges",
                f"类别{label}的案例 {uncovered[0]} 没有可分配的评委：{reason}{others}。"
                "请添加该类别评委或检查回避设置。",
                category=category,
                case_ids=uncovered,
            )
    return _plan(inputs.kept, new, inputs.judges)


# --------------------------------------------------------------------------- extra judges


def plan_extra(
    cases: Sequence[CaseRef],
    judges: Iterable[JudgeRef],
    k: int,
    assigned: Mapping[str, Iterable[str]],
    extra: Mapping[str, Iterable[str]],
    load: Mapping[str, int],
) -> tuple[Pair, ...]:
    """Extra judges for ``cases`` (the ones near the advance line): each gets judges of its category until
    it has ``k`` extra judges (``extra``: those it already has), never one in 回避 and never one who already
    holds a slot of the case (``assigned``: every slot, recused ones included). The lightest judge
    (``load``: slots in the stage, all categories) goes first, ties by id; the cases with the fewest options
    are filled first; then new slots move along augmenting paths until the loads are within one of each other
    wherever the conflicts allow (as the regular plan). Raises :class:`AssignmentError` (``cannot_meet_k``)
    before anything is planned when a case cannot get its ``k``. Returns the new pairs, sorted.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"extra judges per case must be a positive integer, got {k!r}")
    pool = _unique(judges, "judge_id")
    blocked = {j.judge_id: _blocked_units(j) for j in pool}
    loads = {j.judge_id: int(load.get(j.judge_id, 0)) for j in pool}
    options: dict[str, list[str]] = {}
    need: dict[str, int] = {}
    short: dict[str, list[tuple[str, int, int]]] = {}
    for case in _unique(cases, "case_id"):
        holders = set(assigned.get(case.case_id, ())) | set(extra.get(case.case_id, ()))
        missing = k - len(set(extra.get(case.case_id, ())))
        if missing <= 0:
            continue
        unit = normalise_unit(case.recommending_unit)
        options[case.case_id] = [j.judge_id for j in pool if case.category in j.categories
                                 and j.judge_id not in holders and not (unit and unit in blocked[j.judge_id])]
        need[case.case_id] = missing
        if len(options[case.case_id]) < missing:
            short.setdefault(case.category, []).append((case.case_id, missing, len(options[case.case_id])))
    for category in sorted(short):
        case_id, missing, available = short[category][0]
        others = f"（该类别另有 {len(short[category]) - 1} 个案例同样不足）" if len(short[category]) > 1 else ""
        raise AssignmentError(
            "cannot_meet_k",
            f"类别{_category_label(category)}的案例 {case_id} 要增加 {k} 名评委，还差 {missing} 名，"
            f"但可增加的评委只有 {available} 名（已除去回避和已分配到该案例的评委）{others}。"
            "请添加该类别评委、检查回避设置或减少每案增加的评委数。",
            category=category, case_ids=[s[0] for s in short[category]])
    # Greedy start (the cases with the fewest options first, each takes its lightest judges), then the same
    # augmenting-path rebalance as the regular plan, so the loads end dec-min whatever the order of the ids.
    ids = [j.judge_id for j in pool]
    index = {judge_id: i for i, judge_id in enumerate(ids)}
    case_ids = sorted(need, key=lambda c: (len(options[c]) - need[c], c))
    counts = [loads[judge_id] for judge_id in ids]
    eligible = [[index[j] for j in options[c]] for c in case_ids]
    taken: list[set[int]] = [set() for _ in case_ids]
    carries: list[set[int]] = [set() for _ in ids]
    for c, case_id in enumerate(case_ids):
        for j in sorted(eligible[c], key=lambda j: (counts[j], ids[j]))[: need[case_id]]:
            taken[c].add(j)
            carries[j].add(c)
            counts[j] += 1
    _rebalance(counts, eligible, taken, carries)
    return tuple(sorted((ids[j], case_ids[c]) for c in range(len(case_ids)) for j in taken[c]))
