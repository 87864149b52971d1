"""The judge's pages (/j and /judge…), on the same services as the JSON API.

Judges: `/j/<link token>` shows who and which stage and changes nothing; its button 开始评分 POSTs the
token in a form field to /judge/start, which exchanges it for a judge session in the HttpOnly cookie
`sp_session` (tokens never travel in query strings). Then /judge (the assigned cases, 已评 n / m) and
/judge/cases/{id} (the case, attachments, the rubric's scoring form or the coaching feedback form, recusal).
A final judge's /judge is final_pages.py's list. The unit's coaching feedback and versions are in
unit_pages.py, the organiser's QR sheet and judge import in admin_pages.py; all of them use the judges' page
style (html.judge_html).

Every page sends the security headers of html.py (Referrer-Policy: no-referrer, Cache-Control: no-store).
"""
from __future__ import annotations

import logging
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from ..domain.clock import epoch
from ..domain.competition import StageId
from ..domain.errors import DomainError, Invalid, StageClosed, Unauthenticated
from ..lazy import lazy
from .http import SECURITY_HEADERS, SESSION_COOKIE, STATUS, cookies
from .html import (
    FORM, PageError, Redirect, anon_form, anon_token, check_csrf, current_request, done_notice,
    end_previous_session, judge_bar, judge_competition, judge_html, one, page_decorator, query, read_form, redirect,
    set_cookie,
)
from .final_pages import final_cases_page
from .templating import static_response

if TYPE_CHECKING:
    from .. import bootstrap
    from ..domain import cases as case_rules, competition as competition_rules
    from ..services import accounts, attachments, cases, judging, judge_portal as portal, scoring
else:
    (
        bootstrap, case_rules, competition_rules, accounts, attachments, cases, judging, portal, scoring
    ) = lazy(
        __name__, "..bootstrap", "..domain.cases", "..domain.competition", "..services.accounts",
        "..services.attachments", "..services.cases", "..services.judging", "..services.judge_portal",
        "..services.scoring",
    )

log = logging.getLogger("saiping")
judge_pages = Blueprint(__name__)

STATIC = {"judge.css": "text/css; charset=utf-8", "judge.js": "text/javascript; charset=utf-8",
          "judge-draft.js": "text/javascript; charset=utf-8"}
NOTICES = {"saved": "评分已保存。", "feedback": "辅导意见已提交。", "recused": "已回避该案例，主办单位会另行安排。",
           "replied": "回复已保存。"}
JUDGE_HEADINGS = {400: "请求有误", 401: "评分链接无效或已过期", 403: "无法完成操作", 404: "没有找到",
                  409: "操作冲突", 413: "内容过大", 503: "服务繁忙"}


def _judge_error(status: int, message: str) -> Response:
    return judge_html("error.html", status=status, status_code=status, heading=JUDGE_HEADINGS.get(status, "出错了"),
                 message=message)


# A bad link or an ended session is a Chinese 401 page here (judges have no login page to go to).
judge_page = page_decorator(_judge_error, unauthenticated_to_login=False)


# -- judges: the link and the session ----------------------------------------------------------------

@judge_pages.route("/j/{token}", methods=["GET"])
@judge_page
def landing(token: str) -> Response:
    """Who and which stage; nothing is created or written (only the form's CSRF cookie is set)."""
    now = bootstrap.now()
    preview = portal.preview_link(bootstrap.deps().judging, bootstrap.competition_by_id, bootstrap.config(), token, now,
                                  stages=bootstrap.deps().stages)
    csrf, set_cookies = anon_token()
    return judge_html("landing.html", comp=preview.comp, preview=preview, link=token, csrf_token=csrf,
                 set_cookies=set_cookies,
                 opens_at=competition_rules.format_time(preview.window.opens_at),
                     closes_at=competition_rules.format_time(preview.window.closes_at),
                 window_status=preview.window.status(now))


@judge_pages.route("/judge/start", methods=["POST"], content_types=FORM)
@judge_page
def start() -> Response:
    form = anon_form()
    now = bootstrap.now()
    session = judging.open_judge_session(bootstrap.deps().judging, bootstrap.competition_by_id, bootstrap.config(),
                                         one(form, "link"), now, stages=bootstrap.deps().stages)
    end_previous_session()
    cookie = set_cookie(SESSION_COOKIE, session.token, max_age=max(0, int(session.expires_at - epoch(now))))
    return redirect("/judge", [cookie])


def _judge() -> scoring.JudgePrincipal:
    return scoring.authenticate_judge(bootstrap.deps().judging, cookies(current_request()).get(SESSION_COOKIE),
                                      bootstrap.now())


def _judge_posted() -> tuple[scoring.JudgePrincipal, dict[str, list[str]]]:
    who = _judge()
    form = read_form()
    check_csrf(one(form, "csrf_token"), who.csrf)
    return who, form


@judge_pages.route("/judge/logout", methods=["POST"], content_types=FORM)
@judge_page
def judge_logout() -> Response:
    try:
        who, _ = _judge_posted()
    except Unauthenticated:
        who = None
    if who is not None:
        accounts.logout(bootstrap.deps().accounts,
                        accounts.Principal(role="judge", token_hash=who.token_hash, judge_id=who.judge_id,
                                           competition_id=who.competition_id), bootstrap.now())
    return judge_html("error.html", status=200, status_code=200, heading="已退出评分",
                 message="您已退出评分。如需继续，请重新打开评分链接。",
                 set_cookies=[set_cookie(SESSION_COOKIE, "", max_age=0)])


