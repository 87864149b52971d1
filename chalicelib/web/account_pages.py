"""Pages of one's own account: 忘记密码 (/password-reset), the link's page (/reset/{token}), 我的帐号
(/account: password, two-step verification, sessions), and the organiser team (/admin/team).

Same rules as every page (html.py): anonymous forms carry the signed double-submit token, logged-in forms the session's
CSRF token; POST -> 303 -> GET; a refused form re-renders with its error beside the field.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from ..domain.errors import Conflict, Duplicate, Invalid, InvalidToken, NotFound, RateLimited
from ..lazy import lazy
from .admin_pages import console_page
from .http import STATUS, client_of, session_cookie_name
from .html import (
    FORM, Redirect, anon_form, anon_token, current_request, done_notice, html, one, page, posted, set_cookie,
    signed_in,
)

if TYPE_CHECKING:
    from .. import bootstrap
    from ..domain import accounts as account_rules, competition as competition_rules, totp
    from ..services import accounts
else:
    bootstrap, account_rules, competition_rules, totp, accounts = lazy(
        __name__, "..bootstrap", "..domain.accounts", "..domain.competition", "..domain.totp", "..services.accounts",
    )

account_pages = Blueprint(__name__)
OWN = ("unit", "organiser")
ORGANISER = ("organiser",)
NOTICES = {
    "password": "密码已修改，其他设备上的登录已退出。", "ended": "该设备的登录已结束。",
    "totp": "两步验证已启用。以后登录时需要输入身份验证器中的验证码。",
    "mfa_needed": "管理台要求两步验证：请先在下方启用两步验证，然后才能使用管理台。",
    "invited": "邀请邮件已发送。对方打开邮件中的链接设置密码后即可登录。", "role": "角色已修改。",
    "removed": "已移除该成员，其所有登录已立即结束。",
}


def _when(epoch: Any) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc).astimezone(competition_rules.CHINA).strftime(
        "%Y年%-m月%-d日 %H:%M")


def _browser(agent: str | None) -> str:
    """A user agent in words people know."""
    agent = agent or ""
    for needle, name in (("MicroMessenger", "微信"), ("Edg/", "Edge 浏览器"), ("Firefox/", "Firefox 浏览器"),
                         ("Chrome/", "Chrome 浏览器"), ("Safari/", "Safari 浏览器"), ("curl/", "命令行工具"),
                         ("python", "程序调用")):
        if needle.lower() in agent.lower():
            browser = name
            break
    else:
        browser = "未知浏览器" if agent else "接口调用"
    for needle, system in (("Windows", "Windows"), ("iPhone", "iPhone"), ("Android", "Android"),
                           ("Mac OS", "Mac"), ("Linux", "Linux")):
        if needle in agent:
            return f"{browser}（{system}）"
    return browser


# -- 忘记密码 ----------------------------------------------------------------------------------------

@account_pages.route("/password-reset", methods=["GET"])
@page
def reset_request_form() -> Response:
    token, set_cookies = anon_token()
    return html("password_reset.html", csrf_token=token, username="", errors={}, set_cookies=set_cookies)


@account_pages.route("/password-reset", methods=["POST"], content_types=FORM)
@page
def reset_request() -> Response:
    from .api_accounts import RESET_ACCEPTED, RESET_ANSWER_SECONDS, no_sooner_than
    form = anon_form()
    username = one(form, "username").strip()
    try:
        with no_sooner_than(RESET_ANSWER_SECONDS):
            accounts.request_reset(bootstrap.deps().accounts,
                                   {"username": username}, bootstrap.config(), bootstrap.now(),
                                   client_of(current_request()), mailing=bootstrap.mailing())
    except (Invalid, RateLimited) as e:
        return html("password_reset.html", status=STATUS[e.code], csrf_token=one(form, "csrf_token"),
                    username=username, errors=e.fields or {}, message=e.message)
    return html("password_reset.html", status=202, csrf_token=one(form, "csrf_token"), username=username,
                errors={}, sent=RESET_ACCEPTED["message"])


@account_pages.route("/reset/{token}", methods=["GET"])
@page
def reset_form(token: str) -> Response:
    csrf, set_cookies = anon_token()
    try:
        item = accounts.check_reset_token(bootstrap.deps().accounts, token, bootstrap.now())
    except InvalidToken as e:
        return html("reset.html", status=400, csrf_token=csrf, token=token, invalid=e.message, errors={},
                    set_cookies=set_cookies)
    return html("reset.html", csrf_token=csrf, token=token, errors={}, purpose=item.purpose, username=item.owner,
                hint=account_rules.PASSWORD_HINT, set_cookies=set_cookies)


@account_pages.route("/reset/{token}", methods=["POST"], content_types=FORM)
@page
def reset(token: str) -> Response:
    form = anon_form()
    password, again = one(form, "password"), one(form, "password_again")
    context: dict[str, Any] = {"csrf_token": one(form, "csrf_token"), "token": token,
                               "hint": account_rules.PASSWORD_HINT}
    try:
        if password != again:
            raise Invalid("两次输入的新密码不一致", {"password_again": "两次输入的新密码不一致"})
        accounts.reset_password(bootstrap.deps().accounts,
                                token, {"password": password}, bootstrap.config(), bootstrap.now())
    except InvalidToken as e:
        return html("reset.html", status=400, invalid=e.message, errors={}, **context)
    except Invalid as e:
        item = accounts.check_reset_token(bootstrap.deps().accounts, token, bootstrap.now())
        return html("reset.html", status=400, errors=e.fields or {}, message=e.message, purpose=item.purpose,
                    username=item.owner, **context)
    raise Redirect("/login?done=password_set")


# -- 我的帐号 ----------------------------------------------------------------------------------------

def _account_page(who: Any, status: int = 200, errors: dict[str, str] | None = None, message: str | None = None,
                  **context: Any) -> Response:
    account = accounts.account_of(bootstrap.deps().accounts, who)
    sessions = [{"id": s.session_id, "created": _when(s.created_at), "seen": _when(s.last_seen),
                 "client": s.client or "", "browser": _browser(s.agent), "current": s.token_hash == who.token_hash}
                for s in accounts.my_sessions(bootstrap.deps().accounts, who, bootstrap.now())]
    return html("account.html", status=status, who=who, account=account, sessions=sessions, errors=errors or {},
                message=message, hint=account_rules.PASSWORD_HINT, roles=account_rules.ORGANISER_ROLES,
                notice=context.pop("notice", done_notice(NOTICES)), **context)


@account_pages.route("/account", methods=["GET"])
@page
def account() -> Response:
    return _account_page(signed_in(OWN))


@account_pages.route("/account/password", methods=["POST"], content_types=FORM)
@page
def change_password() -> Response:
    who, form = posted(OWN)
    try:
        if one(form, "new_password") != one(form, "new_password_again"):
            raise Invalid("两次输入的新密码不一致", {"new_password_again": "两次输入的新密码不一致"})
        accounts.change_password(bootstrap.deps().accounts, who, {"current_password": one(form, "current_password"),
                                       "new_password": one(form, "new_password")}, bootstrap.config(), bootstrap.now())
    except Invalid as e:
        return _account_page(who, 400, e.fields, e.message)
    raise Redirect("/account?done=password")


@account_pages.route("/account/totp", methods=["POST"], content_types=FORM)
@page
def start_totp() -> Response:
    who, _ = posted(OWN)
    setup = accounts.start_totp(bootstrap.deps().accounts, who, bootstrap.now())
    return _account_page(who, setup=setup, qr=_qr(setup["otpauth_uri"]))


@account_pages.route("/account/totp/confirm", methods=["POST"], content_types=FORM)
@page
def confirm_totp() -> Response:
    who, form = posted(OWN)
    try:
        codes = accounts.confirm_totp(bootstrap.deps().accounts, who, {"code": one(form, "code")}, bootstrap.now())
    except (Invalid, Conflict) as e:
        account = accounts.account_of(bootstrap.deps().accounts, who)
        setup = ({"secret": account.totp_pending, "otpauth_uri": _uri(account.totp_pending, who.username)}
                 if account.totp_pending else None)
        return _account_page(who, 400, e.fields or {"code": e.message}, e.message, setup=setup,
                             qr=_qr(setup["otpauth_uri"]) if setup else None)
    return _account_page(who, recovery_codes=codes, notice=NOTICES["totp"])


def _uri(secret: str, username: str | None) -> str:
    return totp.otpauth_uri(secret, username or "")


def _qr(uri: str) -> str:
    """The otpauth URI as a QR code, a PNG data URI (the page's CSP allows img-src data:)."""
    import segno
    return segno.make(uri, error="m").png_data_uri(scale=5, border=3)


@account_pages.route("/account/sessions/{session_id}/end", methods=["POST"], content_types=FORM)
@page
def end_session(session_id: str) -> Response:
    who, _ = posted(OWN)
    accounts.end_session(bootstrap.deps().accounts, who, session_id, bootstrap.now())
    raise Redirect("/account?done=ended")


@account_pages.route("/account/sessions/end-all", methods=["POST"], content_types=FORM)
@page
def end_all_sessions() -> Response:
    who, _ = posted(OWN)
    accounts.end_sessions(bootstrap.deps().accounts, who, who.actor, "all_devices", bootstrap.now())
    return Response(body="", status_code=303, headers={
        "Location": "/login?done=ended", "Set-Cookie": set_cookie(session_cookie_name(), "", max_age=0)})


# -- the organiser team (/admin/team) ------------------------------------------------------------------

def _team_page(who: Any, status: int = 200, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               message: str | None = None) -> Response:
    members = [{**accounts.organiser_view(a), "role_name": account_rules.ORGANISER_ROLES[a.organiser_role or "admin"],
                "self": a.username == who.username} for a in accounts.team(bootstrap.deps().accounts)]
    notice = done_notice(NOTICES)
    return console_page("team.html", who, "team", status, members=members, values=values or {}, errors=errors or {},
                   message=message, roles=account_rules.ORGANISER_ROLES,
                   is_admin=(who.organiser_role or "admin") == "admin",
                   notice=notice)


@account_pages.route("/admin/team", methods=["GET"])
@page
def team() -> Response:
    return _team_page(signed_in(ORGANISER))


@account_pages.route("/admin/team", methods=["POST"], content_types=FORM)
@page
def invite() -> Response:
    who, form = posted(ORGANISER)
    values = {k: one(form, k).strip() for k in ("username", "name", "email", "role")}
    try:
        accounts.invite_organiser(bootstrap.deps().accounts, who, values, bootstrap.config(), bootstrap.now(),
                                  mailing=bootstrap.mailing())
    except (Invalid, Duplicate) as e:
        return _team_page(who, STATUS[e.code], values, e.fields, e.message)
    raise Redirect("/admin/team?done=invited")


@account_pages.route("/admin/team/{username}/role", methods=["POST"], content_types=FORM)
@page
def change_role(username: str) -> Response:
    who, form = posted(ORGANISER)
    try:
        accounts.change_organiser_role(bootstrap.deps().accounts,
                                       who, username, {"role": one(form, "role")}, bootstrap.now())
    except (Invalid, Conflict, NotFound) as e:
        return _team_page(who, STATUS[e.code], message=e.message)
    raise Redirect("/admin/team?done=role")


@account_pages.route("/admin/team/{username}/remove", methods=["POST"], content_types=FORM)
@page
def remove(username: str) -> Response:
    who, _ = posted(ORGANISER)
    try:
        accounts.remove_organiser(bootstrap.deps().accounts, who, username, bootstrap.now())
    except (Conflict, NotFound) as e:
        return _team_page(who, STATUS[e.code], message=e.message)
    raise Redirect("/admin/team?done=removed")
