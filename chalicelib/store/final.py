"""The live final's stored facts: presentation-order draws (抽签), the hall state of each category
(现场控制: presenting case, timer, revealed scores) and a unit's replies to coaching.

A draw is an audit row (object `draw#<competition>#final#<category>`, action `final.draw`) whose
detail holds the seed, the sorted case ids it was drawn from and the resulting order: the log of
every draw and the record of the current one (the newest row) in one place, read by key, no Scan.
Its sort key is the draw's sequence number (not the time), so the newest draw is well defined even
for two draws in the same millisecond; two simultaneous draws cannot both take the same number.
The hall state is kept the same way (object `live#<competition>#final#<category>`, one row per change,
actions `final.present`, `final.timer_start`, `final.timer_stop`, `final.reveal`, `final.schedule`).

`FinalRepository` is the services' way in (services/repositories.FinalRepository): it returns the domain
`FinalRecord` (domain/result_record.py: the state and its sequence number).
"""
from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import PutError

from ..domain.competition import StageId
from ..domain.result_record import REPLY_CASES, FinalRecord
from ..domain.errors import Conflict, NotFound, StageClosed
from . import audit, db, stages
from .models import AuditEntry, Case, Stage


def draw_key(competition_id: str, category: str) -> str:
    return f"draw#{competition_id}#final#{category}"


def live_key(competition_id: str, category: str) -> str:
    return f"live#{competition_id}#final#{category}"


def save_draw(competition_id: str, category: str, record: dict[str, Any], actor: str, now: float) -> int:
    """Log a draw as the category's next one; returns its sequence number (1, 2, …)."""
    return _append(draw_key(competition_id, category), "final.draw", record, None, actor, now,
                   "另一场抽签刚刚完成，请刷新后查看结果，需要时再重新抽签")


def latest_draw(competition_id: str, category: str) -> tuple[dict[str, Any], AuditEntry] | None:
    return _latest(draw_key(competition_id, category))


def save_live(competition_id: str, category: str, action: str, record: dict[str, Any],
              before: dict[str, Any] | None, expected: int, actor: str, now: float) -> int:
    """The category's next hall state (现场控制: presenting case, timer, 亮分), logged like a draw.

    `expected` is the sequence number of the state the change was made from: if another change landed
    in between, this one is refused instead of overwriting it."""
    return _append(live_key(competition_id, category), action, record, before, actor, now,
                   "现场状态刚被另一处操作更新，请刷新页面后再操作", sequence=expected + 1)


def latest_live(competition_id: str, category: str) -> tuple[dict[str, Any], int] | None:
    """The current hall state of a category and its sequence number (None before the first action)."""
    found = _latest(live_key(competition_id, category))
    return (found[0], _sequence(found[1])) if found else None


def _sequence(row: AuditEntry) -> int:
    return int(row.entry_key.split("#", 1)[0])


def _append(key: str, action: str, record: dict[str, Any], before: dict[str, Any] | None, actor: str, now: float,
            conflict: str, sequence: int | None = None) -> int:
    """An audit row that is also a state: numbered 1, 2, … per object, never two with one number."""
    if sequence is None:
        latest = _latest(key)
        sequence = (_sequence(latest[1]) if latest else 0) + 1
    row = audit.entry(key, actor, action, now, before=before, after=record, detail={**record, "sequence": sequence})
    row.entry_key = f"{sequence:015d}#{key.split('#', 1)[0]}"   # one row per number: "#draw", "#live"
    try:
        row.save(condition=AuditEntry.entry_key.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict(conflict) from exc
        raise
    return sequence


def _latest(key: str) -> tuple[dict[str, Any], AuditEntry] | None:
    for row in AuditEntry.query(key, scan_index_forward=False, limit=1, consistent_read=True):
        if row.detail:
            return json.loads(row.detail), row
    return None




def save_replies(case: Any, replies_json: str, competition_id: str, stage: str, actor: str, now: float,
                 before: Any, after: Any) -> None:
    """The unit's replies, while the coaching round's stage is open (checked in the write): on an advanced case
    in 专家辅导, on an awarded case still recommended to the provincial competition in 赛前辅导."""
    status, name, why = REPLY_CASES[stage]
    condition = (Case.status == status) & (Case.owner_id == case.owner_id)
    if stage == StageId.PROVINCIAL:
        condition = condition & (Case.provincial == True)  # noqa: E712 (a condition, not a comparison)
    with db.refused_as(NotFound(f"这个案例当前不能回复辅导意见（{why}）"),
                       {"stage": StageClosed(f"{name}阶段未开放或已截止，不能再回复辅导意见")}):
        with db.transaction() as t:
            t.condition_check(Stage, competition_id, stage, condition=stages.open_condition(now), label="stage")
            t.update(Case(case.id), actions=[Case.feedback_replies.set(replies_json), Case.updated_at.set(now)],
                     condition=condition, label="case")
            t.save(audit.entry(f"case#{case.id}", actor, "feedback.reply", now, before=before, after=after))


class FinalRepository:
    """The draws, the hall states and the coaching replies in DynamoDB (the audit table, the case)."""

    def save_draw(self, competition_id: str, category: str, record: dict[str, Any], actor: str, now: float) -> int:
        return save_draw(competition_id, category, record, actor, now)

    def latest_draw(self, competition_id: str, category: str) -> FinalRecord | None:
        found = latest_draw(competition_id, category)
        return FinalRecord(found[0], _sequence(found[1])) if found else None

    def save_live(self, competition_id: str, category: str, action: str, record: dict[str, Any],
                  before: dict[str, Any] | None, expected: int, actor: str, now: float) -> int:
        return save_live(competition_id, category, action, record, before, expected, actor, now)

    def latest_live(self, competition_id: str, category: str) -> FinalRecord | None:
        found = latest_live(competition_id, category)
        return FinalRecord(found[0], found[1]) if found else None

    def save_replies(self, case: Any, replies_json: str, competition_id: str, stage: str, actor: str, now: float,
                     before: Any, after: Any) -> None:
        save_replies(case, replies_json, competition_id, stage, actor, now, before, after)
