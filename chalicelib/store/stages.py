"""Stage windows in the database, and the condition that keeps a write inside one."""
from __future__ import annotations

from pynamodb.exceptions import PutError

from ..domain.errors import StageClosed
from . import audit, db
from .models import Stage


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


def move_window(competition_id: str, stage_id: str, opens_at: float, closes_at: float, actor: str,
                now: float, before: dict) -> None:
    try:
        with db.transaction() as t:
            t.update(Stage(competition_id, stage_id),
                     actions=[Stage.opens_at.set(opens_at), Stage.closes_at.set(closes_at)],
                     condition=Stage.closed == False, label="stage")  # noqa: E712
            t.save(audit.entry(f"stage#{stage_id}", actor, "stage.window", now, before=before,
                               after={"opens_at": opens_at, "closes_at": closes_at}))
    except db.Refused as exc:
        if "stage" in exc.labels:
            raise StageClosed("该阶段已由主办单位关闭，不能再修改时间") from exc
        raise


def settle(competition_id: str, stage_id: str) -> None:
    """Mark a closed stage whose consequences are all done (see Stage.settled); the schedule then skips it."""
    Stage(competition_id, stage_id).update(actions=[Stage.settled.set(True)],
                                           condition=Stage.closed == True)  # noqa: E712


class EarlierStageOpen(Exception):
    """The stage that must close first (`after`) is not closed."""


def close(competition_id: str, stage_id: str, actor: str, now: float, after: str | None = None) -> bool:
    """Close a stage for good, only once the stage `after` is closed (checked in the same transaction).
    Returns False when it was closed already (closing is idempotent); raises EarlierStageOpen."""
    try:
        with db.transaction() as t:
            if after is not None:
                t.condition_check(Stage, competition_id, after, condition=Stage.closed == True,  # noqa: E712
                                  label="after")
            t.update(Stage(competition_id, stage_id), actions=[Stage.closed.set(True), Stage.closed_at.set(now)],
                     condition=(Stage.closed == False) & Stage.stage_id.exists(), label="stage")  # noqa: E712
            t.save(audit.entry(f"stage#{stage_id}", actor, "stage.close", now))
    except db.Refused as exc:
        if "stage" in exc.labels:
            return False
        if "after" in exc.labels:
            raise EarlierStageOpen(after) from exc
        raise
    return True
