"""The JSON API of one's own account (password reset and change, two-step verification, sessions) and of
the organiser team (docs/openapi.yaml)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from chalice import Blueprint

from ..lazy import lazy
from .http import client_of, endpoint, principal, read_json

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import accounts
    from ..domain import competition as competition_rules
else:
    bootstrap, accounts, competition_rules = lazy(
        __name__, "..bootstrap", "..services.accounts", "..domain.competition",
    )

api_accounts = Blueprint(__name__)
OWN = ("unit", "organiser")
ORGANISER = ("organiser",)
# A reset request answers no sooner than this, whether or not the account exists and a mail went out, so
# its time tells nothing (the known account's path costs a few more calls and the mail).
RESET_ANSWER_SECONDS = 0.5
RESET_ACCEPTED = {"status": "accepted",
                  "message": "如果该用户名已注册，重置密码的链接已发送到其注册邮箱，30 分钟内有效。"}


def _request() -> Any:
    return api_accounts.current_request


@contextmanager
def no_sooner_than(seconds: float) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        left = seconds - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)


def _time(epoch: float | None) -> str | None:
    from datetime import datetime, timezone
    return None if not epoch else competition_rules.format_time(datetime.fromtimestamp(float(epoch), tz=timezone.utc))


# -- password reset -----------------------------------------------------------------------------------

@api_accounts.route("/password-resets", methods=["POST"])
@endpoint
def request_reset():
    raw = read_json(_request())
    with no_sooner_than(RESET_ANSWER_SECONDS):
        accounts.request_reset(bootstrap.deps().accounts,
                               raw, bootstrap.config(), bootstrap.now(), client_of(_request()),
                               mailing=bootstrap.mailing())
    return 202, RESET_ACCEPTED


@api_accounts.route("/password-resets/{token}", methods=["POST"])
@endpoint
def reset_password(token):
    account = accounts.reset_password(bootstrap.deps().accounts,
                                      token, read_json(_request()), bootstrap.config(), bootstrap.now())
    return 200, {"username": account.username, "status": "password_set"}


# -- one's own account --------------------------------------------------------------------------------

@api_accounts.route("/account", methods=["GET"])
@endpoint
def my_account():
    account = accounts.account_of(bootstrap.deps().accounts, principal(_request(), OWN))
    return 200, {"username": account.username, "role": account.role,
                 "organiser_role": account.organiser_role if account.role == "organiser" else None,
                 "totp_enabled": bool(account.totp_secret), "email": account.email}


@api_accounts.route("/account/password", methods=["PUT"])
@endpoint
def change_password():
    accounts.change_password(bootstrap.deps().accounts,
                             principal(_request(), OWN), read_json(_request()), bootstrap.config(), bootstrap.now())
    return 200, {"status": "password_changed"}


@api_accounts.route("/account/totp", methods=["POST"])
@endpoint
def start_totp():
    return 200, accounts.start_totp(bootstrap.deps().accounts, principal(_request(), OWN), bootstrap.now())


@api_accounts.route("/account/totp/confirm", methods=["POST"])
@endpoint
def confirm_totp():
    who = principal(_request(), OWN)
    codes = accounts.confirm_totp(bootstrap.deps().accounts, who, read_json(_request()), bootstrap.now())
    return 200, {"enabled": True, "recovery_codes": codes}


@api_accounts.route("/account/sessions", methods=["GET"])
@endpoint
def my_sessions():
    who = principal(_request(), OWN)
    return 200, {"sessions": [
        {"id": s.session_id, "created_at": _time(s.created_at), "last_seen": _time(s.last_seen),
         "client": s.client, "agent": s.agent, "current": s.token_hash == who.token_hash}
        for s in accounts.my_sessions(bootstrap.deps().accounts, who, bootstrap.now())]}


@api_accounts.route("/account/sessions/{session_id}", methods=["DELETE"])
@endpoint
def end_session(session_id):
    accounts.end_session(bootstrap.deps().accounts, principal(_request(), OWN), session_id, bootstrap.now())
    return 204, None


@api_accounts.route("/account/sessions", methods=["DELETE"])
@endpoint
def end_all_sessions():
    who = principal(_request(), OWN)
    accounts.end_sessions(bootstrap.deps().accounts, who, who.actor, "all_devices", bootstrap.now())
    return 204, None


# -- the organiser team -------------------------------------------------------------------------------

@api_accounts.route("/admin/organisers", methods=["GET"])
@endpoint
def list_organisers():
    principal(_request(), ORGANISER)
    return 200, {"organisers": [accounts.organiser_view(a) for a in accounts.team(bootstrap.deps().accounts)]}


@api_accounts.route("/admin/organisers", methods=["POST"])
@endpoint
def invite_organiser():
    who = principal(_request(), ORGANISER)
    account = accounts.invite_organiser(bootstrap.deps().accounts,
                                        who, read_json(_request()), bootstrap.config(), bootstrap.now(),
                                        mailing=bootstrap.mailing())
    return 201, accounts.organiser_view(account)


@api_accounts.route("/admin/organisers/{username}", methods=["PUT"])
@endpoint
def change_organiser_role(username):
    who = principal(_request(), ORGANISER)
    account = accounts.change_organiser_role(bootstrap.deps().accounts,
                                             who, username, read_json(_request()), bootstrap.now())
    return 200, accounts.organiser_view(account)


@api_accounts.route("/admin/organisers/{username}", methods=["DELETE"])
@endpoint
def remove_organiser(username):
    accounts.remove_organiser(bootstrap.deps().accounts, principal(_request(), ORGANISER), username, bootstrap.now())
    return 204, None
