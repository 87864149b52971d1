"""Coaching for units (专家辅导): the anonymised feedback on an advanced case, the unit's point-by-point
replies, and the list of the case's versions (each coaching revision is a new version).

A reply is keyed by a digest of the point it answers (not by the expert's label or position), so it
stays with its point even if the numbering of experts changes when another expert's feedback arrives.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from ..domain.competition import Competition, format_time
from ..domain.errors import Forbidden, Invalid
from ..store import final as store
from . import cases as case_service
from . import scoring
from . import stages as stage_service
from .accounts import Principal

MAX_REPLY = 1000


def point_key(point: str) -> str:
    return hashlib.sha256(point.encode("utf-8")).hexdigest()[:16]


def _replies(case: Any) -> dict[str, str]:
    try:
        value = json.loads(case.feedback_replies or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def feedback(comp: Competition, principal: Principal, case_id: str, now: datetime) -> dict[str, Any]:
    """The feedback (专家1, 专家2 …), each point with its key and the unit's reply, and what may be done now."""
    case = case_service.get(principal, case_id)
    replies = _replies(case)
    experts = scoring.feedback_for_unit(comp, principal, case_id)["feedback"]
    window = stage_service.windows(comp)["coaching"]
    open_now = window.is_open(now) and case.status == "advanced"
    return {
        "case_id": case.id, "status": case.status, "version": int(case.version),
        "coaching": {"opens_at": format_time(window.opens_at), "closes_at": format_time(window.closes_at),
                     "status": window.status(now)},
        "can_reply": open_now and principal.role == "unit", "can_revise": open_now and principal.role == "unit",
        "feedback": [{"judge": e["judge"], "points": [_point(p, replies) for p in e["points"]]} for e in experts],
    }


def _point(text: str, replies: dict[str, str]) -> dict[str, Any]:
    key = point_key(text)
    return {"key": key, "text": text, "reply": replies.get(key)}


def save_replies(comp: Competition, principal: Principal, case_id: str, raw: Any, now: datetime) -> dict[str, Any]:
    """Replace the unit's replies: {"replies": {"<point key>": "…"}}; an empty reply removes it."""
    case = case_service.get(principal, case_id)
    if principal.role != "unit":
        raise Forbidden("只有参赛单位可以回复辅导意见")
    sent = raw.get("replies") if isinstance(raw, dict) else None
    if not isinstance(sent, dict):
        raise Invalid("请逐条填写回复（replies 为对象：意见编号 → 回复）", {"replies": "应为对象"})
    known = {point_key(p) for e in scoring.feedback_for_unit(comp, principal, case_id)["feedback"] for p in e["points"]}
    errors: dict[str, str] = {}
    replies = _replies(case)
    before = dict(replies)
    for key, text in sent.items():
        if key not in known:
            errors[f"replies.{key}"] = "没有这条辅导意见（可能已被专家修改），请刷新页面后再回复"
        elif text is not None and (not isinstance(text, str) or len(text.strip()) > MAX_REPLY):
            errors[f"replies.{key}"] = f"回复应为不超过 {MAX_REPLY} 字的文字"
        elif text is None or not text.strip():
            replies.pop(key, None)
        else:
            replies[key] = text.strip().replace("\r\n", "\n")
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    store.save_replies(case, json.dumps(replies, ensure_ascii=False, sort_keys=True), comp.id, principal.actor,
                       now.timestamp(), before=before, after=replies)
    return {"case_id": case.id, "replies": replies}


def versions(principal: Principal, case_id: str) -> dict[str, Any]:
    """The case's versions, newest first: the current one and every earlier one still readable."""
    case = case_service.get(principal, case_id)
    view = case_service.case_view(case)
    earlier = sorted({int(v) for v in case.history or []}, reverse=True)
    return {"case_id": case.id, "title": view.get("title", ""), "current": int(case.version),
            "updated_at": view["updated_at"], "earlier": earlier}
