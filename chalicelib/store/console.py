"""What the organiser console keeps besides the other stores: the organisers' final list of organisation-award
units (a small JSON object in S3 with an audit row). `AwardListRepository` is the services' way in
(services/repositories.AwardListRepository); the console's latest export jobs are the export repository's
(store/exports.py: `latest`).

Access patterns:
- organisation award list: GetObject / PutObject `settings/<competition>/organisation-award.json`;
  every save writes an audit row `organisation_award#<competition>` with digests of before and after.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from botocore.exceptions import ClientError

from . import audit


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


class AwardListRepository:
    """The organisers' saved 优秀组织奖 list in the stage's bucket."""

    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def read(self, competition_id: str) -> dict[str, Any] | None:
        """The saved list ({"units", "saved_by", "saved_at"}), None until one is saved."""
        return read_award_list(self.s3, self.bucket, competition_id)

    def write(self, competition_id: str, record: Mapping[str, Any], before: Mapping[str, Any] | None, actor: str,
              now: float) -> None:
        """Replace the list, with its audit row (the units before and after)."""
        write_award_list(self.s3, self.bucket, competition_id, dict(record), dict(before) if before else None,
                         actor, now)
