"""The JSON API v1 (docs/openapi.yaml): public, accounts and sessions, cases, attachments, stage windows."""
from __future__ import annotations

from typing import TYPE_CHECKING
from datetime import datetime, timezone
from functools import partial

from chalice import Blueprint

from ..domain.errors import Invalid, NotFound
from ..lazy import lazy
from .http import client_of, endpoint, int_param, judge, principal, read_json

if TYPE_CHECKING:
    from .. import bootstrap
    from ..domain import competition as competition_rules
    from ..services import (
        accounts, attachments, cases, competitions, extra_judges, feeder, judging, results, review, scoring, stages,
    )
    from ..jobs import mail_queue
else:
    (
        bootstrap, competition_rules, accounts, attachments, cases, competitions, extra_judges, feeder, judging,
        mail_queue, results, review, scoring, stages
    ) = lazy(
        __name__, "..bootstrap", "..domain.competition", "..services.accounts", "..services.attachments",
        "..services.cases", "..services.competitions", "..services.extra_judges", "..services.feeder",
        "..services.judging", "..jobs.mail_queue", "..services.results", "..services.review", "..services.scoring",
        "..services.stages",
    )

api = Blueprint(__name__)
ORGANISER = ("organiser",)
UNIT = ("unit",)


def _request():
    return api.current_request


@api.route("/health", methods=["GET"])
@endpoint
def health():
    return 200, {"ok": True}


@api.route("/competition", methods=["GET"])
@endpoint
def competition():
    comp = bootstrap.competition()
    return 200, competitions.shape(comp, stages.windows(comp, bootstrap.deps().stages), bootstrap.now())


@api.route("/accounts", methods=["POST"])
@endpoint
def register():
    cfg = bootstrap.config()
    account = accounts.register(bootstrap.deps().accounts, read_json(_request()), cfg, bootstrap.now(),
                                mailing=bootstrap.mailing())
    return 201, {"id": account.id, "username": account.username, "unit_name": account.unit_name, "role": "unit"}


@api.route("/sessions", methods=["POST"])
@endpoint
def login():
    raw = read_json(_request())
    raw = raw if isinstance(raw, dict) else {}
    session = accounts.login(bootstrap.deps().accounts,
                             raw.get("username"), raw.get("password"), bootstrap.config(), bootstrap.now(),
                             client_of(_request()), totp=raw.get("totp"))
    return 200, {"token": session.token, "role": session.principal.role,
                 "account_id": session.principal.account_id, "csrf_token": session.csrf}


@api.route("/sessions/current", methods=["DELETE"])
@endpoint
def logout():
    accounts.logout(bootstrap.deps().accounts, principal(_request()), bootstrap.now())
    return 204, None


@api.route("/cases", methods=["POST"])
@endpoint
def create_case():
    who = principal(_request(), UNIT)
    case = cases.create(bootstrap.deps().cases, bootstrap.competition(), who, read_json(_request()), bootstrap.now(),
                        stages=bootstrap.deps().stages)
    return 201, cases.case_view(case)


def _competition_param(competition_id: str | None) -> competition_rules.Competition:
    """?competition=<id>: that competition (an earlier one's cases); absent: the current one."""
    if competition_id is None:
        return bootstrap.competition()
    if not 0 < len(competition_id) <= 64:
        raise Invalid("没有这个竞赛届次", {"competition": "没有这个竞赛届次"})
    try:
        return bootstrap.competition_by_id(competition_id)
    except NotFound:
        raise Invalid("没有这个竞赛届次", {"competition": "没有这个竞赛届次"}) from None


@api.route("/cases", methods=["GET"])
@endpoint
def list_cases():
    who = principal(_request(), ("unit", "organiser"))
    params = _request().query_params or {}
    found = cases.list_cases(bootstrap.deps().cases, _competition_param(params.get("competition")), who,
                             params.get("category"))
    return 200, {"cases": [cases.case_view(c) for c in found]}


@api.route("/cases/{case_id}", methods=["GET"])
@endpoint
def get_case(case_id):
    who = principal(_request(), ("unit", "organiser"))
    return 200, cases.case_view(cases.get(bootstrap.deps().cases, who, case_id))


@api.route("/cases/{case_id}", methods=["PUT"])
@endpoint
def update_case(case_id):
    who = principal(_request(), UNIT)
    case = cases.update(bootstrap.deps().cases, bootstrap.competition(), who, case_id, read_json(_request()),
                        bootstrap.now(), competition_of=bootstrap.competition_by_id)
    return 200, cases.case_view(case)


@api.route("/cases/{case_id}/versions/{version}", methods=["GET"])
@endpoint
def get_case_version(case_id, version):
    who = principal(_request(), ("unit", "organiser"))
    return 200, cases.version_view(bootstrap.deps().cases, who, case_id, int_param(version, "version"))


