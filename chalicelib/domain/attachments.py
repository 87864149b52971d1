"""Attachment rules: which files a case may carry, how large, and how the stored bytes are recognised.

The browser posts the file straight to S3 under a key the server chose; the confirm step then
checks the stored object's size and leading (and, for OOXML, trailing) bytes against what was declared.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .errors import Invalid, TooLarge
from .text import single_line

MB = 1024 * 1024
MAX_ATTACHMENTS = 10
FILENAME_MAX = 200


@dataclass(frozen=True)
class FileKind:
    extension: str
    content_types: tuple[str, ...]
    max_bytes: int
    label: str


KINDS = {k.extension: k for k in (
    FileKind("pdf", ("application/pdf",), 50 * MB, "PDF"),
    FileKind("doc", ("application/msword",), 50 * MB, "Word 97-2003"),
    FileKind("docx", ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",), 50 * MB, "Word"),
    FileKind("ppt", ("application/vnd.ms-powerpoint",), 50 * MB, "PowerPoint 97-2003"),
    FileKind("pptx", ("application/vnd.openxmlformats-officedocument.presentationml.presentation",), 50 * MB,
             "PowerPoint"),
    FileKind("jpg", ("image/jpeg",), 50 * MB, "JPEG 图片"),
    FileKind("jpeg", ("image/jpeg",), 50 * MB, "JPEG 图片"),
    FileKind("png", ("image/png",), 50 * MB, "PNG 图片"),
    FileKind("mp4", ("video/mp4",), 500 * MB, "MP4 视频"),
)}
ALLOWED_TEXT = "pdf、doc、docx、ppt、pptx、jpg、png（不超过 50 MB）和 mp4（不超过 500 MB）"
# How many bytes of the head and the tail the confirm step reads.
HEAD_BYTES = 16
TAIL_BYTES = 65536


@dataclass(frozen=True)
class DeclaredFile:
    filename: str
    content_type: str
    size: int
    kind: FileKind


def presentation_kinds(limits: dict[str, int]) -> dict[str, FileKind]:
    """The file kinds a 综合评选 presentation may be (PPT/PPTX/PDF/MP4), with the config's size limits."""
    return {ext: FileKind(ext, KINDS[ext].content_types, mb * MB, KINDS[ext].label)
            for ext, mb in limits.items() if ext in KINDS}


def allowed_text(kinds: dict[str, FileKind]) -> str:
    return "、".join(f"{k.extension}（不超过 {k.max_bytes // MB} MB）" for k in kinds.values())


def declare(filename: object, content_type: object, size: object, kinds: dict[str, FileKind] | None = None
            ) -> DeclaredFile:
    """Check a declared upload (against `kinds`, by default an attachment's); raises Invalid (400) or
    TooLarge (413)."""
    errors: dict[str, str] = {}
    if not isinstance(filename, str) or not filename.strip():
        errors["filename"] = "请提供文件名（含扩展名，如 说明书.pdf）"
    elif len(filename) > FILENAME_MAX or any(ord(ch) < 32 for ch in filename):
        errors["filename"] = f"文件名过长或含有控制字符，请改为不超过{FILENAME_MAX}个字符的普通文件名"
    if not isinstance(content_type, str) or not content_type:
        errors["content_type"] = "请提供文件类型（content_type，如 application/pdf）"
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        errors["size"] = "文件大小应为正整数（字节数）"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    name = display_name(filename)  # type: ignore[arg-type]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = (KINDS if kinds is None else kinds).get(extension)
    if kind is None:
        allowed = ALLOWED_TEXT if kinds is None else allowed_text(kinds)
        raise Invalid(f"不支持的文件类型，只能上传{allowed}", {"filename": f"只能上传{allowed}"})
    if content_type.lower() not in kind.content_types:  # type: ignore[union-attr]
        raise Invalid(f"文件类型与扩展名 .{extension} 不符，应为 {kind.content_types[0]}",
                      {"content_type": f"扩展名 .{extension} 的文件类型应为 {kind.content_types[0]}"})
    if size > kind.max_bytes:  # type: ignore[operator]
        raise TooLarge(f"{kind.label}文件不能超过 {kind.max_bytes // MB} MB（本文件 {size / MB:.1f} MB）",
                       {"size": f"不能超过 {kind.max_bytes // MB} MB"})
    return DeclaredFile(name, kind.content_types[0], size, kind)  # type: ignore[arg-type]


def display_name(filename: str) -> str:
    """The file's own name without any path a browser or a hostile client put in front of it."""
    name = single_line(re.split(r"[\\/]", filename.strip())[-1])
    return name.lstrip(".") or "附件"


def content_matches(extension: str, head: bytes, tail: bytes) -> bool:
    """Whether the stored bytes are what the extension claims (magic numbers; OOXML by its parts)."""
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    if extension in ("doc", "ppt"):
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if extension in ("docx", "pptx"):
        part = "word/" if extension == "docx" else "ppt/"
        return head.startswith(b"PK\x03\x04") and any(n.startswith(part) for n in zip_member_names(tail))
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension == "mp4":
        return len(head) >= 8 and head[4:8] == b"ftyp"
    return False


def zip_member_names(tail: bytes) -> list[str]:
    """Names from a zip's central directory, read from the file's last bytes (no whole download)."""
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0 or len(tail) < eocd + 22:
        return []
    entries, cd_size = struct.unpack("<HI", tail[eocd + 10:eocd + 16])
    start = eocd - cd_size
    if start < 0:
        return []
    names, pos = [], start
    for _ in range(entries):
        if tail[pos:pos + 4] != b"PK\x01\x02":
            break
        name_len, extra_len, comment_len = struct.unpack("<HHH", tail[pos + 28:pos + 34])
        names.append(tail[pos + 46:pos + 46 + name_len].decode("utf-8", "replace"))
        pos += 46 + name_len + extra_len + comment_len
    return names
