"""Accounts, login throttles and sessions."""
from __future__ import annotations

from ..domain.errors import Duplicate
from . import audit, db
from .models import Account, Guard, Session


def create(account: Account, unit_key: str | None, actor: str, now: float) -> None:
    """The account, its unit's uniqueness key and the audit row land together or not at all."""
    try:
        with db.transaction() as t:
            t.save(account, condition=Account.username.does_not_exist(), label="username")
            if unit_key is not None:
                t.save(Guard(f"unit#{unit_key}", owner=account.username), condition=Guard.key.does_not_exist(),
                       label="unit")
            t.save(audit.entry(f"account#{account.username}", actor, "account.create", now,
                               after={"username": account.username, "unit_name": account.unit_name}))
    except db.Refused as exc:
        if "username" in exc.labels:
            raise Duplicate("用户名已被使用，请换一个用户名", {"username": "用户名已被使用"}) from exc
        if "unit" in exc.labels:
            raise Duplicate("该单位已注册帐号（每个单位注册一个帐号即可），请用已有帐号登录",
                            {"unit_name": "该单位已注册帐号"}) from exc
        raise


def save_organiser(account: Account) -> None:
    account.save()


def get(username: str) -> Account | None:
    try:
        return Account.get(username)
    except Account.DoesNotExist:
        return None


def get_for_login(username: str) -> tuple[Account | None, Guard | None]:
    """The account and its login throttle in one call."""
    with db.read_together() as r:
        account = r.get(Account, username)
        guard = r.get(Guard, f"login#{username}")
    return db.future_or_none(account), db.future_or_none(guard)


def record_failure(username: str, failures_before: int, max_failures: int, cooldown: int, now: float) -> None:
    guard = Guard(f"login#{username}")
    failures = failures_before + 1
    locked_until = now + cooldown if failures >= max_failures else 0
    actions = [Guard.failures.set(failures), Guard.locked_until.set(locked_until),
               Guard.expires_at.set(int(now) + cooldown * 4)]
    with db.transaction() as t:
        t.update(guard, actions=actions)
        t.save(audit.entry(f"account#{username}", "anonymous", "login.failed", now,
                           after={"failures": failures, "locked": bool(locked_until)}))


def open_session(session: Session, username: str, now: float) -> None:
    """The new session, the end of the failure count and the audit row, in one call."""
    with db.transaction() as t:
        t.save(session)
        t.delete(Guard(f"login#{username}"))
        t.save(audit.entry(f"account#{username}", f"{session.role}:{username}", "session.open", now))


def get_session(token_hash: str) -> Session | None:
    try:
        return Session.get(token_hash)
    except Session.DoesNotExist:
        return None


def delete_session(token_hash: str, object_key: str, actor: str, now: float) -> None:
    with db.transaction() as t:
        t.delete(Session(token_hash))
        t.save(audit.entry(object_key, actor, "session.close", now))


def list_units() -> list[Account]:
    return list(Account.by_role.query("unit"))
