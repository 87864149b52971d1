"""The competitions' API (竞赛届次, one deployment, many competitions): the public list and any competition's shape,
and the organisers' 新建届次 / 复制上一届, edit and 设为当前届次 (docs/openapi.yaml, ../shared/api-v1.md
"Competitions"). The service is imported on first use, so this module adds nothing to the API's cold start.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from ..domain.errors import Unauthenticated
from ..lazy import lazy
from .http import bearer_or_cookie, endpoint, principal, read_json

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import competitions
else:
    bootstrap, competitions = lazy(__name__, "..bootstrap", "..services.competitions")

api_competitions = Blueprint(__name__)
ORGANISER = ("organiser",)


def _request() -> Any:
    return api_competitions.current_request


def _signed_in() -> Any:
    """The caller when signed in (an organiser sees the drafts too); None for anyone else."""
    token, _ = bearer_or_cookie(_request())
    if token is None:
        return None
    try:
        return principal(_request())
    except Unauthenticated:
        return None


@api_competitions.route("/competitions", methods=["GET"])
@endpoint
def list_competitions():
    return 200, {"competitions": competitions.listing(bootstrap.deps().competitions, _signed_in())}


@api_competitions.route("/competitions/{competition_id}", methods=["GET"])
@endpoint
def competition(competition_id):
    deps = bootstrap.deps()
    record = competitions.readable(deps.competitions, _signed_in(), competition_id)
    return 200, competitions.record_shape(record, deps.stages, bootstrap.now())


@api_competitions.route("/admin/competitions", methods=["POST"])
@endpoint
def create_competition():
    who = principal(_request(), ORGANISER)
    raw = read_json(_request())
    raw = raw if isinstance(raw, dict) else {}
    made = competitions.create(bootstrap.deps().competitions, who, raw.get("copy_from"), raw.get("name"),
                               raw.get("year"), bootstrap.now())
    return 201, {"id": made.id}


@api_competitions.route("/admin/competitions/{competition_id}", methods=["PUT"])
@endpoint
def edit_competition(competition_id):
    who = principal(_request(), ORGANISER)
    body = read_json(_request())
    deps = bootstrap.deps()
    now = bootstrap.now()
    record = competitions.get(deps.competitions, who, competition_id)
    _, rows, scored = competitions.edit_inputs(record, deps.stages, deps.judging, now)
    saved = competitions.update(deps.competitions, who, competition_id, body, rows, now, scored, deps.stages)
    return 200, {**competitions.competition_view(saved), "status": saved.state.value}


@api_competitions.route("/admin/competitions/{competition_id}/activate", methods=["POST"])
@endpoint
def activate_competition(competition_id):
    who = principal(_request(), ORGANISER)
    deps = bootstrap.deps()
    record = competitions.activate_with_stages(deps.competitions, deps.stages, who, competition_id, bootstrap.now())
    return 200, {"id": record.id, "current": True, "status": record.state.value}
