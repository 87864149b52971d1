"""An earlier year's case, the corpus of the originality check (store/originality.ArchiveRepository and its
in-memory twin read and write these). Its id is a digest of year and text: importing it again overwrites it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchiveCase:
    id: str                          # "arc-<digest>"
    year: int
    title: str
    unit: str | None = None
    category: str | None = None
    background: str | None = None
    innovations: tuple[str, ...] = ()
    results: tuple[str, ...] = ()
    imported_at: float = 0.0
    imported_by: str = ""
