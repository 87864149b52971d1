"""The organiser's side of judging: judges, assignments (with 回避), and signed scoring links.

A scoring link is `/j/<token>`: an itsdangerous HMAC-SHA256 signature (salt "judge-link", every key
of the key list verifies, the first signs) over {competition, judge, stage, a 128-bit id} (claims c, j, s, r;
a link issued before links named their competition has no `c`: it is the deployment's own COMPETITION_ID's,
the only competition there was then). That id is derived, never
stored: HMAC-SHA256(signing key, a random seed). The server keeps the judge's current link for the stage as
the seed (tagged with which key it was made under) and the SHA-256 of the id: neither opens anything without
the signing key, nor does a DEBUG log of the table's traffic; with the key the server re-derives the link in
force, signed with that same key, to show it again exactly as it was mailed (the QR sheet, 显示链接), so
printing a sheet never has to re-issue anything. Dropping a key from the list ends its links either way. Re-issuing
replaces the row and revoking clears it, so an old link stops working at once. A link opens sessions until its stage
closes; sessions opened before the close may still read (never write) for READ_GRACE afterwards.
Links travel only in response bodies and mail, never in a URL the server logs, nor in the audit log.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from itsdangerous import BadSignature, URLSafeSerializer

from ..domain.clock import epoch
from ..config import Settings
from ..domain import assignment as planner
from ..domain.cases import STATUS_NAMES
from ..domain.competition import (
    CHINA, JUDGED_STAGES, Competition, StageId, StageWindow, format_time, is_coaching, parse_stage,
)
from ..domain.errors import Conflict, Invalid, NotFound, StageClosed, Unauthenticated
from ..domain.judges import parse_judge
from ..mail import outbox
from ..mail.render import render_subject
from ..domain.judging_record import Assignment, Judge, JudgeSession as StoredSession, Link, link_key, new_slot
from ..security import new_id, new_token, token_hash
from . import stages as stage_service
from .repositories import CaseRepository, JudgingRepository, MailRepository, StageRepository

READ_GRACE_SECONDS = 24 * 3600
CASES_FOR_STAGE: dict[str, tuple[str, ...]] = {
    StageId.TEXT_REVIEW: ("submitted", "advanced", "not_advanced", "awarded", "not_awarded"),
    StageId.COACHING: ("advanced", "awarded", "not_awarded"),
    StageId.FINAL: ("advanced", "awarded", "not_awarded"),
    StageId.PROVINCIAL: ("awarded",)}
OUT_AFTER_REVIEW = ("returned", "rejected")   # 审核: never assigned, not even by an organiser's override


# -- judges ---------------------------------------------------------------------------------
def judge_view(judge: Judge) -> dict[str, Any]:
    return {"id": judge.judge_id, "name": judge.name, "email": judge.email, "mobile": judge.mobile,
            "affiliation": judge.affiliation, "categories": list(judge.categories or []),
            "conflicts": list(judge.conflicts or [])}


def create_judge(judging: JudgingRepository, comp: Competition, raw: Any, actor: str, now: datetime) -> Judge:
    data = parse_judge(raw, comp.category_ids)
    judge = Judge(comp.id, new_id(), name=data.name, email=data.email, mobile=data.mobile,
                  affiliation=data.affiliation, categories=tuple(data.categories), conflicts=tuple(data.conflicts),
                  created_at=epoch(now), updated_at=epoch(now))
    judging.save_judge(judge, actor, epoch(now), "judge.create")
    return judge


def update_judge(judging: JudgingRepository, comp: Competition, judge_id: str, raw: Any, actor: str,
                 now: datetime) -> Judge:
    judge = judging.get_judge(comp.id, judge_id)
    if judge is None:
        raise NotFound("没有这位评委")
    before = judge_view(judge)
    data = parse_judge(raw, comp.category_ids)
    judge = replace(judge, name=data.name, email=data.email, mobile=data.mobile, affiliation=data.affiliation,
                    categories=tuple(data.categories), conflicts=tuple(data.conflicts), updated_at=epoch(now))
    judging.save_judge(judge, actor, epoch(now), "judge.edit", before=before)
    return judge


def list_judges(judging: JudgingRepository, comp: Competition) -> list[Judge]:
    return judging.list_judges(comp.id)


# -- assignments ----------------------------------------------------------------------------
def takes_part(stage: str, case: Any) -> bool:
    """The case is one of the stage's to judge: by its status; 赛前辅导 (provincial) only on the awarded cases
    the organiser recommended to the provincial competition (省赛推荐)."""
    return case.status in CASES_FOR_STAGE[stage] and (stage != StageId.PROVINCIAL or bool(case.provincial))


def _check_stage(stage: str) -> None:
    parse_stage(stage, JUDGED_STAGES, "只有文本评审、专家辅导、综合评选和赛前辅导（省赛准备）有评委分配")


def _refs(judging: JudgingRepository, repo: CaseRepository, comp: Competition, stage: str):
    cases = [c for c in repo.list_for_competition(comp.id) if takes_part(stage, c)]
    case_refs = [planner.CaseRef(c.id, c.body.get("category", ""), c.body.get("recommending_unit", ""))
                 for c in cases]
    judges = judging.list_judges(comp.id)
    judge_refs = [planner.JudgeRef(j.judge_id, frozenset(j.categories or []), j.affiliation,
                                   frozenset(j.conflicts or [])) for j in judges]
    return case_refs, judge_refs, {c.id: c.body.get("title", "") for c in cases}


def plan_assignments(judging: JudgingRepository, repo: CaseRepository, comp: Competition, stage: str, raw: Any,
                     actor: str, now: datetime, *, stages: StageRepository) -> dict[str, Any]:
    """Assign judges for a stage; re-running keeps existing slots (and their scores) and fills gaps."""
    _check_stage(stage)
    window = stage_service.windows(comp, stages)[stage]
    if window.status(now) == "closed":
        raise Conflict(f"{window.name}已截止，不能再调整评委分配")
    k = _judges_per_case(raw, stage)
    case_refs, judge_refs, titles = _refs(judging, repo, comp, stage)
    slots = judging.slots_of_stage(comp.id, stage, comp.category_ids)
    existing = [(s.judge_id, s.case_id) for s in slots if not s.recused]
    excluded = [(s.judge_id, s.case_id) for s in slots if s.recused]
    try:
        if stage == StageId.TEXT_REVIEW:
            plan = planner.plan_text_review(case_refs, judge_refs, k, existing, excluded)
        elif is_coaching(stage):
            plan = planner.plan_coaching(case_refs, judge_refs, existing, excluded)
        else:
            plan = planner.plan_final(case_refs, judge_refs, existing, excluded)
    except planner.AssignmentError as exc:
        raise Invalid(exc.message, {"judges_per_case": exc.message}, code="invalid") from exc
    category = {c.case_id: c.category for c in case_refs}
    new = [new_slot(stage, j, c, category[c], titles.get(c, ""), epoch(now)) for j, c in plan.new]
    if new:
        judging.create_slots(comp.id, new, actor, epoch(now), {"stage": stage, "k": k, "new": len(new)})
    return {"assignments": len(plan.pairs), "new": len(new), "per_judge": dict(plan.per_judge)}


def _judges_per_case(raw: Any, stage: str) -> int:
    if stage != StageId.TEXT_REVIEW:
        return 1
    value = raw.get("judges_per_case", 5) if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
        raise Invalid("每案评委数 judges_per_case 应为 1～50 的整数", {"judges_per_case": "应为 1～50 的整数"})
    return value


def list_assignments(judging: JudgingRepository, comp: Competition, stage: str) -> dict[str, Any]:
    """Every slot of the stage with its state: who, which case, scored, recused (with the reason)."""
    _check_stage(stage)
    slots = judging.slots_of_stage(comp.id, stage, comp.category_ids)
    return {"stage": stage, "assignments": [
        {"judge_id": s.judge_id, "case_id": s.case_id, "category": s.category, "title": s.title,
         "scored": bool(s.scored), "recused": bool(s.recused), "recusal_reason": s.recusal_reason,
         "source": s.source} for s in sorted(slots, key=lambda s: (s.category, s.case_id, s.judge_id))]}


def add_assignment(judging: JudgingRepository, repo: CaseRepository, comp: Competition, stage: str, judge_id: str,
                   case_id: str, actor: str, now: datetime) -> None:
    """An organiser's override: one more judge on one case (回避 still applies)."""
    _check_stage(stage)
    judge = judging.get_judge(comp.id, judge_id)
    case = repo.get(case_id)
    if judge is None or case is None:
        raise NotFound("没有这位评委或这个案例")
    if case.status in OUT_AFTER_REVIEW:
        raise Invalid(f"该案例经审核为“{STATUS_NAMES[case.status]}”，不参加评审，不能分配评委",
                      {"case_id": "该案例不参加评审"})
    if stage == StageId.PROVINCIAL and not takes_part(stage, case):
        raise Invalid("赛前辅导只面向推荐参加省赛的获奖案例，该案例未被推荐", {"case_id": "该案例未被推荐参加省赛"})
    body = case.body
    ref = planner.CaseRef(case.id, body.get("category", ""), body.get("recommending_unit", ""))
    judge_ref = planner.JudgeRef(judge.judge_id, frozenset(judge.categories or []), judge.affiliation,
                                 frozenset(judge.conflicts or []))
    if planner.is_conflict(judge_ref, ref):
        raise Invalid("该评委与案例推荐单位需回避，不能分配", {"judge_id": "需回避"})
    judging.add_slot(comp.id, new_slot(stage, judge_id, case_id, ref.category, body.get("title", ""), epoch(now),
                              source="organiser"), actor, epoch(now))


