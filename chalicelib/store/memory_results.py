"""In-memory twins of the stage, result, final and showcase repositories, for service tests without DynamoDB.

The stage twin keeps its rows in the shared `MemoryTables.stages`, so the case twin's window checks see the
stages it opens and closes. The twins that write on cases (a close's outcomes, the 省赛 mark, the coaching
replies, the showcase marks) write on the case twin's cases, with the same conditions and the same domain
errors as the DynamoDB repositories; tests/integration/test_stage_repository_contract.py and
test_result_repository_contract.py run the same tests against both.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any, Sequence

from ..domain.case_record import Case, frozen_map
from ..domain.competition import StageId
from ..domain.errors import Conflict, NotFound, StageClosed, VersionConflict
from ..domain.result_record import REPLY_CASES, FinalRecord, RankedCase, Ranking, ShownCase
from ..domain.stage_record import EarlierStageOpen, StageRow
from . import keys
from .memory import InMemoryCaseRepository, MemoryTables


class InMemoryStageRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.stages = self.tables.stages
        self.audit = self.tables.audit

    def set_stage(self, competition_id: str, stage_id: str, opens_at: float, closes_at: float,
                  closed: bool = False) -> None:
        """A row as a test sets it (no conditions, no audit)."""
        self.stages[(competition_id, stage_id)] = StageRow(competition_id, stage_id, opens_at, closes_at, closed)

    def all_for(self, competition_id: str) -> list[StageRow]:
        return sorted((r for (c, _), r in self.stages.items() if c == competition_id), key=lambda r: r.stage_id)

    def seed(self, competition_id: str, windows: list[tuple[str, float, float]]) -> int:
        created = 0
        for stage_id, opens_at, closes_at in windows:
            if (competition_id, stage_id) not in self.stages:
                self.stages[(competition_id, stage_id)] = StageRow(competition_id, stage_id, opens_at, closes_at)
                created += 1
        return created

    def move_window(self, competition_id: str, stage_id: str, opens_at: float, closes_at: float, actor: str,
                    now: float, before: dict) -> None:
        row = self.stages.get((competition_id, stage_id))
        if row is None or row.closed:
            raise StageClosed("该阶段已由主办单位关闭，不能再修改时间")
        self.stages[(competition_id, stage_id)] = replace(row, opens_at=opens_at, closes_at=closes_at)
        self.audit.append((keys.stage_audit(competition_id, stage_id), actor, "stage.window"))

    def close(self, competition_id: str, stage_id: str, actor: str, now: float, after: str | None = None) -> bool:
        row = self.stages.get((competition_id, stage_id))
        if row is None or row.closed:
            return False
        if after is not None:
            earlier = self.stages.get((competition_id, after))
            if earlier is None or not earlier.closed:
                raise EarlierStageOpen(after)
        self.stages[(competition_id, stage_id)] = replace(row, closed=True, closed_at=now,
                                                          closes_at=min(row.closes_at, now))
        self.audit.append((keys.stage_audit(competition_id, stage_id), actor, "stage.close"))
        return True

    def settle(self, competition_id: str, stage_id: str) -> None:
        row = self.stages.get((competition_id, stage_id))
        if row is None or not row.closed:
            raise Conflict("阶段尚未关闭，不能标记为已完成")
        self.stages[(competition_id, stage_id)] = replace(row, settled=True)


class InMemoryResultRepository:
    """Rankings, and a close's outcomes and the 省赛 mark written on the case twin's cases."""

    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self.case_twin = cases
        self.tables = cases.tables
        self.rankings: dict[tuple[str, str, str], Ranking] = {}

    def get_ranking(self, competition_id: str, stage: str, category: str) -> Ranking | None:
        return self.rankings.get((competition_id, stage, category))

    def stage_and_rankings(self, competition_id: str, stage: str, categories: tuple[str, ...]
                           ) -> tuple[StageRow | None, dict[str, Ranking | None]]:
        return (self.tables.stages.get((competition_id, stage)),
                {c: self.get_ranking(competition_id, stage, c) for c in categories})

    def ranked_cases(self, competition_id: str, with_body: bool = True) -> list[RankedCase]:
        return [RankedCase(c.id, c.category_key, c.status, bool(c.provincial), c.body if with_body else frozen_map())
                for c in self.case_twin.list_for_competition(competition_id)]

    def save_ranking(self, ranking: Ranking) -> None:
        self.rankings[(ranking.competition_id, ranking.stage, ranking.category)] = ranking

    def apply_outcomes(self, changes: Sequence[tuple[Any, str, str | None]], from_statuses: tuple[str, ...],
                       actor: str, now: float) -> int:
        applied = 0
        for case, status, prize in changes:
            stored = self.case_twin.cases.get(case.id)
            if stored is None or stored.status not in from_statuses:
                continue
            self.case_twin.cases[case.id] = replace(stored, status=status, prize=prize or None, updated_at=now)
            self.tables.audit.append((f"case#{case.id}", actor, f"case.{status}"))
            applied += 1
        return applied

    def set_provincial(self, case: Any, recommended: bool, actor: str, now: float,
                       reason: str | None = None) -> None:
        stored = self.case_twin.cases.get(case.id)
        if stored is None or stored.status != "awarded":
            raise Conflict("只能在综合评选获奖案例中推荐参加省赛")
        self.case_twin.cases[case.id] = replace(stored, provincial=recommended, updated_at=now,
                                                provincial_reason=reason if recommended and reason else None)
        self.tables.audit.append((f"case#{case.id}", actor, "case.provincial"))

    def mark_notified(self, ranking: Ranking) -> None:
        key = (ranking.competition_id, ranking.stage, ranking.category)
        stored = self.rankings.get(key, ranking)
        self.rankings[key] = replace(stored, notified=True)


class InMemoryFinalRepository:
    """The draws and hall states (numbered logs per category) and the coaching replies on the case twin."""

    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self.case_twin = cases
        self.tables = cases.tables
        self.logs: dict[str, list[FinalRecord]] = {}

    def _append(self, key: str, record: dict[str, Any], sequence: int, actor: str, action: str,
                conflict: str) -> int:
        log = self.logs.setdefault(key, [])
        if any(r.sequence == sequence for r in log):
            raise Conflict(conflict)
        log.append(FinalRecord(json.loads(json.dumps({**record, "sequence": sequence})), sequence))
        self.tables.audit.append((key, actor, action))
        return sequence

    def _latest(self, key: str) -> FinalRecord | None:
        log = self.logs.get(key)
        return max(log, key=lambda r: r.sequence) if log else None

    def save_draw(self, competition_id: str, category: str, record: dict[str, Any], actor: str, now: float) -> int:
        key = f"draw#{competition_id}#final#{category}"
        latest = self._latest(key)
        return self._append(key, record, (latest.sequence if latest else 0) + 1, actor, "final.draw",
                            "另一场抽签刚刚完成，请刷新后查看结果，需要时再重新抽签")

    def latest_draw(self, competition_id: str, category: str) -> FinalRecord | None:
        return self._latest(f"draw#{competition_id}#final#{category}")

    def save_live(self, competition_id: str, category: str, action: str, record: dict[str, Any],
                  before: dict[str, Any] | None, expected: int, actor: str, now: float) -> int:
        return self._append(f"live#{competition_id}#final#{category}", record, expected + 1, actor, action,
                            "现场状态刚被另一处操作更新，请刷新页面后再操作")

    def latest_live(self, competition_id: str, category: str) -> FinalRecord | None:
        return self._latest(f"live#{competition_id}#final#{category}")

    def save_replies(self, case: Any, replies_json: str, competition_id: str, stage: str, actor: str, now: float,
                     before: Any, after: Any) -> None:
        status, name, why = REPLY_CASES[stage]
        row = self.tables.stages.get((competition_id, stage))
        if row is None or not (row.opens_at <= now < row.closes_at) or row.closed:
            raise StageClosed(f"{name}阶段未开放或已截止，不能再回复辅导意见")
        stored = self.case_twin.cases.get(case.id)
        if (stored is None or stored.status != status or stored.owner_id != case.owner_id
                or (stage == StageId.PROVINCIAL and not stored.provincial)):
            raise NotFound(f"这个案例当前不能回复辅导意见（{why}）")
        self.case_twin.cases[case.id] = replace(stored, feedback_replies=replies_json, updated_at=now)
        self.tables.audit.append((f"case#{case.id}", actor, "feedback.reply"))


class InMemoryShowcaseRepository:
    """The awarded cases of the case twin as the showcase reads them, and the two marks written on them."""

    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self.case_twin = cases
        self.tables = cases.tables

    def awarded(self, competition_id: str) -> list[ShownCase]:
        return [ShownCase(c.id, c.status, c.body, c.prize, c.showcase_choice, c.showcase_hidden)
                for c in self.case_twin.list_for_competition(competition_id) if c.status == "awarded"]

    def _refused(self) -> VersionConflict:
        return VersionConflict("成果展示的设置已在别处被修改，请刷新页面后再操作")

    def set_choice(self, case: Case, consent: bool, actor: str, now: datetime) -> Case:
        stored = self.case_twin.cases.get(case.id)
        if stored is None or stored.owner_id != case.owner_id or stored.showcase_choice != case.showcase_choice:
            raise self._refused()
        self.case_twin.cases[case.id] = replace(stored, showcase_choice=consent)
        self.tables.audit.append((f"case#{case.id}", actor, "showcase.consent" if consent else "showcase.withdraw"))
        return replace(case, showcase_choice=consent)

    def set_hidden(self, case: Case, hidden: bool, reason: str | None, actor: str, now: datetime) -> Case:
        stored = self.case_twin.cases.get(case.id)
        if stored is None or stored.showcase_hidden != case.showcase_hidden:
            raise self._refused()
        kept = reason if hidden and reason else None
        self.case_twin.cases[case.id] = replace(stored, showcase_hidden=hidden, showcase_hidden_reason=kept)
        self.tables.audit.append((f"case#{case.id}", actor, "showcase.hide" if hidden else "showcase.restore"))
        return replace(case, showcase_hidden=hidden, showcase_hidden_reason=reason if hidden else None)
