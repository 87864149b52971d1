"""The stage engine and the results: closing stages (by the organiser or on schedule), rankings,
advancement, prizes, honors and the organisation award.

Closing is idempotent: the stage row is closed once (a condition), each category is ranked once (a
repeated close keeps the stored ranking), case outcomes are conditional on the case's previous status, and
every notification goes through the mail port's once-only key. A doubled or retried run changes
nothing and sends nothing twice.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Callable, Sequence

from ..domain.clock import epoch
from ..domain import fairness as fairness_rules
from ..domain import honors as honor_rules
from ..domain import organisation_award as award_rules
from ..domain import ranking as ranking_rules
from ..domain.cases import ENTERED
from ..domain.competition import Competition, StageId, parse_stage
from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.accounts import EMAIL
from ..mail import outbox
from ..mail.render import render
from ..domain.case_record import Case
from ..domain.result_record import RankedCase, Ranking
from ..domain.stage_record import EarlierStageOpen
from . import stages as stage_service
from .repositories import (
    AccountRepository, CaseRepository, CertificateRepository, JudgingRepository, MailRepository, ResultRepository,
    StageRepository,
)

log = logging.getLogger("saiping")
RANKED_STAGES = (StageId.TEXT_REVIEW, StageId.FINAL)
STAGE_CASES: dict[str, tuple[str, ...]] = {StageId.TEXT_REVIEW: ENTERED,
                                           StageId.FINAL: ("advanced", "awarded", "not_awarded")}
# What the ranking page reads of each case is a projection (ResultRepository.ranked_cases: far fewer bytes than
# the whole items, and on the emulator far less time); closing reads whole cases, as it writes them.


@dataclass(frozen=True)
class Ports:
    """What closing needs besides the tables: where ranking records go, how mail leaves."""
    put_object: Callable[[str, bytes, str], None]
    transport: Any
    sender: str
    site_url: str
    accounts: AccountRepository    # the units' addresses
    signing_key: str = ""          # certificate verification codes (services/certificates.py)


# -- ranking --------------------------------------------------------------------------------
def _cases_of(cases: CaseRepository, comp: Competition, stage: str) -> dict[str, list[Case]]:
    """The stage's cases by category (whole cases: closing writes them)."""
    return _by_category(comp, stage, cases.list_for_competition(comp.id))


def _ranked_of(results: ResultRepository, comp: Competition, stage: str,
               with_body: bool = True) -> dict[str, list[RankedCase]]:
    """The stage's cases by category as the ranking page reads them (a projection; `with_body` False: marks only)."""
    return _by_category(comp, stage, results.ranked_cases(comp.id, with_body))


def _by_category(comp: Competition, stage: str, found: Sequence[Any]) -> dict[str, list[Any]]:
    """The category read from the index key."""
    by_category: dict[str, list[Any]] = {c: [] for c in comp.category_ids}
    for case in found:
        category = case.category_key.partition("#")[0]
        if case.status in STAGE_CASES[stage] and category in by_category:
            by_category[category].append(case)
    return by_category


def _read_scores(judging: JudgingRepository, comp: Competition, stage: str,
                 category: str) -> tuple[dict[str, list[ranking_rules.JudgeScore]], dict[str, int]]:
    """(the category's scores by case, how many of each case's scores are extra judges' near the cut)."""
    scores: dict[str, list[ranking_rules.JudgeScore]] = {}
    extra: dict[str, int] = {}
    for case_id, judge_id, criteria, source in judging.scores_of_category(comp.id, stage, category):
        scores.setdefault(case_id, []).append(
            ranking_rules.JudgeScore(judge_id, case_id, {k: int(v) for k, v in criteria.items()}))
        if source == "extra":
            extra[case_id] = extra.get(case_id, 0) + 1
    return scores, extra


def _scores(judging: JudgingRepository, comp: Competition, stage: str,
            category: str) -> dict[str, list[ranking_rules.JudgeScore]]:
    return _read_scores(judging, comp, stage, category)[0]