def remove_assignment(judging: JudgingRepository, comp: Competition, stage: str, judge_id: str, case_id: str,
                      actor: str, now: datetime) -> None:
    _check_stage(stage)
    judging.remove_slot(comp.id, stage, judge_id, case_id, actor, epoch(now))


# -- links ----------------------------------------------------------------------------------
def _serializer(cfg: Settings) -> URLSafeSerializer:
    # itsdangerous signs with the LAST key and verifies with all: the settings list newest first.
    return URLSafeSerializer(list(reversed(cfg.signing_keys)), salt="judge-link",
                             signer_kwargs={"digest_method": hashlib.sha256})


def _key_tag(key: str) -> str:
    """Names a signing key in a stored link row without revealing it."""
    return hashlib.sha256(f"saiping-link-key:{key}".encode()).hexdigest()[:12]


def _link_secret(key: str, seed: str) -> str:
    """The link's 128-bit id for a stored seed: only the holder of the signing key can compute it."""
    mac = hmac.new(key.encode(), f"judge-link-id:{seed}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")


def _new_link(cfg: Settings, competition_id: str, judge_id: str, stage: str) -> tuple[str, str, str]:
    """(stored seed "<key tag>:<random>", the id's SHA-256, the URL) of a fresh link, under the newest key."""
    key = cfg.signing_keys[0]
    seed = f"{_key_tag(key)}:{secrets.token_urlsafe(16)}"
    secret = _link_secret(key, seed)
    return seed, token_hash(secret), _url(cfg, key, competition_id, judge_id, stage, secret)


