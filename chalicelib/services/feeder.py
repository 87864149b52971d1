"""Feeder competitions (issue 17 part 5, 省赛准备): a competition may name in its definition the competition on the
same deployment that it feeds (`feeds`, domain/competition_edit.py), and the organiser sends it the cases
recommended to it (省赛推荐). Each arrives there as a submission of the recommending unit, for that
competition's own judging (its case lists, 审核, assignment), with its text and fields as they are at the send,
its verified attachments copied to the new case's keys, and a link to where it came from: the new case's
`source` ({competition, case_id, version}), its audit row "由<来源竞赛>推荐" and one on the source case.

When (the notice, 七(五) 省赛准备, 7 月中下旬: 主办单位将在优秀案例中择优推荐参加省赛，并做好参加省赛的赛前辅导): the
recommendations exist once 综合评选 has closed (its prizes make the 优秀案例, services/results.recommend_provincial),
so sending is open from then on, during 省赛准备 and after. It does not wait for the 赛前辅导 to end: that coaching
prepares the cases for the provincial competition, whose own 文本申报 deadline is what the organiser has to meet;
the unit keeps revising its case in the target competition while that one accepts edits. Sending is the
organiser's act that makes a recommendation final: a case sent stays in the target if its mark is taken back
later (the target's own 审核 can still reject it).

How each arrives, as a real organiser would have it:
* the target's 文本申报 is open: `submitted` (submitted now), like any unit's submission;
* it has not opened yet: a `draft` of the unit, which the unit submits itself once it opens (a submission
  before the window would skip its rules);
* it has closed: nothing is sent (Conflict), since a case cannot enter a selection whose submissions are closed;
  the target's organisers may first move its window.
The target must be 进行中 (a 草稿 is not open to units yet; an 已结束 one is read-only). A case whose category the
target does not have is skipped, named in the answer.

Idempotent: the new case's id is derived from the target's id and the source case's id (`fed_case_id`), and its
write is conditional on that id being new (CaseRepository.receive, one transaction per case: the new case, the
check that the source is still awarded and recommended, the target's window, the two audit rows). A send that
fails midway leaves the cases already sent complete and the others untouched (their copied attachments, at the
same derived keys, are overwritten by the next send); a second send completes the rest and creates nothing twice.

Each unit whose case arrived gets a mail in the target's name (notifications.received, kind `case_received`): what
its case became there and the target's 文本申报 window; it is logged with this competition's mail (邮件记录 of the
organisers who sent it). Once per arrived case: a later send tries again only the mails that were not sent (a send
that failed midway, a relay that was down).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.case_record import Case, category_key, frozen_map
from ..domain.clock import epoch
from ..domain.competition import Competition, StageId, StageWindow, competition_from_config
from ..domain.competition_edit import CompetitionState, state_of
from ..domain.errors import Conflict, Duplicate, Forbidden
from ..domain.readable import when
from . import notifications, stages as stage_service
from .accounts import Principal
from .attachments import ATTACHMENT, kind_of
from .repositories import CaseRepository, CompetitionRepository, Files, StageRepository

RECEIVED = "case.received"
SENT = "case.sent"
ARRIVES_AS = {"submitted": "已提交", "draft": "草稿（待单位在文本申报开放后提交）"}


def fed_case_id(target_id: str, source_case_id: str) -> str:
    """The id of the case a recommended case becomes in the competition it is sent to: the same for the same pair,
    so a second send finds it (the format of security.new_id: 16 hex digits)."""
    return hashlib.sha256(f"{target_id}#{source_case_id}".encode()).hexdigest()[:16]


def _require_organiser(principal: Principal, write: bool = False) -> None:
    if principal.role != "organiser":
        raise Forbidden("只有主办单位可以发送省赛推荐")
    if write and principal.organiser_role == "viewer":
        raise Forbidden("只读成员只能查看，不能修改（如需修改请联系管理员）")


@dataclass(frozen=True)
class Target:
    id: str
    name: str
    state: CompetitionState
    competition: Competition | None      # None: its definition is not complete (a 草稿 being written)


def target_of(competitions: CompetitionRepository, comp: Competition) -> Target | None:
    """The competition `comp` feeds (its definition's `feeds`), None when it names none."""
    target_id = comp.raw.get("feeds")
    if not isinstance(target_id, str) or not target_id:
        return None
    record = competitions.get(target_id)
    if record is None:
        raise Conflict(f"省赛推荐去向（{target_id}）已不存在，请在竞赛届次设置中重新选择")
    try:
        target: Competition | None = competition_from_config(record.definition)
    except (KeyError, TypeError, ValueError, AttributeError):
        target = None
    return Target(record.id, record.name, state_of(record.definition), target)


def _recommended(cases: CaseRepository, comp: Competition) -> list[Case]:
    return [c for c in cases.list_for_competition(comp.id) if c.provincial and c.status == "awarded"]


def _arrived(cases: CaseRepository, comp: Competition, target_id: str) -> dict[str, Case]:
    """The cases already sent to the target, by their source case's id."""
    return {str(c.source.get("case_id")): c for c in cases.list_for_competition(target_id)
            if c.source and c.source.get("competition") == comp.id}


def _submission(stages: StageRepository, target: Competition, seed: bool) -> StageWindow:
    """The target's 文本申报 window, from its stage rows; `seed`: the rows are created from its definition when it
    has none yet (a send: the new cases' writes check the row; a page only reads)."""
    rows = stages.all_for(target.id)
    if seed and not any(r.stage_id == StageId.SUBMISSION for r in rows):
        stage_service.seed(stages, target, target.default_windows)
        rows = stages.all_for(target.id)
    return stage_service.windows_from_rows(target, rows)[StageId.SUBMISSION]


def _why_not(stages: StageRepository, comp: Competition, target: Target | None, now: datetime, seed: bool = False
             ) -> tuple[str | None, StageWindow | None]:
    """Why nothing can be sent now (None: it can), and the target's 文本申报 window when there is one."""
    if target is None:
        return "本届尚未设置省赛推荐去向：请在“竞赛届次”的本届设置中选择接收推荐的竞赛届次", None
    if target.state != CompetitionState.RUNNING or target.competition is None:
        return f"接收推荐的“{target.name}”是{target.state.chinese_name}状态，进行中的竞赛届次才能接收推荐案例", None
    if not stage_service.windows(comp, stages)[StageId.FINAL].closed:
        return "综合评选结束并评出奖项后，才能发送省赛推荐", None
    window = _submission(stages, target.competition, seed)
    if window.status(now) == "closed":
        return (f"“{target.name}”的文本申报已于 {when(window.closes_at)} 截止，不能再接收推荐案例"
                "（如需接收，请先调整该届次的文本申报时间）"), window
    return None, window


def _arrives_as(window: StageWindow | None, now: datetime) -> str:
    return "submitted" if window is not None and window.is_open(now) else "draft"


def _row(case: Case, arrived: Case | None) -> dict[str, Any]:
    return {"case_id": case.id, "title": case.title, "unit": str(case.body.get("recommending_unit", "")),
            "category": case.category, "reason": case.provincial_reason or "", "sent": arrived is not None,
            "sent_case_id": arrived.id if arrived is not None else None}


def overview(cases: CaseRepository, stages: StageRepository, competitions: CompetitionRepository,
             comp: Competition, principal: Principal, now: datetime) -> dict[str, Any]:
    """The 省赛推荐 page: where the recommendations go, each recommended case and whether it was sent, and whether a
    send can be made now (`why_not` when it cannot), with what the cases become there (`arrives_as`)."""
    _require_organiser(principal)
    try:
        target = target_of(competitions, comp)
    except Conflict as gone:
        return {"target": None, "recommended": [_row(c, None) for c in _recommended(cases, comp)],
                "why_not": gone.message, "arrives_as": "draft", "arrives_as_name": ARRIVES_AS["draft"],
                "window": None, "to_send": 0}
    why_not, window = _why_not(stages, comp, target, now)
    arrived = _arrived(cases, comp, target.id) if target is not None else {}
    rows = [_row(c, arrived.get(c.id)) for c in _recommended(cases, comp)]
    arrives_as = _arrives_as(window, now)
    return {"target": {"id": target.id, "name": target.name} if target is not None else None,
            "recommended": rows, "why_not": why_not, "arrives_as": arrives_as,
            "arrives_as_name": ARRIVES_AS[arrives_as],
            "window": {"opens_at": window.opens_at, "closes_at": window.closes_at} if window else None,
            "to_send": sum(not r["sent"] for r in rows)}


def send(cases: CaseRepository, stages: StageRepository, competitions: CompetitionRepository, files: Files,
         comp: Competition, principal: Principal, now: datetime, *, mailing: notifications.Mailing
         ) -> dict[str, Any]:
    """Send every recommended case not sent yet to the competition `comp` feeds (see the module docstring);
    `mailing`: the mail port, `comp` and the mail log, for the units' arrival mails."""
    _require_organiser(principal, write=True)
    target = target_of(competitions, comp)
    why_not, window = _why_not(stages, comp, target, now, seed=True)
    if why_not is not None or target is None or target.competition is None:
        raise Conflict(why_not or "本届尚未设置省赛推荐去向", {"feeds": why_not or ""})
    recommended = _recommended(cases, comp)
    if not recommended:
        raise Conflict("还没有推荐参加省赛的案例：请先在综合评选获奖案例中推荐")
    status = _arrives_as(window, now)
    stage_key = (target.id, StageId.SUBMISSION) if status == "submitted" else (target.id, StageId.SUBMISSION, "before")
    arrived = _arrived(cases, comp, target.id)
    categories = set(target.competition.category_ids)
    sent: list[dict[str, Any]] = []
    already: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    arrivals: list[Case] = []          # every case of the recommendations that is in the target now: its unit's mail
    for case in recommended:
        if case.id in arrived:
            already.append(_row(case, arrived[case.id]))
            arrivals.append(arrived[case.id])
            continue
        if case.category not in categories:
            skipped.append({**_row(case, None), "why": f"“{target.name}”没有这个案例的类别"})
            continue
        new = _new_case(files, comp, target.id, case, status, epoch(now))
        try:
            cases.receive(new, case, stage_key, principal.actor, epoch(now),
                          received={"from": comp.name, "competition": comp.id, "case_id": case.id,
                                    "version": case.version},
                          sent={"to": target.name, "competition": target.id, "case_id": new.id})
        except Duplicate:       # another send made it meanwhile (and mails its unit)
            already.append(_row(case, new))
            continue
        except Conflict as refused:     # its mark was taken back meanwhile
            skipped.append({**_row(case, None), "why": refused.message})
            continue
        sent.append(_row(case, new))
        arrivals.append(new)
    _mail_units(arrivals, target.competition, window, now, mailing)
    return {"target": {"id": target.id, "name": target.name}, "status": status, "sent": sent,
            "already": already, "skipped": skipped}


def _mail_units(arrivals: list[Case], target: Competition, submission: StageWindow | None, now: datetime,
                mailing: notifications.Mailing) -> None:
    """The arrival mail to each case's unit, in the target's name, after the writes; a mail already sent is not
    sent again (its once-only key is the arrived case's id); a case its unit has withdrawn since is not written to."""
    if submission is None:
        return
    for case in arrivals:
        if case.status in ARRIVES_AS:
            notifications.received(target, case, submission, now, mailing)


def _new_case(files: Files, comp: Competition, target_id: str, case: Case, status: str, ts: float) -> Case:
    """The case as it arrives: the unit's, its body as now, its verified attachments copied to its own keys."""
    new_id = fed_case_id(target_id, case.id)
    attachments: dict[str, dict[str, Any]] = {}
    for record in case.attachments.values():
        if kind_of(record) != ATTACHMENT or record.get("status") != "verified":
            continue
        key = f"cases/{new_id}/{record['attachment_id']}"
        if not files.copy(str(record["key"]), key):
            continue            # its object is gone: nothing to serve
        attachments[str(record["attachment_id"])] = {
            "attachment_id": record["attachment_id"], "filename": record["filename"],
            "content_type": record["content_type"], "size": int(record["size"]), "status": "verified", "key": key,
            "created_at": record["created_at"]}
    return Case(new_id, target_id, case.owner_id, case.owner_username, status, 1, case.body, case.stored_body,
                char_count=case.char_count, category_key=category_key(case.category, new_id),
                attachments=frozen_map(attachments), created_at=ts, updated_at=ts,
                submitted_at=ts if status == "submitted" else None,
                source=frozen_map({"competition": comp.id, "case_id": case.id, "version": case.version}))
