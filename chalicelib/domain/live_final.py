"""The live final in the hall (现场控制), one state per category: the case now presenting (现在展示), its
presentation timer (计时), the cases whose scores the organiser has revealed (亮分), and the time the
category's session starts (so each finalist knows when it presents).

Pure rules: every transition takes the current state and returns the next one, or raises LiveError
with the reason in Chinese. The service checks the facts (finalists, scores) and stores the result.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping, Sequence

DEFAULT_PRESENTATION_MINUTES = 8     # 展示时间不超过 8 分钟 (the notice)
DEFAULT_WARNING_SECONDS = 60
DEFAULT_SLOT_MINUTES = 10            # presentation, scoring and change-over of one case


class LiveError(ValueError):
    """A hall action that the current state does not allow."""


@dataclass(frozen=True)
class Presentation:
    """The final's presentation rules from the competition config (`final_live`)."""
    minutes: int = DEFAULT_PRESENTATION_MINUTES
    warning_seconds: int = DEFAULT_WARNING_SECONDS
    slot_minutes: int = DEFAULT_SLOT_MINUTES

    @property
    def seconds(self) -> int:
        return self.minutes * 60


def presentation_from_config(raw: Mapping[str, Any]) -> Presentation:
    block = raw.get("final_live") or {}
    return Presentation(int(block.get("presentation_minutes", DEFAULT_PRESENTATION_MINUTES)),
                        int(block.get("warning_seconds", DEFAULT_WARNING_SECONDS)),
                        int(block.get("slot_minutes", DEFAULT_SLOT_MINUTES)))


@dataclass(frozen=True)
class LiveState:
    presenting: str | None = None           # case id
    presenting_since: float | None = None   # epoch seconds
    timer_started_at: float | None = None
    timer_stopped_at: float | None = None
    revealed: tuple[str, ...] = ()          # case ids, in the order they were revealed
    starts_at: float | None = None          # the category's session start, epoch seconds

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "revealed": list(self.revealed)}

    def is_revealed(self, case_id: str) -> bool:
        return case_id in self.revealed


def state_from_record(record: Mapping[str, Any] | None) -> LiveState:
    if not record:
        return LiveState()
    return LiveState(record.get("presenting"), record.get("presenting_since"), record.get("timer_started_at"),
                     record.get("timer_stopped_at"), tuple(record.get("revealed") or ()), record.get("starts_at"))


def present(state: LiveState, case_id: str, finalists: Sequence[str], now: float) -> LiveState:
    """The case now presenting; its timer starts afresh (not running)."""
    if case_id not in finalists:
        raise LiveError("只能选择本类别进入综合评选的案例")
    if state.presenting == case_id:
        return state
    return replace(state, presenting=case_id, presenting_since=now, timer_started_at=None, timer_stopped_at=None)


def start_timer(state: LiveState, now: float) -> LiveState:
    """计时开始: (re)starts the presenting case's timer from its full length."""
    if state.presenting is None:
        raise LiveError("请先选择现在展示的案例，再开始计时")
    return replace(state, timer_started_at=now, timer_stopped_at=None)


def stop_timer(state: LiveState, now: float) -> LiveState:
    if state.timer_started_at is None or state.timer_stopped_at is not None:
        raise LiveError("计时没有在进行，无需停止")
    return replace(state, timer_stopped_at=now)


def reveal(state: LiveState, case_id: str, scores_count: int) -> LiveState:
    """亮分 for the presenting case, once at least one judge has scored it (a revealed case stays revealed;
    scores that arrive later show as they come)."""
    if state.presenting != case_id:
        raise LiveError("只能为现在展示的案例亮分（页面可能已过期，请刷新）")
    if scores_count == 0:
        raise LiveError("还没有评委为该案例评分，没有可亮的分数")
    if case_id in state.revealed:
        return state
    return replace(state, revealed=state.revealed + (case_id,))


def schedule(state: LiveState, starts_at: float | None) -> LiveState:
    return replace(state, starts_at=starts_at)


def timer_seconds(state: LiveState, now: float) -> float:
    """Seconds the presenting case's timer has run (0 before 计时开始)."""
    if state.timer_started_at is None:
        return 0.0
    end = state.timer_stopped_at if state.timer_stopped_at is not None else now
    return max(0.0, end - state.timer_started_at)


def expected_start(starts_at: float, rules: Presentation, position: int) -> float:
    """When the case at `position` (1, 2, …) of the drawn order is expected to begin."""
    return starts_at + (position - 1) * rules.slot_minutes * 60
