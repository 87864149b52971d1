"""The one conversion between the current time as the services take it (an aware datetime) and the epoch
seconds the tables store. Pure: the clock itself is `bootstrap.now()`; domain code never reads it."""
from __future__ import annotations

from datetime import datetime, timezone


def epoch(now: datetime) -> float:
    """Epoch seconds of an aware datetime (what a row stores)."""
    if now.tzinfo is None:
        raise ValueError("an aware datetime is needed for the current time")
    return now.timestamp()


def moment(seconds: float) -> datetime:
    """The aware UTC datetime of epoch seconds (a stored time, or a float clock's reading)."""
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc)
