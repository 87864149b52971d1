"""审核 (the organiser's review of each submitted case before text review, notice 七(二)).

Decisions: `accepted` 通过 (the case stays `submitted` and goes on to text review), `returned` 退回修改 (the
unit may correct it and submit again until `resubmit_by`, a window of that case alone; submitted again, it
awaits review again), `rejected` 不予受理 (out of the competition for good). A case never reviewed counts as
accepted, so a competition that skips 审核 runs as before.

When: from the close of `submission` (the text is final then; before it the unit may still edit or withdraw a
submitted case, so a decision could be about a text that then changes) until `text_review` closes. A
`resubmit_by` lies in the future and before text review closes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from .errors import Invalid
from .readable import when
from .text import single_line

DECISIONS = {"accepted": "通过", "returned": "退回修改", "rejected": "不予受理"}
# The case's status after each decision.
STATUS_AFTER = {"accepted": "submitted", "returned": "returned", "rejected": "rejected"}
REASON_MAX = 500
# What the console shows of a case's review: not reviewed, or reviewed and resubmitted, is 未审核.
STATES = {"pending": "未审核", "resubmitted": "未审核（已按退回意见重新提交）", "accepted": "通过",
          "returned": "退回修改", "rejected": "不予受理"}
LABELS = {"decision": "审核结果", "reason": "原因", "resubmit_by": "修改截止时间"}


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str | None
    resubmit_by: datetime | None

    @property
    def status(self) -> str:
        return STATUS_AFTER[self.decision]


def parse_decision(raw: Any, now: datetime, latest: datetime, parse_time) -> Decision:
    """The body of a review; Invalid naming `decision`, `reason` or `resubmit_by`. `latest`: when text review
    closes (a deadline for corrections must lie before it); `parse_time`: ISO-8601 text -> aware datetime."""
    if not isinstance(raw, Mapping):
        raise Invalid("请求体应为 JSON 对象，含 decision、reason、resubmit_by", {"body": "应为 JSON 对象"})
    errors: dict[str, str] = {}
    decision = raw.get("decision")
    if not isinstance(decision, str) or decision not in DECISIONS:
        decision = None
        errors["decision"] = "请选择审核结果：通过（accepted）、退回修改（returned）或不予受理（rejected）"
    reason = _reason(raw.get("reason"), decision, errors)
    resubmit_by = _deadline(raw.get("resubmit_by"), decision, now, latest, parse_time, errors)
    if errors:
        first = next(iter(errors.values()))
        raise Invalid(first if len(errors) == 1 else f"{first}（共{len(errors)}处需要修改）", errors)
    return Decision(str(decision), reason, resubmit_by if decision == "returned" else None)


def _reason(value: Any, decision: Any, errors: dict[str, str]) -> str | None:
    if value is not None and not isinstance(value, str):
        errors["reason"] = "原因应为文字"
        return None
    text = (value or "").strip()
    if "\x00" in text:
        errors["reason"] = "原因含有无效字符，请删除后重试"
        return None
    if len(text) > REASON_MAX:
        errors["reason"] = f"原因不能超过{REASON_MAX}个字（现有{len(text)}个）"
        return None
    if not text and decision in ("returned", "rejected"):
        errors["reason"] = f"请填写{DECISIONS[decision]}的原因（单位将在邮件和案例页看到）"
        return None
    return text or None


def _deadline(value: Any, decision: Any, now: datetime, latest: datetime, parse_time,
              errors: dict[str, str]) -> datetime | None:
    if decision != "returned":
        return None
    if value in (None, ""):
        errors["resubmit_by"] = "退回修改时请填写修改截止时间（单位在此之前可以修改并重新提交）"
        return None
    try:
        moment = parse_time(single_line(value)) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        errors["resubmit_by"] = "修改截止时间应为带时区的 ISO-8601 时间，如 2023-06-14T18:00:00+08:00"
    elif moment <= now:
        errors["resubmit_by"] = f"修改截止时间应晚于现在（{when(now)}）"
    elif moment >= latest:
        errors["resubmit_by"] = f"修改截止时间应早于文本评审截止时间（{when(latest)}），以便重新提交后仍能审核和评审"
    else:
        return moment
    return None


def state_of(status: str, decision: str | None) -> str:
    """The review state of a case as the console lists it (a key of STATES)."""
    if status in ("returned", "rejected"):
        return status
    if decision == "accepted":
        return "accepted"
    return "resubmitted" if decision == "returned" else "pending"