def compute(judging: JudgingRepository, comp: Competition, stage: str, category: str,
            cases: Sequence[Case | RankedCase], scores: dict[str, list[ranking_rules.JudgeScore]] | None = None,
            extra: dict[str, int] | None = None) -> tuple[list[dict], dict]:
    """The ranking of one category (entries as the API shows them) and the record that re-derives it."""
    settings = ranking_rules.from_config(comp.raw, stage)
    if scores is None:
        scores, extra = _read_scores(judging, comp, stage, category)
    extra = extra or {}
    ids = [c.id for c in cases]
    ranked = settings.rank(scores, ids)
    titles = {c.id: c.body for c in cases}
    entries = [{
        "case_id": r.case_id, "title": titles[r.case_id].get("title", ""),
        "unit": titles[r.case_id].get("recommending_unit", ""), "rank": r.rank,
        "score": ranking_rules.score_display(r.aggregate), "scores_count": r.scores_count,
        "advanced": True if stage == StageId.FINAL else r.advanced, "prize": r.prize, "tie": r.tie,
        "cut_tie": r.cut_tie,
        "plain_mean": ranking_rules.score_display(r.plain_mean),
        "tie_break_mean": ranking_rules.score_display(r.tie_break_mean),
        "extra_scores": extra.get(r.case_id, 0),
    } for r in ranked]
    return entries, ranking_rules.ranking_record(scores, ids, settings)


def ranking(judging: JudgingRepository, comp: Competition, stage: str, cases: dict[str, list[RankedCase]] | None = None,
            scores: dict[str, dict[str, list[ranking_rules.JudgeScore]]] | None = None,
            extra: dict[str, dict[str, int]] | None = None, *,
            results: ResultRepository) -> dict[str, Any]:
    """Stored rankings of a closed stage; a live (provisional) one while it runs. Each entry carries
    the case's provincial recommendation mark (省赛推荐), which the organiser sets after the final.
    `cases`, `scores` and `extra` (by category), when given, are what ranking_with_fairness read once for
    both. `extra_scores`: how many of a case's scores come from extra judges near the cut (0 in rankings
    stored before extra judges existed)."""
    stage = parse_stage(stage, RANKED_STAGES, "只有文本评审（text_review）和综合评选（final）有排名")
    row, rankings = results.stage_and_rankings(comp.id, stage, comp.category_ids)
    window = stage_service.windows_from_rows(comp, [row] if row is not None else [])[stage]
    if cases is None:   # a closed stage's stored rankings need only the cases' 省赛 marks
        stored_all = window.closed and all(rankings.values())
        cases = _ranked_of(results, comp, stage, with_body=not stored_all)
    provincial = {c.id for group in cases.values() for c in group if c.provincial}
    categories: dict[str, list[dict]] = {}
    for category in comp.category_ids:
        stored = rankings[category] if window.closed else None
        entries = stored.results() if stored is not None else compute(
            judging, comp, stage, category, cases[category], scores.get(category) if scores is not None else None,
            extra.get(category) if extra is not None else None)[0]
        categories[category] = [{"extra_scores": 0, **e, "provincial": e["case_id"] in provincial}
                                for e in entries]
    return {"stage": stage, "final": window.closed, "categories": categories}


