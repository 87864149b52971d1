"""JSON API (under /api/v1) for the live final and judge import: the presentation-order draw (抽签), the
hall's steps (现场控制: present, timer, 亮分), the big-screen scoreboard's data, what a final judge's phone
polls, the judges' .xlsx import, a unit's replies to coaching feedback, and the 综合评选 presentation
materials (展示材料: the unit uploads, the unit, organisers and the case's final judges download)."""
from __future__ import annotations

from typing import TYPE_CHECKING
from chalice import Blueprint

from ..lazy import lazy
from ..media import XLSX
from .http import endpoint, error_body, json_response, judge, principal, read_json

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import coaching, final_stage, judge_import, judging, presentations
else:
    (
        bootstrap, coaching, final_stage, judge_import, judging, presentations
    ) = lazy(
        __name__, "..bootstrap", "..services.coaching", "..services.final_stage", "..services.judge_import",
        "..services.judging", "..services.presentations",
    )

api_final = Blueprint(__name__)
ORGANISER = ("organiser",)


def _request():
    return api_final.current_request


@api_final.route("/admin/stages/{stage_id}/draw", methods=["POST"])
@endpoint
def draw(stage_id):
    who = principal(_request(), ORGANISER)
    final_stage.require_stage(stage_id)
    raw = read_json(_request(), required=False)
    return 200, final_stage.draw(bootstrap.deps().cases, bootstrap.deps().final, bootstrap.competition(), raw,
                                 who.actor, bootstrap.now())


@api_final.route("/admin/stages/{stage_id}/draw", methods=["GET"])
@endpoint
def get_draw(stage_id):
    principal(_request(), ORGANISER)
    final_stage.require_stage(stage_id)
    return 200, final_stage.draws(bootstrap.deps().cases, bootstrap.deps().final, bootstrap.competition())


@api_final.route("/admin/final/scoreboard", methods=["GET"])
@endpoint
def scoreboard():
    principal(_request(), ORGANISER)
    category = (_request().query_params or {}).get("category")
    return 200, final_stage.scoreboard(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.deps().final,
                                       bootstrap.competition(), category, bootstrap.now())


@api_final.route("/admin/final/live", methods=["POST"])
@endpoint
def hall_action():
    who = principal(_request(), ORGANISER)
    raw = read_json(_request())
    raw = raw if isinstance(raw, dict) else {}
    return 200, final_stage.hall_action(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.deps().final,
                                        bootstrap.competition(), raw.get("category"), raw.get("action"), raw,
                                        who.actor, bootstrap.now())


@api_final.route("/judge/final/live", methods=["GET"])
@endpoint
def judge_live():
    who = judge(_request())
    return 200, {"signature": final_stage.live_signature(bootstrap.deps().judging, bootstrap.deps().final,
                                                         bootstrap.competition_by_id(who.competition_id), who.judge_id)}


@api_final.route("/admin/judges/import", methods=["POST"], content_types=[XLSX, "application/octet-stream"])
@endpoint
def import_judge_list():
    who = principal(_request(), ORGANISER)
    raw = _request().raw_body or b""
    try:
        judges = judge_import.import_judges(bootstrap.deps().judging, bootstrap.competition(),
                                            raw if isinstance(raw, bytes) else raw.encode(), who.actor, bootstrap.now())
    except judge_import.RowsInvalid as refused:
        body = error_body(refused)
        body["error"]["rows"] = [e.view() for e in refused.rows]
        return json_response(400, body)
    return 201, {"imported": len(judges), "judges": [judging.judge_view(j) for j in judges]}


@api_final.route("/cases/{case_id}/feedback/replies", methods=["GET"])
@endpoint
def feedback_replies(case_id):
    who = principal(_request(), ("unit", "organiser"))
    deps = bootstrap.deps()
    return 200, coaching.feedback(deps.judging, deps.cases, deps.stages, bootstrap.competition(), who, case_id,
                                  bootstrap.now(), competition_of=bootstrap.competition_by_id)


@api_final.route("/cases/{case_id}/feedback/replies", methods=["PUT"])
@endpoint
def save_feedback_replies(case_id):
    who = principal(_request(), ("unit",))
    deps = bootstrap.deps()
    return 200, coaching.save_replies(deps.judging, deps.cases, deps.final, bootstrap.competition(), who, case_id,
                                      read_json(_request()), bootstrap.now(),
                                      competition_of=bootstrap.competition_by_id)


@api_final.route("/cases/{case_id}/presentation", methods=["POST"])
@endpoint
def start_presentation_upload(case_id):
    who = principal(_request(), ("unit",))
    return 201, presentations.start_upload(bootstrap.deps().cases, bootstrap.competition(), bootstrap.config(),
                                           bootstrap.files(), who, case_id, read_json(_request()), bootstrap.now(),
                                           stages=bootstrap.deps().stages, competition_of=bootstrap.competition_by_id)


@api_final.route("/cases/{case_id}/presentation/confirm", methods=["POST"])
@endpoint
def confirm_presentation(case_id):
    who = principal(_request(), ("unit",))
    return 200, presentations.confirm(bootstrap.deps().cases, bootstrap.competition(), bootstrap.files(), who, case_id,
                                      bootstrap.now(), stages=bootstrap.deps().stages,
                                      competition_of=bootstrap.competition_by_id)


@api_final.route("/cases/{case_id}/presentation", methods=["GET"])
@endpoint
def presentation(case_id):
    who = principal(_request(), ("unit", "organiser"))
    return 200, presentations.download(bootstrap.deps().cases, bootstrap.config(), bootstrap.files(), who, case_id)


@api_final.route("/judge/cases/{case_id}/presentation", methods=["GET"])
@endpoint
def judge_presentation(case_id):
    who = judge(_request())
    return 200, presentations.judge_download(bootstrap.deps().judging, bootstrap.deps().cases,
                                             bootstrap.competition_by_id(who.competition_id), bootstrap.config(),
                                             bootstrap.files(), who, case_id)
