"""HTML pages for units (and the organiser's landing), on the same services as the JSON API.

Sessions ride in the HttpOnly cookie `sp_session`. Every form carries a CSRF token: once logged in it is
the session's own (`csrf_token` == Principal.csrf); before that (login, register) a signed double-submit
cookie `sp_csrf` that the hidden field must repeat. Form posts are urlencoded and strict UTF-8.
Handlers stay short: parse, call one service, render the page or redirect.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from chalice import Blueprint, Response

from ..domain.errors import (
    Conflict, DomainError, Duplicate, Forbidden, Invalid, MfaRequired, RateLimited, StageClosed, TooLarge,
    Unauthenticated, VersionConflict,
)
from ..lazy import lazy_module
from ..media import XLSX
from ..security import same
from . import inbound
from .http import (
    CSRF_COOKIE, SECURITY_HEADERS, STATUS, authorize_organiser, bearer_or_cookie, client_of, cookies,
    dependency_errors, session_cookie_name,
)
from .templating import find_static, render, static_response

if TYPE_CHECKING:
    from ..services.accounts import Principal

bootstrap = lazy_module("chalicelib.bootstrap")
account_rules = lazy_module("chalicelib.domain.accounts")
case_rules = lazy_module("chalicelib.domain.cases")
documents = lazy_module("chalicelib.domain.documents")
accounts = lazy_module("chalicelib.services.accounts")
attachments = lazy_module("chalicelib.services.attachments")
cases = lazy_module("chalicelib.services.cases")
certificates = lazy_module("chalicelib.services.certificates")
downloads = lazy_module("chalicelib.services.downloads")
final_stage = lazy_module("chalicelib.services.final_stage")
presentations = lazy_module("chalicelib.services.presentations")
scoring = lazy_module("chalicelib.services.scoring")
stages = lazy_module("chalicelib.services.stages")

log = logging.getLogger("saiping")
pages = Blueprint(__name__)

FORM = ["application/x-www-form-urlencoded"]
MAX_FORM = 256 * 1024
STATIC_TYPES = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
                "admin.css": "text/css; charset=utf-8", "admin.js": "text/javascript; charset=utf-8"}
CSRF_MESSAGE = "安全校验失败（CSRF）：页面已过期或来源不明。请返回并刷新页面后再提交。"
STAGE_STATUS = {"pending": "未开始", "open": "进行中", "closed": "已截止"}
NOTICES = {"saved": "草稿已保存。", "revised": "修改已保存，形成新版本（原版本保留，可在“历史版本”查看）。",
           "submitted": "案例已提交。", "withdrawn": "案例已撤回。",
           "registered": "注册成功，请登录。", "logged_out": "您已退出登录。",
           "password_set": "密码已设置，请用新密码登录。", "ended": "登录已结束，请重新登录。",
           "presentation": "展示材料已上传并通过校验。",
           "showcase_in": "已同意公开展示：案例获奖后将在优秀案例展示中公开。", "showcase_out": "已撤出成果展示。"}
DEVICE_COOKIE = "sp_device"               # a browser this account logged in from: skips the username's back-off
DEVICE_DAYS = 180
REGISTER_FIELDS = ("username", "unit_name", "unit_system", "district", "contact_name", "email", "mobile")
# A refused form keeps the user's values; these errors re-render it instead of showing an error page.
FORM_ERRORS = (Invalid, StageClosed, Conflict, VersionConflict, TooLarge)


class Redirect(Exception):
    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


class PageError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# -- responses ------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _upload_origin(endpoint: str | None, bucket: str, region: str) -> str:
    """The origin the browser posts attachments to: exactly what botocore presigns (no S3 call)."""
    try:
        url = bootstrap.s3().generate_presigned_post(Bucket=bucket, Key="csp-probe")["url"]
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    except Exception:  # no credentials to sign with: fall back to any https origin
        log.warning("could not derive the upload origin for the CSP", exc_info=True)
        return "https:"


def _csp() -> str:
    cfg = bootstrap.config()
    # In AWS the stack names the bucket's origin (UPLOAD_ORIGIN): a page need not build an S3 client for it.
    upload = cfg.upload_origin or _upload_origin(cfg.endpoint_url, cfg.bucket, cfg.region)
    return "; ".join((
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        f"connect-src 'self' {upload}", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
        "object-src 'none'",
    ))


def _headers(set_cookies: list[str] | None = None) -> dict[str, Any]:
    headers: dict[str, Any] = {**SECURITY_HEADERS, "Content-Security-Policy": _csp()}
    if set_cookies:
        headers["Set-Cookie"] = set_cookies
    return headers


def html(template: str, status: int = 200, set_cookies: list[str] | None = None, **context: Any) -> Response:
    """Render `pages/<template>` with the competition and the caller's principal (`who`, may be None)."""
    context.setdefault("who", None)
    body = render(f"pages/{template}", comp=bootstrap.competition(), **context)
    return Response(body=body, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **_headers(set_cookies)})


