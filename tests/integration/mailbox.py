"""What the emulated SES sent (moto keeps every message), parsed with the email package."""
from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage


def ses_messages() -> list[EmailMessage]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib import bootstrap
    backend = ses_backends[DEFAULT_ACCOUNT_ID][bootstrap.config().region]
    found = []
    for sent in backend.sent_messages:
        raw = getattr(sent, "raw_data", None)
        if raw is None:
            continue
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        found.append(email.message_from_bytes(data, policy=email.policy.default))
    return found


def bodies(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative mail; both must be there."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def check_headers(message: EmailMessage, recipient: str, subject_part: str) -> None:
    from chalicelib import bootstrap
    assert message["To"] == recipient
    assert message["From"].addresses[0].addr_spec == bootstrap.config().mail_sender
    assert subject_part in message["Subject"]
    assert "\n" not in message["Subject"] and message["Message-ID"]


def send_queued() -> dict[str, int]:
    """One run of the app's queued mail sender (the 1-minute schedule `send_queued_mail`)."""
    import app
    from chalicelib.domain.clock import moment
    from scripts.local_jobs import scheduled_event
    return app.send_queued_mail(scheduled_event("send_queued_mail", moment(0)), None)
