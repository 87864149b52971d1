"""Judging as the services read it: judges, their slots (assignments, with their scores and feedback), their
scoring links and the judge sessions opened from them, and the stage row a slot's or a link's read returns.

The store's repository (store/judging.JudgingRepository) and its in-memory twin (store/memory_judging.py)
return these and take them back for writes; nothing here knows how they are stored. None is changed in place:
a write returns the record as it now is (`dataclasses.replace`).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from .stage_record import StageRow

__all__ = ["Assignment", "Judge", "JudgeSession", "Link", "SLOT_FIELDS", "StageRow", "changed_slot", "judge_audit_key",
           "judge_session_parts", "link_key", "new_slot"]


def judge_session_parts(token: str | None) -> tuple[str, str, str] | None:
    """(competition, judge id, stage) of a judge session's token "j.<competition>.<judge id>.<stage>.<random>"
    (a token of the shape before competitions had ids in keys names none: its judge opens the link again)."""
    if not token or not token.startswith("j.") or token.count(".") != 4:
        return None
    _, competition_id, judge_id, stage, _ = token.split(".")
    return competition_id, judge_id, stage


def judge_audit_key(competition_id: str, judge_id: str) -> str:
    """The audit object of a judge's record, links and sessions (store/keys.judge_audit writes the same)."""
    return f"judge#{competition_id}#{judge_id}"


def link_key(judge_id: str, stage: str) -> str:
    """The reference of a link's invitation mail: "<judge id>#<stage>" (the mail row names its competition; the
    stored link's own key is store/keys.link)."""
    return f"{judge_id}#{stage}"


@dataclass(frozen=True)
class Judge:
    competition_id: str
    judge_id: str
    name: str
    email: str
    affiliation: str
    mobile: str | None = None
    categories: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()        # declared units to avoid (回避)
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(frozen=True)
class Assignment:
    """A judge's slot for one case in one stage: created when assigned, filled when scored (criteria and total
    in tenths of a point) or, in a coaching round, by the feedback points."""
    stage: str
    judge_id: str
    case_id: str
    category: str
    title: str | None = None
    criteria: Mapping[str, int] | None = None    # criterion id -> tenths of a point
    total: int | None = None
    comment: str | None = None
    feedback: tuple[str, ...] | None = None
    scored: bool = False
    scored_at: float | None = None
    recused: bool = False
    recusal_reason: str | None = None
    source: str = "plan"                   # "plan" | "organiser" | "extra"
    created_at: float = 0.0


# what a slot's write may change (scoring.py: a score, feedback, a recusal)
SLOT_FIELDS = frozenset({"criteria", "total", "comment", "feedback", "scored", "scored_at", "recused",
                         "recusal_reason"})


def changed_slot(slot: Assignment, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `slot` after `changes` (immutable values), for `dataclasses.replace`."""
    unknown = set(changes) - SLOT_FIELDS
    if unknown:
        raise ValueError(f"a slot's write cannot change {sorted(unknown)}")
    values = dict(changes)
    if values.get("criteria") is not None:
        values["criteria"] = MappingProxyType({k: int(v) for k, v in dict(values["criteria"]).items()})
    if values.get("feedback") is not None:
        values["feedback"] = tuple(values["feedback"])
    return values


def new_slot(stage: str, judge_id: str, case_id: str, category: str, title: str, now: float,
             source: str = "plan") -> Assignment:
    return Assignment(stage=stage, judge_id=judge_id, case_id=case_id, category=category, title=title,
                      scored=False, recused=False, source=source, created_at=now)


@dataclass(frozen=True)
class Link:
    """A judge's current scoring link for a stage and its state: `link_id` the seed of the link's secret id,
    `link_hash` the SHA-256 of that id (both absent once revoked)."""
    judge_id: str
    stage: str
    issued_at: float
    link_hash: str | None = None
    link_id: str | None = None
    opened_at: float | None = None
    revoked_at: float | None = None


@dataclass(frozen=True)
class JudgeSession:
    """A judge's session as stored: the SHA-256 of its token, bound to the link it was opened from."""
    token_hash: str
    judge_id: str
    stage: str
    link_hash: str
    csrf: str
    created_at: float
    expires_at: float