def _url(cfg: Settings, key: str, competition_id: str, judge_id: str, stage: str, secret: str) -> str:
    token = URLSafeSerializer(key, salt="judge-link", signer_kwargs={"digest_method": hashlib.sha256}).dumps(
        {"c": competition_id, "j": judge_id, "s": stage, "r": secret})
    return f"{cfg.site_url}/j/{token}"


def _stored_url(cfg: Settings, competition_id: str, judge_id: str, stage: str, row: Link) -> str | None:
    """The link in force of a stored row, as it was mailed; None when it cannot be made again (a row of an
    older release, without a seed, or a seed whose key has left the key list: that link is dead anyway)."""
    if not row.link_hash or not row.link_id or ":" not in row.link_id:
        return None
    key = next((k for k in cfg.signing_keys if _key_tag(k) == row.link_id.split(":", 1)[0]), None)
    if key is None:
        return None
    secret = _link_secret(key, row.link_id)
    return _url(cfg, key, competition_id, judge_id, stage, secret) if token_hash(secret) == row.link_hash else None


@dataclass(frozen=True)
class IssuedLink:
    judge_id: str
    url: str
    expires_at: str
    mail: str = "none"       # the invitation: "queued" (the queued sender mails it), "none" (no valid address)


@dataclass(frozen=True)
class LinkState:
    """A judge's link for a stage as the console shows it: none (未发放), sent, opened or revoked."""
    judge_id: str
    state: str                      # "none" | "sent" | "opened" | "revoked"
    issued_at: float | None
    opened_at: float | None
    revoked_at: float | None
    shown: bool                     # the link in force can be shown again (rows of older releases cannot)

    @property
    def since(self) -> str | None:
        """When the link reached its state (issued, first opened, revoked), in the competition's zone."""
        at = {"sent": self.issued_at, "opened": self.opened_at, "revoked": self.revoked_at}.get(self.state)
        return format_time(datetime.fromtimestamp(at, tz=timezone.utc)) if at is not None else None


