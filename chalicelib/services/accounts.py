"""Use cases of accounts: register a unit, log in (soft back-off, second factor), sessions, password reset
and change, two-step verification, the organiser team."""
from __future__ import annotations

from datetime import datetime
import hashlib
import logging
import math
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..domain.clock import epoch
from ..config import Settings
from ..domain import totp as otp
from ..domain.account_record import Account, Identity, Session, Throttle, Token, new_token
from ..domain.judging_record import judge_audit_key, judge_session_parts
from ..domain.accounts import (
    EMAIL, ORGANISER_ROLES, USERNAME, backoff_seconds, parse_registration, password_problem, unit_key,
    username_key, username_skeleton,
)
from ..domain.text import single_line
from ..domain.errors import (
    Conflict, Forbidden, Invalid, InvalidToken, MfaRequired, NotFound, RateLimited, Unauthenticated,
)
from ..security import hash_password, new_id, new_token as new_secret, token_hash, verify_password
from .repositories import AccountRepository

if TYPE_CHECKING:
    from .notifications import Mailing   # imported when a mail is made (off the cold path)

log = logging.getLogger("saiping")

RESET_SECONDS = 30 * 60                 # a reset link lives 30 minutes
INVITATION_SECONDS = 72 * 3600          # an organiser's invitation 72 hours
RESET_PER_ACCOUNT = 3                   # reset mails per account an hour
RESET_PER_CLIENT = 10                   # reset requests per client address an hour
RESET_WINDOW = 3600
FORGET_FAILURES_AFTER = 24 * 3600       # a failure count nobody adds to is forgotten after a day
TICKET_SECONDS = 5 * 60                 # the login page's second step must follow within 5 minutes
TOUCH_EVERY = 60                        # an organiser's idle deadline is moved at most once a minute
RECOVERY_CODES = 10
UNUSABLE_PASSWORD = "!invited"          # no Argon2 hash: nothing verifies until the invitation is used


@dataclass(frozen=True)
class Principal(Identity):
    """Who is asking: a unit, an organiser or a judge, from a server-side session (a judge's: of the competition
    its token names, `competition_id`)."""
    competition_id: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.username or self.judge_id}"

    def own_account_id(self) -> str:
        """The account of a unit's or organiser's session; a judge's (link) session has none."""
        if self.account_id is None:
            raise Forbidden("评委链接没有帐号，不能管理帐号的登录设备")
        return self.account_id


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf: str
    principal: Principal
    expires_at: float


@dataclass(frozen=True)
class Client:
    """Where a request comes from: the address (for the per-client limits) and the browser, shortened."""
    address: str = "unknown"
    agent: str = ""


def _hash_password(password: str, cfg: Settings) -> str:
    return hash_password(password, cfg.argon2_time_cost, cfg.argon2_memory_kib)


def _password_or_invalid(password: Any, username: str, field: str) -> str:
    password = password if isinstance(password, str) else ""
    problem = password_problem(password, username)
    if problem:
        raise Invalid(problem, {field: problem})
    return password


# -- registration and the organiser from the environment --------------------------------------------

def register(repo: AccountRepository, raw: object, cfg: Settings, now: datetime, *, mailing: Mailing) -> Account:
    reg = parse_registration(raw)
    account = Account(
        reg.username, id=new_id(), role="unit", password_hash=_hash_password(reg.password, cfg),
        unit_name=reg.unit_name, unit_system=reg.unit_system, district=reg.district,
        contact_name=reg.contact_name, email=reg.email, mobile=reg.mobile, created_at=epoch(now),
    )
    repo.create(account, unit_key(reg.unit_name), username_skeleton(reg.username), f"unit:{reg.username}", epoch(now))
    from . import notifications
    notifications.registered(account, now, mailing)   # best effort: never raises, the account stands without it
    return account


