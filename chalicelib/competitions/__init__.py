"""Competition configs packaged with the code (one JSON file per competition), the documents they name
(`notice_text`: the notice's text) and the Word files made from them (downloads/<competition id>/<name>,
written by scripts/make_downloads.py and served as they are by GET /downloads/<name>)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DOWNLOADS = HERE / "downloads"


@lru_cache(maxsize=8)
def load(competition_id: str) -> dict[str, Any]:
    path = HERE / f"{competition_id}.json"
    if not path.is_file():
        raise LookupError(f"no competition config {competition_id!r} in {HERE}")
    return json.loads(path.read_text(encoding="utf-8"))


def ids() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))


def notice_text(raw: dict[str, Any]) -> str | None:
    """The notice's text that the config names (`notice_text`, a file beside it), if it names one."""
    name = raw.get("notice_text")
    return (HERE / Path(name).name).read_text(encoding="utf-8") if name else None


def download_path(competition_id: str, name: str) -> Path:
    return DOWNLOADS / Path(competition_id).name / Path(name).name