@judge_pages.route("/judge", methods=["GET"])
@judge_page
def my_cases() -> Response:
    who = _judge()
    if who.stage == StageId.FINAL:   # the live final: the drawn order, the case now presenting on top
        return final_cases_page(who, done_notice(NOTICES))
    found = scoring.my_cases(bootstrap.deps().judging, who)["cases"]
    comp = judge_competition(who)
    window = portal.stage_window(comp, who.stage, stages=bootstrap.deps().stages)
    now = bootstrap.now()
    return judge_html("cases.html", comp=comp, bar=judge_bar(who), cases=found,
                 scored=sum(1 for c in found if c["scored"]),
                 total=len(found), window_status=window.status(now),
                     closes_at=competition_rules.format_time(window.closes_at),
                 notice=done_notice(NOTICES), draft_done=query("done") in ("saved", "feedback"))


# -- judges: a case ----------------------------------------------------------------------------------

def _download(case: Any, attachment_id: str) -> str:
    return f"/judge/cases/{quote(case.id)}/attachments/{quote(attachment_id)}"


def _case_page(who: scoring.JudgePrincipal, case_id: str, status: int = 200, error: DomainError | None = None,
               values: dict[str, str] | None = None, comment: str | None = None, points: list[str] | None = None,
               reason: str = "", form: str = "") -> Response:
    comp = judge_competition(who)
    view, _, window = portal.case_page(bootstrap.deps().judging, bootstrap.deps().cases, comp, who, case_id, _download,
                                       stages=bootstrap.deps().stages)
    category = comp.category(view.get("category", ""))
    mine = view["my_score"] or {}
    if values is None:
        values = {k: _plain(v) for k, v in (mine.get("criteria") or {}).items()}
    errors = dict(error.fields or {}) if error else {}
    open_now = window.is_open(bootstrap.now())
    saved = _saved_pairs(who.stage, category, mine, view["my_feedback"])
    return judge_html(
        "case.html", comp=comp, status=status, bar=judge_bar(who), case=view, category=category, values=values,
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
    values = {key[len("criteria."):]: one(form, key) for key in form if key.startswith("criteria.")}
    comment = one(form, "comment")
    raw = {"criteria": {k: _number(v) for k, v in values.items() if _number(v) is not None}, "comment": comment}
    try:
        scoring.save_score(bootstrap.deps().judging, judge_competition(who), who, case_id, raw, bootstrap.now(),
                           stages=bootstrap.deps().stages)
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
        scoring.save_feedback(bootstrap.deps().judging, judge_competition(who), who, case_id, {"points": points},
                              bootstrap.now(), stages=bootstrap.deps().stages)
    except (Invalid, StageClosed) as e:
        return _case_page(who, case_id, STATUS[e.code], e, points=points or [""], form="feedback")
    raise Redirect("/judge?done=feedback")


@judge_pages.route("/judge/cases/{case_id}/recuse", methods=["POST"], content_types=FORM)
@judge_page
def recuse(case_id: str) -> Response:
    """回避 in two steps, without script: the first POST (the case page's form) only shows what will happen
    and asks to confirm; the confirm page's POST (confirm=yes) recuses."""
    who, form = _judge_posted()
    reason = one(form, "reason")
    comp, now = judge_competition(who), bootstrap.now()
    try:
        if one(form, "confirm") != "yes":
            slot, clean = scoring.check_recusal(bootstrap.deps().judging, comp, who, case_id, {"reason": reason}, now,
                                                stages=bootstrap.deps().stages)
            return judge_html("recuse_confirm.html", comp=comp, bar=judge_bar(who), case_id=case_id, title=slot.title,
                              reason=clean)
        scoring.recuse(bootstrap.deps().judging, comp, who, case_id, {"reason": reason}, now,
                       stages=bootstrap.deps().stages)
    except (Invalid, StageClosed) as e:
        return _case_page(who, case_id, STATUS[e.code], e, reason=reason, form="recuse")
    raise Redirect("/judge?done=recused")


@judge_pages.route("/judge/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@judge_page
def judge_download(case_id: str, attachment_id: str) -> Response:
    """A plain link that forwards to a fresh presigned download (the page may have been open a while)."""
    who = _judge()
    presign = partial(attachments.judge_download_url, bootstrap.files(), bootstrap.config().download_url_seconds)
    view = portal.case_page(bootstrap.deps().judging, bootstrap.deps().cases, judge_competition(who), who, case_id,
                            presign, stages=bootstrap.deps().stages)[0]
    url = next((a["url"] for a in view["attachments"] if a["attachment_id"] == attachment_id), None)
    if url is None:
        raise PageError(404, "没有这个附件（或尚未完成上传）")
    return Response(body="", status_code=302, headers={"Location": url, **SECURITY_HEADERS})


# -- static -----------------------------------------------------------------------------------------

@judge_pages.route("/static/judge/{name}", methods=["GET"])
def static(name: str) -> Response:
    return static_response(name, STATIC, query("v"), SECURITY_HEADERS)
