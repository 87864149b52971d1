"""Coaching for units: the anonymised feedback of both coaching rounds (专家辅导 on an advanced case, 赛前辅导
on an awarded case recommended to the provincial competition), the unit's point-by-point replies, and the
list of the case's versions (each revision of a coaching round is a new version).

A reply is keyed by a digest of the point it answers (not by the expert's label or position), so it
stays with its point even if the numbering of experts changes when another expert's feedback arrives.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from ..domain.clock import epoch
from ..domain.competition import Competition, StageId, format_time
from ..domain.errors import Forbidden, Invalid
from . import cases as case_service
from . import scoring
from . import stages as stage_service
from .accounts import Principal
from .repositories import CaseRepository, FinalRepository, JudgingRepository, StageRepository

MAX_REPLY = 1000


def point_key(point: str) -> str:
    return hashlib.sha256(point.encode("utf-8")).hexdigest()[:16]


def _replies(case: Any) -> dict[str, str]:
    try:
        value = json.loads(case.feedback_replies or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def feedback(judging: JudgingRepository, cases: CaseRepository, stages: StageRepository, comp: Competition,
             principal: Principal, case_id: str, now: datetime, *,
             competition_of: case_service.CompetitionOf) -> dict[str, Any]:
    """The feedback (专家1, 专家2 … within each round, with the round's stage and name), each point with its key
    and the unit's reply, the coaching round the case is in now (`round`: its stage, name and window) and
    what may be done now (replies: to the points of that round only; an earlier round's stay as they were).
    `coaching`: the 专家辅导 window, as before 赛前辅导 existed. The windows are the case's own competition's."""
    case = case_service.get(cases, principal, case_id)
    comp = case_service.competition_of_case(comp, competition_of, case)
    replies = _replies(case)
    experts = scoring.feedback_for_unit(judging, cases, comp, principal, case_id)["feedback"]
    windows = stage_service.windows(comp, stages)
    stage = round_of(case)
    current = windows[stage]
    open_now = case_service.editing_stage(case, windows, now) == stage
    return {
        "case_id": case.id, "status": case.status, "version": int(case.version),
        "coaching": _window(windows[StageId.COACHING], now),
        "round": {"stage": stage, "name": comp.round_name(stage), **_window(current, now)},
        "can_reply": open_now and principal.role == "unit", "can_revise": open_now and principal.role == "unit",
        "feedback": [{"judge": e["judge"], "stage": e["stage"], "round": e["round"],
                      "can_reply": open_now and principal.role == "unit" and e["stage"] == stage,
                      "points": [_point(p, replies) for p in e["points"]]} for e in experts],
    }


def round_of(case: Any) -> str:
    """The coaching round that concerns the case: 赛前辅导 once it is awarded and recommended to the provincial
    competition, else 专家辅导."""
    return StageId.PROVINCIAL if case.status == "awarded" and case.provincial else StageId.COACHING


def _window(window: Any, now: datetime) -> dict[str, str]:
    return {"opens_at": format_time(window.opens_at), "closes_at": format_time(window.closes_at),
            "status": window.status(now)}


def _point(text: str, replies: dict[str, str]) -> dict[str, Any]:
    key = point_key(text)
    return {"key": key, "text": text, "reply": replies.get(key)}


def save_replies(judging: JudgingRepository, cases: CaseRepository, final: FinalRepository, comp: Competition,
                 principal: Principal, case_id: str, raw: Any, now: datetime, *,
                 competition_of: case_service.CompetitionOf) -> dict[str, Any]:
    """Replace the unit's replies: {"replies": {"<point key>": "…"}}; an empty reply removes it. The write is
    held to the round's window of the case's own competition."""
    case = case_service.get(cases, principal, case_id)
    comp = case_service.competition_of_case(comp, competition_of, case)
    if principal.role != "unit":
        raise Forbidden("只有参赛单位可以回复辅导意见")
    sent = raw.get("replies") if isinstance(raw, dict) else None
    if not isinstance(sent, dict):
        raise Invalid("请逐条填写回复（replies 为对象：意见编号 → 回复）", {"replies": "应为对象"})
    stage = round_of(case)   # only the points of the case's current round are answered now
    known = {point_key(p) for e in scoring.feedback_for_unit(judging, cases, comp, principal,
                                                             case_id)["feedback"]
             if e["stage"] == stage for p in e["points"]}
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
    final.save_replies(case, json.dumps(replies, ensure_ascii=False, sort_keys=True), comp.id, stage,
                       principal.actor, epoch(now), before=before, after=replies)
    return {"case_id": case.id, "replies": replies}


def versions(cases: CaseRepository, principal: Principal, case_id: str) -> dict[str, Any]:
    """The case's versions, newest first: the current one and every earlier one still readable."""
    case = case_service.get(cases, principal, case_id)
    view = case_service.case_view(case)
    earlier = sorted({int(v) for v in case.history or []}, reverse=True)
    return {"case_id": case.id, "title": view.get("title", ""), "current": int(case.version),
            "updated_at": view["updated_at"], "earlier": earlier}
