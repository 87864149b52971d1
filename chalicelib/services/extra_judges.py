"""Extra judges near the cut (加评): before the text review closes, the organiser asks for more judges on the
cases ranked around the advance line (by default ranks advance_per_category ± 2, 13–17 in 2023) of each
category. The rank is the live provisional ranking from the scores so far; the new slots (source "extra")
keep 回避, never go to a judge already on the case, go to the lightest judges first, and are written only
while the stage is open. Asking again adds only what is missing up to `judges_per_case` extra judges a case.
The judges score them under their existing link of the stage (their /judge list is their slots)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Mapping

from ..domain.clock import epoch
from ..domain import assignment as planner
from ..domain import ranking as ranking_rules
from ..domain.competition import Competition, StageId
from ..domain.errors import Invalid, NotFound, StageClosed
from ..domain.judging_record import new_slot
from . import results
from . import stages as stage_service
from .repositories import CaseRepository, JudgingRepository, ResultRepository, StageRepository

STAGE = StageId.TEXT_REVIEW
SPREAD = 2            # the default window: advance_per_category - 2 .. advance_per_category + 2
MAX_EXTRA = 20


def defaults(comp: Competition) -> dict[str, int]:
    """The request's defaults: 2 extra judges on ranks advance_per_category ± 2."""
    line = comp.advance_per_category
    return {"judges_per_case": 2, "from_rank": max(1, line - SPREAD), "to_rank": line + SPREAD}


def _int(raw: dict[str, Any], name: str, default: int, low: int, high: int, label: str) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{label} {name} 应为 {low}～{high} 的整数", {name: f"应为 {low}～{high} 的整数"})
    return value


def parse_request(comp: Competition, raw: Any) -> tuple[int, int, int]:
    """(judges_per_case, from_rank, to_rank) of a request body (absent fields take the defaults)."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise Invalid("请求内容应为 JSON 对象", {"body": "应为 JSON 对象"})
    d = defaults(comp)
    k = _int(raw, "judges_per_case", d["judges_per_case"], 1, MAX_EXTRA, "每案增加的评委数")
    first = _int(raw, "from_rank", d["from_rank"], 1, 10000, "起始名次")
    last = _int(raw, "to_rank", d["to_rank"], 1, 10000, "截止名次")
    if first > last:
        raise Invalid("起始名次 from_rank 不能大于截止名次 to_rank", {"from_rank": "不能大于截止名次"})
    return k, first, last


def add_extra_judges(judging: JudgingRepository, repo: CaseRepository, comp: Competition, raw: Any, actor: str,
                     now: datetime, stage: str = STAGE, write: bool = True, *, stages: StageRepository,
                     result_repo: ResultRepository) -> dict[str, Any]:
    """Plan and write the extra judges of the cases in the rank window; returns what was added (`write`
    False: what would be, for the console's confirmation; nothing is written)."""
    if stage != STAGE:
        raise NotFound("只有文本评审可以为名次线附近的案例增加评委")
    window = stage_service.windows(comp, stages)[stage]
    if window.status(now) != "open":
        raise StageClosed(f"{window.name}{'尚未开始' if window.status(now) == 'pending' else '已截止'}，"
                          "只能在评审进行中为名次线附近的案例增加评委")
    k, first, last = parse_request(comp, raw)
    live = results.ranking(judging, comp, stage, results=result_repo)["categories"]
    chosen = {cat: ranking_rules.in_rank_window([(e["case_id"], e["rank"], e["scores_count"]) for e in entries],
                                                first, last) for cat, entries in live.items()}
    wanted = {case_id for ids in chosen.values() for case_id in ids}
    slots = judging.slots_of_stage(comp.id, stage, comp.category_ids)
    assigned: dict[str, set[str]] = {}
    extra: dict[str, set[str]] = {}
    for s in slots:
        (extra if s.source == "extra" and not s.recused else assigned).setdefault(s.case_id, set()).add(s.judge_id)
    load = Counter(s.judge_id for s in slots if not s.recused)
    cases = {c.id: c.body for c in repo.list_for_competition(comp.id) if c.id in wanted}
    refs = [planner.CaseRef(cid, body.get("category", ""), body.get("recommending_unit", ""))
            for cid, body in cases.items()]
    judges = [planner.JudgeRef(j.judge_id, frozenset(j.categories or []), j.affiliation,
                               frozenset(j.conflicts or [])) for j in judging.list_judges(comp.id)]
    try:
        new = planner.plan_extra(refs, judges, k, assigned, extra, load)
    except planner.AssignmentError as exc:
        raise Invalid(exc.message, {"judges_per_case": exc.message}, code="invalid") from exc
    at = epoch(now)
    if new and write:
        judging.create_extra_slots(
            [new_slot(stage, j, c, cases[c].get("category", ""), cases[c].get("title", ""), at, source="extra")
             for j, c in new], comp.id, actor, at,
            {"stage": stage, "judges_per_case": k, "from_rank": first, "to_rank": last, "new": len(new)})
    found = _result(live, chosen, cases, extra, new, k, first, last)
    links = judging.links_of(comp.id, stage, found["judges"])
    return {**found, "written": bool(write),
            "needs_link": [j for j in found["judges"] if j not in links or not links[j].link_hash]}


def _result(live: dict[str, list[dict]], chosen: dict[str, list[str]], cases: Mapping[str, Mapping[str, Any]],
            extra: dict[str, set[str]], new: tuple, k: int, first: int, last: int) -> dict[str, Any]:
    added: dict[str, list[str]] = {}
    for judge_id, case_id in new:
        added.setdefault(case_id, []).append(judge_id)
    ranks = {e["case_id"]: e["rank"] for entries in live.values() for e in entries}
    listed = [{"case_id": cid, "category": category, "rank": ranks[cid], "title": cases[cid].get("title", ""),
               "added": sorted(added.get(cid, [])),
               "extra_judges": len(extra.get(cid, set())) + len(added.get(cid, []))}
              for category, ids in chosen.items() for cid in ids]
    return {"assignments": len(new), "judges_per_case": k, "from_rank": first, "to_rank": last,
            "cases": listed, "judges": sorted({j for j, _ in new})}
