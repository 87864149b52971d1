"""The organiser console (管理台): HTML pages over the same services as the organiser's JSON API.

Organiser session only (anyone else is sent to /login); every form carries the session's CSRF token;
no inline script or style (admin.js / admin.css through the static route). Handlers parse, call one
service, and render a page or redirect (POST -> 303 -> GET); a refused form re-renders with its errors
beside the fields. The judges' QR sheet and the judges' import are here too, in the judges' page style
(html.judge_html); the live final's pages (draw, timer, scoreboard) are in final_pages.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from ..domain.competition import StageId
from ..domain.errors import Conflict, Invalid, NotFound, NotSubmitted, StageClosed, TooLarge, VersionConflict
from ..lazy import lazy
from . import multipart
from .http import STATUS
from .html import (
    FORM, PageError, Redirect, check_csrf, current_request, done_notice, html, judge_html, one, page, posted, query,
    read_form, signed_in, template_download,
)

if TYPE_CHECKING:
    from ..services import (
        archive_import, cases, competitions, console, exports, feeder, judging, extra_judges, notifications,
        results, review, stages, judge_import
    )
    from .. import bootstrap
    from ..domain import cases as case_rules, competition as competition_rules, readable, review as review_rules
    from ..jobs import mail_queue
else:
    (
        archive_import, bootstrap, case_rules, competition_rules, readable, cases, competitions, console, exports,
        feeder, judging, extra_judges, mail_queue, notifications, results, review, review_rules, stages, judge_import
    ) = lazy(
        __name__, "..services.archive_import", "..bootstrap", "..domain.cases", "..domain.competition",
        "..domain.readable", "..services.cases", "..services.competitions", "..services.console",
        "..services.exports", "..services.feeder", "..services.judging",
        "..services.extra_judges", "..jobs.mail_queue", "..services.notifications", "..services.results",
        "..services.review", "..domain.review", "..services.stages", "..services.judge_import",
    )

admin_pages = Blueprint(__name__)

ORGANISER = ("organiser",)
STAGE_STATUS = {"pending": "未开始", "open": "进行中", "closed": "已截止"}
RANKED = (StageId.TEXT_REVIEW, StageId.FINAL)
UPLOAD_SLACK = 64 * 1024      # the form's other fields and the multipart framing around the file
NOTICES = {
    "created": "评委已添加。", "updated": "评委信息已保存。", "planned": "评审分配已完成。", "added": "已增加该分配。",
    "removed": "已取消该分配。", "revoked": "该评委本阶段的评分链接已撤销，立即失效。", "moved": "阶段时间已保存。",
    "closed": "阶段已关闭。", "provincial": "省赛推荐标记已保存。", "saved": "组织奖名单已保存。",
    "reviewed": "审核结果已保存，并已邮件通知该单位。", "showcase": "成果展示设置已保存。",
}
FEED_STATUS = {"submitted": "已提交", "draft": "草稿"}
MAIL_KINDS = {
    "registration": "注册成功", "submission_receipt": "提交回执", "deadline_reminder": "截止提醒",
    "judge_invitation": "评委邀请", "judge_reminder": "评委评分提醒", "advance": "入围通知",
    "not_advance": "未入围通知",
    "feedback_available": "辅导意见通知", "award": "获奖通知", "case_review": "审核结果",
    "case_received": "省赛推荐通知", "password_reset": "重置密码", "organiser_invitation": "团队邀请",
}
MAIL_STATUS = {"queued": "已排队", "sending": "发送中", "sent": "已发送", "failed": "发送失败", "bounced": "被退回",
               "dropped": "未发送（链接已失效）"}
LINK_STATES = {"none": "未发放", "sent": "已发放", "opened": "已打开", "revoked": "已撤销"}


# -- helpers ----------------------------------------------------------------------------------------

def _admin() -> Any:
    return signed_in(ORGANISER)


def console_page(template: str, who: Any, section: str, status: int = 200, **context: Any) -> Response:
    comp = bootstrap.competition()
    return html(f"admin/{template}", status=status, who=who, section=section,
                category_names={c.id: c.name for c in comp.categories},
                stage_names={w.id: w.name for w in comp.default_windows}, status_names=case_rules.STATUS_NAMES,
                round_names={w.id: comp.round_name(w.id) for w in comp.default_windows},
                prize_names={p["id"]: p["name"] for p in comp.raw.get("prizes", [])},
                stage_status=STAGE_STATUS, notice=context.pop("notice", done_notice(NOTICES)),
                **context)


def _int(text: str | None, default: int) -> int:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 7 else default


def _ranked(stage_id: str) -> str:
    if stage_id not in RANKED:
        raise PageError(404, "只有文本评审和综合评选有排名")
    return stage_id


# -- dashboard --------------------------------------------------------------------------------------

@admin_pages.route("/admin", methods=["GET"])
@page
def dashboard() -> Response:
    who = _admin()
    return console_page("dashboard.html", who, "dashboard",
                   data=console.dashboard(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(),
                                          bootstrap.now(), bootstrap.deps().accounts, stages=bootstrap.deps().stages))


# -- cases ------------------------------------------------------------------------------------------

@admin_pages.route("/admin/cases", methods=["GET"])
@page
def case_list() -> Response:
    who = _admin()
    filters = {k: (query(k) or "").strip()[:100] for k in ("category", "status", "q")}
    try:
        found = console.browse(bootstrap.competition(), bootstrap.deps().cases, who, filters["category"],
                               filters["status"], filters["q"], _int(query("page"), 1))
    except Invalid as e:
        return console_page("cases.html", who, "cases", 400, filters=filters, found=None, errors=e.fields or {},
                       message=e.message)
    return console_page("cases.html", who, "cases", filters=filters, found=found, errors={})


@admin_pages.route("/admin/cases/{case_id}", methods=["GET"])
@page
def case_detail(case_id: str) -> Response:
    who = _admin()
    if len(case_id) > 200:
        raise PageError(404, "没有找到这个案例")
    return console_page("case.html", who, "cases",
                        detail=console.case_detail(bootstrap.deps().judging, bootstrap.competition(),
                                                   bootstrap.deps().cases, who, case_id),
                        genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS)


@admin_pages.route("/admin/cases/{case_id}/provincial", methods=["POST"], content_types=FORM)
@page
def provincial(case_id: str) -> Response:
    """推荐参加省赛 with its 推荐理由 (required), or 取消省赛推荐; a refusal shows the case page with the reason."""
    who, form = posted(ORGANISER)
    raw = {"recommended": one(form, "recommended") == "1", "reason": one(form, "reason")}
    try:
        results.recommend_provincial(bootstrap.deps().cases, bootstrap.deps().stages, bootstrap.deps().results,
                                     bootstrap.competition(), case_id, raw, who.actor, bootstrap.now(),
                                     reason_required=True)
    except (Invalid, Conflict) as e:
        return console_page("case.html", who, "cases", STATUS[e.code],
                       detail=console.case_detail(bootstrap.deps().judging, bootstrap.competition(),
                                                  bootstrap.deps().cases, who, case_id),
                       genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS,
                       errors=e.fields or {}, message=e.message, reason=raw["reason"])
    raise Redirect(f"/admin/cases/{quote(case_id)}?done=provincial")


# -- 省赛推荐: sending the recommended cases to the competition this one feeds ---------------------------

def _provincial_page(who: Any, status: int = 200, **context: Any) -> Response:
    deps = bootstrap.deps()
    data = feeder.overview(deps.cases, deps.stages, deps.competitions, bootstrap.competition(), who, bootstrap.now())
    return console_page("provincial.html", who, "recommendations", status, data=data, feed_status=FEED_STATUS,
                        read_only=who.organiser_role == "viewer", **context)


@admin_pages.route("/admin/provincial", methods=["GET"])
@page
def provincial_recommendations() -> Response:
    return _provincial_page(_admin())


@admin_pages.route("/admin/provincial/send", methods=["POST"], content_types=FORM)
@page
def send_provincial() -> Response:
    """发送省赛推荐: the page again with what was sent, already there or skipped (a refusal: its reason)."""
    who, _ = posted(ORGANISER)
    deps = bootstrap.deps()
    try:
        result = feeder.send(deps.cases, deps.stages, deps.competitions, deps.files, bootstrap.competition(), who,
                             bootstrap.now(), mailing=bootstrap.mailing())
    except Conflict as e:
        return _provincial_page(who, STATUS[e.code], message=e.message)
    return _provincial_page(who, result=result)


# -- 审核 -------------------------------------------------------------------------------------------

REVIEW_ERRORS = (Invalid, Conflict, NotSubmitted, StageClosed, VersionConflict)


def _review_page(who: Any, status: int = 200, case_id: str | None = None, values: dict[str, str] | None = None,
                 error: Exception | None = None) -> Response:
    """审核: every submitted case by category with its review state, originality matches and a form; a refused
    form comes back with its errors beside that case's fields."""
    deps = bootstrap.deps()
    data = console.review(bootstrap.competition(), deps.cases, deps.archive, deps.originality, deps.competitions,
                          bootstrap.now(), stages=deps.stages)
    errors = _review_field_errors(getattr(error, "fields", None) or {})
    with_form = data["window"]["open"] and any(r["id"] == case_id and r["status"] == "submitted"
                                               for c in data["categories"] for r in c["rows"])
    message = next(iter(errors.values()), None) or getattr(error, "message", None)
    return console_page("review.html", who, "review", status, data=data, editing=case_id if with_form else None,
                   values=values or {}, errors=errors, message=message, states=review_rules.STATES,
                   read_only=who.organiser_role == "viewer")


