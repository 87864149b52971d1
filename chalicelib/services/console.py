"""Read models of the organiser console (管理台): the dashboard, the case browser, judges' progress, and the
organisers' final list of organisation-award units. Everything here is Queries (by competition, by role,
by stage and category) and arithmetic over their results; no Scan.
"""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..domain.clock import epoch
from ..domain.cases import ENTERED, STATUS_NAMES
from ..domain.competition import CHINA, JUDGED_STAGES, Competition, StageId, StageWindow, format_time
from ..domain.errors import Invalid, NotFound
from ..lazy import lazy
from ..domain.account_record import Account
from ..domain.case_record import Case, CaseSummary
from ..domain.export_record import ExportJob
from ..domain.judging_record import Assignment, Judge
from . import stages as stage_service
from .repositories import AccountRepository, JudgingRepository, MailRepository, StageRepository

if TYPE_CHECKING:
    from .accounts import Principal
    from .repositories import (
        ArchiveRepository, AwardListRepository, CaseRepository, CompetitionRepository, ExportRepository,
        OriginalityObjects, ResultRepository,
    )

# The dashboard (a cold start's most frequent organiser page) uses none of these: imported on first use.
if TYPE_CHECKING:
    from . import cases as case_service, judging, results
else:
    case_service, judging, results = lazy(__name__, ".cases", ".judging", ".results")

PAGE_SIZE = 50
SLOT_STATE_FIELDS = ("judge_id", "scored", "recused")
ORIGINALITY_PAGE = 20
ACTION_NAMES = {
    "case.create": "新建草稿", "case.edit": "修改文本", "case.submitted": "提交", "case.withdrawn": "撤回",
    "case.advanced": "进入综合评选", "case.not_advanced": "未入围", "case.awarded": "获奖",
    "case.not_awarded": "未获奖", "case.provincial": "省赛推荐标记", "score.save": "评委评分",
    "feedback.save": "辅导意见", "feedback.reply": "单位回复辅导意见", "assignment.recuse": "评委回避",
    "attachment.declare": "上传附件（待校验）", "attachment.verify": "附件校验通过",
    "attachment.reject": "附件校验未通过", "attachment.delete": "删除附件", "case.review": "审核",
    "presentation.declare": "上传展示材料（待校验）", "presentation.verify": "展示材料校验通过",
    "presentation.reject": "展示材料校验未通过", "presentation.replace": "替换展示材料（删除旧文件）",
    "showcase.consent": "单位同意公开展示", "showcase.withdraw": "单位撤出成果展示",
    "showcase.hide": "从成果展示中撤下", "showcase.restore": "恢复成果展示",
    "competition.create": "新建竞赛届次", "competition.edit": "修改竞赛设置",
    "competition.start": "开始（发布）竞赛届次",
    "competition.finish": "结束竞赛届次", "competition.activate": "设为当前届次",
    "case.received": "由其他竞赛届次推荐", "case.sent": "已推荐至其他竞赛届次",
}


def _day(epoch: Any) -> str:
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc).astimezone(CHINA).strftime("%Y-%m-%d")


def _time(epoch: Any) -> str:
    return format_time(datetime.fromtimestamp(float(epoch), tz=timezone.utc)) if epoch else ""


# -- dashboard -------------------------------------------------------------------------------------
READERS = 8   # the dashboard's reads in flight at once (13 for three categories; botocore's pool holds 10)


