"""services/accounts.py on the in-memory account repository: no DynamoDB, no moto (`make test-fast` runs these).

Mail is the notifications module's; here it is caught (what would be sent, to whom, with which link).
"""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import pytest

from chalicelib.domain.clock import moment
from chalicelib.config import Settings, settings
from chalicelib.domain.errors import (
    Conflict, Duplicate, Forbidden, Invalid, InvalidToken, NotFound, RateLimited, Unauthenticated,
)
from chalicelib.services import accounts, notifications
from chalicelib.services.accounts import Client, Principal
from chalicelib.store.memory import MemoryTables
from chalicelib.store.memory_accounts import InMemoryAccountRepository
from chalicelib.store.memory_mail import InMemoryMailRepository

T = 1_685_584_800.0     # 2023-06-01 10:00 in Shenzhen
PASSWORD = "correct-horse-1"
HERE = Client("203.0.113.9", "Firefox")
MAILING = notifications.Mailing(lambda: None, None, InMemoryMailRepository())   # no port: mail is caught below


CFG = dataclasses.replace(settings(), argon2_time_cost=1, argon2_memory_kib=8192)


@pytest.fixture
def cfg() -> Settings:
    return CFG


@pytest.fixture
def repo() -> InMemoryAccountRepository:
    return InMemoryAccountRepository(MemoryTables())


@pytest.fixture
def mail(monkeypatch) -> list[dict[str, Any]]:
    """The mails the service would send (kind, recipient, context), none of them sent."""
    sent: list[dict[str, Any]] = []

    def send(ports, comp, kind, object_key, recipient, context, now, mail) -> bool:
        sent.append({"kind": kind, "to": recipient, **context})
        return True
    monkeypatch.setattr(notifications, "_send", send)
    monkeypatch.setattr(notifications, "registered", lambda account, now, mailing: bool(sent.append(
        {"kind": "registration", "to": account.email})) or True)
    return sent


def registration(n: int = 1, **overrides: Any) -> dict[str, Any]:
    return {"username": f"unit{n}", "password": PASSWORD, "unit_name": f"深圳市第{n}局", "unit_system": "municipal",
            "contact_name": "张三", "email": f"u{n}@example.gov.cn", "mobile": "13800138000", **overrides}


def admin(repo: InMemoryAccountRepository, cfg: Settings) -> Principal:
    accounts.ensure_organiser(repo, "boss", "organiser-password-1", cfg, moment(T))
    return accounts.login(repo, "boss", "organiser-password-1", cfg, moment(T), HERE).principal


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_account_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


# -- registration -----------------------------------------------------------------------------------

def test_a_unit_registers_once_and_logs_in(repo, cfg, mail) -> None:
    account = accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    assert (account.role, account.unit_name, repo.get("unit1")) == ("unit", "深圳市第1局", account)
    assert mail == [{"kind": "registration", "to": "u1@example.gov.cn"}]
    with pytest.raises(Duplicate) as same_unit:
        accounts.register(repo, registration(2, unit_name="深圳市第1局"), cfg, moment(T), mailing=MAILING)
    assert same_unit.value.fields == {"unit_name": "该单位已注册帐号"}
    with pytest.raises(Duplicate) as taken:
        accounts.register(repo, registration(1, unit_name="深圳市第9局"), cfg, moment(T), mailing=MAILING)
    assert taken.value.fields == {"username": "用户名已被使用"}
    with pytest.raises(Invalid):
        accounts.register(repo, registration(3, password="short"), cfg, moment(T), mailing=MAILING)
    session = accounts.login(repo, "UNIT1", PASSWORD, cfg, moment(T), HERE)
    assert (session.principal.role, session.principal.username, session.principal.unit_name) == (
        "unit", "unit1", "深圳市第1局")
    assert accounts.authenticate(repo, session.token, moment(T + 60), cfg=CFG) == session.principal
    assert ("account#unit1", "unit:unit1", "session.open") in repo.audit


def test_the_organiser_from_the_environment_is_made_once_then_gets_a_new_password(repo, cfg) -> None:
    first = accounts.ensure_organiser(repo, "boss", "organiser-password-1", cfg, moment(T))
    again = accounts.ensure_organiser(repo, "boss", "organiser-password-2", cfg, moment(T + 1))
    assert (again.id, again.organiser_role) == (first.id, "admin") and again.password_hash != first.password_hash
    with pytest.raises(Unauthenticated):
        accounts.login(repo, "boss", "organiser-password-1", cfg, moment(T + 2))
    assert accounts.login(repo, "boss", "organiser-password-2", cfg, moment(T + 2)).principal.organiser_role == "admin"


