"""The public pages: the competition's landing (/, with 往届竞赛 below the current competition), an earlier
competition's page with its published results (/competitions/{id}), registration, login and logout, the
downloads the landing links, the static files and the favicon."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..domain.errors import (
    Duplicate, Invalid, MfaRequired, RateLimited, Unauthenticated,
)
from ..lazy import lazy
from .html import (
    FORM, NOTICES, Redirect, anon_form, anon_token, check_csrf, current_request, done_notice, end_previous_session,
    html, one, page, query, read_form, redirect, session_principal, set_cookie, to_download,
)
from .http import (
    SECURITY_HEADERS, STATUS, client_of, cookies,
    session_cookie_name,
)
from .templating import find_static, static_response

if TYPE_CHECKING:
    from .. import bootstrap
    from ..domain import accounts as account_rules, documents, showcase as showcase_rules
    from ..services import accounts, competition_archive, downloads, showcase, stages
else:
    (
        bootstrap, account_rules, documents, showcase_rules, accounts, competition_archive, downloads, showcase,
        stages,
    ) = lazy(
        __name__, "..bootstrap", "..domain.accounts", "..domain.documents", "..domain.showcase",
        "..services.accounts", "..services.competition_archive", "..services.downloads", "..services.showcase",
        "..services.stages",
    )

log = logging.getLogger("saiping")
public_pages = Blueprint(__name__)

STAGE_STATUS = {"pending": "未开始", "open": "进行中", "closed": "已截止"}
STATIC_TYPES = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
                "admin.css": "text/css; charset=utf-8", "admin.js": "text/javascript; charset=utf-8"}
DEVICE_COOKIE = "sp_device"               # a browser this account logged in from: skips the username's back-off
DEVICE_DAYS = 180
REGISTER_FIELDS = ("username", "unit_name", "unit_system", "district", "contact_name", "email", "mobile")


@public_pages.route("/", methods=["GET"])
@page
def home() -> Response:
    now = bootstrap.now()
    comp = bootstrap.competition()
    deps = bootstrap.deps()
    views = [stages.stage_view(w, now) for w in stages.windows(comp, deps.stages).values()]
    return html("home.html", stages=views, stage_status=STAGE_STATUS, contacts=documents.contacts(comp.raw),
                downloads=documents.downloads(comp), earlier=competition_archive.archive_list(deps.competitions, comp))


@public_pages.route("/competitions/{competition_id}", methods=["GET"])
@page
def earlier_competition(competition_id: str) -> Response:
    """A competition's page in the archive: its name, year and published results (the cases 优秀案例展示 shows,
    once its final has closed); a draft or an unknown id is a 404."""
    deps = bootstrap.deps()
    shown, year = competition_archive.public_competition(deps.competitions, competition_id)
    data = showcase.showcase(deps.results, deps.showcase, shown, "", "", bootstrap.now())
    return html("competition.html", shown=shown, year=year, data=data,
                groups=showcase_rules.grouped(data["cases"]),
                category_names={c.id: c.name for c in shown.categories},
                prize_names={p["id"]: p["name"] for p in shown.raw.get("prizes", [])})


@public_pages.route("/register", methods=["GET"])
@page
def register_form() -> Response:
    token, set_cookies = anon_token()
    return html("register.html", csrf_token=token, values={}, errors={}, unit_systems=account_rules.UNIT_SYSTEMS,
                rules=account_rules.RULES, set_cookies=set_cookies)


@public_pages.route("/register", methods=["POST"], content_types=FORM)
@page
def register() -> Response:
    form = anon_form()
    values = {k: one(form, k).strip() for k in REGISTER_FIELDS}
    try:
        accounts.register(bootstrap.deps().accounts,
                          {**values, "password": one(form, "password")}, bootstrap.config(), bootstrap.now(),
                          mailing=bootstrap.mailing())
    except (Invalid, Duplicate) as e:
        return html("register.html", status=STATUS[e.code], csrf_token=one(form, "csrf_token"), values=values,
                    errors=e.fields or {}, message=e.message, unit_systems=account_rules.UNIT_SYSTEMS,
                    rules=account_rules.RULES)
    raise Redirect("/login?done=registered")


@public_pages.route("/login", methods=["GET"])
@page
def login_form() -> Response:
    token, set_cookies = anon_token()
    return html("login.html", csrf_token=token, username="", notice=done_notice(NOTICES),
                set_cookies=set_cookies)


@public_pages.route("/login", methods=["POST"], content_types=FORM)
@page
def login() -> Response:
    """Step one (用户名, 密码); where the account has TOTP, step two (验证码) on a one-use ticket."""
    form = anon_form()
    username = one(form, "username").strip()
    cfg, now, client = bootstrap.config(), bootstrap.now(), client_of(current_request())
    try:
        if one(form, "ticket"):
            session = accounts.finish_second_step(bootstrap.deps().accounts,
                                                  one(form, "ticket"), one(form, "totp"), cfg, now, client)
        else:
            session = accounts.login(bootstrap.deps().accounts, username, one(form, "password"), cfg, now, client,
                                     known_device=_known_device(username))
    except MfaRequired:
        return html("login.html", status=200, csrf_token=one(form, "csrf_token"), username=username,
                    ticket=accounts.start_second_step(bootstrap.deps().accounts, username, now))
    except (Unauthenticated, RateLimited) as e:
        response = html("login.html", status=STATUS[e.code], csrf_token=one(form, "csrf_token"),
                        username=username, message=e.message)
        if isinstance(e, RateLimited):
            response.headers["Retry-After"] = str(e.retry_after)
        return response
    end_previous_session()
    cookies_out = [set_cookie(session_cookie_name(), session.token, max_age=cfg.session_hours * 3600),
                   _device_cookie(session.principal.username or "")]
    return redirect("/admin" if session.principal.role == "organiser" else "/cases", cookies_out)


def _device_mac(key: str, username: str, nonce: str) -> str:
    folded = account_rules.username_key(username)
    return hmac.new(key.encode(), f"device:{folded}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _device_cookie(username: str) -> str:
    nonce = secrets.token_urlsafe(12)
    value = f"{nonce}.{_device_mac(bootstrap.config().signing_keys[0], username, nonce)}"
    return set_cookie(_device_cookie_name(), value, same_site="Strict", max_age=DEVICE_DAYS * 86400)


def _device_cookie_name() -> str:
    return f"__Host-{DEVICE_COOKIE}" if bootstrap.config().secure_cookies else DEVICE_COOKIE


def _known_device(username: str) -> bool:
    """Whether this browser logged in as `username` before (a cookie only the server can make)."""
    nonce, _, mac = (cookies(current_request()).get(_device_cookie_name()) or "").partition(".")
    return bool(nonce and username) and any(hmac.compare_digest(_device_mac(k, username, nonce), mac)
                                            for k in bootstrap.config().signing_keys)


@public_pages.route("/logout", methods=["POST"], content_types=FORM)
@page
def logout() -> Response:
    form = read_form()
    try:
        who = session_principal()
    except Unauthenticated:
        who = None
    if who is not None:
        check_csrf(one(form, "csrf_token"), who.csrf)
        accounts.logout(bootstrap.deps().accounts, who, bootstrap.now())
    return redirect("/login?done=logged_out", [set_cookie(session_cookie_name(), "", max_age=0)])


# -- a unit's cases ---------------------------------------------------------------------------------

# -- static files -----------------------------------------------------------------------------------

@public_pages.route("/downloads/{name}", methods=["GET"])
@page
def download(name: str) -> Response:
    """大赛通知 and the 参赛案例说明书 template that `/` links (made by `make downloads`), from S3."""
    cfg = bootstrap.config()
    return to_download(downloads.download_url(bootstrap.competition(), name, bootstrap.files(),
                                              cfg.download_url_seconds))



@public_pages.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    return static_response(name, STATIC_TYPES, query("v"), SECURITY_HEADERS)


@public_pages.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    """The site's icon (an SVG: text, so no binary handling at API Gateway), where browsers look for it."""
    path = find_static("favicon.svg")
    if path is None:
        return Response(body="没有这个文件", status_code=404,
                        headers={"Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS})
    return Response(body=path.read_text("utf-8"), status_code=200, headers={
        **SECURITY_HEADERS, "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"})
