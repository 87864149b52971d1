"""domain/clock.py: the one conversion between the current time (an aware datetime) and epoch seconds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.clock import epoch, moment

CHINA = timezone(timedelta(hours=8))


def test_epoch_and_moment_are_inverse_for_aware_times():
    at = datetime(2023, 6, 1, 10, 0, 30, 250000, tzinfo=CHINA)
    assert epoch(at) == 1_685_584_830.25
    assert moment(epoch(at)) == at and moment(epoch(at)).tzinfo == timezone.utc
    assert moment(1_685_584_830) == at.replace(microsecond=0)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        epoch(datetime(2023, 6, 1, 10, 0))
