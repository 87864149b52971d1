"""Times and dates as people read them: 2023年6月9日 18:00, in the competition's zone (Asia/Shanghai).

One formatter for every page (the Jinja filter `when`), mail, sheet, document and message. The JSON API keeps
ISO-8601 (the contract); a person never sees `2023-06-09T18:00:00+08:00` or an epoch number.

A value may come as an aware datetime, an ISO-8601 text (with an offset, or naive = China time), a date or
`YYYY-MM-DD` text (a birth date), or epoch seconds (how the tables store times). Nothing → "".
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Union

from .competition import CHINA

Moment = Union[datetime, date, str, int, float, None]


def when(value: Moment, seconds: bool = False) -> str:
    """`2023年6月9日 18:00` (a date alone: `2023年6月9日`); `2023年6月9日 18:00:05` with `seconds`, where they matter
    (a window that ended the moment a stage was closed). Text that is not a time is returned as it is."""
    moment = _moment(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    if isinstance(moment, datetime):
        return f"{day(moment)} {moment:%H:%M:%S}" if seconds else f"{day(moment)} {moment:%H:%M}"
    return day(moment)


def day(value: Moment) -> str:
    """`2023年6月9日`: the day (in China) of a time, or a date."""
    moment = _moment(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _moment(value: Moment) -> datetime | date | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=CHINA)).astimezone(CHINA)
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc).astimezone(CHINA)
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return _moment(datetime.fromisoformat(text))
    except ValueError:
        return None
