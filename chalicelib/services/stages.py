"""Stage windows: read them (with the config's defaults for rows not yet seeded), move them, seed them."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from ..domain.clock import epoch
from ..domain.competition import (
    STAGE_ORDER, Competition, StageId, StageWindow, check_windows_do_not_overlap, format_time, is_coaching, parse_stage,
    parse_time,
)
from ..domain.errors import Conflict, Invalid, StageClosed
from ..domain.case_record import Case
from ..domain.judging_record import Assignment
from .repositories import CaseRepository, JudgingRepository, StageRepository


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc)


def to_window(comp: Competition, row: Any) -> StageWindow:
    """A stage row's window (a domain StageRow, or a row read with a case: the same fields)."""
    return StageWindow(row.stage_id, comp.stage_name(row.stage_id), _dt(row.opens_at), _dt(row.closes_at),
                       bool(row.closed), _dt(row.closed_at) if row.closed_at else None, bool(row.settled))


def windows_from_rows(comp: Competition, rows: Sequence[Any]) -> dict[str, StageWindow]:
    by_id = {w.id: w for w in comp.default_windows}
    by_id.update({r.stage_id: to_window(comp, r) for r in rows if r.stage_id in by_id})
    return {sid: by_id[sid] for sid in STAGE_ORDER}


def windows(comp: Competition, stages: StageRepository) -> dict[str, StageWindow]:
    """Every stage's window (one Query)."""
    return windows_from_rows(comp, stages.all_for(comp.id))


def stage_view(window: StageWindow, now: datetime) -> dict[str, Any]:
    return {"id": window.id, "name": window.name, "opens_at": format_time(window.opens_at),
            "closes_at": format_time(window.closes_at), "status": window.status(now)}


def seed(stages: StageRepository, comp: Competition, chosen: tuple[StageWindow, ...]) -> int:
    return stages.seed(comp.id, [(w.id, w.opens_at.timestamp(), w.closes_at.timestamp()) for w in chosen])


def move_window(stages: StageRepository, comp: Competition, stage_id: str, raw: Any, actor: str,
                now: datetime) -> StageWindow:
    """Move or extend a window. Windows of successive stages never overlap; a closed stage stays closed."""
    stage_id = parse_stage(stage_id)
    if not isinstance(raw, dict):
        raise Invalid("请求体应为 JSON 对象，含 opens_at 和 closes_at", {"body": "应为 JSON 对象"})
    errors: dict[str, str] = {}
    times: dict[str, datetime] = {}
    for key in ("opens_at", "closes_at"):
        value = raw.get(key)
        try:
            times[key] = parse_time(value) if isinstance(value, str) else None  # type: ignore[assignment]
        except ValueError:
            times[key] = None  # type: ignore[assignment]
        if times[key] is None:
            errors[key] = "应为带时区的 ISO-8601 时间，如 2023-06-09T23:59:59+08:00"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return _move(stages, comp, stage_id, times["opens_at"], times["closes_at"], actor, now)


def open_now(stages: StageRepository, comp: Competition, stage_id: str, actor: str, now: datetime) -> StageWindow:
    """Start a stage that has not begun at once, keeping its closing time: what the organiser does after
    closing the stage before it early. It opens now, or a second after the previous stage's end if that is
    this very moment (windows never touch); the overlap rule of `move_window` applies as ever."""
    stage_id = parse_stage(stage_id)
    current = windows(comp, stages)
    window = current[stage_id]
    status = window.status(now)
    if status == "open":
        raise Conflict(f"{window.name}正在进行，无需立即开始")
    if status == "closed":
        raise StageClosed(f"{window.name}已截止，不能立即开始；如需延期，请修改它的截止时间")
    opens_at = now
    index = STAGE_ORDER.index(stage_id)
    previous = current[STAGE_ORDER[index - 1]] if index > 0 else None
    if previous is not None and previous.closed and now <= previous.closes_at < now + timedelta(seconds=1):
        opens_at = previous.closes_at + timedelta(seconds=1)   # closed this very moment: the next second
    return _move(stages, comp, stage_id, opens_at, window.closes_at, actor, now, current)


