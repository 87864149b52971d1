"""Accounts, login throttles, one-use tokens and sessions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pynamodb.exceptions import DeleteError, UpdateError

from ..domain.errors import Duplicate
from . import audit, db
from .models import Account, Guard, Session

TRANSACTION_ITEMS = 99      # DynamoDB takes 100 items a transaction; one is the audit row


def _duplicate(exc: db.Refused) -> Duplicate | None:
    if "username" in exc.labels:
        return Duplicate("用户名已被使用，请换一个用户名", {"username": "用户名已被使用"})
    if "skeleton" in exc.labels:
        return Duplicate("用户名与已有的用户名过于相似（字形易混淆），请换一个用户名",
                         {"username": "与已有用户名过于相似"})
    if "unit" in exc.labels:
        return Duplicate("该单位已注册帐号（每个单位注册一个帐号即可），请用已有帐号登录",
                         {"unit_name": "该单位已注册帐号"})
    return None


def create(account: Account, unit_key: str | None, skeleton: str, actor: str, now: float,
           token: Guard | None = None) -> None:
    """The account, its uniqueness keys (the unit's, the username's look), an invitation token if any, and
    the audit row land together or not at all."""
    try:
        with db.transaction() as t:
            t.save(account, condition=Account.username.does_not_exist(), label="username")
            t.save(Guard(f"username#{skeleton}", owner=account.username), condition=Guard.key.does_not_exist(),
                   label="skeleton")
            if unit_key is not None:
                t.save(Guard(f"unit#{unit_key}", owner=account.username), condition=Guard.key.does_not_exist(),
                       label="unit")
            if token is not None:
                t.save(token)
            t.save(audit.entry(f"account#{account.username}", actor, "account.create", now,
                               after={"username": account.username, "unit_name": account.unit_name,
                                      "role": account.organiser_role or account.role}))
    except db.Refused as exc:
        raise (_duplicate(exc) or exc) from exc


def save_organiser(account: Account, skeleton: str) -> None:
    """The organiser from the environment (runner, script): its account and the key of its username's look."""
    account.save()
    Guard(f"username#{skeleton}", owner=account.username).save()


def get(username: str) -> Account | None:
    try:
        return Account.get(username)
    except Account.DoesNotExist:
        return None


# -- login throttles --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Throttle:
    """A failure counter as read: the stored count (the condition of the next write) and its lock."""
    key: str
    stored: int | None          # None: no item
    failures: int               # what counts now (0 once the row has expired)
    locked_until: float


def _throttle(key: str, guard: Guard | None, now: float) -> Throttle:
    if guard is None:
        return Throttle(key, None, 0, 0.0)
    live = guard.expires_at is None or guard.expires_at > now
    return Throttle(key, int(guard.failures or 0), int(guard.failures or 0) if live else 0,
                    float(guard.locked_until or 0) if live else 0.0)


def get_for_login(username: str, client: str, now: float) -> tuple[Account | None, Throttle, Throttle]:
    """The account, its throttle and the client address's throttle, in one call."""
    with db.read_together() as r:
        account = r.get(Account, username)
        guard = r.get(Guard, f"login#{username}")
        by_client = r.get(Guard, f"client#{client}")
    return (db.future_or_none(account), _throttle(f"login#{username}", db.future_or_none(guard), now),
            _throttle(f"client#{client}", db.future_or_none(by_client), now))


def read_throttles(keys: Iterable[str], now: float) -> list[Throttle]:
    with db.read_together() as r:
        futures = [(key, r.get(Guard, key)) for key in keys]
    return [_throttle(key, db.future_or_none(f), now) for key, f in futures]


def reserve_attempts(throttles: list[tuple[Throttle, float]], forget_after: int, now: float) -> None:
    """Count one attempt on every throttle before the password is checked, each write conditional on the
    count that was read: of parallel guesses that read the same count only one is checked (Refused for the
    rest, labelled with the throttle's key). `throttles` pairs each with the lock its new count earns."""
    with db.transaction() as t:
        for throttle, locked_until in throttles:
            condition = (Guard.key.does_not_exist() if throttle.stored is None
                         else Guard.failures == throttle.stored)
            t.update(Guard(throttle.key), actions=[
                Guard.failures.set(throttle.failures + 1), Guard.locked_until.set(locked_until),
                Guard.expires_at.set(int(now) + forget_after)], condition=condition, label=throttle.key)


