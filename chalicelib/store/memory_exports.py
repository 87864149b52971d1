"""In-memory twins of the export jobs and the console's saved award list (store/exports.ExportRepository,
store/console.AwardListRepository), for service tests without DynamoDB, S3 or moto.

The job twin keeps what the table's conditions check: a new id, the claim (queued, or running past its
lease), progress only while running. tests/integration/test_export_repository_contract.py runs the same
tests against both.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, Mapping

from ..domain.errors import Conflict
from ..domain.export_record import ExportJob
from .exports import DUPLICATE, LEASE_SECONDS, PROGRESS_REFUSED
from .memory import MemoryTables


class InMemoryExportRepository:
    def __init__(self) -> None:
        self.jobs: dict[str, ExportJob] = {}

    def create(self, job: ExportJob) -> None:
        if job.id in self.jobs:
            raise Conflict(DUPLICATE)
        self.jobs[job.id] = job

    def get(self, job_id: str) -> ExportJob | None:
        return self.jobs.get(job_id)

    def queued(self, limit: int = 10) -> list[ExportJob]:
        return sorted((j for j in self.jobs.values() if j.status == "queued"), key=lambda j: j.created_at)[:limit]

    def latest(self, competition_id: str, limit: int = 10) -> list[ExportJob]:
        found = (j for j in self.jobs.values() if j.competition_id == competition_id)
        return sorted(found, key=lambda j: -j.created_at)[:limit]

    def claim(self, job: ExportJob, now: float) -> ExportJob | None:
        stored = self.jobs.get(job.id)
        if stored is None or not (stored.status == "queued" or (
                stored.status == "running" and stored.started_at is not None
                and stored.started_at < now - LEASE_SECONDS)):
            return None
        claimed = replace(stored, status="running", started_at=now, percent=0, attempts=stored.attempts + 1)
        self.jobs[job.id] = claimed
        return claimed

    def progress(self, job: ExportJob, percent: int) -> None:
        stored = self.jobs.get(job.id)
        if stored is None or stored.status != "running":
            raise Conflict(PROGRESS_REFUSED)
        self.jobs[job.id] = replace(stored, percent=max(0, min(99, int(percent))))

    def finish(self, job: ExportJob, key: str, filename: str, now: float) -> ExportJob:
        done = replace(self.jobs.get(job.id) or job, status="done", percent=100, key=key, filename=filename,
                       finished_at=now, error=None)
        self.jobs[job.id] = done
        return done

    def fail(self, job: ExportJob, error: str, now: float) -> ExportJob:
        failed = replace(self.jobs.get(job.id) or job, status="failed", error=error[:500], finished_at=now)
        self.jobs[job.id] = failed
        return failed


class InMemoryAwardListRepository:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables or MemoryTables()
        self.lists: dict[str, dict[str, Any]] = {}

    def read(self, competition_id: str) -> dict[str, Any] | None:
        saved = self.lists.get(competition_id)
        return copy.deepcopy(saved) if saved is not None else None

    def write(self, competition_id: str, record: Mapping[str, Any], before: Mapping[str, Any] | None, actor: str,
              now: float) -> None:
        self.lists[competition_id] = copy.deepcopy(dict(record))
        self.tables.audit.append((f"organisation_award#{competition_id}", actor, "organisation_award.save"))