@api.route("/cases/{case_id}/submit", methods=["POST"])
@endpoint
def submit_case(case_id):
    who = principal(_request(), UNIT)
    return 200, cases.case_view(cases.submit(bootstrap.deps().cases, bootstrap.competition(), who, case_id,
                                             bootstrap.now(), mailing=bootstrap.mailing(),
                                             competition_of=bootstrap.competition_by_id))


@api.route("/cases/{case_id}/withdraw", methods=["POST"])
@endpoint
def withdraw_case(case_id):
    who = principal(_request(), UNIT)
    return 200, cases.case_view(cases.withdraw(bootstrap.deps().cases, bootstrap.competition(), who, case_id,
                                               bootstrap.now(), competition_of=bootstrap.competition_by_id))


@api.route("/cases/{case_id}/attachments", methods=["POST"])
@endpoint
def start_upload(case_id):
    cfg = bootstrap.config()
    who = principal(_request(), UNIT)
    answer = attachments.start_upload(bootstrap.deps().cases, bootstrap.competition(), cfg, bootstrap.files(), who,
                                      case_id, read_json(_request()), bootstrap.now(),
                                      competition_of=bootstrap.competition_by_id)
    return 201, answer


@api.route("/cases/{case_id}/attachments/{attachment_id}/confirm", methods=["POST"])
@endpoint
def confirm_upload(case_id, attachment_id):
    who = principal(_request(), UNIT)
    return 200, attachments.confirm(bootstrap.deps().cases, bootstrap.competition(), bootstrap.files(), who, case_id,
                                    attachment_id, bootstrap.now(), competition_of=bootstrap.competition_by_id)


