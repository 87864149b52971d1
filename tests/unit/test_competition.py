"""The competition config and stage windows: status at the edges, overlap checks, local demo windows."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from chalicelib import competitions
from chalicelib.domain.competition import (
    CHINA, JUDGED_STAGES, STAGE_ORDER, StageWindow, check_windows_do_not_overlap, competition_from_config, format_time,
    is_coaching, parse_time,
)

SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
def comp():
    return competition_from_config(competitions.load("shenzhen-2023"))


def window(opens: str, closes: str, stage_id: str = "submission", closed: bool = False) -> StageWindow:
    return StageWindow(stage_id, "文本申报", parse_time(opens), parse_time(closes), closed)


# -- the 2023 config -------------------------------------------------------------------------------

def test_config_2023_categories_and_criteria(comp) -> None:
    assert [(c.id, c.name, [(k.id, k.name, k.max) for k in c.criteria]) for c in comp.categories] == [
        ("development", "发展提质", [("foresight", "前瞻性", 30), ("practicality", "实践性", 30),
                                      ("effectiveness", "成效性", 40)]),
        ("service", "服务增效", [("targeting", "针对性", 30), ("mechanism", "机制性", 30),
                                  ("effectiveness", "实效性", 40)]),
        ("empowerment", "党建赋能", [("innovation", "创新性", 30), ("effectiveness", "实效性", 40),
                                      ("replicability", "推广性", 30)]),
    ]


def test_config_2023_limits_and_quota(comp) -> None:
    assert (comp.max_chars, comp.max_points, comp.advance_per_category) == (3000, 3, 15)
    assert comp.theme == "抓党建强队伍 促发展建新功"


def test_config_2023_stage_windows(comp) -> None:
    assert [(w.id, w.name, format_time(w.opens_at), format_time(w.closes_at)) for w in comp.default_windows] == [
        ("submission", "文本申报", "2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00"),
        ("text_review", "文本评审", "2023-06-10T00:00:00+08:00", "2023-06-16T23:59:59+08:00"),
        ("coaching", "专家辅导", "2023-06-17T00:00:00+08:00", "2023-06-23T23:59:59+08:00"),
        ("final", "综合评选", "2023-06-24T00:00:00+08:00", "2023-07-10T23:59:59+08:00"),
        ("provincial", "省赛准备", "2023-07-11T00:00:00+08:00", "2023-07-31T23:59:59+08:00"),
    ]


def test_the_coaching_kind_stages_are_the_judged_ones_without_scores_and_name_their_round(comp) -> None:
    assert [s for s in STAGE_ORDER if is_coaching(s)] == ["coaching", "provincial"]
    assert JUDGED_STAGES == ("text_review", "coaching", "final", "provincial")
    assert [comp.round_name(s) for s in STAGE_ORDER] == ["文本申报", "文本评审", "专家辅导", "综合评选", "赛前辅导"]
    assert not is_coaching(None) and not is_coaching("final")


def test_config_2023_windows_do_not_overlap(comp) -> None:
    assert check_windows_do_not_overlap(list(comp.default_windows)) == {}


def test_config_stages_out_of_order_are_refused() -> None:
    raw = dict(competitions.load("shenzhen-2023"))
    raw["stages"] = list(reversed(raw["stages"]))
    with pytest.raises(ValueError):
        competition_from_config(raw)


# -- time parsing ----------------------------------------------------------------------------------

def test_parse_time_naive_is_read_in_china() -> None:
    assert parse_time("2023-06-09T23:59:59") == datetime(2023, 6, 9, 23, 59, 59, tzinfo=CHINA)


def test_parse_time_keeps_the_given_offset() -> None:
    assert parse_time("2023-06-09T15:59:59Z") == datetime(2023, 6, 9, 23, 59, 59, tzinfo=CHINA)


def test_format_time_answers_in_plus_eight() -> None:
    assert format_time(parse_time("2023-06-09T15:59:59+00:00")) == "2023-06-09T23:59:59+08:00"


# -- status at the edges ---------------------------------------------------------------------------

def test_window_status_one_second_before_opens_is_pending() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00")
    assert w.status(w.opens_at - SECOND) == "pending"
    assert w.is_open(w.opens_at - SECOND) is False


def test_window_status_at_opens_is_open() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00")
    assert w.status(w.opens_at) == "open"


def test_window_status_one_second_after_opens_is_open() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00")
    assert w.status(w.opens_at + SECOND) == "open"


def test_window_status_one_second_before_closes_is_open() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00")
    assert w.status(w.closes_at - SECOND) == "open"
    assert w.is_open(w.closes_at - SECOND) is True


def test_window_status_at_closes_is_closed() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00")
    assert w.status(w.closes_at) == "closed"


def test_window_status_one_second_after_closes_is_closed() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00")
    assert w.status(w.closes_at + SECOND) == "closed"
    assert w.is_open(w.closes_at + SECOND) is False


def test_window_status_other_zone_same_instant() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00")
    assert w.status(parse_time("2023-06-09T15:59:58+00:00")) == "open"
    assert w.status(parse_time("2023-06-09T15:59:59+00:00")) == "closed"


def test_window_closed_by_organiser_is_closed_inside_its_window() -> None:
    w = window("2023-05-19T00:00:00+08:00", "2023-06-09T23:59:59+08:00", closed=True)
    assert w.status(parse_time("2023-06-01T10:00:00+08:00")) == "closed"


# -- overlaps --------------------------------------------------------------------------------------

def test_overlap_submission_closing_after_text_review_opens(comp) -> None:
    windows = list(comp.default_windows)
    windows[0] = replace(windows[0], closes_at=parse_time("2023-06-10T12:00:00+08:00"))
    assert check_windows_do_not_overlap(windows) == {
        "text_review.opens_at": "文本评审的开始时间必须晚于文本申报的截止时间（2023年6月10日 12:00:00），阶段时间不能重叠"}


def test_overlap_touching_instant_is_an_overlap(comp) -> None:
    windows = list(comp.default_windows)
    windows[1] = replace(windows[1], opens_at=windows[0].closes_at)
    assert list(check_windows_do_not_overlap(windows)) == ["text_review.opens_at"]


def test_overlap_one_second_apart_is_fine(comp) -> None:
    windows = list(comp.default_windows)
    windows[1] = replace(windows[1], opens_at=windows[0].closes_at + SECOND)
    assert check_windows_do_not_overlap(windows) == {}


def test_overlap_window_closing_before_it_opens(comp) -> None:
    windows = list(comp.default_windows)
    windows[2] = replace(windows[2], closes_at=windows[2].opens_at)
    assert check_windows_do_not_overlap(windows) == {"coaching.closes_at": "专家辅导的截止时间必须晚于开始时间"}


def test_overlap_order_of_the_list_does_not_matter(comp) -> None:
    windows = list(reversed(comp.default_windows))
    assert check_windows_do_not_overlap(windows) == {}


def test_overlap_later_stage_moved_before_earlier(comp) -> None:
    windows = list(comp.default_windows)
    windows[4] = replace(windows[4], opens_at=parse_time("2023-05-01T00:00:00+08:00"),
                         closes_at=parse_time("2023-05-02T00:00:00+08:00"))
    assert list(check_windows_do_not_overlap(windows)) == ["provincial.opens_at"]


# -- local demo windows ----------------------------------------------------------------------------

def test_demo_windows_submission_opens_today_for_30_days(comp) -> None:
    demo = comp.demo_windows(date(2024, 3, 1))
    assert (format_time(demo[0].opens_at), format_time(demo[0].closes_at)) == (
        "2024-03-01T00:00:00+08:00", "2024-03-30T23:59:59+08:00")


def test_demo_windows_later_stages_follow_in_order(comp) -> None:
    demo = comp.demo_windows(date(2024, 3, 1))
    assert [(w.id, format_time(w.opens_at), format_time(w.closes_at)) for w in demo] == [
        ("submission", "2024-03-01T00:00:00+08:00", "2024-03-30T23:59:59+08:00"),
        ("text_review", "2024-03-31T00:00:00+08:00", "2024-04-06T23:59:59+08:00"),
        ("coaching", "2024-04-07T00:00:00+08:00", "2024-04-13T23:59:59+08:00"),
        ("final", "2024-04-14T00:00:00+08:00", "2024-04-27T23:59:59+08:00"),
        ("provincial", "2024-04-28T00:00:00+08:00", "2024-05-11T23:59:59+08:00"),
    ]


def test_demo_windows_do_not_overlap_and_keep_names(comp) -> None:
    demo = comp.demo_windows(date(2023, 12, 20))
    assert check_windows_do_not_overlap(list(demo)) == {}
    assert [w.id for w in demo] == list(STAGE_ORDER)
    assert [w.name for w in demo] == [w.name for w in comp.default_windows]


def test_demo_windows_submission_is_open_now(comp) -> None:
    today = date(2024, 3, 1)
    demo = comp.demo_windows(today)
    midday = datetime(2024, 3, 1, 12, 0, tzinfo=CHINA)
    assert [w.status(midday) for w in demo] == ["open", "pending", "pending", "pending", "pending"]
