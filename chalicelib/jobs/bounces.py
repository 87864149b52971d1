"""SES bounce notifications (SES -> SNS topic -> this handler) into the mail log: docs/MAIL.md says how
to wire it (`@app.on_sns_message(topic=...)` in app.py calling `handle`)."""
from __future__ import annotations

from typing import Any

from .. import bootstrap
from ..services import notifications


def handle(event: Any) -> int:
    """Marks the bounced mail-log rows; returns how many."""
    bootstrap.config()
    return notifications.record_bounces(notifications.sns_messages(event), bootstrap.now())
