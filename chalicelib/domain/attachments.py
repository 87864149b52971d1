"""Attachment rules: which files a case may carry, how large, and how the stored bytes are recognised.

The browser posts the file straight to S3 under an upload key the server chose; the confirm step copies it
to the key that is served (no grant ever names it) and checks the copy: its size, its leading (and, for
OOXML, trailing) bytes against what was declared, and then its structure and what it carries (the rules
below, pure functions over bytes; the service does the S3 reading).
"""
from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterable
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
# The pieces a streamed check reads the object in, and the MP4 box walk's range reads.
CHUNK_BYTES = 1024 * 1024
MP4_WINDOW_BYTES = 65536
MP4_MAX_BOXES = 10000
# Where a PDF's %%EOF must be.
PDF_TAIL_BYTES = 1024
# Kinds read whole, in pieces (the 50 MB ones); docx/pptx are read by their ends, mp4 by its box headers.
STREAMED = frozenset({"pdf", "doc", "ppt", "png", "jpg", "jpeg"})


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
    if errors or not isinstance(filename, str) or not isinstance(content_type, str) or not isinstance(size, int):
        raise Invalid(next(iter(errors.values())), errors)
    name = display_name(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = (KINDS if kinds is None else kinds).get(extension)
    if kind is None:
        allowed = ALLOWED_TEXT if kinds is None else allowed_text(kinds)
        raise Invalid(f"不支持的文件类型，只能上传{allowed}", {"filename": f"只能上传{allowed}"})
    if content_type.lower() not in kind.content_types:
        raise Invalid(f"文件类型与扩展名 .{extension} 不符，应为 {kind.content_types[0]}",
                      {"content_type": f"扩展名 .{extension} 的文件类型应为 {kind.content_types[0]}"})
    if size > kind.max_bytes:
        raise TooLarge(f"{kind.label}文件不能超过 {kind.max_bytes // MB} MB（本文件 {size / MB:.1f} MB）",
                       {"size": f"不能超过 {kind.max_bytes // MB} MB"})
    return DeclaredFile(name, kind.content_types[0], size, kind)


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
            return []       # a directory that cannot be read whole hides what it does not show
        name_len, extra_len, comment_len = struct.unpack("<HHH", tail[pos + 28:pos + 34])
        names.append(tail[pos + 46:pos + 46 + name_len].decode("utf-8", "replace"))
        pos += 46 + name_len + extra_len + comment_len
    return names


# -- the deeper check of a stored file ---------------------------------------------------------------
# Each rule answers None (the file passes) or the problem in Chinese, which the service puts into
# "附件校验未通过：<problem>，已删除，请重新上传".

DOS_STUB = b"This program cannot be run in DOS mode"
PE_OFFSET_MAX = 4096        # e_lfanew of a real Windows executable: a few hundred bytes after its MZ
SCAN_OVERLAP = PE_OFFSET_MAX + 64   # what each piece is searched with of the piece before
PDF_DELIMITERS = rb"\s/<>\[\](){}%"
PDF_ACTIVE = re.compile(rb"/(JavaScript|Launch|EmbeddedFile|JS(?=[" + PDF_DELIMITERS + rb"]))")
PDF_ESCAPED_NAME = re.compile(rb"/((?:[^" + PDF_DELIMITERS + rb"#]|#[0-9A-Fa-f]{2})*#[0-9A-Fa-f]{2}"
                              rb"(?:[^" + PDF_DELIMITERS + rb"#]|#[0-9A-Fa-f]{2})*)")
PDF_ACTIVE_LABELS = {"JavaScript": "JavaScript 脚本（/JavaScript）", "JS": "JavaScript 脚本（/JS）",
                     "Launch": "启动外部程序的动作（/Launch）", "EmbeddedFile": "嵌入的附件文件（/EmbeddedFile）"}
EXECUTABLE_MEMBERS = (".exe", ".dll", ".bat", ".cmd", ".com", ".scr", ".msi", ".js", ".vbs", ".ps1", ".hta",
                      ".jar", ".wsf")
EXECUTABLE_FOUND = "文件中夹带了 Windows 可执行程序"
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
JPEG_NOT_MARKERS = frozenset({0x00, 0xFF, *range(0xD0, 0xD8)})   # after FF inside the compressed image data


def mismatch(extension: str) -> str:
    return f"文件内容不是有效的{KINDS[extension].label}文件（与扩展名 .{extension} 不符）"


def executable_in(window: bytes) -> str | None:
    """A Windows executable in the bytes: its DOS stub's text, or an MZ header whose e_lfanew leads to PE\\0\\0."""
    if DOS_STUB in window:
        return EXECUTABLE_FOUND
    at = window.find(b"MZ")
    while at >= 0:
        field = window[at + 0x3C:at + 0x40]
        if len(field) == 4:
            pe = struct.unpack("<I", field)[0]
            if 0x40 <= pe <= PE_OFFSET_MAX and window[at + pe:at + pe + 4] == b"PE\x00\x00":
                return EXECUTABLE_FOUND
        at = window.find(b"MZ", at + 1)
    return None


def pdf_active_content(window: bytes) -> str | None:
    """PDF names that run or carry something: /JavaScript, /JS, /Launch, /EmbeddedFile (also written with
    #xx escapes, as in /J#61vaScript)."""
    found = PDF_ACTIVE.search(window)
    if found is None:
        for escaped in PDF_ESCAPED_NAME.finditer(window):
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), escaped.group(1))
            found = PDF_ACTIVE.match(b"/" + name + b" ")
            if found:
                break
    if found is None:
        return None
    return f"PDF 中含有{PDF_ACTIVE_LABELS[found.group(1).decode()]}"


