"""What closing a stage and the live final keep, as the services read it: a category's stored ranking, the
case fields a ranking reads, a logged state of the final (a draw, a hall state) and a case as the showcase
page reads it. The store's repositories (store/results.py, store/final.py, store/showcase.py) and their
in-memory twins (store/memory_results.py) return these; nothing here knows how they are stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .case_record import frozen_map
from .competition import StageId

# a coaching round's stage -> (its cases' status, the round's name, why another case cannot reply)
REPLY_CASES: dict[str, tuple[str, str, str]] = {StageId.COACHING: ("advanced", "专家辅导", "未进入综合评选"),
                                                  StageId.PROVINCIAL: ("awarded", "赛前辅导", "未被推荐参加省赛")}


@dataclass(frozen=True)
class Ranking:
    """A category's ranking of a stage as computed at its close: the entries (best first, as the API shows
    them), the method, the digest of the inputs and where their record is (S3 `record_key`)."""
    competition_id: str
    stage: str
    category: str
    method: str
    digest: str
    record_key: str
    entries: tuple[Mapping[str, Any], ...]
    computed_at: float
    notified: bool = False          # every unit told its result (text_review)

    def results(self) -> list[dict[str, Any]]:
        """The entries as plain dicts (what the API and the pages show)."""
        return [dict(e) for e in self.entries]


@dataclass(frozen=True)
class RankedCase:
    """The fields of a case a ranking page reads (a projection of the case: no owner, no attachments)."""
    id: str
    category_key: str
    status: str
    provincial: bool = False
    body: Mapping[str, Any] = field(default_factory=frozen_map)     # empty when only the marks were read


@dataclass(frozen=True)
class FinalRecord:
    """One logged state of the live final (a draw, a hall state) and its sequence number (1, 2, …)."""
    record: Mapping[str, Any]
    sequence: int


@dataclass(frozen=True)
class ShownCase:
    """An awarded case as the showcase page reads it: what it shows and the showcase marks."""
    id: str
    status: str
    body: Mapping[str, Any]
    prize: str | None = None
    showcase_choice: bool | None = None
    showcase_hidden: bool | None = None
