"""A unit's pages: its cases (/cases…) — create, edit, submit, withdraw, the status page with the outcome, the
certificate, the presentation and attachments, the coaching feedback replies and the case's versions."""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from ..domain.competition import StageId
from ..domain.errors import (
    Conflict, DomainError, Invalid, NotFound, StageClosed, VersionConflict,
)
from ..lazy import lazy
from .html import (
    FORM, FORM_ERRORS, NOTICES, PageError, Redirect, done_notice, html, judge_html, one, page, page_headers, posted,
    signed_in,
)
from .http import (
    STATUS,
)

if TYPE_CHECKING:
    from ..services.accounts import Principal
    from .. import bootstrap
    from ..domain import cases as case_rules
    from ..services import attachments, cases, certificates, final_stage, presentations, scoring, stages, coaching
else:
    (
        bootstrap, case_rules, attachments, cases, certificates, final_stage, presentations, scoring, stages, coaching
    ) = lazy(
        __name__, "..bootstrap", "..domain.cases", "..services.attachments", "..services.cases",
        "..services.certificates", "..services.final_stage", "..services.presentations", "..services.scoring",
        "..services.stages", "..services.coaching",
    )

log = logging.getLogger("saiping")
unit_pages = Blueprint(__name__)
FEEDBACK_NOTICES = {"replied": "回复已保存。"}

@unit_pages.route("/cases", methods=["GET"])
@page
def my_cases() -> Response:
    who = signed_in()
    comp = bootstrap.competition()
    found, earlier = cases.own_cases(bootstrap.deps().cases, comp, who)   # one Query of the owner's cases
    found = sorted(found, key=lambda c: -float(c.created_at or 0))
    now = bootstrap.now()
    return html("cases.html", who=who, cases=[cases.case_view(c) for c in found],
                earlier=[_earlier(competition_id, listed) for competition_id, listed in earlier],
                resubmit_open={c.id for c in [*found, *(c for _, e in earlier for c in e)]
                               if cases.resubmission_open(c, now)},
                categories=_category_names(), notice=done_notice(NOTICES),
                presentations=final_stage.presentations(bootstrap.deps().cases, bootstrap.deps().final,
                                                        bootstrap.competition(), found),
                prize_names=certificates.prize_names(bootstrap.competition()))


def _earlier(competition_id: str, listed: list[Any]) -> dict[str, Any]:
    """往届案例 of one earlier competition, as /cases lists them (read-only there; each opens on its own page)."""
    comp = bootstrap.competition_by_id(competition_id)
    return {"id": competition_id, "name": comp.short_name, "categories": {c.id: c.name for c in comp.categories},
            "prize_names": certificates.prize_names(comp),
            "cases": [cases.case_view(c) for c in sorted(listed, key=lambda c: -float(c.created_at or 0))]}


def _own(case: Any) -> Any:
    """The case's own competition (an earlier year's case keeps its windows, limits and categories)."""
    return cases.competition_of_case(bootstrap.competition(), bootstrap.competition_by_id, case)


@unit_pages.route("/cases/new", methods=["GET"])
@page
def new_case() -> Response:
    return _form_page(signed_in(), None, _blank())


@unit_pages.route("/cases/new", methods=["POST"], content_types=FORM)
@page
def create_case() -> Response:
    who, form = posted()
    values = _values(form)
    try:
        case = cases.create(bootstrap.deps().cases, bootstrap.competition(), who, values, bootstrap.now(),
                            stages=bootstrap.deps().stages)
    except FORM_ERRORS as e:
        return _form_page(who, None, values, error=e)
    return _after_save(who, case, values, one(form, "action"))


@unit_pages.route("/cases/{case_id}/edit", methods=["GET"])
@page
def edit_case(case_id: str) -> Response:
    who = signed_in()
    case = cases.get(bootstrap.deps().cases, who, case_id)
    return _form_page(who, case, cases.case_view(case), notice=done_notice(NOTICES))


