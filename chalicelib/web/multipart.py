"""A file upload from a plain HTML form (multipart/form-data, RFC 7578), for the console's imports.

Chalice has no multipart parser. The body arrives as bytes: `chalice local` passes it through as it came,
and API Gateway base64-encodes it (multipart/form-data is one of the app's binary types, app.py) and
Chalice decodes it, so `raw_body` is the exact upload either way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..domain.errors import Invalid, TooLarge

MEDIA = "multipart/form-data"
BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,70})"|([^\s;,]{1,70}))', re.IGNORECASE)
DISPOSITION = re.compile(r'\bname="([^"]*)"', re.IGNORECASE)
FILENAME = re.compile(r'\bfilename="([^"]*)"', re.IGNORECASE)
MAX_PARTS = 20


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    data: bytes

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def parse(content_type: str, body: bytes | str | None, max_bytes: int) -> dict[str, Part]:
    """The form's parts by field name (the first of a repeated name); Invalid for what is not a form
    upload, TooLarge past `max_bytes`."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogateescape")
    body = body or b""
    if len(body) > max_bytes:
        raise TooLarge(f"上传的内容过大（超过 {max_bytes // 1024 // 1024} MB），请分成几个文件分别上传")
    found = BOUNDARY.search(content_type or "")
    if not (content_type or "").lower().startswith(MEDIA) or not found:
        raise Invalid("上传格式不正确，请在页面上选择文件后提交", {"file": "不是文件上传表单"})
    delimiter = b"--" + (found.group(1) or found.group(2)).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise Invalid("上传的内容不完整，请重新选择文件后提交", {"file": "上传不完整"})
    parts: dict[str, Part] = {}
    for chunk in chunks[1:-1][:MAX_PARTS]:
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = head.decode("utf-8", "replace")
        disposition = next((line for line in headers.split("\r\n")
                            if line.lower().startswith("content-disposition:")), "")
        name = DISPOSITION.search(disposition)
        if name is None:
            continue
        filename = FILENAME.search(disposition)
        data = data[:-2] if data.endswith(b"\r\n") else data
        parts.setdefault(name.group(1), Part(name.group(1), filename.group(1) if filename else None, data))
    return parts
