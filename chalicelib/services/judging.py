"""The organiser's side of judging: judges, assignments (with 回避), and signed scoring links.

A scoring link is `/j/<token>`: an itsdangerous HMAC-SHA256 signature (salt "judge-link", every key
of the key list verifies, the first signs) over {judge, stage, a random 128-bit id}. The server keeps
only the SHA-256 of the id as the judge's current link for the stage: re-issuing replaces it and
revoking deletes it, so an old link stops working at once. A link opens sessions until its stage
closes; sessions opened before the close may still read (never write) for READ_GRACE afterwards.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from ..config import Settings
from ..domain import assignment as planner
from ..domain.competition import Competition, format_time
from ..domain.errors import Conflict, Invalid, NotFound, Unauthenticated
from ..domain.judges import parse_judge
from ..mail import outbox
from ..security import new_id, new_token, token_hash
from ..store import accounts as account_store
from ..store import cases as case_store
from ..store import judging as store
from ..store.models import Assignment, Judge, Session
from . import stages as stage_service

log = logging.getLogger("saiping")
READ_GRACE_SECONDS = 24 * 3600
JUDGED_STAGES = ("text_review", "coaching", "final")
CASES_FOR_STAGE = {"text_review": ("submitted", "advanced", "not_advanced", "awarded", "not_awarded"),
                   "coaching": ("advanced", "awarded", "not_awarded"),
                   "final": ("advanced", "awarded", "not_awarded")}


# -- judges ---------------------------------------------------------------------------------
def judge_view(judge: Judge) -> dict[str, Any]:
    return {"id": judge.judge_id, "name": judge.name, "email": judge.email, "mobile": judge.mobile,
            "affiliation": judge.affiliation, "categories": list(judge.categories or []),
            "conflicts": list(judge.conflicts or [])}


def create_judge(comp: Competition, raw: Any, actor: str, now: float) -> Judge:
    data = parse_judge(raw, comp.category_ids)
    judge = Judge(comp.id, new_id(), name=data.name, email=data.email, mobile=data.mobile,
                  affiliation=data.affiliation, categories=list(data.categories), conflicts=list(data.conflicts),
                  created_at=now, updated_at=now)
    store.save_judge(judge, actor, now, "judge.create")
    return judge


def update_judge(comp: Competition, judge_id: str, raw: Any, actor: str, now: float) -> Judge:
    judge = store.get_judge(comp.id, judge_id)
    if judge is None:
        raise NotFound("没有这位评委")
    before = judge_view(judge)
    data = parse_judge(raw, comp.category_ids)
    judge.name, judge.email, judge.mobile, judge.affiliation = data.name, data.email, data.mobile, data.affiliation
    judge.categories, judge.conflicts, judge.updated_at = list(data.categories), list(data.conflicts), now
    store.save_judge(judge, actor, now, "judge.edit", before=before)
    return judge


def list_judges(comp: Competition) -> list[Judge]:
    return store.list_judges(comp.id)


# -- assignments ----------------------------------------------------------------------------
def _check_stage(stage: str) -> None:
    if stage not in JUDGED_STAGES:
        raise NotFound("只有文本评审、专家辅导和综合评选有评委分配")


def _refs(comp: Competition, stage: str):
    cases = [c for c in case_store.list_for_competition(comp.id) if c.status in CASES_FOR_STAGE[stage]]
    bodies = {c.id: json.loads(c.body) for c in cases}
    case_refs = [planner.CaseRef(c.id, bodies[c.id].get("category", ""), bodies[c.id].get("recommending_unit", ""))
                 for c in cases]
    judges = store.list_judges(comp.id)
    judge_refs = [planner.JudgeRef(j.judge_id, frozenset(j.categories or []), j.affiliation,
                                   frozenset(j.conflicts or [])) for j in judges]
    return case_refs, judge_refs, {c.id: bodies[c.id].get("title", "") for c in cases}


def plan_assignments(comp: Competition, stage: str, raw: Any, actor: str, now: datetime) -> dict[str, Any]:
    """Assign judges for a stage; re-running keeps existing slots (and their scores) and fills gaps."""
    _check_stage(stage)
    window = stage_service.windows(comp)[stage]
    if window.status(now) == "closed":
        raise Conflict(f"{window.name}已截止，不能再调整评委分配")
    k = _judges_per_case(raw, stage)
    case_refs, judge_refs, titles = _refs(comp, stage)
    slots = store.slots_of_stage(stage, comp.category_ids)
    existing = [(s.judge_id, s.case_id) for s in slots if not s.recused]
    excluded = [(s.judge_id, s.case_id) for s in slots if s.recused]
    try:
        if stage == "text_review":
            plan = planner.plan_text_review(case_refs, judge_refs, k, existing, excluded)
        elif stage == "coaching":
            plan = planner.plan_coaching(case_refs, judge_refs, existing, excluded)
        else:
            plan = planner.plan_final(case_refs, judge_refs, existing, excluded)
    except planner.AssignmentError as exc:
        raise Invalid(exc.message, {"judges_per_case": exc.message}, code="invalid") from exc
    category = {c.case_id: c.category for c in case_refs}
    new = [store.new_slot(stage, j, c, category[c], titles.get(c, ""), now.timestamp()) for j, c in plan.new]
    if new:
        store.create_slots(new, actor, now.timestamp(), {"stage": stage, "k": k, "new": len(new)})
    return {"assignments": len(plan.pairs), "new": len(new), "per_judge": dict(plan.per_judge)}


def _judges_per_case(raw: Any, stage: str) -> int:
    if stage != "text_review":
        return 1
    value = raw.get("judges_per_case", 5) if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
        raise Invalid("每案评委数 judges_per_case 应为 1～50 的整数", {"judges_per_case": "应为 1～50 的整数"})
    return value


def list_assignments(comp: Competition, stage: str) -> dict[str, Any]:
    """Every slot of the stage with its state: who, which case, scored, recused (with the reason)."""
    _check_stage(stage)
    slots = store.slots_of_stage(stage, comp.category_ids)
    return {"stage": stage, "assignments": [
        {"judge_id": s.judge_id, "case_id": s.case_id, "category": s.category, "title": s.title,
         "scored": bool(s.scored), "recused": bool(s.recused), "recusal_reason": s.recusal_reason,
         "source": s.source} for s in sorted(slots, key=lambda s: (s.category, s.case_id, s.judge_id))]}


def add_assignment(comp: Competition, stage: str, judge_id: str, case_id: str, actor: str, now: float) -> None:
    """An organiser's override: one more judge on one case (回避 still applies)."""
    _check_stage(stage)
    judge = store.get_judge(comp.id, judge_id)
    case = case_store.get(case_id)
    if judge is None or case is None:
        raise NotFound("没有这位评委或这个案例")
    body = json.loads(case.body)
    ref = planner.CaseRef(case.id, body.get("category", ""), body.get("recommending_unit", ""))
    judge_ref = planner.JudgeRef(judge.judge_id, frozenset(judge.categories or []), judge.affiliation,
                                 frozenset(judge.conflicts or []))
    if planner.is_conflict(judge_ref, ref):
        raise Invalid("该评委与案例推荐单位需回避，不能分配", {"judge_id": "需回避"})
    store.add_slot(store.new_slot(stage, judge_id, case_id, ref.category, body.get("title", ""), now,
                                  source="organiser"), actor, now)


