"""Exports for the organisers: request one (a queued job), run it (the `exports` function, or the local
runner), and report its progress and a download link.

A run claims its job with a conditional update (queued -> running), so a retried or doubled invocation
builds the file once; a run that died is claimed again after the lease (the export repository:
services/repositories.ExportRepository). The file goes
to S3 under exports/<job id>/<file>; the organiser downloads it through a short-lived presigned GET whose
Content-Disposition carries the Chinese file name.

The data comes from the repositories the run is given (RunPorts) and the other services; the files are made
by chalicelib/exports/ (openpyxl, fpdf2, python-docx), imported inside `build` only, so the API's cold start
never loads them.
"""
from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from fractions import Fraction
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

from ..domain.clock import epoch
from ..domain.accounts import UNIT_SYSTEMS
from ..domain.cases import ENTERED, GENDERS, RANK_LEVELS, STATUS_NAMES
from ..domain.competition import CHINA, STAGE_NAMES, Competition, StageId
from ..domain.errors import Conflict, DomainError, Invalid, NotFound
from ..domain.export_record import ExportJob, queued_job
from ..domain.readable import day, when
from ..domain import ranking as ranking_rules
from ..exports import data
from ..media import DOCX, PDF, XLSX, ZIP
from ..security import new_id
from ..domain.case_record import Case
from . import certificates
from . import results
from . import stages as stage_service
from .repositories import AccountRepository, FinalRepository, JudgingRepository, ResultRepository, StageRepository

if TYPE_CHECKING:
    from .repositories import AwardListRepository, CaseRepository, CertificateRepository, ExportRepository

log = logging.getLogger("saiping")


YES_NO = {True: "是", False: "否", None: ""}


@dataclass(frozen=True)
class RunPorts:
    """What a run needs: its job's repository, the repositories its builders read, the files and the clock."""
    jobs: ExportRepository
    cases: CaseRepository
    certificates: CertificateRepository
    award_lists: AwardListRepository                         # the organisers' saved 优秀组织奖 list, or None
    put_object: Callable[[str, bytes | BinaryIO, str], None]   # bytes, or a file read from its position
    signing_key: str
    site_url: str
    now: Callable[[], datetime]
    judging: JudgingRepository
    accounts: AccountRepository                              # the units' accounts (the registrations)
    stages: StageRepository                                  # the stage windows (is the final closed)
    results: ResultRepository                                # the stored rankings
    final: FinalRepository                                   # the final's draws (the presentations' order)
    open_object: Callable[[str], Any] | None = None           # a stored file's bytes as a stream (presentations)


# -- requesting and reporting -------------------------------------------------------------------
def start(jobs: ExportRepository, comp: Competition, raw: Any, actor: str, now: datetime,
          dispatch: Callable[[str], None]) -> ExportJob:
    """Queue an export and start its run (`dispatch`: the asynchronous invocation, or nothing where a runner
    polls): the API, the console and the CLI all start one here. A run that cannot be started fails its job
    at once, and the error goes on."""
    job = request(jobs, comp, raw, actor, now)
    try:
        dispatch(job.id)
    except Exception:
        not_started(jobs, job, now)
        raise
    return job


def request(jobs: ExportRepository, comp: Competition, raw: Any, actor: str, now: datetime) -> ExportJob:
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if not isinstance(kind, str) or kind not in KINDS:
        raise Invalid(f"kind 应为 {' / '.join(KINDS)} 之一", {"kind": "不支持的导出类型"})
    per_category = KINDS[kind].per_category
    category = raw.get("category") if per_category else None
    if per_category and (not isinstance(category, str) or comp.category(category) is None):
        names = "、".join(f"{c.id}（{c.name}）" for c in comp.categories)
        raise Invalid(f"请指定案例类别 category：{names}", {"category": "请选择案例类别"})
    job = queued_job(new_id(), comp.id, kind, category, actor, epoch(now))
    jobs.create(job)
    return job


def not_started(jobs: ExportRepository, job: ExportJob, now: datetime) -> ExportJob:
    """The function could not be invoked: the job fails at once instead of waiting for ever."""
    return jobs.fail(job, "导出任务未能启动，请稍后重新导出", epoch(now))