@api.route("/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@endpoint
def download(case_id, attachment_id):
    cfg = bootstrap.config()
    who = principal(_request(), ("unit", "organiser"))
    return 200, {"url": attachments.download_url(bootstrap.deps().cases, cfg, bootstrap.files(), who, case_id,
                                                 attachment_id)}


@api.route("/cases/{case_id}/attachments/{attachment_id}", methods=["DELETE"])
@endpoint
def delete_attachment(case_id, attachment_id):
    who = principal(_request(), UNIT)
    attachments.delete(bootstrap.deps().cases, bootstrap.competition(), bootstrap.files(), who, case_id, attachment_id,
                       bootstrap.now(), competition_of=bootstrap.competition_by_id)
    return 204, None


@api.route("/admin/stages/{stage_id}", methods=["PUT"])
@endpoint
def move_stage(stage_id):
    who = principal(_request(), ORGANISER)
    now = bootstrap.now()
    moved = stages.move_window(bootstrap.deps().stages, bootstrap.competition(), stage_id, read_json(_request()),
                               who.actor, now)
    return 200, stages.stage_view(moved, now)


@api.route("/admin/cases/{case_id}/review", methods=["POST"])
@endpoint
def review_case(case_id):
    who = principal(_request(), ORGANISER)
    case = review.review(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(), who, case_id,
                         read_json(_request()), bootstrap.now(), mailing=bootstrap.mailing())
    return 200, cases.case_view(case)


# -- organiser: judges, assignments, links ---------------------------------------------------
@api.route("/admin/judges", methods=["POST"])
@endpoint
def create_judge():
    who = principal(_request(), ORGANISER)
    judge = judging.create_judge(bootstrap.deps().judging, bootstrap.competition(), read_json(_request()), who.actor,
                                 bootstrap.now())
    return 201, judging.judge_view(judge)


@api.route("/admin/judges", methods=["GET"])
@endpoint
def list_judges():
    principal(_request(), ORGANISER)
    return 200, {"judges": [judging.judge_view(j) for j in judging.list_judges(bootstrap.deps().judging,
                                                                               bootstrap.competition())]}


@api.route("/admin/judges/{judge_id}", methods=["PUT"])
@endpoint
def update_judge(judge_id):
    who = principal(_request(), ORGANISER)
    judge = judging.update_judge(bootstrap.deps().judging, bootstrap.competition(), judge_id, read_json(_request()),
                                 who.actor, bootstrap.now())
    return 200, judging.judge_view(judge)


@api.route("/admin/stages/{stage_id}/assignments", methods=["POST"])
@endpoint
def plan_assignments(stage_id):
    who = principal(_request(), ORGANISER)
    raw = read_json(_request(), required=False)
    return 200, judging.plan_assignments(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(),
                                         stage_id, raw, who.actor, bootstrap.now(), stages=bootstrap.deps().stages)


@api.route("/admin/stages/{stage_id}/assignments/extra", methods=["POST"])
@endpoint
def add_extra_judges(stage_id):
    """加评: more judges on the cases ranked around the advance line (text review, while it is open)."""
    who = principal(_request(), ORGANISER)
    raw = read_json(_request(), required=False)
    return 200, extra_judges.add_extra_judges(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(),
                                              raw, who.actor, bootstrap.now(), stage_id, stages=bootstrap.deps().stages,
                                              result_repo=bootstrap.deps().results)


@api.route("/admin/stages/{stage_id}/assignments", methods=["GET"])
@endpoint
def list_assignments(stage_id):
    principal(_request(), ORGANISER)
    return 200, judging.list_assignments(bootstrap.deps().judging, bootstrap.competition(), stage_id)


@api.route("/admin/stages/{stage_id}/assignments/{judge_id}/{case_id}", methods=["PUT"])
@endpoint
def add_assignment(stage_id, judge_id, case_id):
    who = principal(_request(), ORGANISER)
    judging.add_assignment(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(), stage_id,
                           judge_id, case_id, who.actor, bootstrap.now())
    return 200, {"stage": stage_id, "judge_id": judge_id, "case_id": case_id}


@api.route("/admin/stages/{stage_id}/assignments/{judge_id}/{case_id}", methods=["DELETE"])
@endpoint
def remove_assignment(stage_id, judge_id, case_id):
    who = principal(_request(), ORGANISER)
    judging.remove_assignment(bootstrap.deps().judging, bootstrap.competition(), stage_id, judge_id, case_id, who.actor,
                              bootstrap.now())
    return 204, None


@api.route("/admin/stages/{stage_id}/links", methods=["POST"])
@endpoint
def issue_links(stage_id):
    who = principal(_request(), ORGANISER)
    links = judging.issue_links(bootstrap.deps().judging, bootstrap.competition(), bootstrap.config(), stage_id,
                                who.actor, bootstrap.now(), stages=bootstrap.deps().stages)
    mail_queue.start()
    return 200, {"links": [{"judge_id": link.judge_id, "url": link.url, "expires_at": link.expires_at,
                            "mail": link.mail} for link in links]}


@api.route("/admin/judges/{judge_id}/links/{stage_id}", methods=["POST"])
@endpoint
def reissue_link(judge_id, stage_id):
    who = principal(_request(), ORGANISER)
    link = judging.reissue_link(bootstrap.deps().judging, bootstrap.competition(), bootstrap.config(), judge_id,
                                stage_id, who.actor, bootstrap.now(), stages=bootstrap.deps().stages)
    mail_queue.start()
    return 200, {"judge_id": link.judge_id, "url": link.url, "expires_at": link.expires_at, "mail": link.mail}


@api.route("/admin/judges/{judge_id}/links/{stage_id}", methods=["DELETE"])
@endpoint
def revoke_link(judge_id, stage_id):
    who = principal(_request(), ORGANISER)
    judging.revoke_link(bootstrap.deps().judging, bootstrap.competition(), judge_id, stage_id, who.actor,
                        bootstrap.now())
    return 204, None


# -- judges (signed scoring links) -----------------------------------------------------------
@api.route("/judge/sessions", methods=["POST"])
@endpoint
def open_judge_session():
    raw = read_json(_request())
    link = raw.get("link") if isinstance(raw, dict) else None
    session = judging.open_judge_session(bootstrap.deps().judging, bootstrap.competition_by_id, bootstrap.config(),
                                         link, bootstrap.now(), stages=bootstrap.deps().stages)
    return 200, {"token": session.token, "judge_id": session.judge_id, "stage": session.stage,
                 "expires_at": competition_rules.format_time(
                         datetime.fromtimestamp(session.expires_at, tz=timezone.utc)),
                 "csrf_token": session.csrf}


def _of(who: scoring.JudgePrincipal) -> competition_rules.Competition:
    """The judge's own competition (the one whose link opened the session), from the per-process cache."""
    return bootstrap.competition_by_id(who.competition_id)


@api.route("/judge/cases", methods=["GET"])
@endpoint
def judge_cases():
    return 200, scoring.my_cases(bootstrap.deps().judging, judge(_request()))


@api.route("/judge/cases/{case_id}", methods=["GET"])
@endpoint
def judge_case(case_id):
    who = judge(_request())
    url = partial(attachments.judge_download_url, bootstrap.files(), bootstrap.config().download_url_seconds)
    return 200, scoring.case_for_judge(bootstrap.deps().judging, bootstrap.deps().cases, _of(who), who,
                                       case_id, url, stages=bootstrap.deps().stages)


@api.route("/judge/cases/{case_id}/score", methods=["PUT"])
@endpoint
def save_score(case_id):
    who = judge(_request())
    return 200, scoring.save_score(bootstrap.deps().judging, _of(who), who, case_id,
                                   read_json(_request()), bootstrap.now(), stages=bootstrap.deps().stages)


@api.route("/judge/cases/{case_id}/feedback", methods=["PUT"])
@endpoint
def save_feedback(case_id):
    who = judge(_request())
    return 200, scoring.save_feedback(bootstrap.deps().judging, _of(who), who, case_id,
                                      read_json(_request()), bootstrap.now(), stages=bootstrap.deps().stages)


@api.route("/judge/cases/{case_id}/recuse", methods=["POST"])
@endpoint
def recuse(case_id):
    who = judge(_request())
    return 200, scoring.recuse(bootstrap.deps().judging, _of(who), who, case_id, read_json(_request()),
                               bootstrap.now(), stages=bootstrap.deps().stages)


@api.route("/cases/{case_id}/feedback", methods=["GET"])
@endpoint
def case_feedback(case_id):
    who = principal(_request(), ("unit", "organiser"))
    return 200, scoring.feedback_for_unit(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(),
                                          who, case_id)


# -- organiser: stages, results --------------------------------------------------------------
@api.route("/admin/stages/{stage_id}/close", methods=["POST"])
@endpoint
def close_stage(stage_id):
    who = principal(_request(), ORGANISER)
    deps = bootstrap.deps()
    return 200, results.close_stage(deps.judging, deps.cases, deps.stages, deps.results, bootstrap.competition(),
                                    deps.ports(), stage_id, who.actor, bootstrap.now())


@api.route("/admin/stages/{stage_id}/ranking", methods=["GET"])
@endpoint
def stage_ranking(stage_id):
    """?competition=<id>: that competition's ranking (an earlier one's); absent: the current one's."""
    principal(_request(), ORGANISER)
    comp = _competition_param((_request().query_params or {}).get("competition"))
    return 200, results.ranking(bootstrap.deps().judging, comp, stage_id, results=bootstrap.deps().results)


@api.route("/admin/honors", methods=["GET"])
@endpoint
def honors():
    principal(_request(), ORGANISER)
    return 200, results.honors(bootstrap.competition(), cases=bootstrap.deps().cases, stages=bootstrap.deps().stages,
                                results=bootstrap.deps().results)


@api.route("/admin/organisation-awards", methods=["GET"])
@endpoint
def organisation_awards():
    principal(_request(), ORGANISER)
    return 200, results.organisation_awards(bootstrap.competition(), bootstrap.deps().cases)


@api.route("/admin/notifications/awards", methods=["POST"])
@endpoint
def award_mail():
    principal(_request(), ORGANISER)
    return 200, results.send_award_mail(bootstrap.deps().cases, bootstrap.competition(), bootstrap.deps().ports(),
                                        bootstrap.now(), codes=bootstrap.deps().certificates,
                                        mail=bootstrap.deps().mail)


@api.route("/admin/stages/{stage_id}/fairness", methods=["GET"])
@endpoint
def fairness(stage_id):
    principal(_request(), ORGANISER)
    return 200, results.fairness(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(), stage_id)


@api.route("/admin/cases/{case_id}/provincial", methods=["PUT"])
@endpoint
def recommend_provincial(case_id):
    who = principal(_request(), ORGANISER)
    marked = results.recommend_provincial(bootstrap.deps().cases, bootstrap.deps().stages, bootstrap.deps().results,
                                          bootstrap.competition(), case_id, read_json(_request()), who.actor,
                                          bootstrap.now())
    return 200, {"case_id": marked["case_id"], "provincial": marked["provincial"]}


@api.route("/admin/provincial/send", methods=["POST"])
@endpoint
def send_provincial():
    """省赛推荐 sent to the competition this one feeds (services/feeder.py): each recommended case not sent yet
    becomes a case of its unit there; a second send creates nothing twice."""
    who = principal(_request(), ORGANISER)
    deps = bootstrap.deps()
    return 200, feeder.send(deps.cases, deps.stages, deps.competitions, deps.files, bootstrap.competition(), who,
                            bootstrap.now(), mailing=bootstrap.mailing())


@api.route("/admin/cases/{case_id}/recommendation", methods=["PUT"])
@endpoint
def recommendation(case_id):
    """省赛推荐: {"recommended": true, "reason": "…"} (the reason is required when recommending)."""
    who = principal(_request(), ORGANISER)
    marked = results.recommend_provincial(bootstrap.deps().cases, bootstrap.deps().stages, bootstrap.deps().results,
                                          bootstrap.competition(), case_id, read_json(_request()), who.actor,
                                          bootstrap.now(), reason_required=True)
    return 200, {"case_id": marked["case_id"], "recommended": marked["recommended"], "reason": marked["reason"]}
