"""The page framework every HTML page uses: the security headers and CSP, rendering and redirects, the page
decorator that turns errors into Chinese error pages, cookies, and form handling.

Sessions ride in the HttpOnly cookie `sp_session`. Every form carries a CSRF token: once logged in it is
the session's own (`csrf_token` == Principal.csrf, `posted()`); before that (login, register) a signed
double-submit cookie `sp_csrf` that the hidden field must repeat (`anon_token()`, `anon_form()`). Form posts
are urlencoded and strict UTF-8 (`read_form()`). A refused form (FORM_ERRORS) re-renders with the user's values.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from chalice import Blueprint, Response

from ..domain.errors import (
    Conflict, DomainError, Forbidden, Invalid, StageClosed, TooLarge, Unauthenticated, VersionConflict,
)
from ..lazy import lazy
from ..media import XLSX
from ..security import same
from . import inbound
from .http import (
    CSRF_COOKIE, SECURITY_HEADERS, STATUS, authorize_organiser, bearer_or_cookie, cookies, dependency_errors,
)
from .templating import render, static_digest

if TYPE_CHECKING:
    from .. import bootstrap
    from ..domain import competition as competition_rules
    from ..services import accounts, downloads, judge_portal as portal
    from ..services.accounts import Principal
    from ..services.scoring import JudgePrincipal
else:
    bootstrap, competition_rules, accounts, downloads, portal = lazy(
        __name__, "..bootstrap", "..domain.competition", "..services.accounts", "..services.downloads",
        "..services.judge_portal",
    )

log = logging.getLogger("saiping")

FORM = ["application/x-www-form-urlencoded"]
MAX_FORM = 256 * 1024
CSRF_MESSAGE = "安全校验失败（CSRF）：页面已过期或来源不明。请返回并刷新页面后再提交。"
NOTICES = {"saved": "草稿已保存。", "revised": "修改已保存，形成新版本（原版本保留，可在“历史版本”查看）。",
           "submitted": "案例已提交。", "withdrawn": "案例已撤回。",
           "registered": "注册成功，请登录。", "logged_out": "您已退出登录。",
           "password_set": "密码已设置，请用新密码登录。", "ended": "登录已结束，请重新登录。",
           "presentation": "展示材料已上传并通过校验。",
           "showcase_in": "已同意公开展示：案例获奖后将在优秀案例展示中公开。", "showcase_out": "已撤出成果展示。"}

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


# Holds no routes: app.py registers it, so every page's helpers read the request being answered.
framework = Blueprint(__name__)


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


def csp() -> str:
    cfg = bootstrap.config()
    # In AWS the stack names the bucket's origin (UPLOAD_ORIGIN): a page need not build an S3 client for it.
    upload = cfg.upload_origin or _upload_origin(cfg.endpoint_url, cfg.bucket, cfg.region)
    return "; ".join((
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        f"connect-src 'self' {upload}", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
        "object-src 'none'",
    ))


def page_headers(set_cookies: list[str] | None = None) -> dict[str, Any]:
    headers: dict[str, Any] = {**SECURITY_HEADERS, "Content-Security-Policy": csp()}
    if set_cookies:
        headers["Set-Cookie"] = set_cookies
    return headers


def html(template: str, status: int = 200, set_cookies: list[str] | None = None, **context: Any) -> Response:
    """Render `pages/<template>` with the competition (`comp`: the current one unless given, e.g. a judge's own or
    an earlier case's) and the caller's principal (`who`, may be None)."""
    context.setdefault("who", None)
    comp = context.pop("comp", None) or bootstrap.competition()
    body = render(f"pages/{template}", comp=comp, **context)
    return Response(body=body, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **page_headers(set_cookies)})


def redirect(location: str, set_cookies: list[str] | None = None) -> Response:
    return Response(body="", status_code=303, headers={"Location": location, **page_headers(set_cookies)})


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

def set_cookie(name: str, value: str, same_site: str = "Lax", max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", f"SameSite={same_site}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if bootstrap.config().secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def current_request() -> Any:
    return framework.current_request


def read_form() -> dict[str, list[str]]:
    raw = current_request().raw_body or b""
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


def one(form: dict[str, list[str]], key: str) -> str:
    return form.get(key, [""])[0].replace("\r\n", "\n")


def query(key: str) -> str | None:
    return (current_request().query_params or {}).get(key)


def _anon_mac(key: str, nonce: str) -> str:
    return hmac.new(key.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _anon_valid(value: str | None) -> bool:
    """A double-submit token the server made (signed), so a planted cookie cannot pass."""
    nonce, _, mac = (value or "").partition(".")
    return bool(nonce) and any(hmac.compare_digest(_anon_mac(k, nonce), mac) for k in bootstrap.config().signing_keys)


def anon_token() -> tuple[str, list[str]]:
    """The anonymous form's CSRF token, and the Set-Cookie that plants it when the browser has none."""
    current = cookies(current_request()).get(CSRF_COOKIE)
    if _anon_valid(current):
        return current, []  # type: ignore[return-value]
    nonce = secrets.token_urlsafe(18)
    token = f"{nonce}.{_anon_mac(bootstrap.config().signing_keys[0], nonce)}"
    return token, [set_cookie(CSRF_COOKIE, token, same_site="Strict")]


def anon_form() -> dict[str, list[str]]:
    form = read_form()
    cookie = cookies(current_request()).get(CSRF_COOKIE)
    if not (_anon_valid(cookie) and same(cookie, one(form, "csrf_token"))):
        raise PageError(403, CSRF_MESSAGE)
    return form


def session_principal() -> Principal:
    token, _ = bearer_or_cookie(current_request())
    return accounts.authenticate(bootstrap.deps().accounts, token, bootstrap.now(), cfg=bootstrap.config())


def signed_in(roles: tuple[str, ...] = ("unit",)) -> Principal:
    """The logged-in principal; anyone else goes to /login (an organiser on a unit page: to /admin).
    An organiser's role is checked here for every console page (http.authorize_organiser)."""
    try:
        who = session_principal()
    except Unauthenticated:
        raise Redirect("/login") from None
    if who.role not in roles:
        raise Redirect("/admin" if who.role == "organiser" else "/login")
    try:
        authorize_organiser(who, current_request())
    except Forbidden as e:
        if bootstrap.config().totp_required_for_organisers and not who.mfa:
            raise Redirect("/account?done=mfa_needed") from None
        raise PageError(403, e.message) from None
    return who


def posted(roles: tuple[str, ...] = ("unit",)) -> tuple[Principal, dict[str, list[str]]]:
    """A logged-in form post: the principal and the form, whose csrf_token must be the session's."""
    who = signed_in(roles)
    form = read_form()
    check_csrf(one(form, "csrf_token"), who.csrf)
    return who, form


def check_csrf(sent: str | None, expected: str | None) -> None:
    """A logged-in form's csrf_token must be the session's own: else the Chinese 403 page."""
    if not same(sent, expected):
        raise PageError(403, CSRF_MESSAGE)


def done_notice(notices: dict[str, str]) -> str | None:
    """The notice that `?done=…` names after a form's redirect (none for a name the page does not know)."""
    return notices.get(query("done") or "")


# -- downloads, the previous session ----------------------------------------------------------------

def to_download(url: str) -> Response:
    """A file download: a redirect to its presigned S3 GET. A page never answers with the file's bytes: a link
    with `download` sends no Accept header, so chalice (and API Gateway, which converts a binary body only for
    an Accept header that names a binary type) would refuse or mangle it."""
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store", **page_headers()})


def template_download(name: str, filename: str, data: bytes) -> Response:
    """An import template of the console (.xlsx), handed out from S3 under templates/."""
    cfg = bootstrap.config()
    return to_download(downloads.handed_out(bootstrap.files(), f"downloads/{cfg.competition_id}/templates", name,
                                            data, filename, XLSX, cfg.download_url_seconds))


def end_previous_session() -> None:
    """A login (or a judge's link) ends the session this browser had, if any."""
    try:
        accounts.logout(bootstrap.deps().accounts, session_principal(), bootstrap.now())
    except Unauthenticated:
        pass


# -- the judges' page style (pages/judge/ templates, judge.css): also the unit's feedback and the QR sheet

def judge_static(name: str) -> str:
    return f"/static/judge/{name}?v={static_digest(name)}"


def judge_html(template_name: str, **context: Any) -> Response:
    """Render `pages/judge/<template>` with what the judges' templates name (stages, rounds, categories), of the
    competition `comp` when given (a judge's own, an earlier case's), else the current one."""
    comp = context.pop("comp", None) or bootstrap.competition()
    return html(f"judge/{template_name}", comp=comp, judge_static=judge_static,
                stage_names={w.id: w.name for w in comp.default_windows},
                round_names={w.id: comp.round_name(w.id) for w in comp.default_windows},
                is_coaching=competition_rules.is_coaching,
                category_names={c.id: c.name for c in comp.categories}, **context)


def judge_competition(who: JudgePrincipal) -> competition_rules.Competition:
    """The competition of the judge's session (the one whose link opened it), from the per-process cache."""
    return bootstrap.competition_by_id(who.competition_id)


def judge_bar(who: JudgePrincipal) -> dict[str, Any]:
    """The bar atop a judge's pages: who, which stage, and the session's CSRF token for its forms."""
    comp = judge_competition(who)
    return {"name": portal.judge_name(bootstrap.deps().judging, comp, who.judge_id), "stage": who.stage,
            "stage_name": comp.round_name(who.stage), "csrf": who.csrf}
