"""What every handler shares: JSON bodies in and out, the error shape, the principal, security headers.

A handler is decorated with `@endpoint`: it returns a (status, body) pair or a Response; domain errors
become the contract's error shape; an AWS dependency that keeps failing becomes 503; nothing else
escapes as a bare 500 without a Chinese message and a log line.
"""
from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any, Callable

from chalice import Response

from ..domain.errors import DomainError, Forbidden, Invalid, NotFound, TooLarge
from ..lazy import lazy
from ..security import same
from . import inbound

if TYPE_CHECKING:
    from ..services.accounts import Client, Principal
    from .. import bootstrap
    from ..domain import accounts as account_rules
    from ..services import accounts, scoring
else:
    bootstrap, account_rules, accounts, scoring = lazy(
        __name__, "..bootstrap", "..domain.accounts", "..services.accounts", "..services.scoring",
    )


log = logging.getLogger("saiping")

STATUS = {
    "invalid": 400, "unauthenticated": 401, "forbidden": 403, "not_found": 404, "stage_closed": 409,
    "version_conflict": 409, "duplicate": 409, "not_submitted": 409, "conflict": 409, "too_large": 413,
    "rate_limited": 429, "unavailable": 503, "invalid_token": 400, "mfa_required": 401,
}
MAX_BODY = 256 * 1024
PARSED = "_saiping_json"   # the request's body as read_json parsed it (the middleware reads it first)
MAX_PATH_ID = 512          # bytes; no id is longer (DynamoDB refuses keys over 2048 bytes)
SESSION_COOKIE = "sp_session"
SECURE_SESSION_COOKIE = "__Host-sp_session"    # over https: bound to this host, Secure, Path=/
HSTS = "max-age=31536000; includeSubDomains"
CSRF_COOKIE = "sp_csrf"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def dependency_errors() -> tuple[type[Exception], ...]:
    """What a failing AWS dependency raises (botocore, PynamoDB; bootstrap asks the store): a 503 to retry,
    not a 500."""
    return bootstrap.unavailable_errors()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    text = "" if body is None else json.dumps(body, ensure_ascii=False)
    return Response(body=text, status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **SECURITY_HEADERS, **(headers or {})})


def error_body(error: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return {"error": body}


def error_response(error: DomainError) -> Response:
    headers = {"Retry-After": str(getattr(error, "retry_after", 5))} if error.code in (
        "unavailable", "rate_limited") else {}
    return json_response(STATUS.get(error.code, 400), error_body(error), headers)


def read_json(request: Any, required: bool = True, max_body: int = MAX_BODY) -> Any:
    """The request's JSON body, parsed and walked once (web/inbound.py): malformed JSON, bad UTF-8, control
    characters, numbers no field holds or an oversize body are 400/413 naming the field, never 500."""
    raw = request.raw_body or b""
    if len(raw) > max_body:
        raise TooLarge(f"请求体过大（超过 {max_body // 1024} KB）")
    if not raw.strip():
        if required:
            raise Invalid("请求体为空，应为 JSON 对象", {"body": "请求体为空"})
        return {}
    parsed = getattr(request, PARSED, None)
    if parsed is None:
        parsed = (inbound.parse_json(_bytes(raw)),)
        setattr(request, PARSED, parsed)
    return parsed[0]


def bearer_or_cookie(request: Any) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (then CSRF applies to writes)."""
    header = (request.headers or {}).get("authorization", "")
    if header[:7].lower() == "bearer ":
        return _token_text(header[7:].strip()), False
    jar = cookies(request)
    token = jar.get(SECURE_SESSION_COOKIE) or jar.get(SESSION_COOKIE)
    return token, token is not None


def _token_text(value: str) -> str | None:
    """A token as the app makes them (printable ASCII); anything else is no token (401), not an error."""
    return value if value.isascii() and value.isprintable() else None


def session_cookie_name() -> str:
    """`__Host-sp_session` where cookies are Secure (https); browsers refuse that prefix over http."""
    return SECURE_SESSION_COOKIE if bootstrap.config().secure_cookies else SESSION_COOKIE


def client_of(request: Any) -> Client:
    """The caller's address (API Gateway's source IP; chalice local: 127.0.0.1) and browser, for limits
    and the account's list of sessions."""
    identity = (getattr(request, "context", None) or {}).get("identity") or {}
    agent = "".join(ch for ch in (request.headers or {}).get("user-agent", "")[:200] if ch.isprintable())
    return accounts.Client(str(identity.get("sourceIp") or "unknown")[:64], agent)


def route_of(request: Any) -> str:
    return str((getattr(request, "context", None) or {}).get("resourcePath") or "")


