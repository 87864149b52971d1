"""The queued sender: the 1-minute schedule `send_queued_mail` of app.py, also started asynchronously right
after a request that queued mail (ASYNC_MODE=lambda), and polled by the local runner (scripts/local_jobs.py).
Each run mails what is queued at MAIL_RATE_PER_SECOND; the claims make overlapping runs harmless."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime, timezone

from ..domain.clock import epoch
from .. import bootstrap
from ..services import judging

log = logging.getLogger("saiping")
BUDGET_SECONDS = 240      # of the function's 300 s: no claim after it, so a run never stops between a claim and
                          # its send; what is left waits for the next run
BATCH = 1000              # rows read per run (one Query)


def send_queued_mail() -> dict[str, int]:
    cfg = bootstrap.config()
    return asdict(judging.send_invitations(bootstrap.deps().judging, bootstrap.competition(), cfg,
                                           bootstrap.mail_transport(), bootstrap.now, BATCH, BUDGET_SECONDS,
                                           stages=bootstrap.deps().stages, mail=bootstrap.deps().mail))


def start_event(now: datetime) -> dict:
    """The event the API starts the function with: shaped as its schedule's (Chalice reads a scheduled
    function's event as an EventBridge event and refuses one without these fields)."""
    at = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"version": "0", "id": f"saiping-api-{int(epoch(now))}", "detail-type": "Scheduled Event",
            "source": "saiping.api", "account": "", "time": at, "region": "", "resources": [], "detail": {}}


def start() -> None:
    """Start a run now (an asynchronous invocation of the function) instead of at the next minute. A failure
    to start is logged, not raised: the schedule sends the mail within a minute anyway."""
    cfg = bootstrap.config()
    if cfg.async_mode != "lambda" or not cfg.mail_function_name:
        return
    try:
        bootstrap.client("lambda").invoke(FunctionName=cfg.mail_function_name, InvocationType="Event",
                                          Payload=json.dumps(start_event(bootstrap.now())).encode("utf-8"))
    except Exception:
        log.exception("could not start the queued mail sender; the schedule will send the mail")
