"""Cases, their earlier versions and their attachments' records.

`CaseRepository` is the services' way in (services/repositories.CaseRepository): it reads and writes the domain
`Case` (domain/case_record.py, the body parsed once). The functions before it return the PynamoDB rows, for the
services not yet on the repository.

Every write a stage window governs carries the window in the same transaction (a ConditionCheck on
the stage row), next to the case's own condition (its version or status) and the audit row.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Iterator, Mapping, Sequence

from ..domain import case_record
from ..domain.case_record import ALREADY_RECEIVED, NO_LONGER_RECOMMENDED, TARGET_CLOSED, category_key, frozen_map
from ..domain.mail_record import MailRecord
from ..domain.competition import StageId
from ..domain.errors import Duplicate, StageClosed, VersionConflict, Conflict
from . import audit, db, stages
from .mail import save_in as save_mail
from .models import Case, CaseVersion, Stage

__all__ = ["CaseRepository", "attachments_of", "category_key", "get", "get_version", "get_with_stages",
           "list_for_competition", "list_for_owner"]


def attachments_of(case: Any) -> dict[str, dict[str, Any]]:
    """A case's attachment records by id (of a stored row or a domain case)."""
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



def _domain(row: Case) -> case_record.Case:
    text = row.body or "{}"
    history: list[Any] = list(row.history or [])   # numbers (PynamoDB's stub types them as attributes)
    return case_record.Case(
        id=row.id, competition_id=row.competition_id, owner_id=row.owner_id, owner_username=row.owner_username,
        status=row.status, version=int(row.version), body=frozen_map(json.loads(text)), stored_body=text,
        char_count=int(row.char_count or 0), category_key=row.category_key,
        history=tuple(int(v) for v in history), attachments=frozen_map(attachments_of(row)),
        created_at=float(row.created_at or 0), updated_at=float(row.updated_at or 0),
        submitted_at=_number(row.submitted_at), prize=row.prize, provincial=bool(row.provincial),
        provincial_reason=row.provincial_reason, feedback_replies=row.feedback_replies,
        review_decision=row.review_decision, review_reason=row.review_reason, resubmit_by=_number(row.resubmit_by),
        reviewed_at=_number(row.reviewed_at), reviewed_by=row.reviewed_by, showcase_choice=row.showcase_choice,
        showcase_hidden=row.showcase_hidden, showcase_hidden_reason=row.showcase_hidden_reason,
        awarded_body=frozen_map(json.loads(row.awarded_body)) if row.awarded_body else None,
        source=frozen_map(json.loads(row.source)) if row.source else None)


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


def _row(case: case_record.Case) -> Case:
    """The item of a new case."""
    return Case(case.id, competition_id=case.competition_id, category_key=case.category_key,
                owner_id=case.owner_id, owner_username=case.owner_username, status=case.status,
                version=case.version, history=list(case.history), body=case.stored_body, char_count=case.char_count,
                attachments={k: dict(v) for k, v in case.attachments.items()}, created_at=case.created_at,
                updated_at=case.updated_at, submitted_at=case.submitted_at,
                source=json.dumps(dict(case.source), ensure_ascii=False, sort_keys=True) if case.source else None)


def _own_window(case: case_record.Case, now: float, condition):
    """`condition`, and for a returned case its own window: its unit writes it only before `resubmit_by`."""
    return condition & (Case.resubmit_by > now) if case.status == "returned" else condition


def _still_pending(attachment_id: str):
    """The attachment's record is still the declared, unchecked one (no other confirm of it has finished)."""
    return Case.attachments[attachment_id]["status"] == "pending"


def _as_read(case: case_record.Case):
    """The case's version and status as it was read."""
    return (Case.version == case.version) & (Case.status == case.status)


def _write(stage_key: tuple[str, ...] | None, now: float, build) -> None:
    """Run a transaction whose first item (when a stage governs it) is the stage's open window; a key
    (competition, stage, "before") asks instead that the stage has not opened yet."""
    with db.refused_as(Conflict("操作冲突，请刷新后重试"), {
            "stage": StageClosed("该阶段已截止，不能再修改"),
            "case": VersionConflict("案例已在别处被修改（版本已变化），请刷新后再保存；您填写的内容已保留")}):
        with db.transaction() as t:
            if stage_key is not None:
                condition = (stages.before_condition(now) if stage_key[2:] == ("before",)
                             else stages.open_condition(now))
                t.condition_check(Stage, stage_key[0], stage_key[1], condition=condition, label="stage")
            build(t)




def review_view(case: case_record.Case) -> dict[str, Any]:
    """The review fields of a case (the audit's before and after)."""
    return {"status": case.status, "decision": case.review_decision, "reason": case.review_reason,
            "resubmit_by": case.resubmit_by}


