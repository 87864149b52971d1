"""Export jobs: the request row, the claim that makes a run happen once, progress and the outcome.

`ExportRepository` is the services' way in (services/repositories.ExportRepository): it reads and writes the
domain `ExportJob` (domain/export_record.py). The functions before it work on the PynamoDB rows (the local
runner's scripts and the tests read them).

Access patterns (no Scan): GetItem by id; the queue and the console's latest jobs are Queries of the
by_status index (oldest queued first; newest of each status).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from ..domain import export_record
from ..domain.errors import Conflict
from .models import ExportJob

# A run that has not finished after this long is taken to have died (the function's timeout is 900 s at
# most): another invocation may claim the job again.
LEASE_SECONDS = 900
PROGRESS_REFUSED = "导出任务已在别处结束，不再更新进度"
DUPLICATE = "操作冲突，请刷新后重试"


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


def latest(competition_id: str, limit: int = 10) -> list[ExportJob]:
    """The competition's newest jobs: a Query of by_status for each status, newest first, `limit` each."""
    jobs = [job for status in export_record.STATUSES
            for job in ExportJob.by_status.query(status, scan_index_forward=False, limit=limit)
            if job.competition_id == competition_id]
    return sorted(jobs, key=lambda j: -float(j.created_at))[:limit]


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
    job.update(actions=[ExportJob.percent.set(_percent(percent))], condition=ExportJob.status == "running")


def _percent(percent: int) -> int:
    return max(0, min(99, int(percent)))


def finish(job: ExportJob, key: str, filename: str, now: float) -> None:
    job.update(actions=[ExportJob.status.set("done"), ExportJob.percent.set(100), ExportJob.key.set(key),
                        ExportJob.filename.set(filename), ExportJob.finished_at.set(now),
                        ExportJob.error.remove()])


def fail(job: ExportJob, error: str, now: float) -> None:
    job.update(actions=[ExportJob.status.set("failed"), ExportJob.error.set(error[:500]),
                        ExportJob.finished_at.set(now)])


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


def _domain(row: ExportJob) -> export_record.ExportJob:
    return export_record.ExportJob(
        id=row.id, competition_id=row.competition_id, kind=row.kind, status=row.status,
        created_at=float(row.created_at), category=row.category, percent=int(row.percent or 0), key=row.key,
        filename=row.filename, error=row.error, requested_by=row.requested_by, started_at=_number(row.started_at),
        finished_at=_number(row.finished_at), attempts=int(row.attempts or 0))


def _row(job: export_record.ExportJob) -> ExportJob:
    """The item of a new job."""
    return ExportJob(job.id, competition_id=job.competition_id, kind=job.kind, category=job.category,
                     status=job.status, percent=job.percent, requested_by=job.requested_by,
                     created_at=job.created_at, attempts=job.attempts)


class ExportRepository:
    """Export jobs in DynamoDB, as domain jobs; every write is one UpdateItem on the job's key."""

    def create(self, job: export_record.ExportJob) -> None:
        try:
            create(_row(job))
        except PutError as exc:
            if "ConditionalCheckFailed" in str(exc):
                raise Conflict(DUPLICATE) from exc
            raise

    def get(self, job_id: str) -> export_record.ExportJob | None:
        row = get(job_id)
        return _domain(row) if row is not None else None

    def queued(self, limit: int = 10) -> list[export_record.ExportJob]:
        return [_domain(r) for r in queued(limit)]

    def latest(self, competition_id: str, limit: int = 10) -> list[export_record.ExportJob]:
        return [_domain(r) for r in latest(competition_id, limit)]

    def claim(self, job: export_record.ExportJob, now: float) -> export_record.ExportJob | None:
        row = ExportJob(job.id)
        if not claim(row, now):
            return None
        return _domain(row)

    def progress(self, job: export_record.ExportJob, percent: int) -> None:
        try:
            progress(ExportJob(job.id), percent)
        except UpdateError as exc:
            if "ConditionalCheckFailed" in str(exc):
                raise Conflict(PROGRESS_REFUSED) from exc
            raise

    def finish(self, job: export_record.ExportJob, key: str, filename: str,
               now: float) -> export_record.ExportJob:
        finish(ExportJob(job.id), key, filename, now)
        return replace(job, status="done", percent=100, key=key, filename=filename, finished_at=now, error=None)

    def fail(self, job: export_record.ExportJob, error: str, now: float) -> export_record.ExportJob:
        fail(ExportJob(job.id), error, now)
        return replace(job, status="failed", error=error[:500], finished_at=now)
