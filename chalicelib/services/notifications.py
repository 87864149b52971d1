"""Mail beyond the stage engine's: registration, submission receipt, deadline and judge reminders, coaching
feedback available, and SES bounces.

Every mail goes through the mail port's once-only key (kind, object, recipient), so a retried request or a
doubled schedule sends nothing twice:
  registration        object = account id
  submission_receipt  object = case id @ submission time (a case withdrawn and submitted again gets a new one)
  deadline_reminder   object = submission@<close time>#<3d|1d>#<account id>  (moving the deadline re-arms it)
  judge_reminder      object = <stage>@<close time>#<judge id>
  feedback_available  object = case id (专家辅导), case id#provincial (赛前辅导)
  case_review         object = case id @ the decision's time in ms  (each 审核 decision its own mail)
  case_received       object = the arrived case's id  (a 省赛推荐 arriving in the competition it was sent to;
                      logged under the recommending competition)

`registered` and `submitted` are called from the account and case services after the write succeeded.
They never raise: a unit's account or submission must stand even when mail is down (the failure is logged
and the mail log row says "failed"). Their caller gives them a `Mailing`: the mail port, built when first used
inside the send (a port that cannot be built is a mail not sent, not a failed request), the competition and the
mail log.

The mail log is the `MailRepository` (services/repositories.py) and the cases the `CaseRepository`, both given
by the caller: the handlers and the schedules pass the process's (bootstrap), service tests the in-memory twins.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from ..domain.clock import epoch
from ..domain import case_record
from ..domain.account_record import Account
from ..domain.competition import CHINA, COACHING_ROUNDS, Competition, StageId, StageWindow
from ..domain.mail_record import MailRecord
from ..domain.readable import when
from ..mail import outbox
from . import stages as stage_service
from .repositories import CaseRepository, JudgingRepository, MailRepository, StageRepository

log = logging.getLogger("saiping")
REMINDER_DAYS = (3, 1)
JUDGE_REMINDER_BEFORE = timedelta(days=1)
FEEDBACK_GRACE = timedelta(hours=2)     # feedback saved in the coaching window's last hour still gets its mail
SCORED_STAGES: tuple[str, ...] = (StageId.TEXT_REVIEW, StageId.FINAL)


@dataclass(frozen=True)
class Mailing:
    """What a service that mails after its own write is given (registration, a password reset or an invitation,
    a submission receipt, a review decision): the mail port (results.Ports: transport, sender, site, the units'
    accounts), built when the mail is made, the competition the mail speaks for, and the mail log."""
    ports: Callable[[], Any]
    competition: Competition
    mail: MailRepository


def _when(value: datetime | float | None) -> str:
    return when(value)


def _common(comp: Competition, ports: Any) -> dict[str, Any]:
    return {"competition": comp.short_name, "site_url": ports.site_url, "hosts": "、".join(comp.hosts)}


def _send(ports: Any, comp: Competition, kind: str, object_key: str, recipient: str | None,
          context: dict[str, Any], now: datetime, mail: MailRepository, logged_under: str | None = None) -> bool:
    """Send once through the port in `comp`'s name, logged in `mail` under `comp` (or the competition
    `logged_under`: the one whose organisers' act it follows)."""
    if not recipient:
        return False
    try:
        return outbox.send_once(ports.transport, ports.sender, logged_under or comp.id, kind, object_key, recipient,
                                {**_common(comp, ports), **context}, now, mail).sent
    except Exception:
        log.exception("%s mail to %s failed", kind, object_key)
        return False


# -- after a unit's own actions (best effort) ---------------------------------------------------
def registered(account: Account, now: datetime, mailing: Mailing) -> bool:
    """The welcome mail, claimed and sent through the port (two calls: the account's request stays within
    its budget of three DynamoDB calls)."""
    try:
        ports, comp = mailing.ports(), mailing.competition
        return _send(ports, comp, "registration", account.id, account.email, {
            "unit": account.unit_name or "", "username": account.username, "contact": account.contact_name or ""},
            now, mailing.mail)
    except Exception:
        log.exception("registration mail for %s not sent", account.username)
        return False