def ensure_organiser(repo: AccountRepository, username: str, password: str, cfg: Settings, now: datetime) -> Account:
    """Create the first organiser (an admin), or set its password (organisers are never self-registered)."""
    username = username_key(username)
    existing = repo.get(username)
    if existing is not None and existing.role != "organiser":
        raise ValueError(f"username {username!r} belongs to a unit account")
    password_hash = _hash_password(password, cfg)
    account = (replace(existing, password_hash=password_hash) if existing is not None else
               Account(username, id=new_id(), role="organiser", password_hash=password_hash, created_at=epoch(now),
                       unit_name="主办单位", organiser_role="admin", name="管理员"))
    repo.save_organiser(account, username_skeleton(username))
    return account


# -- login --------------------------------------------------------------------------------------------

def _wait(locked_until: float, now: datetime) -> int:
    return max(0, math.ceil(locked_until - epoch(now)))


def _rate_limited(wait: int) -> RateLimited:
    shown = f"{wait} 秒" if wait < 120 else f"{math.ceil(wait / 60)} 分钟"
    return RateLimited(f"登录失败次数较多，请 {shown}后再试", retry_after=wait)


def _reserve(repo: AccountRepository, account_t: Throttle | None, client_t: Throttle, cfg: Settings,
             now: datetime) -> None:
    """Count this attempt (account and client) before the password is checked, or refuse it (429)."""
    limits = [(client_t, cfg.login_client_max_failures)]
    if account_t is not None:
        limits.insert(0, (account_t, cfg.login_max_failures))
    wait = max(_wait(t.locked_until, now) for t, _ in limits)
    if wait > 0:
        raise _rate_limited(wait)
    pairs = []
    for throttle, free in limits:
        delay = backoff_seconds(throttle.failures + 1, free, cfg.login_cooldown_seconds)
        pairs.append((throttle, epoch(now) + delay if delay else 0))
    try:
        repo.reserve_attempts(pairs, FORGET_FAILURES_AFTER, epoch(now))
    except Conflict:   # a parallel attempt counted first: tell the truth about the wait it set
        fresh = repo.read_throttles([t.key for t, _ in limits], epoch(now))
        raise _rate_limited(max([1, *(_wait(t.locked_until, now) for t in fresh)])) from None


def login(repo: AccountRepository, username: object, password: object, cfg: Settings, now: datetime,
          client: Client = Client(), totp: object = None, known_device: bool = False) -> NewSession:
    """Password (and TOTP code once it is on). Failures back off softly per username and per client
    address; a browser the account logged in from before (`known_device`) skips the username's back-off,
    so a stranger's guesses cannot keep the owner out."""
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise Unauthenticated("用户名或密码错误")
    key = username_key(username[:64])
    account, account_t, client_t = repo.get_for_login(key, client.address, epoch(now))
    _reserve(repo, None if known_device else account_t, client_t, cfg, now)
    ok = verify_password(account.password_hash if account else None, password,
                         cfg.argon2_time_cost, cfg.argon2_memory_kib)
    if not ok or account is None:
        repo.record_failure(key, account_t.failures + 1, client.address, epoch(now))
        raise Unauthenticated("用户名或密码错误")
    try:
        step, recovery = _second_factor(repo, account, totp, client, now)
    except MfaRequired:   # the right password: not a failure (the code's attempt is counted in its turn)
        repo.release_attempts([f"client#{client.address}", *([] if known_device else [f"login#{key}"])])
        raise
    return _open(repo, account, cfg, now, client, step, recovery)


def _second_factor(repo: AccountRepository, account: Account, code: object, client: Client,
                   now: datetime) -> tuple[int | None, str | None]:
    """(TOTP step, recovery code hash) of the code given, or (None, None) when the account has no TOTP."""
    if not account.totp_secret:
        return None, None
    if not isinstance(code, str) or not code.strip():
        raise MfaRequired("请输入两步验证的验证码（身份验证器中的 6 位数字）")
    step = otp.matching_step(account.totp_secret, code, epoch(now))
    if step is not None:
        return step, None
    recovery = _recovery_hash(code)
    if recovery in account.recovery_hashes:
        return None, recovery
    repo.record_failure(account.username, 0, client.address, epoch(now))
    raise Unauthenticated("验证码错误或已过期，请输入身份验证器中当前的 6 位数字")


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(otp.normalise_recovery_code(code).encode()).hexdigest()