# -- login ------------------------------------------------------------------------------------------

def test_a_wrong_password_is_refused_and_repeated_failures_back_off(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    for _ in range(cfg.login_max_failures):
        with pytest.raises(Unauthenticated):
            accounts.login(repo, "unit1", "wrong-password", cfg, moment(T), HERE)
    with pytest.raises(RateLimited) as limited:                 # even the right password must wait
        accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    assert limited.value.retry_after == 2
    assert accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE, known_device=True).principal.username == "unit1"
    assert accounts.login(repo, "unit1", PASSWORD, cfg, moment(T + 2), HERE).principal.username == "unit1"
    # the session ended the account's count: the next failure is a first one again
    with pytest.raises(Unauthenticated):
        accounts.login(repo, "unit1", "wrong-password", cfg, moment(T + 3), HERE)
    _, throttle, _ = repo.get_for_login("unit1", HERE.address, T + 3)
    assert throttle.failures == 1
    assert sum(entry == ("account#unit1", "anonymous", "login.failed") for entry in repo.audit) == 6


def test_an_unknown_user_fails_like_a_wrong_password(repo, cfg) -> None:
    with pytest.raises(Unauthenticated) as unknown:
        accounts.login(repo, "nobody", PASSWORD, cfg, moment(T), HERE)
    assert unknown.value.message == "用户名或密码错误"
    with pytest.raises(Unauthenticated):
        accounts.login(repo, "", "", cfg, moment(T), HERE)


def test_an_expired_or_unknown_session_is_refused(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    session = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, session.token, moment(T + cfg.session_hours * 3600), cfg=CFG)
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, "no-such-token", moment(T), cfg=CFG)
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, None, moment(T), cfg=CFG)


# -- password reset ---------------------------------------------------------------------------------

def test_a_reset_link_sets_the_password_once_and_ends_every_session(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    old = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    accounts.request_reset(repo, {"username": "unit1"}, cfg, moment(T + 10), HERE, mailing=MAILING)
    accounts.request_reset(repo, {"username": "nobody"}, cfg, moment(T + 10), HERE, mailing=MAILING)       # the same answer, no mail
    resets = [m for m in mail if m["kind"] == "password_reset"]
    assert [m["to"] for m in resets] == ["u1@example.gov.cn"]
    token = token_of(resets[0]["link"])
    item = accounts.check_reset_token(repo, token, moment(T + 20))
    assert (item.owner, item.purpose) == ("unit1", "reset")
    with pytest.raises(Invalid):
        accounts.reset_password(repo, token, {"password": "short"}, cfg, moment(T + 20))   # the link is not spent
    accounts.reset_password(repo, token, {"password": "another-horse-2"}, cfg, moment(T + 30))
    with pytest.raises(InvalidToken):
        accounts.reset_password(repo, token, {"password": "third-horse-3"}, cfg, moment(T + 40))
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, old.token, moment(T + 40), cfg=CFG)
    assert accounts.login(repo, "unit1", "another-horse-2", cfg, moment(T + 40), HERE).principal.username == "unit1"


def test_a_reset_link_expires_after_thirty_minutes(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    accounts.request_reset(repo, {"username": "unit1"}, cfg, moment(T), HERE, mailing=MAILING)
    token = token_of(mail[-1]["link"])
    with pytest.raises(InvalidToken):
        accounts.reset_password(repo, token, {"password": "another-horse-2"}, cfg, moment(T + accounts.RESET_SECONDS))


def test_reset_mails_are_limited_per_account_and_per_client(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    for _ in range(accounts.RESET_PER_ACCOUNT + 1):
        accounts.request_reset(repo, {"username": "unit1"}, cfg, moment(T), Client(f"198.51.100.{len(mail)}"), mailing=MAILING)
    assert sum(m["kind"] == "password_reset" for m in mail) == accounts.RESET_PER_ACCOUNT
    for _ in range(accounts.RESET_PER_CLIENT):
        accounts.request_reset(repo, {"username": "nobody"}, cfg, moment(T), HERE, mailing=MAILING)
    with pytest.raises(RateLimited):
        accounts.request_reset(repo, {"username": "nobody"}, cfg, moment(T), HERE, mailing=MAILING)


# -- sessions ---------------------------------------------------------------------------------------

def test_sessions_are_listed_and_revoked_one_or_all(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    first = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    second = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T + 1), Client("198.51.100.7", "Chrome"))
    third = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T + 2), HERE)
    listed = accounts.my_sessions(repo, first.principal, moment(T + 3))
    assert [s.client for s in listed] == ["203.0.113.9", "198.51.100.7", "203.0.113.9"]   # newest first
    with pytest.raises(NotFound):
        accounts.end_session(repo, first.principal, "no-such-session", moment(T + 3))
    accounts.end_session(repo, first.principal, listed[1].session_id, moment(T + 3))
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, second.token, moment(T + 4), cfg=CFG)
    assert accounts.end_sessions(repo, first.principal, first.principal.actor, "all_devices", moment(T + 5)) == 2
    for ended in (first, third):
        with pytest.raises(Unauthenticated):
            accounts.authenticate(repo, ended.token, moment(T + 6), cfg=CFG)


