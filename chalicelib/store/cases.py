"""Cases, their earlier versions and their attachments' records.

Every write a stage window governs carries the window in the same transaction (a ConditionCheck on
the stage row), next to the case's own condition (its version or status) and the audit row.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..domain.competition import StageId
from ..domain.errors import StageClosed, VersionConflict, Conflict
from . import audit, db, stages
from .models import Case, CaseVersion, Stage


def category_key(category: str, case_id: str) -> str:
    return f"{category or '~'}#{case_id}"


def attachments_of(case: Case) -> dict[str, dict[str, Any]]:
    raw = case.attachments
    if raw is None:
        return {}
    return dict(raw.as_dict()) if hasattr(raw, "as_dict") else dict(raw)


def get(case_id: str) -> Case | None:
    try:
        return Case.get(case_id)
    except Case.DoesNotExist:
        return None


def get_with_stages(case_id: str, competition_id: str, stage_ids: tuple[str, ...]) -> tuple[Case | None, list]:
    """The case and the stage rows that govern its edits, in one call."""
    with db.read_together() as r:
        case = r.get(Case, case_id)
        rows = [r.get(Stage, competition_id, s) for s in stage_ids]
    return db.future_or_none(case), [db.future_or_none(f) for f in rows]


def list_for_owner(owner_id: str) -> list[Case]:
    return list(Case.by_owner.query(owner_id))


def list_for_competition(competition_id: str, category: str | None = None,
                         attributes: Sequence[str] | None = None) -> list[Case]:
    """The competition's cases (of one category); `attributes`: only those (a summary to read, never to save)."""
    condition = Case.category_key.startswith(f"{category}#") if category else None
    return list(Case.by_competition.query(competition_id, condition,
                                          attributes_to_get=list(attributes) if attributes else None))


def get_version(case_id: str, version: int) -> CaseVersion | None:
    try:
        return CaseVersion.get(case_id, version)
    except CaseVersion.DoesNotExist:
        return None


def _own_window(case: Case, now: float, condition):
    """`condition`, and for a returned case its own window: its unit writes it only before `resubmit_by`."""
    return condition & (Case.resubmit_by > now) if case.status == "returned" else condition


def _write(stage_key: tuple[str, ...] | None, now: float, build) -> None:
    """Run a transaction whose first item (when a stage governs it) is the stage's open window; a key
    (competition, stage, "before") asks instead that the stage has not opened yet."""
    try:
        with db.transaction() as t:
            if stage_key is not None:
                condition = (stages.before_condition(now) if stage_key[2:] == ("before",)
                             else stages.open_condition(now))
                t.condition_check(Stage, stage_key[0], stage_key[1], condition=condition, label="stage")
            build(t)
    except db.Refused as exc:
        if "stage" in exc.labels:
            raise StageClosed("该阶段已截止，不能再修改") from exc
        if "case" in exc.labels:
            raise VersionConflict("案例已在别处被修改（版本已变化），请刷新后再保存；您填写的内容已保留") from exc
        raise Conflict("操作冲突，请刷新后重试") from exc


def create(case: Case, stage_key: tuple[str, str], actor: str, now: float) -> None:
    def build(t):
        t.save(case, condition=Case.id.does_not_exist(), label="case")
        t.save(audit.entry(f"case#{case.id}", actor, "case.create", now, after=case.body))
    _write(stage_key, now, build)


def save_text(case: Case, body_json: str, char_count: int, category: str, stage_key: tuple[str, str],
              actor: str, now: float, recommended: bool = False) -> int:
    """A new version of the text; the old one stays readable. Returns the new version. `recommended`: the
    case must still be recommended to the provincial competition (the 赛前辅导 revision)."""
    old_version = int(case.version)
    snapshot = CaseVersion(case.id, old_version, body=case.body, status=case.status, saved_at=now)
    condition = (Case.version == old_version) & (Case.status == case.status)
    kept: list = []
    if recommended:
        condition = condition & (Case.provincial == True)  # noqa: E712 (a condition, not a comparison)
        kept = [Case.awarded_body.set(Case.awarded_body | case.body)]   # the first revision keeps the awarded text

    def build(t):
        t.update(case, actions=[
            *kept, Case.body.set(body_json), Case.char_count.set(char_count),
            Case.category_key.set(category_key(category, case.id)), Case.version.set(old_version + 1),
            Case.history.set(Case.history.append([old_version])), Case.updated_at.set(now),
            Case.showcase_choice.remove(),   # the body's showcase_consent is the unit's latest word now
        ], condition=_own_window(case, now, condition), label="case")
        t.save(snapshot)
        t.save(audit.entry(f"case#{case.id}", actor, "case.edit", now, before=case.body, after=body_json,
                           detail={"version": old_version + 1}))
    _write(stage_key, now, build)
    return old_version + 1


