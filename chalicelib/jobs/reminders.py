"""The hourly mail schedule: deadline reminders, judge reminders, coaching feedback notices."""
from __future__ import annotations

from .. import bootstrap
from ..services import notifications


def send_reminders() -> dict[str, int]:
    bootstrap.config()
    return notifications.send_reminders(bootstrap.competition(), bootstrap.result_ports(), bootstrap.now_dt(),
                                        bootstrap.case_repository(), bootstrap.mail_repository())
