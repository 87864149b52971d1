"""docs/openapi.yaml stays in step with the code: every JSON API route is documented with its methods
(a new route without docs fails here), the document is valid OpenAPI 3.0, and its enums and limits
are the ones the code enforces."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from app import app
from chalicelib import competitions
from chalicelib.domain.accounts import PASSWORD_MAX, PASSWORD_MIN, UNIT_SYSTEMS
from chalicelib.domain.attachments import FILENAME_MAX, KINDS, MB
from chalicelib.domain.cases import RANK_LEVELS, GENDERS, STATUSES, TITLE_MAX
from chalicelib.domain.competition import STAGE_ORDER, competition_from_config
from chalicelib.web.http import STATUS

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
PREFIX = "/api/v1"
VERBS = ("get", "put", "post", "delete", "patch", "head", "options")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(DOC.read_text(encoding="utf-8"))


def api_routes() -> dict[str, set[str]]:
    """The JSON API's routes as the app registers them, relative to the server URL /api/v1."""
    return {path[len(PREFIX):] or "/": {m.lower() for m in methods}
            for path, methods in app.routes.items() if path.startswith(PREFIX + "/")}


def operations(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for verb in VERBS:
            if verb in item:
                yield path, verb, item[verb]


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


def test_openapi_is_valid_openapi_3_0(spec) -> None:
    assert spec["openapi"].startswith("3.0.")
    validate(spec)


def test_openapi_server_is_the_api_base_path(spec) -> None:
    assert spec["servers"] == [{"url": PREFIX}]


def test_openapi_documents_every_route_with_its_methods(spec) -> None:
    documented = {path: {v for v in VERBS if v in item} for path, item in spec["paths"].items()}
    missing = {path: sorted(methods - documented.get(path, set()))
               for path, methods in api_routes().items() if methods - documented.get(path, set())}
    assert missing == {}, f"routes without docs in docs/openapi.yaml: {missing}"


def test_openapi_documents_no_route_the_app_lacks(spec) -> None:
    routes = api_routes()
    extra = {path: sorted(v for v in VERBS if v in item and v not in routes.get(path, set()))
             for path, item in spec["paths"].items()}
    assert {p: m for p, m in extra.items() if m} == {}


def test_openapi_the_portal_routes_are_there(spec) -> None:
    expected = {
        "/health": {"get"}, "/competition": {"get"}, "/accounts": {"post"}, "/sessions": {"post"},
        "/sessions/current": {"delete"}, "/cases": {"get", "post"}, "/cases/{case_id}": {"get", "put"},
        "/cases/{case_id}/versions/{version}": {"get"}, "/cases/{case_id}/submit": {"post"},
        "/cases/{case_id}/withdraw": {"post"}, "/cases/{case_id}/attachments": {"post"},
        "/cases/{case_id}/attachments/{attachment_id}/confirm": {"post"},
        "/cases/{case_id}/attachments/{attachment_id}": {"get", "delete"}, "/admin/stages/{stage_id}": {"put"},
    }
    assert {p: {v for v in VERBS if v in spec["paths"][p]} for p in expected} == expected


def test_openapi_path_parameters_match_the_template(spec) -> None:
    for path, item in spec["paths"].items():
        declared = set()
        for verb in (None, *VERBS):
            params = item.get("parameters", []) if verb is None else item.get(verb, {}).get("parameters", [])
            for p in params:
                if "$ref" in p:
                    p = spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                if p["in"] == "path":
                    declared.add(p["name"])
        named = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert declared == named, path


def test_openapi_operation_ids_are_unique(spec) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))


def test_openapi_secured_operations_answer_401(spec) -> None:
    for path, verb, op in operations(spec):
        if op.get("security"):
            assert op["security"] == [{"bearer": []}], (path, verb)
            assert "401" in op["responses"], (path, verb)


def test_openapi_operations_with_a_body_answer_400(spec) -> None:
    for path, verb, op in operations(spec):
        if "requestBody" in op:
            assert "400" in op["responses"], (path, verb)


def test_openapi_every_error_response_uses_the_error_schema(spec) -> None:
    responses = spec["components"]["responses"]
    for path, verb, op in operations(spec):
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            if "$ref" in response:
                response = responses[response["$ref"].rsplit("/", 1)[1]]
            body = response["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (path, verb, status)


def test_openapi_error_statuses_are_the_contracts(spec) -> None:
    statuses = {int(s) for _, _, op in operations(spec) for s in op["responses"] if int(s) >= 400}
    assert statuses == {400, 401, 403, 404, 409, 413, 429, 503}


def test_openapi_bearer_security_scheme(spec) -> None:
    assert spec["components"]["securitySchemes"]["bearer"]["type"] == "http"
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_openapi_error_schema_shape(spec) -> None:
    error = schema(spec, "Error")
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert inner["required"] == ["code", "message"]
    assert {"code", "message", "fields"} <= set(inner["properties"])
    assert inner["properties"]["fields"]["additionalProperties"] == {"type": "string"}
    assert set(STATUS) <= set(inner["properties"]["code"]["enum"])


# -- the enums and limits are the code's ----------------------------------------------------------

def test_openapi_enums_match_the_domain(spec) -> None:
    comp = competition_from_config(competitions.load("shenzhen-2023"))
    assert schema(spec, "CategoryId")["enum"] == list(comp.category_ids)
    assert schema(spec, "StageId")["enum"] == list(STAGE_ORDER)
    assert schema(spec, "CaseStatus")["enum"] == list(STATUSES)
    assert schema(spec, "PrizeId")["enum"] == [p["id"] for p in comp.raw["prizes"]]
    assert schema(spec, "HonorId")["enum"] == [r["id"] for r in comp.raw["honors"]["rules"]]
    assert schema(spec, "Registration")["properties"]["unit_system"]["enum"] == list(UNIT_SYSTEMS)
    leader = schema(spec, "Leader")["allOf"][1]["properties"]
    assert leader["gender"]["enum"] == list(GENDERS)
    assert leader["rank_level"]["enum"] == list(RANK_LEVELS)


def test_openapi_case_body_limits_match_the_domain(spec) -> None:
    comp = competition_from_config(competitions.load("shenzhen-2023"))
    body = schema(spec, "CaseBody")["properties"]
    assert body["title"]["maxLength"] == TITLE_MAX
    assert body["innovations"]["maxItems"] == body["results"]["maxItems"] == comp.max_points
    assert f"({comp.max_chars})" in schema(spec, "CaseBody")["description"]
    assert schema(spec, "CaseUpdate")["allOf"][1]["required"] == ["version"]


def test_openapi_registration_limits_match_the_domain(spec) -> None:
    registration = schema(spec, "Registration")
    assert registration["properties"]["password"]["minLength"] == PASSWORD_MIN
    assert registration["properties"]["password"]["maxLength"] == PASSWORD_MAX
    assert registration["required"] == ["username", "password", "unit_name", "unit_system", "contact_name",
                                        "email", "mobile"]


def test_openapi_attachment_types_and_sizes_match_the_domain(spec) -> None:
    declared = schema(spec, "AttachmentDeclaration")["properties"]
    assert sorted(declared["content_type"]["enum"]) == sorted({t for k in KINDS.values() for t in k.content_types})
    assert declared["size"]["maximum"] == max(k.max_bytes for k in KINDS.values()) == 500 * MB
    assert declared["filename"]["maxLength"] == FILENAME_MAX


def test_openapi_export_kinds_match_the_service(spec) -> None:
    from chalicelib.services.exports import KINDS as EXPORT_KINDS
    body = spec["paths"]["/admin/exports"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["kind"]["enum"] == list(EXPORT_KINDS)