def redirect(location: str, set_cookies: list[str] | None = None) -> Response:
    return Response(body="", status_code=303, headers={"Location": location, **_headers(set_cookies)})


def error_page(status: int, message: str) -> Response:
    return html("error.html", status=status, status_code=status, message=message)


def page_decorator(show_error: Callable[[int, str], Response],
                   unauthenticated_to_login: bool) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A page handler's wrapper: domain errors become Chinese error pages (an ended session goes to
    /login where there is one to go to), AWS failures a 503 page, nothing escapes as a bare 500."""
    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            try:
                bootstrap.config()
                return handler(*args, **kwargs)
            except Redirect as r:
                return redirect(r.location)
            except PageError as e:
                return show_error(e.status, e.message)
            except Unauthenticated as e:
                return redirect("/login") if unauthenticated_to_login else show_error(401, e.message)
            except DomainError as e:
                return show_error(STATUS.get(e.code, 400), e.message)
            except dependency_errors():
                log.exception("AWS dependency failed in page %s", handler.__name__)
                busy = show_error(503, "服务暂时繁忙，请稍后重试")
                busy.headers["Retry-After"] = "5"    # as the API's 503 (http.error_response)
                return busy
            except Exception:
                log.exception("unexpected error in page %s", handler.__name__)
                return show_error(500, "服务器内部错误，请稍后重试")
        return wrapped
    return decorate


page = page_decorator(error_page, unauthenticated_to_login=True)


# -- cookies, forms, CSRF ---------------------------------------------------------------------------

def _cookie(name: str, value: str, same_site: str = "Lax", max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", f"SameSite={same_site}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if bootstrap.config().secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def _request() -> Any:
    return pages.current_request


def _form() -> dict[str, list[str]]:
    raw = _request().raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > MAX_FORM:
        raise PageError(413, f"提交的内容过大（超过 {MAX_FORM // 1024} KB），请删减后重试")
    try:
        return inbound.parse_form(raw)
    except Invalid as e:  # bad UTF-8 (raw or percent-encoded), control characters
        raise PageError(400, f"提交的内容无法识别：{e.message}") from None
    except ValueError:  # too many fields
        raise PageError(400, "提交的表单无法识别，请刷新页面后重试") from None


def _one(form: dict[str, list[str]], key: str) -> str:
    return form.get(key, [""])[0].replace("\r\n", "\n")


def _query(key: str) -> str | None:
    return (_request().query_params or {}).get(key)


def _anon_mac(key: str, nonce: str) -> str:
    return hmac.new(key.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _anon_valid(value: str | None) -> bool:
    """A double-submit token the server made (signed), so a planted cookie cannot pass."""
    nonce, _, mac = (value or "").partition(".")
    return bool(nonce) and any(hmac.compare_digest(_anon_mac(k, nonce), mac) for k in bootstrap.config().signing_keys)


def _anon_token() -> tuple[str, list[str]]:
    """The anonymous form's CSRF token, and the Set-Cookie that plants it when the browser has none."""
    current = cookies(_request()).get(CSRF_COOKIE)
    if _anon_valid(current):
        return current, []  # type: ignore[return-value]
    nonce = secrets.token_urlsafe(18)
    token = f"{nonce}.{_anon_mac(bootstrap.config().signing_keys[0], nonce)}"
    return token, [_cookie(CSRF_COOKIE, token, same_site="Strict")]


