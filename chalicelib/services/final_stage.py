"""The live final (综合评选): the presentation-order draw (抽签) per category, the hall (现场控制: the case
now presenting, its timer, 亮分), the big-screen scoreboard, a final judge's list and a finalist's slot.

The scoreboard shows the category's finalists in presentation order. Until the organiser reveals a case
(亮分) it shows only which judges have scored it; after that every judge's total (judges anonymous: 评委1,
评委2 … numbered over the category's panel, so a column is always the same person), the one highest and
one lowest the aggregate drops, the aggregate (the final stage's ranking method: the trimmed mean in
2023) and the rank among the revealed cases, all from domain/ranking.py.
"""
from __future__ import annotations

import platform
import secrets
from datetime import datetime
from typing import Any, Mapping

from ..domain.clock import epoch
from ..domain import draw as draw_rules
from ..domain import live_final as live_rules
from ..domain import ranking as ranking_rules
from ..domain.competition import CHINA, Category, Competition, StageId, format_time, parse_time
from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.judges import tenths_to_points
from ..domain.case_record import Case
from .presentations import current as current_presentation
from .judging import CASES_FOR_STAGE
from .repositories import CaseRepository, FinalRepository, JudgingRepository

FINAL = StageId.FINAL


def _category(comp: Competition, category: Any) -> str:
    return _known(comp, category).id


def _known(comp: Competition, category: Any) -> Category:
    """The competition's category of that id; Invalid, naming the categories, for anything else."""
    found = comp.category(category) if isinstance(category, str) else None
    if found is None:
        names = "、".join(f"{c.id}（{c.name}）" for c in comp.categories)
        raise Invalid(f"请指定案例类别 category：{names}", {"category": "没有这个类别"})
    return found


def _finalists(cases: CaseRepository, comp: Competition, category: str) -> list[Case]:
    return [c for c in cases.list_for_competition(comp.id, category) if c.status in CASES_FOR_STAGE[FINAL]]


# -- the draw ---------------------------------------------------------------------------------------

def draw(cases: CaseRepository, final: FinalRepository, comp: Competition, raw: Any, actor: str,
         now: datetime) -> dict[str, Any]:
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
    ts = epoch(now)
    for category in categories:
        ids = sorted(c.id for c in _finalists(cases, comp, category))
        result = draw_rules.draw(category, ids, seed)
        final.save_draw(comp.id, category, {
            "category": category, "seed": seed, "case_ids": ids, "order": list(result.order),
            "method": "random.Random(seed).shuffle(sorted(case_ids))", "python": platform.python_version(),
            "drawn_at": format_time(now), "drawn_by": actor}, actor, ts)
    return {**draws(cases, final, comp), "seed": seed, "drawn": categories}


def draws(cases: CaseRepository, final: FinalRepository, comp: Competition) -> dict[str, Any]:
    """The current draw of each category (null when not drawn yet), titles filled in."""
    titles: dict[str, Mapping[str, Any]] | None = None
    out: dict[str, Any] = {}
    for category in comp.category_ids:
        found = final.latest_draw(comp.id, category)
        if found is None:
            out[category] = None
            continue
        record = found.record
        if titles is None:
            titles = {c.id: c.body for c in cases.list_for_competition(comp.id)}
        out[category] = {
            "category": category, "category_name": _known(comp, category).name, "seed": record["seed"],
            "drawn_at": record.get("drawn_at"), "python": record.get("python"), "method": record.get("method"),
            "case_ids": record.get("case_ids", []),
            "order": [{"position": i, "case_id": cid, "title": titles.get(cid, {}).get("title", ""),
                       "recommending_unit": titles.get(cid, {}).get("recommending_unit", "")}
                      for i, cid in enumerate(record["order"], 1)],
        }
    return {"stage": FINAL, "draws": out}


def drawn_finalists(comp: Competition, category: str, *, cases: CaseRepository,
                    final: FinalRepository) -> list[Case] | None:
    """The category's finalists in the drawn order; None until the category is drawn."""
    found = final.latest_draw(comp.id, category)
    if found is None:
        return None
    finalists = {c.id: c for c in _finalists(cases, comp, category)}
    return [finalists[cid] for cid in presentation_order(found.record, list(finalists))]


