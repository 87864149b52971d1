"""The judge's side: their assigned cases, scores, coaching feedback and recusal; the unit's view of
the feedback of both coaching rounds (专家辅导, 赛前辅导), the experts anonymised as 专家1, 专家2 ….

Every judge request re-reads the session together with the link it came from (revoked or re-issued
links end their sessions at once), and every write re-checks the slot and the stage in its own
transaction condition.
"""
from __future__ import annotations

from datetime import datetime
from dataclasses import dataclass
from typing import Any

from ..domain.clock import epoch
from ..domain.competition import COACHING_ROUNDS, Competition, StageId, StageWindow, is_coaching
from ..domain.errors import Conflict, Forbidden, Invalid, NotFound, StageClosed, Unauthenticated
from ..domain.judges import parse_points, parse_score_sheet, tenths_to_points
from ..domain.judging_record import Assignment, judge_session_parts
from ..security import token_hash
from . import cases as case_service
from . import stages as stage_service
from .accounts import Principal
from .judging import slot_view
from .repositories import CaseRepository, JudgingRepository, StageRepository


@dataclass(frozen=True)
class JudgePrincipal:
    judge_id: str
    stage: str
    token_hash: str
    csrf: str | None
    competition_id: str           # the competition whose link opened the session

    @property
    def actor(self) -> str:
        return f"judge:{self.judge_id}"


def authenticate_judge(judging: JudgingRepository, token: str | None, now: datetime) -> JudgePrincipal:
    """A live judge session whose link is still the judge's current one for the stage (one read)."""
    parts = judge_session_parts(token)
    if parts is None:
        raise Unauthenticated("请通过评分链接进入")
    competition_id, judge_id, stage = parts
    session, link = judging.session_and_link(competition_id, token_hash(token or ""), judge_id, stage)
    if session is None or session.expires_at <= epoch(now):
        raise Unauthenticated("评分会话已失效，请重新打开评分链接")
    if link is None or link.link_hash != session.link_hash:
        raise Unauthenticated("评分链接已被撤销或重新发放，请使用新的链接")
    return JudgePrincipal(session.judge_id, session.stage, session.token_hash, session.csrf, competition_id)


def my_cases(judging: JudgingRepository, judge: JudgePrincipal) -> dict[str, Any]:
    slots = [s for s in judging.slots_of_judge(judge.competition_id, judge.stage, judge.judge_id) if not s.recused]
    return {"stage": judge.stage, "cases": [slot_view(s) for s in sorted(slots, key=lambda s: s.case_id)]}


def _slot(judging: JudgingRepository, comp: Competition, judge: JudgePrincipal,
          case_id: str, *, stages: StageRepository) -> tuple[Assignment, StageWindow]:
    slot, row = judging.get_slot_and_stage(judge.stage, judge.judge_id, case_id, comp.id)
    if slot is None or slot.recused:
        raise NotFound("这个案例没有分配给您")
    window = stage_service.to_window(comp, row) if row is not None else stage_service.windows(comp, stages)[judge.stage]
    return slot, window


def judge_case(judging: JudgingRepository, cases: CaseRepository, comp: Competition, judge: JudgePrincipal,
               case_id: str, download_url, *, stages: StageRepository):
    """(the case as a judge reads it, their slot, the stage window): the text, verified attachments with
    short-lived links, their own score and feedback."""
    slot, window = _slot(judging, comp, judge, case_id, stages=stages)
    case = cases.get(case_id)
    if case is None:
        raise NotFound("没有找到这个案例")
    view = case_service.case_view(case)
    view.pop("account_id", None)
    view["attachments"] = [{**a, "url": download_url(case, a["attachment_id"])}
                           for a in view["attachments"] if a["status"] == "verified"]
    view["my_score"] = score_view(slot)
    view["my_feedback"] = list(slot.feedback or [])
    view["stage"] = judge.stage
    return view, slot, window


def case_for_judge(judging: JudgingRepository, cases: CaseRepository, comp: Competition, judge: JudgePrincipal,
                   case_id: str, download_url, *, stages: StageRepository) -> dict[str, Any]:
    return judge_case(judging, cases, comp, judge, case_id, download_url, stages=stages)[0]


def score_view(slot: Assignment) -> dict[str, Any] | None:
    if not slot.scored or slot.total is None:   # a coaching slot is "scored" by its feedback, not a total
        return None
    criteria = dict(slot.criteria or {})
    return {"criteria": {k: tenths_to_points(int(v)) for k, v in criteria.items()},
            "total": tenths_to_points(int(slot.total)), "comment": slot.comment}


