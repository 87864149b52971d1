"""A competition (竞赛届次) as the services read it from the competitions table: its definition (the dict of
domain/competition_edit.py, the keys of chalicelib/competitions/<id>.json), its state and the version that a
save is conditional on.

The store's repositories (store/competitions.CompetitionRepository and its in-memory twin) return these and take
them back for writes; nothing here knows how they are stored. The definition is kept as its JSON text, so a
record is never changed in place: `definition` gives a fresh dict at each call.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .competition_edit import CompetitionState, parse_path, state_of


def definition_json(definition: Mapping[str, Any]) -> str:
    """The definition as the store keeps it, in its own order: the order of its keys is part of what it says
    (a form's file types are listed to the unit in the order the organiser gave them)."""
    return json.dumps(dict(definition), ensure_ascii=False)


@dataclass(frozen=True)
class CompetitionRecord:
    id: str
    stored_definition: str = field(repr=False)   # the definition's JSON text
    state: CompetitionState = CompetitionState.DRAFT
    version: int = 1
    created_at: float = 0.0
    created_by: str = ""
    updated_at: float = 0.0
    updated_by: str = ""

    @property
    def definition(self) -> dict[str, Any]:
        """The definition, a fresh dict (changing it changes nothing stored)."""
        value: dict[str, Any] = json.loads(self.stored_definition)
        return value

    @property
    def name(self) -> str:
        return str(self.definition.get("name") or "")


def new_record(definition: Mapping[str, Any], actor: str, now: float) -> CompetitionRecord:
    """A competition not stored yet (version 1), its state the definition's own."""
    return CompetitionRecord(id=str(definition["id"]), stored_definition=definition_json(definition),
                             state=state_of(definition), version=1, created_at=now, created_by=actor,
                             updated_at=now, updated_by=actor)


def values_at(definition: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """The value at each path of `changed_paths` (None where the definition has none): an audit row's before
    or after."""
    return {path: _value_at(definition, path) for path in paths}


def value_at(definition: Mapping[str, Any], path: str) -> Any:
    """The value at one path (a list item by its index, or a stage by its id); None where there is none."""
    return _value_at(definition, path)


def _value_at(definition: Mapping[str, Any], path: str) -> Any:
    node: Any = definition
    try:
        segments = parse_path(path) if path else []
    except ValueError:
        return None
    for segment in segments:
        if isinstance(node, Mapping) and isinstance(segment, str):
            node = node.get(segment)
        elif isinstance(node, list) and isinstance(segment, int):
            node = node[segment] if 0 <= segment < len(node) else None
        elif isinstance(node, list):            # a stage by its id
            node = next((i for i in node if isinstance(i, Mapping) and i.get("id") == segment), None)
        else:
            return None
    return node
