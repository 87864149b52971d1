"""What the judge pages read: a link looked at without being used (the landing page's GET changes
nothing), and the case page with the judge's own slot (score or coaching feedback) and the stage window.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..config import Settings
from ..domain.competition import Competition, StageWindow
from ..domain.errors import Unauthenticated
from ..domain.judging_record import Assignment
from . import scoring
from . import stages as stage_service
from .judging import valid_link
from .repositories import CaseRepository, JudgingRepository, StageRepository
from .scoring import JudgePrincipal


@dataclass(frozen=True)
class LinkPreview:
    judge_id: str
    judge_name: str
    stage: str
    window: StageWindow
    assigned: int
    comp: Competition          # the link's own competition


def preview_link(judging: JudgingRepository, competition_of: Callable[[str], Competition], cfg: Settings,
                 link_token: Any, now, *, stages: StageRepository) -> LinkPreview:
    """Who and which stage a link is for, if it would open a session now (same checks, no writes), in the
    link's own competition (`competition_of`: a competition by its id)."""
    found = valid_link(judging, competition_of, cfg, link_token, now, stages=stages)
    comp, judge_id, stage, window = found.comp, found.judge_id, found.stage, found.window
    judge = judging.get_judge(comp.id, judge_id)
    if judge is None:
        raise Unauthenticated("评分链接无效：没有这位评委")
    assigned = sum(1 for s in judging.slots_of_judge(comp.id, stage, judge_id) if not s.recused)
    return LinkPreview(judge_id, judge.name, stage, window, assigned, comp)


def judge_name(judging: JudgingRepository, comp: Competition, judge_id: str) -> str:
    judge = judging.get_judge(comp.id, judge_id)
    return judge.name if judge is not None else ""


def stage_window(comp: Competition, stage: str, *, stages: StageRepository) -> StageWindow:
    return stage_service.windows(comp, stages)[stage]


def case_page(judging: JudgingRepository, cases: CaseRepository, comp: Competition, judge: JudgePrincipal,
              case_id: str,
              download_url: Callable[[Any, str], str], *,
              stages: StageRepository) -> tuple[dict[str, Any], Assignment, StageWindow]:
    """The case as the judge reads it (verified attachments only), their slot, and the stage window."""
    return scoring.judge_case(judging, cases, comp, judge, case_id, download_url, stages=stages)