def read_concurrently(reads: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent reads side by side (each is a Query waiting on the network); the first error raises.

    The models share one botocore client (store/db.py: bind), and botocore clients are thread-safe."""
    with ThreadPoolExecutor(max_workers=min(READERS, len(reads))) as pool:
        futures = {name: pool.submit(read) for name, read in reads.items()}
        return {name: future.result() for name, future in futures.items()}


def dashboard(judging_repo: JudgingRepository, case_repo: CaseRepository, comp: Competition, now: datetime,
              accounts: AccountRepository, *, stages: StageRepository) -> dict[str, Any]:
    """The case summaries (no bodies: the category is the index key's prefix), the unit accounts, the
    judges, the stage windows and each judged stage's slot states per category: all read at once."""
    first: list[str] = [stage for stage in JUDGED_STAGES if stage != StageId.PROVINCIAL]
    found = read_concurrently({
        "cases": lambda: case_repo.summaries(comp.id),
        "windows": lambda: stage_service.windows(comp, stages), "units": accounts.list_units,
        "judges": lambda: judging_repo.list_judges(comp.id),
        **_slot_reads(judging_repo, comp, first, comp.category_ids)})
    cases, windows = found["cases"], found["windows"]
    # 赛前辅导 slots exist only on cases recommended to the provincial competition: their categories only
    recommended = sorted({c.category_key.partition("#")[0] for c in cases if judging.takes_part(StageId.PROVINCIAL, c)})
    found.update(read_concurrently(_slot_reads(judging_repo, comp, [StageId.PROVINCIAL], recommended))
                 if recommended else {})
    matrix: dict[str, Counter[str]] = {cat: Counter() for cat in comp.category_ids}
    for case in cases:
        category = case.category_key.partition("#")[0]
        matrix.setdefault("" if category == "~" else category, Counter())[case.status] += 1
    per_day = Counter(_day(c.submitted_at) for c in cases if c.status in ENTERED and c.submitted_at)
    days = sorted(per_day.items())
    stage_slots: dict[str, list[Any]] = {
        stage: [slot for cat in comp.category_ids for slot in found.get(f"{stage}#{cat}", [])]
        for stage in JUDGED_STAGES}
    return {
        "matrix": {cat: dict(counts) for cat, counts in matrix.items()},
        "status_totals": dict(Counter(c.status for c in cases)), "total": len(cases),
        "review_pending": sum(c.status == "submitted" and c.review_decision != "accepted" for c in cases),
        "per_day": days, "per_day_max": max(per_day.values(), default=0),
        "units_without": units_without_submission(cases, found["units"]),
        "progress": judge_progress(now, windows, found["judges"], stage_slots),
        "windows": [stage_service.stage_view(w, now) | {"closed_by_organiser": w.closed}
                    for w in windows.values()],
    }


def _slot_reads(judging_repo: JudgingRepository, comp: Competition, stages: list[str],
                categories: Iterable[str]) -> dict[str, Callable[[], Any]]:
    """The reads of the slot states of these stages' categories, by "<stage>#<category>"."""
    def read(stage: str, category: str) -> Callable[[], Any]:
        return lambda: judging_repo.slots_of_category(comp.id, stage, category, attributes=SLOT_STATE_FIELDS)
    return {f"{stage}#{cat}": read(stage, cat) for stage in stages for cat in categories}


def units_without_submission(cases: Iterable[Case | CaseSummary], units: Iterable[Account]) -> list[dict[str, Any]]:
    """Registered unit accounts with no case submitted (withdrawn cases do not count), with their drafts."""
    entered = {c.owner_id for c in cases if c.status in ENTERED}
    drafts = Counter(c.owner_id for c in cases if c.status in ("draft", "withdrawn"))
    without = [a for a in units if a.id not in entered]
    return [{"unit_name": a.unit_name, "username": a.username, "contact_name": a.contact_name, "email": a.email,
             "mobile": a.mobile, "drafts": drafts.get(a.id, 0), "registered_at": _time(a.created_at)}
            for a in sorted(without, key=lambda a: (a.unit_name or "", a.username))]


def judge_progress(now: datetime, windows: dict[str, StageWindow], judges: Iterable[Judge],
                   stage_slots: dict[str, list[Assignment]]) -> list[dict[str, Any]]:
    """Per judged stage: each judge's scored / assigned (recusals apart) and who is behind.

    While a stage is open a judge is behind when their share scored is below the share of the window
    that has passed; once it has closed, when anything is left unscored; before it opens, nobody is."""
    names = {j.judge_id: j.name for j in judges}
    stages = []
    for stage in JUDGED_STAGES:
        window = windows[stage]
        status = window.status(now)
        span = (window.closes_at - window.opens_at).total_seconds()
        elapsed = min(1.0, max(0.0, (now - window.opens_at).total_seconds() / span)) if span > 0 else 1.0
        per: dict[str, dict[str, Any]] = {}
        for slot in stage_slots[stage]:
            judge_id = slot.judge_id
            row = per.setdefault(judge_id, {"judge_id": judge_id, "name": names.get(judge_id, judge_id),
                                            "assigned": 0, "scored": 0, "recused": 0})
            if slot.recused:
                row["recused"] += 1
                continue
            row["assigned"] += 1
            row["scored"] += 1 if slot.scored else 0
        for row in per.values():
            done = row["scored"] / row["assigned"] if row["assigned"] else 1.0
            row["percent"] = round(done * 100)
            row["behind"] = row["scored"] < row["assigned"] and (
                status == "closed" or (status == "open" and done < elapsed))
        judges_rows = sorted(per.values(), key=lambda r: (not r["behind"], r["percent"], r["name"]))
        stages.append({"stage": stage, "name": window.name, "status": status, "expected": round(elapsed * 100),
                       "judges": judges_rows, "assigned": sum(r["assigned"] for r in judges_rows),
                       "scored": sum(r["scored"] for r in judges_rows),
                       "behind": sum(r["behind"] for r in judges_rows)})
    return stages


# -- cases -----------------------------------------------------------------------------------------
def _fold(text: Any) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).casefold()


def browse(comp: Competition, cases: CaseRepository, who: Principal, category: str | None, status: str | None,
           query: str, page: int = 1) -> dict[str, Any]:
    """The organiser's case list: a Query by competition (and category), then status and a substring
    search over title, recommending unit and account (every word must match), best for ~10,000 cases."""
    if category and category not in comp.category_ids:
        raise Invalid("没有这个案例类别，请从列表中选择", {"category": "没有这个类别"})
    if status and status not in STATUS_NAMES:
        raise Invalid("没有这个案例状态，请从列表中选择", {"status": "没有这个状态"})
    words = [_fold(w) for w in query.split() if w]
    rows = []
    for case in case_service.list_cases(cases, comp, who, category or None):
        if status and case.status != status:
            continue
        body = case.body
        haystack = _fold(" ".join((body.get("title", ""), body.get("recommending_unit", ""), case.owner_username)))
        if all(w in haystack for w in words):
            rows.append({"id": case.id, "title": body.get("title", ""), "unit": body.get("recommending_unit", ""),
                         "account": case.owner_username, "category": body.get("category", ""),
                         "status": case.status, "status_name": STATUS_NAMES[case.status], "prize": case.prize,
                         "submitted_at": _time(case.submitted_at), "updated_at": float(case.updated_at or 0)})
    rows.sort(key=lambda r: (-r["updated_at"], r["id"]))
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, page), pages)
    return {"rows": rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], "count": len(rows), "page": page, "pages": pages}