def _assigned_counts(judging: JudgingRepository, comp: Competition, stage: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for slot in judging.slots_of_stage(comp.id, stage, comp.category_ids):
        if not slot.recused:
            counts[slot.judge_id] = counts.get(slot.judge_id, 0) + 1
    return counts


def _issue(judging: JudgingRepository, comp: Competition, cfg: Settings, stage: str,
           chosen: list[tuple[str, Judge | None, int]], actor: str, now: datetime,
           action: str = "link.issue", *, stages: StageRepository) -> list[IssuedLink]:
    """A new link for each (judge id, judge, cases assigned), replacing their earlier one: each judge's link
    row, audit row and queued invitation (its mail-log row) written in transactions of up to 100 items
    (the repository's set_links). Nothing is mailed here: the queued sender does it (`send_invitations`)."""
    window = stage_service.windows(comp, stages)[stage]
    at = epoch(now)
    made = {judge_id: _new_link(cfg, comp.id, judge_id, stage) for judge_id, _, _ in chosen}
    mails: dict[str, Any] = {}
    for judge_id, judge, count in chosen:
        if judge is None:
            continue
        subject = render_subject("judge_invitation",
                                 _invitation(comp, window, judge, count, made[judge_id][2], stage))
        record = outbox.queue(comp.id, "judge_invitation", made[judge_id][1], judge.email, subject,
                              link_key(judge_id, stage), now)
        if record is not None:
            mails[judge_id] = record
    judging.set_links(comp.id, [(j, seed, link_hash) for j, (seed, link_hash, _) in made.items()], mails, stage,
                      actor, at, action)
    return [IssuedLink(judge_id, url, format_time(window.closes_at), "queued" if judge_id in mails else "none")
            for judge_id, (_, _, url) in made.items()]


def _invitation(comp: Competition, window: StageWindow, judge: Judge, count: int, url: str,
                stage: str) -> dict[str, Any]:
    return {"competition": comp.short_name, "stage_name": comp.round_name(stage), "judge_name": judge.name,
            "count": count, "url": url, "opens_at": _mail_time(window.opens_at),
            "closes_at": _mail_time(window.closes_at), "hosts": "、".join(comp.hosts), "coaching": is_coaching(stage)}


def issue_links(judging: JudgingRepository, comp: Competition, cfg: Settings, stage: str, actor: str,
                now: datetime, *, stages: StageRepository) -> list[IssuedLink]:
    """One new link per judge assigned in the stage (revoking their earlier one), its invitation queued."""
    _check_stage(stage)
    counts = _assigned_counts(judging, comp, stage)
    judges = {j.judge_id: j for j in judging.list_judges(comp.id)}
    return _issue(judging, comp, cfg, stage, [(j, judges.get(j), counts[j]) for j in sorted(counts)], actor, now,
                  stages=stages)


def reissue_link(judging: JudgingRepository, comp: Competition, cfg: Settings, judge_id: Any, stage: str,
                 actor: str, now: datetime, *, stages: StageRepository) -> IssuedLink:
    """A new link for this one judge (only their earlier link for the stage stops working), its invitation
    queued (the earlier link's queued invitation, if still unsent, is dropped at send time)."""
    _check_stage(stage)
    judge = judging.get_judge(comp.id, judge_id) if _plausible_id(judge_id) else None
    if judge is None:
        raise NotFound("没有这位评委")
    window = stage_service.windows(comp, stages)[stage]
    if window.status(now) == "closed":
        raise StageClosed(f"{window.name}已截止，评分链接不再能打开，无需重新发放")
    count = sum(1 for s in judging.slots_of_judge(comp.id, stage, judge.judge_id) if not s.recused)
    if count == 0:
        raise Conflict(f"该评委在{window.name}没有分配案例，无需发放评分链接")
    return _issue(judging, comp, cfg, stage, [(judge.judge_id, judge, count)], actor, now, "link.reissue",
                  stages=stages)[0]


def issue_missing_links(judging: JudgingRepository, comp: Competition, cfg: Settings, stage: str, actor: str,
                        now: datetime, *, stages: StageRepository) -> list[IssuedLink]:
    """A link for each assigned judge who has none in force; links in force are left as they are. Nothing
    once the stage has closed (a link could no longer open a session)."""
    _check_stage(stage)
    if stage_service.windows(comp, stages)[stage].status(now) == "closed":
        return []
    counts = _assigned_counts(judging, comp, stage)
    rows = judging.links_of(comp.id, stage, counts)
    missing = [j for j in sorted(counts) if rows.get(j) is None or rows[j].link_hash is None]
    judges = {j.judge_id: j for j in judging.list_judges(comp.id)} if missing else {}
    return _issue(judging, comp, cfg, stage, [(j, judges.get(j), counts[j]) for j in missing], actor, now,
                  stages=stages)


def links_in_force(judging: JudgingRepository, comp: Competition, cfg: Settings, stage: str, actor: str,
                   now: datetime, *, stages: StageRepository) -> tuple[list[IssuedLink], list[str]]:
    """(the links in force of the stage's assigned judges, as they were mailed; the judges whose link in
    force cannot be shown: issued by an older release that kept no id, to be re-issued alone). For the
    QR sheet; the showing is audited."""
    _check_stage(stage)
    counts = _assigned_counts(judging, comp, stage)
    rows = judging.links_of(comp.id, stage, counts)
    closes_at = format_time(stage_service.windows(comp, stages)[stage].closes_at)
    urls = {j: _stored_url(cfg, comp.id, j, stage, rows[j]) for j in sorted(counts) if j in rows and rows[j].link_hash}
    shown = [IssuedLink(j, url, closes_at) for j, url in urls.items() if url]
    if shown:
        judging.audit_links_shown(comp.id, stage, [link.judge_id for link in shown], actor, epoch(now))
    return shown, [j for j, url in urls.items() if not url]


def show_link(judging: JudgingRepository, comp: Competition, cfg: Settings, judge_id: Any, stage: str, actor: str,
              now: datetime, *, stages: StageRepository) -> IssuedLink:
    """The judge's link in force, shown again to the organiser (audited: who was shown whose link)."""
    _check_stage(stage)
    if not _plausible_id(judge_id):
        raise NotFound("没有这位评委")
    row = judging.links_of(comp.id, stage, [judge_id]).get(judge_id)
    if row is None or not row.link_hash:
        raise Conflict("该评委本阶段没有有效的评分链接，请先发放")
    url = _stored_url(cfg, comp.id, judge_id, stage, row)
    if url is None:
        raise Conflict("该链接发放于系统升级或更换签名密钥之前，无法再次显示，请为该评委重新发放")
    judging.audit_links_shown(comp.id, stage, [judge_id], actor, epoch(now))
    return IssuedLink(judge_id, url, format_time(stage_service.windows(comp, stages)[stage].closes_at))


def link_rows(judging: JudgingRepository, comp: Competition,
              judges_by_stage: dict[str, list[str]]) -> dict[str, dict[str, Link]]:
    """The link rows of these judges in these stages (one BatchGet per 100), by stage then judge."""
    return judging.links_of_stages(comp.id, judges_by_stage)


def link_states(judging: JudgingRepository, comp: Competition, stage: str, judge_ids: list[str],
                rows: Mapping[str, Link] | None = None) -> dict[str, LinkState]:
    """Each judge's link state for the stage (one batch read, unless the rows are given)."""
    rows = judging.links_of(comp.id, stage, judge_ids) if rows is None else rows
    states = {}
    for judge_id in judge_ids:
        row = rows.get(judge_id)
        if row is None:
            states[judge_id] = LinkState(judge_id, "none", None, None, None, False)
            continue
        state = "revoked" if not row.link_hash else "opened" if row.opened_at is not None else "sent"
        states[judge_id] = LinkState(judge_id, state, row.issued_at, row.opened_at, row.revoked_at,
                                     bool(row.link_hash and row.link_id and ":" in row.link_id))
    return states


def _mail_time(value: datetime) -> str:
    """A time as the invitation says it: 2023年6月16日 23:59 (Beijing time)."""
    local = value.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def send_invitations(judging: JudgingRepository, comp: Competition, cfg: Settings, transport: Any,
                     clock: Callable[[], datetime], limit: int = 1000, budget_seconds: float | None = None, *,
                     stages: StageRepository, mail: MailRepository) -> outbox.Drained:
    """The queued sender's turn: mail each queued invitation once, at the transport's rate. Each mail is
    composed just before it goes, from the judge's link row read then: an invitation whose link was re-issued
    or revoked since, whose stage has closed or whose judge's address changed is dropped, never sent."""
    rows = [r for r in outbox.queued(comp.id, limit, mail) if r.kind == "judge_invitation" and r.ref]
    if not rows:
        return outbox.Drained()
    rows, gone = _stale_invitations(judging, comp, rows)
    dropped = outbox.drop(gone, mail)
    judges = {j.judge_id: j for j in judging.list_judges(comp.id)}
    windows = stage_service.windows(comp, stages)
    counts: dict[str, dict[str, int]] = {}

    def compose(row: Any) -> dict[str, Any] | None:
        judge_id, stage = row.ref.rsplit("#", 1)
        judge, window = judges.get(judge_id), windows.get(stage)
        if judge is None or window is None or (judge.email or "").lower() != row.recipient.lower():
            return None
        link = judging.links_of(comp.id, stage, [judge_id]).get(judge_id)
        if link is None or link.link_hash != outbox.object_of(row) or window.status(clock()) == "closed":
            return None
        url = _stored_url(cfg, comp.id, judge_id, stage, link)
        if stage not in counts:
            counts[stage] = _assigned_counts(judging, comp, stage)
        count = counts[stage].get(judge_id, 0)
        return _invitation(comp, window, judge, count, url, stage) if url and count else None

    drained = outbox.send_queued(transport, cfg.mail_sender, rows, compose, clock, budget_seconds, mail=mail)
    return replace(drained, dropped=drained.dropped + dropped)


def _stale_invitations(judging: JudgingRepository, comp: Competition, rows: list[Any]) -> tuple[list[Any], list[Any]]:
    """(the queued invitations whose link is still the one in force, those whose link was re-issued or revoked
    already): one BatchGet of the links for the whole run, so that re-issuing every link before the sender
    ran costs one write per old invitation."""
    wanted: dict[str, list[str]] = {}
    for row in rows:
        judge_id, stage = row.ref.rsplit("#", 1)
        wanted.setdefault(stage, []).append(judge_id)
    links = judging.links_of_stages(comp.id, wanted)
    live: list[Any] = []
    gone: list[Any] = []
    for row in rows:
        judge_id, stage = row.ref.rsplit("#", 1)
        link = links.get(stage, {}).get(judge_id)
        (live if link is not None and link.link_hash == outbox.object_of(row) else gone).append(row)
    return live, gone


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, tz=timezone.utc)