def remove_assignment(comp: Competition, stage: str, judge_id: str, case_id: str, actor: str, now: float) -> None:
    _check_stage(stage)
    store.remove_slot(stage, judge_id, case_id, actor, now)


# -- links ----------------------------------------------------------------------------------
def _serializer(cfg: Settings) -> URLSafeSerializer:
    # itsdangerous signs with the LAST key and verifies with all: the settings list newest first.
    return URLSafeSerializer(list(reversed(cfg.signing_keys)), salt="judge-link",
                             signer_kwargs={"digest_method": hashlib.sha256})


@dataclass(frozen=True)
class IssuedLink:
    judge_id: str
    url: str
    expires_at: str


def issue_links(comp: Competition, cfg: Settings, stage: str, actor: str, now: datetime,
                transport: Any) -> list[IssuedLink]:
    """One new link per judge assigned in the stage (revoking their earlier one), mailed to the judge."""
    _check_stage(stage)
    window = stage_service.windows(comp)[stage]
    slots = store.slots_of_stage(stage, comp.category_ids)
    counts: dict[str, int] = {}
    for slot in slots:
        if not slot.recused:
            counts[slot.judge_id] = counts.get(slot.judge_id, 0) + 1
    judges = {j.judge_id: j for j in store.list_judges(comp.id)}
    issued = []
    for judge_id in sorted(counts):
        random_id = secrets.token_urlsafe(16)   # 128 bits
        token = _serializer(cfg).dumps({"j": judge_id, "s": stage, "r": random_id})
        store.set_link(judge_id, stage, token_hash(random_id), actor, now.timestamp())
        url = f"{cfg.site_url}/j/{token}"
        issued.append(IssuedLink(judge_id, url, format_time(window.closes_at)))
        judge = judges.get(judge_id)
        if judge is not None:
            _invite(transport, cfg.mail_sender, comp.id, "judge_invitation", token_hash(random_id),
                             judge.email, {"competition": comp.short_name, "stage_name": window.name,
                                           "judge_name": judge.name, "count": counts[judge_id], "url": url,
                                           "opens_at": format_time(window.opens_at),
                                           "closes_at": format_time(window.closes_at),
                                           "hosts": "、".join(comp.hosts)}, now.timestamp())
    return issued