def record_failure(username: str, failures: int, client: str, now: float) -> None:
    audit.entry(f"account#{username}", "anonymous", "login.failed", now,
                detail={"failures": failures, "client": client}).save()


def release_attempts(keys: list[str]) -> None:
    """Take back the attempts counted for a password that was right (the second factor comes next), and
    the back-off those attempts set: a right password is not a failure."""
    with db.transaction() as t:
        for key in keys:
            t.update(Guard(key), actions=[Guard.failures.add(-1), Guard.locked_until.set(0)])


def open_session(session: Session, username: str, client_key: str | None, now: float,
                 totp_step: int | None = None, recovery_hash: str | None = None) -> None:
    """The new session, the end of the account's failure count (and this attempt's off the client's), the
    one use of a TOTP code or recovery code, and the audit row, in one call. A code used already: Refused."""
    with db.transaction() as t:
        t.save(session)
        t.delete(Guard(f"login#{username}"))
        if client_key is not None:
            # this attempt counted +1 and set a back-off before its password was known to be right
            t.update(Guard(client_key), actions=[Guard.failures.add(-1), Guard.locked_until.set(0)])
        if totp_step is not None:
            t.update(Account(username), actions=[Account.totp_last_step.set(totp_step)],
                     condition=Account.totp_last_step.does_not_exist() | (Account.totp_last_step < totp_step),
                     label="code")
        if recovery_hash is not None:
            t.update(Account(username), actions=[Account.recovery_hashes.delete({recovery_hash})],
                     condition=Account.recovery_hashes.contains(recovery_hash), label="code")
        t.save(audit.entry(f"account#{username}", f"{session.role}:{username}", "session.open", now,
                           detail={"client": session.client, "second_factor": bool(session.mfa)}))


def count_in_window(key: str, limit: int, window: int, now: float) -> bool:
    """One more in a fixed window of `window` seconds, if fewer than `limit` so far (atomic). False: over."""
    guard = Guard(key)
    try:
        guard.update(actions=[Guard.failures.add(1)],
                     condition=(Guard.failures < limit) & (Guard.expires_at > int(now)))
        return True
    except UpdateError as exc:
        if "ConditionalCheckFailed" not in str(exc):
            raise
    try:   # no window yet, or it has passed: start a new one
        guard.update(actions=[Guard.failures.set(1), Guard.expires_at.set(int(now) + window)],
                     condition=Guard.key.does_not_exist() | (Guard.expires_at <= int(now)))
        return True
    except UpdateError as exc:
        if "ConditionalCheckFailed" not in str(exc):
            raise
    return False


# -- one-use tokens (reset links, invitations) and second-step tickets -------------------------------

def token_item(token_hash: str, username: str, purpose: str, expires_at: float) -> Guard:
    return Guard(f"token#{token_hash}", owner=username, purpose=purpose, expires_at=int(expires_at))


def put_token(token: Guard, actor: str, now: float) -> None:
    with db.transaction() as t:
        t.save(token)
        t.save(audit.entry(f"account#{token.owner}", actor, f"{token.purpose}.request", now))


def get_token(token_hash: str) -> Guard | None:
    try:
        return Guard.get(f"token#{token_hash}")
    except Guard.DoesNotExist:
        return None


def use_token(token: Guard, password_hash: str, now: float) -> None:
    """Spend the token and set the password together; a token spent (or expired) meanwhile: Refused."""
    username = token.owner
    with db.transaction() as t:
        t.delete(Guard(token.key), condition=(Guard.owner == username) & (Guard.expires_at > int(now)),
                 label="token")
        t.update(Account(username), actions=[Account.password_hash.set(password_hash),
                                             Account.password_changed_at.set(now)],
                 condition=Account.username.exists(), label="account")
        t.save(audit.entry(f"account#{username}", f"token:{username}", f"{token.purpose}.use", now))


def put_ticket(ticket_hash: str, username: str, expires_at: float) -> None:
    Guard(f"mfa#{ticket_hash}", owner=username, purpose="mfa", expires_at=int(expires_at)).save()


