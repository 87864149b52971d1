"""Judge assignment engine: examples and property tests."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.assignment import (
    AssignmentError,
    CaseRef,
    JudgeRef,
    Plan,
    is_conflict,
    normalise_unit,
    plan_coaching,
    plan_final,
    plan_text_review,
)

CATEGORIES = ("development", "service", "empowerment")
K = 5


# --------------------------------------------------------------------------- helpers


def category_loads(plan: Plan, cases, judges) -> dict[str, dict[str, int]]:
    """category -> judge -> number of that category's pairs (judges of the category only)."""
    case_cat = {c.case_id: c.category for c in cases}
    loads = {
        cat: {j.judge_id: 0 for j in judges if cat in j.categories}
        for cat in {c.category for c in cases}
    }
    for judge_id, case_id in plan.pairs:
        cat = case_cat[case_id]
        if judge_id in loads[cat]:
            loads[cat][judge_id] += 1
    return loads


def assert_valid(plan: Plan, cases, judges, k: int, excluded=()) -> None:
    by_id = {j.judge_id: j for j in judges}
    case_by_id = {c.case_id: c for c in cases}
    per_case = Counter(case_id for _, case_id in plan.pairs)
    for case in cases:
        assert per_case[case.case_id] == k, case.case_id
    for judge_id, case_id in plan.pairs:
        judge, case = by_id[judge_id], case_by_id[case_id]
        assert case.category in judge.categories
        assert not is_conflict(judge, case), (judge_id, case_id)
    assert not set(plan.pairs) & set(excluded)
    assert len(set(plan.pairs)) == len(plan.pairs)
    assert list(plan.pairs) == sorted(plan.pairs)
    assert list(plan.new) == sorted(plan.new)
    total = Counter(judge_id for judge_id, _ in plan.pairs)
    assert plan.per_judge == {j.judge_id: total[j.judge_id] for j in judges}


def spread(loads: dict[str, int]) -> int:
    return max(loads.values()) - min(loads.values()) if loads else 0


# --------------------------------------------------------------------------- the example panel


def example_cases() -> list[CaseRef]:
    """20 cases per category; units 单位01..单位60, a few units share names."""
    cases = []
    for n in range(60):
        cat = CATEGORIES[n % 3]
        cases.append(CaseRef(f"case-{n:02d}", cat, f"深圳市单位{n:02d}"))
    return cases


def example_judges() -> list[JudgeRef]:
    """7 judges per category (21); conflicts planted on real case units.

    Affiliations are written with spaces / full-width digits so that the
    normalised comparison is exercised.
    """
    judges = []
    for n in range(21):
        cat = CATEGORIES[n % 3]
        # judge n works at the unit of case n (same category, since both use n % 3),
        # spelled differently: a space and full-width digits.
        digits = f"{n:02d}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        affiliation = f"深圳市 单位{digits}"
        # and declares a conflict with the unit of case n + 21 (same category).
        conflicts = frozenset({f"深圳市单位{n + 21:02d}"})
        judges.append(JudgeRef(f"judge-{n:02d}", frozenset({cat}), affiliation, conflicts))
    return judges


def test_is_conflict_normalises_names() -> None:
    judge = JudgeRef("j", frozenset({"service"}), "深圳市 财政局", frozenset({"ＡＢＣ 中心"}))
    assert is_conflict(judge, CaseRef("c1", "service", "深圳市财政局"))
    assert is_conflict(judge, CaseRef("c2", "service", "\u3000深圳市财政局 \n"))
    assert is_conflict(judge, CaseRef("c3", "service", "abc中心"))
    assert not is_conflict(judge, CaseRef("c4", "service", "深圳市税务局"))
    assert normalise_unit("Ｓｈｅｎｚｈｅｎ　Ｕｎｉｔ") == "shenzhenunit"


def test_empty_unit_is_never_a_conflict() -> None:
    judge = JudgeRef("j", frozenset({"service"}), "  ", frozenset({""}))
    assert not is_conflict(judge, CaseRef("c", "service", ""))


def test_planted_conflicts_are_seen() -> None:
    cases, judges = example_cases(), example_judges()
    conflicts = {(j.judge_id, c.case_id) for j in judges for c in cases if is_conflict(j, c)}
    expected = {(f"judge-{n:02d}", f"case-{n:02d}") for n in range(21)}
    expected |= {(f"judge-{n:02d}", f"case-{n + 21:02d}") for n in range(21)}
    assert conflicts == expected


def test_text_review_example() -> None:
    cases, judges = example_cases(), example_judges()
    plan = plan_text_review(cases, judges, K)
    assert_valid(plan, cases, judges, K)
    assert plan.new == plan.pairs
    assert len(plan.pairs) == 60 * K
    for cat, loads in category_loads(plan, cases, judges).items():
        assert spread(loads) <= 1, (cat, loads)
        assert sorted(set(loads.values())) == [14, 15]  # 100 slots over 7 judges