def start_second_step(repo: AccountRepository, username: str, now: datetime) -> str:
    """A ticket for the login page's second step (the password was right; the code comes next)."""
    ticket = new_secret()
    repo.put_ticket(token_hash(ticket), username_key(username), epoch(now) + TICKET_SECONDS)
    return ticket


def finish_second_step(repo: AccountRepository, ticket: object, code: object, cfg: Settings, now: datetime,
                       client: Client = Client()) -> NewSession:
    username = repo.take_ticket(token_hash(ticket), epoch(now)) if isinstance(ticket, str) and ticket else None
    account = repo.get(username) if username else None
    if account is None:
        raise Unauthenticated("登录已超时，请重新输入用户名和密码")
    step, recovery = _second_factor(repo, account, code, client, now)
    return _open(repo, account, cfg, now, client, step, recovery)


def _open(repo: AccountRepository, account: Account, cfg: Settings, now: datetime, client: Client,
          step: int | None = None, recovery: str | None = None) -> NewSession:
    token, csrf = new_secret(), new_secret()
    ends = epoch(now) + cfg.session_hours * 3600
    expires = min(ends, epoch(now) + idle_seconds(account.role, cfg))
    session = Session(token_hash=token_hash(token), role=account.role, account_id=account.id,
                      username=account.username, unit_name=account.unit_name, district=account.district,
                      email=account.email, csrf=csrf, created_at=epoch(now),
                      expires_at=int(expires), ends_at=int(ends), last_seen=epoch(now), session_id=new_id(),
                      client=client.address[:64], agent=client.agent[:200] or None,
                      organiser_role=(account.organiser_role or "admin") if account.role == "organiser" else None,
                      mfa=step is not None or recovery is not None)
    try:
        repo.open_session(session, account.username, f"client#{client.address}", epoch(now), step, recovery)
    except Conflict:
        raise Unauthenticated("该验证码已使用过，请等待身份验证器显示下一个验证码") from None
    return NewSession(token, csrf, principal_of(session), expires)


def idle_seconds(role: str, cfg: Settings) -> int:
    """Organisers' sessions end after ORGANISER_IDLE_MINUTES unused; units' after the session hours."""
    return cfg.organiser_idle_minutes * 60 if role == "organiser" else cfg.session_hours * 3600


def principal_of(session: Session, token: str | None = None) -> Principal:
    """The principal of `session`; a judge's names the competition of its `token`."""
    parts = judge_session_parts(token) if session.role == "judge" else None
    return Principal(role=session.role, token_hash=session.token_hash, account_id=session.account_id,
                     username=session.username, unit_name=session.unit_name, district=session.district,
                     judge_id=session.judge_id,
                     stage=session.stage, link_hash=session.link_hash, csrf=session.csrf, email=session.email,
                     organiser_role=session.organiser_role, mfa=bool(session.mfa),
                     competition_id=parts[0] if parts else None)


def authenticate(repo: AccountRepository, token: str | None, now: datetime, *, cfg: Settings) -> Principal:
    """The principal of a live session; one read (and, for an organiser, at most one write a minute that
    moves the idle deadline by `cfg`'s ORGANISER_IDLE_MINUTES). Judge sessions are re-checked by the judging
    service."""
    if not token or len(token) > 200:
        raise Unauthenticated("请先登录")
    session = repo.get_session(token_hash(token))
    if session is None or session.expires_at <= epoch(now):
        raise Unauthenticated("登录已失效，请重新登录")
    if session.role == "organiser" and session.ends_at and epoch(now) - float(session.last_seen or 0) >= TOUCH_EVERY:
        idle = idle_seconds("organiser", cfg)
        if not repo.touch_session(session.token_hash, min(float(session.ends_at), epoch(now) + idle), epoch(now)):
            raise Unauthenticated("登录已失效，请重新登录")
    return principal_of(session, token)