def _review_field_errors(fields: dict[str, str]) -> dict[str, str]:
    """The API's field errors in the form's words (its buttons and its date picker, not ids and ISO-8601)."""
    placed = dict(fields)
    if "decision" in placed:
        placed["decision"] = "请点击“通过”“退回修改”或“不予受理”"
    if "resubmit_by" in placed and "ISO-8601" in placed["resubmit_by"]:
        placed["resubmit_by"] = "修改截止时间无法识别，请重新选择日期和时间（北京时间）"
    return placed


@admin_pages.route("/admin/review", methods=["GET"])
@page
def review_cases() -> Response:
    return _review_page(_admin())


@admin_pages.route("/admin/review/{case_id}", methods=["POST"], content_types=FORM)
@page
def review_case(case_id: str) -> Response:
    """通过 / 退回修改 / 不予受理 (the button pressed); 不予受理 asks for confirmation first."""
    who, form = posted(ORGANISER)
    values = {k: one(form, k).strip() for k in ("decision", "reason", "resubmit_by")}
    raw = {k: v for k, v in values.items() if v}
    if values["decision"] == "rejected" and values["reason"] and one(form, "confirm") != "yes":
        case = cases.case_view(cases.get(bootstrap.deps().cases, who, case_id))
        return console_page("review_confirm.html", who, "review", case=case, values=values)
    try:
        review.review(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(), who, case_id, raw,
                      bootstrap.now(), mailing=bootstrap.mailing())
    except REVIEW_ERRORS as e:
        return _review_page(who, STATUS.get(e.code, 400), case_id, values, e)
    raise Redirect(f"/admin/review?done=reviewed#case-{quote(case_id)}")


