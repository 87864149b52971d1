"""A file upload from a plain HTML form (multipart/form-data, RFC 7578), for the console's imports.

Chalice has no multipart parser; the standard library's MIME parser (the email package) reads the parts.
The body arrives as bytes: `chalice local` passes it through as it came, and API Gateway base64-encodes it
(multipart/form-data is one of the app's binary types, app.py) and Chalice decodes it, so `raw_body` is the
exact upload either way.
"""
from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from ..domain.errors import Invalid, TooLarge
from . import inbound

MEDIA = "multipart/form-data"
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
    content_type = (content_type or "").replace("\r", " ").replace("\n", " ")
    if not content_type.lower().startswith(MEDIA) or "boundary=" not in content_type.lower():
        raise Invalid("上传格式不正确，请在页面上选择文件后提交", {"file": "不是文件上传表单"})
    message = BytesParser(EmailMessage, policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not message.is_multipart() or message.defects or not message.get_payload():
        raise Invalid("上传的内容不完整，请重新选择文件后提交", {"file": "上传不完整"})
    parts: dict[str, Part] = {}
    for item in message.iter_parts():
        if len(parts) >= MAX_PARTS:
            break
        name = item.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = item.get_payload(decode=True)        # None for a nested multipart part
        data = payload if isinstance(payload, bytes) else b""
        parts.setdefault(name, _checked(Part(name, item.get_filename(), data)))
    return parts


def _checked(part: Part) -> Part:
    """A part whose name, file name and (for a plain field) text the app can store and show."""
    if inbound.text_problem(part.name, line_breaks=False):
        raise Invalid(f"表单{inbound.BAD_NAME}", {"form": inbound.BAD_NAME})
    if part.filename is not None and (problem := inbound.text_problem(part.filename, line_breaks=False)):
        raise inbound.refuse("file", "文件名" + problem)
    if part.filename is None:
        text = part.data.decode("utf-8", "surrogateescape")
        if inbound.text_problem(text):
            raise inbound.refuse(part.name, inbound.text_problem(text) or "")
    return part
