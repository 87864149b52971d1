"""Accounts, login throttles, one-use tokens and sessions.

`AccountRepository` is the services' way in (services/repositories.AccountRepository): it reads and writes the
domain records (domain/account_record.py) and turns a refused condition into a domain error. The functions
before it work on the PynamoDB rows (the repository's steps; scripts and tests read rows with them).
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DeleteError, UpdateError

from ..domain import account_record
from ..domain.account_record import Throttle
from ..domain.errors import Conflict, Duplicate, NotFound
from . import audit, db
from .models import Account, Guard, Session

TRANSACTION_ITEMS = 99      # DynamoDB takes 100 items a transaction; one is the audit row


def _duplicates() -> dict[str, Exception]:
    """What a refused creation means, by the uniqueness key that was taken (store/db.refused_as)."""
    return {"username": Duplicate("用户名已被使用，请换一个用户名", {"username": "用户名已被使用"}),
            "skeleton": Duplicate("用户名与已有的用户名过于相似（字形易混淆），请换一个用户名",
                                  {"username": "与已有用户名过于相似"}),
            "unit": Duplicate("该单位已注册帐号（每个单位注册一个帐号即可），请用已有帐号登录",
                              {"unit_name": "该单位已注册帐号"})}


def create(account: Account, unit_key: str | None, skeleton: str, actor: str, now: float,
           token: Guard | None = None) -> None:
    """The account, its uniqueness keys (the unit's, the username's look), an invitation token if any, and
    the audit row land together or not at all."""
    with db.refused_as(None, _duplicates()):
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

def _throttle(key: str, guard: Guard | None, now: float) -> Throttle:
    if guard is None:
        return account_record.throttle(key, False, None, None, None, now)
    return account_record.throttle(key, True, guard.failures, guard.locked_until, guard.expires_at, now)


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


# -- the repository ------------------------------------------------------------------------------------

def _domain(row: Account) -> account_record.Account:
    return account_record.Account(
        username=row.username, id=row.id, role=row.role, password_hash=row.password_hash,
        created_at=row.created_at, unit_name=row.unit_name, unit_system=row.unit_system, district=row.district,
        contact_name=row.contact_name, email=row.email, mobile=row.mobile, organiser_role=row.organiser_role,
        name=row.name, totp_secret=row.totp_secret, totp_pending=row.totp_pending,
        totp_last_step=int(row.totp_last_step) if row.totp_last_step is not None else None,
        recovery_hashes=frozenset(row.recovery_hashes or ()), password_changed_at=row.password_changed_at)


def _row(account: account_record.Account) -> Account:
    return Account(
        account.username, id=account.id, role=account.role, password_hash=account.password_hash,
        created_at=account.created_at, unit_name=account.unit_name, unit_system=account.unit_system,
        district=account.district, contact_name=account.contact_name, email=account.email, mobile=account.mobile,
        organiser_role=account.organiser_role, name=account.name, totp_secret=account.totp_secret,
        totp_pending=account.totp_pending, totp_last_step=account.totp_last_step,
        recovery_hashes=set(account.recovery_hashes) or None, password_changed_at=account.password_changed_at)


def _session(row: Session) -> account_record.Session:
    return account_record.Session(
        token_hash=row.token_hash, role=row.role, created_at=row.created_at, expires_at=row.expires_at,
        account_id=row.account_id, username=row.username, unit_name=row.unit_name, district=row.district,
        email=row.email, judge_id=row.judge_id, stage=row.stage, link_hash=row.link_hash, csrf=row.csrf,
        session_id=row.session_id, ends_at=row.ends_at, last_seen=row.last_seen, client=row.client,
        agent=row.agent, organiser_role=row.organiser_role, mfa=bool(row.mfa))


def _session_row(session: account_record.Session) -> Session:
    return Session(
        session.token_hash, role=session.role, account_id=session.account_id, username=session.username,
        unit_name=session.unit_name, district=session.district, email=session.email, judge_id=session.judge_id,
        stage=session.stage, link_hash=session.link_hash, csrf=session.csrf, created_at=session.created_at,
        expires_at=int(session.expires_at), ends_at=int(session.ends_at) if session.ends_at is not None else None,
        last_seen=session.last_seen, session_id=session.session_id, client=session.client, agent=session.agent,
        organiser_role=session.organiser_role, mfa=session.mfa)


def _token_row(token: account_record.Token) -> Guard:
    return token_item(token.token_hash, token.owner, token.purpose, token.expires_at)


REFUSED = "操作冲突，请刷新后重试"


class AccountRepository:
    """Accounts, their uniqueness keys, throttles, tokens, tickets and sessions in DynamoDB, as domain records;
    a refused condition is Duplicate (creation), NotFound (an organiser gone or no longer one) or Conflict."""

    # -- accounts ------------------------------------------------------------------------------------
    def create(self, account: account_record.Account, unit_key: str | None, skeleton: str, actor: str, now: float,
               token: account_record.Token | None = None) -> None:
        with db.refused_as(Conflict(REFUSED)):
            create(_row(account), unit_key, skeleton, actor, now, _token_row(token) if token is not None else None)

    def save_organiser(self, account: account_record.Account, skeleton: str) -> None:
        save_organiser(_row(account), skeleton)

    def get(self, username: str) -> account_record.Account | None:
        row = get(username)
        return _domain(row) if row is not None else None

    def list_units(self) -> list[account_record.Account]:
        return [_domain(r) for r in list_units()]

    def list_organisers(self) -> list[account_record.Account]:
        return [_domain(r) for r in list_organisers()]

    # -- login -------------------------------------------------------------------------------------
    def get_for_login(self, username: str, client: str,
                      now: float) -> tuple[account_record.Account | None, Throttle, Throttle]:
        row, by_account, by_client = get_for_login(username, client, now)
        return (_domain(row) if row is not None else None), by_account, by_client

    def read_throttles(self, keys: Iterable[str], now: float) -> list[Throttle]:
        return read_throttles(keys, now)

    def reserve_attempts(self, throttles: list[tuple[Throttle, float]], forget_after: int, now: float) -> None:
        with db.refused_as(Conflict(REFUSED)):
            reserve_attempts(throttles, forget_after, now)

    def record_failure(self, username: str, failures: int, client: str, now: float) -> None:
        record_failure(username, failures, client, now)

    def release_attempts(self, keys: list[str]) -> None:
        release_attempts(keys)

    def open_session(self, session: account_record.Session, username: str, client_key: str | None, now: float,
                     totp_step: int | None = None, recovery_hash: str | None = None) -> None:
        with db.refused_as(Conflict(REFUSED)):
            open_session(_session_row(session), username, client_key, now, totp_step, recovery_hash)

    def count_in_window(self, key: str, limit: int, window: int, now: float) -> bool:
        return count_in_window(key, limit, window, now)

    # -- tokens and tickets --------------------------------------------------------------------------
    def put_token(self, token: account_record.Token, actor: str, now: float) -> None:
        put_token(_token_row(token), actor, now)

    def get_token(self, token_hash: str) -> account_record.Token | None:
        row = get_token(token_hash)
        if row is None:
            return None
        return account_record.Token(token_hash, row.owner or "", row.purpose or "",
                                    int(row.expires_at) if row.expires_at is not None else 0)

    def use_token(self, token: account_record.Token, password_hash: str, now: float) -> None:
        with db.refused_as(Conflict(REFUSED)):
            use_token(_token_row(token), password_hash, now)

    def put_ticket(self, ticket_hash: str, username: str, expires_at: float) -> None:
        put_ticket(ticket_hash, username, expires_at)

    def take_ticket(self, ticket_hash: str, now: float) -> str | None:
        return take_ticket(ticket_hash, now)

    # -- passwords, two-step verification, the organiser team ----------------------------------------
    def set_password(self, username: str, password_hash: str, actor: str, now: float) -> None:
        with db.refused_as(Conflict(REFUSED)):
            set_password(username, password_hash, actor, now)

    def set_totp_pending(self, username: str, secret: str, actor: str, now: float) -> None:
        with db.refused_as(Conflict(REFUSED)):
            set_totp_pending(username, secret, actor, now)

    def enable_totp(self, username: str, secret: str, recovery_hashes: set[str], actor: str, now: float) -> None:
        with db.refused_as(Conflict(REFUSED)):
            enable_totp(username, secret, recovery_hashes, actor, now)

    def set_organiser_role(self, username: str, role: str, actor: str, now: float) -> None:
        with db.refused_as(NotFound("没有找到这位团队成员")):
            set_organiser_role(username, role, actor, now)

    def remove_organiser(self, username: str, skeleton: str, actor: str, now: float) -> None:
        with db.refused_as(NotFound("没有找到这位团队成员")):
            remove_organiser(username, skeleton, actor, now)

    # -- sessions ------------------------------------------------------------------------------------
    def get_session(self, token_hash: str) -> account_record.Session | None:
        row = get_session(token_hash)
        return _session(row) if row is not None else None

    def touch_session(self, token_hash: str, expires_at: float, now: float) -> bool:
        return touch_session(token_hash, expires_at, now)

    def sessions_of(self, account_id: str) -> list[account_record.Session]:
        return [_session(r) for r in sessions_of(account_id)]

    def delete_session(self, token_hash: str, object_key: str, actor: str, now: float) -> None:
        delete_session(token_hash, object_key, actor, now)

    def end_sessions(self, token_hashes: list[str], object_key: str, actor: str, reason: str, now: float) -> None:
        end_sessions(token_hashes, object_key, actor, reason, now)

    def set_sessions_role(self, token_hashes: list[str], role: str) -> None:
        set_sessions_role(token_hashes, role)

    def mark_session_mfa(self, token_hash: str) -> None:
        mark_session_mfa(token_hash)