class Stream:
    """The object's bytes pulled piece by piece: sequential reads for a structure walk, while every piece
    also goes through the scans (each piece searched together with the last SCAN_OVERLAP bytes before it,
    so that nothing cut in two is missed). Holds about one piece at a time."""

    def __init__(self, chunks: Iterable[bytes], scans: tuple[Callable[[bytes], str | None], ...] = ()):
        self._chunks = iter(chunks)
        self._scans = scans
        self._carry = b""
        self._buffer = b""
        self._at = 0            # the next unread byte of _buffer
        self.found: str | None = None
        self.tail = b""         # the last PDF_TAIL_BYTES bytes pulled so far
        self.offset = 0         # how many bytes the reads have consumed

    def _available(self) -> int:
        return len(self._buffer) - self._at

    def _pull(self) -> bool:
        for chunk in self._chunks:
            if not chunk:
                continue
            window = self._carry + chunk
            for scan in self._scans if self.found is None else ():
                self.found = scan(window)
                if self.found:
                    break
            self._carry = window[-SCAN_OVERLAP:]
            self.tail = (self.tail + chunk)[-PDF_TAIL_BYTES:]
            self._buffer, self._at = self._buffer[self._at:] + chunk, 0
            return True
        return False

    def peek(self, n: int) -> bytes:
        while self._available() < n and self._pull():
            pass
        return self._buffer[self._at:self._at + n]

    def read(self, n: int) -> bytes:
        """The next n bytes (fewer at the end of the file)."""
        data = self.peek(n)
        self._at += len(data)
        self.offset += len(data)
        return data

    def skip(self, n: int, crc: int = 0) -> tuple[int, int]:
        """Consume n bytes without keeping them: how many there were and their CRC-32 continued from `crc`."""
        left = n
        while left and (self._available() or self._pull()):
            take = min(left, self._available())
            crc = zlib.crc32(memoryview(self._buffer)[self._at:self._at + take], crc)
            self._at += take
            left -= take
        self.offset += n - left
        return n - left, crc

    def find_byte(self, byte: int) -> bool:
        """Consume up to (not including) the next `byte`; False at the end of the file."""
        while True:
            at = self._buffer.find(byte, self._at)
            if at >= 0:
                self.offset += at - self._at
                self._at = at
                return True
            self.offset += self._available()
            self._at = len(self._buffer)
            if not self._pull():
                return False

    def drain(self) -> int:
        """Read the rest (the scans see it all); how many bytes it was."""
        rest = 0
        while True:
            rest += self._available()
            self._at = len(self._buffer)
            if not self._pull():
                break
        self.offset += rest
        return rest


def stream_problem(extension: str, chunks: Iterable[bytes]) -> str | None:
    """The check of a file read whole in pieces (pdf, doc, ppt, png, jpg): its signature, its structure and
    no embedded executable (nor, in a PDF, active content). A refusal by a scan names what was found."""
    scans = (executable_in, pdf_active_content) if extension == "pdf" else (executable_in,)
    stream = Stream(chunks, scans)
    if not content_matches(extension, stream.peek(HEAD_BYTES), b""):
        return mismatch(extension)
    walk = {"pdf": _pdf_ends, "png": _png_walk, "jpg": _jpeg_walk, "jpeg": _jpeg_walk}.get(extension)
    problem = walk(stream) if walk else None
    stream.drain()
    return stream.found or problem


def _pdf_ends(stream: Stream) -> str | None:
    stream.drain()
    if b"%%EOF" not in stream.tail:
        return f"PDF 文件不完整（最后 {PDF_TAIL_BYTES} 字节中没有结束标记 %%EOF）"
    return None


def _png_walk(stream: Stream) -> str | None:
    """From the signature, chunk by chunk (length, type, data, CRC) to IEND, with nothing after it."""
    stream.read(8)
    first = True
    while True:
        header = stream.read(8)
        if len(header) < 8:
            return "PNG 图片不完整（没有结束块 IEND）"
        length, chunk_type = struct.unpack(">I4s", header)
        if not chunk_type.isalpha() or length > 0x7FFFFFFF or (first and chunk_type != b"IHDR"):
            return f"PNG 图片结构损坏（第 {stream.offset - 8} 字节处不是有效的数据块）"
        read, crc = stream.skip(length, zlib.crc32(chunk_type))
        stored = stream.read(4)
        if read < length or len(stored) < 4:
            return "PNG 图片不完整（没有结束块 IEND）"
        if struct.unpack(">I", stored)[0] != crc:
            return f"PNG 图片已损坏（数据块 {chunk_type.decode()} 校验不符）"
        if chunk_type == b"IEND":
            break
        first = False
    trailing = stream.drain()
    if trailing:
        return f"PNG 图片结束块（IEND）之后还附带了 {trailing} 字节其他数据"
    return None


