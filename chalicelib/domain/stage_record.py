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

    def is_open(self, now: float) -> bool:
        """What a write's condition on the stage row checks (store/stages.open_condition)."""
        return self.opens_at <= now < self.closes_at and not self.closed
