"""The `exports` function (asynchronous Lambda invocation with {"id": <job id>}) and the local runner's turn.

Both call services.exports.run with the job's own competition (an earlier one's export builds that one's
data), which claims the job first: Lambda's automatic retries of an async
invocation, a doubled invocation, or the runner and Lambda together build each export once.
"""
from __future__ import annotations

from typing import Any

from .. import bootstrap
from ..services import exports


def ports() -> exports.RunPorts:
    cfg, deps = bootstrap.config(), bootstrap.deps()
    return exports.RunPorts(jobs=deps.exports, cases=deps.cases, certificates=deps.certificates,
                            award_lists=deps.award_lists, judging=deps.judging, accounts=deps.accounts,
                            stages=deps.stages, results=deps.results, final=deps.final,
                            put_object=deps.files.put, open_object=deps.files.open,
                            signing_key=cfg.signing_keys[0], site_url=cfg.site_url, now=bootstrap.now)


def handle(event: Any) -> dict[str, str]:
    """Lambda entry: {"id": "<job id>"} -> {"id", "outcome"}."""
    job_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(job_id, str) or not job_id:
        return {"id": "", "outcome": "missing"}
    bootstrap.config()
    return {"id": job_id, "outcome": exports.run(bootstrap.competition(), ports(), job_id,
                                                   bootstrap.competition_by_id)}


def run_queued(limit: int = 5) -> list[str]:
    """The local runner (ASYNC_MODE=poll): run the oldest queued jobs, as the function would."""
    bootstrap.config()
    return exports.run_queued(bootstrap.competition(), ports(), limit, bootstrap.competition_by_id)
