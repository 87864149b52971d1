"""优秀案例展示: the public page's cases (once the final is closed), the unit's consent on its case page and the
organiser's 撤下. Reads: the stage rows (one Query) and the awarded cases (one Query); no Scan."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import showcase as rules
from ..domain.competition import Competition, StageId, format_time
from ..domain.errors import Forbidden, NotFound
from ..domain.case_record import Case
from . import cases as case_service
from . import stages as stage_service
from .accounts import Principal
from .repositories import CaseRepository, ResultRepository, ShowcaseRepository


def _prize_ids(comp: Competition) -> tuple[str, ...]:
    return tuple(p["id"] for p in comp.raw.get("prizes", []))


def showcase(results: ResultRepository, showcases: ShowcaseRepository, comp: Competition, raw_q: Any,
             raw_category: Any, now: datetime) -> dict[str, Any]:
    """The shown cases that match the search, in order (category, prize, the final's rank); before the final is
    closed none (`open` false) and the time it is due to close (`opens_at`). Reads: the final's stage row and its
    stored rankings (one BatchGetItem), the awarded cases (one Query)."""
    terms, category = rules.search_terms(raw_q, raw_category, comp.category_ids)
    row, rankings = results.stage_and_rankings(comp.id, StageId.FINAL, comp.category_ids)
    final = stage_service.windows_from_rows(comp, [row] if row is not None else [])[StageId.FINAL]
    opened = final.status(now) == "closed"
    shown = _shown(showcases, comp) if opened else []
    found = [e for e in shown if rules.matches(e, terms, category)]
    ranks = {e["case_id"]: e["rank"] for r in rankings.values() if r is not None for e in r.entries}
    return {"open": opened, "opens_at": format_time(final.closes_at), "q": raw_q if isinstance(raw_q, str) else "",
            "category": category, "count": len(found), "total": len(shown),
            "cases": rules.ordered(found, comp.category_ids, _prize_ids(comp), ranks)}


def _shown(showcases: ShowcaseRepository, comp: Competition) -> list[dict[str, Any]]:
    category_names = {c.id: c.name for c in comp.categories}
    prize_names = {p["id"]: p["name"] for p in comp.raw.get("prizes", [])}
    shown = []
    for case in showcases.awarded(comp.id):
        body = dict(case.body)
        if rules.on_show(case.status, body.get("showcase_consent", False), case.showcase_choice, case.showcase_hidden):
            shown.append(rules.entry(case.id, body, case.prize, category_names, prize_names))
    return shown


def state(case: Case) -> dict[str, Any]:
    """The case's showcase marks (the case's JSON `showcase`)."""
    return rules.state_of(case.status, bool(case.body.get("showcase_consent", False)),
                          case.showcase_choice, case.showcase_hidden, case.showcase_hidden_reason)


def set_consent(cases: CaseRepository, showcases: ShowcaseRepository, principal: Principal, case_id: str, raw: Any,
                now: datetime) -> dict[str, Any]:
    """The unit takes its case out of the showcase or puts it back (its own case only; at any time)."""
    if principal.role != "unit":
        raise Forbidden("只有案例所属单位可以同意或撤出成果展示")
    consent = rules.flag(raw, "consent", "是否同意在成果展示中公开")
    case = case_service.get(cases, principal, case_id)
    if state(case)["consent"] != consent:
        case = showcases.set_choice(case, consent, principal.actor, now)
    return {"case_id": case.id, **state(case)}


def set_shown(cases: CaseRepository, showcases: ShowcaseRepository, case_id: str, raw: Any, actor: str,
              now: datetime) -> dict[str, Any]:
    """The organiser takes a case down from the showcase (with a reason) or puts it back."""
    shown = rules.flag(raw, "shown", "是否在成果展示中展示")
    reason = rules.hide_reason(raw.get("reason"), shown)
    case = cases.get(case_id)
    if case is None:
        raise NotFound("没有找到这个案例")
    if bool(case.showcase_hidden) != (not shown) or (not shown and reason != case.showcase_hidden_reason):
        case = showcases.set_hidden(case, not shown, reason, actor, now)
    return {"case_id": case.id, **state(case)}