# -- judges -----------------------------------------------------------------------------------------

def _judge_input(form: dict[str, list[str]]) -> dict[str, Any]:
    conflicts = one(form, "conflicts").replace("，", "、").replace(",", "、").replace("\n", "、")
    return {"name": one(form, "name"), "email": one(form, "email").strip(), "mobile": one(form, "mobile").strip(),
            "affiliation": one(form, "affiliation"), "categories": form.get("categories", []),
            "conflicts": [c.strip() for c in conflicts.split("、") if c.strip()]}


def _judges_page(who: Any, status: int = 200, values: dict[str, Any] | None = None,
                 error: Invalid | None = None) -> Response:
    comp = bootstrap.competition()
    found = sorted(judging.list_judges(bootstrap.deps().judging, comp), key=lambda j: (j.name, j.judge_id))
    return console_page("judges.html", who, "judges", status, judges=[judging.judge_view(j) for j in found],
                   values=values or {"categories": []}, errors=(error.fields or {}) if error else {},
                   message=error.message if error else None)


@admin_pages.route("/admin/judges", methods=["GET"])
@page
def judges() -> Response:
    return _judges_page(_admin())


@admin_pages.route("/admin/judges", methods=["POST"], content_types=FORM)
@page
def create_judge() -> Response:
    who, form = posted(ORGANISER)
    raw = _judge_input(form)
    try:
        judging.create_judge(bootstrap.deps().judging, bootstrap.competition(), raw, who.actor, bootstrap.now())
    except Invalid as e:
        return _judges_page(who, 400, raw, e)
    raise Redirect("/admin/judges?done=created")


@admin_pages.route("/admin/judges/{judge_id}", methods=["GET"])
@page
def edit_judge(judge_id: str) -> Response:
    who = _admin()
    judge = console.judge(bootstrap.deps().judging, bootstrap.competition(), judge_id)
    return console_page("judge_edit.html", who, "judges", judge_id=judge_id, values=judge, errors={})


@admin_pages.route("/admin/judges/{judge_id}", methods=["POST"], content_types=FORM)
@page
def update_judge(judge_id: str) -> Response:
    who, form = posted(ORGANISER)
    raw = _judge_input(form)
    try:
        judging.update_judge(bootstrap.deps().judging, bootstrap.competition(), judge_id, raw, who.actor,
                             bootstrap.now())
    except Invalid as e:
        return console_page("judge_edit.html", who, "judges", 400, judge_id=judge_id, values=raw, errors=e.fields or {},
                       message=e.message)
    raise Redirect("/admin/judges?done=updated")


# -- assignments ------------------------------------------------------------------------------------

def _assignments_page(who: Any, stage_id: str, status: int = 200, error: Invalid | Conflict | NotFound | None = None,
                      values: dict[str, str] | None = None, notice: str | None = None) -> Response:
    comp = bootstrap.competition()
    data = console.assignments(bootstrap.deps().judging, comp, bootstrap.deps().cases, stage_id)
    return console_page("assignments.html", who, "assignments", status, stage=stage_id, data=data, values=values or {},
                   errors=(error.fields or {}) if error else {}, message=error.message if error else None,
                   stages=judging.JUDGED_STAGES, coaching_round=competition_rules.is_coaching(stage_id),
                   **({"notice": notice} if notice else {}))


