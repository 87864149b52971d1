"""优秀案例展示's API: the public list of shown cases, the unit's consent, the organiser's 撤下 (docs/openapi.yaml)."""
from __future__ import annotations

from typing import TYPE_CHECKING
from chalice import Blueprint

from ..lazy import lazy
from .http import endpoint, principal, read_json

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import showcase
else:
    bootstrap, showcase = lazy(__name__, "..bootstrap", "..services.showcase")

api_showcase = Blueprint(__name__)


def _request():
    return api_showcase.current_request


@api_showcase.route("/showcase", methods=["GET"])
@endpoint
def shown_cases():
    """Public: ?q= (关键词) and ?category= (a category id)."""
    params = _request().query_params or {}
    return 200, showcase.showcase(bootstrap.deps().results, bootstrap.deps().showcase, bootstrap.competition(),
                                  params.get("q"), params.get("category"), bootstrap.now())


@api_showcase.route("/cases/{case_id}/showcase", methods=["PUT"])
@endpoint
def unit_consent(case_id):
    """{"consent": true|false}: the owning unit puts its case in the showcase or takes it out."""
    who = principal(_request(), ("unit",))
    return 200, showcase.set_consent(bootstrap.deps().cases, bootstrap.deps().showcase, who, case_id,
                                     read_json(_request()), bootstrap.now())


@api_showcase.route("/admin/cases/{case_id}/showcase", methods=["PUT"])
@endpoint
def organiser_shown(case_id):
    """{"shown": false, "reason": "…"} takes a case down; {"shown": true} puts it back."""
    who = principal(_request(), ("organiser",))
    return 200, showcase.set_shown(bootstrap.deps().cases, bootstrap.deps().showcase, case_id, read_json(_request()),
                                   who.actor, bootstrap.now())
