"""Every route × every role, generated from the app's route table: no role gets a 2xx where it has no right.

The organiser team has three roles: `organiser` here is the first admin; `staff` may do everything an admin
may but the admin-only actions (ADMIN_ONLY below: the team, stage windows, closing, award mail); `viewer`
only reads (GET) and makes exports.

A route is public, organiser-only, judge-only or unit-or-organiser by its path (RULES); a route the rules do
not place fails the test, so a new route must be placed here before it can land. `{case_id}` is filled with
a real case of unit A, so unit B, the other judge (assigned to unit B's case only) and anonymous callers
are tried on someone else's object; other ids are dummies.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from app import app
from tests.conftest import CHINA, case_body, register_unit
from tests.integration.team import member
from tests.integration.test_judging_api import judges, organiser

PUBLIC = "public"
ORGANISER = "organiser"
JUDGE = "judge"
OWNER = "owner"          # the unit that owns the case (and the organiser, read-only)
ACCOUNT = "account"      # one's own account: any unit or organiser session
ADMIN_ONLY = {
    ("POST", "/api/v1/admin/organisers"), ("PUT", "/api/v1/admin/organisers/{username}"),
    ("DELETE", "/api/v1/admin/organisers/{username}"), ("POST", "/admin/team"),
    ("POST", "/admin/team/{username}/role"), ("POST", "/admin/team/{username}/remove"),
    ("PUT", "/api/v1/admin/stages/{stage_id}"), ("POST", "/admin/stages/{stage_id}/window"),
    ("POST", "/admin/stages/{stage_id}/open"), ("POST", "/api/v1/admin/stages/{stage_id}/close"), ("POST", "/admin/stages/{stage_id}/close"),
    ("POST", "/api/v1/admin/notifications/awards"), ("POST", "/admin/notifications/awards"),
}
VIEWER_POSTS = {("POST", "/api/v1/admin/exports"), ("POST", "/admin/exports")}

# (method or *, path prefix, who may get a 2xx). The first matching row wins.
RULES = [
    ("*", "/api/v1/health", PUBLIC), ("*", "/api/v1/competition", PUBLIC), ("GET", "/api/v1/showcase", PUBLIC),
    ("POST", "/api/v1/accounts", PUBLIC), ("POST", "/api/v1/sessions", PUBLIC),
    ("POST", "/api/v1/password-resets", PUBLIC), ("*", "/api/v1/account", ACCOUNT), ("*", "/account", ACCOUNT),
    ("*", "/password-reset", PUBLIC), ("*", "/reset/", PUBLIC),
    ("DELETE", "/api/v1/sessions/current", "any-session"),
    ("POST", "/api/v1/judge/sessions", PUBLIC),
    ("*", "/api/v1/judge/", JUDGE),
    ("*", "/api/v1/admin/", ORGANISER),
    ("*", "/api/v1/cases", OWNER),
    ("*", "/admin", ORGANISER),
    ("POST", "/judge/logout", PUBLIC), ("POST", "/judge/start", PUBLIC),
    ("*", "/judge", JUDGE),
    ("*", "/cases", OWNER),
    ("GET", "/downloads/", PUBLIC),
    ("*", "/static/", PUBLIC), ("*", "/verify", PUBLIC), ("*", "/j/", PUBLIC),
    ("*", "/login", PUBLIC), ("*", "/register", PUBLIC), ("POST", "/logout", PUBLIC), ("GET", "/", PUBLIC),
    ("GET", "/favicon.ico", PUBLIC), ("GET", "/showcase", PUBLIC), ("GET", "/competitions/", PUBLIC),
]
ROLES = ("anonymous", "unit_a", "unit_b", "organiser", "staff", "viewer", "judge", "other_judge")
ORGANISERS = ("organiser", "staff", "viewer")


def rule_for(method: str, path: str) -> str | None:
    for rule_method, prefix, who in RULES:
        if rule_method in ("*", method) and (path == prefix or path.startswith(prefix.rstrip("/") + "/")
                                             or (prefix.endswith("/") and path.startswith(prefix))
                                             or (prefix == path.split("?")[0])):
            return who
    return None


def organiser_may(role: str, method: str, path: str) -> bool:
    if role == "staff":
        return (method, path) not in ADMIN_ONLY
    if role == "viewer":
        return method == "GET" or (method, path) in VIEWER_POSTS
    return role == "organiser"


def may_succeed(who: str, role: str, path: str, method: str = "GET") -> bool:
    if who == PUBLIC:
        return True
    if who == "any-session":
        return role != "anonymous"
    if who == ACCOUNT:
        return role in ("unit_a", "unit_b", *ORGANISERS)
    if who == ORGANISER:
        return organiser_may(role, method, path)
    if who == JUDGE:   # the judge assigned to unit A's case; the other judge only where no case is named
        return role == "judge" or (role == "other_judge" and "{case_id}" not in path)
    if who == OWNER:   # organisers read (every role); writes on /cases are the units' own
        organiser = role in ORGANISERS and organiser_may(role, method, path)
        return role == "unit_a" or (organiser and "{case_id}" in path) or (
            (role == "unit_b" or organiser) and "{case_id}" not in path)
    raise AssertionError(who)


ROUTES = sorted((method, path) for path, entries in app.routes.items() for method in entries)


def test_every_route_is_placed_by_a_rule():
    assert [(m, p) for m, p in ROUTES if rule_for(m, p) is None] == []


@pytest.fixture
def world(api, clock):
    """Unit A with a submitted case, unit B with its own, an organiser, and two judges with live sessions:
    `judge` scores unit A's case, `other_judge` unit B's."""
    cases = []
    for n, unit in ((1, "甲单位"), (2, "乙单位")):
        unit_api = api.as_(register_unit(api, n, unit_name=unit))
        case = unit_api.call("POST", "/cases", case_body(recommending_unit=unit))[1]
        assert unit_api.call("POST", f"/cases/{case['id']}/submit")[0] == 200
        cases.append(case["id"])
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))       # text review open
    org = organiser(api)
    judges(org, 2)
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    slots = org.call("GET", "/admin/stages/text_review/assignments")[1]["assignments"]
    judge_of = {slot["case_id"]: slot["judge_id"] for slot in slots}
    assert len(slots) == 2 and judge_of[cases[0]] != judge_of[cases[1]], slots
    links = {link["judge_id"]: link["url"].rsplit("/j/", 1)[1]
             for link in org.call("POST", "/admin/stages/text_review/links")[1]["links"]}
    tokens = {f"unit_{name}": api.call("POST", "/sessions", {"username": user, "password": "correct-horse-1"})[1]["token"]
              for name, user in (("a", "unit1"), ("b", "unit2"))}
    tokens.update(organiser=org.token, anonymous=None, staff=member(api, org, "staff1", "staff"),
                  viewer=member(api, org, "viewer1", "viewer"),
                  judge=api.call("POST", "/judge/sessions", {"link": links[judge_of[cases[0]]]})[1]["token"],
                  other_judge=api.call("POST", "/judge/sessions", {"link": links[judge_of[cases[1]]]})[1]["token"])
    return {"tokens": tokens, "case_id": cases[0]}


def _call(client, method: str, path: str, token: str | None):
    headers = {}
    if path.startswith("/api/"):
        headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = b"{}"
    else:
        if method != "GET":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Cookie"] = f"sp_session={token}"
        body = b""
    return getattr(client.http, method.lower())(path, headers=headers, body=body if method != "GET" else b"")


def test_the_roles_tokens_work_where_they_have_rights(client, world):
    """The control: without it, dead tokens would make the matrix below pass by refusing everything."""
    tokens, case_id = world["tokens"], world["case_id"]
    allowed = [("organiser", "GET", "/api/v1/admin/judges"), ("organiser", "GET", "/admin"),
               ("unit_a", "GET", f"/api/v1/cases/{case_id}"), ("unit_a", "GET", "/cases"),
               ("unit_b", "GET", "/api/v1/cases"), ("judge", "GET", "/api/v1/judge/cases"), ("judge", "GET", "/judge"),
               ("judge", "GET", f"/api/v1/judge/cases/{case_id}"), ("other_judge", "GET", "/api/v1/judge/cases"),
               ("staff", "GET", "/api/v1/admin/judges"), ("staff", "GET", "/admin/stages"),
               ("viewer", "GET", "/api/v1/admin/judges"), ("viewer", "GET", "/admin"), ("viewer", "GET", "/admin/team"),
               ("viewer", "GET", "/api/v1/account"), ("staff", "GET", "/account")]
    assert [(role, path, _call(client, method, path, tokens[role]).status_code) for role, method, path in allowed] == [
        (role, path, 200) for role, _, path in allowed]


def test_no_role_gets_a_2xx_where_it_has_no_right(client, world):
    wrong = []
    tried = 0
    for method, route in ROUTES:
        who = rule_for(method, route)
        path = route.replace("{case_id}", world["case_id"]).replace("{stage_id}", "text_review")
        path = path.replace("{version}", "1").replace("{name}", "app.css")
        for placeholder in ("{attachment_id}", "{judge_id}", "{job_id}", "{token}", "{code}", "{username}",
                            "{session_id}"):
            path = path.replace(placeholder, "x0")
        for role in ROLES:
            if may_succeed(who, role, route, method):
                continue
            tried += 1
            response = _call(client, method, path, world["tokens"][role])
            if 200 <= response.status_code < 300:
                wrong.append((role, method, route, response.status_code))
    assert wrong == []
    assert tried > 500