def mail_states(comp: Competition, rows: Mapping[str, Mapping[str, Link]], emails: dict[str, str],
                mail: MailRepository) -> dict[str, dict[str, str]]:
    """Each judge's invitation state for their link in force, by stage ("queued", "sending", "sent", "failed",
    "bounced"; absent without a link in force or a mail): `rows` as `link_rows` gives them, `emails` by judge.
    One BatchGet per 100 mails."""
    keys = {(stage, j): outbox.mail_key(comp.id, "judge_invitation", row.link_hash, emails[j])
            for stage, by_judge in rows.items() for j, row in by_judge.items() if row.link_hash and emails.get(j)}
    found = outbox.states(list(keys.values()), mail)
    states: dict[str, dict[str, str]] = {stage: {} for stage in rows}
    for (stage, j), key in keys.items():
        if key in found:
            states[stage][j] = found[key]
    return states


def revoke_link(judging: JudgingRepository, comp: Competition, judge_id: Any, stage: str, actor: str,
                now: datetime) -> None:
    """Revoke the judge's link in force at once (idempotent: nothing in force, nothing to do)."""
    _check_stage(stage)
    if _plausible_id(judge_id):
        judging.revoke_link(comp.id, judge_id, stage, actor, epoch(now))


def _plausible_id(value: Any) -> bool:
    """A judge id as typed into a form or a path: a short string (the store is never asked for junk keys)."""
    return isinstance(value, str) and 0 < len(value) <= 100


