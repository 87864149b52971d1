"""Files people download from a page, handed out from S3: the competition's Word files that `/` offers
(大赛通知, the 参赛案例说明书 template) and the console's import templates (评委名单, 往年案例).

They are made ahead of time (`make downloads`) and packaged in chalicelib/competitions/downloads/<competition>/.
A click gets a short-lived presigned GET under the file's Chinese name, as a certificate does: the browser takes
the file from S3, not as a binary body through API Gateway (a link with `download` sends no Accept header, and
API Gateway hands back a binary body only when the Accept header names a binary type). The object's key carries
a digest of the packaged bytes, so the first click after a deploy that changed a file stores the new one; every
click is one HEAD.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from .. import competitions
from ..domain.competition import Competition
from ..domain.documents import download
from ..domain.errors import NotFound
from ..media import DOCX

if TYPE_CHECKING:
    from .repositories import Files

NO_FILE = "没有这个文件：请从首页的下载链接进入。"


def download_url(comp: Competition, name: str, files: Files, expires_in: int) -> str:
    offered = download(comp, name)
    path = competitions.download_path(comp.id, name) if offered else None
    if offered is None or path is None or not path.is_file():
        raise NotFound(NO_FILE)
    return handed_out(files, f"downloads/{comp.id}", name, path.read_bytes(), offered.filename, DOCX, expires_in)


def handed_out(files: Files, folder: str, name: str, data: bytes, filename: str, content_type: str,
               expires_in: int) -> str:
    """A presigned GET of `data` stored under `folder`/<digest of data>/`name` (stored on the first click
    after it changed), downloaded as `filename`."""
    key = f"{folder}/{hashlib.sha256(data).hexdigest()[:16]}/{name}"
    if files.head(key) is None:
        files.put(key, data, content_type)
    return files.download_url(key, filename, expires_in)
