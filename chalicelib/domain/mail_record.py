"""A mail-log row as the services and the mail port read it: one per (kind, object, recipient), the once-only
key of every mail and its log (its claim, send attempts, status, SES message id, bounce).

The store's repositories (store/mail.MailRepository and its in-memory twin store/memory_mail.py) return these;
nothing here knows how they are stored. A record is never changed in place: a write that changes it returns
the record as it now is.
"""
from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class MailRecord:
    mail_key: str                       # "<kind>#<object>#<recipient>"
    competition_id: str
    kind: str
    recipient: str
    subject: str
    status: str                         # "queued" | "sending" | "sent" | "failed" | "bounced" | "dropped"
    created_at: float
    message_id: str | None = None       # SES's (or the relay's Message-ID) once sent
    error: str | None = None            # why the last send failed, or the bounce
    attempts: int | None = None         # send calls made (once-only mail; capped)
    sent_at: float | None = None
    bounced_at: float | None = None
    queued_for: str | None = None       # the competition, while the queued sender owes the mail
    ref: str | None = None              # what a queued mail is about ("<judge>#<stage>")
    claimed_at: float | None = None     # a queued mail's last claim by the sender

    @property
    def object_key(self) -> str:
        """The object part of the key `<kind>#<object>#<recipient>`."""
        return self.mail_key.split("#", 1)[1].rsplit("#", 1)[0]

    def may_retry(self, max_attempts: int) -> bool:
        """A failed mail with send calls left."""
        return self.status == "failed" and (self.attempts or 0) < max_attempts
