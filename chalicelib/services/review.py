"""审核: the organiser's decision on each submitted case before text review (domain/review.py has the rules),
and the console's list of the cases to review with their originality flags.

A decision is written with its audit row in one transaction (store/cases.CaseRepository.review: both stage windows
and the case as read are its conditions); then the unit is mailed (best effort, once per decision). A case returned or
rejected must not hold text-review assignments: the organiser removes them first (an assignment plan never
makes them, services/judging.CASES_FOR_STAGE).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.clock import epoch
from ..domain import review as rules
from ..domain.cases import STATUS_NAMES
from ..domain.competition import Competition, StageId, StageWindow, parse_time
from ..domain.errors import Conflict, NotFound, NotSubmitted, StageClosed
from ..domain.readable import when
from ..domain.case_record import Case
from . import stages as stage_service
from .accounts import Principal
from .repositories import CaseRepository, JudgingRepository, StageRepository

if TYPE_CHECKING:
    from .notifications import Mailing

LISTED = ("submitted", "returned", "rejected")   # the console's list: what 审核 decides on or decided


def window_of(windows: dict[str, StageWindow], now: datetime) -> dict[str, Any]:
    """When review is possible: after submission closed, until text review closes."""
    submission, text_review = windows[StageId.SUBMISSION], windows[StageId.TEXT_REVIEW]
    is_open = submission.status(now) == "closed" and text_review.status(now) != "closed"
    return {"open": is_open, "opens_at": submission.closes_at, "closes_at": text_review.closes_at,
            "ended": text_review.status(now) == "closed"}


def review(judging: JudgingRepository, repo: CaseRepository, comp: Competition, principal: Principal, case_id: str,
           raw: Any, now: datetime, *, mailing: Mailing) -> Case:
    case, rows = repo.get_with_stages(case_id, comp.id, (StageId.SUBMISSION, StageId.TEXT_REVIEW))
    if case is None or case.competition_id != comp.id:
        raise NotFound("没有找到这个案例")
    windows = stage_service.windows_from_rows(comp, [r for r in rows if r is not None])
    decision = rules.parse_decision(raw, now, windows[StageId.TEXT_REVIEW].closes_at, parse_time)
    _check_reviewable(case, windows, now)
    if decision.decision != "accepted":
        _check_not_assigned(judging, case)
    case = repo.review(case, decision.status, decision.decision, decision.reason,
                       decision.resubmit_by.timestamp() if decision.resubmit_by else None, comp.id, principal.actor,
                       epoch(now))
    from . import notifications
    notifications.reviewed(comp, case, now, mailing)
    return case


def _check_reviewable(case: Case, windows: dict[str, StageWindow], now: datetime) -> None:
    if case.status == "returned":
        raise NotSubmitted("该案例已退回修改，单位重新提交后才能再次审核")
    if case.status == "rejected":
        raise NotSubmitted("该案例已不予受理，不能再审核")
    if case.status != "submitted":
        raise NotSubmitted(f"只能审核已提交的案例（该案例当前状态为“{STATUS_NAMES[case.status]}”）")
    window = window_of(windows, now)
    if window["ended"]:
        raise StageClosed(f"文本评审已于 {when(window['closes_at'])} 截止，不能再审核")
    if not window["open"]:
        raise StageClosed(f"文本申报截止（{when(window['opens_at'])}）后才能审核；截止前单位仍可修改或撤回已提交的案例")


def _check_not_assigned(judging: JudgingRepository, case: Case) -> None:
    category = case.category_key.partition("#")[0]
    slots = judging.slots_of_category(case.competition_id, StageId.TEXT_REVIEW, category, case.id,
                                      attributes=("judge_id",))
    if slots:
        raise Conflict(f"该案例已分配给 {len(slots)} 位评委进行文本评审；"
                       "请先在“评审分配”中取消这些分配，再退回修改或不予受理")


# -- the console's list ----------------------------------------------------------------------------
def review_list(comp: Competition, now: datetime, flags: dict[str, list[dict[str, Any]]],
                cases: list[Case], *, stages: StageRepository) -> dict[str, Any]:
    """The cases 审核 is about (of the competition's `cases`, one Query by competition), by category, each with
    its review state and its originality matches (`flags`: case id -> matches, from services/originality.report)."""
    windows = stage_service.windows(comp, stages)
    rows: dict[str, list[dict[str, Any]]] = {c.id: [] for c in comp.categories}
    counts = dict.fromkeys(rules.STATES, 0)
    for case in cases:
        if case.status not in LISTED:
            continue
        body = case.body
        state = rules.state_of(case.status, case.review_decision)
        counts[state] += 1
        row: dict[str, Any] = {
               "id": case.id, "title": body.get("title", ""), "unit": body.get("recommending_unit", ""),
               "account": case.owner_username, "version": case.version, "status": case.status,
               "state": state, "state_name": rules.STATES[state], "reason": case.review_reason,
               "resubmit_by": float(case.resubmit_by) if case.resubmit_by is not None else None,
               "reviewed_at": float(case.reviewed_at) if case.reviewed_at else None,
               "submitted_at": float(case.submitted_at) if case.submitted_at else None,
               "matches": flags.get(case.id, [])}
        rows.get(body.get("category", ""), rows[comp.categories[0].id]).append(row)
    order = list(rules.STATES)
    for listed in rows.values():
        listed.sort(key=lambda r: (order.index(r["state"]), -(r["submitted_at"] or 0), r["id"]))
    categories = [{"id": c.id, "name": c.name, "rows": rows[c.id]} for c in comp.categories]
    return {"categories": categories, "counts": counts, "total": sum(counts.values()),
            "window": window_of(windows, now)}