@unit_pages.route("/cases/{case_id}/edit", methods=["POST"], content_types=FORM)
@page
def save_case(case_id: str) -> Response:
    who, form = posted()
    values = _values(form)
    version = one(form, "version")
    raw = {**values, "version": int(version) if version.isdigit() and len(version) < 10 else -1}
    try:
        case = cases.update(bootstrap.deps().cases, bootstrap.competition(), who, case_id, raw, bootstrap.now(),
                            competition_of=bootstrap.competition_by_id)
    except FORM_ERRORS as e:
        return _form_page(who, cases.get(bootstrap.deps().cases, who, case_id), values, error=e, version=raw["version"])
    return _after_save(who, case, values, one(form, "action"))


def _after_save(who: Principal, case: Any, values: dict[str, Any], action: str) -> Response:
    if action != "submit":   # a coaching round's revision of an advanced or awarded case: a new version
        raise Redirect(f"/cases/{case.id}/edit?done={'revised' if case.status in ('advanced', 'awarded') else 'saved'}")
    try:
        cases.submit(bootstrap.deps().cases, bootstrap.competition(), who, case.id, bootstrap.now(),
                     mailing=bootstrap.mailing(), competition_of=bootstrap.competition_by_id)
    except FORM_ERRORS as e:
        return _form_page(who, cases.get(bootstrap.deps().cases, who, case.id), values, error=e,
                          version=int(case.version))
    raise Redirect("/cases?done=submitted")


@unit_pages.route("/cases/{case_id}", methods=["GET"])
@page
def case_status(case_id: str) -> Response:
    who = signed_in()
    case = cases.get(bootstrap.deps().cases, who, case_id)
    comp = _own(case)
    return html("case.html", comp=comp, who=who, case=cases.case_view(case), categories=_category_names(comp),
                genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS,
                resubmit_open=cases.resubmission_open(case, bootstrap.now()), **_outcome(who, case, comp),
                presentation=presentations.state(comp, case, bootstrap.now(), stages=bootstrap.deps().stages),
                source_name=_source_name(case), notice=done_notice(NOTICES))


def _source_name(case: Any) -> str | None:
    """The competition a case recommended from a feeder (省赛推荐) came from, by its short name (None when it names
    none, or one no longer there)."""
    source = case.source.get("competition") if case.source else None
    try:
        return bootstrap.competition_by_id(str(source)).short_name if source else None
    except NotFound:
        return None


def _outcome(who: Principal, case: Any, comp: Any) -> dict[str, Any]:
    """What the case page links after text review (in the case's own competition `comp`): the experts' feedback
    (once there is any), the prize by name and the unit's own certificate (once the final is closed)."""
    coached = case.status in ("advanced", "awarded", "not_awarded")
    return {"has_feedback": coached and bool(scoring.feedback_for_unit(
                bootstrap.deps().judging, bootstrap.deps().cases, comp, who, case.id)["feedback"]),
            "prize_name": certificates.prize_names(comp).get(case.prize or "") if case.status == "awarded" else None,
            "certificate": certificates.available(comp, case, stages=bootstrap.deps().stages)}


@unit_pages.route("/cases/{case_id}/certificate", methods=["GET"])
@page
def case_certificate(case_id: str) -> Response:
    """The unit's own 荣誉证书 (PDF), built on request and handed over as a presigned download (as attachments
    are); other units' cases and cases without one: 404."""
    who = signed_in(("unit", "organiser"))
    cfg = bootstrap.config()
    deps = bootstrap.deps()
    url = certificates.own_certificate_url(bootstrap.competition(), deps.cases, deps.certificates, who, case_id,
                                           deps.files, cfg.signing_keys[0], cfg.site_url, cfg.download_url_seconds,
                                           bootstrap.now(), stages=deps.stages,
                                           competition_of=bootstrap.competition_by_id)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store", **page_headers()})


@unit_pages.route("/cases/{case_id}/withdraw", methods=["GET"])
@page
def confirm_withdraw(case_id: str) -> Response:
    """撤回 asks first: this page (no script needed) says what withdrawing means and posts the confirmation."""
    who = signed_in()
    return html("withdraw.html", who=who, case=cases.case_view(cases.get(bootstrap.deps().cases, who, case_id)))


