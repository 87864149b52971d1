"""A stage's window as the stage table keeps it, as the services read it (services/stages.windows_from_rows).

The store's stage repository (store/stages.StageRepository) and its in-memory twin return these; nothing here
knows how they are stored.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageRow:
    """A stage's window as the table keeps it (epoch seconds)."""
    competition_id: str
    stage_id: str
    opens_at: float
    closes_at: float
    closed: bool = False
    closed_at: float | None = None
    settled: bool = False


class EarlierStageOpen(Exception):
    """The stage that must close first (`after`) is not closed."""