def _anon_form() -> dict[str, list[str]]:
    form = _form()
    cookie = cookies(_request()).get(CSRF_COOKIE)
    if not (_anon_valid(cookie) and same(cookie, _one(form, "csrf_token"))):
        raise PageError(403, CSRF_MESSAGE)
    return form


def _session() -> Principal:
    token, _ = bearer_or_cookie(_request())
    return accounts.authenticate(token, bootstrap.now())


def _who(roles: tuple[str, ...] = ("unit",)) -> Principal:
    """The logged-in principal; anyone else goes to /login (an organiser on a unit page: to /admin).
    An organiser's role is checked here for every console page (http.authorize_organiser)."""
    try:
        who = _session()
    except Unauthenticated:
        raise Redirect("/login") from None
    if who.role not in roles:
        raise Redirect("/admin" if who.role == "organiser" else "/login")
    try:
        authorize_organiser(who, _request())
    except Forbidden as e:
        if bootstrap.config().totp_required_for_organisers and not who.mfa:
            raise Redirect("/account?done=mfa_needed") from None
        raise PageError(403, e.message) from None
    return who


def _posted(roles: tuple[str, ...] = ("unit",)) -> tuple[Principal, dict[str, list[str]]]:
    """A logged-in form post: the principal and the form, whose csrf_token must be the session's."""
    who = _who(roles)
    form = _form()
    if not same(_one(form, "csrf_token"), who.csrf):
        raise PageError(403, CSRF_MESSAGE)
    return who, form


# -- public pages, accounts -------------------------------------------------------------------------

@pages.route("/", methods=["GET"])
@page
def home() -> Response:
    now = bootstrap.now_dt()
    comp = bootstrap.competition()
    views = [stages.stage_view(w, now) for w in stages.windows(comp).values()]
    return html("home.html", stages=views, stage_status=STAGE_STATUS, contacts=documents.contacts(comp.raw),
                downloads=documents.downloads(comp))


@pages.route("/register", methods=["GET"])
@page
def register_form() -> Response:
    token, set_cookies = _anon_token()
    return html("register.html", csrf_token=token, values={}, errors={}, unit_systems=account_rules.UNIT_SYSTEMS,
                rules=account_rules.RULES, set_cookies=set_cookies)


@pages.route("/register", methods=["POST"], content_types=FORM)
@page
def register() -> Response:
    form = _anon_form()
    values = {k: _one(form, k).strip() for k in REGISTER_FIELDS}
    try:
        accounts.register({**values, "password": _one(form, "password")}, bootstrap.config(), bootstrap.now())
    except (Invalid, Duplicate) as e:
        return html("register.html", status=STATUS[e.code], csrf_token=_one(form, "csrf_token"), values=values,
                    errors=e.fields or {}, message=e.message, unit_systems=account_rules.UNIT_SYSTEMS,
                    rules=account_rules.RULES)
    raise Redirect("/login?done=registered")


@pages.route("/login", methods=["GET"])
@page
def login_form() -> Response:
    token, set_cookies = _anon_token()
    return html("login.html", csrf_token=token, username="", notice=NOTICES.get(_query("done") or ""),
                set_cookies=set_cookies)


@pages.route("/login", methods=["POST"], content_types=FORM)
@page
def login() -> Response:
    """Step one (用户名, 密码); where the account has TOTP, step two (验证码) on a one-use ticket."""
    form = _anon_form()
    username = _one(form, "username").strip()
    cfg, now, client = bootstrap.config(), bootstrap.now(), client_of(_request())
    try:
        if _one(form, "ticket"):
            session = accounts.finish_second_step(_one(form, "ticket"), _one(form, "totp"), cfg, now, client)
        else:
            session = accounts.login(username, _one(form, "password"), cfg, now, client,
                                     known_device=_known_device(username))
    except MfaRequired:
        return html("login.html", status=200, csrf_token=_one(form, "csrf_token"), username=username,
                    ticket=accounts.start_second_step(username, now))
    except (Unauthenticated, RateLimited) as e:
        response = html("login.html", status=STATUS[e.code], csrf_token=_one(form, "csrf_token"),
                        username=username, message=e.message)
        if isinstance(e, RateLimited):
            response.headers["Retry-After"] = str(e.retry_after)
        return response
    _end_previous_session()
    cookies_out = [_cookie(session_cookie_name(), session.token, max_age=cfg.session_hours * 3600),
                   _device_cookie(session.principal.username or "")]
    return redirect("/admin" if session.principal.role == "organiser" else "/cases", cookies_out)


