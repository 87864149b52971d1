"""A category's 综合评选 presentations as one zip, in the drawn order: `01_<案例名称>.pptx`, … and a
展示顺序.txt listing every finalist with its file (or 未上传).

Each file is copied from S3 in 1 MB pieces into a temporary file (ZIP_STORED: slides and videos are
compressed already), so neither a 500 MB video nor the whole zip is ever held in memory.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from typing import Any, BinaryIO, Callable

from .data import PresentationEntry, PresentationFiles, Progress, no_progress

UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
TITLE_MAX = 60
CHUNK = 1024 * 1024


def entry_name(entry: PresentationEntry, width: int) -> str:
    """`01_<案例名称>.<ext>`: the title without characters file systems refuse, the extension of the upload."""
    title = UNSAFE.sub("_", entry.title).strip(" ._")[:TITLE_MAX] or "未命名案例"
    extension = (entry.filename or "").rsplit(".", 1)[-1].lower()
    return f"{entry.position:0{width}d}_{title}.{extension}"


def listing(files: PresentationFiles, width: int) -> str:
    lines = [f"{files.competition} 综合评选展示材料（{files.category}，按抽签顺序）", ""]
    for e in files.entries:
        lines.append(f"{e.position:0{width}d}\t{e.title}\t{e.unit}\t"
                     f"{entry_name(e, width) if e.key else '未上传展示材料'}")
    return "\r\n".join(lines) + "\r\n"


def presentations_zip(files: PresentationFiles, open_object: Callable[[str], Any] | None,
                      progress: Progress = no_progress) -> BinaryIO:
    if open_object is None:
        raise RuntimeError("presentations_zip needs a reader of stored files")
    width = max(2, len(str(len(files.entries))))
    total = sum(e.size for e in files.entries if e.key) or 1
    done = 0
    out = tempfile.TemporaryFile()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("展示顺序.txt", listing(files, width).encode("utf-8"))
        for entry in files.entries:
            if not entry.key:
                continue
            source = open_object(entry.key)
            with zf.open(entry_name(entry, width), "w", force_zip64=entry.size >= 2**31) as target:
                shutil.copyfileobj(source, target, CHUNK)
            done += entry.size
            progress(done / total)
    out.seek(0)
    return out
