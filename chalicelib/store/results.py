"""Stored rankings and the case status changes that closing a stage makes.

`ResultRepository` is the services' way in (services/repositories.ResultRepository): it returns the domain
`Ranking` (domain/result_record.py) and takes domain cases for the writes. The functions before it work on
the PynamoDB rows.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from ..domain import result_record
from ..domain.case_record import frozen_map
from ..domain.errors import Conflict
from ..domain.stage_record import StageRow
from . import audit, cases, db
from .models import Case, Ranking, Stage
from .stages import to_domain as stage_domain

__all__ = ["ResultRepository", "apply_outcomes", "get_ranking", "mark_notified", "results_of", "save_ranking",
           "set_provincial", "stage_and_rankings"]

# What the ranking page reads of each case (a projection: far fewer bytes than the whole items, and on the
# emulator far less time); closing reads whole cases, as it writes them.
RANKED_CASE_FIELDS = ("id", "category_key", "status", "body", "provincial")
MARK_CASE_FIELDS = ("id", "category_key", "status", "provincial")


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


def apply_outcomes(changes: Sequence[tuple[Any, str, str | None]], from_statuses: tuple[str, ...], actor: str,
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


def _apply(batch: Sequence[tuple[Any, str, str | None]], from_statuses: tuple[str, ...], actor: str,
           now: float) -> None:
    with db.transaction() as t:
        for case, status, prize in batch:
            prize_action = Case.prize.set(prize) if prize else Case.prize.remove()
            t.update(Case(case.id), actions=[Case.status.set(status), prize_action, Case.updated_at.set(now)],
                     condition=Case.status.is_in(*from_statuses))
            t.save(audit.entry(f"case#{case.id}", actor, f"case.{status}", now, before=case.status,
                               after={"status": status, "prize": prize}))


def set_provincial(case: Any, recommended: bool, actor: str, now: float, reason: str | None = None) -> None:
    """The 省赛 mark and its reason, only on an awarded case (the final has closed: its close awards)."""
    reason_action = Case.provincial_reason.set(reason) if recommended and reason else Case.provincial_reason.remove()
    with db.transaction() as t:
        t.update(Case(case.id), actions=[Case.provincial.set(recommended), reason_action, Case.updated_at.set(now)],
                 condition=Case.status == "awarded", label="case")
        t.save(audit.entry(f"case#{case.id}", actor, "case.provincial", now,
                           before={"recommended": bool(case.provincial), "reason": case.provincial_reason},
                           after={"recommended": recommended, "reason": reason if recommended else None}))


def mark_notified(ranking: Ranking) -> None:
    ranking.update(actions=[Ranking.notified.set(True)])


def _domain(row: Ranking) -> result_record.Ranking:
    stage, _, category = row.stage_category.partition("#")
    return result_record.Ranking(row.competition_id, stage, category, row.method, row.digest, row.record_key,
                                 tuple(frozen_map(e) for e in results_of(row)), float(row.computed_at),
                                 bool(row.notified))


def _row(ranking: result_record.Ranking) -> Ranking:
    return Ranking(ranking.competition_id, f"{ranking.stage}#{ranking.category}", method=ranking.method,
                   digest=ranking.digest, record_key=ranking.record_key,
                   results=json.dumps(ranking.results(), ensure_ascii=False), computed_at=ranking.computed_at,
                   notified=ranking.notified)


def _ranked(row: Case) -> result_record.RankedCase:
    return result_record.RankedCase(row.id, row.category_key, row.status, bool(row.provincial),
                                    frozen_map(json.loads(row.body)) if row.body else frozen_map())


class ResultRepository:
    """Rankings in DynamoDB, as domain rankings; the outcomes of a close and the 省赛 mark on the cases."""

    def get_ranking(self, competition_id: str, stage: str, category: str) -> result_record.Ranking | None:
        row = get_ranking(competition_id, stage, category)
        return _domain(row) if row is not None else None

    def stage_and_rankings(self, competition_id: str, stage: str, categories: tuple[str, ...]
                           ) -> tuple[StageRow | None, dict[str, result_record.Ranking | None]]:
        row, rankings = stage_and_rankings(competition_id, stage, categories)
        return ((stage_domain(row) if row is not None else None),
                {c: (_domain(r) if r is not None else None) for c, r in rankings.items()})

    def ranked_cases(self, competition_id: str, with_body: bool = True) -> list[result_record.RankedCase]:
        """The competition's cases as a ranking reads them (one Query, a projection); `with_body` False: only
        the marks (id, category, status, 省赛)."""
        fields = RANKED_CASE_FIELDS if with_body else MARK_CASE_FIELDS
        return [_ranked(r) for r in cases.list_for_competition(competition_id, attributes=fields)]

    def save_ranking(self, ranking: result_record.Ranking) -> None:
        save_ranking(_row(ranking))

    def apply_outcomes(self, changes: Sequence[tuple[Any, str, str | None]], from_statuses: tuple[str, ...],
                       actor: str, now: float) -> int:
        return apply_outcomes(changes, from_statuses, actor, now)

    def set_provincial(self, case: Any, recommended: bool, actor: str, now: float,
                       reason: str | None = None) -> None:
        # refused: the case is no longer awarded (the service read it awarded just before)
        with db.refused_as(Conflict("只能在综合评选获奖案例中推荐参加省赛")):
            set_provincial(case, recommended, actor, now, reason)

    def mark_notified(self, ranking: result_record.Ranking) -> None:
        Ranking(ranking.competition_id, f"{ranking.stage}#{ranking.category}").update(
            actions=[Ranking.notified.set(True)])