def set_status(case: Case, status: str, stage_key: tuple[str, str] | None, actor: str, now: float,
               extra: list | None = None, also: list | None = None) -> None:
    """`also`: more items to put in the same transaction (the mail-log row of a submission receipt)."""
    def build(t):
        t.update(case, actions=[Case.status.set(status), Case.updated_at.set(now), *(extra or [])],
                 condition=_own_window(case, now, (Case.version == int(case.version)) & (Case.status == case.status)),
                 label="case")
        t.save(audit.entry(f"case#{case.id}", actor, f"case.{status}", now, before=case.status, after=status))
        for item in also or []:
            t.save(item)
    _write(stage_key, now, build)


def _still_pending(attachment_id: str):
    """The record is still the declared, unchecked one (no other confirm of it has finished)."""
    return Case.attachments[attachment_id]["status"] == "pending"


def put_attachment(case: Case, record: dict[str, Any], stage_key: tuple[str, ...], actor: str, now: float,
                   action: str, pending_only: bool = False) -> None:
    """Declare or verify an attachment; `pending_only`: only while its record is still pending (a confirm),
    else VersionConflict."""
    condition = Case.status == case.status
    if pending_only:
        condition = condition & _still_pending(record["attachment_id"])

    def build(t):
        t.update(case, actions=[Case.attachments[record["attachment_id"]].set(record)],
                 condition=_own_window(case, now, condition), label="case")
        t.save(audit.entry(f"case#{case.id}", actor, action, now, after=record))
    _write(stage_key, now, build)


def remove_attachment(case: Case, attachment_id: str, stage_key: tuple[str, ...] | None, actor: str,
                      now: float, action: str, pending_only: bool = False) -> None:
    """`pending_only`: only while its record is still pending (a refused confirm), else VersionConflict."""
    condition = (Case.resubmit_by > now) if case.status == "returned" else None
    if pending_only:
        condition = _still_pending(attachment_id) if condition is None else condition & _still_pending(attachment_id)

    def build(t):
        t.update(case, actions=[Case.attachments[attachment_id].remove()], label="case", condition=condition)
        t.save(audit.entry(f"case#{case.id}", actor, action, now, before=attachment_id))
    _write(stage_key, now, build)


def review_view(case: Case) -> dict[str, Any]:
    """The review fields of a case (the audit's before and after)."""
    return {"status": case.status, "decision": case.review_decision, "reason": case.review_reason,
            "resubmit_by": float(case.resubmit_by) if case.resubmit_by is not None else None}


def review(case: Case, status: str, decision: str, reason: str | None, resubmit_by: float | None,
           competition_id: str, actor: str, now: float) -> None:
    """An organiser's 审核 decision, with its audit row, in one transaction: only after `submission` has closed
    and before `text_review` closes (both stage rows checked), only on the submitted case as it was read (its
    version, status and previous decision)."""
    before = review_view(case)
    after = {"status": status, "decision": decision, "reason": reason, "resubmit_by": resubmit_by}
    reviewed = (Case.reviewed_at.does_not_exist() if case.reviewed_at is None
                else Case.reviewed_at == float(case.reviewed_at))
    actions = [Case.status.set(status), Case.review_decision.set(decision), Case.reviewed_at.set(now),
               Case.reviewed_by.set(actor), Case.updated_at.set(now),
               Case.review_reason.set(reason) if reason else Case.review_reason.remove(),
               Case.resubmit_by.set(resubmit_by) if resubmit_by is not None else Case.resubmit_by.remove()]
    try:
        with db.transaction() as t:
            t.condition_check(Stage, competition_id, StageId.SUBMISSION, label=StageId.SUBMISSION,
                              condition=(Stage.closes_at <= now) | (Stage.closed == True))  # noqa: E712
            t.condition_check(Stage, competition_id, StageId.TEXT_REVIEW, label=StageId.TEXT_REVIEW,
                              condition=(Stage.closes_at > now) & (Stage.closed == False))  # noqa: E712
            t.update(case, actions=actions, label="case", condition=(
                (Case.version == int(case.version)) & (Case.status == "submitted") & reviewed))
            t.save(audit.entry(f"case#{case.id}", actor, "case.review", now, before=before, after=after,
                               detail=after))
    except db.Refused as exc:
        if StageId.SUBMISSION in exc.labels:
            raise StageClosed("文本申报截止后才能审核（截止前单位仍可修改或撤回已提交的案例）") from exc
        if StageId.TEXT_REVIEW in exc.labels:
            raise StageClosed("文本评审已截止，不能再审核") from exc
        raise VersionConflict("案例已在别处被审核或修改，请刷新页面后重新审核") from exc
    case.status, case.review_decision, case.review_reason = status, decision, reason
    case.resubmit_by, case.reviewed_at, case.reviewed_by, case.updated_at = resubmit_by, now, actor, now
