"""Competition configs packaged with the code (one JSON file per competition)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@lru_cache(maxsize=8)
def load(competition_id: str) -> dict[str, Any]:
    path = HERE / f"{competition_id}.json"
    if not path.is_file():
        raise LookupError(f"no competition config {competition_id!r} in {HERE}")
    return json.loads(path.read_text(encoding="utf-8"))
