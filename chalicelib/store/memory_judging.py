"""The in-memory twin of store/judging.JudgingRepository, for service tests without DynamoDB (or moto).

It keeps what the repository's transactions check: the stage window of a slot's write and of extra judges'
slots (the shared `MemoryTables` stage rows), a slot still there and not recused, a new slot never over an
existing one, a link still the one in force when a session opens from it; a refused write raises the same
domain error (or answers False) and changes nothing. Audit rows go to the shared `MemoryTables.audit`; the
invitation mails written with the links to `mails`. Slots and links are kept by competition, as the table's keys
(store/keys.py) keep them, and the audit rows name the same objects.
tests/integration/test_judging_repository_contract.py runs the same tests against both.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping, Sequence

from ..domain import judging_record as record
from ..domain.errors import Conflict, Invalid, NotFound, StageClosed
from ..domain.judging_record import Assignment, Judge, JudgeSession, Link
from ..domain.mail_record import MailRecord
from ..domain.stage_record import StageRow
from . import keys
from .memory import MemoryTables


class InMemoryJudgingRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.judges: dict[tuple[str, str], Judge] = {}
        self.slots: dict[tuple[str, str, str, str], Assignment] = {}  # (competition, stage, judge id, case id)
        self.links: dict[tuple[str, str, str], Link] = {}             # (competition, judge id, stage)
        self.sessions: dict[str, JudgeSession] = {}
        self.mails: list[MailRecord] = []

    @property
    def audit(self) -> list[tuple[str, str, str]]:
        return self.tables.audit

    # -- what a test sets up -----------------------------------------------------------------------
    def set_stage(self, competition_id: str, stage_id: str, opens_at: float, closes_at: float,
                  closed: bool = False) -> None:
        self.tables.stages[(competition_id, stage_id)] = StageRow(competition_id, stage_id, opens_at, closes_at,
                                                                  closed)

    def put_slot(self, competition_id: str, slot: Assignment) -> None:
        """Store a slot as it is (what a test seeds; no conditions, no audit)."""
        self.slots[(competition_id, slot.stage, slot.judge_id, slot.case_id)] = slot

    def _open(self, competition_id: str, stage: str, now: float) -> bool:
        row = self.tables.stages.get((competition_id, stage))
        return row is not None and row.opens_at <= now < row.closes_at and not row.closed

    # -- judges ------------------------------------------------------------------------------------
    def list_judges(self, competition_id: str) -> list[Judge]:
        return sorted((j for (c, _), j in self.judges.items() if c == competition_id), key=lambda j: j.judge_id)

    def get_judge(self, competition_id: str, judge_id: str) -> Judge | None:
        return self.judges.get((competition_id, judge_id))

    def save_judge(self, judge: Judge, actor: str, now: float, action: str, before: Any = None) -> None:
        self.judges[(judge.competition_id, judge.judge_id)] = judge
        self.audit.append((keys.judge_audit(judge.competition_id, judge.judge_id), actor, action))

    def save_judges(self, judges: Sequence[Judge], actor: str, now: float) -> None:
        for judge in judges:
            self.save_judge(judge, actor, now, "judge.import")

    # -- slots -------------------------------------------------------------------------------------
    def slots_of_judge(self, competition_id: str, stage: str, judge_id: str) -> list[Assignment]:
        return sorted((s for (c, st, j, _), s in self.slots.items()
                       if c == competition_id and st == stage and j == judge_id), key=lambda s: s.case_id)

    def slots_of_category(self, competition_id: str, stage: str, category: str, case_id: str | None = None,
                          attributes: Sequence[str] | None = None) -> list[Assignment]:
        found = (s for (c, _, _, _), s in self.slots.items()
                 if c == competition_id and s.stage == stage and s.category == category
                 and (case_id is None or s.case_id == case_id))
        return sorted(found, key=lambda s: (s.case_id, s.judge_id))

    def scores_of_category(self, competition_id: str, stage: str,
                           category: str) -> list[tuple[str, str, dict[str, Any], str]]:
        return [(s.case_id, s.judge_id, dict(s.criteria), s.source or "plan")
                for s in self.slots_of_category(competition_id, stage, category)
                if s.scored and not s.recused and s.criteria is not None]

    def slots_of_stage(self, competition_id: str, stage: str, categories: Iterable[str],
                       attributes: Sequence[str] | None = None) -> list[Assignment]:
        return [slot for category in categories for slot in self.slots_of_category(competition_id, stage, category)]

    def _new(self, competition_id: str, slots: Sequence[Assignment]) -> bool:
        found = [(competition_id, s.stage, s.judge_id, s.case_id) for s in slots]
        return len(set(found)) == len(found) and not any(k in self.slots for k in found)

    def create_slots(self, competition_id: str, slots: Sequence[Assignment], actor: str, now: float,
                     detail: dict[str, Any]) -> None:
        for start in range(0, len(slots), 99):
            part = slots[start:start + 99]
            if not self._new(competition_id, part):
                raise Conflict("操作冲突，请刷新后重试")   # the transaction's refusal, unnamed
            for slot in part:
                self.put_slot(competition_id, slot)
            if start == 0:
                self.audit.append((keys.assignments_audit(competition_id, slots[0].stage), actor,
                                   "assignments.plan"))

    def create_extra_slots(self, slots: Sequence[Assignment], competition_id: str, actor: str, now: float,
                           detail: dict[str, Any]) -> None:
        for start in range(0, len(slots), 98):
            part = slots[start:start + 98]
            if not self._open(competition_id, slots[0].stage, now):
                raise StageClosed("文本评审未在进行中，不能增加评委")
            if not self._new(competition_id, part):
                raise Conflict("评委分配刚刚有变动，请刷新后重试")
            for slot in part:
                self.put_slot(competition_id, slot)
            self.audit.append((keys.assignments_audit(competition_id, slots[0].stage), actor, "assignments.extra"))

    def add_slot(self, competition_id: str, slot: Assignment, actor: str, now: float) -> None:
        if not self._new(competition_id, [slot]):
            raise Invalid("该评委已分配到这个案例", {"case_id": "已分配"})
        self.put_slot(competition_id, slot)
        self.audit.append((keys.assignments_audit(competition_id, slot.stage), actor, "assignment.add"))

    def remove_slot(self, competition_id: str, stage: str, judge_id: str, case_id: str, actor: str,
                    now: float) -> None:
        if self.slots.pop((competition_id, stage, judge_id, case_id), None) is None:
            raise NotFound("没有这个分配（可能已被取消），请刷新页面")
        self.audit.append((keys.assignments_audit(competition_id, stage), actor, "assignment.remove"))

    def get_slot_and_stage(self, stage: str, judge_id: str, case_id: str,
                           competition_id: str) -> tuple[Assignment | None, StageRow | None]:
        return (self.slots.get((competition_id, stage, judge_id, case_id)),
                self.tables.stages.get((competition_id, stage)))

    def write_slot(self, slot: Assignment, changes: Mapping[str, Any], competition_id: str, actor: str,
                   action: str, now: float, before: Any, after: Any) -> Assignment:
        values = record.changed_slot(slot, changes)
        if not self._open(competition_id, slot.stage, now):
            raise StageClosed("本阶段已截止，评分已锁定，不能再修改")
        stored = self.slots.get((competition_id, slot.stage, slot.judge_id, slot.case_id))
        if stored is None or stored.recused:
            raise NotFound("这个案例没有分配给您（或您已回避）")
        saved = replace(stored, **values)
        self.put_slot(competition_id, saved)
        self.audit.append((keys.case_audit(slot.case_id), actor, action))
        return saved

    # -- links and judge sessions --------------------------------------------------------------------
    def set_links(self, competition_id: str, links: list[tuple[str, str, str]], mails: Mapping[str, MailRecord],
                  stage: str, actor: str, now: float, action: str = "link.issue") -> None:
        for judge_id, seed, link_hash in links:
            self.links[(competition_id, judge_id, stage)] = Link(judge_id, stage, now, link_hash=link_hash,
                                                                 link_id=seed)
            self.audit.append((keys.judge_audit(competition_id, judge_id), actor, action))
            if judge_id in mails:
                self.mails.append(mails[judge_id])
                self.tables.mail[mails[judge_id].mail_key] = mails[judge_id]

    def revoke_link(self, competition_id: str, judge_id: str, stage: str, actor: str, now: float) -> bool:
        link = self.links.get((competition_id, judge_id, stage))
        if link is None or link.link_hash is None:
            return False
        self.links[(competition_id, judge_id, stage)] = replace(link, link_hash=None, link_id=None, revoked_at=now)
        self.audit.append((keys.judge_audit(competition_id, judge_id), actor, "link.revoke"))
        return True

    def links_of(self, competition_id: str, stage: str, judge_ids: Iterable[str]) -> dict[str, Link]:
        return {j: self.links[(competition_id, j, stage)] for j in sorted(set(judge_ids))
                if (competition_id, j, stage) in self.links}

    def links_of_stages(self, competition_id: str,
                        judges_by_stage: Mapping[str, Iterable[str]]) -> dict[str, dict[str, Link]]:
        return {stage: self.links_of(competition_id, stage, judges) for stage, judges in judges_by_stage.items()}

    def open_session(self, competition_id: str, session: JudgeSession, now: float) -> bool:
        key = (competition_id, session.judge_id, session.stage)
        link = self.links.get(key)
        if link is None or link.link_hash != session.link_hash:
            return False
        self.sessions[session.token_hash] = session
        self.links[key] = replace(link, opened_at=link.opened_at if link.opened_at is not None else now)
        self.audit.append((keys.judge_audit(competition_id, session.judge_id), f"judge:{session.judge_id}",
                           "session.open"))
        return True

    def audit_links_shown(self, competition_id: str, stage: str, judge_ids: list[str], actor: str,
                          now: float) -> None:
        self.audit.append((keys.links_audit(competition_id, stage), actor, "link.show"))

    def link_and_stage(self, judge_id: str, stage: str, competition_id: str) -> tuple[Link | None, StageRow | None]:
        return self.links.get((competition_id, judge_id, stage)), self.tables.stages.get((competition_id, stage))

    def session_and_link(self, competition_id: str, token_hash: str, judge_id: str,
                         stage: str) -> tuple[JudgeSession | None, Link | None]:
        return self.sessions.get(token_hash), self.links.get((competition_id, judge_id, stage))
