"""The console's competition builder (竞赛届次): the list of every competition with 新建届次 and 复制上一届, and one
competition's settings as a plain server-rendered form (name, theme, hosts, contacts, categories with their
criteria and maxima, stage windows, the advance quota, prize bands, honors rules, form limits, attachment rules),
with 开始（发布）, 设为当前届次 and 结束本届.

Organiser session only, in the console's page framework (web/html.py: CSRF on every form, autoescape, POST → 303 →
GET); a refused form re-renders with each error beside its field; a part the competition's progress locks is
shown read-only with the reason. The saves are audited by the repository (services/competitions.py).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from ..domain.errors import Conflict, Invalid, StageClosed, VersionConflict
from ..lazy import lazy
from .html import FORM, Redirect, done_notice, html, one, page, posted, signed_in

if TYPE_CHECKING:
    from .. import bootstrap
    from ..domain import readable
    from ..services import competitions
else:
    bootstrap, readable, competitions = lazy(__name__, "..bootstrap", "..domain.readable", "..services.competitions")

competition_pages = Blueprint(__name__)

ORGANISER = ("organiser",)
REFUSED = (Invalid, Conflict, StageClosed, VersionConflict)
NOTICES = {
    "created": "已新建竞赛届次（草稿）。请检查各项设置，完成后点“开始（发布）”。", "saved": "竞赛设置已保存。",
    "started": "本届已开始（发布）。", "activated": "已设为当前届次：首页、报名和管理台均以本届为准。",
    "finished": "本届已结束，设置只能查看，导出仍可使用。",
}
STATE_BADGES = {"draft": "pending", "running": "open", "finished": "closed"}


def _status(error: Exception) -> int:
    return 409 if isinstance(error, (Conflict, StageClosed, VersionConflict)) else 400


def field_id(path: str) -> str:
    """The HTML id of the field of a definition path (categories[0].criteria[1].max → f-categories-0-criteria-1-max)."""
    return "f-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def _page(template: str, who: Any, status: int = 200, **context: Any) -> Response:
    return html(template, status=status, who=who, section="competitions", field_id=field_id,
                state_badges=STATE_BADGES, notice=context.pop("notice", done_notice(NOTICES)), **context)


# -- the list, 新建届次 and 复制上一届 -------------------------------------------------------------------

def _list_page(who: Any, status: int = 200, mode: str | None = None, values: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, message: str | None = None) -> Response:
    repo = bootstrap.deps().competitions
    rows = competitions.listing(repo, who)
    return _page("admin_competitions.html", who, status, rows=rows, mode=mode, values=values or {},
                 errors=errors or {}, message=message,
                 sources=[r for r in rows if r["status"] != "draft"] or rows)


@competition_pages.route("/admin/competitions", methods=["GET"])
@page
def competition_list() -> Response:
    return _list_page(signed_in(ORGANISER))


@competition_pages.route("/admin/competitions", methods=["POST"], content_types=FORM)
@page
def create_competition() -> Response:
    who, form = posted(ORGANISER)
    mode = "copy" if one(form, "mode") == "copy" else "blank"
    values = {k: one(form, k).strip() for k in ("copy_from", "name", "year")}
    year_text = values["year"]
    year: Any = int(year_text) if year_text.isdigit() and len(year_text) == 4 else year_text or None
    try:
        made = competitions.create(bootstrap.deps().competitions, who,
                                   (values["copy_from"] or "") if mode == "copy" else None, values["name"], year,
                                   bootstrap.now())
    except REFUSED as e:
        errors = dict(e.fields or {})
        if mode == "copy" and not values["copy_from"]:
            errors["copy_from"] = "请选择要复制的竞赛届次"
        return _list_page(who, _status(e), mode, values, errors, e.message)
    raise Redirect(f"/admin/competitions/{made.id}?done=created")


# -- one competition's settings ------------------------------------------------------------------------

def _edit_page(who: Any, competition_id: str, status: int = 200, values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, message: str | None = None) -> Response:
    deps = bootstrap.deps()
    now = bootstrap.now()
    record, rows, scored = competitions.edit_inputs(competitions.get(deps.competitions, who, competition_id),
                                                    deps.stages, deps.judging, now)
    state = competitions.progress(record, rows, now, scored)
    sections = competitions.builder_form(record, state, competitions.feed_choices(deps.competitions, record.id))
    errors = errors or {}
    fields = {f["path"] for s in sections for g in s["groups"] for f in g["fields"]}
    groups = [g["key"] for s in sections for g in s["groups"] if g["key"]]

    def placed(key: str) -> bool:
        return key in fields or key == "state" or any(key == g or key.startswith((f"{g}.", f"{g}[")) for g in groups)

    return _page("admin_competitions_edit.html", who, status, record=record, sections=sections,
                 values=values or {}, errors=errors, message=message,
                 other_errors={k: v for k, v in errors.items() if not placed(k)},
                 current=competitions.current_id(deps.competitions) == record.id,
                 updated=readable.when(record.updated_at) if record.updated_at else "")


@competition_pages.route("/admin/competitions/{competition_id}", methods=["GET"])
@page
def competition_settings(competition_id: str) -> Response:
    return _edit_page(signed_in(ORGANISER), competition_id)


@competition_pages.route("/admin/competitions/{competition_id}", methods=["POST"], content_types=FORM)
@page
def save_competition(competition_id: str) -> Response:
    who, form = posted(ORGANISER)
    deps = bootstrap.deps()
    now = bootstrap.now()
    record, rows, scored = competitions.edit_inputs(competitions.get(deps.competitions, who, competition_id),
                                                    deps.stages, deps.judging, now)
    kinds = competitions.form_paths(competitions.builder_form(record, competitions.progress(
        record, rows, now, scored), competitions.feed_choices(deps.competitions, record.id)))
    changes = competitions.form_changes(record, kinds, form)
    version = one(form, "version")
    try:
        competitions.edit(deps.competitions, who, competition_id, changes,
                          int(version) if version.isdigit() else version, rows, now, scored, deps.stages)
    except REFUSED as e:
        values = {path: (form.get(path) or [""]) if kind == "checks" else one(form, path)
                  for path, kind in kinds.items()}
        return _edit_page(who, competition_id, _status(e), values, dict(e.fields or {}), e.message)
    raise Redirect(f"/admin/competitions/{competition_id}?done=saved")


def _state_move(competition_id: str, move: str) -> Response:
    who, form = posted(ORGANISER)
    deps = bootstrap.deps()
    now = bootstrap.now()
    try:
        if move == "activated":
            competitions.activate_with_stages(deps.competitions, deps.stages, who, competition_id, now)
        else:
            record = competitions.get(deps.competitions, who, competition_id)
            _, rows, _ = competitions.edit_inputs(record, deps.stages, deps.judging, now)
            version = one(form, "version")
            action = competitions.start if move == "started" else competitions.finish
            action(deps.competitions, who, competition_id, int(version) if version.isdigit() else version, rows, now)
    except REFUSED as e:
        return _edit_page(who, competition_id, _status(e), errors=dict(e.fields or {}), message=e.message)
    raise Redirect(f"/admin/competitions/{competition_id}?done={move}")


@competition_pages.route("/admin/competitions/{competition_id}/start", methods=["POST"], content_types=FORM)
@page
def start_competition(competition_id: str) -> Response:
    return _state_move(competition_id, "started")


@competition_pages.route("/admin/competitions/{competition_id}/activate", methods=["POST"], content_types=FORM)
@page
def activate_competition(competition_id: str) -> Response:
    return _state_move(competition_id, "activated")


@competition_pages.route("/admin/competitions/{competition_id}/finish", methods=["POST"], content_types=FORM)
@page
def finish_competition(competition_id: str) -> Response:
    return _state_move(competition_id, "finished")
