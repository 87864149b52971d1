"""The `exports` function (asynchronous Lambda invocation with {"id": <job id>}) and the local runner's turn.

Both call services.exports.run, which claims the job first: Lambda's automatic retries of an async
invocation, a doubled invocation, or the runner and Lambda together build each export once.
"""
from __future__ import annotations

from typing import Any

from .. import bootstrap
from ..services import exports
from ..store import console as console_store


def ports() -> exports.RunPorts:
    cfg = bootstrap.config()
    return exports.RunPorts(put_object=bootstrap.files().put, open_object=bootstrap.files().open,
                            judging=bootstrap.deps().judging,
                            signing_key=cfg.signing_keys[0],
                            site_url=cfg.site_url, now=bootstrap.now,
                            read_award_list=lambda competition_id: console_store.read_award_list(
                                bootstrap.s3(), cfg.bucket, competition_id))


def handle(event: Any) -> dict[str, str]:
    """Lambda entry: {"id": "<job id>"} -> {"id", "outcome"}."""
    job_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(job_id, str) or not job_id:
        return {"id": "", "outcome": "missing"}
    bootstrap.config()
    return {"id": job_id, "outcome": exports.run(bootstrap.competition(), ports(), job_id)}


def run_queued(limit: int = 5) -> list[str]:
    """The local runner (ASYNC_MODE=poll): run the oldest queued jobs, as the function would."""
    bootstrap.config()
    return exports.run_queued(bootstrap.competition(), ports(), limit)
