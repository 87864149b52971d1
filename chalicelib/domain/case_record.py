"""A case as the services read it: every stored field, its 说明书 (body) parsed once when it is read.

The store's repositories (store/cases.CaseRepository and its in-memory twin) return these and take them back
for writes; nothing here knows how they are stored. A case is never changed in place: a write returns the case
as it now is (`dataclasses.replace`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


# What a refused 省赛推荐 (a case arriving from a feeder competition, CaseRepository.receive) says.
ALREADY_RECEIVED = "这个案例已推荐到该竞赛届次"
NO_LONGER_RECOMMENDED = "这个案例已不是获奖并推荐参加省赛的案例"
TARGET_CLOSED = "接收推荐的竞赛届次的文本申报阶段已变化，请刷新后重试"


def body_json(body: Mapping[str, Any]) -> str:
    """The body as the store keeps it (the same text for the same body)."""
    return json.dumps(dict(body), ensure_ascii=False, sort_keys=True)


def category_key(category: str, case_id: str) -> str:
    """The sort key of the competition index: "<category or ~>#<case id>"."""
    return f"{category or '~'}#{case_id}"


def frozen_map(value: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class Case:
    id: str
    competition_id: str
    owner_id: str
    owner_username: str
    status: str
    version: int
    body: Mapping[str, Any]                     # the 说明书, parsed once
    stored_body: str = field(repr=False)        # its text as stored (earlier versions and the audit keep it)
    char_count: int = 0
    category_key: str = ""
    history: tuple[int, ...] = ()
    attachments: Mapping[str, Mapping[str, Any]] = field(default_factory=frozen_map)   # id -> record
    created_at: float = 0.0
    updated_at: float = 0.0
    submitted_at: float | None = None
    prize: str | None = None
    provincial: bool = False
    provincial_reason: str | None = None
    feedback_replies: str | None = None         # JSON: coaching point key -> the unit's reply
    review_decision: str | None = None
    review_reason: str | None = None
    resubmit_by: float | None = None
    reviewed_at: float | None = None
    reviewed_by: str | None = None
    showcase_choice: bool | None = None
    showcase_hidden: bool | None = None
    showcase_hidden_reason: str | None = None
    awarded_body: Mapping[str, Any] | None = None   # the body as awarded, kept by the first 赛前辅导 revision
    # a case recommended from a feeder competition (省赛推荐): {"competition", "case_id", "version"} of its origin
    source: Mapping[str, Any] | None = None

    @property
    def category(self) -> str:
        return str(self.body.get("category", ""))

    @property
    def title(self) -> str:
        return str(self.body.get("title", ""))


@dataclass(frozen=True)
class EarlierVersion:
    """A case's text as it was before an edit (kept readable)."""
    case_id: str
    version: int
    body: Mapping[str, Any]
    status: str
    saved_at: float


@dataclass(frozen=True)
class CaseSummary:
    """What the console's dashboard reads of every case (no body): a projection, never saved back."""
    id: str
    category_key: str
    status: str
    owner_id: str
    submitted_at: float | None = None
    review_decision: str | None = None
    provincial: bool = False


SUMMARY_FIELDS = tuple(CaseSummary.__dataclass_fields__)


@dataclass(frozen=True)
class AuditRow:
    """One line of a case's audit trail: who did what, when (`detail`: the action's JSON detail, if any)."""
    entry_key: str
    actor: str
    action: str
    at: float
    detail: str | None = None


def new_case(case_id: str, competition_id: str, owner_id: str, owner_username: str, body: Mapping[str, Any],
             char_count: int, now: float) -> Case:
    """A unit's new draft."""
    text = body_json(body)
    return Case(case_id, competition_id, owner_id, owner_username, "draft", 1, frozen_map(json.loads(text)), text,
                char_count=char_count, category_key=category_key(str(body.get("category", "")), case_id),
                created_at=now, updated_at=now)
