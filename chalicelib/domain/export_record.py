"""An export job as the services read it: what was asked (kind, category), its state and, once done, its file.

The store's repositories (store/exports.ExportRepository and its in-memory twin) return these; a job is never
changed in place: a write returns the job as it now is.
"""
from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class ExportJob:
    id: str
    competition_id: str
    kind: str
    status: str                     # "queued" | "running" | "done" | "failed"
    created_at: float
    category: str | None = None     # the category of a per-category kind (presentations_zip)
    percent: int = 0
    key: str | None = None          # exports/<id>/<file> once done
    filename: str | None = None     # the Chinese download name
    error: str | None = None
    requested_by: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0


def queued_job(job_id: str, competition_id: str, kind: str, category: str | None, actor: str,
               now: float) -> ExportJob:
    """A new request, waiting for its run."""
    return ExportJob(job_id, competition_id, kind, "queued", now, category=category, requested_by=actor)