def take_ticket(ticket_hash: str, now: float) -> str | None:
    """The username of a live second-step ticket, which is spent by this call (one try per password):
    read, then deleted on the condition that it is unchanged and live, so two posts cannot both use it."""
    try:
        guard = Guard.get(f"mfa#{ticket_hash}")
    except Guard.DoesNotExist:
        return None
    try:
        guard.delete(condition=(Guard.owner == guard.owner) & (Guard.expires_at > int(now)))
    except DeleteError as exc:
        if "ConditionalCheckFailed" in str(exc):
            return None
        raise
    return guard.owner


# -- passwords, two-step verification, the organiser team --------------------------------------------

def set_password(username: str, password_hash: str, actor: str, now: float) -> None:
    with db.transaction() as t:
        t.update(Account(username), actions=[Account.password_hash.set(password_hash),
                                             Account.password_changed_at.set(now)],
                 condition=Account.username.exists())
        t.save(audit.entry(f"account#{username}", actor, "password.change", now))


def set_totp_pending(username: str, secret: str, actor: str, now: float) -> None:
    with db.transaction() as t:
        t.update(Account(username), actions=[Account.totp_pending.set(secret)],
                 condition=Account.username.exists())
        t.save(audit.entry(f"account#{username}", actor, "totp.setup", now))


def enable_totp(username: str, secret: str, recovery_hashes: set[str], actor: str, now: float) -> None:
    """Turn two-step verification on with the pending secret, if it is still the one the code matched.
    The confirming code is not spent: the first login may use it (once)."""
    with db.transaction() as t:
        t.update(Account(username), actions=[
            Account.totp_secret.set(secret), Account.totp_pending.remove(), Account.totp_last_step.remove(),
            Account.recovery_hashes.set(recovery_hashes)], condition=Account.totp_pending == secret,
            label="pending")
        t.save(audit.entry(f"account#{username}", actor, "totp.enable", now))


def list_organisers() -> list[Account]:
    return list(Account.by_role.query("organiser"))


def set_organiser_role(username: str, role: str, actor: str, now: float) -> None:
    with db.transaction() as t:
        t.update(Account(username), actions=[Account.organiser_role.set(role)],
                 condition=Account.role == "organiser", label="organiser")
        t.save(audit.entry(f"account#{username}", actor, "organiser.role", now, detail={"role": role}))


def remove_organiser(username: str, skeleton: str, actor: str, now: float) -> None:
    with db.transaction() as t:
        t.delete(Account(username), condition=Account.role == "organiser", label="organiser")
        t.delete(Guard(f"username#{skeleton}"))
        t.save(audit.entry(f"account#{username}", actor, "organiser.remove", now))


# -- sessions -----------------------------------------------------------------------------------------

def get_session(token_hash: str) -> Session | None:
    try:
        return Session.get(token_hash)
    except Session.DoesNotExist:
        return None


def touch_session(token_hash: str, expires_at: float, now: float) -> bool:
    """Slide an organiser's idle deadline; False when the session ended meanwhile."""
    try:
        Session(token_hash).update(actions=[Session.expires_at.set(int(expires_at)), Session.last_seen.set(now)],
                                   condition=Session.token_hash.exists())
        return True
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc):
            return False
        raise


def sessions_of(account_id: str) -> list[Session]:
    return list(Session.by_account.query(account_id))


def delete_session(token_hash: str, object_key: str, actor: str, now: float) -> None:
    with db.transaction() as t:
        t.delete(Session(token_hash))
        t.save(audit.entry(object_key, actor, "session.close", now))


def end_sessions(token_hashes: list[str], object_key: str, actor: str, reason: str, now: float) -> None:
    """End many sessions (an audit row per batch of 99 that names why)."""
    for start in range(0, len(token_hashes), TRANSACTION_ITEMS):
        batch = token_hashes[start:start + TRANSACTION_ITEMS]
        with db.transaction() as t:
            for token_hash in batch:
                t.delete(Session(token_hash))
            t.save(audit.entry(object_key, actor, "session.end", now, detail={"reason": reason, "count": len(batch)}))


def set_sessions_role(token_hashes: list[str], role: str) -> None:
    for token_hash in token_hashes:
        try:
            Session(token_hash).update(actions=[Session.organiser_role.set(role)],
                                       condition=Session.token_hash.exists())
        except UpdateError as exc:
            if "ConditionalCheckFailed" not in str(exc):
                raise


def mark_session_mfa(token_hash: str) -> None:
    Session(token_hash).update(actions=[Session.mfa.set(True)])


def list_units() -> list[Account]:
    return list(Account.by_role.query("unit"))
