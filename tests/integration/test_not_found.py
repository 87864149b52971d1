"""Unrouted paths and methods get the app's own Chinese 404 (chalicelib/web/not_found.py), never chalice local's
and API Gateway's `{"message": "Missing Authentication Token"}`; /favicon.ico is the site's icon.

The local server's hook (scripts/chalice_local.py) is installed on chalice's LocalGateway for each test, which
the test client shares; it is taken off again afterwards."""
from __future__ import annotations

import json
import re

import pytest
from chalice.local import LocalGateway

from chalicelib.web.not_found import API_MESSAGE, PAGE_MESSAGE
from scripts import chalice_local
from tests.browser import followed_download

API_404 = {"error": {"code": "not_found", "message": API_MESSAGE}}


@pytest.fixture
def local(client, monkeypatch):
    monkeypatch.setattr(LocalGateway, "handle_request", LocalGateway.handle_request)   # undone after the test
    chalice_local.answer_unrouted_with_the_apps_404()
    return client


def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S)).split())


def test_without_the_hook_chalice_answers_missing_authentication_token(client):
    """The control: what the hook replaces (and what API Gateway answers unless the gateway responses say otherwise)."""
    response = client.http.get("/no-such-page")
    assert (response.status_code, json.loads(response.body)) == (403, {"message": "Missing Authentication Token"})


@pytest.mark.parametrize("path", ["/no-such-page", "/cases/x/y/z", "/admin/nothing-here", "/judge/cases/x/nothing", "/static",
                                  "/%E6%B2%A1%E6%9C%89", "/no-such-page?next=/admin"])
def test_an_unknown_page_gets_the_chinese_error_page(local, path):
    response = local.http.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    text = visible(response.body.decode("utf-8"))
    assert text.startswith("跳到正文")
    assert f"没有找到 {PAGE_MESSAGE} 返回首页" in text
    assert "Missing" not in text and "Token" not in text


@pytest.mark.parametrize("method, path", [("GET", "/api/v1/nothing"), ("POST", "/api/v1/cases/x/nothing"),
                                          ("GET", "/api"), ("GET", "/api/v2/competition"),
                                          ("DELETE", "/api/v1/competition"), ("PATCH", "/api/v1/cases")])
def test_an_unknown_api_path_or_method_gets_the_error_shape(local, method, path):
    response = local.http.request(method, path, headers={"Authorization": "Bearer abc"})
    assert (response.status_code, json.loads(response.body)) == (404, API_404)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_method_a_page_lacks_gets_the_404_page_not_an_english_405(local):
    response = local.http.request("DELETE", "/login")
    assert response.status_code == 404
    assert PAGE_MESSAGE in visible(response.body.decode("utf-8"))


def test_routed_requests_are_untouched(local):
    assert (local.http.get("/api/v1/health").status_code, json.loads(local.http.get("/api/v1/health").body)) == (
        200, {"ok": True})
    case = local.http.get("/api/v1/cases/nope", headers={"Authorization": "Bearer abc"})
    assert case.status_code == 401                       # a route's own answer, not the unrouted 404
    assert local.http.get("/login").status_code == 200


def test_favicon_is_the_sites_icon(client):
    response = client.http.get("/favicon.ico")
    assert (response.status_code, response.headers["Content-Type"]) == (200, "image/svg+xml")
    svg = response.body.decode("utf-8")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"') and "<title>赛评</title>" in svg


def test_every_page_names_the_icon(client):
    assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml">' in client.http.get("/").body.decode("utf-8")


# -- chalice's own English refusals, in the app (middleware): the same in AWS and locally --------------------

def test_a_method_a_route_lacks_gets_the_404_even_without_the_local_hook(client):
    api = client.http.request("DELETE", "/api/v1/competition")
    assert (api.status_code, json.loads(api.body)) == (404, API_404)
    page = client.http.request("PUT", "/login")
    assert page.status_code == 404 and PAGE_MESSAGE in visible(page.body.decode("utf-8"))


def test_an_unsupported_content_type_is_refused_in_chinese(client):
    from chalicelib.web.not_found import CHALICE_ERRORS
    message = CHALICE_ERRORS["UnsupportedMediaType"]
    api = client.http.post("/api/v1/sessions", headers={"Content-Type": "text/plain"}, body=b"x")
    assert (api.status_code, json.loads(api.body)) == (415, {"error": {"code": "invalid", "message": message}})
    page = client.http.post("/login", headers={"Content-Type": "application/json"}, body=b"{}")
    assert page.status_code == 415
    assert f"无法识别的提交 {message} 返回首页" in visible(page.body.decode("utf-8"))


def test_a_download_link_without_an_accept_header_gets_its_file(api):
    """A link with `download` sends no Accept header: the page answers with a redirect to S3, never with a
    binary body that chalice (and API Gateway) would refuse for want of one."""
    from tests.integration.test_judging_api import organiser
    token = organiser(api).token
    session = f"sp_session={token}"
    for headers in ({"Cookie": session}, {"Cookie": session, "Accept": "*/*"}):
        data, _ = followed_download(api.client.http.get("/admin/judges/template.xlsx", headers=headers))
        assert data[:2] == b"PK"
