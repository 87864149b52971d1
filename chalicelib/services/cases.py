"""Use cases of a unit's cases: drafts, edits (versioned), submit, withdraw, read, earlier versions.

Which window governs an edit: while `submission` is open a draft, submitted or withdrawn case may be
edited; while `coaching` is open only an `advanced` case (a revision), while `provincial` (赛前辅导) is open
only an `awarded` case recommended to the provincial competition; a case returned for correction (审核:
退回修改) has a window of its own, until its `resubmit_by`, whatever the stages. Anything else is stage_closed.
The service checks the window with the injected clock; the store checks it again in the transaction.

A case is governed by its own competition (`case.competition_id`: its windows, limits and categories), whichever
is current: the functions on an existing case take the current competition `comp`, read the case with `comp`'s
stage rows in one call (the usual case: this year's), and only for a case of another competition (an earlier
year's) read it again with its own competition's rows (`competition_of`: a competition by its id, from the
per-process cache of bootstrap.competition_by_id). A new case always goes to the current competition.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..domain.clock import epoch
from ..domain.cases import (
    STATUS_NAMES, CaseBody, body_from_stored, count_chars, parse_case_body, validate_for_submit,
)
from ..domain import review as review_rules
from ..domain import showcase as showcase_rules
from ..domain.competition import CHINA, Competition, StageId, StageWindow, format_time, is_coaching
from ..domain.errors import Conflict, Forbidden, Invalid, NotFound, StageClosed, VersionConflict
from ..domain.readable import when
from ..security import new_id
from ..domain.case_record import Case, new_case
from . import stages as stage_service
from .accounts import Principal
from .repositories import CaseRepository, StageRepository

if TYPE_CHECKING:
    from .notifications import Mailing

EDITABLE_IN = {StageId.SUBMISSION: ("draft", "submitted", "withdrawn"), StageId.COACHING: ("advanced",),
               StageId.PROVINCIAL: ("awarded",)}
GOVERNING = (StageId.SUBMISSION, StageId.COACHING, StageId.PROVINCIAL)
CompetitionOf = Callable[[str], Competition]   # a competition by its id (bootstrap.competition_by_id)


@dataclass(frozen=True)
class Editable:
    case: Case
    stage_id: str | None      # None: the case's own window (returned for correction until `resubmit_by`)
    before_stage: bool = False    # the write must land before the stage opens (a presentation: before the final)

    def stage_key(self, competition_id: str) -> tuple[str, ...] | None:
        """The stage row the write checks in its transaction; None where the case's own window governs it
        (the store then checks `resubmit_by` on the case itself). (competition, stage, "before"): the stage
        must not have opened yet."""
        if not self.stage_id:
            return None
        return (competition_id, self.stage_id, "before") if self.before_stage else (competition_id, self.stage_id)


def _dt(epoch: float | None) -> str | None:
    return format_time(datetime.fromtimestamp(float(epoch), tz=timezone.utc)) if epoch else None


def case_view(case: Case) -> dict[str, Any]:
    body = case.body
    showcase = showcase_rules.state_of(case.status, bool(body.get("showcase_consent", False)), case.showcase_choice,
                                       case.showcase_hidden, case.showcase_hidden_reason)
    attachments = sorted((a for a in case.attachments.values() if not a.get("kind")),
                         key=lambda a: a["created_at"])   # a presentation (kind) is not an attachment
    return {
        "id": case.id, **body, "status": case.status, "status_name": STATUS_NAMES[case.status],
        "version": case.version, "char_count": case.char_count, "history": list(case.history),
        "attachments": [{"attachment_id": a["attachment_id"], "filename": a["filename"],
                         "content_type": a["content_type"], "size": int(a["size"]), "status": a["status"]}
                        for a in attachments],
        "prize": case.prize, "account_id": case.owner_id, "review": review_view(case),
        "showcase_consent": showcase["consent"], "showcase": showcase,
        "created_at": _dt(case.created_at), "updated_at": _dt(case.updated_at), "submitted_at": _dt(case.submitted_at),
        **({"source": dict(case.source)} if case.source else {}),   # recommended from a feeder (services/feeder.py)
    }


def review_view(case: Case) -> dict[str, Any] | None:
    """The latest 审核 decision as the unit and the API see it; None when the case was never reviewed."""
    if not case.review_decision:
        return None
    return {"decision": case.review_decision, "decision_name": review_rules.DECISIONS[case.review_decision],
            "reason": case.review_reason, "resubmit_by": _dt(case.resubmit_by), "reviewed_at": _dt(case.reviewed_at),
            "state": review_rules.state_of(case.status, case.review_decision)}


def _body(comp: Competition, raw: Any) -> CaseBody:
    return parse_case_body(raw, comp.category_ids, comp.max_chars, comp.max_points)


def _require_unit(principal: Principal) -> None:
    if principal.role != "unit":
        raise Forbidden("只有参赛单位帐号可以填报案例")


def _readable(principal: Principal, case: Case | None) -> Case:
    if case is None:
        raise NotFound("没有找到这个案例")
    if principal.role == "organiser":
        return case
    if principal.role != "unit" or case.owner_id != principal.account_id:
        raise Forbidden("这不是本单位的案例，无权查看或修改")
    return case


def _today(now: datetime):
    return now.astimezone(CHINA).date()


def create(repo: CaseRepository, comp: Competition, principal: Principal, raw: Any, now: datetime, *,
           stages: StageRepository) -> Case:
    _require_unit(principal)
    body = _body(comp, raw)
    window = stage_service.windows(comp, stages)[StageId.SUBMISSION]
    if not window.is_open(now):
        raise StageClosed(f"{window.name}阶段未开放（{when(window.opens_at)} 至 {when(window.closes_at)}），"
                          "不能新增案例")
    ts = epoch(now)
    case = new_case(new_id(), comp.id, principal.account_id or "", principal.username or "", body.to_dict(),
                    count_chars(body.counted_texts), ts)
    repo.create(case, (comp.id, StageId.SUBMISSION), principal.actor, ts)
    return case


def list_cases(repo: CaseRepository, comp: Competition, principal: Principal, category: str | None) -> list[Case]:
    """The cases of the competition `comp`: an organiser's by category, a unit's own (its account belongs to the
    platform: one Query of its cases of every year, kept to this competition's)."""
    if principal.role == "organiser":
        if category is not None and category not in comp.category_ids:
            raise Invalid("category 只能是 development、service 或 empowerment", {"category": "没有这个类别"})
        return repo.list_for_competition(comp.id, category)
    _require_unit(principal)
    cases = repo.list_for_owner(principal.account_id or "")
    return [c for c in cases if c.competition_id == comp.id and (category is None or c.category == category)]


def own_cases(repo: CaseRepository, comp: Competition,
              principal: Principal) -> tuple[list[Case], list[tuple[str, list[Case]]]]:
    """A unit's cases (我的案例), from one Query of its cases of every year: (those of the current competition
    `comp`, [(an earlier competition's id, its cases)] in the order the unit first entered them)."""
    _require_unit(principal)
    current: list[Case] = []
    earlier: dict[str, list[Case]] = {}
    for case in repo.list_for_owner(principal.account_id or ""):
        if not case.competition_id or case.competition_id == comp.id:
            current.append(case)
        else:
            earlier.setdefault(case.competition_id, []).append(case)
    return current, list(earlier.items())


def get(repo: CaseRepository, principal: Principal, case_id: str) -> Case:
    return _readable(principal, repo.get(case_id))


def competition_of_case(comp: Competition, competition_of: CompetitionOf, case: Case) -> Competition:
    """The case's own competition: `comp` when it is the case's, else the one it names."""
    return comp if not case.competition_id or case.competition_id == comp.id else competition_of(case.competition_id)


def with_stages(repo: CaseRepository, comp: Competition, competition_of: CompetitionOf, principal: Principal,
                case_id: str, stage_ids: Sequence[str]) -> tuple[Case, Competition, list]:
    """(the case as `principal` may read it, its own competition, that competition's rows of `stage_ids`): one
    read for a case of `comp`, one more for a case of another competition."""
    case, rows = repo.get_with_stages(case_id, comp.id, tuple(stage_ids))
    own = competition_of_case(comp, competition_of, _readable(principal, case))
    if own is not comp:
        case, rows = repo.get_with_stages(case_id, own.id, tuple(stage_ids))
    return _readable(principal, case), own, rows


def editable(repo: CaseRepository, comp: Competition, principal: Principal, case_id: str, now: datetime, *,
             competition_of: CompetitionOf) -> Editable:
    """The case if its owner may change it now, with the stage (of the case's own competition) whose window
    governs the change."""
    return _editable(repo, comp, principal, case_id, now, competition_of)[0]


def _editable(repo: CaseRepository, comp: Competition, principal: Principal, case_id: str, now: datetime,
              competition_of: CompetitionOf) -> tuple[Editable, Competition]:
    _require_unit(principal)
    case, comp, rows = with_stages(repo, comp, competition_of, principal, case_id, GOVERNING)
    windows = stage_service.windows_from_rows(comp, [r for r in rows if r is not None])
    if case.status == "returned":
        if resubmission_open(case, now):
            return Editable(case, None), comp
        raise StageClosed(_closed_message(case, windows))
    stage_id = editing_stage(case, windows, now)
    if stage_id is None:
        raise StageClosed(_closed_message(case, windows))
    return Editable(case, stage_id), comp


def editing_stage(case: Case, windows: dict[str, StageWindow], now: datetime) -> str | None:
    """The open stage that lets the case's unit change it now (a returned case's own window apart): 文本申报,
    or a coaching-kind stage's revision (赛前辅导 only for a case recommended to the provincial competition)."""
    for stage_id in GOVERNING:
        recommended = stage_id != StageId.PROVINCIAL or bool(case.provincial)
        if case.status in EDITABLE_IN[stage_id] and recommended and windows[stage_id].is_open(now):
            return stage_id
    return None


def resubmission_open(case: Case, now: datetime) -> bool:
    """A case returned for correction may be edited and submitted again until its `resubmit_by`."""
    return case.status == "returned" and case.resubmit_by is not None and epoch(now) < float(case.resubmit_by)


def _resubmission_closed(case: Case) -> str:
    return f"退回修改的截止时间（{when(float(case.resubmit_by or 0))}）已过，不能再修改或提交"


def _closed_message(case: Case, windows: dict[str, StageWindow]) -> str:
    sub, coach, provincial = windows[StageId.SUBMISSION], windows[StageId.COACHING], windows[StageId.PROVINCIAL]
    if case.status == "returned":
        return _resubmission_closed(case)
    if case.status == "rejected":
        return "该案例经审核不予受理，不能再修改"
    if case.status == "advanced":
        return f"案例修改仅在{coach.name}阶段开放（{when(coach.opens_at)} 至 {when(coach.closes_at)}）"
    if case.status == "awarded" and case.provincial:
        return (f"获奖案例的修改仅在赛前辅导阶段开放（{when(provincial.opens_at)} 至 {when(provincial.closes_at)}），"
                "奖项和名次不因修改而改变")
    if case.status in ("awarded", "not_awarded"):
        return "综合评选已结束，只有推荐参加省赛的获奖案例可在赛前辅导阶段修改，本案例不能再修改"
    return f"{sub.name}阶段已截止或未开放（截止时间 {when(sub.closes_at)}），不能再修改"


def update(repo: CaseRepository, comp: Competition, principal: Principal, case_id: str, raw: Any,
           now: datetime, *, competition_of: CompetitionOf) -> Case:
    """Save the case's text under its own competition's rules (`comp`: the current competition)."""
    if not isinstance(raw, dict):
        raise Invalid("请求体应为 JSON 对象", {"body": "应为 JSON 对象"})
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise Invalid("请提供当前版本号 version（整数），用于防止覆盖他人的修改", {"version": "应为整数"})
    text = {k: v for k, v in raw.items() if k != "version"}
    invalid: Invalid | None = None
    try:
        body = _body(comp, text)
    except Invalid as e:        # named before anything the read refuses, as ever (if the case is `comp`'s)
        invalid = e
    try:
        target, own = _editable(repo, comp, principal, case_id, now, competition_of)
    except (Forbidden, NotFound, StageClosed, Conflict):
        if invalid is not None:
            raise invalid from None
        raise
    if own is not comp:
        body = _body(own, text)  # an earlier competition's case: its own categories and limits
    elif invalid is not None:
        raise invalid
    case = target.case
    if case.version != version:
        raise VersionConflict(f"案例已被修改（当前版本 {case.version}，您提交的版本 {version}），"
                              "请刷新后再保存；您填写的内容已保留")
    if is_coaching(target.stage_id) and body.category != case.category:
        # judged, ranked (and awarded) in its category: a revision cannot move it to another category
        raise Invalid("辅导阶段不能更改申报类别（案例已在原类别中评审和入围）",
                      {"category": "辅导阶段不能更改申报类别"})
    if case.status in ("submitted", "advanced", "awarded"):
        validate_for_submit(body, _today(now))
    # the case as the transaction wrote it, without reading it back (one call fewer per edit)
    return repo.save_text(case, body.to_dict(), count_chars(body.counted_texts), target.stage_key(own.id),
                          principal.actor, epoch(now), recommended=target.stage_id == StageId.PROVINCIAL)


def submit(repo: CaseRepository, comp: Competition, principal: Principal, case_id: str, now: datetime, *,
           mailing: Mailing, competition_of: CompetitionOf) -> Case:
    """Submit the case within its own competition's window (`comp`: the current competition)."""
    _require_unit(principal)
    case, comp, rows = with_stages(repo, comp, competition_of, principal, case_id, (StageId.SUBMISSION,))
    if case.status == "submitted":
        return case
    if case.status == "rejected":
        raise Conflict("该案例经审核不予受理，已退出本届比赛，不能再提交"
                       + (f"（原因：{case.review_reason}）" if case.review_reason else ""))
    if case.status not in ("draft", "withdrawn", "returned"):
        raise Conflict(f"案例当前状态为“{STATUS_NAMES[case.status]}”，不能再提交")
    window = stage_service.windows_from_rows(comp, [r for r in rows if r is not None])[StageId.SUBMISSION]
    if case.status == "returned":
        if not resubmission_open(case, now):
            raise StageClosed(_resubmission_closed(case))
        stage_key, closes_at = None, float(case.resubmit_by or 0)   # its own window, checked on the case itself
    elif not window.is_open(now):
        raise StageClosed(f"{window.name}已于 {when(window.closes_at)} 截止，不能再提交")
    else:
        stage_key, closes_at = (comp.id, StageId.SUBMISSION), window.closes_at.timestamp()
    validate_for_submit(body_from_stored(case.body), _today(now))
    ts = epoch(now)
    from . import notifications
    receipt = notifications.receipt(comp, principal, case, closes_at, now, mailing)   # no I/O; None if not made
    try:
        submitted = repo.set_status(case, "submitted", stage_key, principal.actor, ts, submitted_at=ts,
                                    also=[receipt.record] if receipt else ())
    except VersionConflict as conflict:
        return _already(repo, comp, case_id, "submitted", conflict)
    notifications.deliver(receipt, mailing)   # best effort: never raises, the submission stands without it
    return submitted


def withdraw(repo: CaseRepository, comp: Competition, principal: Principal, case_id: str, now: datetime, *,
             competition_of: CompetitionOf) -> Case:
    """Withdraw the case within its own competition's window (`comp`: the current competition)."""
    _require_unit(principal)
    case, comp, rows = with_stages(repo, comp, competition_of, principal, case_id, (StageId.SUBMISSION,))
    if case.status == "withdrawn":
        return case
    if case.status not in ("draft", "submitted"):
        raise Conflict(f"案例当前状态为“{STATUS_NAMES[case.status]}”，不能撤回")
    window = stage_service.windows_from_rows(comp, [r for r in rows if r is not None])[StageId.SUBMISSION]
    if not window.is_open(now):
        raise StageClosed(f"{window.name}已于 {when(window.closes_at)} 截止，不能再撤回")
    try:
        return repo.set_status(case, "withdrawn", (comp.id, StageId.SUBMISSION), principal.actor, epoch(now))
    except VersionConflict as conflict:
        return _already(repo, comp, case_id, "withdrawn", conflict)


def _already(repo: CaseRepository, comp: Competition, case_id: str, status: str, conflict: VersionConflict) -> Case:
    """After a refused status change: the case if a concurrent request of the same kind made the change
    (a double click that lands twice at once is answered like a repeated request); else the conflict."""
    current, _ = repo.get_with_stages(case_id, comp.id, ())   # a transactional, hence consistent, read
    if current is not None and current.status == status:
        return current
    raise conflict


def version_view(repo: CaseRepository, principal: Principal, case_id: str, version: int) -> dict[str, Any]:
    case = get(repo, principal, case_id)
    if version == case.version:
        return {"id": case.id, "version": version, **case.body, "current": True}
    old = repo.get_version(case_id, version)
    if old is None:
        raise NotFound(f"这个案例没有第 {version} 版")
    return {"id": case.id, "version": old.version, **old.body, "status": old.status,
            "saved_at": _dt(old.saved_at), "current": False}