class CaseRepository:
    """Cases in DynamoDB, as domain cases; each write in one transaction with its conditions and audit row."""

    def get(self, case_id: str) -> case_record.Case | None:
        row = get(case_id)
        return _domain(row) if row is not None else None

    def get_with_stages(self, case_id: str, competition_id: str,
                        stage_ids: Sequence[str]) -> tuple[case_record.Case | None, list]:
        row, rows = get_with_stages(case_id, competition_id, tuple(stage_ids))
        return (_domain(row) if row is not None else None), rows

    def list_for_owner(self, owner_id: str) -> list[case_record.Case]:
        return [_domain(r) for r in list_for_owner(owner_id)]

    def list_for_competition(self, competition_id: str, category: str | None = None) -> list[case_record.Case]:
        return [_domain(r) for r in list_for_competition(competition_id, category)]

    def iter_for_competition(self, competition_id: str) -> Iterator[case_record.Case]:
        return (_domain(r) for r in Case.by_competition.query(competition_id))

    def summaries(self, competition_id: str) -> list[case_record.CaseSummary]:
        return [case_record.CaseSummary(
            id=r.id, category_key=r.category_key, status=r.status, owner_id=r.owner_id,
            submitted_at=_number(r.submitted_at), review_decision=r.review_decision, provincial=bool(r.provincial))
            for r in list_for_competition(competition_id, attributes=case_record.SUMMARY_FIELDS)]

    def history(self, case_id: str) -> list[case_record.AuditRow]:
        return [case_record.AuditRow(e.entry_key, e.actor, e.action, float(e.at), e.detail)
                for e in audit.history(f"case#{case_id}")]

    def get_version(self, case_id: str, version: int) -> case_record.EarlierVersion | None:
        row = get_version(case_id, version)
        if row is None:
            return None
        return case_record.EarlierVersion(row.case_id, int(row.version), frozen_map(json.loads(row.body)),
                                          row.status, float(row.saved_at))

    def create(self, case: case_record.Case, stage_key: tuple[str, ...], actor: str, now: float) -> None:
        def build(t):
            t.save(_row(case), condition=Case.id.does_not_exist(), label="case")
            t.save(audit.entry(f"case#{case.id}", actor, "case.create", now, after=case.stored_body))
        _write(stage_key, now, build)

    def receive(self, case: case_record.Case, source: case_record.Case, stage_key: tuple[str, ...], actor: str,
                now: float, received: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
        window = stages.before_condition(now) if stage_key[2:] == ("before",) else stages.open_condition(now)
        with db.refused_as(Conflict("操作冲突，请刷新后重试"), {
                "case": Duplicate(ALREADY_RECEIVED), "stage": StageClosed(TARGET_CLOSED),
                "source": Conflict(NO_LONGER_RECOMMENDED)}):
            with db.transaction() as t:
                t.condition_check(Stage, stage_key[0], stage_key[1], condition=window, label="stage")
                t.condition_check(Case, source.id, label="source", condition=(
                    (Case.status == "awarded") & (Case.provincial == True)))  # noqa: E712 (a condition)
                t.save(_row(case), condition=Case.id.does_not_exist(), label="case")
                t.save(audit.entry(f"case#{case.id}", actor, "case.received", now, after=case.stored_body,
                                   detail=dict(received)))
                t.save(audit.entry(f"case#{source.id}", actor, "case.sent", now, detail=dict(sent)))

    def save_text(self, case: case_record.Case, body: dict[str, Any], char_count: int,
                  stage_key: tuple[str, ...] | None, actor: str, now: float,
                  recommended: bool = False) -> case_record.Case:
        text = case_record.body_json(body)
        key = category_key(str(body.get("category", "")), case.id)
        snapshot = CaseVersion(case.id, case.version, body=case.stored_body, status=case.status, saved_at=now)
        condition = _as_read(case)
        kept: list = []
        if recommended:
            condition = condition & (Case.provincial == True)  # noqa: E712 (a condition, not a comparison)
            # the first revision after the award keeps the text as awarded (certificates, award mail)
            kept = [Case.awarded_body.set(Case.awarded_body | case.stored_body)]

        def build(t):
            t.update(Case(case.id), actions=[
                *kept, Case.body.set(text), Case.char_count.set(char_count), Case.category_key.set(key),
                Case.version.set(case.version + 1), Case.history.set(Case.history.append([case.version])),
                Case.updated_at.set(now),
                Case.showcase_choice.remove(),   # the body's showcase_consent is the unit's latest word now
            ], condition=_own_window(case, now, condition), label="case")
            t.save(snapshot)
            t.save(audit.entry(f"case#{case.id}", actor, "case.edit", now, before=case.stored_body, after=text,
                               detail={"version": case.version + 1}))
        _write(stage_key, now, build)
        return replace(case, body=frozen_map(json.loads(text)), stored_body=text, char_count=char_count,
                       category_key=key, version=case.version + 1, history=(*case.history, case.version),
                       updated_at=now, showcase_choice=None,
                       awarded_body=(case.awarded_body or case.body) if recommended else case.awarded_body)

    def set_status(self, case: case_record.Case, status: str, stage_key: tuple[str, ...] | None, actor: str,
                   now: float, submitted_at: float | None = None,
                   also: Sequence[MailRecord] = ()) -> case_record.Case:
        actions = [Case.status.set(status), Case.updated_at.set(now)]
        if submitted_at is not None:
            actions.append(Case.submitted_at.set(submitted_at))

        def build(t):
            t.update(Case(case.id), actions=actions, condition=_own_window(case, now, _as_read(case)), label="case")
            t.save(audit.entry(f"case#{case.id}", actor, f"case.{status}", now, before=case.status, after=status))
            for mail in also:
                save_mail(t, mail)
        _write(stage_key, now, build)
        return replace(case, status=status, updated_at=now,
                       submitted_at=submitted_at if submitted_at is not None else case.submitted_at)

    def put_attachment(self, case: case_record.Case, record: dict[str, Any], stage_key: tuple[str, ...] | None,
                       actor: str, now: float, action: str, pending_only: bool = False) -> case_record.Case:
        condition = Case.status == case.status
        if pending_only:
            condition = condition & _still_pending(record["attachment_id"])

        def build(t):
            t.update(Case(case.id), actions=[Case.attachments[record["attachment_id"]].set(record)],
                     condition=_own_window(case, now, condition), label="case")
            t.save(audit.entry(f"case#{case.id}", actor, action, now, after=record))
        _write(stage_key, now, build)
        return replace(case, attachments=frozen_map({**case.attachments, record["attachment_id"]: dict(record)}))

    def remove_attachment(self, case: case_record.Case, attachment_id: str, stage_key: tuple[str, ...] | None,
                          actor: str, now: float, action: str, pending_only: bool = False) -> case_record.Case:
        condition = (Case.resubmit_by > now) if case.status == "returned" else None
        if pending_only:
            condition = (_still_pending(attachment_id) if condition is None
                         else condition & _still_pending(attachment_id))

        def build(t):
            t.update(Case(case.id), actions=[Case.attachments[attachment_id].remove()], label="case",
                     condition=condition)
            t.save(audit.entry(f"case#{case.id}", actor, action, now, before=attachment_id))
        _write(stage_key, now, build)
        return replace(case, attachments=frozen_map({k: v for k, v in case.attachments.items() if k != attachment_id}))

    def review(self, case: case_record.Case, status: str, decision: str, reason: str | None,
               resubmit_by: float | None, competition_id: str, actor: str, now: float) -> case_record.Case:
        before = review_view(case)
        after = {"status": status, "decision": decision, "reason": reason, "resubmit_by": resubmit_by}
        reviewed = (Case.reviewed_at.does_not_exist() if case.reviewed_at is None
                    else Case.reviewed_at == case.reviewed_at)
        actions = [Case.status.set(status), Case.review_decision.set(decision), Case.reviewed_at.set(now),
                   Case.reviewed_by.set(actor), Case.updated_at.set(now),
                   Case.review_reason.set(reason) if reason else Case.review_reason.remove(),
                   Case.resubmit_by.set(resubmit_by) if resubmit_by is not None else Case.resubmit_by.remove()]
        with db.refused_as(VersionConflict("案例已在别处被审核或修改，请刷新页面后重新审核"), {
                StageId.SUBMISSION: StageClosed("文本申报截止后才能审核（截止前单位仍可修改或撤回已提交的案例）"),
                StageId.TEXT_REVIEW: StageClosed("文本评审已截止，不能再审核")}):
            with db.transaction() as t:
                t.condition_check(Stage, competition_id, StageId.SUBMISSION, label=StageId.SUBMISSION,
                                  condition=(Stage.closes_at <= now) | (Stage.closed == True))  # noqa: E712
                t.condition_check(Stage, competition_id, StageId.TEXT_REVIEW, label=StageId.TEXT_REVIEW,
                                  condition=(Stage.closes_at > now) & (Stage.closed == False))  # noqa: E712
                t.update(Case(case.id), actions=actions, label="case", condition=(
                    (Case.version == case.version) & (Case.status == "submitted") & reviewed))
                t.save(audit.entry(f"case#{case.id}", actor, "case.review", now, before=before, after=after,
                                   detail=after))
        return replace(case, status=status, review_decision=decision, review_reason=reason, resubmit_by=resubmit_by,
                       reviewed_at=now, reviewed_by=actor, updated_at=now)
