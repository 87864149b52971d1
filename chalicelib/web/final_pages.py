"""HTML pages of the live final (综合评选现场), on the same services as the JSON API.

Organisers (console pages, with the console menu): 现场控制 (/admin/final/control: per category, the case
now presenting, its 8-minute timer, which judges have scored it, 亮分), the draw (抽签) and the
stand-alone presentation timer. The big screen (/admin/final/scoreboard) is the projector's page: the
organiser opens it logged in (the session is the HttpOnly cookie, never a token in the URL) and it
updates itself from a server-rendered fragment, so aggregates and ranks are rendered in one place only.
Final judges: /judge lists their cases in the drawn order, the case now presenting on top.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from ..domain.competition import format_time
from ..domain.errors import Conflict, DomainError, Invalid
from ..lazy import lazy
from .http import SECURITY_HEADERS, STATUS
from .html import (
    PageError, Redirect, current_request, done_notice, html, judge_bar, judge_competition, judge_html, one, page,
    posted, query, signed_in,
)
from .templating import static_digest, static_response

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import final_stage, judge_portal as portal
else:
    bootstrap, final_stage, portal = lazy(__name__, "..bootstrap", "..services.final_stage", "..services.judge_portal")

final_pages = Blueprint(__name__)

ORGANISER = ("organiser",)
STATIC = {"final.js": "text/javascript; charset=utf-8"}
NOTICES = {"drawn": "抽签完成，结果已记录。", "present": "已设为现在展示的案例。", "timer_start": "计时已开始。",
           "timer_stop": "计时已停止。", "reveal": "已亮分，大屏正在显示该案例的得分。",
           "schedule": "现场开始时间已保存。"}
BOARD_PAGE_ROWS = 15   # rows of one big-screen page: 15 cases fit 1080 px; more page through by themselves


def final_static(name: str) -> str:
    return f"/static/final/{name}?v={static_digest(name)}"


def _category() -> str:
    """The category asked for (the first one by default); an unknown one is a 404 page, not an error box."""
    comp = bootstrap.competition()
    category = query("category") or comp.category_ids[0]
    if comp.category(category) is None:
        raise PageError(404, "没有这个案例类别")
    return category


def _page(template: str, who: Any, status: int = 200, **context: Any) -> Response:
    return judge_html(template, status=status, who=who, section="final", final_static=final_static, **context)


# -- 现场控制 -----------------------------------------------------------------------------------------

@final_pages.route("/admin/final/control", methods=["GET"])
@page
def control() -> Response:
    who = signed_in(ORGANISER)
    return _control_page(who, _category(), notice=done_notice(NOTICES))


def _control_page(who: Any, category: str, status: int = 200, error: DomainError | None = None,
                  values: dict[str, str] | None = None, notice: str | None = None) -> Response:
    comp = bootstrap.competition()
    board = final_stage.scoreboard(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.deps().final, comp,
                                   category, bootstrap.now())
    return _page("control.html", who, status=status, board=board, rules=final_stage.presentation(comp),
                 values=values or {}, errors=dict(error.fields or {}) if error else {},
                 message=error.message if error else None, notice=notice)


@final_pages.route("/admin/final/control", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
@page
def control_action() -> Response:
    """One button of the control page (its `action` field); a refusal shows the page again with the reason."""
    who, form = posted(ORGANISER)
    comp = bootstrap.competition()
    category, action = one(form, "category"), one(form, "action")
    if comp.category(category) is None:
        raise PageError(404, "没有这个案例类别")
    values = {"case_id": one(form, "case_id"), "starts_at": one(form, "starts_at").strip()}
    raw = {"case_id": values["case_id"] or None, "starts_at": values["starts_at"]}
    try:
        final_stage.hall_action(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.deps().final, comp,
                                category, action, raw, who.actor, bootstrap.now())
    except (Invalid, Conflict) as e:
        return _control_page(who, category, STATUS[e.code], e, values)
    raise Redirect(f"/admin/final/control?category={quote(category)}&done={quote(action)}")


@final_pages.route("/admin/final/control/status", methods=["GET"])
@page
def control_status() -> Response:
    """The control page's live part (presenting case, timer, who has scored), polled by final.js."""
    who = signed_in(ORGANISER)
    board = final_stage.scoreboard(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.deps().final,
                                   bootstrap.competition(), _category(), bootstrap.now())
    return html("judge/_control_status.html", who=who, board=board)


