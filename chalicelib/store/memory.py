"""In-memory twins of the store's repositories, for service tests without DynamoDB (or moto).

Each twin keeps what its repository's transactions check: the stage windows (rows a test sets with
`set_stage`), the case as read (version, status, previous 审核), a returned case's own window and the
provincial recommendation, and refuses a write with the same domain errors. It records what the real one
writes beside the case: earlier versions, audit rows (`audit`) and the records written with a status change
(`also`). tests/integration/test_case_repository_contract.py runs the same tests against both.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Iterator, Mapping, Sequence

from ..domain import case_record
from ..domain.case_record import (
    ALREADY_RECEIVED, NO_LONGER_RECOMMENDED, TARGET_CLOSED, Case, EarlierVersion, category_key, frozen_map,
)
from ..domain.competition import StageId
from ..domain.errors import Conflict, Duplicate, StageClosed, VersionConflict
from ..domain.mail_record import MailRecord
from ..domain.stage_record import StageRow




class MemoryTables:
    """What the twins share, as the repositories share the tables: the stage rows whose windows the writes
    check, and the audit rows every write adds. Give one to each twin of a test to let them see each other."""

    def __init__(self) -> None:
        self.stages: dict[tuple[str, str], StageRow] = {}
        self.audit: list[tuple[str, str, str]] = []     # (entity, actor, action)
        self.mail: dict[str, MailRecord] = {}           # the mail log: rows written in another table's write too


class InMemoryCaseRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.cases: dict[str, Case] = {}
        self.versions: dict[tuple[str, int], EarlierVersion] = {}
        self.stages = self.tables.stages
        self.audit = self.tables.audit
        self.also: list[MailRecord] = []

    # -- what a test sets up -----------------------------------------------------------------------
    def set_stage(self, competition_id: str, stage_id: str, opens_at: float, closes_at: float,
                  closed: bool = False) -> None:
        self.stages[(competition_id, stage_id)] = StageRow(competition_id, stage_id, opens_at, closes_at, closed)

    def put(self, case: Case) -> None:
        """Store a case as it is (what a test seeds; no conditions, no audit)."""
        self.cases[case.id] = case

    # -- reads -------------------------------------------------------------------------------------
    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def get_with_stages(self, case_id: str, competition_id: str,
                        stage_ids: Sequence[str]) -> tuple[Case | None, list[StageRow | None]]:
        return self.get(case_id), [self.stages.get((competition_id, s)) for s in stage_ids]

    def list_for_owner(self, owner_id: str) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.owner_id == owner_id), key=lambda c: c.created_at)

    def list_for_competition(self, competition_id: str, category: str | None = None) -> list[Case]:
        found = (c for c in self.cases.values() if c.competition_id == competition_id
                 and (category is None or c.category_key.startswith(f"{category}#")))
        return sorted(found, key=lambda c: c.category_key)

    def iter_for_competition(self, competition_id: str) -> Iterator[Case]:
        return iter(self.list_for_competition(competition_id))

    def summaries(self, competition_id: str) -> list[case_record.CaseSummary]:
        return [case_record.CaseSummary(c.id, c.category_key, c.status, c.owner_id, c.submitted_at,
                                        c.review_decision, bool(c.provincial))
                for c in self.list_for_competition(competition_id)]

    def history(self, case_id: str) -> list[case_record.AuditRow]:
        """The audit rows the twin wrote for the case, in order (their keys are their positions)."""
        return [case_record.AuditRow(f"{i:015d}", actor, action, 0.0)
                for i, (entity, actor, action) in enumerate(self.audit) if entity == f"case#{case_id}"]

    def get_version(self, case_id: str, version: int) -> EarlierVersion | None:
        return self.versions.get((case_id, version))

    # -- the conditions of the transactions ----------------------------------------------------------
    def _check_stage(self, stage_key: tuple[str, ...] | None, now: float) -> None:
        if stage_key is None:
            return
        row = self.stages.get((stage_key[0], stage_key[1]))
        if stage_key[2:] == ("before",):
            ok = row is not None and row.opens_at > now and not row.closed
        else:
            ok = row is not None and row.opens_at <= now < row.closes_at and not row.closed
        if not ok:
            raise StageClosed("该阶段已截止，不能再修改")

    def _current(self, case: Case, now: float, *, version: bool = True, provincial: bool = False) -> Case:
        """The stored case if it is still as read (its status, and version), in its own window when returned."""
        stored = self.cases.get(case.id)
        refused = (stored is None or stored.status != case.status or (version and stored.version != case.version)
                   or (provincial and not stored.provincial) or not self._own_window_open(case, now))
        if refused or stored is None:
            raise VersionConflict("案例已在别处被修改（版本已变化），请刷新后再保存；您填写的内容已保留")
        return stored

    def _own_window_open(self, case: Case, now: float) -> bool:
        stored = self.cases.get(case.id)
        if case.status != "returned":
            return True
        return stored is not None and stored.resubmit_by is not None and stored.resubmit_by > now

    # -- writes --------------------------------------------------------------------------------------
    def create(self, case: Case, stage_key: tuple[str, ...], actor: str, now: float) -> None:
        self._check_stage(stage_key, now)
        if case.id in self.cases:
            raise VersionConflict("案例已在别处被修改（版本已变化），请刷新后再保存；您填写的内容已保留")
        self.cases[case.id] = case
        self.audit.append((f"case#{case.id}", actor, "case.create"))

    def receive(self, case: Case, source: Case, stage_key: tuple[str, ...], actor: str, now: float,
                received: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
        if case.id in self.cases:
            raise Duplicate(ALREADY_RECEIVED)
        try:
            self._check_stage(stage_key, now)
        except StageClosed:
            raise StageClosed(TARGET_CLOSED) from None
        stored = self.cases.get(source.id)
        if stored is None or stored.status != "awarded" or not stored.provincial:
            raise Conflict(NO_LONGER_RECOMMENDED)
        self.cases[case.id] = case
        self.audit.append((f"case#{case.id}", actor, "case.received"))
        self.audit.append((f"case#{source.id}", actor, "case.sent"))

    def save_text(self, case: Case, body: dict[str, Any], char_count: int, stage_key: tuple[str, ...] | None,
                  actor: str, now: float, recommended: bool = False) -> Case:
        self._check_stage(stage_key, now)
        stored = self._current(case, now, provincial=recommended)
        text = case_record.body_json(body)
        self.versions[(case.id, stored.version)] = EarlierVersion(case.id, stored.version, stored.body,
                                                                  stored.status, now)
        saved = replace(stored, body=frozen_map(json.loads(text)), stored_body=text, char_count=char_count,
                        category_key=category_key(str(body.get("category", "")), case.id),
                        version=stored.version + 1, history=(*stored.history, stored.version), updated_at=now,
                        showcase_choice=None,
                        awarded_body=(stored.awarded_body or stored.body) if recommended else stored.awarded_body)
        self.cases[case.id] = saved
        self.audit.append((f"case#{case.id}", actor, "case.edit"))
        return saved

    def set_status(self, case: Case, status: str, stage_key: tuple[str, ...] | None, actor: str, now: float,
                   submitted_at: float | None = None, also: Sequence[MailRecord] = ()) -> Case:
        self._check_stage(stage_key, now)
        stored = self._current(case, now)
        saved = replace(stored, status=status, updated_at=now,
                        submitted_at=submitted_at if submitted_at is not None else stored.submitted_at)
        self.cases[case.id] = saved
        self.audit.append((f"case#{case.id}", actor, f"case.{status}"))
        self.also.extend(also)
        self.tables.mail.update((m.mail_key, m) for m in also)
        return saved

    def put_attachment(self, case: Case, record: dict[str, Any], stage_key: tuple[str, ...] | None, actor: str,
                       now: float, action: str, pending_only: bool = False) -> Case:
        self._check_stage(stage_key, now)
        stored = self._current(case, now, version=False)
        if pending_only:
            self._still_pending(stored, record["attachment_id"])
        saved = replace(stored, attachments=frozen_map({**stored.attachments, record["attachment_id"]: dict(record)}))
        self.cases[case.id] = saved
        self.audit.append((f"case#{case.id}", actor, action))
        return saved

    def remove_attachment(self, case: Case, attachment_id: str, stage_key: tuple[str, ...] | None, actor: str,
                          now: float, action: str, pending_only: bool = False) -> Case:
        self._check_stage(stage_key, now)
        stored = self.cases.get(case.id)
        if stored is None or not self._own_window_open(stored, now):
            raise VersionConflict("案例已在别处被修改（版本已变化），请刷新后再保存；您填写的内容已保留")
        if pending_only:
            self._still_pending(stored, attachment_id)
        saved = replace(stored, attachments=frozen_map({k: v for k, v in stored.attachments.items()
                                                         if k != attachment_id}))
        self.cases[case.id] = saved
        self.audit.append((f"case#{case.id}", actor, action))
        return saved

    @staticmethod
    def _still_pending(stored: Case, attachment_id: str) -> None:
        if (stored.attachments.get(attachment_id) or {}).get("status") != "pending":
            raise VersionConflict("案例已在别处被修改（版本已变化），请刷新后再保存；您填写的内容已保留")

    def review(self, case: Case, status: str, decision: str, reason: str | None, resubmit_by: float | None,
               competition_id: str, actor: str, now: float) -> Case:
        submission = self.stages.get((competition_id, StageId.SUBMISSION))
        if submission is None or not (submission.closes_at <= now or submission.closed):
            raise StageClosed("文本申报截止后才能审核（截止前单位仍可修改或撤回已提交的案例）")
        text_review = self.stages.get((competition_id, StageId.TEXT_REVIEW))
        if text_review is None or not (text_review.closes_at > now and not text_review.closed):
            raise StageClosed("文本评审已截止，不能再审核")
        stored = self.cases.get(case.id)
        if (stored is None or stored.version != case.version or stored.status != "submitted"
                or stored.reviewed_at != case.reviewed_at):
            raise VersionConflict("案例已在别处被审核或修改，请刷新页面后重新审核")
        saved = replace(stored, status=status, review_decision=decision, review_reason=reason,
                        resubmit_by=resubmit_by, reviewed_at=now, reviewed_by=actor, updated_at=now)
        self.cases[case.id] = saved
        self.audit.append((f"case#{case.id}", actor, "case.review"))
        return saved
