"""The archive of earlier years' cases (table archive_cases) and, in S3, the originality index and flags.

Access patterns (docs/ORIGINALITY.md, "Storage"):
`ArchiveRepository` (the table, as domain/archive_record.ArchiveCase) and `Objects` (the S3 objects) are the
services' way in (services/repositories.ArchiveRepository, OriginalityObjects).

- import: BatchWriteItem of ArchiveCase rows (corpus "archive", id) and one audit row;
- rebuild the index when no usable one is stored: Query corpus = "archive" (every archived case);
- check: GetObject `originality/index.bin` (once per Lambda container; afterwards a HeadObject compares the
  ETag), GetObject/PutObject `originality/flags/<competition>.json` (each competition's last result, with the
  digest of its inputs).
"""
from __future__ import annotations

import json
import threading
from typing import Any

from botocore.exceptions import ClientError

from ..domain import originality as domain
from ..domain import archive_record
from . import audit
from .models import ArchiveCase

CORPUS = "archive"
INDEX_KEY = "originality/index.bin"

def flags_key(competition_id: str) -> str:
    """The S3 key of a competition's last originality result."""
    return f"originality/flags/{competition_id}.json"


_loaded: dict[str, tuple[str, domain.ArchiveIndex]] = {}   # bucket -> (ETag, index): one per container
_lock = threading.Lock()


def put_cases(rows: list[ArchiveCase], actor: str, now: float, detail: dict[str, Any]) -> None:
    """Write the archived cases (an existing id is overwritten) and the import's audit row."""
    with ArchiveCase.batch_write() as batch:
        for row in rows:
            batch.save(row)
    audit.entry("archive#" + CORPUS, actor, "archive.import", now, detail=detail).save()


def count_cases() -> int:
    return ArchiveCase.count(CORPUS)


def list_cases() -> list[ArchiveCase]:
    return list(ArchiveCase.query(CORPUS))


def _domain(row: ArchiveCase) -> archive_record.ArchiveCase:
    body = json.loads(row.body)
    return archive_record.ArchiveCase(
        id=row.id, year=int(row.year), title=row.title, unit=row.unit, category=row.category,
        background=body.get("background"), innovations=tuple(body.get("innovations") or ()),
        results=tuple(body.get("results") or ()), imported_at=float(row.imported_at or 0),
        imported_by=row.imported_by or "")


def _row(case: archive_record.ArchiveCase) -> ArchiveCase:
    body = {"background": case.background, "innovations": list(case.innovations), "results": list(case.results)}
    return ArchiveCase(CORPUS, case.id, year=case.year, unit=case.unit, category=case.category, title=case.title,
                       body=json.dumps(body, ensure_ascii=False), imported_at=case.imported_at,
                       imported_by=case.imported_by)


class ArchiveRepository:
    """The archived cases in DynamoDB (one corpus), as domain archive cases."""

    def put_cases(self, cases: list[archive_record.ArchiveCase], actor: str, now: float,
                  detail: dict[str, Any]) -> None:
        """Write the cases (an existing id is overwritten) and the import's audit row."""
        put_cases([_row(c) for c in cases], actor, now, detail)

    def count_cases(self) -> int:
        return count_cases()

    def list_cases(self) -> list[archive_record.ArchiveCase]:
        return [_domain(r) for r in list_cases()]


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class Objects:
    """The index and the flag cache in the stage's bucket."""

    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def load_index(self) -> tuple[domain.ArchiveIndex, str] | None:
        """The stored index and its ETag, None when there is none (or it cannot be read)."""
        try:
            etag = self.s3.head_object(Bucket=self.bucket, Key=INDEX_KEY)["ETag"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        with _lock:
            cached = _loaded.get(self.bucket)
        if cached is not None and cached[0] == etag:
            return cached[1], etag
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=INDEX_KEY)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        try:
            index = domain.load_index(got["Body"].read())
        except ValueError:
            return None                     # an older or damaged format: rebuilt by the caller
        with _lock:
            _loaded[self.bucket] = (got["ETag"], index)
        return index, got["ETag"]

    def save_index(self, index: domain.ArchiveIndex) -> str:
        etag = self.s3.put_object(Bucket=self.bucket, Key=INDEX_KEY, Body=domain.dump_index(index),
                                  ContentType="application/octet-stream")["ETag"]
        with _lock:
            _loaded[self.bucket] = (etag, index)
        return etag

    def cached_flags(self, competition_id: str, digest: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.s3.get_object(Bucket=self.bucket, Key=flags_key(competition_id))["Body"].read())
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        except ValueError:
            return None
        return data.get("result") if isinstance(data, dict) and data.get("digest") == digest else None

    def save_flags(self, competition_id: str, digest: str, result: dict[str, Any]) -> None:
        body = json.dumps({"digest": digest, "result": result}, ensure_ascii=False).encode("utf-8")
        self.s3.put_object(Bucket=self.bucket, Key=flags_key(competition_id), Body=body,
                           ContentType="application/json")


def forget_loaded() -> None:
    """Drop the container's cached index (tests)."""
    with _lock:
        _loaded.clear()
