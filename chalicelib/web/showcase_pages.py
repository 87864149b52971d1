"""优秀案例展示's pages: the public `/showcase` (a GET search form that works without script), the unit's
撤出成果展示 / 同意公开展示 on its case page and the organiser's 从成果展示中撤下 on the console's case page."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from ..domain.errors import Conflict, Invalid, VersionConflict
from ..lazy import lazy
from .admin_pages import ORGANISER, console_page
from .http import STATUS
from .html import FORM, Redirect, html, one, page, posted, query

if TYPE_CHECKING:
    from .. import bootstrap
    from ..domain import cases as case_rules, showcase as showcase_rules
    from ..services import console, showcase
else:
    bootstrap, case_rules, showcase_rules, console, showcase = lazy(
        __name__, "..bootstrap", "..domain.cases", "..domain.showcase", "..services.console", "..services.showcase",
    )

showcase_pages = Blueprint(__name__)
REFUSED = (Invalid, Conflict, VersionConflict)


@showcase_pages.route("/showcase", methods=["GET"])
@page
def shown_cases() -> Response:
    comp = bootstrap.competition()
    q, category = (query("q") or "")[:200], query("category") or ""
    names: dict[str, Any] = {"category_names": {c.id: c.name for c in comp.categories},
             "prize_names": {p["id"]: p["name"] for p in comp.raw.get("prizes", [])}}
    try:
        data = showcase.showcase(bootstrap.deps().results, bootstrap.deps().showcase, comp, q, category,
                                 bootstrap.now())
    except Invalid as e:
        data = {**showcase.showcase(bootstrap.deps().results, bootstrap.deps().showcase, comp, "", "", bootstrap.now()),
                "q": q, "category": category, "cases": []}
        return html("showcase.html", status=400, data=data, groups=[], errors=e.fields or {}, message=e.message,
                    searching=True, **names)
    return html("showcase.html", data=data, groups=showcase_rules.grouped(data["cases"]), errors={},
                searching=bool(q.strip() or category), **names)


@showcase_pages.route("/cases/{case_id}/showcase", methods=["POST"], content_types=FORM)
@page
def unit_consent(case_id: str) -> Response:
    who, form = posted()
    consent = one(form, "consent") == "1"
    showcase.set_consent(bootstrap.deps().cases, bootstrap.deps().showcase, who, case_id, {"consent": consent},
                         bootstrap.now())
    raise Redirect(f"/cases/{quote(case_id)}?done={'showcase_in' if consent else 'showcase_out'}")


@showcase_pages.route("/admin/cases/{case_id}/showcase", methods=["POST"], content_types=FORM)
@page
def organiser_shown(case_id: str) -> Response:
    """从成果展示中撤下 with its reason (required), or 恢复展示; a refusal shows the case page with the reason."""
    who, form = posted(ORGANISER)
    raw = {"shown": one(form, "shown") == "1", "reason": one(form, "reason")}
    try:
        showcase.set_shown(bootstrap.deps().cases, bootstrap.deps().showcase, case_id, raw, who.actor, bootstrap.now())
    except REFUSED as e:
        return console_page("case.html", who, "cases", STATUS[e.code],
                       detail=console.case_detail(bootstrap.deps().judging, bootstrap.competition(),
                                                  bootstrap.deps().cases, who, case_id),
                       genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS,
                       showcase_errors=e.fields or {}, showcase_message=e.message, showcase_reason=raw["reason"])
    raise Redirect(f"/admin/cases/{quote(case_id)}?done=showcase")