@admin_pages.route("/admin/assignments/{stage_id}", methods=["GET"])
@page
def assignments(stage_id: str) -> Response:
    who = _admin()
    added = query("new")
    notice = f"评审分配已完成：新增 {_int(added, 0)} 个分配。" if query("done") == "planned" and added else None
    return _assignments_page(who, stage_id, notice=notice)


@admin_pages.route("/admin/assignments/{stage_id}/plan", methods=["POST"], content_types=FORM)
@page
def plan(stage_id: str) -> Response:
    who, form = posted(ORGANISER)
    typed = one(form, "judges_per_case").strip()
    raw = {"judges_per_case": int(typed) if typed.isdigit() and len(typed) < 4 else typed}
    try:
        done = judging.plan_assignments(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(),
                                        stage_id, raw, who.actor, bootstrap.now(), stages=bootstrap.deps().stages)
    except (Invalid, Conflict) as e:
        return _assignments_page(who, stage_id, STATUS.get(e.code, 400), e, {"judges_per_case": typed})
    raise Redirect(f"/admin/assignments/{stage_id}?done=planned&new={done['new']}")


@admin_pages.route("/admin/assignments/{stage_id}/add", methods=["POST"], content_types=FORM)
@page
def add_assignment(stage_id: str) -> Response:
    who, form = posted(ORGANISER)
    values = {"judge_id": one(form, "judge_id"), "case_id": one(form, "case_id")}
    try:
        console.add_override(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(), stage_id,
                             values["judge_id"], values["case_id"], who.actor, bootstrap.now())
    except (Invalid, NotFound) as e:
        return _assignments_page(who, stage_id, STATUS.get(e.code, 400), e, values)
    raise Redirect(f"/admin/assignments/{stage_id}?done=added")


@admin_pages.route("/admin/assignments/{stage_id}/remove", methods=["POST"], content_types=FORM)
@page
def remove_assignment(stage_id: str) -> Response:
    who, form = posted(ORGANISER)
    console.remove_override(bootstrap.deps().judging, bootstrap.competition(), stage_id, one(form, "judge_id"),
                            one(form, "case_id"), who.actor, bootstrap.now())
    raise Redirect(f"/admin/assignments/{stage_id}?done=removed")


# -- links ------------------------------------------------------------------------------------------

def _links_page(who: Any, status: int = 200, shown: dict[str, Any] | None = None,
                error: Conflict | NotFound | StageClosed | None = None) -> Response:
    """评分链接: each judge's link state per stage; `shown` holds links revealed by this response only."""
    return console_page("links.html", who, "links", status,
                        holders=console.link_holders(bootstrap.deps().judging, bootstrap.competition(),
                                                     mail=bootstrap.deps().mail),
                        stages=judging.JUDGED_STAGES, issued=shown, link_states=LINK_STATES, mail_states=MAIL_STATUS,
                        message=error.message if error else None)


@admin_pages.route("/admin/links", methods=["GET"])
@page
def links() -> Response:
    return _links_page(_admin())


@admin_pages.route("/admin/links/{stage_id}", methods=["POST"], content_types=FORM)
@page
def issue_links(stage_id: str) -> Response:
    """Issue every assigned judge's link (earlier ones stop working) and show the URLs in the response."""
    who, _ = posted(ORGANISER)
    issued = judging.issue_links(bootstrap.deps().judging, bootstrap.competition(), bootstrap.config(), stage_id,
                                 who.actor, bootstrap.now(), stages=bootstrap.deps().stages)
    mail_queue.start()
    return _links_page(who, shown={"stage": stage_id, "kind": "all", "links": issued})


@admin_pages.route("/admin/links/{stage_id}/reissue", methods=["POST"], content_types=FORM)
@page
def reissue_link(stage_id: str) -> Response:
    """A new link for one judge (only their earlier one stops working), mailed and shown in the response."""
    who, form = posted(ORGANISER)
    try:
        link = judging.reissue_link(bootstrap.deps().judging, bootstrap.competition(), bootstrap.config(),
                                    one(form, "judge_id"), stage_id, who.actor, bootstrap.now(),
                                    stages=bootstrap.deps().stages)
    except (Conflict, NotFound, StageClosed) as e:
        return _links_page(who, STATUS[e.code], error=e)
    mail_queue.start()
    return _links_page(who, shown={"stage": stage_id, "kind": "reissued", "links": [link]})