def test_text_review_is_deterministic_under_shuffling() -> None:
    cases, judges = example_cases(), example_judges()
    plan = plan_text_review(cases, judges, K)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(cases)
        rng.shuffle(judges)
        again = plan_text_review(cases, judges, K, existing=[], excluded=[])
        assert again == plan


def test_rerun_keeps_existing_and_fills_only_the_gap() -> None:
    cases, judges = example_cases(), example_judges()
    first = plan_text_review(cases, judges, K)

    same = plan_text_review(cases, judges, K, existing=first.pairs)
    assert same.new == ()
    assert same.pairs == first.pairs

    dropped = first.pairs[17]
    kept = [p for p in first.pairs if p != dropped]
    refill = plan_text_review(cases, judges, K, existing=kept, excluded=[dropped])
    assert len(refill.new) == 1
    judge_id, case_id = refill.new[0]
    assert case_id == dropped[1]
    assert judge_id != dropped[0]
    assert set(kept) <= set(refill.pairs)
    assert_valid(refill, cases, judges, K, excluded=[dropped])
    # The refill goes to a judge of the lighter kind, so the category stays within one.
    cat = {c.case_id: c.category for c in cases}[case_id]
    assert spread(category_loads(refill, cases, judges)[cat]) <= 1


def test_excluded_pair_also_in_existing_is_dropped() -> None:
    cases, judges = example_cases(), example_judges()
    first = plan_text_review(cases, judges, K)
    recused = first.pairs[0]
    plan = plan_text_review(cases, judges, K, existing=first.pairs, excluded=[recused])
    assert recused not in plan.pairs
    assert len(plan.new) == 1 and plan.new[0][1] == recused[1]
    assert_valid(plan, cases, judges, K, excluded=[recused])


def test_existing_skew_minimises_the_max_load() -> None:
    # 4 judges, 6 cases, k=2: 12 slots. Judge a already holds 4 (c0..c3), so a
    # load of 4 is forced; the 8 open slots go to b, c, d only (3, 3, 2), a gets none.
    judges = [JudgeRef(j, frozenset({"service"}), f"unit-{j}") for j in "abcd"]
    cases = [CaseRef(f"c{i}", "service", "elsewhere") for i in range(6)]
    existing = [("a", f"c{i}") for i in range(4)]
    plan = plan_text_review(cases, judges, 2, existing=existing)
    assert set(existing) <= set(plan.pairs)
    loads = category_loads(plan, cases, judges)["service"]
    assert loads["a"] == 4
    assert sorted(loads.values()) == [2, 3, 3, 4]


def test_judge_in_two_categories_is_balanced_per_category() -> None:
    both = JudgeRef("both", frozenset({"development", "service"}), "x")
    dev = [JudgeRef(f"d{i}", frozenset({"development"}), "x") for i in range(3)]
    srv = [JudgeRef(f"s{i}", frozenset({"service"}), "x") for i in range(1)]
    cases = [CaseRef(f"dev{i}", "development", "u") for i in range(8)]
    cases += [CaseRef(f"srv{i}", "service", "u") for i in range(4)]
    judges = [both, *dev, *srv]
    plan = plan_text_review(cases, judges, 2)
    assert_valid(plan, cases, judges, 2)
    loads = category_loads(plan, cases, judges)
    assert loads["development"] == {"both": 4, "d0": 4, "d1": 4, "d2": 4}
    assert loads["service"] == {"both": 4, "s0": 4}
    assert plan.per_judge["both"] == 8


def test_cannot_meet_k_is_a_clear_error() -> None:
    cases, judges = example_cases(), example_judges()
    with pytest.raises(AssignmentError) as info:
        plan_text_review(cases, judges, 8)
    err = info.value
    assert err.code == "cannot_meet_k"
    assert err.category == "development"
    assert "发展提质" in err.message
    assert "case-00" in err.message
    assert "减少每案评委数" in err.message and "添加该类别评委" in err.message


def test_conflicts_alone_can_break_k() -> None:
    cases, judges = example_cases(), example_judges()
    # k = 7 uses the whole panel of 7; each case whose unit is a judge's
    # affiliation or declared conflict has only 6.
    with pytest.raises(AssignmentError) as info:
        plan_text_review(cases, judges, 7)
    err = info.value
    assert err.code == "cannot_meet_k"
    assert err.case_ids[0] == "case-00"
    assert "case-00" in err.message and "6" in err.message
    # case-42 (development, unit 42) has no conflict, so it is not listed.
    assert "case-42" not in err.case_ids
    assert "case-21" in err.case_ids