def receipt(comp: Competition, principal: Any, case: case_record.Case, closes_at: float,
            now: datetime, mailing: Mailing) -> outbox.Prepared | None:
    """The submission receipt, prepared for the submit's own transaction (services/cases.submit): the
    draft -> submitted change happens once, so it is the once-only key, and the request makes no call for
    mail but the send itself. The address comes from the session (no read). None when it cannot be made.
    `closes_at`: the end of the window the case was submitted in (a returned case's: its `resubmit_by`)."""
    try:
        ports = mailing.ports()
        body = case.body
        category = comp.category(body.get("category", ""))
        at = epoch(now)
        return outbox.prepare(ports.sender, comp.id, "submission_receipt", f"{case.id}@{int(at)}",
                              getattr(principal, "email", None), {
                                  **_common(comp, ports), "unit": principal.unit_name or "",
                                  "title": body.get("title", ""), "case_id": case.id,
                                  "category": category.name if category else "", "submitted_at": _when(at),
                                  "closes_at": _when(closes_at), "resubmitted": case.status == "returned"}, now)
    except Exception:
        log.exception("submission receipt for %s not prepared", case.id)
        return None


def deliver(prepared: outbox.Prepared | None, mailing: Mailing) -> bool:
    if prepared is None:
        return False
    try:
        return outbox.deliver(mailing.ports().transport, prepared, mailing.mail)
    except Exception:
        log.exception("submission receipt %s not sent", prepared.record.mail_key)
        return False


# -- after an organiser's decision (best effort) ---------------------------------------------------
def reviewed(comp: Competition, case: case_record.Case, now: datetime, mailing: Mailing) -> bool:
    """The 审核 decision to the unit that submitted the case: its result, reason and (退回修改) deadline.
    Once per decision (the key holds the decision's time in milliseconds); never raises."""
    from ..domain.review import DECISIONS
    try:
        ports = mailing.ports()
        account = ports.accounts.get(case.owner_username)
        if account is None:
            return False
        return _send(ports, comp, "case_review", f"{case.id}@{int((case.reviewed_at or 0) * 1000)}", account.email, {
            "unit": account.unit_name or "", "title": case.title, "case_id": case.id,
            "decision": case.review_decision, "decision_name": DECISIONS[case.review_decision or ""],
            "reason": case.review_reason or "", "resubmit_by": case.resubmit_by}, now, mailing.mail)
    except Exception:
        log.exception("review mail for %s not sent", case.id)
        return False


def received(target: Competition, case: case_record.Case, submission: StageWindow, now: datetime,
             mailing: Mailing) -> bool:
    """A case recommended by `mailing.competition` arrived in `target` (services/feeder.send): to its unit, in the
    target's name, what it has become there (submitted, or a draft to submit once 文本申报 opens) and by when; logged
    under the recommending competition, whose organisers sent it. Once per arrived case; never raises."""
    try:
        ports, source = mailing.ports(), mailing.competition
        account = ports.accounts.get(case.owner_username)
        if account is None:
            return False
        return _send(ports, target, "case_received", case.id, account.email, {
            "unit": account.unit_name or "", "title": case.title, "case_id": case.id, "source": source.name,
            "target": target.name, "status": case.status, "opens_at": _when(submission.opens_at),
            "closes_at": _when(submission.closes_at)}, now, mailing.mail, logged_under=source.id)
    except Exception:
        log.exception("arrival mail for %s not sent", case.id)
        return False


# -- the hourly schedule ------------------------------------------------------------------------
def send_reminders(judging: JudgingRepository, comp: Competition, ports: Any, now: datetime, cases: CaseRepository,
                   mail: MailRepository, *, stages: StageRepository) -> dict[str, int]:
    """Deadline reminders (3 days and 1 day before submission closes), judge reminders (1 day before a
    scoring stage closes), coaching feedback notices. Safe to run at any rate: each mail goes once."""
    windows = stage_service.windows(comp, stages)
    counts = {"deadline_reminder": 0, "judge_reminder": 0, "feedback_available": 0}
    submission = windows[StageId.SUBMISSION]
    days = reminder_days(submission, now)
    if days is not None:
        counts["deadline_reminder"] = deadline_reminders(comp, ports, submission, days, now, cases, mail)
    for stage in SCORED_STAGES:
        window = windows[stage]
        if window.is_open(now) and window.closes_at - now <= JUDGE_REMINDER_BEFORE:
            counts["judge_reminder"] += judge_reminders(judging, comp, ports, window, now, mail)
    for stage in COACHING_ROUNDS:
        window = windows[stage]
        if window.opens_at <= now < window.closes_at + FEEDBACK_GRACE:
            counts["feedback_available"] += feedback_notices(judging, comp, ports, window, now, cases, mail)
    return counts


