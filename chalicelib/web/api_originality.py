"""The originality check's API (原创性检测, docs/ORIGINALITY.md): the archive import and the flags.

Organisers only; no unit-facing route shows another unit's text. The service is imported on first use, so
this module adds nothing to the API's cold start.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ..lazy import lazy
from .http import endpoint, principal, read_json

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import originality
else:
    bootstrap, originality = lazy(__name__, "..bootstrap", "..services.originality")

api_originality = Blueprint(__name__)
ORGANISER = ("organiser",)
ARCHIVE_MAX_BODY = 6 * 1024 * 1024   # a Lambda's synchronous payload limit; larger archives go in batches


@api_originality.route("/admin/archive", methods=["POST"])
@endpoint
def import_archive():
    request = api_originality.current_request
    who = principal(request, ORGANISER)
    deps = bootstrap.deps()
    imported = originality.import_archive(bootstrap.competition(), deps.archive, deps.originality, who,
                                          read_json(request, max_body=ARCHIVE_MAX_BODY), bootstrap.now())
    return 201, {"imported": imported}


@api_originality.route("/admin/originality", methods=["GET"])
@endpoint
def originality_flags():
    principal(api_originality.current_request, ORGANISER)
    deps = bootstrap.deps()
    return 200, originality.report(bootstrap.competition(), deps.archive, deps.originality, deps.cases,
                                  deps.competitions)
