"""The live final (综合评选): the presentation-order draw (抽签) per category and the big-screen scoreboard.

The scoreboard shows, in presentation order, every judge's total for each case as it arrives (judges
anonymous: 评委1, 评委2 … numbered over the category's panel, so a column is always the same person),
and the case's aggregate (the final stage's ranking method: the trimmed mean in 2023) only once every
judge still assigned to the case has scored (亮分).
"""
from __future__ import annotations

import json
import platform
import secrets
from datetime import datetime
from typing import Any

from ..domain import draw as draw_rules
from ..domain import ranking as ranking_rules
from ..domain.competition import Competition, format_time
from ..domain.errors import Invalid, NotFound
from ..domain.judges import tenths_to_points
from ..store import cases as case_store
from ..store import final as store
from ..store import judging as judging_store
from ..store.models import Case
from .judging import CASES_FOR_STAGE

FINAL = "final"


def _category(comp: Competition, category: Any) -> str:
    if not isinstance(category, str) or comp.category(category) is None:
        names = "、".join(f"{c.id}（{c.name}）" for c in comp.categories)
        raise Invalid(f"请指定案例类别 category：{names}", {"category": "没有这个类别"})
    return category


def _finalists(comp: Competition, category: str) -> list[Case]:
    return [c for c in case_store.list_for_competition(comp.id, category) if c.status in CASES_FOR_STAGE[FINAL]]


def _body(case: Case) -> dict[str, Any]:
    return json.loads(case.body)


# -- the draw ---------------------------------------------------------------------------------------

def draw(comp: Competition, raw: Any, actor: str, now: datetime) -> dict[str, Any]:
    """Draw the presentation order of one category (`category` given) or of every category, logged
    with its seed. Without a seed, a fresh random one (64 bits) is made and shown."""
    raw = raw if isinstance(raw, dict) else {}
    if "category" in raw and raw["category"] is not None:
        categories = [_category(comp, raw["category"])]
    else:
        categories = list(comp.category_ids)
    seed = raw.get("seed")
    if seed is None or seed == "":
        seed = secrets.token_hex(8)
    try:
        seed = draw_rules.check_seed(seed)
    except draw_rules.DrawError as exc:
        raise Invalid(str(exc), {"seed": str(exc)}) from None
    ts = now.timestamp()
    for category in categories:
        ids = sorted(c.id for c in _finalists(comp, category))
        result = draw_rules.draw(category, ids, seed)
        store.save_draw(comp.id, category, {
            "category": category, "seed": seed, "case_ids": ids, "order": list(result.order),
            "method": "random.Random(seed).shuffle(sorted(case_ids))", "python": platform.python_version(),
            "drawn_at": format_time(now), "drawn_by": actor}, actor, ts)
    return {**draws(comp), "seed": seed, "drawn": categories}


def draws(comp: Competition) -> dict[str, Any]:
    """The current draw of each category (null when not drawn yet), titles filled in."""
    titles: dict[str, dict[str, Any]] | None = None
    out: dict[str, Any] = {}
    for category in comp.category_ids:
        found = store.latest_draw(comp.id, category)
        if found is None:
            out[category] = None
            continue
        record = found[0]
        if titles is None:
            titles = {c.id: _body(c) for c in case_store.list_for_competition(comp.id)}
        out[category] = {
            "category": category, "category_name": comp.category(category).name, "seed": record["seed"],
            "drawn_at": record.get("drawn_at"), "python": record.get("python"), "method": record.get("method"),
            "case_ids": record.get("case_ids", []),
            "order": [{"position": i, "case_id": cid, "title": titles.get(cid, {}).get("title", ""),
                       "recommending_unit": titles.get(cid, {}).get("recommending_unit", "")}
                      for i, cid in enumerate(record["order"], 1)],
        }
    return {"stage": FINAL, "draws": out}


def presentation_order(record: dict[str, Any] | None, case_ids: list[str]) -> list[str]:
    """The drawn order of the category's current finalists; cases the draw did not include come last."""
    current = set(case_ids)
    drawn = [cid for cid in (record["order"] if record else []) if cid in current]
    seen = set(drawn)
    return drawn + sorted(cid for cid in current if cid not in seen)


# -- the scoreboard ---------------------------------------------------------------------------------

def scoreboard(comp: Competition, category: Any) -> dict[str, Any]:
    category = _category(comp, category)
    cases = {c.id: c for c in _finalists(comp, category)}
    slots = [s for s in judging_store.slots_of_category(FINAL, category) if not s.recused and s.case_id in cases]
    panel = sorted({s.judge_id for s in slots})
    label = {judge_id: f"评委{i}" for i, judge_id in enumerate(panel, 1)}
    by_case: dict[str, dict[str, Any]] = {}
    for slot in slots:
        by_case.setdefault(slot.case_id, {})[slot.judge_id] = slot
    settings = ranking_rules.from_config(comp.raw, FINAL)
    found = store.latest_draw(comp.id, category)
    rows = []
    for position, case_id in enumerate(presentation_order(found[0] if found else None, list(cases)), 1):
        body = _body(cases[case_id])
        mine = by_case.get(case_id, {})
        scores = [_judge_score(s) for s in mine.values() if s.scored and s.criteria is not None]
        complete = bool(mine) and len(scores) == len(mine)
        aggregate = settings.rank({case_id: scores}, [case_id])[0].aggregate if complete else None
        rows.append({
            "position": position, "case_id": case_id, "title": body.get("title", ""),
            "recommending_unit": body.get("recommending_unit", ""),
            "judges": [{"label": label[j], "assigned": j in mine,
                        "total": tenths_to_points(int(mine[j].total)) if j in mine and mine[j].scored
                        and mine[j].total is not None else None} for j in panel],
            "scored": len(scores), "assigned": len(mine), "complete": complete,
            "score": ranking_rules.score_display(aggregate),
        })
    return {"stage": FINAL, "category": category, "category_name": comp.category(category).name,
            "method": settings.method.value, "trim_min_scores": settings.trim_min_scores, "drawn": found is not None,
            "judges": [label[j] for j in panel], "cases": rows}


def _judge_score(slot: Any) -> ranking_rules.JudgeScore:
    criteria = slot.criteria.as_dict() if hasattr(slot.criteria, "as_dict") else dict(slot.criteria)
    return ranking_rules.JudgeScore(slot.judge_id, slot.case_id, {k: int(v) for k, v in criteria.items()})


def require_stage(stage: str) -> None:
    if stage != FINAL:
        raise NotFound("抽签只用于综合评选（final）阶段")
