"""Export jobs: the request row, the claim that makes a run happen once, progress and the outcome."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from .models import ExportJob

# A run that has not finished after this long is taken to have died (the function's timeout is 900 s at
# most): another invocation may claim the job again.
LEASE_SECONDS = 900


def create(job: ExportJob) -> None:
    job.save(condition=ExportJob.id.does_not_exist())


def get(job_id: str) -> ExportJob | None:
    try:
        return ExportJob.get(job_id)
    except ExportJob.DoesNotExist:
        return None


def queued(limit: int = 10) -> list[ExportJob]:
    """The oldest queued jobs (a Query of the by_status index; never a Scan)."""
    return list(ExportJob.by_status.query("queued", scan_index_forward=True, limit=limit))


def claim(job: ExportJob, now: float) -> bool:
    """queued -> running (or a running job whose lease ran out). False: someone else has it, or it is done."""
    condition = (ExportJob.status == "queued") | (
        (ExportJob.status == "running") & (ExportJob.started_at < now - LEASE_SECONDS))
    try:
        job.update(actions=[ExportJob.status.set("running"), ExportJob.started_at.set(now),
                            ExportJob.percent.set(0), ExportJob.attempts.add(1)], condition=condition)
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc):
            return False
        raise
    return True


def progress(job: ExportJob, percent: int) -> None:
    job.update(actions=[ExportJob.percent.set(max(0, min(99, int(percent))))],
               condition=ExportJob.status == "running")


def finish(job: ExportJob, key: str, filename: str, now: float) -> None:
    job.update(actions=[ExportJob.status.set("done"), ExportJob.percent.set(100), ExportJob.key.set(key),
                        ExportJob.filename.set(filename), ExportJob.finished_at.set(now),
                        ExportJob.error.remove()])


def fail(job: ExportJob, error: str, now: float) -> None:
    job.update(actions=[ExportJob.status.set("failed"), ExportJob.error.set(error[:500]),
                        ExportJob.finished_at.set(now)])