def ranking_with_fairness(judging: JudgingRepository, results: ResultRepository, comp: Competition,
                          stage: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ranking page's two reports from one read of the cases and one of each category's scores."""
    stage = parse_stage(stage, RANKED_STAGES, "只有文本评审（text_review）和综合评选（final）有排名")
    cases = _ranked_of(results, comp, stage)
    read = {category: _read_scores(judging, comp, stage, category) for category in comp.category_ids}
    scores = {category: found[0] for category, found in read.items()}
    extra = {category: found[1] for category, found in read.items()}
    return (ranking(judging, comp, stage, cases, scores, extra, results=results),
            _fairness(judging, comp, stage, cases, scores))


def fairness(judging: JudgingRepository, cases: CaseRepository, comp: Competition, stage: str) -> dict[str, Any]:
    """How the outcome would move under mean / trimmed mean / z-score, and each judge's statistics."""
    stage = parse_stage(stage, RANKED_STAGES, "只有文本评审（text_review）和综合评选（final）有公平性报告")
    return _fairness(judging, comp, stage, _cases_of(cases, comp, stage))


def _fairness(judging: JudgingRepository, comp: Competition, stage: str, cases: dict[str, list[Any]],
              by_category: dict[str, dict[str, list[ranking_rules.JudgeScore]]] | None = None) -> dict[str, Any]:
    scores: dict[str, list[ranking_rules.JudgeScore]] = {}
    for category in comp.category_ids:
        scores.update(_scores(judging, comp, stage, category) if by_category is None else by_category[category])
    report = fairness_rules.fairness_report({k: [c.id for c in v] for k, v in cases.items()}, scores,
                                            ranking_rules.from_config(comp.raw, stage),
                                            fairness_rules.band_edges_from_config(comp.raw))
    return {"stage": stage, **report.to_dict()}


MAX_REASON = 500


def recommend_provincial(cases: CaseRepository, stages: StageRepository, results: ResultRepository,
                         comp: Competition, case_id: str, raw: Any, actor: str, now: datetime,
                         reason_required: bool = False) -> dict[str, Any]:
    """Mark (or unmark) an awarded case as recommended to the provincial competition (省赛准备: 主办单位将在优秀
    案例中择优推荐参加省赛), with the recommendation reason (推荐理由) for the 省赛推荐名单. Only after the final
    has closed (its prizes decide which cases are 优秀案例); the store's condition: the case is awarded."""
    raw = raw if isinstance(raw, dict) else {}
    recommended, reason = raw.get("recommended"), raw.get("reason")
    if not isinstance(recommended, bool):
        raise Invalid("请用 recommended: true 或 false 标记是否推荐参加省赛", {"recommended": "应为 true 或 false"})
    if reason is not None and not isinstance(reason, str):
        raise Invalid("推荐理由应为文字", {"reason": "应为文字"})
    reason = (reason or "").strip().replace("\r\n", "\n") or None
    if recommended and reason_required and reason is None:
        raise Invalid("请填写推荐理由（将写入省赛推荐名单）", {"reason": "请填写推荐理由"})
    if reason is not None and len(reason) > MAX_REASON:
        raise Invalid(f"推荐理由不能超过 {MAX_REASON} 字（现 {len(reason)} 字）",
                      {"reason": f"不能超过 {MAX_REASON} 字"})
    case = cases.get(case_id)
    if case is None:
        raise NotFound("没有找到这个案例")
    if not stage_service.windows(comp, stages)[StageId.FINAL].closed:
        raise Conflict("综合评选结束并评出奖项后，才能推荐参加省赛")
    if case.status != "awarded":
        raise Conflict("只能在综合评选获奖案例中推荐参加省赛")
    results.set_provincial(case, recommended, actor, epoch(now), reason)
    return {"case_id": case_id, "provincial": recommended, "recommended": recommended,
            "reason": reason if recommended else None}


# -- closing --------------------------------------------------------------------------------
def close_stage(judging: JudgingRepository, cases: CaseRepository, stages: StageRepository, results: ResultRepository,
                comp: Competition, ports: Ports, stage: str, actor: str, now: datetime) -> dict[str, Any]:
    windows = stage_service.windows(comp, stages)
    stage = parse_stage(stage)
    review = windows[StageId.TEXT_REVIEW]
    if stage == StageId.FINAL and not review.closed and now >= review.closes_at:
        # due anyway: what the schedule does first
        close_stage(judging, cases, stages, results, comp, ports, StageId.TEXT_REVIEW, actor, now)
    try:   # the final ranks the cases the text review advanced: it closes after it, never before
        stages.close(comp.id, stage, actor, epoch(now), after=StageId.TEXT_REVIEW if stage == StageId.FINAL else None)
    except EarlierStageOpen:
        raise Conflict("文本评审尚未截止：综合评选的入围案例在文本评审截止时才确定，请先截止文本评审") from None
    if stage == StageId.TEXT_REVIEW:
        _decide(judging, cases, results, comp, ports, StageId.TEXT_REVIEW, actor, now)
    elif stage == StageId.FINAL:
        _decide(judging, cases, results, comp, ports, StageId.FINAL, actor, now)
    return {"stage": stage, "status": "closed"}


def close_due_stages(judging: JudgingRepository, cases: CaseRepository, stages: StageRepository,
                     results: ResultRepository, comp: Competition, ports: Ports, now: datetime, *,
                     mail: MailRepository) -> list[str]:
    """The scheduled engine: close every ranked stage whose window has passed (idempotent).

    Only stages whose closing has consequences (text_review: advancement; final: prizes) are closed
    for good here; the other windows close by time alone, so an organiser can still extend them.
    A stage whose consequences are all done is marked settled and skipped from then on, so a run with
    nothing to do reads the stage rows only (one Query).
    """
    closed: list[str] = []
    windows = stage_service.windows(comp, stages)
    if all(windows[stage].settled for stage in RANKED_STAGES):
        return closed
    for stage in RANKED_STAGES:
        window = windows[stage]
        if window.settled:
            continue
        if not window.closed and now >= window.closes_at:
            close_stage(judging, cases, stages, results, comp, ports, stage, "system:schedule", now)
            closed.append(stage)
        elif window.closed and not decided(results, comp, stage):
            # a close cut short after the stage row closed (an AWS fault, a timeout): finish deciding it
            _decide(judging, cases, results, comp, ports, stage, "system:schedule", now)
    if not windows[StageId.TEXT_REVIEW].settled:
        notify_results(cases, results, comp, ports, now, mail=mail)
    _settle(stages, results, comp)
    return closed


def _settle(stages: StageRepository, results: ResultRepository, comp: Competition) -> None:
    """Mark the ranked stages whose close is fully done: closed for good, every category decided (its
    ranking row written last), and for the text review every ranking's result mail through."""
    windows = stage_service.windows(comp, stages)          # again: this run may have closed a stage
    for stage in RANKED_STAGES:
        if windows[stage].settled or not windows[stage].closed:
            continue
        rankings = [results.get_ranking(comp.id, stage, category) for category in comp.category_ids]
        if all(r is not None and (r.notified or stage != StageId.TEXT_REVIEW) for r in rankings):
            stages.settle(comp.id, stage)


def decided(results: ResultRepository, comp: Competition, stage: str) -> bool:
    """Every category's ranking row is there. `_decide` writes it after the category's outcomes, so a close
    interrupted before it finished shows as a missing row."""
    return all(results.get_ranking(comp.id, stage, category) is not None for category in comp.category_ids)


def _decide(judging: JudgingRepository, cases_repo: CaseRepository, results: ResultRepository, comp: Competition,
            ports: Ports, stage: str, actor: str, now: datetime) -> None:
    """Rank each category and move its cases to their outcomes, once. A category whose ranking row is
    there was decided by an earlier close and is left alone: closing again (the endpoint is idempotent)
    neither re-ranks it from cases changed since (a coaching revision's title, cases that advanced only
    after the final closed) nor moves them."""
    by_category = _cases_of(cases_repo, comp, stage)
    ts = epoch(now)
    for category, cases in by_category.items():
        if results.get_ranking(comp.id, stage, category) is not None:
            continue
        entries, record = compute(judging, comp, stage, category, cases)
        key = f"rankings/{comp.id}/{stage}/{category}-{record['digest'][:16]}.json"
        ports.put_object(key, json.dumps(record, ensure_ascii=False).encode(), "application/json")
        by_id = {c.id: c for c in cases}
        if stage == StageId.TEXT_REVIEW:
            changes = [(by_id[e["case_id"]], "advanced" if e["advanced"] else "not_advanced", None)
                       for e in entries]
            results.apply_outcomes(changes, ("submitted",), actor, ts)
        else:
            changes = [(by_id[e["case_id"]], "awarded" if e["prize"] else "not_awarded", e["prize"])
                       for e in entries]
            results.apply_outcomes(changes, ("advanced",), actor, ts)
        # last: the ranking row says this category is decided (see `decided`) and lets its mail go out
        results.save_ranking(Ranking(comp.id, stage, category, method=record["method"], digest=record["digest"],
                                     record_key=key, entries=tuple(entries), computed_at=ts))


def notify_results(cases: CaseRepository, results: ResultRepository, comp: Competition, ports: Ports, now: datetime,
                   budget_seconds: float = 240.0, *, mail: MailRepository) -> int:
    """Mail each unit whether its case advanced, for text-review rankings not yet fully notified.

    Runs from the 5-minute schedule, not inside the close request: a competition's hundreds of mails
    at the configured send rate would outlast an HTTP request. Each mail is once-only (the mail port's
    key), so a run cut short by its time budget is simply continued by the next one; a ranking is
    marked notified when all its mail is through.
    """
    started, sent = time.monotonic(), 0
    pending = [r for r in (results.get_ranking(comp.id, StageId.TEXT_REVIEW, c) for c in comp.category_ids)
               if r is not None and not r.notified]
    if not pending:
        return 0
    owners = {c.id: c.owner_id for c in cases.list_for_competition(comp.id)}
    emails = {a.id: a.email for a in ports.accounts.list_units()}
    for ranking in pending:
        failed = 0
        for entry in ranking.results():
            if time.monotonic() - started > budget_seconds:
                return sent
            kind = "advance" if entry["advanced"] else "not_advance"
            outcome = _send(ports, comp, kind, entry["case_id"], emails.get(owners.get(entry["case_id"], "")), {
                "competition": comp.short_name, "title": entry["title"], "unit": entry["unit"],
                "site_url": ports.site_url, "hosts": "、".join(comp.hosts)}, now, mail)
            sent += outcome.sent
            failed += outcome.reason == "failed"
        if not failed:   # a failed mail is tried by the next run again (outbox.MAX_ATTEMPTS calls in all)
            results.mark_notified(ranking)
    return sent


def _send(ports: Ports, comp: Competition, kind: str, object_key: str, recipient: str | None,
          context: dict[str, Any], now: datetime, mail: MailRepository) -> outbox.Outcome:
    if not recipient:
        return outbox.Outcome(False, "no_recipient")
    try:
        return outbox.send_once(ports.transport, ports.sender, comp.id, kind, object_key, recipient, context, now,
                                mail)
    except Exception:
        log.exception("%s mail failed", kind)
        return outbox.Outcome(False, "failed")


def send_award_mail(cases: CaseRepository, comp: Competition, ports: Ports, now: datetime, *,
                    codes: CertificateRepository, mail: MailRepository) -> dict[str, int]:
    """One mail per awarded case to the unit account that submitted it; repeated calls skip."""
    from . import certificates
    emails = {a.id: a.email for a in ports.accounts.list_units()}
    sent = skipped = 0
    awarded = [c for c in cases.list_for_competition(comp.id) if c.status == "awarded"]
    issued = {a.case_id: a for a in certificates.awards(comp, ports.signing_key, awarded)}
    certificates.record(comp, issued.values(), now, codes)   # the mail's /verify/<code> link must confirm at once
    for case in awarded:
        outcome = _send(ports, comp, "award", case.id, emails.get(case.owner_id),
                        _award_context(comp, ports, issued.get(case.id)), now, mail)
        sent, skipped = (sent + 1, skipped) if outcome.sent else (sent, skipped + 1)
    return {"sent": sent, "skipped": skipped}


def _award_context(comp: Competition, ports: Ports, award: Any) -> dict[str, Any]:
    from . import certificates
    return {"competition": comp.short_name, "title": award.title if award else "",
            "unit": award.unit if award else "", "prize": award.prize_name if award else "",
            "verify_url": f"{ports.site_url}/verify/{award.code}" if award else "",
            "code": certificates.display(award.code) if award else "",
            "site_url": ports.site_url, "hosts": "、".join(comp.hosts)}


def award_mail_preview(cases: CaseRepository, comp: Competition, ports: Ports, *,
                       mail: MailRepository) -> dict[str, Any]:
    """What 发送获奖通知 would do now, sending and writing nothing: the awarded cases, how many mails would go,
    how many would be skipped (mailed already, or the unit has no valid address), and the first mail that
    would go (else the first awarded case's), rendered as its unit gets it."""
    from . import certificates
    emails = {a.id: a.email for a in ports.accounts.list_units()}
    awarded = [c for c in cases.list_for_competition(comp.id) if c.status == "awarded"]
    ordered = certificates.awards(comp, ports.signing_key, awarded)     # category, then prize order
    recipients = {c.id: emails.get(c.owner_id) or "" for c in awarded}
    reachable = [c.id for c in awarded if EMAIL.match(recipients[c.id])]
    mailed = {case_id for case_id, _ in outbox.would_skip(comp.id, "award", [(c, recipients[c]) for c in reachable],
                                                          mail)}
    going = [a for a in ordered if a.case_id in reachable and a.case_id not in mailed]
    shown = going[0] if going else (ordered[0] if ordered else None)
    preview = None
    if shown is not None:
        subject, text, _ = render("award", _award_context(comp, ports, shown))
        preview = {"case_id": shown.case_id, "title": shown.title, "recipient": recipients[shown.case_id],
                   "subject": subject, "text": text, "already_sent": shown.case_id in mailed}
    to_send = len(set(reachable) - mailed)
    return {"awarded": len(awarded), "to_send": to_send, "already_sent": len(mailed),
            "no_address": len(awarded) - len(reachable), "preview": preview}


# -- honors and organisation award ----------------------------------------------------------
def honors(comp: Competition, *, cases: CaseRepository, stages: StageRepository,
           results: ResultRepository) -> dict[str, Any]:
    """The honor nominations of the final's leaders."""
    window = stage_service.windows(comp, stages)[StageId.FINAL]
    if not window.closed:
        raise Conflict("综合评选结束（关闭）后才能生成荣誉提名")
    candidates = []
    finalists = _cases_of(cases, comp, StageId.FINAL)   # one Query for every category's leaders
    bodies = {c.id: c.body for group in finalists.values() for c in group}
    for category in comp.category_ids:
        stored = results.get_ranking(comp.id, StageId.FINAL, category)
        for entry in stored.results() if stored else []:
            case_id = entry["case_id"]
            if case_id not in bodies:
                continue
            leader = bodies[case_id].get("leader", {})
            candidates.append(honor_rules.HonorCandidate(
                case_id, category, int(entry["rank"]), leader.get("name", ""), leader.get("mobile", ""),
                leader.get("gender") or None, leader.get("rank_level") or None, _date(leader.get("birth_date"))))
    result = honor_rules.solve_honors(candidates, honor_rules.settings_from_config(comp.raw))
    return {"nominations": [{"honor": n.honor, "case_id": n.case_id, "leader_name": n.leader_name,
                             "category": n.category, "rank": n.rank} for n in result.nominations],
            "considered": [{"case_id": c.case_id, "honor": c.honor, "eligible": c.eligible, "reason": c.reason,
                            "reason_code": str(c.reason_code)} for c in result.considered]}


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def organisation_awards(comp: Competition, cases: CaseRepository) -> dict[str, Any]:
    """Per recommending unit, best first, with the weights used and a suggested shortlist."""
    weights = award_rules.AwardWeights.from_config(comp.raw)
    units = award_rules.tally_units(
        (award_rules.UnitCase(c.body.get("recommending_unit", "").strip() or "（未填写推荐单位）",
                              c.status, c.prize) for c in cases.list_for_competition(comp.id)),
        weights)
    top_n = int(comp.raw.get("organisation_award", {}).get("suggest", 10))
    return {"units": [u.to_dict() for u in units], "weights": asdict(weights),
            "suggested": [u.unit for u in award_rules.suggest(units, top_n)]}
