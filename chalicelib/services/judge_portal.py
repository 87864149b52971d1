"""What the judge pages read: a link looked at without being used (the landing page's GET changes
nothing), and the case page with the judge's own slot (score or coaching feedback) and the stage window.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..config import Settings
from ..domain.competition import Competition, StageWindow
from ..domain.errors import NotFound, Unauthenticated
from ..security import token_hash
from ..store import cases as case_store
from ..store import judging as store
from ..store.models import Assignment
from . import cases as case_service
from . import stages as stage_service
from .judging import read_link
from .scoring import JudgePrincipal, score_view


@dataclass(frozen=True)
class LinkPreview:
    judge_id: str
    judge_name: str
    stage: str
    window: StageWindow
    assigned: int


def preview_link(comp: Competition, cfg: Settings, link_token: Any, now) -> LinkPreview:
    """Who and which stage a link is for, if it would open a session now (same checks, no writes)."""
    claims = read_link(cfg, link_token)
    judge_id, stage = claims["j"], claims["s"]
    link, row = store.link_and_stage(judge_id, stage, comp.id)
    if link is None or link.link_hash != token_hash(claims["r"]):
        raise Unauthenticated("评分链接已失效（已被撤销或重新发放），请联系主办单位获取新的链接")
    window = stage_service.to_window(comp, row) if row is not None else stage_service.windows(comp)[stage]
    if window.status(now) == "closed":
        raise Unauthenticated(f"{window.name}已截止，评分链接已过期")
    judge = store.get_judge(comp.id, judge_id)
    if judge is None:
        raise Unauthenticated("评分链接无效：没有这位评委")
    assigned = sum(1 for s in store.slots_of_judge(stage, judge_id) if not s.recused)
    return LinkPreview(judge_id, judge.name, stage, window, assigned)


def judge_name(comp: Competition, judge_id: str) -> str:
    judge = store.get_judge(comp.id, judge_id)
    return judge.name if judge is not None else ""


def stage_window(comp: Competition, stage: str) -> StageWindow:
    return stage_service.windows(comp)[stage]


def case_page(comp: Competition, judge: JudgePrincipal, case_id: str,
              download_url: Callable[[Any, str], str]) -> tuple[dict[str, Any], Assignment, StageWindow]:
    """The case as the judge reads it (verified attachments only), their slot, and the stage window."""
    slot, row = store.get_slot_and_stage(judge.stage, judge.judge_id, case_id, comp.id)
    if slot is None or slot.recused:
        raise NotFound("这个案例没有分配给您（或您已回避）")
    case = case_store.get(case_id)
    if case is None:
        raise NotFound("没有找到这个案例")
    view = case_service.case_view(case)
    view.pop("account_id", None)
    view["attachments"] = [{**a, "url": download_url(case, a["attachment_id"])}
                           for a in view["attachments"] if a["status"] == "verified"]
    view["my_score"] = score_view(slot) if slot.scored and slot.total is not None else None
    view["my_feedback"] = list(slot.feedback or [])
    window = stage_service.to_window(comp, row) if row is not None else stage_service.windows(comp)[judge.stage]
    return view, slot, window