def _device_mac(key: str, username: str, nonce: str) -> str:
    folded = account_rules.username_key(username)
    return hmac.new(key.encode(), f"device:{folded}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _device_cookie(username: str) -> str:
    nonce = secrets.token_urlsafe(12)
    value = f"{nonce}.{_device_mac(bootstrap.config().signing_keys[0], username, nonce)}"
    return _cookie(_device_cookie_name(), value, same_site="Strict", max_age=DEVICE_DAYS * 86400)


def _device_cookie_name() -> str:
    return f"__Host-{DEVICE_COOKIE}" if bootstrap.config().secure_cookies else DEVICE_COOKIE


def _known_device(username: str) -> bool:
    """Whether this browser logged in as `username` before (a cookie only the server can make)."""
    nonce, _, mac = (cookies(_request()).get(_device_cookie_name()) or "").partition(".")
    return bool(nonce and username) and any(hmac.compare_digest(_device_mac(k, username, nonce), mac)
                                            for k in bootstrap.config().signing_keys)


def _end_previous_session() -> None:
    try:
        accounts.logout(_session(), bootstrap.now())
    except Unauthenticated:
        pass


@pages.route("/logout", methods=["POST"], content_types=FORM)
@page
def logout() -> Response:
    form = _form()
    try:
        who = _session()
    except Unauthenticated:
        who = None
    if who is not None:
        if not same(_one(form, "csrf_token"), who.csrf):
            raise PageError(403, CSRF_MESSAGE)
        accounts.logout(who, bootstrap.now())
    return redirect("/login?done=logged_out", [_cookie(session_cookie_name(), "", max_age=0)])


# -- a unit's cases ---------------------------------------------------------------------------------

@pages.route("/cases", methods=["GET"])
@page
def my_cases() -> Response:
    who = _who()
    found = sorted(cases.list_cases(bootstrap.case_repository(), bootstrap.competition(), who, None), key=lambda c: -float(c.created_at or 0))
    now = bootstrap.now_dt()
    return html("cases.html", who=who, cases=[cases.case_view(c) for c in found],
                resubmit_open={c.id for c in found if cases.resubmission_open(c, now)},
                categories=_category_names(), notice=NOTICES.get(_query("done") or ""),
                presentations=final_stage.presentations(bootstrap.competition(), found),
                prize_names=certificates.prize_names(bootstrap.competition()))


@pages.route("/cases/new", methods=["GET"])
@page
def new_case() -> Response:
    return _form_page(_who(), None, _blank())


@pages.route("/cases/new", methods=["POST"], content_types=FORM)
@page
def create_case() -> Response:
    who, form = _posted()
    values = _values(form)
    try:
        case = cases.create(bootstrap.case_repository(), bootstrap.competition(), who, values, bootstrap.now_dt())
    except FORM_ERRORS as e:
        return _form_page(who, None, values, error=e)
    return _after_save(who, case, values, _one(form, "action"))


@pages.route("/cases/{case_id}/edit", methods=["GET"])
@page
def edit_case(case_id: str) -> Response:
    who = _who()
    case = cases.get(bootstrap.case_repository(), who, case_id)
    return _form_page(who, case, cases.case_view(case), notice=NOTICES.get(_query("done") or ""))


@pages.route("/cases/{case_id}/edit", methods=["POST"], content_types=FORM)
@page
def save_case(case_id: str) -> Response:
    who, form = _posted()
    values = _values(form)
    version = _one(form, "version")
    raw = {**values, "version": int(version) if version.isdigit() and len(version) < 10 else -1}
    try:
        case = cases.update(bootstrap.case_repository(), bootstrap.competition(), who, case_id, raw, bootstrap.now_dt())
    except FORM_ERRORS as e:
        return _form_page(who, cases.get(bootstrap.case_repository(), who, case_id), values, error=e, version=raw["version"])
    return _after_save(who, case, values, _one(form, "action"))


def _after_save(who: Principal, case: Any, values: dict[str, Any], action: str) -> Response:
    if action != "submit":   # a coaching round's revision of an advanced or awarded case: a new version
        raise Redirect(f"/cases/{case.id}/edit?done={'revised' if case.status in ('advanced', 'awarded') else 'saved'}")
    try:
        cases.submit(bootstrap.case_repository(), bootstrap.competition(), who, case.id, bootstrap.now_dt())
    except FORM_ERRORS as e:
        return _form_page(who, cases.get(bootstrap.case_repository(), who, case.id), values, error=e, version=int(case.version))
    raise Redirect("/cases?done=submitted")


@pages.route("/cases/{case_id}", methods=["GET"])
@page
def case_status(case_id: str) -> Response:
    who = _who()
    case = cases.get(bootstrap.case_repository(), who, case_id)
    return html("case.html", who=who, case=cases.case_view(case), categories=_category_names(),
                genders=case_rules.GENDERS, rank_levels=case_rules.RANK_LEVELS,
                resubmit_open=cases.resubmission_open(case, bootstrap.now_dt()), **_outcome(who, case),
                presentation=presentations.state(bootstrap.competition(), case, bootstrap.now_dt()),
                notice=NOTICES.get(_query("done") or ""))


def _outcome(who: Principal, case: Any) -> dict[str, Any]:
    """What the case page links after text review: the experts' feedback (once there is any), the prize by
    name and the unit's own certificate (once the final is closed)."""
    comp = bootstrap.competition()
    coached = case.status in ("advanced", "awarded", "not_awarded")
    return {"has_feedback": coached and bool(scoring.feedback_for_unit(comp, who, case.id)["feedback"]),
            "prize_name": certificates.prize_names(comp).get(case.prize or "") if case.status == "awarded" else None,
            "certificate": certificates.available(comp, case)}


@pages.route("/cases/{case_id}/certificate", methods=["GET"])
@page
def case_certificate(case_id: str) -> Response:
    """The unit's own 荣誉证书 (PDF), built on request and handed over as a presigned download (as attachments
    are); other units' cases and cases without one: 404."""
    who = _who(("unit", "organiser"))
    cfg = bootstrap.config()
    url = certificates.own_certificate_url(bootstrap.competition(), who, case_id, bootstrap.files(),
                                           cfg.signing_keys[0], cfg.site_url, cfg.download_url_seconds, bootstrap.now())
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store", **_headers()})


@pages.route("/cases/{case_id}/withdraw", methods=["GET"])
@page
def confirm_withdraw(case_id: str) -> Response:
    """撤回 asks first: this page (no script needed) says what withdrawing means and posts the confirmation."""
    who = _who()
    return html("withdraw.html", who=who, case=cases.case_view(cases.get(bootstrap.case_repository(), who, case_id)))


@pages.route("/cases/{case_id}/withdraw", methods=["POST"], content_types=FORM)
@page
def withdraw_case(case_id: str) -> Response:
    who, form = _posted()
    if _one(form, "confirm") != "yes":
        return html("withdraw.html", who=who, case=cases.case_view(cases.get(bootstrap.case_repository(), who, case_id)))
    cases.withdraw(bootstrap.case_repository(), bootstrap.competition(), who, case_id, bootstrap.now_dt())
    raise Redirect("/cases?done=withdrawn")


@pages.route("/cases/{case_id}/presentation", methods=["GET"])
@page
def download_presentation(case_id: str) -> Response:
    """The case's 综合评选 presentation: forwards to a short-lived presigned download (named as uploaded)."""
    who = _who(("unit", "organiser"))
    found = presentations.download(bootstrap.config(), bootstrap.files(), who, case_id)
    return Response(body="", status_code=302, headers={"Location": found["url"], **_headers()})


@pages.route("/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@page
def download_attachment(case_id: str, attachment_id: str) -> Response:
    """A plain link that forwards to a short-lived presigned download (named as uploaded)."""
    who = _who(("unit", "organiser"))
    url = attachments.download_url(bootstrap.config(), bootstrap.files(), who, case_id, attachment_id)
    return Response(body="", status_code=302, headers={"Location": url, **_headers()})


# -- the case form ----------------------------------------------------------------------------------

def _category_names() -> dict[str, str]:
    return {c.id: c.name for c in bootstrap.competition().categories}


def _blank() -> dict[str, Any]:
    return {"category": "", "recommending_unit": "", "title": "",
            "leader": dict.fromkeys(case_rules.LEADER_FIELDS, ""), "contact": dict.fromkeys(case_rules.PERSON_FIELDS, ""),
            "background": "", "innovations": [""], "results": [""], "originality_pledge": False,
            "showcase_consent": False}


def _values(form: dict[str, list[str]]) -> dict[str, Any]:
    """The case body as typed: the same shape as the API's, so the services validate it unchanged."""
    return {
        "category": _one(form, "category"), "recommending_unit": _one(form, "recommending_unit"),
        "title": _one(form, "title"),
        "leader": {k: _one(form, f"leader.{k}") for k in case_rules.LEADER_FIELDS},
        "contact": {k: _one(form, f"contact.{k}") for k in case_rules.PERSON_FIELDS},
        "background": _one(form, "background"),
        "innovations": [v.replace("\r\n", "\n") for v in form.get("innovations", [])],
        "results": [v.replace("\r\n", "\n") for v in form.get("results", [])],
        "originality_pledge": _one(form, "originality_pledge") in ("1", "on", "true"),
        "showcase_consent": _one(form, "showcase_consent") in ("1", "on", "true"),
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
    comp = bootstrap.competition()
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
        "case_form.html", status=STATUS.get(error.code, 400) if error else 200, who=who, case=view,
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
            window = stages.windows(bootstrap.competition())["submission"]
            return None if window.is_open(bootstrap.now_dt()) else f"{window.name}阶段当前未开放，不能新增案例"
        cases.editable(bootstrap.case_repository(), bootstrap.competition(), who, case.id, bootstrap.now_dt())
        return None
    except (StageClosed, Conflict) as e:
        return e.message


# -- static files -----------------------------------------------------------------------------------

@pages.route("/downloads/{name}", methods=["GET"])
@page
def download(name: str) -> Response:
    """大赛通知 and the 参赛案例说明书 template that `/` links (made by `make downloads`), from S3."""
    cfg = bootstrap.config()
    return to_download(downloads.download_url(bootstrap.competition(), name, bootstrap.files(),
                                              cfg.download_url_seconds))


def to_download(url: str) -> Response:
    """A file download: a redirect to its presigned S3 GET. A page never answers with the file's bytes: a link
    with `download` sends no Accept header, so chalice (and API Gateway, which converts a binary body only for
    an Accept header that names a binary type) would refuse or mangle it."""
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store", **_headers()})


def template_download(name: str, filename: str, data: bytes) -> Response:
    """An import template of the console (.xlsx), handed out from S3 under templates/."""
    cfg = bootstrap.config()
    return to_download(downloads.handed_out(bootstrap.files(), f"downloads/{cfg.competition_id}/templates", name,
                                            data, filename, XLSX, cfg.download_url_seconds))


@pages.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    return static_response(name, STATIC_TYPES, (pages.current_request.query_params or {}).get("v"), SECURITY_HEADERS)


@pages.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    """The site's icon (an SVG: text, so no binary handling at API Gateway), where browsers look for it."""
    path = find_static("favicon.svg")
    if path is None:
        return Response(body="没有这个文件", status_code=404,
                        headers={"Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS})
    return Response(body=path.read_text("utf-8"), status_code=200, headers={
        **SECURITY_HEADERS, "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"})
