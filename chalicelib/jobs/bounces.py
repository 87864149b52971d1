"""SES bounce events (the stage's configuration set -> SNS topic saiping-<stage>-bounces -> the function
record_bounces of app.py -> `handle`) into the mail log: docs/MAIL.md, "Bounces"."""
from __future__ import annotations

from typing import Any

from .. import bootstrap
from ..services import notifications


def handle(event: Any) -> int:
    """Marks the bounced mail-log rows; returns how many."""
    bootstrap.config()
    return notifications.record_bounces(notifications.sns_messages(event), bootstrap.now(),
                                        bootstrap.deps().mail)