def presentation_order(record: Mapping[str, Any] | None, case_ids: list[str]) -> list[str]:
    """The drawn order of the category's current finalists; cases the draw did not include come last."""
    current = set(case_ids)
    drawn = [cid for cid in (record["order"] if record else []) if cid in current]
    seen = set(drawn)
    return drawn + sorted(cid for cid in current if cid not in seen)


# -- the hall (现场控制) ------------------------------------------------------------------------------

LIVE_ACTIONS = ("present", "timer_start", "timer_stop", "reveal", "schedule")


def presentation(comp: Competition) -> live_rules.Presentation:
    return live_rules.presentation_from_config(comp.raw)


def live_state(final: FinalRepository, comp: Competition, category: str) -> tuple[live_rules.LiveState, int]:
    """The category's hall state and its sequence number (0: nothing done yet)."""
    found = final.latest_live(comp.id, category)
    return (live_rules.state_from_record(dict(found.record)), found.sequence) if found else (live_rules.LiveState(), 0)


def hall_action(judging: JudgingRepository, cases: CaseRepository, final: FinalRepository, comp: Competition,
                category: Any, action: Any, raw: Any, actor: str, now: datetime) -> dict[str, Any]:
    """One step of the live final, by the organiser: 选择现在展示的案例 (present), 计时开始 / 停止计时
    (timer_start / timer_stop), 亮分 (reveal) or the session's start time (schedule). Each change is a new
    logged state, refused if another change landed since the state it was made from."""
    category = _category(comp, category)
    if action not in LIVE_ACTIONS:
        raise Invalid("请指定现场操作 action：present（选择现在展示的案例）、timer_start（计时开始）、"
                      "timer_stop（停止计时）、reveal（亮分）或 schedule（现场开始时间）",
                      {"action": "没有这个现场操作"})
    raw = raw if isinstance(raw, dict) else {}
    state, sequence = live_state(final, comp, category)
    ts = epoch(now)
    try:
        if action == "present":
            finalists = [c.id for c in _finalists(cases, comp, category)]
            case_id = _case_id(raw)
            if case_id not in finalists:
                raise Invalid("只能选择本类别进入综合评选的案例", {"case_id": "不是本类别进入综合评选的案例"})
            after = live_rules.present(state, case_id, finalists, ts)
        elif action == "timer_start":
            after = live_rules.start_timer(state, ts)
        elif action == "timer_stop":
            after = live_rules.stop_timer(state, ts)
        elif action == "reveal":
            case_id = _case_id(raw)
            after = live_rules.reveal(state, case_id, _scores_count(judging, comp, category, case_id))
        else:
            after = live_rules.schedule(state, _starts_at(raw.get("starts_at")))
    except live_rules.LiveError as exc:
        raise Conflict(str(exc)) from None
    if after != state:
        final.save_live(comp.id, category, f"final.{action}", {"category": category, **after.record()},
                        state.record() if sequence else None, sequence, actor, ts)
    return scoreboard(judging, cases, final, comp, category, now)


def _case_id(raw: dict[str, Any]) -> str:
    case_id = raw.get("case_id")
    if not isinstance(case_id, str) or not case_id or len(case_id) > 100:
        raise Invalid("请选择案例", {"case_id": "请选择案例"})
    return case_id


def _scores_count(judging: JudgingRepository, comp: Competition, category: str, case_id: str) -> int:
    return sum(1 for s in judging.slots_of_category(comp.id, FINAL, category, case_id)
               if s.case_id == case_id and not s.recused and s.scored and s.total is not None)