def _move(stages: StageRepository, comp: Competition, stage_id: str, opens_at: datetime, closes_at: datetime,
          actor: str, now: datetime, current: dict[str, StageWindow] | None = None) -> StageWindow:
    current = current if current is not None else windows(comp, stages)
    before = current[stage_id]
    if before.closed:
        raise StageClosed(f"{before.name}已由主办单位关闭，不能再修改时间")
    moved = replace(before, opens_at=opens_at, closes_at=closes_at)
    problems = check_windows_do_not_overlap([moved if w.id == stage_id else w for w in current.values()])
    if problems:
        fields = {k.split(".", 1)[1] if k.startswith(stage_id + ".") else k: v for k, v in problems.items()}
        raise Invalid(next(iter(problems.values())), fields)
    stages.move_window(comp.id, stage_id, moved.opens_at.timestamp(), moved.closes_at.timestamp(), actor,
                      epoch(now), before={"opens_at": format_time(before.opens_at),
                                               "closes_at": format_time(before.closes_at)})
    return moved


# -- what closing a stage leaves undone ---------------------------------------------------------------
UNSUBMITTED = {"draft": "草稿", "returned": "退回修改"}


def open_work(judging: JudgingRepository, cases_repo: CaseRepository, comp: Competition,
              stage_id: str) -> dict[str, Any]:
    """What is still open in a stage, per category, for the organiser to see before closing it.

    The judged stages: each assignment not yet scored (coaching-kind stages: no feedback yet) with the judge's name and
    the case's title, recusals apart, and the stage's cases that no judge has; submission: the cases not yet
    submitted (drafts, cases returned for correction). Other stages have nothing to list (`kind` "none")."""
    from .judging import JUDGED_STAGES, takes_part   # judging imports this module
    stage_id = parse_stage(stage_id)
    if stage_id not in JUDGED_STAGES and stage_id != StageId.SUBMISSION:
        return {"stage": stage_id, "kind": "none", "categories": [], "totals": {}}
    cases = cases_repo.list_for_competition(comp.id)
    titles = {c.id: c.title for c in cases}
    by_category: dict[str, list[Case]] = {c: [] for c in comp.category_ids}
    for case in cases:
        by_category.setdefault(case.category_key.split("#", 1)[0], []).append(case)
    if stage_id == StageId.SUBMISSION:
        categories = [_drafts(category if comp.category(category) else "", _category_name(comp, category), found,
                              titles) for category, found in by_category.items()]
        return {"stage": stage_id, "kind": "drafts", "categories": categories,
                "totals": {"drafts": sum(len(c["drafts"]) for c in categories)}}
    names = {j.judge_id: j.name for j in judging.list_judges(comp.id)}
    categories = []
    for category in comp.category_ids:
        slots = [s for s in judging.slots_of_category(comp.id, stage_id, category) if not s.recused]
        entered = [c for c in by_category.get(category, []) if takes_part(stage_id, c)]
        categories.append(_unscored(comp, category, slots, entered, names, titles))
    totals = {"assigned": sum(c["assigned"] for c in categories), "done": sum(c["done"] for c in categories),
              "open": sum(len(c["open"]) for c in categories),
              "unassigned": sum(len(c["unassigned"]) for c in categories)}
    return {"stage": stage_id, "kind": "feedback" if is_coaching(stage_id) else "scores",
            "categories": categories, "totals": totals}


def _unscored(comp: Competition, category: str, slots: list[Assignment], entered: list[Case],
              names: dict[str, str], titles: dict[str, str]) -> dict[str, Any]:
    waiting = sorted((s for s in slots if not s.scored),
                     key=lambda s: (names.get(s.judge_id, ""), titles.get(s.case_id, s.title or ""), s.case_id))
    covered = {s.case_id for s in slots}
    return {
        "id": category, "name": _category_name(comp, category),
        "assigned": len(slots), "done": len(slots) - len(waiting),
        "open": [{"judge": names.get(s.judge_id, "（已删除的评委）"), "case_id": s.case_id,
                  "title": titles.get(s.case_id) or s.title or "（未填写案例名称）"} for s in waiting],
        "unassigned": sorted(({"case_id": c.id, "title": titles.get(c.id) or "（未填写案例名称）"}
                              for c in entered if c.id not in covered), key=lambda c: (c["title"], c["case_id"])),
    }


def _category_name(comp: Competition, category: str) -> str:
    found = comp.category(category)
    return found.name if found else "未选案例类别"


def _drafts(category: str, name: str, cases: list[Case], titles: dict[str, str]) -> dict[str, Any]:
    drafts = sorted((c for c in cases if c.status in UNSUBMITTED), key=lambda c: (titles.get(c.id, ""), c.id))
    return {"id": category, "name": name,
            "drafts": [{"case_id": c.id, "title": titles.get(c.id) or "（未填写案例名称）",
                        "unit": c.body.get("recommending_unit", ""), "status": UNSUBMITTED[c.status]}
                       for c in drafts]}