def test_category_without_judges_is_no_judges() -> None:
    cases = [CaseRef("c1", "empowerment", "u")]
    judges = [JudgeRef("j", frozenset({"service"}), "x")]
    with pytest.raises(AssignmentError) as info:
        plan_text_review(cases, judges, 1)
    assert info.value.code == "no_judges"
    assert "党建赋能" in info.value.message and "c1" in info.value.message
    with pytest.raises(AssignmentError) as info:
        plan_final(cases, judges)
    assert info.value.code == "no_judges"


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        plan_text_review([], [], 0)


def test_final_is_whole_panel_minus_conflicts() -> None:
    cases, judges = example_cases(), example_judges()
    recused = ("judge-01", "case-04")
    kept = ("judge-02", "case-05")
    plan = plan_final(cases, judges, existing=[kept], excluded=[recused])
    expected = {
        (j.judge_id, c.case_id)
        for j in judges
        for c in cases
        if c.category in j.categories and not is_conflict(j, c)
    } - {recused}
    assert set(plan.pairs) == expected
    assert kept in plan.pairs and kept not in plan.new
    assert set(plan.new) == expected - {kept}
    assert plan.per_judge["judge-01"] == 20 - 2 - 1
    assert plan.per_judge["judge-00"] == 20 - 2


def test_coaching_one_expert_each_balanced() -> None:
    cases, judges = example_cases(), example_judges()
    plan = plan_coaching(cases, judges)
    assert_valid(plan, cases, judges, 1)
    for loads in category_loads(plan, cases, judges).values():
        assert sorted(set(loads.values())) == [2, 3]  # 20 cases over 7 experts
    again = plan_coaching(list(reversed(cases)), list(reversed(judges)), existing=plan.pairs)
    assert again.new == () and again.pairs == plan.pairs


def test_balance_follows_conflicts_when_perfect_balance_is_impossible() -> None:
    # Judge "busy" is the only one allowed on the three "hard" cases, so it must
    # carry 3; the four "easy" cases go to the others, never to "busy".
    judges = [JudgeRef("busy", frozenset({"service"}), "x")]
    judges += [JudgeRef(f"o{i}", frozenset({"service"}), "hard-unit") for i in range(4)]
    cases = [CaseRef(f"hard{i}", "service", "hard-unit") for i in range(3)]
    cases += [CaseRef(f"easy{i}", "service", "y") for i in range(4)]
    plan = plan_text_review(cases, judges, 1)
    loads = category_loads(plan, cases, judges)["service"]
    assert loads == {"busy": 3, "o0": 1, "o1": 1, "o2": 1, "o3": 1}


def test_greedy_trap_is_repaired() -> None:
    # Each case has two possible judges. The greedy start gives c0 to j0 and
    # c1 to j1, then c2 (j0 or j1, both at 1) to j0, leaving j2 idle; the
    # augmenting path j0 -c0-> j2 must fix it to one case each.
    judges = [
        JudgeRef("j0", frozenset({"service"}), "unit-d"),
        JudgeRef("j1", frozenset({"service"}), "unit-a"),
        JudgeRef("j2", frozenset({"service"}), "unit-c"),
    ]
    cases = [
        CaseRef("c0", "service", "unit-a"),
        CaseRef("c1", "service", "unit-d"),
        CaseRef("c2", "service", "unit-c"),
    ]
    plan = plan_text_review(cases, judges, 1)
    assert_valid(plan, cases, judges, 1)
    assert plan.per_judge == {"j0": 1, "j1": 1, "j2": 1}


# --------------------------------------------------------------------------- properties

UNITS = ("u0", "u1", "u2", "u3")


@st.composite
def instances(draw, max_cases: int = 6, max_judges: int = 5):
    n_cases = draw(st.integers(1, max_cases))
    n_judges = draw(st.integers(1, max_judges))
    cats = CATEGORIES[:2]
    cases = [
        CaseRef(f"c{i}", draw(st.sampled_from(cats)), draw(st.sampled_from(UNITS)))
        for i in range(n_cases)
    ]
    judges = [
        JudgeRef(
            f"j{i}",
            frozenset(draw(st.sets(st.sampled_from(cats), min_size=1))),
            draw(st.sampled_from(UNITS + ("none",))),
            frozenset(draw(st.sets(st.sampled_from(UNITS), max_size=1))),
        )
        for i in range(n_judges)
    ]
    k = draw(st.integers(1, 3))
    eligible = sorted(
        (j.judge_id, c.case_id)
        for j in judges
        for c in cases
        if c.category in j.categories and not is_conflict(j, c)
    )
    chosen = draw(st.sets(st.sampled_from(eligible), max_size=6)) if eligible else set()
    existing, excluded, per_case = [], [], Counter()
    for pair in sorted(chosen):
        if draw(st.booleans()):
            excluded.append(pair)
        elif per_case[pair[1]] < k:
            per_case[pair[1]] += 1
            existing.append(pair)
    return cases, judges, k, existing, excluded


