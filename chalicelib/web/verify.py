"""The public check of a 荣誉证书: `/verify/<code>` (printed on every certificate and in the award mail).

No login: it shows the case title, unit and prize of a real code, 未找到 otherwise. One GetItem per
request (the Certificate table), so the page cannot be used to walk the cases.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping
from urllib.parse import quote

from chalice import Blueprint, Response

from ..lazy import lazy
from .html import html, page, redirect

if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import certificates
else:
    bootstrap, certificates = lazy(__name__, "..bootstrap", "..services.certificates")

verify = Blueprint(__name__)


@verify.route("/verify", methods=["GET"])
@page
def verify_form() -> Response:
    """The form posts here by GET (?code=…); it lands on the canonical /verify/<code>."""
    params: Mapping[str, str] = verify.current_request.query_params or {}
    code = (params.get("code") or "").strip()[:40]
    if code:
        return redirect("/verify/" + quote(certificates.normalise(code) or code, safe=""))
    return html("verify.html", status=200, certificate=None, code="", prize="", category="")


@verify.route("/verify/{code}", methods=["GET"])
@page
def verify_code(code: str) -> Response:
    canonical = certificates.normalise(code)
    record = certificates.verify(bootstrap.deps().certificates, code) if canonical else None
    comp = bootstrap.competition()
    shown = certificates.display(canonical) if canonical else code[:40]
    if record is None or record.competition_id != comp.id:
        return html("verify.html", status=404, certificate=None, code=shown, prize="", category="")
    category = comp.category(record.category or "")
    return html("verify.html", certificate=record, code=shown,
                prize=certificates.prize_names(comp).get(record.prize, record.prize),
                category=category.name if category else "")