@admin_pages.route("/admin/links/{stage_id}/show", methods=["POST"], content_types=FORM)
@page
def show_link(stage_id: str) -> Response:
    """显示链接: the judge's link in force, in this response's body only (a POST: never in a URL or a log)."""
    who, form = posted(ORGANISER)
    try:
        link = judging.show_link(bootstrap.deps().judging, bootstrap.competition(), bootstrap.config(),
                                 one(form, "judge_id"), stage_id, who.actor, bootstrap.now(),
                                 stages=bootstrap.deps().stages)
    except (Conflict, NotFound) as e:
        return _links_page(who, STATUS[e.code], error=e)
    return _links_page(who, shown={"stage": stage_id, "kind": "shown", "links": [link]})


@admin_pages.route("/admin/links/{stage_id}/revoke", methods=["POST"], content_types=FORM)
@page
def revoke_link(stage_id: str) -> Response:
    who, form = posted(ORGANISER)
    judging.revoke_link(bootstrap.deps().judging, bootstrap.competition(), one(form, "judge_id"), stage_id, who.actor,
                        bootstrap.now())
    raise Redirect("/admin/links?done=revoked")


# -- stages -----------------------------------------------------------------------------------------

NOTICES["opened"] = "阶段已开始。"          # after 立即开始


def _stage_rows(found: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Each window as the stages page shows it; `may_open_now` when it has not begun and the one before is over."""
    rows, previous = [], None
    for w in found.values():
        view = stages.stage_view(w, now)
        rows.append({**view, "closed_by_organiser": w.closed,
                     "opens_text": readable.when(w.opens_at),
                     "closes_text": readable.when(w.closes_at),
                     "may_open_now": view["status"] == "pending" and previous == "closed"})
        previous = view["status"]
    return rows


def _stages_page(who: Any, status: int = 200, edited: str | None = None, values: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None, message: str | None = None) -> Response:
    views = _stage_rows(stages.windows(bootstrap.competition(), bootstrap.deps().stages), bootstrap.now())
    return console_page("stages.html", who, "stages", status, windows=views, edited=edited, values=values or {},
                   errors=errors or {}, message=message)


def window_errors(stage_id: str, fields: dict[str, str], values: dict[str, str] | None = None) -> dict[str, str]:
    """Errors of a moved window placed beside this stage's own fields: a clash with the next stage's
    opening belongs to this stage's closing time, one with the previous stage to its opening time."""
    placed: dict[str, str] = {}
    for key, text in fields.items():
        other, _, part = key.rpartition(".")
        if not other:
            target = part
        else:
            order = competition_rules.STAGE_ORDER
            target = "closes_at" if order.index(other) > order.index(stage_id) else "opens_at"
        placed.setdefault(target if target in ("opens_at", "closes_at") else "closes_at", text)
    if values is None:
        return placed
    for key in ("opens_at", "closes_at"):
        if not values.get(key):
            placed[key] = "请填写日期和时间（北京时间）"
        elif not _is_time(values[key]):      # the API's hint (ISO-8601) is not for this form
            placed[key] = "日期和时间无法识别，请重新选择（北京时间）"
    return placed


def _is_time(value: str) -> bool:
    try:
        competition_rules.parse_time(value)
        return True
    except ValueError:
        return False


@admin_pages.route("/admin/stages", methods=["GET"])
@page
def stage_windows() -> Response:
    return _stages_page(_admin())


@admin_pages.route("/admin/stages/{stage_id}/window", methods=["POST"], content_types=FORM)
@page
def move_window(stage_id: str) -> Response:
    who, form = posted(ORGANISER)
    values = {k: one(form, k).strip() for k in ("opens_at", "closes_at")}
    try:
        stages.move_window(bootstrap.deps().stages, bootstrap.competition(), stage_id, values, who.actor,
                           bootstrap.now())
    except (Invalid, StageClosed) as e:
        errors = window_errors(stage_id, e.fields or {}, values)
        summary = next(iter(errors.values()), e.message) if isinstance(e, Invalid) else e.message
        return _stages_page(who, STATUS.get(e.code, 400), stage_id, values, errors, summary)
    raise Redirect("/admin/stages?done=moved")


@admin_pages.route("/admin/stages/{stage_id}/open", methods=["POST"], content_types=FORM)
@page
def open_stage_now(stage_id: str) -> Response:
    """立即开始: a stage that has not begun opens now (after the one before it was closed early)."""
    who, _ = posted(ORGANISER)
    try:
        stages.open_now(bootstrap.deps().stages, bootstrap.competition(), stage_id, who.actor, bootstrap.now())
    except (Invalid, Conflict, StageClosed) as e:
        return _stages_page(who, STATUS.get(e.code, 400), stage_id, message=e.message)
    raise Redirect("/admin/stages?done=opened")


@admin_pages.route("/admin/stages/{stage_id}/close", methods=["GET"])
@page
def confirm_close(stage_id: str) -> Response:
    who = _admin()
    comp = bootstrap.competition()
    window = stages.windows(comp, bootstrap.deps().stages).get(stage_id)
    if window is None:
        raise PageError(404, "没有这个阶段")
    return console_page("close_stage.html", who, "stages", window=window, stage=stage_id,
                   work=None if window.closed else stages.open_work(bootstrap.deps().judging, bootstrap.deps().cases,
                                                                    comp, stage_id),
                   closes_text=readable.when(window.closes_at))


@admin_pages.route("/admin/stages/{stage_id}/close", methods=["POST"], content_types=FORM)
@page
def close_stage(stage_id: str) -> Response:
    who, form = posted(ORGANISER)
    if one(form, "confirm") != "yes":
        raise Redirect(f"/admin/stages/{quote(stage_id)}/close")
    deps = bootstrap.deps()
    results.close_stage(deps.judging, deps.cases, deps.stages, deps.results, bootstrap.competition(), deps.ports(),
                        stage_id, who.actor, bootstrap.now())
    raise Redirect("/admin/stages?done=closed")


# -- results ----------------------------------------------------------------------------------------

@admin_pages.route("/admin/rankings/{stage_id}", methods=["GET"])
@page
def rankings(stage_id: str) -> Response:
    return _rankings_page(_admin(), _ranked(stage_id))


def _rankings_page(who: Any, stage_id: str, status: int = 200, **context: Any) -> Response:
    comp = bootstrap.competition()
    ranking, fairness = results.ranking_with_fairness(bootstrap.deps().judging, bootstrap.deps().results, comp,
                                                      stage_id)
    stage_open = (stage_id == StageId.TEXT_REVIEW
                  and stages.windows(comp, bootstrap.deps().stages)[stage_id].status(bootstrap.now()) == "open")
    return console_page("rankings.html", who, "rankings", status, stage=stage_id, ranking=ranking, fairness=fairness,
                   advance=comp.advance_per_category, stage_open=stage_open,
                   extra_defaults=extra_judges.defaults(comp),
                   judge_names={j.judge_id: j.name for j in judging.list_judges(bootstrap.deps().judging, comp)},
                   **context)


@admin_pages.route("/admin/rankings/{stage_id}/extra", methods=["POST"], content_types=FORM)
@page
def extra_judges_near_cut(stage_id: str) -> Response:
    """加评: the first post shows what would be added and asks to confirm; with confirm=yes it is written."""
    who, form = posted(ORGANISER)
    stage = _ranked(stage_id)
    raw = {name: _int(one(form, name), -1) for name in ("judges_per_case", "from_rank", "to_rank")}
    confirmed = one(form, "confirm") == "yes"
    try:
        found = extra_judges.add_extra_judges(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(),
                                              raw, who.actor, bootstrap.now(), stage, write=confirmed,
                                              stages=bootstrap.deps().stages, result_repo=bootstrap.deps().results)
    except (Invalid, NotFound, StageClosed) as e:
        return _rankings_page(who, stage, STATUS[e.code], extra_error=e.message, extra_asked=raw)
    return _rankings_page(who, stage, extra=found, extra_asked=raw)


@admin_pages.route("/admin/honors", methods=["GET"])
@page
def honors() -> Response:
    who = _admin()
    try:
        found = console.honors(bootstrap.competition(), bootstrap.deps().cases, stages=bootstrap.deps().stages,
                               result_repo=bootstrap.deps().results)
    except Conflict as e:
        return console_page("honors.html", who, "honors", found=None, message=e.message)
    return console_page("honors.html", who, "honors", found=found)


@admin_pages.route("/admin/organisation-awards", methods=["GET"])
@page
def organisation_awards() -> Response:
    return _awards_page(_admin())


def _awards_page(who: Any, status: int = 200, error: Invalid | None = None) -> Response:
    found = console.organisation_awards(bootstrap.competition(), bootstrap.deps().award_lists,
                                        cases=bootstrap.deps().cases)
    return console_page("organisation_awards.html", who, "awards", status, found=found,
                   message=error.message if error else None)


@admin_pages.route("/admin/organisation-awards", methods=["POST"], content_types=FORM)
@page
def save_organisation_awards() -> Response:
    who, form = posted(ORGANISER)
    try:
        console.save_organisation_awards(bootstrap.competition(), bootstrap.deps().award_lists,
                                         form.get("units", []), who.actor, bootstrap.now(),
                                         cases=bootstrap.deps().cases)
    except Invalid as e:
        return _awards_page(who, 400, e)
    raise Redirect("/admin/organisation-awards?done=saved")


def _originality_page(who: Any, status: int = 200, error: Invalid | TooLarge | None = None) -> Response:
    deps = bootstrap.deps()
    report = console.originality(bootstrap.competition(), deps.cases, deps.archive, deps.originality,
                                 deps.competitions, _int(query("page"), 1))
    imported = _int(query("n"), 0) if query("done") == "imported" else None
    notice = {"notice": f"已导入 {imported} 个往年案例，所有已提交案例已重新比对。"} if imported is not None else {}
    return console_page("originality.html", who, "originality", status, report=report,
                   import_error=error.message if error else None, import_rows=getattr(error, "rows", []),
                   **notice)


@admin_pages.route("/admin/originality", methods=["GET"])
@page
def originality() -> Response:
    return _originality_page(_admin())


@admin_pages.route("/admin/originality/template.xlsx", methods=["GET"])
@page
def originality_template() -> Response:
    _admin()
    return template_download("archive-template.xlsx", "往年案例导入模板.xlsx",
                             archive_import.template(bootstrap.competition()))


def _upload_form() -> dict[str, multipart.Part]:
    """The parts of a file-upload form; a plain form post (no file in it) gives its fields as parts."""
    request = current_request()
    content_type = (request.headers or {}).get("content-type", "")
    if not content_type.lower().startswith(multipart.MEDIA):
        return {k: multipart.Part(k, None, v[0].encode("utf-8")) for k, v in read_form().items() if v}
    return multipart.parse(content_type, request.raw_body, archive_import.MAX_BYTES + UPLOAD_SLACK)


@admin_pages.route("/admin/originality/import", methods=["POST"], content_types=[multipart.MEDIA, *FORM])
@page
def import_archive() -> Response:
    """The 往年案例 workbook from the page's form (multipart): all rows imported, or the page again with every
    problem by row and column."""
    who = _admin()
    try:
        parts = _upload_form()
    except (Invalid, TooLarge) as e:
        return _originality_page(who, STATUS.get(e.code, 400), e)
    check_csrf(parts["csrf_token"].text() if "csrf_token" in parts else None, who.csrf)
    upload = parts.get("file")
    if upload is None or not upload.filename:
        return _originality_page(who, 400, Invalid("请先选择填好的往年案例 .xlsx 文件，再点“导入”",
                                                   {"file": "未选择文件"}))
    try:
        deps = bootstrap.deps()
        imported = console.import_archive_workbook(bootstrap.competition(), deps.archive, deps.originality, who,
                                                   upload.data, bootstrap.now())
    except (Invalid, TooLarge) as e:
        return _originality_page(who, STATUS.get(e.code, 400), e)
    raise Redirect(f"/admin/originality?done=imported&n={imported}")


# -- exports and mail -------------------------------------------------------------------------------

def _export_competition(raw: str | None) -> "competition_rules.Competition":
    """The competition the export page is about: ?competition= / the form's `competition` (an earlier one's
    exports), else the current one; an unknown id is an Invalid on the field."""
    from .api_exports import export_competition
    return export_competition(raw or None)


def _exports_page(who: Any, status: int = 200, error: Invalid | None = None, kind: str = "",
                  comp: "competition_rules.Competition | None" = None) -> Response:
    cfg, deps = bootstrap.config(), bootstrap.deps()
    if comp is None:
        try:
            comp = _export_competition(query("competition"))
        except Invalid as e:
            comp, status, error = bootstrap.competition(), 400, e
    url = lambda key, name: deps.files.download_url(key, name, cfg.download_url_seconds)  # noqa: E731
    jobs = [exports.view(job, url) | {"created_at": job.created_at, "status": job.status}
            for job in console.latest_exports(comp, deps.exports)]
    kinds = {kind_id: spec.description for kind_id, spec in exports.KINDS.items()}
    choices = [c for c in competitions.listing(deps.competitions, who) if c["status"] != "draft"]
    if comp.id not in {c["id"] for c in choices}:
        choices.append({"id": comp.id, "name": comp.name, "current": False})
    return console_page("exports.html", who, "exports", status, jobs=jobs, kinds=kinds, kind=kind,
                   categories=[(c.id, c.name) for c in comp.categories], competition=comp, competitions=choices,
                   current=query("job") or "", errors=(error.fields or {}) if error else {},
                   message=error.message if error else None)


@admin_pages.route("/admin/exports", methods=["GET"])
@page
def export_list() -> Response:
    return _exports_page(_admin())


@admin_pages.route("/admin/exports", methods=["POST"], content_types=FORM)
@page
def start_export() -> Response:
    """Queue the export of the chosen competition (the current one unless the form names an earlier one) and
    start it as the API does (asynchronous in AWS; the local runner otherwise)."""
    from .api_exports import dispatch
    who, form = posted(ORGANISER)
    kind = one(form, "kind")
    try:
        comp = _export_competition(one(form, "competition"))
    except Invalid as e:
        return _exports_page(who, 400, e, kind, bootstrap.competition())
    try:
        job = exports.start(bootstrap.deps().exports, comp,
                            {"kind": kind, "category": one(form, "category")}, who.actor, bootstrap.now(), dispatch)
    except Invalid as e:
        return _exports_page(who, 400, e, kind, comp)
    earlier = "" if comp.id == bootstrap.competition().id else f"competition={quote(comp.id)}&"
    raise Redirect(f"/admin/exports?{earlier}job={quote(job.id)}")


def _mail_page(who: Any, result: dict[str, int] | None = None) -> Response:
    kind = query("kind") or ""
    comp = bootstrap.competition()
    log = notifications.mail_log(comp, bootstrap.deps().mail, 200, kind if kind in MAIL_KINDS else None)
    mail = [{**m, "at_text": readable.when(m["sent_at"] or m["created_at"])} for m in log["mail"]]
    return console_page("mail.html", who, "mail", mail=mail, kinds=MAIL_KINDS, kind=kind,
                   mail_status=MAIL_STATUS, result=result, confirming=result is None and query("confirm") == "awards",
                   award=results.award_mail_preview(bootstrap.deps().cases, comp, bootstrap.deps().ports(),
                                                    mail=bootstrap.deps().mail))


@admin_pages.route("/admin/mail", methods=["GET"])
@page
def mail() -> Response:
    return _mail_page(_admin())


@admin_pages.route("/admin/notifications/awards", methods=["POST"], content_types=FORM)
@page
def award_mail() -> Response:
    """Sends only when confirmed (the confirm panel of /admin/mail, after its count and preview)."""
    who, form = posted(ORGANISER)
    if one(form, "confirm") != "yes":
        raise Redirect("/admin/mail?confirm=awards#award-confirm")
    result = results.send_award_mail(bootstrap.deps().cases, bootstrap.competition(), bootstrap.deps().ports(),
                                     bootstrap.now(), codes=bootstrap.deps().certificates, mail=bootstrap.deps().mail)
    return _mail_page(who, result)


# -- organiser: the judges' QR sheet (the live final's pages are in final_pages.py) ----------------------

def _qr_stage(stage_id: str) -> str:
    if stage_id not in judging.JUDGED_STAGES:
        raise PageError(404, "评分链接只用于文本评审、专家辅导、综合评选和赛前辅导")
    return stage_id


@admin_pages.route("/admin/stages/{stage_id}/links/qr", methods=["GET"])
@page
def qr_form(stage_id: str) -> Response:
    who = signed_in(("organiser",))
    stage = _qr_stage(stage_id)
    return judge_html("qr.html", who=who, section="links", stage=stage,
                 stage_name=bootstrap.competition().stage_name(stage), sheets=None)


@admin_pages.route("/admin/stages/{stage_id}/links/qr", methods=["POST"], content_types=FORM)
@page
def qr_sheet(stage_id: str) -> Response:
    """One QR code per link in force, the very link that was mailed: nothing is revoked. Judges assigned
    without a link in force get one first (mailed as usual)."""
    import segno

    who, _ = posted(("organiser",))
    comp, cfg, now = bootstrap.competition(), bootstrap.config(), bootstrap.now()
    stage = _qr_stage(stage_id)
    new = judging.issue_missing_links(bootstrap.deps().judging, comp, cfg, stage, who.actor, now,
                                      stages=bootstrap.deps().stages)
    if new:
        mail_queue.start()
    links, unshown = judging.links_in_force(bootstrap.deps().judging, comp, cfg, stage, who.actor, now,
                                            stages=bootstrap.deps().stages)
    judges = {j.judge_id: j for j in judging.list_judges(bootstrap.deps().judging, comp)}
    sheets = []
    for link in links:
        judge = judges.get(link.judge_id)
        name = judge.name if judge else "评委"
        svg = segno.make(link.url, error="m").svg_inline(scale=4, border=2)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(name)}的评分链接二维码" ', 1)
        sheets.append({"judge_id": link.judge_id, "name": name, "affiliation": judge.affiliation if judge else "",
                       "svg": svg, "expires_at": link.expires_at})
    sheets.sort(key=lambda s: (s["name"], s["judge_id"]))
    return judge_html("qr.html", who=who, section="links", stage=stage, stage_name=comp.stage_name(stage),
                 sheets=sheets, new_count=len(new),
                 unshown=[judges[j].name if j in judges else "评委" for j in unshown])


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


# -- organiser: judges' spreadsheet -------------------------------------------------------------------

@admin_pages.route("/admin/judges/template.xlsx", methods=["GET"])
@page
def judges_template() -> Response:
    signed_in(("organiser",))
    return template_download("judges-template.xlsx", "评委名单导入模板.xlsx",
                             judge_import.template(bootstrap.competition()))


@admin_pages.route("/admin/judges/import", methods=["GET"])
@page
def judges_import() -> Response:
    who = signed_in(("organiser",))
    found = sorted(judging.list_judges(bootstrap.deps().judging, bootstrap.competition()),
                   key=lambda j: (j.name, j.judge_id))
    return judge_html("judges_import.html", who=who, section="judges", judges=[judging.judge_view(j) for j in found])
