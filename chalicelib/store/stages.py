"""Stage windows in the database, and the condition that keeps a write inside one.

`StageRepository` is the services' way in (services/repositories.StageRepository): it returns the domain
`StageRow` (domain/stage_record.py). The functions before it work on the PynamoDB rows.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.exceptions import PutError, UpdateError

from ..domain.competition import format_time
from ..domain.stage_record import EarlierStageOpen, StageRow
from ..domain.errors import Conflict, StageClosed
from . import audit, db, keys
from .models import Stage

__all__ = ["EarlierStageOpen", "StageRepository", "all_for", "before_condition", "close", "move_window",
           "open_condition", "seed", "settle", "to_domain"]


def all_for(competition_id: str) -> list[Stage]:
    return list(Stage.query(competition_id))


def seed(competition_id: str, windows: list[tuple[str, float, float]]) -> int:
    """Create missing stage rows (never overwrite a window the organiser moved). Returns how many."""
    created = 0
    for stage_id, opens_at, closes_at in windows:
        try:
            Stage(competition_id, stage_id, opens_at=opens_at, closes_at=closes_at, closed=False).save(
                condition=Stage.stage_id.does_not_exist())
            created += 1
        except PutError as exc:
            if "ConditionalCheckFailed" not in str(exc):
                raise
    return created


def open_condition(now: float):
    """True while the stage row says the stage is open at `now`."""
    return (Stage.opens_at <= now) & (Stage.closes_at > now) & (Stage.closed == False)  # noqa: E712


def before_condition(now: float):
    """True while the stage row says the stage has not opened at `now` (and was not closed)."""
    return (Stage.opens_at > now) & (Stage.closed == False)  # noqa: E712


def move_window(competition_id: str, stage_id: str, opens_at: float, closes_at: float, actor: str,
                now: float, before: dict) -> None:
    with db.refused_as(None, {"stage": StageClosed("该阶段已由主办单位关闭，不能再修改时间")}):
        with db.transaction() as t:
            t.update(Stage(competition_id, stage_id),
                     actions=[Stage.opens_at.set(opens_at), Stage.closes_at.set(closes_at)],
                     condition=Stage.closed == False, label="stage")  # noqa: E712
            t.save(audit.entry(keys.stage_audit(competition_id, stage_id), actor, "stage.window", now, before=before,
                               after={"opens_at": opens_at, "closes_at": closes_at}))


def settle(competition_id: str, stage_id: str) -> None:
    """Mark a closed stage whose consequences are all done (see Stage.settled); the schedule then skips it."""
    Stage(competition_id, stage_id).update(actions=[Stage.settled.set(True)],
                                           condition=Stage.closed == True)  # noqa: E712


CLOSE_ATTEMPTS = 3     # reads of the window when it keeps moving between the read and the close


def close(competition_id: str, stage_id: str, actor: str, now: float, after: str | None = None) -> bool:
    """Close a stage for good, only once the stage `after` is closed (checked in the same transaction).

    Closing before the window's end ends the window at that moment: `closes_at` becomes `now` in the same
    transaction (the audit row holds the window before and after), so the next stage may open at once. A
    close after the end (the schedule's) leaves the window as it is. The write is conditional on the window
    read just before; a window moved in between is read again. Returns False when it was closed already
    (closing is idempotent and then changes nothing); raises EarlierStageOpen."""
    for _ in range(CLOSE_ATTEMPTS):
        row = _read(competition_id, stage_id)
        if row is None or row.closed:
            return False
        try:
            _close_row(row, actor, now, after)
            return True
        except db.Refused as exc:
            if "after" in exc.labels:
                raise EarlierStageOpen(after) from exc
            if "stage" not in exc.labels:
                raise
    raise Conflict("阶段时间正在被修改，未能关闭，请刷新后重试")


def _read(competition_id: str, stage_id: str) -> Stage | None:
    try:
        return Stage.get(competition_id, stage_id, consistent_read=True)
    except Stage.DoesNotExist:
        return None


def _window(opens_at: float, closes_at: float) -> dict[str, str]:
    return {"opens_at": format_time(_dt(opens_at)), "closes_at": format_time(_dt(closes_at))}


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc)


def _close_row(row: Stage, actor: str, now: float, after: str | None) -> None:
    read_closes_at = float(row.closes_at)
    closes_at = min(read_closes_at, now)
    before, moved = _window(row.opens_at, read_closes_at), _window(row.opens_at, closes_at)
    with db.transaction() as t:
        if after is not None:
            t.condition_check(Stage, row.competition_id, after, condition=Stage.closed == True,  # noqa: E712
                              label="after")
        t.update(Stage(row.competition_id, row.stage_id),
                 actions=[Stage.closed.set(True), Stage.closed_at.set(now), Stage.closes_at.set(closes_at)],
                 condition=((Stage.closed == False) & (Stage.opens_at == float(row.opens_at))  # noqa: E712
                            & (Stage.closes_at == read_closes_at)), label="stage")
        t.save(audit.entry(keys.stage_audit(row.competition_id, row.stage_id), actor, "stage.close", now,
                           before=before, after=moved,
                           detail={"before": before, "after": moved, "ended_early": closes_at < read_closes_at}))


def to_domain(row: Stage) -> StageRow:
    return StageRow(row.competition_id, row.stage_id, float(row.opens_at), float(row.closes_at), bool(row.closed),
                    float(row.closed_at) if row.closed_at is not None else None, bool(row.settled))


class StageRepository:
    """Stage windows in DynamoDB, as domain rows; a close is conditional on the window it read."""

    def all_for(self, competition_id: str) -> list[StageRow]:
        return [to_domain(r) for r in all_for(competition_id)]

    def seed(self, competition_id: str, windows: list[tuple[str, float, float]]) -> int:
        return seed(competition_id, windows)

    def move_window(self, competition_id: str, stage_id: str, opens_at: float, closes_at: float, actor: str,
                    now: float, before: dict) -> None:
        move_window(competition_id, stage_id, opens_at, closes_at, actor, now, before)

    def close(self, competition_id: str, stage_id: str, actor: str, now: float, after: str | None = None) -> bool:
        return close(competition_id, stage_id, actor, now, after)

    def settle(self, competition_id: str, stage_id: str) -> None:
        try:
            settle(competition_id, stage_id)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("阶段尚未关闭，不能标记为已完成") from exc
            raise