def save_score(judging: JudgingRepository, comp: Competition, judge: JudgePrincipal, case_id: str, raw: Any,
               now: datetime, *, stages: StageRepository) -> dict[str, Any]:
    if is_coaching(judge.stage):
        raise Forbidden(f"{comp.round_name(judge.stage)}阶段不打分，请填写辅导意见")
    slot, window = _slot(judging, comp, judge, case_id, stages=stages)
    category = comp.category(slot.category)
    if category is None:                  # the case's category has since left the competition's settings
        raise Conflict("该案例的类别已不在本届比赛的设置中，暂不能评分，请联系组委会")
    tenths, comment = parse_score_sheet(raw, category)
    if not window.is_open(now):
        raise StageClosed(f"{window.name}未开放或已截止，评分已锁定")
    total = sum(tenths.values())
    before = score_view(slot)
    judging.write_slot(slot, {"criteria": tenths, "total": total, "comment": comment, "scored": True,
                              "scored_at": epoch(now)},
                       comp.id, judge.actor, "score.save", epoch(now), before=before,
                       after={"criteria": tenths, "total": total})
    return {"case_id": case_id, "total": tenths_to_points(total)}


def save_feedback(judging: JudgingRepository, comp: Competition, judge: JudgePrincipal, case_id: str, raw: Any,
                  now: datetime, *, stages: StageRepository) -> dict[str, Any]:
    if not is_coaching(judge.stage):
        raise Forbidden("辅导意见只在专家辅导和赛前辅导阶段填写，本阶段请评分")
    slot, window = _slot(judging, comp, judge, case_id, stages=stages)
    points = parse_points(raw, "points", "辅导意见")
    if not window.is_open(now):
        raise StageClosed(f"{window.name}未开放或已截止")
    judging.write_slot(slot, {"feedback": points, "scored": True, "scored_at": epoch(now)}, comp.id, judge.actor,
                       "feedback.save", epoch(now), before=list(slot.feedback) if slot.feedback is not None else None,
                       after=points)
    return {"case_id": case_id, "points": points}


def check_recusal(judging: JudgingRepository, comp: Competition, judge: JudgePrincipal, case_id: str, raw: Any,
                  now: datetime, *, stages: StageRepository) -> tuple[Assignment, str]:
    """(the slot, the reason) of a recusal that would be accepted now; nothing is written (the page's
    confirm step shows it before the judge confirms)."""
    slot, window = _slot(judging, comp, judge, case_id, stages=stages)
    reason = raw.get("reason") if isinstance(raw, dict) else None
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise Invalid("请说明回避理由（不超过 500 字）", {"reason": "请填写回避理由"})
    if not window.is_open(now):
        raise StageClosed(f"{window.name}未开放或已截止")
    return slot, reason.strip()


def recuse(judging: JudgingRepository, comp: Competition, judge: JudgePrincipal, case_id: str, raw: Any,
           now: datetime, *, stages: StageRepository) -> dict[str, Any]:
    slot, reason = check_recusal(judging, comp, judge, case_id, raw, now, stages=stages)
    judging.write_slot(slot, {"recused": True, "recusal_reason": reason},
                       comp.id, judge.actor, "assignment.recuse", epoch(now), before=None, after=reason)
    return {"case_id": case_id, "recused": True}


def feedback_for_unit(judging: JudgingRepository, cases: CaseRepository, comp: Competition, principal: Principal,
                      case_id: str) -> dict[str, Any]:
    """The feedback of every coaching round on the unit's own case, round by round (专家辅导, then 赛前辅导);
    within a round the judges appear only as 专家1, 专家2 … (stable order)."""
    case = case_service.get(cases, principal, case_id)
    category = case.category
    entries = []
    for stage, round_name in COACHING_ROUNDS.items():
        if stage == StageId.PROVINCIAL and case.status != "awarded":
            continue   # 赛前辅导 slots exist only on awarded cases: one Query fewer for every other case
        slots = sorted((s for s in judging.slots_of_category(case.competition_id, stage, category, case_id)
                        if s.feedback),
                       key=lambda s: s.judge_id) if category else []
        entries += [{"judge": f"专家{i}", "points": list(s.feedback or ()), "stage": stage, "round": round_name}
                    for i, s in enumerate(slots, 1)]
    return {"feedback": entries}
