"""Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA-1, 30-second steps, 6 digits.

What authenticator apps (腾讯身份验证器, Google/Microsoft Authenticator, FreeOTP …) expect from an
`otpauth://totp/` URI with a base32 secret. Pure: the time step comes in as an argument.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1          # a code of the step before or after is accepted too (clocks drift, people type)
ISSUER = "赛评"


def step_of(now: float) -> int:
    return int(now // STEP_SECONDS)


def code_at(secret_b32: str, step: int) -> str:
    """RFC 4226's HOTP of the step: dynamic truncation of HMAC-SHA-1, DIGITS decimal digits."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** DIGITS).zfill(DIGITS)


def matching_step(secret_b32: str, code: str, now: float) -> int | None:
    """The step whose code `code` is (within the allowed drift), or None. Compared in constant time."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_of(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret_b32, step), code):
            found = step
    return found


def secret_from(random_bytes: bytes) -> str:
    """A base32 secret without padding (20 random bytes = 160 bits, RFC 4226's recommended length)."""
    return base64.b32encode(random_bytes).decode("ascii").rstrip("=")


def otpauth_uri(secret_b32: str, username: str) -> str:
    label = quote(f"{ISSUER}:{username}", safe="")
    return (f"otpauth://totp/{label}?secret={secret_b32}&issuer={quote(ISSUER, safe='')}"
            f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}")


def normalise_recovery_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())
