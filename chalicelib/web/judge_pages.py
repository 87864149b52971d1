"""HTML pages of judging and of the live final, on the same services as the JSON API.

Judges: `/j/<link token>` shows who and which stage and changes nothing; its button 开始评分 POSTs the
token in a form field to /judge/start, which exchanges it for a judge session in the HttpOnly cookie
`sp_session` (tokens never travel in query strings). Then /judge (the assigned cases, 已评 n / m) and
/judge/cases/{id} (the case, attachments, the rubric's scoring form or the coaching feedback form, recusal).
Units: the coaching feedback (专家1, 专家2 …) with point-by-point replies, and the case's versions.
Organisers: the judges' QR codes and the judges' .xlsx template and import (the live final's pages:
final_pages.py).

Every page sends the security headers of pages.py (Referrer-Policy: no-referrer, Cache-Control: no-store).
"""
from __future__ import annotations

import logging
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response

from ..domain.errors import DomainError, Invalid, StageClosed, Unauthenticated
from ..lazy import lazy_module
from ..security import same
from .http import SECURITY_HEADERS, SESSION_COOKIE, STATUS, cookies
from .pages import (
    CSRF_MESSAGE, FORM, PageError, Redirect, _anon_form, _anon_token, _cookie, _end_previous_session, _form,
    _one, _posted, _who, html, page, page_decorator, redirect, template_download,
)
from .templating import _digest, static_response

bootstrap = lazy_module("chalicelib.bootstrap")
mail_queue = lazy_module("chalicelib.jobs.mail_queue")
case_rules = lazy_module("chalicelib.domain.cases")
competition_rules = lazy_module("chalicelib.domain.competition")
attachments = lazy_module("chalicelib.services.attachments")
cases = lazy_module("chalicelib.services.cases")
coaching = lazy_module("chalicelib.services.coaching")
judge_import = lazy_module("chalicelib.services.judge_import")
judging = lazy_module("chalicelib.services.judging")
portal = lazy_module("chalicelib.services.judge_portal")
scoring = lazy_module("chalicelib.services.scoring")

log = logging.getLogger("saiping")
judge_pages = Blueprint(__name__)

STATIC = {"judge.css": "text/css; charset=utf-8", "judge.js": "text/javascript; charset=utf-8",
          "judge-draft.js": "text/javascript; charset=utf-8"}
NOTICES = {"saved": "评分已保存。", "feedback": "辅导意见已提交。", "recused": "已回避该案例，主办单位会另行安排。",
           "replied": "回复已保存。"}
JUDGE_HEADINGS = {400: "请求有误", 401: "评分链接无效或已过期", 403: "无法完成操作", 404: "没有找到",
                  409: "操作冲突", 413: "内容过大", 503: "服务繁忙"}


def judge_static(name: str) -> str:
    return f"/static/judge/{name}?v={_digest(name)}"


def _html(template_name: str, **context: Any) -> Response:
    comp = bootstrap.competition()
    return html(f"judge/{template_name}", judge_static=judge_static, stage_names=_stage_names(),
                round_names={w.id: comp.round_name(w.id) for w in comp.default_windows},
                is_coaching=competition_rules.is_coaching,
                category_names={c.id: c.name for c in comp.categories}, **context)


def _stage_names() -> dict[str, str]:
    return {w.id: w.name for w in bootstrap.competition().default_windows}


def _request() -> Any:
    return judge_pages.current_request


def _query(key: str) -> str | None:
    return (_request().query_params or {}).get(key)


def _judge_error(status: int, message: str) -> Response:
    return _html("error.html", status=status, status_code=status, heading=JUDGE_HEADINGS.get(status, "出错了"),
                 message=message)


# A bad link or an ended session is a Chinese 401 page here (judges have no login page to go to).
judge_page = page_decorator(_judge_error, unauthenticated_to_login=False)


# -- judges: the link and the session ----------------------------------------------------------------

@judge_pages.route("/j/{token}", methods=["GET"])
@judge_page
def landing(token: str) -> Response:
    """Who and which stage; nothing is created or written (only the form's CSRF cookie is set)."""
    comp, now = bootstrap.competition(), bootstrap.now_dt()
    preview = portal.preview_link(comp, bootstrap.config(), token, now)
    csrf, set_cookies = _anon_token()
    return _html("landing.html", preview=preview, link=token, csrf_token=csrf, set_cookies=set_cookies,
                 opens_at=competition_rules.format_time(preview.window.opens_at),
                     closes_at=competition_rules.format_time(preview.window.closes_at),
                 window_status=preview.window.status(now))


