"""审核's rules (domain/review.py): the body of a decision, field by field, and the state the console lists."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.competition import parse_time
from chalicelib.domain.errors import Invalid
from chalicelib.domain.review import Decision, parse_decision, state_of

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2023, 6, 10, 9, 0, tzinfo=CHINA)
LATEST = datetime(2023, 6, 16, 23, 59, 59, tzinfo=CHINA)


def parse(raw):
    return parse_decision(raw, NOW, LATEST, parse_time)


def fields(raw) -> dict[str, str]:
    with pytest.raises(Invalid) as refused:
        parse(raw)
    return refused.value.fields


def test_accepting_needs_nothing_else_and_keeps_a_reason_given():
    assert parse({"decision": "accepted"}) == Decision("accepted", None, None)
    assert parse({"decision": "accepted", "reason": " 材料齐全 ", "resubmit_by": "x"}) == Decision(
        "accepted", "材料齐全", None)


def test_returning_takes_the_reason_and_the_deadline_in_china_time_when_naive():
    assert parse({"decision": "returned", "reason": "请补充", "resubmit_by": "2023-06-12T18:00"}) == Decision(
        "returned", "请补充", datetime(2023, 6, 12, 18, 0, tzinfo=CHINA))
    assert parse({"decision": "returned", "reason": "请补充", "resubmit_by": "2023-06-12T10:00:00Z"}).resubmit_by == (
        datetime(2023, 6, 12, 18, 0, tzinfo=CHINA))


@pytest.mark.parametrize("raw, expected", [
    ({}, {"decision": "请选择审核结果：通过（accepted）、退回修改（returned）或不予受理（rejected）"}),
    ({"decision": ["accepted"]}, {"decision": "请选择审核结果：通过（accepted）、退回修改（returned）或不予受理（rejected）"}),
    ({"decision": "rejected"}, {"reason": "请填写不予受理的原因（单位将在邮件和案例页看到）"}),
    ({"decision": "rejected", "reason": "字" * 501}, {"reason": "原因不能超过500个字（现有501个）"}),
    ({"decision": "rejected", "reason": "a\x00b"}, {"reason": "原因含有无效字符，请删除后重试"}),
    ({"decision": "returned", "reason": "请补充"},
     {"resubmit_by": "退回修改时请填写修改截止时间（单位在此之前可以修改并重新提交）"}),
    ({"decision": "returned", "reason": "请补充", "resubmit_by": 1686300000},
     {"resubmit_by": "修改截止时间应为带时区的 ISO-8601 时间，如 2023-06-14T18:00:00+08:00"}),
    ({"decision": "returned", "reason": "请补充", "resubmit_by": "2023-06-10T09:00:00+08:00"},
     {"resubmit_by": "修改截止时间应晚于现在（2023年6月10日 09:00）"}),
    ({"decision": "returned", "reason": "请补充", "resubmit_by": "2023-06-16T23:59:59+08:00"},
     {"resubmit_by": "修改截止时间应早于文本评审截止时间（2023年6月16日 23:59），以便重新提交后仍能审核和评审"}),
])
def test_each_refusal_names_its_field(raw, expected):
    assert fields(raw) == expected


def test_the_state_listed_follows_status_and_decision():
    assert [state_of(s, d) for s, d in (("submitted", None), ("submitted", "accepted"), ("submitted", "returned"),
                                        ("returned", "returned"), ("rejected", "rejected"))] == [
        "pending", "accepted", "resubmitted", "returned", "rejected"]