def authorize_organiser(who: Principal, request: Any) -> None:
    """The organiser team's roles, by route and method, for every console page and organiser API route
    (domain/accounts.organiser_refusal names the admin-only ones); TOTP first where it is required."""
    if who.role != "organiser":
        return
    route = route_of(request)
    if bootstrap.config().totp_required_for_organisers and not who.mfa and not account_rules.own_account_route(route):
        raise Forbidden("请先在“我的帐号”（/account）中启用两步验证，之后才能使用管理台")
    refusal = account_rules.organiser_refusal(who.organiser_role, request.method, route)
    if refusal:
        raise Forbidden(refusal)


def strict_transport(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: HSTS on every response served over https (API Gateway says so in X-Forwarded-Proto)."""
    response = get_response(event)
    if ((event.headers or {}).get("x-forwarded-proto", "").lower() == "https"
            and "Strict-Transport-Security" not in (response.headers or {})):
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def refuse_malformed(request: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware, the door of every route before its handler: path parameters, the query string and
    the body (JSON on the API, an urlencoded form on pages) are walked (web/inbound.py); what no field can
    hold is a 400 naming the field (the error shape, or the pages' Chinese error page), logged as one
    WARNING line without the value."""
    from .not_found import is_api
    path = getattr(request, "path", "") or ""
    query = request.query_params
    try:
        inbound.check_request_params(request.uri_params, {k: query.getlist(k) for k in query} if query else None)
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.raw_body:
            content_type = (request.headers or {}).get("content-type", "application/json").lower()
            if is_api(path) and content_type.startswith("application/json") and len(request.raw_body) <= MAX_BODY:
                read_json(request, required=False)
            elif not is_api(path) and content_type.startswith("application/x-www-form-urlencoded"):
                inbound.parse_form(_bytes(request.raw_body))
    except Invalid as error:
        log.warning("malformed input refused: %s %s (%s)", request.method, path, ", ".join(error.fields or {})[:80])
        return error_response(error) if is_api(path) else _refusal_page(f"提交的内容无法识别：{error.message}")
    except ValueError:       # more form fields than any form has
        pass                 # the page's own form reader answers it
    return get_response(request)


def _refusal_page(message: str) -> Response:
    """The pages' Chinese 400 page; plain text when the page cannot be made (a refusal is never a 5xx)."""
    try:
        from .html import error_page
        return error_page(400, message)
    except Exception as error:
        log.warning("the 400 page could not be rendered (%s)", type(error).__name__)
        return Response(body=message, status_code=400,
                        headers={"Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS})


def _bytes(raw: bytes | str) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")


def cookies(request: Any) -> dict[str, str]:
    jar: dict[str, str] = {}
    for part in (request.headers or {}).get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in jar and _token_text(value) is not None:   # every cookie the app sets is ASCII
            jar[name] = value
    return jar


def principal(request: Any, roles: tuple[str, ...] | None = None) -> Principal:
    token, from_cookie = bearer_or_cookie(request)
    who = accounts.authenticate(bootstrap.deps().accounts, token, bootstrap.now(), cfg=bootstrap.config())
    if from_cookie and request.method not in ("GET", "HEAD"):
        sent = (request.headers or {}).get("x-csrf-token")
        if not same(sent, who.csrf):
            raise Forbidden("安全校验失败（CSRF），请刷新页面后重试")
    if roles is not None and who.role not in roles:
        if who.role == "judge" and "judge" not in roles:
            raise Forbidden("评委链接只能用于评分")
        raise Forbidden("当前帐号无权进行此操作")
    authorize_organiser(who, request)
    return who


def judge(request: Any) -> Any:
    """The judge behind a scoring session (bearer for the API, the cookie for pages + CSRF on writes)."""
    token, from_cookie = bearer_or_cookie(request)
    who = scoring.authenticate_judge(bootstrap.deps().judging, token, bootstrap.now())
    if from_cookie and request.method not in ("GET", "HEAD"):
        if not same((request.headers or {}).get("x-csrf-token"), who.csrf):
            raise Forbidden("安全校验失败（CSRF），请刷新页面后重试")
    return who


def endpoint(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        try:
            bootstrap.config()  # binds the store on a cold start
            if any(isinstance(v, str) and len(v.encode("utf-8", "surrogatepass")) > MAX_PATH_ID
                   for v in kwargs.values()):
                raise NotFound("没有找到（编号不正确）")  # DynamoDB would refuse such a key: a 5xx, not a 404
            result = handler(*args, **kwargs)
        except DomainError as error:
            return error_response(error)
        except dependency_errors():
            log.exception("AWS dependency failed in %s", handler.__name__)
            return error_response(DomainError("服务暂时繁忙，请稍后重试", code="unavailable"))
        except Exception:
            log.exception("unexpected error in %s", handler.__name__)
            return json_response(500, {"error": {"code": "internal", "message": "服务器内部错误，请稍后重试"}})
        if isinstance(result, Response):
            return result
        status, body = result
        return json_response(status, body)
    return wrapped


def int_param(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise Invalid(f"{name} 应为正整数", {name: "应为正整数"})
    return int(value)