def achievable_extremes(cases, judges, k, existing, excluded, category):
    """Brute force: (min possible max load, max possible min load) in one category."""
    pool = [j for j in judges if category in j.categories]
    ids = [j.judge_id for j in pool]
    base = [sum(1 for p in existing if p[0] == jid and p[1] in cat_cases(cases, category)) for jid in ids]
    states = {tuple(base)}
    for case in cases:
        if case.category != category:
            continue
        holders = {j for j, c in existing if c == case.case_id}
        need = k - len(holders)
        options = [
            i
            for i, j in enumerate(pool)
            if j.judge_id not in holders
            and (j.judge_id, case.case_id) not in excluded
            and not is_conflict(j, case)
        ]
        nxt = set()
        for state in states:
            for combo in itertools.combinations(options, need):
                s = list(state)
                for i in combo:
                    s[i] += 1
                nxt.add(tuple(s))
        states = nxt
    return min(max(s) for s in states), max(min(s) for s in states), states


def cat_cases(cases, category):
    return {c.case_id for c in cases if c.category == category}


def short_cases(cases, judges, k, existing, excluded):
    short = []
    for case in cases:
        holders = {j for j, c in existing if c == case.case_id}
        options = [
            j
            for j in judges
            if case.category in j.categories
            and j.judge_id not in holders
            and (j.judge_id, case.case_id) not in excluded
            and not is_conflict(j, case)
        ]
        if len(options) < k - len(holders):
            short.append(case.case_id)
    return short


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_property_valid_and_optimally_balanced(instance) -> None:
    cases, judges, k, existing, excluded = instance
    if short_cases(cases, judges, k, existing, excluded):
        with pytest.raises(AssignmentError) as info:
            plan_text_review(cases, judges, k, existing, excluded)
        assert info.value.code in {"cannot_meet_k", "no_judges"}
        assert info.value.case_ids[0] in info.value.message
        return
    plan = plan_text_review(cases, judges, k, existing, excluded)
    assert_valid(plan, cases, judges, k, excluded)
    assert set(existing) <= set(plan.pairs)
    assert set(plan.new) == set(plan.pairs) - set(existing)
    for cat, loads in category_loads(plan, cases, judges).items():
        best_max, best_min, states = achievable_extremes(cases, judges, k, existing, excluded, cat)
        got = list(loads.values())
        assert max(got) == best_max
        assert min(got) == best_min
        if any(max(s) - min(s) <= 1 for s in states):
            assert spread(loads) <= 1


@settings(max_examples=150, deadline=None)
@given(instances(max_cases=8, max_judges=6), st.randoms(use_true_random=False))
def test_property_deterministic_under_shuffling(instance, rnd) -> None:
    cases, judges, k, existing, excluded = instance
    def run(cs, js, ex, xs):
        try:
            return plan_text_review(cs, js, k, ex, xs)
        except AssignmentError as err:
            return (err.code, err.message, err.case_ids)
    expected = run(cases, judges, existing, excluded)
    for _ in range(2):
        shuffled = [list(x) for x in (cases, judges, existing, excluded)]
        for x in shuffled:
            rnd.shuffle(x)
        assert run(*shuffled) == expected


@settings(max_examples=150, deadline=None)
@given(instances())
def test_property_coaching_and_final(instance) -> None:
    cases, judges, _, existing, excluded = instance
    existing = [p for p in existing if Counter(c for _, c in existing)[p[1]] == 1]
    if not short_cases(cases, judges, 1, existing, excluded):
        plan = plan_coaching(cases, judges, existing, excluded)
        assert_valid(plan, cases, judges, 1, excluded)
        for cat, loads in category_loads(plan, cases, judges).items():
            best_max, best_min, _ = achievable_extremes(cases, judges, 1, existing, excluded, cat)
            assert (max(loads.values()), min(loads.values())) == (best_max, best_min)
    try:
        final = plan_final(cases, judges, existing, excluded)
    except AssignmentError as err:
        assert err.code == "no_judges"
        assert err.case_ids and all(
            not any(c == case_id for _, c in existing) for case_id in err.case_ids
        )
        return
    expected = {
        (j.judge_id, c.case_id)
        for j in judges
        for c in cases
        if c.category in j.categories and not is_conflict(j, c)
    } - set(excluded)
    assert set(final.pairs) == expected | set(existing)
