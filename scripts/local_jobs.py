"""Runs what EventBridge and asynchronous Lambda invocations run in AWS, with the same functions.

The schedules are read from the Chalice app itself (`@app.schedule(Rate(...))`), so the local stack
runs exactly what the deployment declares, at the same rates; each runs once at start-up too.
Queued export jobs (ASYNC_MODE=poll) are found with a Query of the jobs' by_status index and handed to
the app's `exports` function with the event the API would send it in AWS ({"id": <job id>}). Queued mail
(what the API starts the `send_queued_mail` function for in AWS) is looked for at each turn too.
"""
from __future__ import annotations

import importlib
from datetime import datetime, timezone
from typing import Any

from chalice.app import Rate, ScheduledEventConfig

from chalicelib.domain.clock import epoch

SECONDS = {Rate.MINUTES: 60, Rate.HOURS: 3600, Rate.DAYS: 86400}
_last_run: dict[str, float] = {}


def schedules() -> list[tuple[str, float, Any]]:
    """(name, period in seconds, handler) of every rate schedule the app declares."""
    module = importlib.import_module("app")
    found = []
    for source in module.app.event_sources:
        if isinstance(source, ScheduledEventConfig) and isinstance(source.schedule_expression, Rate):
            rate = source.schedule_expression
            found.append((source.name, rate.value * SECONDS[rate.unit], getattr(module, source.name)))
    return found


def scheduled_event(name: str, now: datetime) -> dict[str, Any]:
    return {"version": "0", "id": f"local-{name}-{int(epoch(now))}", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000", "region": "local",
            "time": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [], "detail": {}}


def run_due(now: datetime) -> list[str]:
    """Run every schedule whose period has passed since it last ran here, then the queued export jobs.
    Returns the names run (an export as "exports:<job id>")."""
    ran = []
    for name, period, handler in schedules():
        if epoch(now) - _last_run.get(name, 0.0) >= period:
            _last_run[name] = epoch(now)
            handler(scheduled_event(name, now), None)
            ran.append(name)
    ran += [f"exports:{job_id}" for job_id in run_queued_exports()]
    if "send_queued_mail" not in ran and run_queued_mail(now):
        ran.append("send_queued_mail")
    return ran


def run_queued_mail(now: datetime) -> bool:
    """Run the app's `send_queued_mail` when mail is queued (one Query of the sparse index): what the API's
    asynchronous start does in AWS. True when it ran."""
    from chalicelib import bootstrap
    from chalicelib.mail import outbox

    bootstrap.config()
    if not outbox.queued(bootstrap.competition().id, 1, bootstrap.deps().mail):
        return False
    getattr(importlib.import_module("app"), "send_queued_mail")(scheduled_event("send_queued_mail", now), None)
    return True


def run_queued_exports(limit: int = 5) -> list[str]:
    """Invoke the app's `exports` function for each queued job, oldest first (what Lambda does in AWS)."""
    from chalicelib import bootstrap
    from chalicelib.store import exports as export_store

    bootstrap.config()
    handler = getattr(importlib.import_module("app"), "exports")
    ran = []
    for job in export_store.queued(limit):
        handler({"id": job.id}, None)
        ran.append(job.id)
    return ran
