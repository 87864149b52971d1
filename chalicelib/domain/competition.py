"""The competition as the notice fixes it: categories, criteria, stages and their windows.

A stage is open while opens_at <= now < closes_at and it has not been closed by the organiser;
the windows live in the database (the organiser can move them), their 2023 defaults in the config.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Mapping

from .errors import NotFound

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


class StageId(StrEnum):
    """The notice's five stages. A member is its contract id: it equals that string, and JSON and PynamoDB
    write it as that string, so stored rows and API answers read the same as plain strings did."""
    SUBMISSION = "submission"
    TEXT_REVIEW = "text_review"
    COACHING = "coaching"
    FINAL = "final"
    PROVINCIAL = "provincial"

    @property
    def chinese_name(self) -> str:
        """The stage's name in the notice (the config's `stages[].name` for 2023 says the same)."""
        return STAGE_NAMES[self]


STAGE_NAMES = {StageId.SUBMISSION: "文本申报", StageId.TEXT_REVIEW: "文本评审", StageId.COACHING: "专家辅导",
               StageId.FINAL: "综合评选", StageId.PROVINCIAL: "省赛准备"}
STAGE_ORDER = (StageId.SUBMISSION, StageId.TEXT_REVIEW, StageId.COACHING, StageId.FINAL, StageId.PROVINCIAL)
# the stages with judges, assignments, links
JUDGED_STAGES = (StageId.TEXT_REVIEW, StageId.COACHING, StageId.FINAL, StageId.PROVINCIAL)
# The coaching-kind stages: a round of experts' feedback (no score) and the unit's revision of the case.
# 专家辅导 on the cases that entered the final; 赛前辅导 (省赛准备) on the cases recommended to the provincial one.
COACHING_ROUNDS: dict[str, str] = {StageId.COACHING: "专家辅导", StageId.PROVINCIAL: "赛前辅导"}


def parse_stage(value: object, among: tuple[StageId, ...] = STAGE_ORDER, message: str | None = None) -> StageId:
    """A stage id from a path or a body: the member, or NotFound (`message`, else which ids there are)."""
    if isinstance(value, str) and value in among:
        return StageId(value)
    raise NotFound(message or f"没有这个阶段：{value}（可选 {', '.join(among)}）")
DEFAULT_PRESENTATION_MB = {"pptx": 100, "ppt": 100, "pdf": 100, "mp4": 500}


@dataclass(frozen=True)
class Criterion:
    id: str
    name: str
    max: int


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    criteria: tuple[Criterion, ...]

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)


@dataclass(frozen=True)
class StageWindow:
    id: str
    name: str
    opens_at: datetime
    closes_at: datetime
    closed: bool = False          # closed through the organiser's close endpoint (final)
    closed_at: datetime | None = None
    settled: bool = False         # closed and everything its close sets in motion done (the schedule skips it)

    def status(self, now: datetime) -> str:
        if self.closed or now >= self.closes_at:
            return "closed"
        if now < self.opens_at:
            return "pending"
        return "open"

    def is_open(self, now: datetime) -> bool:
        return self.status(now) == "open"


@dataclass(frozen=True)
class Competition:
    id: str
    name: str
    short_name: str
    theme: str
    hosts: tuple[str, ...]
    categories: tuple[Category, ...]
    default_windows: tuple[StageWindow, ...]
    max_chars: int
    max_points: int
    advance_per_category: int
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories)

    def presentation_limits(self) -> dict[str, int]:
        """The 综合评选 presentation's file types and their size limits in MB (config `presentation.max_mb`)."""
        limits = (self.raw.get("presentation") or {}).get("max_mb") or DEFAULT_PRESENTATION_MB
        return {str(ext).lower(): int(mb) for ext, mb in limits.items()}

    def stage_name(self, stage_id: str) -> str:
        return next(w.name for w in self.default_windows if w.id == stage_id)

    def round_name(self, stage_id: str) -> str:
        """What judges and units call a judged stage's work: 赛前辅导 for 省赛准备, else the stage's name."""
        return COACHING_ROUNDS.get(stage_id) or self.stage_name(stage_id)

    def demo_windows(self, today: date) -> tuple[StageWindow, ...]:
        """Local demo windows: submission opens today (00:00 in China) for N days, later stages follow."""
        days = self.raw.get("local_demo_windows_days", {})
        start = datetime(today.year, today.month, today.day, tzinfo=CHINA)
        windows = []
        for w in self.default_windows:
            end = start + timedelta(days=int(days.get(w.id, 7)))
            windows.append(replace(w, opens_at=start, closes_at=end - timedelta(seconds=1)))
            start = end
        return tuple(windows)


def is_coaching(stage_id: str | None) -> bool:
    """A coaching-kind stage: experts give feedback points (never a score) and the unit may revise the case."""
    return stage_id in COACHING_ROUNDS


def presentation_window(windows: Mapping[str, StageWindow]) -> tuple[datetime, datetime]:
    """When an advanced case's unit may upload (and replace) its 综合评选 presentation: from the end of
    text review (when the finalists are known) until the final opens, so every judge and the organiser's
    download see the same file on the day (docs/PRESENTATIONS.md)."""
    # a close ends a window at that moment
    return windows[StageId.TEXT_REVIEW].closes_at, windows[StageId.FINAL].opens_at


def presentation_open(status: str, windows: Mapping[str, StageWindow], now: datetime) -> bool:
    opens_at, closes_at = presentation_window(windows)
    return status == "advanced" and not windows[StageId.FINAL].closed and opens_at <= now < closes_at


def parse_time(value: str) -> datetime:
    """ISO-8601 with an offset; a naive time is read in the competition's zone (Asia/Shanghai)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA)


def format_time(value: datetime) -> str:
    return value.astimezone(CHINA).isoformat(timespec="seconds")


def competition_from_config(raw: Mapping[str, Any]) -> Competition:
    categories = tuple(
        Category(c["id"], c["name"], tuple(Criterion(k["id"], k["name"], int(k["max"])) for k in c["criteria"]))
        for c in raw["categories"]
    )
    windows = tuple(
        StageWindow(s["id"], s["name"], parse_time(s["opens_at"]), parse_time(s["closes_at"]))
        for s in raw["stages"]
    )
    if tuple(w.id for w in windows) != STAGE_ORDER:
        raise ValueError(f"stages must be {STAGE_ORDER}")
    return Competition(
        id=raw["id"], name=raw["name"], short_name=raw.get("short_name", raw["name"]), theme=raw["theme"],
        hosts=tuple(raw["hosts"]), categories=categories, default_windows=windows,
        max_chars=int(raw["limits"]["max_chars"]), max_points=int(raw["limits"]["max_points"]),
        advance_per_category=int(raw["quotas"]["advance_per_category"]), raw=raw,
    )


def check_windows_do_not_overlap(windows: list[StageWindow]) -> dict[str, str]:
    """Successive stages never overlap; every window opens before it closes. Returns field errors."""
    from .readable import when     # readable.py reads CHINA from here
    errors: dict[str, str] = {}
    ordered = sorted(windows, key=lambda w: STAGE_ORDER.index(w.id))
    for w in ordered:
        if w.opens_at >= w.closes_at:
            errors[f"{w.id}.closes_at"] = f"{w.name}的截止时间必须晚于开始时间"
    for earlier, later in zip(ordered, ordered[1:]):
        if later.opens_at <= earlier.closes_at:
            errors[f"{later.id}.opens_at"] = (
                f"{later.name}的开始时间必须晚于{earlier.name}的截止时间（{when(earlier.closes_at, seconds=True)}），"
                "阶段时间不能重叠"
            )
    return errors