def logout(repo: AccountRepository, principal: Principal, now: datetime) -> None:
    """End the principal's session, audited on its account (a judge's: on the judge of its competition)."""
    if principal.role == "judge":
        object_key = judge_audit_key(principal.competition_id or "", principal.judge_id or "")
    else:
        object_key = f"account#{principal.username}"
    repo.delete_session(principal.token_hash, object_key, principal.actor, epoch(now))


# -- sessions on /account -----------------------------------------------------------------------------

def my_sessions(repo: AccountRepository, principal: Principal, now: datetime) -> list[Session]:
    """The account's live sessions, newest first."""
    live = [s for s in repo.sessions_of(principal.account_id or "") if s.expires_at > epoch(now)]
    return sorted(live, key=lambda s: -float(s.created_at))


def end_session(repo: AccountRepository, principal: Principal, session_id: object, now: datetime) -> None:
    found = [s for s in repo.sessions_of(principal.account_id or "") if s.session_id == session_id]
    if not found:
        raise NotFound("没有找到这个登录设备（可能已退出）")
    repo.end_sessions([found[0].token_hash], f"account#{principal.username}", principal.actor, "ended", epoch(now))


def end_sessions(repo: AccountRepository, account: Account | Principal, actor: str, reason: str, now: datetime,
                 keep: str | None = None) -> int:
    """End every session of the account (but `keep`, a token hash). Returns how many ended."""
    account_id = account.own_account_id() if isinstance(account, Principal) else account.id
    hashes = [s.token_hash for s in repo.sessions_of(account_id) if s.token_hash != keep]
    repo.end_sessions(hashes, f"account#{account.username}", actor, reason, epoch(now))
    return len(hashes)


# -- password reset and change ------------------------------------------------------------------------

def request_reset(repo: AccountRepository, raw: object, cfg: Settings, now: datetime, client: Client = Client(), *,
                  mailing: Mailing) -> None:
    """Mail a reset link to the account's address. Answers the same whether or not the account exists;
    limited per account and per client address (over the limit: silently nothing, as for an unknown user)."""
    username = raw.get("username") if isinstance(raw, dict) else None
    if not isinstance(username, str) or not username.strip() or len(username) > 200:
        raise Invalid("请填写用户名", {"username": "请填写用户名"})
    key = username_key(username)
    if not repo.count_in_window(f"resetclient#{client.address}", RESET_PER_CLIENT, RESET_WINDOW, epoch(now)):
        raise RateLimited("重置请求过于频繁，请一小时后再试", retry_after=RESET_WINDOW)
    account = repo.get(key)
    if account is None or not account.email or not EMAIL.match(account.email):
        return
    if not repo.count_in_window(f"reset#{key}", RESET_PER_ACCOUNT, RESET_WINDOW, epoch(now)):
        return
    _send_link(repo, account, "reset", RESET_SECONDS, "anonymous", cfg, now, mailing=mailing)


def _send_link(repo: AccountRepository, account: Account, purpose: str, lifetime: int, actor: str, cfg: Settings,
               now: datetime, token: str | None = None, *, mailing: Mailing) -> None:
    """Store the token (hashed) unless the caller did, and mail the link; each request gets its own mail."""
    if token is None:
        token = secrets.token_urlsafe(16)       # 128 random bits
        repo.put_token(new_token(token_hash(token), account.username, purpose, epoch(now) + lifetime), actor,
                       epoch(now))
    from . import notifications
    kind = "password_reset" if purpose == "reset" else "organiser_invitation"
    ports, comp = mailing.ports(), mailing.competition
    context = {"name": account.name or account.contact_name or account.unit_name or account.username,
               "username": account.username, "link": f"{cfg.site_url}/reset/{token}",
               "valid_until": notifications._when(epoch(now) + lifetime),
               "role": ORGANISER_ROLES.get(account.organiser_role or "", "")}
    # The mail's once-only key is the token itself: one mail per request, never two for one link.
    if not notifications._send(ports, comp, kind, token_hash(token)[:32], account.email, context, now, mailing.mail):
        log.warning("%s mail for %s not sent", kind, account.username)


