"""Times and dates as people read them (chalicelib/domain/readable.py): one format for pages, mail and sheets."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.competition import CHINA
from chalicelib.domain.readable import day, when

SIX_PM = datetime(2023, 6, 9, 18, 0, tzinfo=CHINA)


@pytest.mark.parametrize("value", [
    SIX_PM,
    SIX_PM.astimezone(timezone.utc),                         # any zone: shown in China's
    datetime(2023, 6, 9, 18, 0),                             # naive: China time
    "2023-06-09T18:00:00+08:00",
    "2023-06-09T10:00:00+00:00",
    "2023-06-09T18:00:00",
    "2023-06-09T18:00:59.999+08:00",                         # minutes, not rounded up
    SIX_PM.timestamp(),
    int(SIX_PM.timestamp()),
], ids=repr)
def test_when_is_the_day_in_chinese_and_the_time_in_china(value):
    assert when(value) == "2023年6月9日 18:00"


def test_when_crosses_midnight_into_chinas_day():
    assert when(datetime(2023, 6, 9, 16, 30, tzinfo=timezone.utc)) == "2023年6月10日 00:30"
    assert when(datetime(2023, 12, 31, 23, 59, 59, tzinfo=CHINA) + timedelta(seconds=1)) == "2024年1月1日 00:00"


def test_a_date_alone_has_no_time():
    assert (when(date(1990, 1, 1)), when("1990-01-01"), day("1990-01-01")) == ("1990年1月1日",) * 3
    assert day(SIX_PM) == day("2023-06-09T18:00:00+08:00") == day(SIX_PM.timestamp()) == "2023年6月9日"


@pytest.mark.parametrize("value", [None, ""])
def test_nothing_is_shown_as_nothing(value):
    assert (when(value), day(value)) == ("", "")


@pytest.mark.parametrize("value", ["2023年6月9日 18:00", "尚未提交", "2023-13-01T00:00:00"])
def test_text_that_is_no_time_stays_as_it_is(value):
    """So a value formatted earlier (a mail's context) passes through the filter unchanged."""
    assert (when(value), day(value)) == (value, value)