def _starts_at(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    message = "请填写正确的开始时间，例如 2023-06-28 09:00"
    if not isinstance(value, str) or len(value) > 40:
        raise Invalid(message, {"starts_at": message})
    try:
        return parse_time(value.strip()).timestamp()
    except ValueError:
        raise Invalid(message, {"starts_at": message}) from None


# -- the scoreboard (the big screen and the control page) -------------------------------------------

def scoreboard(judging: JudgingRepository, cases_repo: CaseRepository, final: FinalRepository, comp: Competition,
               category: Any, now: datetime) -> dict[str, Any]:
    """Every finalist of the category in the drawn order. A judge's score, the dropped highest and lowest,
    the final score and the rank (over the revealed cases) only for cases the organiser has revealed;
    before that only whether each judge has scored."""
    category = _category(comp, category)
    cases = {c.id: c for c in _finalists(cases_repo, comp, category)}
    slots = [s for s in judging.slots_of_category(comp.id, FINAL, category) if not s.recused and s.case_id in cases]
    panel = sorted({s.judge_id for s in slots})
    label = {judge_id: f"评委{i}" for i, judge_id in enumerate(panel, 1)}
    by_case: dict[str, dict[str, Any]] = {}
    for slot in slots:
        by_case.setdefault(slot.case_id, {})[slot.judge_id] = slot
    settings = ranking_rules.from_config(comp.raw, FINAL)
    found = final.latest_draw(comp.id, category)
    state, _ = live_state(final, comp, category)
    rules = presentation(comp)
    order = presentation_order(found.record if found else None, list(cases))
    scores = {cid: [_judge_score(s) for s in by_case.get(cid, {}).values() if s.scored and s.criteria is not None]
              for cid in order}
    revealed = [cid for cid in order if state.is_revealed(cid)]
    ranked = {r.case_id: r for r in settings.rank({cid: scores[cid] for cid in revealed}, revealed)}
    rows = [_row(position, cases[cid], panel, label, by_case.get(cid, {}), scores[cid], settings, state,
                 ranked.get(cid), rules) for position, cid in enumerate(order, 1)]
    return {"stage": FINAL, "category": category, "category_name": _known(comp, category).name,
            "method": settings.method.value, "trim_min_scores": settings.trim_min_scores, "drawn": found is not None,
            "judges": [label[j] for j in panel], "cases": rows,
            "presenting": next((r for r in rows if r["presenting"]), None),
            "revealed_count": len(revealed), "timer": _timer(state, rules, now),
            "starts_at": _iso(state.starts_at), "presentation_minutes": rules.minutes}


def _row(position: int, case: Case, panel: list[str], label: dict[str, str], mine: dict[str, Any],
         scores: list[ranking_rules.JudgeScore], settings: ranking_rules.RankingSettings,
         state: live_rules.LiveState, ranked: ranking_rules.RankedCase | None,
         rules: live_rules.Presentation) -> dict[str, Any]:
    body = case.body
    shown = state.is_revealed(case.id)
    dropped = settings.dropped(scores) if shown else None
    marks = {dropped[0].judge_id: "highest", dropped[1].judge_id: "lowest"} if dropped else {}
    aggregate = ranked.aggregate if ranked is not None else None
    score = ranking_rules.score_display(aggregate)
    judges = []
    for judge_id in panel:
        slot = mine.get(judge_id)
        total = slot.total if slot is not None and slot.scored else None
        scored = total is not None
        judges.append({"label": label[judge_id], "assigned": slot is not None, "scored": scored,
                       "total": tenths_to_points(int(total)) if shown and total is not None else None,
                       "dropped": marks.get(judge_id)})
    return {
        "position": position, "case_id": case.id, "title": body.get("title", ""),
        "recommending_unit": body.get("recommending_unit", ""), "presenting": state.presenting == case.id,
        "revealed": shown, "judges": judges, "scored": len(scores), "assigned": len(mine),
        "complete": bool(mine) and len(scores) == len(mine), "score": score,
        "score_text": f"{score:.2f}" if score is not None else None,
        "rank": ranked.rank if ranked is not None and aggregate is not None else None,
        "tie": bool(ranked.tie) if ranked is not None and aggregate is not None else False,
        "expected_at": _iso(live_rules.expected_start(state.starts_at, rules, position)) if state.starts_at else None,
        "presentation": _presentation(case),
    }


def _presentation(case: Case) -> dict[str, Any] | None:
    """The case's 展示材料 (its file name; the control page opens it), or None."""
    found = current_presentation(case)
    return {"filename": found["filename"], "size": int(found["size"])} if found else None


def _timer(state: live_rules.LiveState, rules: live_rules.Presentation, now: datetime) -> dict[str, Any]:
    return {"total_seconds": rules.seconds, "warning_seconds": rules.warning_seconds,
            "elapsed_seconds": round(live_rules.timer_seconds(state, epoch(now)), 1),
            "started": state.timer_started_at is not None,
            "running": state.timer_started_at is not None and state.timer_stopped_at is None}


def _iso(epoch: float | None) -> str | None:
    return format_time(datetime.fromtimestamp(epoch, CHINA)) if epoch is not None else None


def _judge_score(slot: Any) -> ranking_rules.JudgeScore:
    criteria = slot.criteria.as_dict() if hasattr(slot.criteria, "as_dict") else dict(slot.criteria)
    return ranking_rules.JudgeScore(slot.judge_id, slot.case_id, {k: int(v) for k, v in criteria.items()})


# -- a judge's phone and a unit's cases --------------------------------------------------------------

def judge_cases(judging: JudgingRepository, cases: CaseRepository, final: FinalRepository, comp: Competition,
                judge_id: str) -> dict[str, Any]:
    """A final judge's assigned cases per category in the drawn order, the case now presenting first."""
    slots = [s for s in judging.slots_of_judge(comp.id, FINAL, judge_id) if not s.recused]
    groups = []
    for category in comp.category_ids:
        mine = {s.case_id: s for s in slots if s.category == category}
        if not mine:
            continue
        found = final.latest_draw(comp.id, category)
        state, _ = live_state(final, comp, category)
        positions = {cid: i for i, cid in enumerate(
            presentation_order(found.record if found else None, [c.id for c in _finalists(cases, comp, category)]), 1)}
        items = [{"id": cid, "title": slot.title or "", "category": category, "scored": bool(slot.scored),
                  "position": positions.get(cid), "presenting": cid == state.presenting}
                 for cid, slot in mine.items()]
        items.sort(key=lambda i: (not i["presenting"], i["position"] or len(positions) + 1, i["id"]))
        groups.append({"category": category, "category_name": _known(comp, category).name, "cases": items,
                       "presenting": state.presenting in mine, "drawn": found is not None})
    groups.sort(key=lambda g: not g["presenting"])
    return {"groups": groups, "scored": sum(1 for s in slots if s.scored), "total": len(slots),
            "signature": live_signature(judging, final, comp, judge_id, slots)}


def live_signature(judging: JudgingRepository, final: FinalRepository, comp: Competition, judge_id: str,
                   slots: list[Any] | None = None) -> str:
    """What a judge's list depends on that others change: the case now presenting in each of the judge's
    categories. The phone polls it and reloads when it changes."""
    if slots is None:
        slots = [s for s in judging.slots_of_judge(comp.id, FINAL, judge_id) if not s.recused]
    categories = [c for c in comp.category_ids if any(s.category == c for s in slots)]
    return ";".join(f"{c}:{live_state(final, comp, c)[0].presenting or ''}" for c in categories)


def presentations(cases_repo: CaseRepository, final: FinalRepository, comp: Competition,
                  cases: list[Case]) -> dict[str, dict[str, Any]]:
    """For a unit's finalists of a drawn category: the place in the presentation order, how many present,
    the expected start (once the organiser has set the session's start) and the time limit."""
    rules = presentation(comp)
    out: dict[str, dict[str, Any]] = {}
    mine = [c for c in cases if c.status == "advanced" and c.competition_id == comp.id]
    for category in comp.category_ids:
        ids = {c.id for c in mine if c.category_key.split("#", 1)[0] == category}
        found = final.latest_draw(comp.id, category) if ids else None
        if found is None:
            continue
        order = presentation_order(found.record, [c.id for c in _finalists(cases_repo, comp, category)])
        state, _ = live_state(final, comp, category)
        for position, case_id in enumerate(order, 1):
            if case_id in ids:
                out[case_id] = {
                    "category_name": _known(comp, category).name, "position": position, "count": len(order),
                    "minutes": rules.minutes,
                    "expected_at": _iso(live_rules.expected_start(state.starts_at, rules, position))
                    if state.starts_at else None}
    return out


def require_stage(stage: str) -> None:
    if stage != FINAL:
        raise NotFound("抽签只用于综合评选（final）阶段")
