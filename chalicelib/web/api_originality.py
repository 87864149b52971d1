"""The originality check's API (原创性检测, docs/ORIGINALITY.md): the archive import and the flags.

Organisers only; no unit-facing route shows another unit's text. The services are imported inside the
handlers, so this module adds nothing to the API's cold start.
"""
from __future__ import annotations

from chalice import Blueprint

from ..lazy import lazy_module
from .http import endpoint, principal, read_json

bootstrap = lazy_module("chalicelib.bootstrap")

api_originality = Blueprint(__name__)
ORGANISER = ("organiser",)
ARCHIVE_MAX_BODY = 6 * 1024 * 1024   # a Lambda's synchronous payload limit; larger archives go in batches


def _objects():
    from ..store.originality import Objects
    return Objects(bootstrap.s3(), bootstrap.config().bucket)


@api_originality.route("/admin/archive", methods=["POST"])
@endpoint
def import_archive():
    request = api_originality.current_request
    who = principal(request, ORGANISER)
    from ..services import originality
    imported = originality.import_archive(bootstrap.competition(), who, read_json(request, max_body=ARCHIVE_MAX_BODY),
                                          bootstrap.now(), _objects())
    return 201, {"imported": imported}


@api_originality.route("/admin/originality", methods=["GET"])
@endpoint
def originality_flags():
    principal(api_originality.current_request, ORGANISER)
    from ..services import originality
    return 200, originality.report(bootstrap.competition(), _objects())
