"""Domain errors: a stable English code, a Chinese message that says what to fix, optional field errors.

The web layer maps codes to HTTP statuses (chalicelib/web/errors.py); nothing here knows HTTP.
"""
from __future__ import annotations


class DomainError(Exception):
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or None
        if code:
            self.code = code


class Invalid(DomainError):
    code = "invalid"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class StageClosed(DomainError):
    code = "stage_closed"


class VersionConflict(DomainError):
    code = "version_conflict"


class Duplicate(DomainError):
    code = "duplicate"


class NotSubmitted(DomainError):
    code = "not_submitted"


class Conflict(DomainError):
    """A state conflict that is none of the named ones (for example, a stage already closed)."""
    code = "conflict"


class TooLarge(DomainError):
    code = "too_large"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` is the true wait in seconds (the HTTP Retry-After)."""
    code = "rate_limited"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None,
                 retry_after: int = 5):
        super().__init__(message, fields, code)
        self.retry_after = max(1, int(retry_after))


class MfaRequired(Unauthenticated):
    """The password was right; the account's second factor (a TOTP code) is still needed."""
    code = "mfa_required"


class InvalidToken(DomainError):
    """A reset or invitation link that is used, expired or was never issued."""
    code = "invalid_token"


class Unavailable(DomainError):
    """A dependency (DynamoDB, S3, SES) refused or failed after retries; the client may retry."""
    code = "unavailable"
