"""Passwords (Argon2id, memory-hard), random tokens and their stored hashes, constant-time compares."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    from argon2 import PasswordHasher  # the API's cold start does not pay for it (chalicelib/lazy.py)
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def hash_password(password: str, time_cost: int, memory_kib: int) -> str:
    return _hasher(time_cost, memory_kib).hash(password)


def verify_password(stored_hash: str | None, password: str, time_cost: int, memory_kib: int) -> bool:
    """Verify; with no stored hash (unknown user) still spend the same work so timing tells nothing."""
    from argon2.exceptions import InvalidHashError, VerificationError
    hasher = _hasher(time_cost, memory_kib)
    if stored_hash is None:
        stored_hash = _dummy_hash(time_cost, memory_kib)
        try:
            hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _hasher(time_cost, memory_kib).hash(secrets.token_hex(16))


def new_token() -> str:
    """A 256-bit random token for a session or a CSRF check."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode("utf-8", "surrogatepass"),
                                                           str(b).encode("utf-8", "surrogatepass"))


def new_id() -> str:
    return secrets.token_hex(8)