def test_logout_ends_this_session_only(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    one = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    other = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    accounts.logout(repo, one.principal, moment(T + 1))
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, one.token, moment(T + 2), cfg=CFG)
    assert accounts.authenticate(repo, other.token, moment(T + 2), cfg=CFG).username == "unit1"
    assert ("account#unit1", "unit:unit1", "session.close") in repo.audit


def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(repo, cfg, mail) -> None:
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    here = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    elsewhere = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE)
    with pytest.raises(Invalid) as wrong:
        accounts.change_password(repo, here.principal, {"current_password": "nope", "new_password": "x" * 12}, cfg, moment(T))
    assert wrong.value.fields == {"current_password": "当前密码不正确"}
    accounts.change_password(repo, here.principal, {"current_password": PASSWORD,
                                                    "new_password": "another-horse-2"}, cfg, moment(T + 1))
    assert accounts.authenticate(repo, here.token, moment(T + 2), cfg=CFG).username == "unit1"
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, elsewhere.token, moment(T + 2), cfg=CFG)


def test_an_organisers_idle_session_moves_on_use_and_ends_when_idle(repo, cfg) -> None:
    accounts.ensure_organiser(repo, "boss", "organiser-password-1", cfg, moment(T))
    session = accounts.login(repo, "boss", "organiser-password-1", cfg, moment(T), HERE)
    idle = cfg.organiser_idle_minutes * 60
    assert session.expires_at == T + idle
    accounts.authenticate(repo, session.token, moment(T + idle - 1), cfg=CFG)            # moves the idle deadline
    stored = repo.get_session(session.principal.token_hash)
    assert stored is not None and stored.expires_at == int(T + 2 * idle - 1)
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, session.token, moment(T + 3 * idle), cfg=CFG)


# -- two-step verification ----------------------------------------------------------------------------

def test_totp_is_set_up_then_asked_for_and_a_code_works_once(repo, cfg, mail) -> None:
    from chalicelib.domain import totp as otp
    from chalicelib.domain.errors import MfaRequired
    accounts.register(repo, registration(), cfg, moment(T), mailing=MAILING)
    who = accounts.login(repo, "unit1", PASSWORD, cfg, moment(T), HERE).principal
    secret = accounts.start_totp(repo, who, moment(T))["secret"]
    with pytest.raises(Invalid):
        accounts.confirm_totp(repo, who, {"code": "000000"}, moment(T))
    codes = accounts.confirm_totp(repo, who, {"code": otp.code_at(secret, otp.step_of(T))}, moment(T))
    assert len(codes) == accounts.RECOVERY_CODES and repo.get_session(who.token_hash).mfa is True
    with pytest.raises(MfaRequired):
        accounts.login(repo, "unit1", PASSWORD, cfg, moment(T + 60), HERE)
    code = otp.code_at(secret, otp.step_of(T + 60))
    assert accounts.login(repo, "unit1", PASSWORD, cfg, moment(T + 60), HERE, totp=code).principal.mfa is True
    with pytest.raises(Unauthenticated):
        accounts.login(repo, "unit1", PASSWORD, cfg, moment(T + 60), HERE, totp=code)          # used already
    ticket = accounts.start_second_step(repo, "unit1", moment(T + 60))
    assert accounts.finish_second_step(repo, ticket, codes[0], cfg, moment(T + 61), HERE).principal.mfa is True
    with pytest.raises(Unauthenticated):
        accounts.finish_second_step(repo, ticket, codes[1], cfg, moment(T + 62), HERE)         # the ticket is spent


