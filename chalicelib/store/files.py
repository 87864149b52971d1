"""Files in S3: presigned uploads and downloads, and reading back what a browser uploaded."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError


class Files:
    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def upload_form(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        """A presigned POST whose policy pins the key, the content type and the exact size (no S3 call)."""
        return self.s3.generate_presigned_post(
            Bucket=self.bucket, Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )

    def download_url(self, key: str, filename: str, expires_in: int) -> str:
        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        return self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition},
            ExpiresIn=expires_in)

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def copy(self, source: str, key: str) -> bool:
        """Server-side copy of `source` (its current version) to `key`; False when `source` does not exist."""
        try:
            self.s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def read_range(self, key: str, byte_range: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key, Range=byte_range)["Body"].read()

    def open(self, key: str) -> Any:
        """The stored object's bytes as a stream (read it in pieces: it may be a 500 MB video)."""
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]

    def put(self, key: str, data: Any, content_type: str) -> None:
        """`data`: bytes, or a file object read from its current position (a large export)."""
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)