def read_link(cfg: Settings, token: Any) -> dict[str, str]:
    """The link's claims if the signature holds; anything else is 401 (forged, altered, malformed). `c` is always
    there in the answer: a link issued before links named their competition (no `c`) is the deployment's own
    competition's (COMPETITION_ID), the only one there was when it was issued."""
    if not isinstance(token, str) or not 10 <= len(token) <= 1000:
        raise Unauthenticated("评分链接无效")
    try:
        claims = _serializer(cfg).loads(token)
    except BadSignature:
        raise Unauthenticated("评分链接无效或已被修改") from None
    if not isinstance(claims, dict) or not all(isinstance(claims.get(k), str) for k in ("j", "s", "r")):
        raise Unauthenticated("评分链接无效")
    competition_id = claims.get("c", cfg.competition_id)
    if not isinstance(competition_id, str) or not 0 < len(competition_id) <= 64:
        raise Unauthenticated("评分链接无效")
    return {**claims, "c": competition_id}


@dataclass(frozen=True)
class JudgeSession:
    token: str
    csrf: str
    judge_id: str
    stage: str
    expires_at: float


@dataclass(frozen=True)
class ValidLink:
    """A link that may open a session now: its competition, judge, stage, current link row and stage window."""
    comp: Competition
    judge_id: str
    stage: str
    link: Link
    window: StageWindow