# -- the organiser team -------------------------------------------------------------------------------

def test_an_invited_organiser_sets_a_password_through_the_link(repo, cfg, mail) -> None:
    boss = admin(repo, cfg)
    invited = accounts.invite_organiser(repo, boss, {"username": "staff1", "name": "李四",
                                                     "email": "staff1@example.org", "role": "staff"}, cfg, moment(T), mailing=MAILING)
    assert accounts.organiser_view(invited) == {"username": "staff1", "name": "李四", "email": "staff1@example.org",
                                                "role": "staff", "invited": True}
    with pytest.raises(Duplicate):
        accounts.invite_organiser(repo, boss, {"username": "staff1", "name": "李四", "email": "staff1@example.org",
                                               "role": "staff"}, cfg, moment(T), mailing=MAILING)
    invitation = [m for m in mail if m["kind"] == "organiser_invitation"]
    assert [m["to"] for m in invitation] == ["staff1@example.org"]
    token = token_of(invitation[0]["link"])
    assert accounts.check_reset_token(repo, token, moment(T)).purpose == "invitation"
    accounts.reset_password(repo, token, {"password": "staff-password-1"}, cfg, moment(T + 10))
    assert accounts.login(repo, "staff1", "staff-password-1", cfg, moment(T + 20), HERE).principal.organiser_role == "staff"
    assert [a.username for a in accounts.team(repo)] == ["boss", "staff1"]


def test_an_organisers_role_changes_on_its_open_sessions_and_removal_ends_them(repo, cfg, mail) -> None:
    boss = admin(repo, cfg)
    accounts.invite_organiser(repo, boss, {"username": "staff1", "name": "李四", "email": "staff1@example.org",
                                           "role": "staff"}, cfg, moment(T), mailing=MAILING)
    accounts.reset_password(repo, token_of(mail[-1]["link"]), {"password": "staff-password-1"}, cfg, moment(T))
    staff = accounts.login(repo, "staff1", "staff-password-1", cfg, moment(T), HERE)
    changed = accounts.change_organiser_role(repo, boss, "staff1", {"role": "viewer"}, moment(T + 1))
    assert changed.organiser_role == "viewer" and repo.get("staff1").organiser_role == "viewer"
    assert accounts.authenticate(repo, staff.token, moment(T + 2), cfg=CFG).organiser_role == "viewer"
    with pytest.raises(Invalid):
        accounts.change_organiser_role(repo, boss, "staff1", {"role": "owner"}, moment(T + 2))
    with pytest.raises(Conflict):
        accounts.change_organiser_role(repo, boss, "boss", {"role": "viewer"}, moment(T + 2))   # not oneself
    with pytest.raises(NotFound):
        accounts.remove_organiser(repo, boss, "nobody", moment(T + 2))
    accounts.remove_organiser(repo, boss, "staff1", moment(T + 3))
    assert repo.get("staff1") is None and [a.username for a in accounts.team(repo)] == ["boss"]
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, staff.token, moment(T + 4), cfg=CFG)


def test_a_judges_logout_is_audited_on_the_judge_of_the_competition_its_token_names(repo) -> None:
    from chalicelib.domain.account_record import Session
    from chalicelib.security import token_hash
    token = "j.shenzhen-2024.j1.text_review.random-part"
    repo.sessions[token_hash(token)] = Session(role="judge", token_hash=token_hash(token), judge_id="j1",
                                               stage="text_review", created_at=T, expires_at=T + 3600)
    judge = accounts.authenticate(repo, token, moment(T + 1), cfg=CFG)
    assert (judge.role, judge.judge_id, judge.competition_id) == ("judge", "j1", "shenzhen-2024")
    accounts.logout(repo, judge, moment(T + 2))
    assert repo.audit[-1] == ("judge#shenzhen-2024#j1", "judge:j1", "session.close")
    with pytest.raises(Unauthenticated):
        accounts.authenticate(repo, token, moment(T + 3), cfg=CFG)


def test_a_unit_cannot_set_up_two_step_verification_for_a_judge_link(repo) -> None:
    judge = Principal("judge", "jt", judge_id="j1")
    with pytest.raises(Forbidden):
        accounts.start_totp(repo, judge, moment(T))
    with pytest.raises(Forbidden):
        accounts.end_sessions(repo, judge, judge.actor, "all_devices", moment(T))
