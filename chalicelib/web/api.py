"""The JSON API v1 (docs/openapi.yaml): public, accounts and sessions, cases, attachments, stage windows."""
from __future__ import annotations

from chalice import Blueprint

from .. import bootstrap
from ..services import accounts, attachments, cases, stages
from .http import endpoint, int_param, principal, read_json

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
    windows = stages.windows(comp)
    now = bootstrap.now_dt()
    return 200, {
        "id": comp.id, "name": comp.name, "theme": comp.theme, "hosts": list(comp.hosts),
        "categories": [{"id": c.id, "name": c.name,
                        "criteria": [{"id": k.id, "name": k.name, "max": k.max} for k in c.criteria]}
                       for c in comp.categories],
        "stages": [stages.stage_view(w, now) for w in windows.values()],
        "limits": {"max_chars": comp.max_chars, "max_points": comp.max_points},
        "quotas": {"advance_per_category": comp.advance_per_category},
    }


@api.route("/accounts", methods=["POST"])
@endpoint
def register():
    cfg = bootstrap.config()
    account = accounts.register(read_json(_request()), cfg, bootstrap.now())
    return 201, {"id": account.id, "username": account.username, "unit_name": account.unit_name, "role": "unit"}


@api.route("/sessions", methods=["POST"])
@endpoint
def login():
    raw = read_json(_request())
    raw = raw if isinstance(raw, dict) else {}
    session = accounts.login(raw.get("username"), raw.get("password"), bootstrap.config(), bootstrap.now())
    return 200, {"token": session.token, "role": session.principal.role,
                 "account_id": session.principal.account_id, "csrf_token": session.csrf}


@api.route("/sessions/current", methods=["DELETE"])
@endpoint
def logout():
    accounts.logout(principal(_request()))
    return 204, None


@api.route("/cases", methods=["POST"])
@endpoint
def create_case():
    who = principal(_request(), UNIT)
    case = cases.create(bootstrap.competition(), who, read_json(_request()), bootstrap.now_dt())
    return 201, cases.case_view(case)


@api.route("/cases", methods=["GET"])
@endpoint
def list_cases():
    who = principal(_request(), ("unit", "organiser"))
    category = (_request().query_params or {}).get("category")
    found = cases.list_cases(bootstrap.competition(), who, category)
    return 200, {"cases": [cases.case_view(c) for c in found]}


@api.route("/cases/{case_id}", methods=["GET"])
@endpoint
def get_case(case_id):
    who = principal(_request(), ("unit", "organiser"))
    return 200, cases.case_view(cases.get(who, case_id))


@api.route("/cases/{case_id}", methods=["PUT"])
@endpoint
def update_case(case_id):
    who = principal(_request(), UNIT)
    case = cases.update(bootstrap.competition(), who, case_id, read_json(_request()), bootstrap.now_dt())
    return 200, cases.case_view(case)


@api.route("/cases/{case_id}/versions/{version}", methods=["GET"])
@endpoint
def get_case_version(case_id, version):
    who = principal(_request(), ("unit", "organiser"))
    return 200, cases.version_view(who, case_id, int_param(version, "version"))


@api.route("/cases/{case_id}/submit", methods=["POST"])
@endpoint
def submit_case(case_id):
    who = principal(_request(), UNIT)
    return 200, cases.case_view(cases.submit(bootstrap.competition(), who, case_id, bootstrap.now_dt()))


@api.route("/cases/{case_id}/withdraw", methods=["POST"])
@endpoint
def withdraw_case(case_id):
    who = principal(_request(), UNIT)
    return 200, cases.case_view(cases.withdraw(bootstrap.competition(), who, case_id, bootstrap.now_dt()))


@api.route("/cases/{case_id}/attachments", methods=["POST"])
@endpoint
def start_upload(case_id):
    cfg = bootstrap.config()
    who = principal(_request(), UNIT)
    answer = attachments.start_upload(bootstrap.competition(), cfg, bootstrap.files(), who, case_id,
                                      read_json(_request()), bootstrap.now_dt())
    return 201, answer


@api.route("/cases/{case_id}/attachments/{attachment_id}/confirm", methods=["POST"])
@endpoint
def confirm_upload(case_id, attachment_id):
    who = principal(_request(), UNIT)
    return 200, attachments.confirm(bootstrap.competition(), bootstrap.files(), who, case_id, attachment_id,
                                    bootstrap.now_dt())


@api.route("/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@endpoint
def download(case_id, attachment_id):
    cfg = bootstrap.config()
    who = principal(_request(), ("unit", "organiser"))
    return 200, {"url": attachments.download_url(cfg, bootstrap.files(), who, case_id, attachment_id)}


@api.route("/cases/{case_id}/attachments/{attachment_id}", methods=["DELETE"])
@endpoint
def delete_attachment(case_id, attachment_id):
    who = principal(_request(), UNIT)
    attachments.delete(bootstrap.competition(), bootstrap.files(), who, case_id, attachment_id, bootstrap.now_dt())
    return 204, None


@api.route("/admin/stages/{stage_id}", methods=["PUT"])
@endpoint
def move_stage(stage_id):
    who = principal(_request(), ORGANISER)
    now = bootstrap.now_dt()
    moved = stages.move_window(bootstrap.competition(), stage_id, read_json(_request()), who.actor, now)
    return 200, stages.stage_view(moved, now)
