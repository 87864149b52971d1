"""综合评选 presentation materials (展示材料): one current file per advanced case (PPT/PPTX/PDF/MP4, the
config's limits), uploaded by its unit through the attachments' presigned POST and content check, from the end
of text review until the final opens (domain/competition.presentation_window; the store's condition: the
final's stage row has not opened). Replacing is allowed in that window: the new file, once verified,
replaces the old one (both audited). The unit, the organisers and the case's final judges download it; the
organiser downloads a category's files as one zip in the drawn order (services/exports.py).

The records live in the case's attachments map with `kind: "presentation"` (never listed as attachments).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..domain.clock import epoch
from ..config import Settings
from ..domain.attachments import allowed_text, declare, presentation_kinds
from ..domain.competition import Competition, StageId, format_time, presentation_open, presentation_window
from ..domain.errors import Forbidden, Invalid, NotFound, StageClosed
from ..domain.readable import when
from ..domain.case_record import Case
from . import attachments
from . import cases as case_service
from . import stages as stage_service
from .accounts import Principal
from .attachments import PRESENTATION
from .repositories import CaseRepository, Files, JudgingRepository, StageRepository

FINAL = StageId.FINAL


def _presentations(case: Case) -> list[dict[str, Any]]:
    return sorted((dict(r) for r in case.attachments.values() if attachments.kind_of(r) == PRESENTATION),
                  key=lambda r: (float(r["created_at"]), r["attachment_id"]))


def current(case: Case) -> dict[str, Any] | None:
    """The case's verified presentation (the newest, should an interrupted replacement have left two)."""
    verified = [r for r in _presentations(case) if r["status"] == "verified"]
    return verified[-1] if verified else None


def _pending(case: Case) -> list[dict[str, Any]]:
    return [r for r in _presentations(case) if r["status"] != "verified"]


def window_view(comp: Competition, status: str, now: datetime, windows: dict | None = None, *,
                stages: StageRepository) -> dict[str, Any]:
    windows = windows or stage_service.windows(comp, stages)
    opens_at, closes_at = presentation_window(windows)
    kinds = presentation_kinds(comp.presentation_limits())
    return {"opens_at": format_time(opens_at), "closes_at": format_time(closes_at),
            "open": presentation_open(status, windows, now), "allowed": allowed_text(kinds),
            "accept": ",".join(f".{ext}" for ext in kinds),
            "minutes": int((comp.raw.get("final_live") or {}).get("presentation_minutes", 8)),
            "window_text": f"{when(opens_at)} 至 {when(closes_at)}"}


def _target(cases: CaseRepository, comp: Competition, principal: Principal, case_id: str, now: datetime, *,
            stages: StageRepository, competition_of: case_service.CompetitionOf) -> case_service.Editable:
    """The case if its unit may upload its presentation now, by its own competition's windows; the write's
    condition: that competition's final not opened."""
    if principal.role != "unit":
        raise Forbidden("只有参赛单位帐号可以上传展示材料")
    case = case_service.get(cases, principal, case_id)
    windows = stage_service.windows(case_service.competition_of_case(comp, competition_of, case), stages)
    if not presentation_open(case.status, windows, now):
        opens_at, closes_at = presentation_window(windows)
        if case.status != "advanced":
            raise StageClosed("只有进入综合评选（且综合评选尚未结束）的案例可以上传展示材料")
        raise StageClosed(f"展示材料在文本评审结束后、综合评选开始前上传（{when(opens_at)} 至 {when(closes_at)}），"
                          "现在不能上传或替换")
    return case_service.Editable(case, FINAL, before_stage=True)


def start_upload(cases: CaseRepository, comp: Competition, cfg: Settings, files: Files, principal: Principal,
                 case_id: str, raw: Any, now: datetime, *, stages: StageRepository,
                 competition_of: case_service.CompetitionOf) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Invalid("请求体应为 JSON 对象，含 filename、content_type、size", {"body": "应为 JSON 对象"})
    declared = declare(raw.get("filename"), raw.get("content_type"), raw.get("size"),
                       presentation_kinds(comp.presentation_limits()))
    target = _target(cases, comp, principal, case_id, now, stages=stages, competition_of=competition_of)
    for stale in _pending(target.case):   # an upload never confirmed: the new one takes its place
        cases.remove_attachment(target.case, stale["attachment_id"], None, principal.actor, epoch(now),
                                "presentation.replace")
        attachments.discard(files, stale)
    answer = attachments.open_upload(cases, comp, cfg, files, principal, target, declared, now, kind=PRESENTATION)
    return {"presentation_id": answer.pop("attachment_id"), **answer}


def confirm(cases: CaseRepository, comp: Competition, files: Files, principal: Principal, case_id: str,
            now: datetime, *, stages: StageRepository, competition_of: case_service.CompetitionOf) -> dict[str, Any]:
    """Verify the uploaded file; once it passes, it replaces the case's earlier presentation."""
    target = _target(cases, comp, principal, case_id, now, stages=stages, competition_of=competition_of)
    pending = _pending(target.case)
    if not pending:
        found = current(target.case)
        if found is None:
            raise NotFound("还没有上传展示材料，请先选择文件上传")
        return view(found)
    newest = pending[-1]
    attachments.verify(cases, comp, files, principal, target, newest["attachment_id"], now, kind=PRESENTATION)
    for old in _presentations(target.case):
        if old["attachment_id"] != newest["attachment_id"]:
            cases.remove_attachment(target.case, old["attachment_id"], None, principal.actor, epoch(now),
                                    "presentation.replace")
            attachments.discard(files, old)
    return view({**newest, "status": "verified"})


def view(record: dict[str, Any]) -> dict[str, Any]:
    return {"presentation_id": record["attachment_id"], "status": record["status"], "filename": record["filename"],
            "content_type": record["content_type"], "size": int(record["size"]),
            "uploaded_at": format_time(datetime.fromtimestamp(float(record["created_at"]), tz=timezone.utc))}


def _download(cfg: Settings, files: Files, case: Case) -> dict[str, Any]:
    found = current(case)
    if found is None:
        raise NotFound("这个案例还没有展示材料")
    return {"url": files.download_url(found["key"], found["filename"], cfg.download_url_seconds), **view(found)}


def download(cases: CaseRepository, cfg: Settings, files: Files, principal: Principal, case_id: str) -> dict[str, Any]:
    """The unit's own case or, for an organiser, any case."""
    return _download(cfg, files, case_service.get(cases, principal, case_id))


def judge_download(judging: JudgingRepository, cases: CaseRepository, comp: Competition, cfg: Settings, files: Files,
                   judge: Any, case_id: str) -> dict[str, Any]:
    """A final judge's download of the presentation of a case assigned to them."""
    slot, _ = judging.get_slot_and_stage(judge.stage, judge.judge_id, case_id, comp.id)
    if judge.stage != FINAL or slot is None or slot.recused:
        raise NotFound("这个案例没有分配给您（展示材料只供综合评选评委查看）")
    case = cases.get(case_id)
    if case is None:
        raise NotFound("没有找到这个案例")
    return _download(cfg, files, case)


def state(comp: Competition, case: Case, now: datetime, *, stages: StageRepository) -> dict[str, Any]:
    """What the unit's case page shows: the current file and whether it may upload now."""
    found = current(case)
    return {**window_view(comp, case.status, now, stages=stages), "current": view(found) if found else None,
            "shown": case.status in ("advanced", "awarded", "not_awarded") or found is not None}
