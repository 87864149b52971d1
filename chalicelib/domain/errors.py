"""Domain errors: a stable English code, a Chinese message that says what to fix, optional field errors.

The web layer maps codes to HTTP statuses (chalicelib/web/http.py); nothing here knows HTTP.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on. Each kind below is one line: the class, the stable code it declares
    (`class X(DomainError, code=...)`) and what it means."""
    code = "invalid"

    def __init_subclass__(cls, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or None
        if code:
            self.code = code


class Invalid(DomainError, code="invalid"): """Input that breaks a rule; `fields` names each wrong field."""
class Unauthenticated(DomainError, code="unauthenticated"): """No session, or one that has ended."""
class Forbidden(DomainError, code="forbidden"): """The caller may not do this."""
class NotFound(DomainError, code="not_found"): """No such object."""
class StageClosed(DomainError, code="stage_closed"): """The stage's window does not allow this write now."""
class VersionConflict(DomainError, code="version_conflict"): """The object changed since the version the caller read."""
class Duplicate(DomainError, code="duplicate"): """Something that must be unique is taken already."""
class NotSubmitted(DomainError, code="not_submitted"): """The case has not been submitted."""
class Conflict(DomainError, code="conflict"): """Another state conflict (for example, a stage already closed)."""
class TooLarge(DomainError, code="too_large"): """A body or a file over its limit."""
class MfaRequired(Unauthenticated, code="mfa_required"): """The password was right; a TOTP code is still needed."""
class InvalidToken(DomainError, code="invalid_token"): """A reset or invitation link used, expired or never issued."""
class Unavailable(DomainError, code="unavailable"): """A dependency (DynamoDB, S3, SES) failed after retries: retry."""


class RateLimited(DomainError, code="rate_limited"):
    """Too many attempts; `retry_after` is the true wait in seconds (the HTTP Retry-After)."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None,
                 retry_after: int = 5):
        super().__init__(message, fields, code)
        self.retry_after = max(1, int(retry_after))
