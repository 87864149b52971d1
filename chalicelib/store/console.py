"""What the organiser console reads and keeps besides the other stores: the latest export jobs, and the
organisers' final list of organisation-award units (a small JSON object in S3 with an audit row).

Access patterns (no Scan):
- latest exports: Query ExportJob.by_status for each status, newest first, `limit` each;
- organisation award list: GetObject / PutObject `settings/<competition>/organisation-award.json`;
  every save writes an audit row `organisation_award#<competition>` with digests of before and after.
"""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from . import audit
from .models import ExportJob

JOB_STATUSES = ("queued", "running", "done", "failed")


def latest_jobs(competition_id: str, limit: int = 10) -> list[ExportJob]:
    jobs = [job for status in JOB_STATUSES
            for job in ExportJob.by_status.query(status, scan_index_forward=False, limit=limit)
            if job.competition_id == competition_id]
    return sorted(jobs, key=lambda j: -float(j.created_at))[:limit]


def award_key(competition_id: str) -> str:
    return f"settings/{competition_id}/organisation-award.json"


def read_award_list(s3: Any, bucket: str, competition_id: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=award_key(competition_id))["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    value = json.loads(body.decode("utf-8"))
    return value if isinstance(value, dict) else None


def write_award_list(s3: Any, bucket: str, competition_id: str, record: dict[str, Any],
                     before: dict[str, Any] | None, actor: str, now: float) -> None:
    data = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=award_key(competition_id), Body=data,
                  ContentType="application/json; charset=utf-8")
    audit.entry(f"organisation_award#{competition_id}", actor, "organisation_award.save", now,
                before=before.get("units") if before else None, after=record["units"],
                detail={"units": len(record["units"])}).save()