def valid_link(judging: JudgingRepository, competition_of: Callable[[str], Competition], cfg: Settings,
               link_token: Any, now: datetime, *, stages: StageRepository) -> ValidLink:
    """The link, looked up in the link's own competition (`competition_of`: a competition by its id, as
    bootstrap.competition_by_id gives it), if it may open a session now; else 401."""
    claims = read_link(cfg, link_token)
    judge_id, stage = claims["j"], claims["s"]
    try:
        comp = competition_of(claims["c"])
    except NotFound:
        raise Unauthenticated("评分链接无效：没有这个竞赛届次") from None
    link, row = judging.link_and_stage(judge_id, stage, comp.id)
    if link is None or link.link_hash != token_hash(claims["r"]):
        raise Unauthenticated("评分链接已失效（已被撤销或重新发放），请联系主办单位获取新的链接")
    window = stage_service.to_window(comp, row) if row is not None else stage_service.windows(comp, stages)[stage]
    if window.status(now) == "closed":
        raise Unauthenticated(f"{window.name}已截止，评分链接已过期")
    return ValidLink(comp, judge_id, stage, link, window)


def open_judge_session(judging: JudgingRepository, competition_of: Callable[[str], Competition], cfg: Settings,
                       link_token: Any, now: datetime, *, stages: StageRepository) -> JudgeSession:
    """Exchange a link for a judge session of the link's competition (the link's GET page changes nothing; this
    is the POST)."""
    found = valid_link(judging, competition_of, cfg, link_token, now, stages=stages)
    comp, judge_id, stage, link, window = found.comp, found.judge_id, found.stage, found.link, found.window
    ts = epoch(now)
    expires = window.closes_at.timestamp() + READ_GRACE_SECONDS
    token = f"j.{comp.id}.{judge_id}.{stage}.{new_token()}"   # the session names its competition
    csrf = new_token()
    opened = link.link_hash is not None and judging.open_session(
        comp.id, StoredSession(token_hash(token), judge_id=judge_id, stage=stage, link_hash=link.link_hash, csrf=csrf,
                      created_at=ts, expires_at=int(expires)), ts)
    if not opened:   # revoked or re-issued between the check and the write
        raise Unauthenticated("评分链接已失效（已被撤销或重新发放），请联系主办单位获取新的链接")
    return JudgeSession(token, csrf, judge_id, stage, expires)


def slot_view(slot: Assignment) -> dict[str, Any]:
    return {"id": slot.case_id, "title": slot.title, "category": slot.category, "scored": bool(slot.scored)}