@judge_pages.route("/judge/start", methods=["POST"], content_types=FORM)
@judge_page
def start() -> Response:
    form = _anon_form()
    now = bootstrap.now_dt()
    session = judging.open_judge_session(bootstrap.competition(), bootstrap.config(), _one(form, "link"), now)
    _end_previous_session()
    cookie = _cookie(SESSION_COOKIE, session.token, max_age=max(0, int(session.expires_at - now.timestamp())))
    return redirect("/judge", [cookie])


def _judge() -> scoring.JudgePrincipal:
    return scoring.authenticate_judge(cookies(_request()).get(SESSION_COOKIE), bootstrap.now())


def _judge_posted() -> tuple[scoring.JudgePrincipal, dict[str, list[str]]]:
    who = _judge()
    form = _form()
    if not same(_one(form, "csrf_token"), who.csrf):
        raise PageError(403, CSRF_MESSAGE)
    return who, form


def _bar(who: scoring.JudgePrincipal) -> dict[str, Any]:
    comp = bootstrap.competition()
    return {"name": portal.judge_name(comp, who.judge_id), "stage": who.stage,
            "stage_name": comp.round_name(who.stage), "csrf": who.csrf}


@judge_pages.route("/judge/logout", methods=["POST"], content_types=FORM)
@judge_page
def judge_logout() -> Response:
    try:
        who, _ = _judge_posted()
    except Unauthenticated:
        who = None
    if who is not None:
        from ..services.accounts import Principal, logout
        logout(Principal(role="judge", token_hash=who.token_hash, judge_id=who.judge_id), bootstrap.now())
    return _html("error.html", status=200, status_code=200, heading="已退出评分", message="您已退出评分。如需继续，请重新打开评分链接。",
                 set_cookies=[_cookie(SESSION_COOKIE, "", max_age=0)])


@judge_pages.route("/judge", methods=["GET"])
@judge_page
def my_cases() -> Response:
    who = _judge()
    if who.stage == "final":   # the live final: the drawn order, the case now presenting on top
        from .final_pages import final_cases_page
        return final_cases_page(who, NOTICES.get(_query("done") or ""))
    found = scoring.my_cases(who)["cases"]
    window = portal.stage_window(bootstrap.competition(), who.stage)
    now = bootstrap.now_dt()
    return _html("cases.html", bar=_bar(who), cases=found, scored=sum(1 for c in found if c["scored"]),
                 total=len(found), window_status=window.status(now),
                     closes_at=competition_rules.format_time(window.closes_at),
                 notice=NOTICES.get(_query("done") or ""), draft_done=_query("done") in ("saved", "feedback"))


# -- judges: a case ----------------------------------------------------------------------------------

def _download(case: Any, attachment_id: str) -> str:
    return f"/judge/cases/{quote(case.id)}/attachments/{quote(attachment_id)}"


def _case_page(who: scoring.JudgePrincipal, case_id: str, status: int = 200, error: DomainError | None = None,
               values: dict[str, str] | None = None, comment: str | None = None, points: list[str] | None = None,
               reason: str = "", form: str = "") -> Response:
    comp = bootstrap.competition()
    view, _, window = portal.case_page(comp, who, case_id, _download)
    category = comp.category(view.get("category", ""))
    mine = view["my_score"] or {}
    if values is None:
        values = {k: _plain(v) for k, v in (mine.get("criteria") or {}).items()}
    errors = dict(error.fields or {}) if error else {}
    open_now = window.is_open(bootstrap.now_dt())
    saved = _saved_pairs(who.stage, category, mine, view["my_feedback"])
    return _html(
        "case.html", status=status, bar=_bar(who), case=view, category=category, values=values,
        comment=(mine.get("comment") or "") if comment is None else comment,
        points=points if points is not None else (view["my_feedback"] or [""]),
        reason=reason, errors=errors, message=error.message if error else None, form=form,
        scoring_stage=not competition_rules.is_coaching(who.stage), open_now=open_now,
        window_name=comp.round_name(who.stage),
        closes_at=competition_rules.format_time(window.closes_at), genders=case_rules.GENDERS,
        rank_levels=case_rules.RANK_LEVELS,
        total=_total(values), max_total=sum(k.max for k in category.criteria) if category else 0,
        draft_key=f"saiping-draft:{who.judge_id}:{who.stage}:{case_id}", saved=saved,
    )


def _saved_pairs(stage: str, category: Any, score: dict[str, Any], feedback: list[str] | None) -> list | None:
    """What the judge has saved, as the form's [name, value] pairs in field order (judge-draft.js compares a
    draft with it, to show 已保存 / 未保存); None while nothing is saved."""
    if competition_rules.is_coaching(stage):
        return [["points", p] for p in feedback] if feedback else None
    if not score or category is None:
        return None
    criteria = score.get("criteria") or {}
    return [[f"criteria.{k.id}", _plain(criteria[k.id]) if k.id in criteria else ""] for k in category.criteria] + \
        [["comment", score.get("comment") or ""]]


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _total(values: dict[str, str]) -> str:
    total = Decimal(0)
    for text in values.values():
        number = _number(text)
        if isinstance(number, (int, float)):
            total += Decimal(str(number))
    return _plain(float(total))