ACTOR_KINDS = {"unit": "单位帐号", "organiser": "主办单位", "judge": "评委", "system": "系统"}
SYSTEM_ACTORS = {"system:schedule": "系统（定时任务）"}


def actor_name(actor: str) -> str:
    """An audit row's actor (`unit:<username>`, `organiser:<username>`, `system:schedule`) as the console shows it."""
    kind, _, who = actor.partition(":")
    if actor in SYSTEM_ACTORS or kind not in ACTOR_KINDS:
        return SYSTEM_ACTORS.get(actor, actor)
    return ACTOR_KINDS[kind] if kind == "judge" else f"{ACTOR_KINDS[kind]} {who}"


def action_name(entry: Any) -> str:
    """An audit row's action as the console shows it; a 审核 row names its decision (审核：退回修改)."""
    name = ACTION_NAMES.get(entry.action, entry.action)
    if entry.action == "case.review" and entry.detail:
        from ..domain.review import DECISIONS
        name = f"{name}：{DECISIONS.get(json.loads(entry.detail).get('decision'), '')}"
    elif entry.action == "case.received" and entry.detail:      # 省赛推荐 (services/feeder.py)
        name = f"由{json.loads(entry.detail).get('from') or '其他竞赛届次'}推荐"
    elif entry.action == "case.sent" and entry.detail:
        name = f"已推荐至{json.loads(entry.detail).get('to') or '其他竞赛届次'}"
    return name


