"""Stored rankings and the case status changes that closing a stage makes."""
from __future__ import annotations

import json
from typing import Any, Sequence

from . import audit, db
from .models import Case, Ranking, Stage


def save_ranking(ranking: Ranking) -> None:
    ranking.save()


def get_ranking(competition_id: str, stage: str, category: str) -> Ranking | None:
    try:
        return Ranking.get(competition_id, f"{stage}#{category}")
    except Ranking.DoesNotExist:
        return None


def stage_and_rankings(competition_id: str, stage: str,
                       categories: tuple[str, ...]) -> tuple[Stage | None, dict[str, Ranking | None]]:
    """The stage's row and its categories' stored rankings in one BatchGetItem."""
    found = db.get_many([(Stage, competition_id, stage),
                         *((Ranking, competition_id, f"{stage}#{category}") for category in categories)])
    return db.one_of(Stage, found[0]), {c: db.one_of(Ranking, item) for c, item in zip(categories, found[1:])}


def results_of(ranking: Ranking) -> list[dict[str, Any]]:
    return json.loads(ranking.results)


def apply_outcomes(changes: Sequence[tuple[Case, str, str | None]], from_statuses: tuple[str, ...], actor: str,
                   now: float) -> int:
    """Move cases to their outcome (status, prize) in transactions of 50 cases + 50 audit rows.

    Each change is conditional on the case still being in one of `from_statuses`, so a repeated close
    changes nothing; a batch refused because a case moved meanwhile is retried case by case.
    """
    applied = 0
    for start in range(0, len(changes), 50):
        batch = changes[start:start + 50]
        try:
            _apply(batch, from_statuses, actor, now)
            applied += len(batch)
        except db.Refused:
            for change in batch:
                try:
                    _apply([change], from_statuses, actor, now)
                    applied += 1
                except db.Refused:
                    pass
    return applied


def _apply(batch: Sequence[tuple[Case, str, str | None]], from_statuses: tuple[str, ...], actor: str,
           now: float) -> None:
    with db.transaction() as t:
        for case, status, prize in batch:
            prize_action = Case.prize.set(prize) if prize else Case.prize.remove()
            t.update(case, actions=[Case.status.set(status), prize_action, Case.updated_at.set(now)],
                     condition=Case.status.is_in(*from_statuses))
            t.save(audit.entry(f"case#{case.id}", actor, f"case.{status}", now, before=case.status,
                               after={"status": status, "prize": prize}))


def set_provincial(case: Case, recommended: bool, actor: str, now: float, reason: str | None = None) -> None:
    """The 省赛 mark and its reason, only on an awarded case (the final has closed: its close awards)."""
    reason_action = Case.provincial_reason.set(reason) if recommended and reason else Case.provincial_reason.remove()
    with db.transaction() as t:
        t.update(case, actions=[Case.provincial.set(recommended), reason_action, Case.updated_at.set(now)],
                 condition=Case.status == "awarded", label="case")
        t.save(audit.entry(f"case#{case.id}", actor, "case.provincial", now,
                           before={"recommended": bool(case.provincial), "reason": case.provincial_reason},
                           after={"recommended": recommended, "reason": reason if recommended else None}))


def mark_notified(ranking: Ranking) -> None:
    ranking.update(actions=[Ranking.notified.set(True)])
