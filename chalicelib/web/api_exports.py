"""Organiser JSON API for exports and mail (registered under /api/v1): request an export, follow it,
read the mail log. docs/EXPORTS.md and docs/MAIL.md describe them."""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from chalice import Blueprint

from ..domain.errors import Invalid, NotFound
from ..lazy import lazy
from .http import endpoint, int_param, principal, read_json

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import exports, notifications
else:
    bootstrap, exports, notifications = lazy(__name__, "..bootstrap", "..services.exports", "..services.notifications")

log = logging.getLogger("saiping")
api_exports = Blueprint(__name__)
ORGANISER = ("organiser",)


def _request():
    return api_exports.current_request


def dispatch(job_id: str) -> None:
    """Start the export: in AWS an asynchronous invocation of the `exports` function; locally (poll) the
    runner finds the queued job by itself."""
    cfg = bootstrap.config()
    if cfg.async_mode != "lambda":
        return
    bootstrap.client("lambda").invoke(FunctionName=cfg.export_function_name, InvocationType="Event",
                                      Payload=json.dumps({"id": job_id}).encode("utf-8"))


def export_competition(competition_id: object) -> "bootstrap.Competition":
    """The competition an export is of: "competition" in the body (an earlier one), else the current one (the
    console's export page asks the same)."""
    if competition_id is None:
        return bootstrap.competition()
    if not isinstance(competition_id, str) or not 0 < len(competition_id) <= 64:
        raise Invalid("competition 应为竞赛届次的编号", {"competition": "没有这个竞赛届次"})
    try:
        return bootstrap.competition_by_id(competition_id)
    except NotFound:
        raise Invalid("没有这个竞赛届次", {"competition": "没有这个竞赛届次"}) from None


@api_exports.route("/admin/exports", methods=["POST"])
@endpoint
def request_export():
    who = principal(_request(), ORGANISER)
    raw = read_json(_request())
    comp = export_competition(raw.get("competition") if isinstance(raw, dict) else None)
    job = exports.start(bootstrap.deps().exports, comp, raw, who.actor, bootstrap.now(), dispatch)
    return 202, {"id": job.id, "status": exports.public_status(job)}


@api_exports.route("/admin/exports/{job_id}", methods=["GET"])
@endpoint
def export_status(job_id):
    principal(_request(), ORGANISER)
    deps = bootstrap.deps()
    job = exports.get(deps.exports, None, job_id)    # an earlier competition's too
    cfg = bootstrap.config()
    return 200, exports.view(job, lambda key, name: deps.files.download_url(key, name, cfg.download_url_seconds))


@api_exports.route("/admin/mail", methods=["GET"])
@endpoint
def mail_log():
    principal(_request(), ORGANISER)
    params = _request().query_params or {}
    limit = int_param(params["limit"], "limit") if params.get("limit") else 200
    return 200, notifications.mail_log(bootstrap.competition(), bootstrap.deps().mail, limit,
                                       params.get("kind") or None)