@unit_pages.route("/cases/{case_id}/withdraw", methods=["POST"], content_types=FORM)
@page
def withdraw_case(case_id: str) -> Response:
    who, form = posted()
    if one(form, "confirm") != "yes":
        return html("withdraw.html", who=who, case=cases.case_view(cases.get(bootstrap.deps().cases, who, case_id)))
    cases.withdraw(bootstrap.deps().cases, bootstrap.competition(), who, case_id, bootstrap.now(),
                   competition_of=bootstrap.competition_by_id)
    raise Redirect("/cases?done=withdrawn")


@unit_pages.route("/cases/{case_id}/presentation", methods=["GET"])
@page
def download_presentation(case_id: str) -> Response:
    """The case's 综合评选 presentation: forwards to a short-lived presigned download (named as uploaded)."""
    who = signed_in(("unit", "organiser"))
    found = presentations.download(bootstrap.deps().cases, bootstrap.config(), bootstrap.files(), who, case_id)
    return Response(body="", status_code=302, headers={"Location": found["url"], **page_headers()})


@unit_pages.route("/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@page
def download_attachment(case_id: str, attachment_id: str) -> Response:
    """A plain link that forwards to a short-lived presigned download (named as uploaded)."""
    who = signed_in(("unit", "organiser"))
    url = attachments.download_url(bootstrap.deps().cases, bootstrap.config(), bootstrap.files(), who, case_id,
                                   attachment_id)
    return Response(body="", status_code=302, headers={"Location": url, **page_headers()})


# -- the case form ----------------------------------------------------------------------------------

def _category_names(comp: Any = None) -> dict[str, str]:
    return {c.id: c.name for c in (comp or bootstrap.competition()).categories}


def _blank() -> dict[str, Any]:
    return {"category": "", "recommending_unit": "", "title": "",
            "leader": dict.fromkeys(case_rules.LEADER_FIELDS, ""),
            "contact": dict.fromkeys(case_rules.PERSON_FIELDS, ""),
            "background": "", "innovations": [""], "results": [""], "originality_pledge": False,
            "showcase_consent": False}


def _values(form: dict[str, list[str]]) -> dict[str, Any]:
    """The case body as typed: the same shape as the API's, so the services validate it unchanged."""
    return {
        "category": one(form, "category"), "recommending_unit": one(form, "recommending_unit"),
        "title": one(form, "title"),
        "leader": {k: one(form, f"leader.{k}") for k in case_rules.LEADER_FIELDS},
        "contact": {k: one(form, f"contact.{k}") for k in case_rules.PERSON_FIELDS},
        "background": one(form, "background"),
        "innovations": [v.replace("\r\n", "\n") for v in form.get("innovations", [])],
        "results": [v.replace("\r\n", "\n") for v in form.get("results", [])],
        "originality_pledge": one(form, "originality_pledge") in ("1", "on", "true"),
        "showcase_consent": one(form, "showcase_consent") in ("1", "on", "true"),
    }


def field_id(path: str) -> str:
    """The id of the input a field path names: leader.mobile -> f-leader-mobile, innovations[1] -> f-innovations-1."""
    if path == "text":
        return "char-count"
    if path in ("innovations", "results"):
        return f"f-{path}-0"
    return "f-" + re.sub(r"\[(\d+)\]", r"-\1", path).replace(".", "-").replace("_", "-")


def _label(path: str) -> str:
    point = re.fullmatch(r"(\w+)\[(\d+)\]", path)
    if point:
        return f"{case_rules.FIELD_LABELS.get(point[1], point[1])}{int(point[2]) + 1}"
    return case_rules.FIELD_LABELS.get(path, "字数" if path == "text" else path)


def _form_page(who: Principal, case: Any, values: dict[str, Any], error: DomainError | None = None,
               version: int | None = None, notice: str | None = None) -> Response:
    comp = _own(case) if case is not None else bootstrap.competition()   # a new case: the current competition
    view = cases.case_view(case) if case is not None else None
    errors = dict(error.fields or {}) if error else {}
    message = error.message if error else None
    if isinstance(error, VersionConflict) and case is not None:
        version = int(case.version)
        message = (f"案例已在别处被修改（例如在另一个浏览器标签页中），当前为第 {version} 版，您这次的修改尚未保存。"
                   "您填写的内容仍保留在下方，请核对后再次点击“保存草稿”或“提交”，将以您填写的内容为准。")
    if version is None and case is not None:
        version = int(case.version)
    summary = [{"href": "#" + field_id(p), "label": _label(p), "message": m} for p, m in errors.items()]
    points = {k: list(values.get(k) or []) or [""] for k in ("innovations", "results")}
    counted = [values.get("title", ""), values.get("background", ""), *points["innovations"], *points["results"]]
    return html(
        "case_form.html", comp=comp, status=STATUS.get(error.code, 400) if error else 200, who=who, case=view,
        values=values, points=points, errors=errors, message=message, summary=summary, notice=notice,
        version=version or "", char_count=case_rules.count_chars([t for t in counted if isinstance(t, str)]),
        action=f"/cases/{case.id}/edit" if case is not None else "/cases/new",
        category_options=[(c.id, c.name) for c in comp.categories], conflict=isinstance(error, VersionConflict),
        genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS, status_names=case_rules.STATUS_NAMES,
        field_id=field_id, labels=case_rules.FIELD_LABELS, editable_problem=_editable_problem(who, case),
        pledge=case_rules.ORIGINALITY_PLEDGE,
    )


def _editable_problem(who: Principal, case: Any) -> str | None:
    """Why the case cannot be changed now (a closed stage, a final status), shown above the form."""
    try:
        if case is None:
            window = stages.windows(bootstrap.competition(), bootstrap.deps().stages)[StageId.SUBMISSION]
            return None if window.is_open(bootstrap.now()) else f"{window.name}阶段当前未开放，不能新增案例"
        cases.editable(bootstrap.deps().cases, bootstrap.competition(), who, case.id, bootstrap.now(),
                       competition_of=bootstrap.competition_by_id)
        return None
    except (StageClosed, Conflict) as e:
        return e.message


# -- units: coaching feedback and versions -----------------------------------------------------------

@unit_pages.route("/cases/{case_id}/feedback", methods=["GET"])
@page
def unit_feedback(case_id: str) -> Response:
    who = signed_in(("unit", "organiser"))
    return _feedback_page(who, case_id, notice=done_notice(FEEDBACK_NOTICES))


def _feedback_page(who: Any, case_id: str, status: int = 200, error: DomainError | None = None,
                   typed: dict[str, str] | None = None, notice: str | None = None) -> Response:
    found = cases.get(bootstrap.deps().cases, who, case_id)   # it names its competition
    comp = _own(found)
    deps = bootstrap.deps()
    view = coaching.feedback(deps.judging, deps.cases, deps.stages, comp, who, case_id, bootstrap.now(),
                             competition_of=bootstrap.competition_by_id)
    case = cases.case_view(found)
    return judge_html("feedback.html", comp=comp, status=status, who=who, case=case, view=view, typed=typed or {},
                 errors=dict(error.fields or {}) if error else {}, message=error.message if error else None,
                 notice=notice)


@unit_pages.route("/cases/{case_id}/feedback", methods=["POST"], content_types=FORM)
@page
def unit_reply(case_id: str) -> Response:
    who, form = posted()
    typed = {key[len("reply."):]: one(form, key) for key in form if key.startswith("reply.")}
    try:
        deps = bootstrap.deps()
        coaching.save_replies(deps.judging, deps.cases, deps.final, bootstrap.competition(), who, case_id,
                              {"replies": typed}, bootstrap.now(), competition_of=bootstrap.competition_by_id)
    except (Invalid, StageClosed) as e:
        return _feedback_page(who, case_id, STATUS[e.code], e, typed)
    raise Redirect(f"/cases/{quote(case_id)}/feedback?done=replied")


@unit_pages.route("/cases/{case_id}/versions", methods=["GET"])
@page
def versions(case_id: str) -> Response:
    who = signed_in(("unit", "organiser"))
    return judge_html("versions.html", who=who, view=coaching.versions(bootstrap.deps().cases, who, case_id))


@unit_pages.route("/cases/{case_id}/versions/{version}", methods=["GET"])
@page
def version(case_id: str, version: str) -> Response:
    who = signed_in(("unit", "organiser"))
    if not version.isdigit() or len(version) > 6:
        raise PageError(404, "没有这个版本")
    old = cases.version_view(bootstrap.deps().cases, who, case_id, int(version))
    return judge_html("version.html", who=who, case=old, genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS,
                 status_names=case_rules.STATUS_NAMES)
