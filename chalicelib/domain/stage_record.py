"""A stage's window as the table keeps it (what services/stages.to_window and windows_from_rows read)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageRow:
    competition_id: str
    stage_id: str
    opens_at: float
    closes_at: float
    closed: bool = False
    closed_at: float | None = None
    settled: bool = False