def check_reset_token(repo: AccountRepository, token: object, now: datetime) -> Token:
    """The live token of a reset or invitation link, or InvalidToken."""
    item = repo.get_token(token_hash(token)) if isinstance(token, str) and 0 < len(token) <= 200 else None
    if item is None or not item.expires_at or item.expires_at <= epoch(now):
        raise InvalidToken("该链接无效或已过期（每个链接只能使用一次，重置链接 30 分钟内有效），请重新申请")
    return item


def reset_password(repo: AccountRepository, token: object, raw: object, cfg: Settings, now: datetime) -> Account:
    """Set the password through a link: the link is spent, every session of the account ends."""
    item = check_reset_token(repo, token, now)
    account = repo.get(item.owner)
    if account is None:
        raise InvalidToken("该链接无效或已过期，请重新申请")
    password = _password_or_invalid(raw.get("password") if isinstance(raw, dict) else None,
                                    account.username, "password")
    try:
        repo.use_token(item, _hash_password(password, cfg), epoch(now))
    except Conflict:
        raise InvalidToken("该链接已使用过或已过期，请重新申请") from None
    end_sessions(repo, account, f"token:{account.username}", "password_reset", now)
    return account


def change_password(repo: AccountRepository, principal: Principal, raw: object, cfg: Settings, now: datetime) -> None:
    """A new password for one's own account: the current one is required; other sessions end."""
    body = raw if isinstance(raw, dict) else {}
    account = repo.get(principal.username or "")
    if account is None or principal.role not in ("unit", "organiser"):
        raise Forbidden("当前帐号不能修改密码")
    current = body.get("current_password")
    if not isinstance(current, str) or not verify_password(account.password_hash, current, cfg.argon2_time_cost,
                                                           cfg.argon2_memory_kib):
        raise Invalid("当前密码不正确", {"current_password": "当前密码不正确"})
    password = _password_or_invalid(body.get("new_password"), account.username, "new_password")
    repo.set_password(account.username, _hash_password(password, cfg), principal.actor, epoch(now))
    end_sessions(repo, principal, principal.actor, "password_change", now, keep=principal.token_hash)


# -- two-step verification ----------------------------------------------------------------------------

def start_totp(repo: AccountRepository, principal: Principal, now: datetime) -> dict[str, str]:
    _own_account(repo, principal)
    secret = otp.secret_from(secrets.token_bytes(20))
    repo.set_totp_pending(principal.username or "", secret, principal.actor, epoch(now))
    return {"secret": secret, "otpauth_uri": otp.otpauth_uri(secret, principal.username or "")}


def confirm_totp(repo: AccountRepository, principal: Principal, raw: object, now: datetime) -> list[str]:
    """Turn TOTP on with a code of the pending secret; returns the recovery codes (shown once)."""
    account = _own_account(repo, principal)
    code = raw.get("code") if isinstance(raw, dict) else None
    if not account.totp_pending:
        raise Conflict("请先点击“启用两步验证”获取密钥", {"code": "请先获取密钥"})
    step = otp.matching_step(account.totp_pending, code, epoch(now)) if isinstance(code, str) else None
    if step is None:
        raise Invalid("验证码不正确，请输入身份验证器中当前显示的 6 位数字", {"code": "验证码不正确"})
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    try:
        repo.enable_totp(account.username, account.totp_pending, {_recovery_hash(c) for c in codes},
                         principal.actor, epoch(now))
    except Conflict:
        raise Conflict("密钥已更换，请重新扫描二维码") from None
    repo.mark_session_mfa(principal.token_hash)
    return codes


def _own_account(repo: AccountRepository, principal: Principal) -> Account:
    account = repo.get(principal.username or "") if principal.role in ("unit", "organiser") else None
    if account is None:
        raise Forbidden("当前帐号不能设置两步验证")
    return account


