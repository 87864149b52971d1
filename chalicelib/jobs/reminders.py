"""The hourly mail schedule: deadline reminders, judge reminders, coaching feedback notices."""
from __future__ import annotations

from .. import bootstrap
from ..services import notifications


def send_reminders() -> dict[str, int]:
    bootstrap.config()
    deps = bootstrap.deps()
    return notifications.send_reminders(deps.judging, bootstrap.competition(), deps.ports(), bootstrap.now(),
                                        deps.cases, deps.mail, stages=deps.stages)