def _jpeg_walk(stream: Stream) -> str | None:
    """Marker by marker from SOI to EOI (the compressed data after SOS read up to its next marker); after the
    image only further images may follow (a phone's multi-picture file), the last ending with FF D9."""
    images = 0
    while stream.peek(1):
        start = stream.offset
        if stream.peek(2) != b"\xff\xd8":
            return _jpeg_appended(stream, start) if images else mismatch("jpg")
        stream.read(2)
        problem = _jpeg_segments(stream)
        if problem:
            return problem
        images += 1
    return None


def _jpeg_appended(stream: Stream, start: int) -> str:
    head = stream.peek(4)
    trailing = stream.drain()
    what = "一个 zip 压缩包" if head == b"PK\x03\x04" else f"{trailing} 字节其他数据"
    return f"JPEG 图片结束标记（FF D9，第 {start} 字节）之后还附带了{what}"


def _jpeg_segments(stream: Stream) -> str | None:
    while True:
        if not stream.find_byte(0xFF):
            return "JPEG 图片不完整（没有结束标记 FF D9）"
        marker = stream.read(2)
        while marker == b"\xff\xff":          # fill bytes before a marker
            marker = b"\xff" + stream.read(1)
        if len(marker) < 2:
            return "JPEG 图片不完整（没有结束标记 FF D9）"
        code = marker[1]
        if code == 0xD9:
            return None
        if code in JPEG_STANDALONE or code == 0x00:
            continue
        size = stream.read(2)
        if len(size) < 2 or struct.unpack(">H", size)[0] < 2:
            return f"JPEG 图片结构损坏（第 {stream.offset} 字节处的段长度无效）"
        length = struct.unpack(">H", size)[0] - 2
        if stream.skip(length)[0] < length:
            return "JPEG 图片不完整（没有结束标记 FF D9）"
        if code == 0xDA:
            problem = _jpeg_scan_data(stream)
            if problem:
                return problem


def _jpeg_scan_data(stream: Stream) -> str | None:
    """The compressed data after SOS: up to the first FF that starts a marker (not FF 00, a restart, a fill)."""
    while True:
        if not stream.find_byte(0xFF):
            return "JPEG 图片不完整（没有结束标记 FF D9）"
        pair = stream.peek(2)
        if len(pair) < 2:
            return "JPEG 图片不完整（没有结束标记 FF D9）"
        if pair[1] not in JPEG_NOT_MARKERS:
            return None
        stream.read(1 if pair[1] == 0xFF else 2)


def ooxml_problem(extension: str, head: bytes, tail: bytes) -> str | None:
    """docx/pptx from its central directory: the parts of its kind, no macro project, no executable inside."""
    if not content_matches(extension, head, tail):
        return mismatch(extension)
    names = zip_member_names(tail)
    macro = next((n for n in names if n.lower().rsplit("/", 1)[-1] == "vbaproject.bin"), None)
    if macro:
        return f"文档中含有宏（{macro}），请另存为不含宏的 .{extension} 文件"
    program = next((n for n in names if n.lower().endswith(EXECUTABLE_MEMBERS)), None)
    if program:
        return f"文档中夹带了可执行文件（{program}）"
    return None


def mp4_problem(size: int, read: Callable[[int, int], bytes]) -> str | None:
    """An MP4 from its top-level boxes (size + type, read by range `read(offset, length)`): the first is ftyp,
    each is whole, and together they end exactly at the end of the file."""
    offset, window_at, window = 0, 0, b""
    for _ in range(MP4_MAX_BOXES):
        if offset >= size:
            return None
        if offset + 16 > window_at + len(window) and window_at + len(window) < size:
            window_at, window = offset, read(offset, min(MP4_WINDOW_BYTES, size - offset))
        header = window[offset - window_at:offset - window_at + 16]
        if len(header) < 8:
            return f"MP4 视频不完整（第 {offset} 字节处的数据盒只剩 {len(header)} 字节）"
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if offset == 0 and box_type != b"ftyp":
            return mismatch("mp4")
        if not all(0x20 <= b < 0x7F for b in box_type):
            return f"MP4 视频结构损坏（第 {offset} 字节处不是有效的数据盒）"
        if box_size == 1:
            if len(header) < 16:
                return f"MP4 视频不完整（第 {offset} 字节处的数据盒只剩 {len(header)} 字节）"
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - offset            # the last box, to the end of the file
        if box_size < 8:
            return f"MP4 视频结构损坏（第 {offset} 字节处不是有效的数据盒）"
        if offset + box_size > size:
            return (f"MP4 视频不完整（数据盒 {box_type.decode()} 应到第 {offset + box_size} 字节，"
                    f"文件在第 {size} 字节就结束了）")
        offset += box_size
    return f"MP4 视频的顶层数据盒超过 {MP4_MAX_BOXES} 个，请用常见软件重新导出"