def reminder_days(submission: StageWindow, now: datetime) -> int | None:
    """1 within the last day, 3 within the last three days, else None (and None once it is closed)."""
    if not submission.is_open(now):
        return None
    left = submission.closes_at - now
    for days in sorted(REMINDER_DAYS):
        if left <= timedelta(days=days):
            return days
    return None


def deadline_reminders(comp: Competition, ports: Any, submission: StageWindow, days: int, now: datetime,
                       cases: CaseRepository, mail: MailRepository) -> int:
    """Units with a draft and no submitted case."""
    by_owner: dict[str, list[case_record.Case]] = {}
    for case in cases.list_for_competition(comp.id):
        by_owner.setdefault(case.owner_id, []).append(case)
    sent = 0
    close_key = int(submission.closes_at.timestamp())
    for account in ports.accounts.list_units():
        owned = by_owner.get(account.id, [])
        drafts = [c for c in owned if c.status == "draft"]
        if not drafts or any(c.status == "submitted" for c in owned):
            continue
        titles = [c.body.get("title") or "（未命名草稿）" for c in drafts]
        sent += _send(ports, comp, "deadline_reminder", f"submission@{close_key}#{days}d#{account.id}",
                      account.email, {"unit": account.unit_name or "", "days": days,
                                      "closes_at": _when(submission.closes_at), "drafts": titles},
                      now, mail)
    return sent


def judge_reminders(judging: JudgingRepository, comp: Competition, ports: Any, window: StageWindow, now: datetime,
                    mail: MailRepository) -> int:
    """Judges with unscored (and not recused) assignments in the stage."""
    totals: dict[str, int] = {}
    unscored: dict[str, int] = {}
    for slot in judging.slots_of_stage(comp.id, window.id, comp.category_ids):
        if slot.recused:
            continue
        totals[slot.judge_id] = totals.get(slot.judge_id, 0) + 1
        if not slot.scored:
            unscored[slot.judge_id] = unscored.get(slot.judge_id, 0) + 1
    if not unscored:
        return 0
    judges = {j.judge_id: j for j in judging.list_judges(comp.id)}
    close_key = int(window.closes_at.timestamp())
    sent = 0
    for judge_id, count in sorted(unscored.items()):
        judge = judges.get(judge_id)
        if judge is None:
            continue
        sent += _send(ports, comp, "judge_reminder", f"{window.id}@{close_key}#{judge_id}", judge.email, {
            "judge_name": judge.name, "stage_name": window.name, "closes_at": _when(window.closes_at),
            "total": totals[judge_id], "unscored": count}, now, mail)
    return sent


def feedback_notices(judging: JudgingRepository, comp: Competition, ports: Any, coaching: StageWindow, now: datetime,
                     cases: CaseRepository, mail: MailRepository) -> int:
    """One notice per case and coaching round (专家辅导, 赛前辅导) with feedback, to the unit that submitted it."""
    case_ids = sorted({s.case_id for s in judging.slots_of_stage(comp.id, coaching.id, comp.category_ids)
                       if s.feedback})
    if not case_ids:
        return 0
    emails = {a.id: a for a in ports.accounts.list_units()}
    sent = 0
    for case_id in case_ids:
        case = cases.get(case_id)
        account = emails.get(case.owner_id) if case else None
        if case is None or account is None:
            continue
        object_key = case.id if coaching.id == StageId.COACHING else f"{case.id}#{coaching.id}"   # once per round
        sent += _send(ports, comp, "feedback_available", object_key, account.email, {
            "unit": account.unit_name or "", "title": case.body.get("title", ""), "case_id": case.id,
            "closes_at": _when(coaching.closes_at), "round_name": comp.round_name(coaching.id)}, now, mail)
    return sent