def _number(text: str) -> Any:
    """A typed score as a JSON number (27.5 -> 27.5, 30 -> 30); blank -> None; anything else stays text,
    so the service reports it (应为数字) beside its field."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not value:
        return None
    if len(value) > 20:
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    if number == number.to_integral_value():
        return int(number)
    as_float = float(number)
    return as_float if Decimal(str(as_float)) == number else value


@judge_pages.route("/judge/cases/{case_id}", methods=["GET"])
@judge_page
def judge_case(case_id: str) -> Response:
    return _case_page(_judge(), case_id)


@judge_pages.route("/judge/cases/{case_id}/score", methods=["POST"], content_types=FORM)
@judge_page
def save_score(case_id: str) -> Response:
    who, form = _judge_posted()
    values = {key[len("criteria."):]: _one(form, key) for key in form if key.startswith("criteria.")}
    comment = _one(form, "comment")
    raw = {"criteria": {k: _number(v) for k, v in values.items() if _number(v) is not None}, "comment": comment}
    try:
        scoring.save_score(bootstrap.competition(), who, case_id, raw, bootstrap.now())
    except (Invalid, StageClosed) as e:
        return _case_page(who, case_id, STATUS[e.code], e, values=values, comment=comment, form="score")
    raise Redirect("/judge?done=saved")


@judge_pages.route("/judge/cases/{case_id}/feedback", methods=["POST"], content_types=FORM)
@judge_page
def save_feedback(case_id: str) -> Response:
    who, form = _judge_posted()
    points = [p.replace("\r\n", "\n").strip() for p in form.get("points", [])]
    points = [p for p in points if p]
    try:
        scoring.save_feedback(bootstrap.competition(), who, case_id, {"points": points}, bootstrap.now())
    except (Invalid, StageClosed) as e:
        return _case_page(who, case_id, STATUS[e.code], e, points=points or [""], form="feedback")
    raise Redirect("/judge?done=feedback")


@judge_pages.route("/judge/cases/{case_id}/recuse", methods=["POST"], content_types=FORM)
@judge_page
def recuse(case_id: str) -> Response:
    """回避 in two steps, without script: the first POST (the case page's form) only shows what will happen
    and asks to confirm; the confirm page's POST (confirm=yes) recuses."""
    who, form = _judge_posted()
    reason = _one(form, "reason")
    comp, now = bootstrap.competition(), bootstrap.now()
    try:
        if _one(form, "confirm") != "yes":
            slot, clean = scoring.check_recusal(comp, who, case_id, {"reason": reason}, now)
            return _html("recuse_confirm.html", bar=_bar(who), case_id=case_id, title=slot.title, reason=clean)
        scoring.recuse(comp, who, case_id, {"reason": reason}, now)
    except (Invalid, StageClosed) as e:
        return _case_page(who, case_id, STATUS[e.code], e, reason=reason, form="recuse")
    raise Redirect("/judge?done=recused")


@judge_pages.route("/judge/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@judge_page
def judge_download(case_id: str, attachment_id: str) -> Response:
    """A plain link that forwards to a fresh presigned download (the page may have been open a while)."""
    who = _judge()
    presign = partial(attachments.judge_download_url, bootstrap.files(), bootstrap.config().download_url_seconds)
    view = portal.case_page(bootstrap.competition(), who, case_id, presign)[0]
    url = next((a["url"] for a in view["attachments"] if a["attachment_id"] == attachment_id), None)
    if url is None:
        raise PageError(404, "没有这个附件（或尚未完成上传）")
    return Response(body="", status_code=302, headers={"Location": url, **SECURITY_HEADERS})


# -- units: coaching feedback and versions -----------------------------------------------------------

@judge_pages.route("/cases/{case_id}/feedback", methods=["GET"])
@page
def unit_feedback(case_id: str) -> Response:
    who = _who(("unit", "organiser"))
    return _feedback_page(who, case_id, notice=NOTICES.get(_query("done") or ""))


def _feedback_page(who: Any, case_id: str, status: int = 200, error: DomainError | None = None,
                   typed: dict[str, str] | None = None, notice: str | None = None) -> Response:
    comp = bootstrap.competition()
    view = coaching.feedback(comp, who, case_id, bootstrap.now_dt())
    case = cases.case_view(cases.get(bootstrap.case_repository(), who, case_id))
    return _html("feedback.html", status=status, who=who, case=case, view=view, typed=typed or {},
                 errors=dict(error.fields or {}) if error else {}, message=error.message if error else None,
                 notice=notice)


@judge_pages.route("/cases/{case_id}/feedback", methods=["POST"], content_types=FORM)
@page
def unit_reply(case_id: str) -> Response:
    who, form = _posted()
    typed = {key[len("reply."):]: _one(form, key) for key in form if key.startswith("reply.")}
    try:
        coaching.save_replies(bootstrap.competition(), who, case_id, {"replies": typed}, bootstrap.now_dt())
    except (Invalid, StageClosed) as e:
        return _feedback_page(who, case_id, STATUS[e.code], e, typed)
    raise Redirect(f"/cases/{quote(case_id)}/feedback?done=replied")


@judge_pages.route("/cases/{case_id}/versions", methods=["GET"])
@page
def versions(case_id: str) -> Response:
    who = _who(("unit", "organiser"))
    return _html("versions.html", who=who, view=coaching.versions(who, case_id))


@judge_pages.route("/cases/{case_id}/versions/{version}", methods=["GET"])
@page
def version(case_id: str, version: str) -> Response:
    who = _who(("unit", "organiser"))
    if not version.isdigit() or len(version) > 6:
        raise PageError(404, "没有这个版本")
    old = cases.version_view(bootstrap.case_repository(), who, case_id, int(version))
    return _html("version.html", who=who, case=old, genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS,
                 status_names=case_rules.STATUS_NAMES)


# -- organiser: the judges' QR sheet (the live final's pages are in final_pages.py) ----------------------

def _qr_stage(stage_id: str) -> str:
    if stage_id not in judging.JUDGED_STAGES:
        raise PageError(404, "评分链接只用于文本评审、专家辅导、综合评选和赛前辅导")
    return stage_id


@judge_pages.route("/admin/stages/{stage_id}/links/qr", methods=["GET"])
@page
def qr_form(stage_id: str) -> Response:
    who = _who(("organiser",))
    stage = _qr_stage(stage_id)
    return _html("qr.html", who=who, section="links", stage=stage,
                 stage_name=bootstrap.competition().stage_name(stage), sheets=None)


@judge_pages.route("/admin/stages/{stage_id}/links/qr", methods=["POST"], content_types=FORM)
@page
def qr_sheet(stage_id: str) -> Response:
    """One QR code per link in force, the very link that was mailed: nothing is revoked. Judges assigned
    without a link in force get one first (mailed as usual)."""
    import segno

    who, _ = _posted(("organiser",))
    comp, cfg, now = bootstrap.competition(), bootstrap.config(), bootstrap.now_dt()
    stage = _qr_stage(stage_id)
    new = judging.issue_missing_links(comp, cfg, stage, who.actor, now)
    if new:
        mail_queue.start()
    links, unshown = judging.links_in_force(comp, cfg, stage, who.actor, now.timestamp())
    judges = {j.judge_id: j for j in judging.list_judges(comp)}
    sheets = []
    for link in links:
        judge = judges.get(link.judge_id)
        name = judge.name if judge else "评委"
        svg = segno.make(link.url, error="m").svg_inline(scale=4, border=2)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(name)}的评分链接二维码" ', 1)
        sheets.append({"judge_id": link.judge_id, "name": name, "affiliation": judge.affiliation if judge else "",
                       "svg": svg, "expires_at": link.expires_at})
    sheets.sort(key=lambda s: (s["name"], s["judge_id"]))
    return _html("qr.html", who=who, section="links", stage=stage, stage_name=comp.stage_name(stage),
                 sheets=sheets, new_count=len(new), unshown=[judges[j].name if j in judges else "评委" for j in unshown])


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


# -- organiser: judges' spreadsheet -------------------------------------------------------------------

@judge_pages.route("/admin/judges/template.xlsx", methods=["GET"])
@page
def judges_template() -> Response:
    _who(("organiser",))
    return template_download("judges-template.xlsx", "评委名单导入模板.xlsx",
                             judge_import.template(bootstrap.competition()))


@judge_pages.route("/admin/judges/import", methods=["GET"])
@page
def judges_import() -> Response:
    who = _who(("organiser",))
    found = sorted(judging.list_judges(bootstrap.competition()), key=lambda j: (j.name, j.judge_id))
    return _html("judges_import.html", who=who, section="judges", judges=[judging.judge_view(j) for j in found])


# -- static -----------------------------------------------------------------------------------------

@judge_pages.route("/static/judge/{name}", methods=["GET"])
def static(name: str) -> Response:
    return static_response(name, STATIC, (judge_pages.current_request.query_params or {}).get("v"), SECURITY_HEADERS)