def get(jobs: ExportRepository, comp: Competition | None, job_id: str) -> ExportJob:
    """The job, of the competition `comp` (None: of any: an earlier competition's export is still followed
    after another became the current one)."""
    job = jobs.get(job_id) if job_id and len(job_id) <= 64 else None
    if job is None or (comp is not None and job.competition_id != comp.id):
        raise NotFound("没有这个导出任务")
    return job


def download_name(comp: Competition, job: ExportJob) -> str:
    kind = KINDS[job.kind]
    day = datetime.fromtimestamp(float(job.finished_at or job.created_at), tz=timezone.utc).astimezone(CHINA)
    category = comp.category(job.category) if job.category else None
    label = f"{kind.label}-{category.name}" if category else kind.label
    return f"{comp.short_name}-{label}-{day:%Y%m%d}.{kind.file.rsplit('.', 1)[1]}"


def public_status(job: ExportJob) -> str:
    """The contract's three states: a job waiting for its function counts as running."""
    return "running" if job.status == "queued" else job.status


def view(job: ExportJob, download_url: Callable[[str, str], str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": job.id, "kind": job.kind, "status": public_status(job),
                            "percent": int(job.percent or 0)}
    if job.category:
        body["category"] = job.category
    if job.status == "done" and job.key and download_url is not None:
        body["url"] = download_url(job.key, job.filename or KINDS[job.kind].file)
        body["filename"] = job.filename
    if job.status == "failed" and job.error:
        body["error"] = job.error
    return body


# -- running ------------------------------------------------------------------------------------
def run_queued(comp: Competition, ports: RunPorts, limit: int = 5,
               competition_of: Callable[[str], Competition] | None = None) -> list[str]:
    """The local runner's turn: run the oldest queued jobs (Query of by_status). Returns their ids. With
    `competition_of` (a competition by its id) every job runs with its own competition; without, only the jobs
    of `comp` run."""
    ran = []
    for job in ports.jobs.queued(limit):
        if job.competition_id == comp.id or competition_of is not None:
            run(comp, ports, job.id, competition_of)
            ran.append(job.id)
    return ran


def run(comp: Competition, ports: RunPorts, job_id: str,
        competition_of: Callable[[str], Competition] | None = None) -> str:
    """Build one export. Returns what happened: done | failed | already_done | busy | missing. The export is of
    the job's competition: `competition_of(job.competition_id)` when it is not `comp` (an earlier one's)."""
    jobs = ports.jobs
    found = jobs.get(job_id)
    if found is None:
        return "missing"
    if found.competition_id != comp.id and competition_of is not None:
        comp = competition_of(found.competition_id)
    if found.status in ("done", "failed"):
        return "already_done"
    job = jobs.claim(found, epoch(ports.now()))
    if job is None:
        return "busy"
    reporter = _Reporter(jobs, job)
    try:
        payload = build(comp, ports, job.kind, reporter, job.category)
        kind = KINDS[job.kind]
        key = f"exports/{job.id}/{kind.file}"
        ports.put_object(key, payload, kind.content_type)
        if hasattr(payload, "close"):
            payload.close()        # a temporary file
        jobs.finish(job, key, download_name(comp, replace(job, finished_at=epoch(ports.now()))), epoch(ports.now()))
        return "done"
    except DomainError as error:
        jobs.fail(job, error.message, epoch(ports.now()))
        return "failed"
    except Exception as exc:
        log.exception("export %s (%s) failed", job.id, job.kind)
        jobs.fail(job, f"导出失败（{type(exc).__name__}），请稍后重试或联系技术支持", epoch(ports.now()))
        return "failed"


class _Reporter:
    """Progress into the job row: at most every 5 percent and every half second."""

    def __init__(self, jobs: ExportRepository, job: ExportJob):
        self.jobs = jobs
        self.job = job
        self.last_percent = 0
        self.last_time = 0.0

    def __call__(self, fraction: float) -> None:
        percent = int(max(0.0, min(1.0, fraction)) * 99)
        now = time.monotonic()
        if percent - self.last_percent >= 5 and now - self.last_time >= 0.5:
            self.last_percent, self.last_time = percent, now
            self.jobs.progress(self.job, percent)

    def part(self, start: float, end: float) -> data.Progress:
        return lambda fraction: self(start + (end - start) * fraction)


def build(comp: Competition, ports: RunPorts, kind: str, progress: Any = None, category: str | None = None
          ) -> bytes | BinaryIO:
    """The file of one kind, from the tables (imports its builder only now); a zip comes as a temporary
    file (presentations can be hundreds of MB: never held in memory)."""
    if kind not in KINDS:
        raise Invalid(f"不支持的导出类型：{kind}")
    return KINDS[kind].builder(comp, ports, progress or _Silent(), category)


# -- the builders: the data from the repositories, then the file (its module imported only now) --
def _made(book: Any, progress: Any, maker: str, start: float = 0.3) -> bytes:
    """The file of `book` by `maker` ("<module of chalicelib/exports>.<function>", imported only now), after
    the read's share (`start`) of the progress; the maker reports the rest."""
    module, name = maker.rsplit(".", 1)
    progress(start)
    make = getattr(importlib.import_module(f"..exports.{module}", __package__), name)
    return bytes(make(book, progress.part(start, 0.95)))


def _results_xlsx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(results_book(ports.judging, comp, ports.cases, stages=ports.stages,
                                     result_repo=ports.results), progress, "workbooks.results_workbook")


def _scores_xlsx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(scores_book(ports.judging, comp, ports.cases, result_repo=ports.results), progress,
                 "workbooks.scores_workbook")


def _registrations_xlsx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(registrations_book(comp, ports.accounts, ports.cases), progress, "workbooks.registrations_workbook")


def _certificates_pdf(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(certificate_book(comp, ports), progress, "certificates_pdf.certificates_pdf", start=0.2)


def _award_list_docx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(award_list_of(comp, ports), progress, "award_list_docx.award_list_docx")


def _honors_xlsx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(honors_book(ports.judging, comp, ports.cases, stages=ports.stages,
                                    result_repo=ports.results), progress, "workbooks.honors_workbook")


def _organisation_awards_xlsx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(organisation_awards_book(comp, ports), progress, "workbooks.organisation_awards_workbook")


def _provincial_list_xlsx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(provincial_list(comp, ports), progress, "workbooks.provincial_workbook")


def _provincial_list_docx(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> bytes:
    return _made(provincial_list(comp, ports), progress, "provincial_list_docx.provincial_list_docx")


def _presentations_zip(comp: Competition, ports: RunPorts, progress: Any, category: str | None) -> BinaryIO:
    from ..exports.presentations_zip import presentations_zip
    files = presentation_files(comp, category or "", cases=ports.cases, final=ports.final)
    progress(0.05)
    return presentations_zip(files, ports.open_object, progress.part(0.05, 0.95))


# -- the registry: one line per export kind, read by the API, the console, the CLI and the openapi test --
Builder = Callable[[Competition, RunPorts, Any, str | None], bytes | BinaryIO]


@dataclass(frozen=True)
class Kind:
    label: str            # the Chinese file name's stem
    file: str             # the S3 object's name
    content_type: str
    description: str      # what the console's export page says of it
    builder: Builder
    per_category: bool = False    # made for one category (`category` in the request)


KINDS: dict[str, Kind] = {
    "results_xlsx": Kind("评审结果", "results.xlsx", XLSX, "评审结果（Excel，每个类别一张表）", _results_xlsx),
    "scores_xlsx": Kind("评分明细", "scores.xlsx", XLSX, "评分明细（Excel，评委 × 案例 × 评分项）", _scores_xlsx),
    "registrations_xlsx": Kind("报名情况", "registrations.xlsx", XLSX, "报名情况（Excel，帐号及其案例）",
                               _registrations_xlsx),
    "certificates_pdf": Kind("荣誉证书", "certificates.pdf", PDF, "荣誉证书（PDF，每个获奖案例一页）",
                             _certificates_pdf),
    "award_list_docx": Kind("获奖名单", "award-list.docx", DOCX, "获奖名单（Word，按类别和奖项）", _award_list_docx),
    "honors_xlsx": Kind("荣誉提名人选", "honors.xlsx", XLSX,
                        "荣誉提名人选（Excel，每项荣誉一张表，报送市总工会、团市委、市妇联）", _honors_xlsx),
    "organisation_awards_xlsx": Kind("优秀组织奖", "organisation-awards.xlsx", XLSX,
                                     "优秀组织奖（Excel，各单位统计及选定名单）", _organisation_awards_xlsx),
    "presentations_zip": Kind("展示材料", "presentations.zip", ZIP, "综合评选展示材料（zip，所选类别按抽签顺序）",
                              _presentations_zip, per_category=True),
    "provincial_list_xlsx": Kind("省赛推荐名单", "provincial-list.xlsx", XLSX,
                                 "省赛推荐名单（Excel，单位、牵头人、类别、奖项、推荐理由）", _provincial_list_xlsx),
    "provincial_list_docx": Kind("省赛推荐名单", "provincial-list.docx", DOCX, "省赛推荐名单（Word，按类别和名次）",
                                 _provincial_list_docx),
}


class _Silent:
    def __call__(self, fraction: float) -> None:
        return None

    def part(self, start: float, end: float) -> data.Progress:
        return data.no_progress


# -- the data of each kind ----------------------------------------------------------------------
def iter_cases(cases: CaseRepository, competition_id: str) -> Iterator[Case]:
    """Every case of the competition, page by page (nothing held at once)."""
    return cases.iter_for_competition(competition_id)


def _final_closed(comp: Competition, *, stages: StageRepository) -> tuple[bool, datetime | None]:
    window = stage_service.windows(comp, stages)[StageId.FINAL]
    return window.closed, window.closed_at


def results_book(judging: JudgingRepository, comp: Competition, cases: CaseRepository, *, stages: StageRepository,
                 result_repo: ResultRepository) -> data.ResultsBook:
    final_closed, _ = _final_closed(comp, stages=stages)
    leaders = {c.id: c.body.get("leader", {}).get("name", "") for c in iter_cases(cases, comp.id)}
    prize_names = certificates.prize_names(comp)
    review = results.ranking(judging, comp, StageId.TEXT_REVIEW, results=result_repo)
    final = results.ranking(judging, comp, StageId.FINAL, results=result_repo) if final_closed else None
    sheets = []
    for category in comp.categories:
        rows: list[data.ResultRow] = []
        in_final: set[str] = set()
        if final is not None:
            for e in final["categories"].get(category.id, []):
                in_final.add(e["case_id"])
                rows.append(data.ResultRow(e["rank"], e["title"], e["unit"], leaders.get(e["case_id"], ""),
                                           e["score"], prize_names.get(e["prize"] or "", ""), "是",
                                           "是" if e.get("provincial") else "否", "综合评选"))
        for e in review["categories"].get(category.id, []):
            if e["case_id"] in in_final:
                continue
            advanced = e.get("advanced")
            rows.append(data.ResultRow(e["rank"], e["title"], e["unit"], leaders.get(e["case_id"], ""),
                                       e["score"], "", YES_NO.get(advanced, ""),
                                       "否" if final is not None else "", "文本评审"))
        sheets.append((category.name, rows))
    if final is not None:
        subtitle = "综合评选结果"
    else:
        subtitle = "文本评审排名" + ("" if review["final"] else "（暂定，文本评审尚未结束）")
    return data.ResultsBook(comp.short_name, subtitle, sheets)


def _points(tenths: Any) -> float | None:
    return None if tenths is None else float(Fraction(int(tenths), ranking_rules.TENTHS_PER_POINT))


def _title_unit(case: Case) -> tuple[str, str]:
    body = case.body
    return body.get("title", ""), body.get("recommending_unit", "")


def criterion_columns(comp: Competition) -> list[data.CriterionColumn]:
    """One column per criterion id in config order; categories sharing an id (effectiveness) share it."""
    names: dict[str, list[str]] = {}
    maxima: dict[str, set[int]] = {}
    for category in comp.categories:
        for criterion in category.criteria:
            if criterion.name not in names.setdefault(criterion.id, []):
                names[criterion.id].append(criterion.name)
            maxima.setdefault(criterion.id, set()).add(criterion.max)
    return [data.CriterionColumn((cid,), f"{'/'.join(names[cid])}（满分{'/'.join(map(str, sorted(maxima[cid])))}）")
            for cid in names]


def scores_book(judging: JudgingRepository, comp: Competition, repository: CaseRepository, *,
                result_repo: ResultRepository) -> data.ScoresBook:
    judges = {j.judge_id: j.name for j in judging.list_judges(comp.id)}
    cases = {c.id: _title_unit(c) for c in iter_cases(repository, comp.id)}     # only what the rows show, not the texts
    category_names = {c.id: c.name for c in comp.categories}
    stages, summary = [], []
    for stage in results.RANKED_STAGES:
        rows = []
        for category in comp.categories:
            for slot in sorted(judging.slots_of_category(comp.id, stage, category.id),
                               key=lambda s: (s.case_id, s.judge_id)):
                title, unit = cases.get(slot.case_id, (slot.title or "", ""))
                criteria = dict(slot.criteria or {})
                counted = bool(slot.scored and not slot.recused and slot.criteria is not None)
                state = "回避" if slot.recused else ("已评" if slot.scored else "未评")
                rows.append(data.ScoreRow(
                    category.name, slot.case_id, title, unit,
                    slot.judge_id, judges.get(slot.judge_id, ""), {k: _points(v) for k, v in criteria.items()},
                    _points(slot.total) if slot.total is not None else
                    (_points(sum(int(v) for v in criteria.values())) if criteria else None),
                    state, "是" if counted else "否", slot.comment or ""))
        stages.append((STAGE_NAMES[stage], rows))
        ranking = results.ranking(judging, comp, stage, results=result_repo)
        for category in comp.categories:
            for e in ranking["categories"].get(category.id, []):
                if stage == StageId.FINAL:
                    outcome = certificates.prize_names(comp).get(e.get("prize") or "", "") or "未获奖"
                else:
                    outcome = {True: "入围", False: "未入围"}.get(e.get("advanced"), "")
                summary.append(data.SummaryRow(
                    STAGE_NAMES[stage], category_names[category.id], e["rank"], e["case_id"], e["title"],
                    e["scores_count"], e["score"], e.get("plain_mean"), e.get("tie_break_mean"),
                    "是" if e.get("tie") else "", outcome + ("" if ranking["final"] else "（暂定）")))
    return data.ScoresBook(comp.short_name, criterion_columns(comp), stages, summary, rules_of(comp))


def rules_of(comp: Competition) -> list[tuple[str, str]]:
    """The 说明 sheet: how the scores become the ranking, from the competition's own settings."""
    rows = [("数据", "“文本评审”“综合评选”两张表列出每位评委对每个案例的每项指标得分（分，保留一位小数）、合计、"
                     "评语。状态为“已评”且未回避的评分计入排名（“计入排名”为“是”）。")]
    for stage in results.RANKED_STAGES:
        settings = ranking_rules.from_config(comp.raw, stage)
        if settings.method is ranking_rules.Method.TRIMMED_MEAN:
            method = (f"案例的有效评分不少于 {settings.trim_min_scores} 个时，去掉一个最高分和一个最低分，"
                      f"取其余评分的算术平均；少于 {settings.trim_min_scores} 个时取全部评分的算术平均。")
        elif settings.method is ranking_rules.Method.MEAN:
            method = "取全部有效评分的算术平均。"
        else:
            method = ("每位评委的评分先按该评委在本类别全部案例上的平均分和标准差标准化（z 分数），"
                      "再取案例各评委 z 分数的平均。")
        outcome = (f"每个类别得分前 {settings.advance_quota} 名入围综合评选；与第 {settings.advance_quota} 名"
                   f"并列的案例一并入围。" if settings.advance_quota else "")
        bands = "；".join(f"第 {b.first_rank}–{b.last_rank} 名：{certificates.prize_names(comp).get(b.prize, b.prize)}"
                         for b in settings.prize_bands)
        rows.append((f"{STAGE_NAMES[stage]}：聚合", "一位评委对一个案例的评分 = 各项指标得分之和。案例得分：" + method))
        if outcome:
            rows.append((f"{STAGE_NAMES[stage]}：入围", outcome))
        if bands:
            rows.append((f"{STAGE_NAMES[stage]}：奖项", bands + "（每个类别分别评定）。"))
    tie = ranking_rules.from_config(comp.raw, StageId.FINAL).tie_break_criterion
    tie = "/".join(dict.fromkeys(k.name for c in comp.categories for k in c.criteria if k.id == tie)) or tie
    rows += [
        ("排序与并列", f"按案例得分从高到低排序。得分相同时，依次比较：全部评分的算术平均（高者在前）；"
                       f"指标“{tie}”的平均分（高者在前）。仍相同则名次并列，"
                       f"下一名次顺延（如 7、7、9），不以编号或时间区分。"),
        ("精度", "计算使用精确分数运算，不做中间舍入；表中得分四舍五入保留两位小数显示。"),
        ("复核方法", "在“文本评审”或“综合评选”表中筛选同一案例且“计入排名”为“是”的行，按上述规则由“合计”列"
                     "计算案例得分，与“排名汇总”表对照。"),
    ]
    return rows


def registrations_book(comp: Competition, units: AccountRepository, cases: CaseRepository) -> data.RegistrationsBook:
    """Accounts in registration order, each followed (in the 案例 sheet) by its cases in creation order.
    Cases are read page by page and reduced to their row at once (10,000 bodies are never held)."""
    accounts = sorted(units.list_units(), key=lambda a: (a.created_at, a.username))
    order = {a.id: i for i, a in enumerate(accounts)}
    by_id = {a.id: a for a in accounts}
    category_names = {c.id: c.name for c in comp.categories}
    prize_names = certificates.prize_names(comp)
    counts: dict[str, list[int]] = {a.id: [0, 0] for a in accounts}
    keyed: list[tuple[tuple, data.CaseRow]] = []
    for c in iter_cases(cases, comp.id):
        account = by_id.get(c.owner_id)
        if account is None:
            continue
        counts[c.owner_id][0] += 1
        counts[c.owner_id][1] += c.status in ENTERED
        body = c.body
        leader, contact = body.get("leader") or {}, body.get("contact") or {}
        keyed.append(((order[c.owner_id], float(c.created_at), c.id), data.CaseRow(
            account.unit_name or "", account.username, c.id, body.get("title", ""),
            category_names.get(body.get("category", ""), ""), body.get("recommending_unit", ""),
            STATUS_NAMES.get(c.status, c.status), prize_names.get(c.prize or "", ""), _time(c.submitted_at),
            leader.get("name", ""), leader.get("mobile", ""), contact.get("name", ""), contact.get("mobile", ""),
            int(c.char_count or 0))))
    account_rows = [data.AccountRow(
        a.username, a.unit_name or "", UNIT_SYSTEMS.get(a.unit_system or "", a.unit_system or ""), a.district or "",
        a.contact_name or "", a.email or "", a.mobile or "", _time(a.created_at), *counts[a.id]) for a in accounts]
    keyed.sort(key=lambda pair: pair[0])
    return data.RegistrationsBook(comp.short_name, account_rows, [row for _, row in keyed])


def _time(epoch: Any) -> str:
    return when(float(epoch)) if epoch else ""


def certificate_book(comp: Competition, ports: RunPorts) -> data.CertificateBook:
    final_closed, closed_at = _final_closed(comp, stages=ports.stages)
    if not final_closed:
        raise Conflict("综合评选结束并评出奖项后才能生成荣誉证书")
    final = results.ranking(ports.judging, comp, StageId.FINAL, results=ports.results)
    ranks = {e["case_id"]: int(e["rank"]) for entries in final["categories"].values() for e in entries}
    awarded = certificates.awards(comp, ports.signing_key, ports.cases.list_for_competition(comp.id), ranks=ranks)
    if not awarded:
        raise Conflict("综合评选结束并评出奖项后才能生成荣誉证书")
    certificates.record(comp, awarded, ports.now(), ports.certificates)
    return certificates.book(comp, awarded, closed_at, ports.now(), ports.site_url)


def award_list_of(comp: Competition, ports: RunPorts) -> data.AwardList:
    final_closed, closed_at = _final_closed(comp, stages=ports.stages)
    if not final_closed:
        raise Conflict("综合评选结束后才能生成获奖名单")
    final = results.ranking(ports.judging, comp, StageId.FINAL, results=ports.results)
    prize_order = [p["id"] for p in comp.raw.get("prizes", [])]
    prize_names = certificates.prize_names(comp)
    groups = []
    for category in comp.categories:
        entries = final["categories"].get(category.id, [])
        prizes = []
        for prize in prize_order:
            won = [data.AwardEntry(e["rank"], e["title"], e["unit"]) for e in entries if e.get("prize") == prize]
            if won:
                prizes.append((prize_names[prize], won))
        if prizes:
            groups.append((category.name, prizes))
    day = certificates.award_date(comp, closed_at, ports.now())
    return data.AwardList(comp.name, tuple(comp.hosts), certificates.chinese_date(day), groups,
                          chosen_units(ports.award_lists.read(comp.id)))


def chosen_units(saved: dict[str, Any] | None) -> list[str] | None:
    """The units of the organisers' saved 优秀组织奖 list (console.save_organisation_awards), None if not saved."""
    if not saved or not isinstance(saved.get("units"), list):
        return None
    return [str(u) for u in saved["units"]]




def honors_book(judging: JudgingRepository, comp: Competition, cases: CaseRepository, *, stages: StageRepository,
                result_repo: ResultRepository) -> data.HonorsBook:
    """每项荣誉的提名人选: the nominees of every honor, and per honor every case considered with the reason
    (nominees first, then category order and rank)."""
    found = results.honors(comp, cases=cases, stages=stages, results=result_repo)   # Conflict until the final closed
    final = results.ranking(judging, comp, StageId.FINAL, results=result_repo)
    entries = {e["case_id"]: (category, e) for category, group in final["categories"].items() for e in group}
    leaders = {c.id: c.body.get("leader") or {} for c in iter_cases(cases, comp.id) if c.id in entries}
    category_names = {c.id: c.name for c in comp.categories}
    category_order = {c: i for i, c in enumerate(comp.category_ids)}
    rules = [(r["id"], r["name"]) for r in comp.raw.get("honors", {}).get("rules", [])]
    honor_order = {honor: i for i, (honor, _) in enumerate(rules)}
    nominated = {(n["honor"], n["case_id"]) for n in found["nominations"]}

    def order(honor: str, case_id: str) -> tuple[int, int, int, int]:
        category, e = entries.get(case_id, ("", {}))
        return (honor_order.get(honor, 99), (honor, case_id) not in nominated, category_order.get(category, 99),
                e.get("rank") or 10**6)

    nominations = []
    for n in sorted(found["nominations"], key=lambda n: order(n["honor"], n["case_id"])):
        category, e = entries.get(n["case_id"], ("", {}))
        nominations.append(data.NominationRow(
            dict(rules).get(n["honor"], ""), n["leader_name"], e.get("title", ""), category_names.get(category, ""),
            n["rank"], e.get("unit", ""), leaders.get(n["case_id"], {}).get("mobile", "")))
    sheets = []
    for honor, name in rules:
        rows = []
        for c in sorted((c for c in found["considered"] if c["honor"] == honor),
                        key=lambda c: order(honor, c["case_id"])):
            category, e = entries.get(c["case_id"], ("", {}))
            leader = leaders.get(c["case_id"], {})
            rows.append(data.HonorRow(
                YES_NO[(honor, c["case_id"]) in nominated], category_names.get(category, ""), e.get("rank"),
                e.get("title", ""), e.get("unit", ""), leader.get("name", ""), leader.get("position", ""),
                GENDERS.get(leader.get("gender") or "", ""), RANK_LEVELS.get(leader.get("rank_level") or "", ""),
                day(leader.get("birth_date")), leader.get("mobile", ""), YES_NO[bool(c["eligible"])],
                c["reason"]))
        sheets.append((name, rows))
    return data.HonorsBook(comp.short_name, nominations, sheets)


def organisation_awards_book(comp: Competition, ports: RunPorts) -> data.OrganisationAwardsBook:
    """优秀组织奖: every recommending unit's figures (best first; equal merit shares a rank), the system's
    suggestion and the organisers' saved final list."""
    found = results.organisation_awards(comp, ports.cases)
    saved = ports.award_lists.read(comp.id)
    chosen = chosen_units(saved)
    suggested = set(found["suggested"])
    merit = [(-u["score"], -u["prizes"]["first"], -u["prizes"]["second"], -u["prizes"]["third"])
             for u in found["units"]]
    rows = [data.OrganisationRow(
        1 + sum(other < mine for other in merit), u["unit"], u["cases"], u["submitted"], u["advanced"],
        u["prizes"]["first"], u["prizes"]["second"], u["prizes"]["third"], u["score"],
        "是" if u["unit"] in suggested else "", "" if chosen is None else YES_NO[u["unit"] in chosen])
        for u, mine in zip(found["units"], merit)]
    w = found["weights"]
    final_closed, _ = _final_closed(comp, stages=ports.stages)
    rules = [
        ("统计对象", "按案例的推荐单位统计（名称去掉首尾空格后相同即为同一单位）。案例数含草稿和已撤回的案例；"
                     "提交案例数不含草稿和已撤回的案例；进入综合评选数为入围综合评选的案例数。"),
        ("得分", f"得分 = 提交案例数 × {w['submitted']} + 进入综合评选数 × {w['advanced']} + 一等奖 × {w['first']}"
                 f" + 二等奖 × {w['second']} + 三等奖 × {w['third']}。"),
        ("排序", "按得分从高到低；得分相同时依次比较一等奖、二等奖、三等奖数量，仍相同则名次并列。"),
        ("系统建议", f"得分最高的前 {int(comp.raw.get('organisation_award', {}).get('suggest', 10))} 个单位"
                     "（与最后一名成绩相同的单位一并列入），仅供参考，最终名单由主办单位确定。"),
        ("最终名单", f"主办单位于 {when(saved.get('saved_at'))} 保存，共 {len(chosen)} 个单位（“选定”列为“是”）。"
                     if saved and chosen is not None else "尚未保存：在“优秀组织奖”页面勾选并保存后重新导出。"),
        ("数据时点", "综合评选已结束，奖项为最终结果。" if final_closed
                     else "综合评选尚未结束，奖项数为当前结果（暂定）。"),
    ]
    return data.OrganisationAwardsBook(comp.short_name, rows, chosen, rules)


def presentation_files(comp: Competition, category: str, *, cases: CaseRepository,
                       final: FinalRepository) -> data.PresentationFiles:
    """A category's presentations in the drawn order (services/final_stage.py): `01_<案例名称>.<ext>` each,
    and who has none. Refused until the category is drawn (the order is the draw's)."""
    from . import final_stage, presentations
    found = comp.category(category)
    if found is None:
        raise Invalid("请指定案例类别 category", {"category": "没有这个类别"})
    drawn = final_stage.drawn_finalists(comp, category, cases=cases, final=final)
    if drawn is None:
        raise Conflict(f"{found.name}尚未抽签：展示材料按抽签顺序打包，请先在“抽签”页面抽签")
    entries = []
    for position, case in enumerate(drawn, 1):
        body = case.body
        record = presentations.current(case)
        entries.append(data.PresentationEntry(
            position, body.get("title", ""), body.get("recommending_unit", ""),
            record["key"] if record else None, record["filename"] if record else None,
            int(record["size"]) if record else 0))
    return data.PresentationFiles(comp.short_name, found.name, entries)


def provincial_list(comp: Competition, ports: RunPorts) -> data.ProvincialList:
    """省赛推荐名单: the awarded cases the organisers recommended (推荐参加省赛), by category and final rank, with
    unit, leader, prize and the 推荐理由. Only after the final closed."""
    final_closed, closed_at = _final_closed(comp, stages=ports.stages)
    if not final_closed:
        raise Conflict("综合评选结束后才能生成省赛推荐名单")
    final = results.ranking(ports.judging, comp, StageId.FINAL, results=ports.results)
    prize_names = certificates.prize_names(comp)
    recommended = {c.id: c for c in iter_cases(ports.cases, comp.id) if c.provincial and c.status == "awarded"}
    rows: list[data.ProvincialRow] = []
    for category in comp.categories:
        for e in final["categories"].get(category.id, []):
            case = recommended.get(e["case_id"])
            if case is None:
                continue
            leader = case.body.get("leader") or {}
            rows.append(data.ProvincialRow(
                len(rows) + 1, category.name, e["rank"], prize_names.get(e.get("prize") or "", ""), e["title"],
                e["unit"], leader.get("name", ""), leader.get("position", ""), leader.get("mobile", ""),
                case.provincial_reason or ""))
    day = certificates.award_date(comp, closed_at, ports.now())
    return data.ProvincialList(comp.name, tuple(comp.hosts), certificates.chinese_date(day), rows)
