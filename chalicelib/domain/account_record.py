"""Accounts, sessions, login throttles and one-use tokens as the services read them.

The store's account repository (store/accounts.AccountRepository) and its in-memory twin
(store/memory_accounts.py) return these and take them back for writes; nothing here knows how they are stored.
A record is never changed in place (`dataclasses.replace`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    """A unit's (or an organiser's) account; the username is its key."""
    username: str
    id: str
    role: str                                   # "unit" | "organiser"
    password_hash: str
    created_at: float = 0.0
    unit_name: str | None = None
    unit_system: str | None = None              # "municipal" | "district"
    district: str | None = None
    contact_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    organiser_role: str | None = None           # "admin" | "staff" | "viewer" (organisers; none = admin)
    name: str | None = None                     # an organiser's own name
    totp_secret: str | None = None
    totp_pending: str | None = None
    totp_last_step: int | None = None
    recovery_hashes: frozenset[str] = frozenset()   # SHA-256 of the unused recovery codes
    password_changed_at: float | None = None


@dataclass(frozen=True)
class Identity:
    """Who a session speaks for: the fields a session and the principal made from it (services/accounts.Principal)
    have alike."""
    role: str                                   # "unit" | "organiser" | "judge"
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
    organiser_role: str | None = None
    mfa: bool = False


@dataclass(frozen=True, kw_only=True)
class Session(Identity):
    """A revocable server-side session (the table keeps the SHA-256 of the client's token)."""
    created_at: float
    expires_at: float
    session_id: str | None = None               # names the session on /account (never the token or its hash)
    ends_at: float | None = None                # the latest end, however active
    last_seen: float | None = None
    client: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class Throttle:
    """A failure counter as read: the stored count (the condition of the next write) and its lock."""
    key: str
    stored: int | None          # None: no item
    failures: int               # what counts now (0 once the row has expired)
    locked_until: float


def throttle(key: str, found: bool, failures: float | None, locked_until: float | None, expires_at: float | None,
             now: float) -> Throttle:
    """The throttle of a counter row as stored (`found`: there is one)."""
    if not found:
        return Throttle(key, None, 0, 0.0)
    live = expires_at is None or expires_at > now
    return Throttle(key, int(failures or 0), int(failures or 0) if live else 0,
                    float(locked_until or 0) if live else 0.0)


@dataclass(frozen=True)
class Token:
    """A one-use link's token (reset or invitation), by the SHA-256 of what the link carries."""
    token_hash: str
    owner: str                  # the username
    purpose: str                # "reset" | "invitation"
    expires_at: int


def new_token(token_hash: str, username: str, purpose: str, expires_at: float) -> Token:
    return Token(token_hash, username, purpose, int(expires_at))
