"""The in-memory twin of the account repository (store/accounts.AccountRepository), for service tests without
DynamoDB (or moto).

It keeps what the repository's writes check: the uniqueness keys (a username, its look, a unit), the failure
counts as read, the live tokens and tickets, the pending TOTP secret, the last TOTP step and the unused
recovery codes, the organiser role; and refuses a write with the same domain errors. The audit rows go to the
shared `MemoryTables`. tests/integration/test_account_repository_contract.py runs the same tests against both.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from ..domain import account_record
from ..domain.account_record import Account, Session, Throttle, Token
from ..domain.errors import Conflict, Duplicate, NotFound
from .memory import MemoryTables

REFUSED = "操作冲突，请刷新后重试"


@dataclass(frozen=True)
class GuardRow:
    """A row of the guards table: a uniqueness key, a counter, a token or a ticket."""
    key: str
    owner: str | None = None
    failures: int = 0
    locked_until: float = 0
    expires_at: int | None = None
    purpose: str | None = None


class InMemoryAccountRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.audit = self.tables.audit
        self.accounts: dict[str, Account] = {}
        self.guards: dict[str, GuardRow] = {}
        self.sessions: dict[str, Session] = {}

    # -- what a test sets up -----------------------------------------------------------------------
    def put(self, account: Account) -> None:
        """Store an account as it is (what a test seeds; no uniqueness keys, no audit)."""
        self.accounts[account.username] = account

    # -- accounts ------------------------------------------------------------------------------------
    def create(self, account: Account, unit_key: str | None, skeleton: str, actor: str, now: float,
               token: Token | None = None) -> None:
        if account.username in self.accounts:
            raise Duplicate("用户名已被使用，请换一个用户名", {"username": "用户名已被使用"})
        if f"username#{skeleton}" in self.guards:
            raise Duplicate("用户名与已有的用户名过于相似（字形易混淆），请换一个用户名",
                            {"username": "与已有用户名过于相似"})
        if unit_key is not None and f"unit#{unit_key}" in self.guards:
            raise Duplicate("该单位已注册帐号（每个单位注册一个帐号即可），请用已有帐号登录",
                            {"unit_name": "该单位已注册帐号"})
        self.accounts[account.username] = account
        self.guards[f"username#{skeleton}"] = GuardRow(f"username#{skeleton}", owner=account.username)
        if unit_key is not None:
            self.guards[f"unit#{unit_key}"] = GuardRow(f"unit#{unit_key}", owner=account.username)
        if token is not None:
            self._put_token(token)
        self.audit.append((f"account#{account.username}", actor, "account.create"))

    def save_organiser(self, account: Account, skeleton: str) -> None:
        self.accounts[account.username] = account
        self.guards[f"username#{skeleton}"] = GuardRow(f"username#{skeleton}", owner=account.username)

    def get(self, username: str) -> Account | None:
        return self.accounts.get(username)

    def _by_role(self, role: str) -> list[Account]:
        return sorted((a for a in self.accounts.values() if a.role == role), key=lambda a: a.created_at)

    def list_units(self) -> list[Account]:
        return self._by_role("unit")

    def list_organisers(self) -> list[Account]:
        return self._by_role("organiser")

    # -- login -------------------------------------------------------------------------------------
    def _throttle(self, key: str, now: float) -> Throttle:
        row = self.guards.get(key)
        if row is None:
            return account_record.throttle(key, False, None, None, None, now)
        return account_record.throttle(key, True, row.failures, row.locked_until, row.expires_at, now)

    def get_for_login(self, username: str, client: str, now: float) -> tuple[Account | None, Throttle, Throttle]:
        return (self.accounts.get(username), self._throttle(f"login#{username}", now),
                self._throttle(f"client#{client}", now))

    def read_throttles(self, keys: Iterable[str], now: float) -> list[Throttle]:
        return [self._throttle(key, now) for key in keys]

    def reserve_attempts(self, throttles: list[tuple[Throttle, float]], forget_after: int, now: float) -> None:
        for throttle, _ in throttles:
            row = self.guards.get(throttle.key)
            if (row is not None) if throttle.stored is None else (row is None or row.failures != throttle.stored):
                raise Conflict(REFUSED)
        for throttle, locked_until in throttles:
            row = self.guards.get(throttle.key) or GuardRow(throttle.key)
            self.guards[throttle.key] = replace(row, failures=throttle.failures + 1, locked_until=locked_until,
                                                expires_at=int(now) + forget_after)

    def record_failure(self, username: str, failures: int, client: str, now: float) -> None:
        self.audit.append((f"account#{username}", "anonymous", "login.failed"))

    def _release(self, key: str) -> None:
        row = self.guards.get(key) or GuardRow(key)
        self.guards[key] = replace(row, failures=row.failures - 1, locked_until=0)

    def release_attempts(self, keys: list[str]) -> None:
        for key in keys:
            self._release(key)

    def open_session(self, session: Session, username: str, client_key: str | None, now: float,
                     totp_step: int | None = None, recovery_hash: str | None = None) -> None:
        account = self.accounts.get(username)
        if totp_step is not None and account is not None and (
                account.totp_last_step is not None and account.totp_last_step >= totp_step):
            raise Conflict(REFUSED)
        if recovery_hash is not None and (account is None or recovery_hash not in account.recovery_hashes):
            raise Conflict(REFUSED)
        self.sessions[session.token_hash] = session
        self.guards.pop(f"login#{username}", None)
        if client_key is not None:
            self._release(client_key)
        if account is not None and totp_step is not None:
            account = replace(account, totp_last_step=totp_step)
        if account is not None and recovery_hash is not None:
            account = replace(account, recovery_hashes=account.recovery_hashes - {recovery_hash})
        if account is not None:
            self.accounts[username] = account
        self.audit.append((f"account#{username}", f"{session.role}:{username}", "session.open"))

    def count_in_window(self, key: str, limit: int, window: int, now: float) -> bool:
        row = self.guards.get(key)
        if row is not None and row.expires_at is not None and row.failures < limit and row.expires_at > int(now):
            self.guards[key] = replace(row, failures=row.failures + 1)
            return True
        if row is None or (row.expires_at is not None and row.expires_at <= int(now)):
            self.guards[key] = replace(row or GuardRow(key), failures=1, expires_at=int(now) + window)
            return True
        return False

    # -- tokens and tickets --------------------------------------------------------------------------
    def _put_token(self, token: Token) -> None:
        key = f"token#{token.token_hash}"
        self.guards[key] = GuardRow(key, owner=token.owner, purpose=token.purpose, expires_at=int(token.expires_at))

    def put_token(self, token: Token, actor: str, now: float) -> None:
        self._put_token(token)
        self.audit.append((f"account#{token.owner}", actor, f"{token.purpose}.request"))

    def get_token(self, token_hash: str) -> Token | None:
        row = self.guards.get(f"token#{token_hash}")
        if row is None:
            return None
        return Token(token_hash, row.owner or "", row.purpose or "", row.expires_at or 0)

    def use_token(self, token: Token, password_hash: str, now: float) -> None:
        key = f"token#{token.token_hash}"
        row = self.guards.get(key)
        account = self.accounts.get(token.owner)
        if (row is None or row.owner != token.owner or row.expires_at is None or row.expires_at <= int(now)
                or account is None):
            raise Conflict(REFUSED)
        del self.guards[key]
        self.accounts[token.owner] = replace(account, password_hash=password_hash, password_changed_at=now)
        self.audit.append((f"account#{token.owner}", f"token:{token.owner}", f"{token.purpose}.use"))

    def put_ticket(self, ticket_hash: str, username: str, expires_at: float) -> None:
        key = f"mfa#{ticket_hash}"
        self.guards[key] = GuardRow(key, owner=username, purpose="mfa", expires_at=int(expires_at))

    def take_ticket(self, ticket_hash: str, now: float) -> str | None:
        row = self.guards.pop(f"mfa#{ticket_hash}", None)
        if row is None:
            return None
        if row.expires_at is None or row.expires_at <= int(now):
            self.guards[row.key] = row      # an expired ticket is refused and left to its TTL
            return None
        return row.owner

    # -- passwords, two-step verification, the organiser team ----------------------------------------
    def _update(self, username: str, **changes: object) -> None:
        account = self.accounts.get(username)
        if account is None:
            raise Conflict(REFUSED)
        self.accounts[username] = replace(account, **changes)  # type: ignore[arg-type]

    def set_password(self, username: str, password_hash: str, actor: str, now: float) -> None:
        self._update(username, password_hash=password_hash, password_changed_at=now)
        self.audit.append((f"account#{username}", actor, "password.change"))

    def set_totp_pending(self, username: str, secret: str, actor: str, now: float) -> None:
        self._update(username, totp_pending=secret)
        self.audit.append((f"account#{username}", actor, "totp.setup"))

    def enable_totp(self, username: str, secret: str, recovery_hashes: set[str], actor: str, now: float) -> None:
        account = self.accounts.get(username)
        if account is None or account.totp_pending != secret:
            raise Conflict(REFUSED)
        self.accounts[username] = replace(account, totp_secret=secret, totp_pending=None, totp_last_step=None,
                                          recovery_hashes=frozenset(recovery_hashes))
        self.audit.append((f"account#{username}", actor, "totp.enable"))

    def _organiser(self, username: str) -> Account:
        account = self.accounts.get(username)
        if account is None or account.role != "organiser":
            raise NotFound("没有找到这位团队成员")
        return account

    def set_organiser_role(self, username: str, role: str, actor: str, now: float) -> None:
        self.accounts[username] = replace(self._organiser(username), organiser_role=role)
        self.audit.append((f"account#{username}", actor, "organiser.role"))

    def remove_organiser(self, username: str, skeleton: str, actor: str, now: float) -> None:
        self._organiser(username)
        del self.accounts[username]
        self.guards.pop(f"username#{skeleton}", None)
        self.audit.append((f"account#{username}", actor, "organiser.remove"))

    # -- sessions ------------------------------------------------------------------------------------
    def get_session(self, token_hash: str) -> Session | None:
        return self.sessions.get(token_hash)

    def touch_session(self, token_hash: str, expires_at: float, now: float) -> bool:
        session = self.sessions.get(token_hash)
        if session is None:
            return False
        self.sessions[token_hash] = replace(session, expires_at=int(expires_at), last_seen=now)
        return True

    def sessions_of(self, account_id: str) -> list[Session]:
        return sorted((s for s in self.sessions.values() if s.account_id == account_id), key=lambda s: s.created_at)

    def delete_session(self, token_hash: str, object_key: str, actor: str, now: float) -> None:
        self.sessions.pop(token_hash, None)
        self.audit.append((object_key, actor, "session.close"))

    def end_sessions(self, token_hashes: list[str], object_key: str, actor: str, reason: str, now: float) -> None:
        for start in range(0, len(token_hashes), 99):
            for token_hash in token_hashes[start:start + 99]:
                self.sessions.pop(token_hash, None)
            self.audit.append((object_key, actor, "session.end"))

    def set_sessions_role(self, token_hashes: list[str], role: str) -> None:
        for token_hash in token_hashes:
            if token_hash in self.sessions:
                self.sessions[token_hash] = replace(self.sessions[token_hash], organiser_role=role)

    def mark_session_mfa(self, token_hash: str) -> None:
        session = self.sessions.get(token_hash)
        if session is not None:
            self.sessions[token_hash] = replace(session, mfa=True)
