"""Use cases of accounts: register a unit, log in (with a cool-down), log out, resolve a session."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..domain.accounts import parse_registration, unit_key
from ..domain.errors import RateLimited, Unauthenticated
from ..security import hash_password, new_id, new_token, token_hash, verify_password
from ..store import accounts as store
from ..store.models import Account, Session


@dataclass(frozen=True)
class Principal:
    """Who is asking: a unit, an organiser or a judge, from a server-side session."""
    role: str
    token_hash: str
    account_id: str | None = None
    username: str | None = None
    unit_name: str | None = None
    district: str | None = None
    judge_id: str | None = None
    stage: str | None = None
    link_hash: str | None = None
    csrf: str | None = None
    email: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.username or self.judge_id}"


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf: str
    principal: Principal
    expires_at: float


def register(raw: object, cfg: Settings, now: float) -> Account:
    reg = parse_registration(raw)
    account = Account(
        reg.username, id=new_id(), role="unit",
        password_hash=hash_password(reg.password, cfg.argon2_time_cost, cfg.argon2_memory_kib),
        unit_name=reg.unit_name, unit_system=reg.unit_system, district=reg.district,
        contact_name=reg.contact_name, email=reg.email, mobile=reg.mobile, created_at=now,
    )
    store.create(account, unit_key(reg.unit_name), f"unit:{reg.username}", now)
    from . import notifications
    notifications.registered(account, now)   # best effort: never raises, the account stands without it
    return account


def ensure_organiser(username: str, password: str, cfg: Settings, now: float) -> Account:
    """Create the organiser account, or set its password (organisers are never self-registered)."""
    existing = store.get(username)
    if existing is not None and existing.role != "organiser":
        raise ValueError(f"username {username!r} belongs to a unit account")
    account = existing or Account(username, id=new_id(), role="organiser", created_at=now, unit_name="主办单位")
    account.password_hash = hash_password(password, cfg.argon2_time_cost, cfg.argon2_memory_kib)
    store.save_organiser(account)
    return account


def login(username: object, password: object, cfg: Settings, now: float) -> NewSession:
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise Unauthenticated("用户名或密码错误")
    account, guard = store.get_for_login(username[:64])
    if guard is not None and guard.locked_until and guard.locked_until > now:
        wait = int(guard.locked_until - now) // 60 + 1
        raise RateLimited(f"登录失败次数过多，请 {wait} 分钟后再试")
    ok = verify_password(account.password_hash if account else None, password,
                         cfg.argon2_time_cost, cfg.argon2_memory_kib)
    if not ok:
        failures = int(guard.failures) if guard is not None else 0
        if guard is not None and guard.locked_until and guard.locked_until <= now:
            failures = 0 if failures >= cfg.login_max_failures else failures
        store.record_failure(username[:64], failures, cfg.login_max_failures, cfg.login_cooldown_seconds, now)
        raise Unauthenticated("用户名或密码错误")
    return _open(account, cfg, now)


def _open(account: Account, cfg: Settings, now: float) -> NewSession:
    token, csrf = new_token(), new_token()
    expires = now + cfg.session_hours * 3600
    session = Session(token_hash(token), role=account.role, account_id=account.id, username=account.username,
                      unit_name=account.unit_name, district=account.district, email=account.email, csrf=csrf,
                      created_at=now,
                      expires_at=int(expires))
    store.open_session(session, account.username, now)
    return NewSession(token, csrf, principal_of(session), expires)


def principal_of(session: Session) -> Principal:
    return Principal(role=session.role, token_hash=session.token_hash, account_id=session.account_id,
                     username=session.username, unit_name=session.unit_name, district=session.district,
                     judge_id=session.judge_id,
                     stage=session.stage, link_hash=session.link_hash, csrf=session.csrf, email=session.email)


def authenticate(token: str | None, now: float) -> Principal:
    """The principal of a live session; one read. Judge sessions are re-checked by the judging service."""
    if not token or len(token) > 200:
        raise Unauthenticated("请先登录")
    session = store.get_session(token_hash(token))
    if session is None or session.expires_at <= now:
        raise Unauthenticated("登录已失效，请重新登录")
    return principal_of(session)


def logout(principal: Principal, now: float) -> None:
    object_key = f"judge#{principal.judge_id}" if principal.role == "judge" else f"account#{principal.username}"
    store.delete_session(principal.token_hash, object_key, principal.actor, now)