def account_of(repo: AccountRepository, principal: Principal) -> Account:
    return _own_account(repo, principal)


# -- the organiser team --------------------------------------------------------------------------------

def team(repo: AccountRepository) -> list[Account]:
    return sorted(repo.list_organisers(), key=lambda a: float(a.created_at))


def _role(raw: dict[str, Any]) -> str:
    role = raw.get("role")
    if not isinstance(role, str) or role not in ORGANISER_ROLES:
        raise Invalid("角色只能选择：管理员（admin）、工作人员（staff）或只读成员（viewer）",
                      {"role": "请选择角色"})
    return role


def invite_organiser(repo: AccountRepository, principal: Principal, raw: object, cfg: Settings, now: datetime, *,
                     mailing: Mailing) -> Account:
    """A new organiser with a role; the invitation mail is a link (72 hours) to set the password."""
    body = raw if isinstance(raw, dict) else {}
    errors: dict[str, str] = {}
    username = username_key(given) if isinstance(given := body.get("username"), str) else ""
    if not USERNAME.match(username):
        errors["username"] = "用户名应为 2～64 位字母、汉字、数字或 _ . - @（不含空格）"
    name = single_line(given) if isinstance(given := body.get("name"), str) else ""
    if not 1 <= len(name) <= 50:
        errors["name"] = "请填写姓名（不超过 50 个字符）"
    email = given.strip() if isinstance(given := body.get("email"), str) else ""
    if len(email) > 254 or not EMAIL.match(email):
        errors["email"] = "电子邮箱格式不正确（如 dangjian@example.gov.cn）"
    try:
        role = _role(body)
    except Invalid as e:
        errors.update(e.fields or {})
    if errors:
        raise Invalid(next(iter(errors.values())) if len(errors) == 1 else
                      f"{next(iter(errors.values()))}（共{len(errors)}处需要修改）", errors)
    account = Account(username, id=new_id(), role="organiser", password_hash=UNUSABLE_PASSWORD,
                      unit_name="主办单位", organiser_role=role, name=name, email=email, created_at=epoch(now))
    token = secrets.token_urlsafe(16)
    item = new_token(token_hash(token), username, "invitation", epoch(now) + INVITATION_SECONDS)
    repo.create(account, None, username_skeleton(username), principal.actor, epoch(now), token=item)
    _send_link(repo, account, "invitation", INVITATION_SECONDS, principal.actor, cfg, now, token=token, mailing=mailing)
    return account


def _other_organiser(repo: AccountRepository, principal: Principal, username: str) -> Account:
    account = repo.get(username_key(username)) if isinstance(username, str) else None
    if account is None or account.role != "organiser":
        raise NotFound("没有找到这位团队成员")
    if account.username == principal.username:
        raise Conflict("不能修改或移除自己的帐号（请另一位管理员操作）")
    return account


def change_organiser_role(repo: AccountRepository, principal: Principal, username: str, raw: object,
                          now: datetime) -> Account:
    account = _other_organiser(repo, principal, username)
    role = _role(raw if isinstance(raw, dict) else {})
    repo.set_organiser_role(account.username, role, principal.actor, epoch(now))
    repo.set_sessions_role([s.token_hash for s in repo.sessions_of(account.id)], role)
    return replace(account, organiser_role=role)


def remove_organiser(repo: AccountRepository, principal: Principal, username: str, now: datetime) -> None:
    """Remove a team member: the account goes and every session of it ends at once."""
    account = _other_organiser(repo, principal, username)
    repo.remove_organiser(account.username, username_skeleton(account.username), principal.actor, epoch(now))
    end_sessions(repo, account, principal.actor, "removed", now)


def organiser_view(account: Account) -> dict[str, Any]:
    return {"username": account.username, "name": account.name, "email": account.email,
            "role": account.organiser_role or "admin",
            "invited": account.password_hash == UNUSABLE_PASSWORD}