def _invite(*args: Any) -> None:
    """Mail a link; a failed mail never undoes the issued link (the console shows it, it can be re-sent)."""
    try:
        outbox.send_once(*args)
    except Exception:
        log.exception("judge invitation mail failed")


def revoke_link(comp: Competition, judge_id: str, stage: str, actor: str, now: float) -> None:
    _check_stage(stage)
    store.revoke_link(judge_id, stage, actor, now)


def read_link(cfg: Settings, token: Any) -> dict[str, str]:
    """The link's claims if the signature holds; anything else is 401 (forged, altered, malformed)."""
    if not isinstance(token, str) or not 10 <= len(token) <= 1000:
        raise Unauthenticated("评分链接无效")
    try:
        claims = _serializer(cfg).loads(token)
    except BadSignature:
        raise Unauthenticated("评分链接无效或已被修改") from None
    if not isinstance(claims, dict) or not all(isinstance(claims.get(k), str) for k in ("j", "s", "r")):
        raise Unauthenticated("评分链接无效")
    return claims


@dataclass(frozen=True)
class JudgeSession:
    token: str
    csrf: str
    judge_id: str
    stage: str
    expires_at: float


def valid_link(comp: Competition, cfg: Settings, link_token: Any, now: datetime):
    """(judge id, stage, current link row, stage window) of a link that may open a session now; else 401."""
    claims = read_link(cfg, link_token)
    judge_id, stage = claims["j"], claims["s"]
    link, row = store.link_and_stage(judge_id, stage, comp.id)
    if link is None or link.link_hash != token_hash(claims["r"]):
        raise Unauthenticated("评分链接已失效（已被撤销或重新发放），请联系主办单位获取新的链接")
    window = stage_service.to_window(comp, row) if row is not None else stage_service.windows(comp)[stage]
    if window.status(now) == "closed":
        raise Unauthenticated(f"{window.name}已截止，评分链接已过期")
    return judge_id, stage, link, window


def open_judge_session(comp: Competition, cfg: Settings, link_token: Any, now: datetime) -> JudgeSession:
    """Exchange a link for a judge session (the link's GET page changes nothing; this is the POST)."""
    judge_id, stage, link, window = valid_link(comp, cfg, link_token, now)
    ts = now.timestamp()
    expires = window.closes_at.timestamp() + READ_GRACE_SECONDS
    token = f"j.{judge_id}.{stage}.{new_token()}"
    csrf = new_token()
    account_store.open_judge_session(Session(token_hash(token), role="judge", judge_id=judge_id, stage=stage,
                                             link_hash=link.link_hash, csrf=csrf, created_at=ts,
                                             expires_at=int(expires)), ts)
    return JudgeSession(token, csrf, judge_id, stage, expires)


def judge_session_parts(token: str | None) -> tuple[str, str] | None:
    if not token or not token.startswith("j.") or token.count(".") != 3:
        return None
    _, judge_id, stage, _ = token.split(".")
    return judge_id, stage


def slot_view(slot: Assignment) -> dict[str, Any]:
    return {"id": slot.case_id, "title": slot.title, "category": slot.category, "scored": bool(slot.scored)}
