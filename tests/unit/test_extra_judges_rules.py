"""加评's pure rules: which places a rank window takes (ties whole, unscored never) and how extra judges are
chosen (回避, never a judge already on the case, the lightest first, all or nothing)."""
from __future__ import annotations

import pytest

from chalicelib.domain.assignment import AssignmentError, CaseRef, JudgeRef, plan_extra
from chalicelib.domain.ranking import in_rank_window

# (case, rank, scores): places 1, 2–3 (tie), 4, 5–7 (tie), then two unscored cases sharing rank 8.
RANKED = [("a", 1, 3), ("b", 2, 3), ("c", 2, 3), ("d", 4, 3), ("e", 5, 3), ("f", 5, 3), ("g", 5, 3),
          ("h", 8, 0), ("i", 8, 0)]


@pytest.mark.parametrize("first, last, expected", [
    (1, 1, ["a"]), (3, 3, ["b", "c"]), (3, 4, ["b", "c", "d"]), (4, 4, ["d"]), (6, 6, ["e", "f", "g"]),
    (7, 9, ["e", "f", "g"]), (8, 20, []), (1, 20, ["a", "b", "c", "d", "e", "f", "g"]),
])
def test_a_rank_window_takes_whole_tied_groups_and_never_unscored_cases(first, last, expected):
    assert in_rank_window(RANKED, first, last) == expected


def judge(n: int, load_unit: str = "") -> JudgeRef:
    return JudgeRef(f"j{n}", frozenset({"development"}), f"单位{n}", frozenset({load_unit} if load_unit else ()))


CASES = [CaseRef("c1", "development", "单位1"), CaseRef("c2", "development", "单位2")]


def test_extra_judges_keep_conflicts_skip_assigned_judges_and_take_the_lightest_first():
    judges = [judge(n) for n in range(1, 6)] + [JudgeRef("s1", frozenset({"service"}), "其他", frozenset())]
    assigned = {"c1": {"j2"}, "c2": {"j3"}}
    load = {"j1": 3, "j2": 1, "j3": 1, "j4": 2, "j5": 0, "s1": 0}
    # c1 (单位1): not j1 (回避), j2 (on it), s1 (another category) -> j5 (0), j3 (1); then c2 (单位2): not j2, j3
    # -> j5 (now 1), j4 (2) before j1 (3).
    assert plan_extra(CASES, judges, 2, assigned, {}, load) == (
        ("j3", "c1"), ("j4", "c2"), ("j5", "c1"), ("j5", "c2"))


def test_extra_judges_already_there_count_and_asking_again_adds_nothing():
    judges = [judge(n) for n in range(1, 6)]
    extra = {"c1": {"j3", "j4"}, "c2": {"j4", "j5"}}
    assert plan_extra(CASES, judges, 2, {"c1": {"j2"}, "c2": {"j1"}}, extra, {}) == ()
    assert plan_extra(CASES, judges, 3, {"c1": {"j2"}, "c2": {"j1"}}, extra, {}) == (("j3", "c2"), ("j5", "c1"))


def test_a_case_that_cannot_get_its_extra_judges_refuses_the_whole_plan():
    judges = [judge(1), judge(2), judge(3, load_unit="单位2")]
    with pytest.raises(AssignmentError) as raised:
        plan_extra(CASES, judges, 2, {"c2": {"j1"}}, {}, {})
    assert (raised.value.code, raised.value.case_ids) == ("cannot_meet_k", ("c2",))
    assert raised.value.message == (
        "类别「发展提质」(development)的案例 c2 要增加 2 名评委，还差 2 名，但可增加的评委只有 0 名"
        "（已除去回避和已分配到该案例的评委）。请添加该类别评委、检查回避设置或减少每案增加的评委数。")


@pytest.mark.parametrize("seed", range(40))
def test_extra_judges_leave_the_loads_within_one_whatever_the_order_of_the_ids(seed):
    """The 2023 shape: 30 cases of two per unit, 12 judges (one per unit), 5 regular judges each, then 2 extra
    judges on 7 cases near the line. Ids in a random order (they are random in the product): the lightest-first
    start alone left a judge at 5 beside judges at 7; the rebalance ends within one."""
    import random
    rng = random.Random(seed)
    names = [f"{rng.getrandbits(64):016x}" for _ in range(42)]
    judges = [JudgeRef(names[n], frozenset({"development"}), f"单位{n + 1}", frozenset()) for n in range(12)]
    cases = [CaseRef(names[12 + n], "development", f"单位{n // 2 + 1}") for n in range(30)]
    from chalicelib.domain.assignment import plan_text_review
    regular = plan_text_review(cases, judges, 5).pairs
    assigned: dict[str, set[str]] = {}
    for judge_id, case_id in regular:
        assigned.setdefault(case_id, set()).add(judge_id)
    load = {j.judge_id: sum(1 for p in regular if p[0] == j.judge_id) for j in judges}
    near_the_line = rng.sample(cases, 7)
    extra = plan_extra(near_the_line, judges, 2, assigned, {}, load)
    assert len(extra) == 14 and all(j not in assigned[c] for j, c in extra)
    for judge_id, _ in extra:
        load[judge_id] += 1
    assert max(load.values()) - min(load.values()) <= 1, sorted(load.values())