# -- the mail log and bounces -------------------------------------------------------------------
def mail_log(comp: Competition, mail: MailRepository, limit: int = 200, kind: str | None = None) -> dict[str, Any]:
    records = mail.recent(comp.id, max(1, min(limit, 1000)))
    if kind:
        records = [r for r in records if r.kind == kind]
    return {"mail": [{
        "kind": r.kind, "recipient": r.recipient, "subject": r.subject, "status": r.status,
        "created_at": _iso(r.created_at), "sent_at": _iso(r.sent_at), "error": r.error,
        "message_id": r.message_id} for r in records]}


def _iso(epoch: Any) -> str | None:
    if not epoch:
        return None
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc).astimezone(CHINA).isoformat(timespec="seconds")


def record_bounces(notifications: Iterable[dict[str, Any]], now: datetime, mail: MailRepository) -> int:
    """Mark the mail-log rows that SES reports as bounced (SES -> SNS -> the bounce handler).

    Each notification is SES's JSON, in either of SES's two shapes: the configuration set's event publishing
    (what the stack sets up: {"eventType": "Bounce", ...}, the original headers always in `mail.headers`) or an
    identity's feedback notification ({"notificationType": "Bounce", ...}). Both carry {"bounce": {"bounceType",
    "bounceSubType", "bouncedRecipients": [{"emailAddress", "diagnosticCode"?}]}, "mail": {"messageId",
    "headers"?}}. The row is found by our X-Saiping-Mail header, else by SES's message id (index by_message).
    Complaints are logged (SES's suppression list already stops further mail to the address); other types
    are ignored.
    """
    marked = 0
    for note in notifications:
        if not isinstance(note, dict):
            continue
        kind = note.get("eventType") or note.get("notificationType")
        if kind == "Complaint":
            complaint = note.get("complaint") or {}
            log.warning("SES complaint (%s) about message %s", complaint.get("complaintFeedbackType", "no type"),
                        (note.get("mail") or {}).get("messageId"))
            continue
        if kind != "Bounce":
            continue
        bounce = note.get("bounce") or {}
        recipients = {str(r.get("emailAddress", "")).lower(): r for r in bounce.get("bouncedRecipients") or []}
        if not recipients:
            continue
        for record in _bounced_rows(note.get("mail") or {}, mail):
            hit = recipients.get(record.recipient.lower())
            if hit is None:
                continue
            reason = f"{bounce.get('bounceType', '')}/{bounce.get('bounceSubType', '')}"
            if hit.get("diagnosticCode"):
                reason += f": {hit['diagnosticCode']}"
            mail.mark_bounced(record.mail_key, reason[:500], epoch(now))
            marked += 1
    return marked


def _bounced_rows(mail: dict[str, Any], log: MailRepository) -> list[MailRecord]:
    """The mail-log rows a notification's `mail` object names: by our X-Saiping-Mail header (always there in
    event publishing; in identity notifications when headers are included), else by SES's message id or the
    Message-ID header."""
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == outbox.MAIL_KEY_HEADER.lower():
            found = log.get(" ".join(str(header.get("value", "")).split()))
            if found is not None:
                return [found]
    rows: dict[str, MailRecord] = {}
    for message_id in (mail.get("messageId"), (mail.get("commonHeaders") or {}).get("messageId")):
        if message_id:
            rows.update({r.mail_key: r for r in log.by_message(str(message_id))})
    return list(rows.values())


def sns_messages(event: Any) -> list[dict[str, Any]]:
    """SES notifications out of an SNS event (the raw Lambda event, or Chalice's SNSEvent)."""
    texts: list[str] = []
    if hasattr(event, "message"):
        texts.append(event.message)
    elif isinstance(event, dict):
        texts += [r.get("Sns", {}).get("Message", "") for r in event.get("Records", []) if isinstance(r, dict)]
    found = []
    for text in texts:
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict):
            found.append(value)
    return found