# -- the big screen -----------------------------------------------------------------------------------

@final_pages.route("/admin/final/scoreboard", methods=["GET"])
@page
def scoreboard() -> Response:
    who = signed_in(ORGANISER)
    return judge_html("scoreboard.html", who=who, board=_board(_category()), final_static=final_static,
                 page_rows=BOARD_PAGE_ROWS)


@final_pages.route("/admin/final/scoreboard/board", methods=["GET"])
@page
def scoreboard_fragment() -> Response:
    who = signed_in(ORGANISER)
    return html("judge/_board.html", who=who, board=_board(_category()), page_rows=BOARD_PAGE_ROWS)


def _board(category: str) -> dict[str, Any]:
    return final_stage.scoreboard(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.deps().final,
                                  bootstrap.competition(), category, bootstrap.now())


# -- the draw and the stand-alone timer ---------------------------------------------------------------

@final_pages.route("/admin/final/draw", methods=["GET"])
@page
def draw_page() -> Response:
    who = signed_in(ORGANISER)
    return _draw_page(who, notice=done_notice(NOTICES))


def _draw_page(who: Any, status: int = 200, error: DomainError | None = None, values: dict[str, str] | None = None,
               notice: str | None = None) -> Response:
    return _page("draw.html", who, status=status,
                 data=final_stage.draws(bootstrap.deps().cases, bootstrap.deps().final, bootstrap.competition()),
                 values=values or {}, errors=dict(error.fields or {}) if error else {},
                 message=error.message if error else None, notice=notice)


@final_pages.route("/admin/final/draw", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
@page
def draw() -> Response:
    who, form = posted(ORGANISER)
    values = {"category": one(form, "category"), "seed": one(form, "seed").strip()}
    raw = {"category": values["category"] or None, "seed": values["seed"] or None}
    try:
        final_stage.draw(bootstrap.deps().cases, bootstrap.deps().final, bootstrap.competition(), raw, who.actor,
                         bootstrap.now())
    except Invalid as e:
        return _draw_page(who, 400, e, values)
    raise Redirect("/admin/final/draw?done=drawn")


@final_pages.route("/admin/final/timer", methods=["GET"])
@page
def timer() -> Response:
    who = signed_in(ORGANISER)
    rules = final_stage.presentation(bootstrap.competition())
    return _page("timer.html", who, seconds=rules.seconds, warn_seconds=rules.warning_seconds)


# -- a final judge's list (called by /judge) ----------------------------------------------------------

def final_cases_page(who: Any, notice: str | None) -> Response:
    """A final judge's /judge: the cases of each of the judge's categories in the drawn order, the case now
    presenting on top (现在展示); the page polls what it depends on and reloads when that changes."""
    comp, now = judge_competition(who), bootstrap.now()
    window = portal.stage_window(comp, who.stage, stages=bootstrap.deps().stages)
    listing = final_stage.judge_cases(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.deps().final, comp,
                                      who.judge_id)
    return judge_html("final_cases.html", comp=comp, bar=judge_bar(who), listing=listing, notice=notice,
                 final_static=final_static,
                 window_status=window.status(now), closes_at=format_time(window.closes_at))


# -- static -------------------------------------------------------------------------------------------

@final_pages.route("/static/final/{name}", methods=["GET"])
def static(name: str) -> Response:
    return static_response(name, STATIC, (current_request().query_params or {}).get("v"), SECURITY_HEADERS)