def case_detail(judging_repo: JudgingRepository, comp: Competition, cases: CaseRepository, who: Principal,
                case_id: str) -> dict[str, Any]:
    """The case as stored, with its audit trail (who did what, when), newest first."""
    case = case_service.get(cases, who, case_id)
    view = case_service.case_view(case)
    names = {f"judge:{j.judge_id}": f"评委 {j.name}" for j in judging.list_judges(judging_repo, comp)}
    trail = [{"at": _time(e.at), "actor": names.get(e.actor) or actor_name(e.actor), "action": action_name(e)}
             for e in sorted(cases.history(case_id), key=lambda e: e.entry_key, reverse=True)]
    return {"case": view, "trail": trail, "provincial": bool(case.provincial),
            "provincial_reason": case.provincial_reason or ""}


# -- judges, assignments and links -----------------------------------------------------------------
def judge(judging_repo: JudgingRepository, comp: Competition, judge_id: str) -> dict[str, Any]:
    found = next((j for j in judging.list_judges(judging_repo, comp) if j.judge_id == judge_id), None)
    if found is None:
        raise NotFound("没有这位评委")
    return judging.judge_view(found)


def add_override(judging_repo: JudgingRepository, cases: CaseRepository, comp: Competition, stage: str, judge_id: str,
                 case_id: str, actor: str, now: datetime) -> None:
    """One more judge on one case (回避 still applies); the pair may not be assigned already."""
    if not judge_id or not case_id:
        fields = {k: "请选择" for k, v in (("judge_id", judge_id), ("case_id", case_id)) if not v}
        raise Invalid("请选择评委和案例", fields)
    judging.add_assignment(judging_repo, cases, comp, stage, judge_id, case_id, actor, now)


def remove_override(judging_repo: JudgingRepository, comp: Competition, stage: str, judge_id: str, case_id: str,
                    actor: str, now: datetime) -> None:
    judging.remove_assignment(judging_repo, comp, stage, judge_id, case_id, actor, now)


def assignments(judging_repo: JudgingRepository, comp: Competition, repository: CaseRepository,
                stage: str) -> dict[str, Any]:
    """A stage's slots grouped by case, with the judges and cases the override form offers."""
    listed = judging.list_assignments(judging_repo, comp, stage)["assignments"]
    judges = sorted(judging.list_judges(judging_repo, comp), key=lambda j: (j.name, j.judge_id))
    names = {j.judge_id: j.name for j in judges}
    by_case: dict[str, dict[str, Any]] = {}
    for slot in listed:
        row = by_case.setdefault(slot["case_id"], {"case_id": slot["case_id"], "title": slot["title"],
                                                   "category": slot["category"], "slots": []})
        row["slots"].append({**slot, "name": names.get(slot["judge_id"], slot["judge_id"])})
    cases = [c for c in repository.list_for_competition(comp.id) if judging.takes_part(stage, c)]
    return {"cases": sorted(by_case.values(), key=lambda r: (r["category"], r["title"], r["case_id"])),
            "count": len(listed), "recused": sum(1 for s in listed if s["recused"]),
            "judges": [judging.judge_view(j) for j in judges],
            "candidates": sorted(({"id": c.id, "title": c.title} for c in cases),
                                 key=lambda c: (c["title"], c["id"]))}


def link_holders(judging_repo: JudgingRepository, comp: Competition, *,
                 mail: MailRepository) -> dict[str, list[dict[str, Any]]]:
    """Per judged stage, the judges with at least one (non-recused) assignment (those who get a link),
    each with the state of their link (judging.LinkState)."""
    names = {j.judge_id: j for j in judging.list_judges(judging_repo, comp)}
    counts = {stage: Counter(s["judge_id"] for s in judging.list_assignments(judging_repo, comp, stage)["assignments"]
                             if not s["recused"]) for stage in JUDGED_STAGES}
    rows = judging.link_rows(judging_repo, comp, {stage: list(c) for stage, c in counts.items()})
    mails = judging.mail_states(comp, rows, {j: judge.email for j, judge in names.items()}, mail)
    found: dict[str, list[dict[str, Any]]] = {}
    for stage in JUDGED_STAGES:
        states = judging.link_states(judging_repo, comp, stage, list(counts[stage]), rows[stage])
        found[stage] = sorted(({"judge_id": j, "count": n, "name": names[j].name if j in names else j,
                                "email": names[j].email if j in names else "", "link": states[j],
                                "mail": mails[stage].get(j)}
                               for j, n in counts[stage].items()),
                              key=lambda r: (r["name"], r["judge_id"]))
    return found


