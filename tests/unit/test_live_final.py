"""The live final's hall rules (domain/live_final.py) and the dropped highest and lowest (domain/ranking.py)."""
from __future__ import annotations

import pytest

from chalicelib.domain import live_final as live
from chalicelib.domain.ranking import JudgeScore, Method, RankingSettings

FINALISTS = ("c1", "c2", "c3")


def test_presenting_a_case_resets_its_timer():
    state = live.start_timer(live.present(live.LiveState(), "c1", FINALISTS, 100.0), 110.0)
    assert (state.presenting, state.timer_started_at) == ("c1", 110.0)
    nxt = live.present(state, "c2", FINALISTS, 600.0)
    assert nxt == live.LiveState(presenting="c2", presenting_since=600.0)
    assert live.present(nxt, "c2", FINALISTS, 700.0) is nxt


def test_only_a_finalist_presents():
    with pytest.raises(live.LiveError, match="只能选择本类别进入综合评选的案例"):
        live.present(live.LiveState(), "c9", FINALISTS, 1.0)


def test_the_timer_needs_a_presenting_case_and_stops_once():
    with pytest.raises(live.LiveError, match="请先选择现在展示的案例"):
        live.start_timer(live.LiveState(), 1.0)
    running = live.start_timer(live.present(live.LiveState(), "c1", FINALISTS, 0.0), 10.0)
    assert live.timer_seconds(running, 70.5) == 60.5
    stopped = live.stop_timer(running, 500.0)
    assert (live.timer_seconds(stopped, 9999.0), live.timer_seconds(live.LiveState(), 5.0)) == (490.0, 0.0)
    with pytest.raises(live.LiveError, match="计时没有在进行"):
        live.stop_timer(stopped, 501.0)
    assert live.start_timer(stopped, 600.0).timer_stopped_at is None


def test_reveal_the_presenting_case_once_it_has_a_score():
    state = live.present(live.LiveState(), "c1", FINALISTS, 0.0)
    with pytest.raises(live.LiveError, match="只能为现在展示的案例亮分"):
        live.reveal(state, "c2", 3)
    with pytest.raises(live.LiveError, match="还没有评委为该案例评分"):
        live.reveal(state, "c1", 0)
    shown = live.reveal(state, "c1", 2)
    assert shown.revealed == ("c1",) and live.reveal(shown, "c1", 5) is shown
    later = live.reveal(live.present(shown, "c3", FINALISTS, 9.0), "c3", 1)
    assert later.revealed == ("c1", "c3")


def test_a_state_survives_its_record():
    state = live.schedule(live.reveal(live.present(live.LiveState(), "c2", FINALISTS, 5.0), "c2", 1), 1687914000.0)
    assert live.state_from_record(state.record()) == state
    assert live.state_from_record(None) == live.LiveState()


def test_presentation_rules_and_expected_starts():
    rules = live.presentation_from_config({"final_live": {"presentation_minutes": 8, "slot_minutes": 12}})
    assert (rules.seconds, rules.warning_seconds, rules.slot_minutes) == (480, 60, 12)
    assert live.presentation_from_config({}) == live.Presentation(8, 60, 10)
    assert [live.expected_start(1000.0, rules, p) for p in (1, 2, 3)] == [1000.0, 1720.0, 2440.0]


def _scores(*totals: int) -> list[JudgeScore]:
    return [JudgeScore(f"j{i}", "c1", {"effectiveness": t}) for i, t in enumerate(totals, 1)]


def test_dropped_scores_are_one_highest_and_one_lowest_from_five_scores():
    settings = RankingSettings()
    scores = _scores(700, 900, 600, 800, 850)
    assert settings.dropped(scores) == (scores[1], scores[2])
    assert settings.dropped(scores[:4]) is None
    same = _scores(800, 800, 800, 800, 800)
    assert settings.dropped(same) == (same[0], same[1])          # two distinct scores, the first ones
    assert RankingSettings(method=Method.MEAN).dropped(scores) is None
    assert RankingSettings(trim_min_scores=3).dropped(scores[:3]) == (scores[1], scores[2])
