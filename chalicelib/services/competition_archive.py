"""往届竞赛: the competitions on the deployment before a given one, in their order (by year, then by creation),
for the public archive of results (/ and /competitions/{id}) and the originality corpus of the later ones
(services/originality.py).

A draft (草稿) is never earlier than anything: only organisers see it, and it has no submitted cases. Every
other state counts (an earlier competition may still be 进行中 when the next one starts). Reads: the list of the
CompetitionRepository (one Query), and for one competition its record (one GetItem).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..domain.competition import CHINA, Competition, StageId, competition_from_config, parse_time
from ..domain.competition_edit import CompetitionState
from ..domain.competition_record import CompetitionRecord
from ..domain.errors import NotFound
from .repositories import CompetitionRepository


def year_of(definition: Mapping[str, Any]) -> int | None:
    """A competition's year: its own `year`, else the originality block's, else the year (Beijing time) its
    submission opens; None when the definition names none of them."""
    originality = definition.get("originality")
    for value in (definition.get("year"), originality.get("year") if isinstance(originality, Mapping) else None):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    for stage in definition.get("stages") or ():
        if isinstance(stage, Mapping) and stage.get("id") == StageId.SUBMISSION and isinstance(
                stage.get("opens_at"), str):
            try:
                return parse_time(stage["opens_at"]).astimezone(CHINA).year
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class Earlier:
    """A competition of the archive: its record and year."""
    record: CompetitionRecord
    year: int

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def name(self) -> str:
        return self.record.name


def _listed(records: list[CompetitionRecord]) -> list[Earlier]:
    """The non-draft competitions with a year, oldest first (by year, then by creation, then by id)."""
    found = []
    for record in records:
        if record.state == CompetitionState.DRAFT:
            continue
        year = year_of(record.definition)
        if year is not None:
            found.append(Earlier(record, year))
    return sorted(found, key=lambda e: (e.year, e.record.created_at, e.id))


def earlier_than(records: list[CompetitionRecord], competition_id: str, year: int) -> list[Earlier]:
    """The non-draft competitions of `records` before `competition_id` (of `year`), oldest first. When the
    competition is not among them (a deployment's JSON competition not stored), those of an earlier year."""
    listed = _listed(records)
    position = next((n for n, e in enumerate(listed) if e.id == competition_id), None)
    if position is None:
        return [e for e in listed if e.year < year]
    return listed[:position]


def earlier(repo: CompetitionRepository, comp: Competition, year: int) -> list[Earlier]:
    """The competitions before `comp` on the deployment (one Query), oldest first."""
    return earlier_than(repo.list_all(), comp.id, year)


def archive_list(repo: CompetitionRepository, current: Competition) -> list[dict[str, Any]]:
    """往届竞赛 for the public home page: the competitions before the current one, newest first, each with its
    id, name and year."""
    return [{"id": e.id, "name": e.name, "year": e.year}
            for e in reversed(earlier(repo, current, year_of(current.raw or {}) or 0))]


def public_competition(repo: CompetitionRepository, competition_id: str) -> tuple[Competition, int | None]:
    """A competition the public may read (any but a draft, which is NotFound as an unknown id), with its year."""
    record = repo.get(competition_id)
    if record is None or record.state == CompetitionState.DRAFT:
        raise NotFound("没有找到这届竞赛")
    definition = record.definition
    try:
        comp = competition_from_config(definition)
    except (KeyError, TypeError, ValueError) as exc:
        raise NotFound("没有找到这届竞赛") from exc
    return comp, year_of(definition)