# -- results ---------------------------------------------------------------------------------------
def titles(comp: Competition, cases: CaseRepository) -> dict[str, dict[str, str]]:
    return {c.id: {"title": c.title, "unit": c.body.get("recommending_unit", "")}
            for c in cases.list_for_competition(comp.id)}


def honors(comp: Competition, cases: CaseRepository, *, stages: StageRepository,
           result_repo: ResultRepository) -> dict[str, Any]:
    """The honors of the final (services.results.honors) with case titles and the honors' Chinese names."""
    found = results.honors(comp, cases=cases, stages=stages, results=result_repo)
    rules = {r["id"]: r["name"] for r in comp.raw.get("honors", {}).get("rules", [])}
    return {**found, "honor_names": rules, "titles": titles(comp, cases)}


def organisation_awards(comp: Competition, award_lists: AwardListRepository, *,
                        cases: CaseRepository) -> dict[str, Any]:
    """The tally and the suggestion, with the organisers' saved list (None until they save one)."""
    found = results.organisation_awards(comp, cases)
    saved = award_lists.read(comp.id)
    return {**found, "saved": saved}


def save_organisation_awards(comp: Competition, award_lists: AwardListRepository, units: list[str], actor: str,
                             now: datetime, *, cases: CaseRepository) -> dict[str, Any]:
    """Store the organisers' final list: units from the tally only, in the tally's order."""
    known = [u["unit"] for u in results.organisation_awards(comp, cases)["units"]]
    unknown = [u for u in units if u not in known]
    if unknown:
        raise Invalid(f"以下单位不在统计名单中：{'、'.join(unknown)}，请刷新页面后重新选择", {"units": "含未知单位"})
    chosen = [u for u in known if u in set(units)]
    before = award_lists.read(comp.id)
    record = {"units": chosen, "saved_by": actor, "saved_at": _time(epoch(now))}
    award_lists.write(comp.id, record, before, actor, epoch(now))
    return record


def latest_exports(comp: Competition, jobs: ExportRepository, limit: int = 10) -> list[ExportJob]:
    return jobs.latest(comp.id, limit)


def originality(comp: Competition, cases: CaseRepository, archive: ArchiveRepository, objects: OriginalityObjects,
                competitions: CompetitionRepository, page: int = 1) -> dict[str, Any] | None:
    """One page of the originality flags as pairs (services/originality.py: flag_pairs), most similar first,
    or None where that service is not deployed."""
    try:
        from . import originality as checker
    except ImportError:
        return None
    report = checker.report(comp, archive, objects, cases, competitions)
    pairs = checker.flag_pairs(report["flags"])
    pages = max(1, -(-len(pairs) // ORIGINALITY_PAGE))
    page = min(max(1, page), pages)
    return {"checked": report["checked"], "archived": report["archived"], "threshold": report["threshold"],
            "flagged": len(report["flags"]), "count": len(pairs), "page": page, "pages": pages,
            "pairs": pairs[(page - 1) * ORIGINALITY_PAGE:page * ORIGINALITY_PAGE]}


def review(comp: Competition, repository: CaseRepository, archive: ArchiveRepository, objects: OriginalityObjects,
           competitions: CompetitionRepository, now: datetime, *, stages: StageRepository) -> dict[str, Any]:
    """The 审核 page: the submitted, returned and rejected cases by category with their review state and
    their originality matches (the same report as /admin/originality; none where that service is absent)."""
    from . import review as review_service
    cases = repository.list_for_competition(comp.id)
    flags: dict[str, list[dict[str, Any]]] = {}
    try:
        from . import originality as checker
    except ImportError:
        pass
    else:
        flags = {f["case_id"]: f["matches"]
                 for f in checker.report(comp, archive, objects, repository, competitions, cases)["flags"]}
    return review_service.review_list(comp, now, flags, cases, stages=stages)


def import_archive_workbook(comp: Competition, archive: ArchiveRepository, objects: OriginalityObjects,
                            who: Principal, data: bytes, now: datetime) -> int:
    """Earlier years' cases from the console's workbook (services/archive_import.py)."""
    from . import archive_import
    return archive_import.import_workbook(comp, archive, objects, who, data, now)
