"""Every route of the app's route table, called as the role that has the right to it, at the stage of the
competition where it is used, with its AWS calls metered (benchmarks/aws_calls.py: botocore events on the
store's shared client and the bootstrap clients).

A small competition is run through its five stages (3 units, 9 cases, 9 judges): the scripted visits below are
the real uses of each route (a unit writes, uploads, submits; judges score; the organiser assigns, closes,
exports). Then every route of `app.routes` not visited yet gets a plain visit at the end (the competition
finished): as the role the authorization matrix gives it (tests/integration/test_authorization_matrix.py's
RULES), path parameters filled with real ids, an empty body. So a new route is measured without anyone
writing a line here; its row says `plain` (a refusal path is measured then, often a 400/404).

Used by benchmarks/bench_request_calls.py (prints the table) and tests/integration/test_calls_per_request.py
(fails on a Scan or too many calls).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from benchmarks.aws_calls import Meter, Tally
from tests.browser import csrf_of
from tests.conftest import CHINA, case_body

PASSWORD = "correct-horse-1"
ORGANISER = ("boss", "organiser-pass-1")
PDF = b"%PDF-1.7\n" + b"0" * 2000 + b"\n%%EOF\n"
CRITERIA = {"development": {"foresight": 25, "practicality": 24, "effectiveness": 33}}


@dataclass
class Visit:
    method: str
    route: str          # the route table's path, e.g. /api/v1/cases/{case_id}
    role: str
    status: int
    tally: Tally
    how: str            # "scripted" (a real use) or "plain" (the sweep: empty body, finished competition)
    stage: str


def routes() -> list[tuple[str, str]]:
    from app import app
    return sorted((method, path) for path, entries in app.routes.items() for method in entries)


class Tour:
    def __init__(self, client: Any, meter: Meter, clock: Any) -> None:
        self.client, self.meter, self.clock = client, meter, clock
        self.visits: list[Visit] = []
        self.tokens: dict[str, str | None] = {"anonymous": None}
        self.stage = "submission"
        self.ids: dict[str, str] = {}

    # -- calling --------------------------------------------------------------------------------------
    def api(self, method: str, route: str, role: str, body: Any = None, raw: bytes | None = None,
            how: str = "scripted", content_type: str = "application/json", **params: str) -> tuple[int, Any]:
        path = fill(route, {**self.ids, **params})
        headers = {"Content-Type": content_type}
        if self.tokens.get(role):
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        payload = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None
                                               else b"")
        with self.meter.measure() as tally:
            response = getattr(self.client.http, method.lower())(path, headers=headers, body=payload)
        self.visits.append(Visit(method, route, role, response.status_code, tally, how, self.stage))
        try:
            data = json.loads(response.body) if response.body else None
        except ValueError:
            data = response.body
        return response.status_code, data

    def page(self, method: str, route: str, role: str, form: dict[str, Any] | None = None, how: str = "scripted",
             **params: str) -> tuple[int, str]:
        path = fill(route, {**self.ids, **params})
        headers: dict[str, str] = {}
        cookies = {}
        if self.tokens.get(role):
            cookies["sp_session"] = self.tokens[role]
        body = b""
        if method != "GET":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            form = dict(form or {})
            if role == "anonymous":
                token, cookie = self._anonymous_csrf()
                cookies["sp_csrf"] = cookie
            else:
                token = self._csrf(role)
            form.setdefault("csrf_token", token)
            body = urlencode(form, doseq=True).encode()
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        with self.meter.measure() as tally:
            response = getattr(self.client.http, method.lower())(path, headers=headers, body=body)
        self.visits.append(Visit(method, route, role, response.status_code, tally, how, self.stage))
        text = response.body.decode("utf-8", "replace") if isinstance(response.body, bytes) else str(response.body)
        return response.status_code, text

    def _csrf(self, role: str) -> str:
        """The session's CSRF token, as its pages carry it (read outside any measured request)."""
        from chalicelib import bootstrap
        if role == "judge":
            from chalicelib.services.scoring import authenticate_judge
            try:
                return authenticate_judge(bootstrap.deps().judging, self.tokens[role], bootstrap.now()).csrf
            except Exception:
                return "x"
        from chalicelib.services import accounts
        try:
            return accounts.authenticate(bootstrap.deps().accounts, self.tokens[role], bootstrap.now(),
                                         cfg=bootstrap.config()).csrf
        except Exception:
            return "x"

    def _anonymous_csrf(self) -> tuple[str, str]:
        response = self.client.http.get("/login")
        raw = response.headers.get("Set-Cookie") or ""
        cookie = re.search(r"sp_csrf=([^;]+)", raw if isinstance(raw, str) else ";".join(raw)).group(1)
        return csrf_of(response.body.decode("utf-8")), cookie

    def login(self, role: str, username: str, password: str) -> None:
        status, data = self.api("POST", "/api/v1/sessions", "anonymous", {"username": username, "password": password})
        assert status == 200, data
        self.tokens[role] = data["token"]

    def organiser(self) -> None:
        from chalicelib import bootstrap
        from chalicelib.services import accounts
        accounts.ensure_organiser(bootstrap.deps().accounts, *ORGANISER, bootstrap.config(), bootstrap.now())
        self.login("organiser", *ORGANISER)

    def at(self, stage: str, when: datetime) -> None:
        self.stage = stage
        self.clock.set(when)

    # -- the competition ------------------------------------------------------------------------------
    def run(self) -> list[Visit]:
        self.submission()
        self.text_review()
        self.coaching()
        self.final()
        self.provincial()
        self.sweep()
        return self.visits

    def submission(self) -> None:
        self.at("submission", datetime(2023, 6, 1, 10, 0, tzinfo=CHINA))
        self.api("GET", "/api/v1/health", "anonymous")
        self.api("GET", "/api/v1/competition", "anonymous")
        for page in ("/", "/login", "/register"):
            self.page("GET", page, "anonymous")
        for n, unit in ((1, "甲单位"), (2, "乙单位"), (3, "丙单位")):
            body = {"username": f"unit{n}", "password": PASSWORD, "unit_name": unit, "unit_system": "municipal",
                    "contact_name": "张三", "email": f"u{n}@example.gov.cn", "mobile": "13800138000"}
            assert self.api("POST", "/api/v1/accounts", "anonymous", body)[0] == 201
            self.login(f"unit{n}", f"unit{n}", PASSWORD)
            for k in range(3):
                status, case = self.api("POST", "/api/v1/cases", f"unit{n}", case_body(
                    recommending_unit=unit, title=f"案例{n}-{k}"))
                assert status == 201, case
                self.ids.setdefault(f"case_of_unit{n}", case["id"])
                assert self.api("POST", "/api/v1/cases/{case_id}/submit", f"unit{n}", case_id=case["id"])[0] == 200
        self.tokens["unit"] = self.tokens["unit1"]
        self.ids["case_id"] = self.ids["case_of_unit1"]
        self.api("GET", "/api/v1/cases", "unit")
        self.api("GET", "/api/v1/cases/{case_id}", "unit")
        current = self.api("GET", "/api/v1/cases/{case_id}", "unit")[1]
        self.api("POST", "/api/v1/cases/{case_id}/withdraw", "unit")
        edited = {**case_body(recommending_unit="甲单位", title="案例1-0（修改）"), "version": current["version"]}
        assert self.api("PUT", "/api/v1/cases/{case_id}", "unit", edited)[0] == 200
        self.api("GET", "/api/v1/cases/{case_id}/versions/{version}", "unit", version="1")
        for keep in (True, False):
            status, answer = self.api("POST", "/api/v1/cases/{case_id}/attachments", "unit", {
                "filename": "说明书.pdf", "content_type": "application/pdf", "size": len(PDF)})
            assert status == 201, answer
            self._upload(answer["upload"]["fields"])
            aid = answer["attachment_id"]
            self.api("POST", "/api/v1/cases/{case_id}/attachments/{attachment_id}/confirm", "unit", attachment_id=aid)
            if keep:
                self.ids["attachment_id"] = aid
                self.api("GET", "/api/v1/cases/{case_id}/attachments/{attachment_id}", "unit")
            else:
                self.api("DELETE", "/api/v1/cases/{case_id}/attachments/{attachment_id}", "unit", attachment_id=aid)
        assert self.api("POST", "/api/v1/cases/{case_id}/submit", "unit")[0] == 200
        for route in ("/cases", "/cases/new", "/cases/{case_id}", "/cases/{case_id}/edit", "/cases/{case_id}/versions",
                      "/cases/{case_id}/attachments/{attachment_id}"):
            self.page("GET", route, "unit")
        self.page("GET", "/cases/{case_id}/versions/{version}", "unit", version="1")
        self.page("POST", "/login", "anonymous", {"username": "unit2", "password": PASSWORD})

    def _upload(self, fields: dict[str, str]) -> None:
        from chalicelib import bootstrap
        bootstrap.s3().put_object(Bucket=bootstrap.config().bucket, Key=fields["key"], Body=PDF,
                                  ContentType=fields["Content-Type"])

    def _judges(self) -> None:
        for n in range(1, 10):
            status, judge = self.api("POST", "/api/v1/admin/judges", "organiser", {
                "name": f"评委{n}", "email": f"j{n}@example.org", "affiliation": f"评审机构{n}",
                "categories": ["development"]})
            assert status == 201, judge
            self.ids.setdefault("judge_id", judge["id"])

    def _judge_session(self, stage: str) -> list[dict[str, Any]]:
        status, issued = self.api("POST", "/api/v1/admin/stages/{stage_id}/links", "organiser", stage_id=stage)
        assert status == 200, issued
        links = issued["links"]
        from tests.integration.mailbox import send_queued
        send_queued()            # the invitations go, as the queued sender's schedule sends them (not metered)
        self.ids["token"] = links[0]["url"].rsplit("/j/", 1)[1]
        self.page("GET", "/j/{token}", "anonymous")
        status, session = self.api("POST", "/api/v1/judge/sessions", "anonymous", {"link": self.ids["token"]})
        assert status == 200, session
        self.tokens["judge"] = session["token"]
        return links

    def text_review(self) -> None:
        self.at("text_review", datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
        self.organiser()
        self.review()
        self._judges()
        self.api("GET", "/api/v1/admin/judges", "organiser")
        self.api("PUT", "/api/v1/admin/judges/{judge_id}", "organiser", {
            "name": "评委1", "email": "j1@example.org", "affiliation": "评审机构1", "categories": ["development"]})
        status, plan = self.api("POST", "/api/v1/admin/stages/{stage_id}/assignments", "organiser",
                                {"judges_per_case": 5}, stage_id="text_review")
        assert status == 200, plan
        self.api("GET", "/api/v1/admin/stages/{stage_id}/assignments", "organiser", stage_id="text_review")
        links = self._judge_session("text_review")
        self.api("DELETE", "/api/v1/admin/judges/{judge_id}/links/{stage_id}", "organiser",
                 judge_id=links[-1]["judge_id"], stage_id="text_review")
        self.page("GET", "/judge", "judge")
        _, mine = self.api("GET", "/api/v1/judge/cases", "judge")
        first, second = mine["cases"][0]["id"], mine["cases"][1]["id"]
        self.api("GET", "/api/v1/judge/cases/{case_id}", "judge", case_id=first)
        self.page("GET", "/judge/cases/{case_id}", "judge", case_id=first)
        self.api("PUT", "/api/v1/judge/cases/{case_id}/score", "judge",
                 {"criteria": CRITERIA["development"], "comment": "评语"}, case_id=first)
        self.page("POST", "/judge/cases/{case_id}/score", "judge",
                  {f"criteria.{k}": str(v) for k, v in CRITERIA["development"].items()}, case_id=second)
        self.api("POST", "/api/v1/judge/cases/{case_id}/recuse", "judge", {"reason": "曾参与该案例指导"},
                 case_id=mine["cases"][-1]["id"])
        self.page("GET", "/judge/cases/{case_id}/attachments/{attachment_id}", "judge", case_id=self.ids["case_id"])
        # an override: a judge who is not on a case, added and removed again
        status, slots = self.api("GET", "/api/v1/admin/stages/{stage_id}/assignments", "organiser",
                                 stage_id="text_review")
        self.api("GET", "/api/v1/admin/stages/{stage_id}/ranking", "organiser", stage_id="text_review")
        self.api("GET", "/api/v1/admin/stages/{stage_id}/fairness", "organiser", stage_id="text_review")
        self._score_everything("text_review")
        self.api("POST", "/api/v1/admin/stages/{stage_id}/close", "organiser", stage_id="text_review")
        self.api("GET", "/api/v1/admin/stages/{stage_id}/ranking", "organiser", stage_id="text_review")

    def review(self) -> None:
        """审核 before the assignments: one case accepted over the API, one returned from the console, corrected
        by its unit and submitted again (so the competition goes on with all nine)."""
        self.page("GET", "/admin/review", "organiser")
        self.api("POST", "/api/v1/admin/cases/{case_id}/review", "organiser", {"decision": "accepted"})
        returned = self.ids["case_of_unit3"]
        self.page("POST", "/admin/review/{case_id}", "organiser", {
            "decision": "returned", "reason": "请补充成果数据", "resubmit_by": "2023-06-13T18:00"}, case_id=returned)
        self.tokens["unit3"] = self._fresh("unit3")
        self.page("GET", "/cases/{case_id}", "unit3", case_id=returned)
        assert self.api("POST", "/api/v1/cases/{case_id}/submit", "unit3", case_id=returned)[0] == 200

    def _score_everything(self, stage: str) -> None:
        """The other judges score (not metered: the visits above measured the scoring routes)."""
        status, issued = self.api("POST", "/api/v1/admin/stages/{stage_id}/links", "organiser", stage_id=stage)
        for link in issued["links"]:
            token = self.client.http.post("/api/v1/judge/sessions", headers={"Content-Type": "application/json"},
                                          body=json.dumps({"link": link["url"].rsplit("/j/", 1)[1]}).encode())
            auth = {"Authorization": f"Bearer {json.loads(token.body)['token']}", "Content-Type": "application/json"}
            mine = json.loads(self.client.http.get("/api/v1/judge/cases", headers=auth).body)["cases"]
            for case in mine:
                self.client.http.put(f"/api/v1/judge/cases/{case['id']}/score", headers=auth,
                                     body=json.dumps({"criteria": CRITERIA["development"]}).encode())

    def coaching(self) -> None:
        self.at("coaching", datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
        self.organiser()
        self.api("POST", "/api/v1/admin/stages/{stage_id}/assignments", "organiser", {}, stage_id="coaching")
        self._judge_session("coaching")
        _, mine = self.api("GET", "/api/v1/judge/cases", "judge")
        for case in mine["cases"][:1]:
            self.api("PUT", "/api/v1/judge/cases/{case_id}/feedback", "judge", {"points": ["建议补充量化成效"]},
                     case_id=case["id"])
            self.page("POST", "/judge/cases/{case_id}/feedback", "judge", {"points": ["成果请量化"]},
                      case_id=case["id"])
            owner = next(u for u in ("unit1", "unit2", "unit3")
                         if self.client.http.get(f"/api/v1/cases/{case['id']}", headers={
                             "Authorization": f"Bearer {self._fresh(u)}"}).status_code == 200)
            self.tokens["unit"] = self._fresh(owner)
            self.ids["coached_case"] = case["id"]
            self.api("GET", "/api/v1/cases/{case_id}/feedback", "unit", case_id=case["id"])
            _, fb = self.api("GET", "/api/v1/cases/{case_id}/feedback/replies", "unit", case_id=case["id"])
            keys = [p["key"] for e in fb["feedback"] for p in e["points"]]
            self.api("PUT", "/api/v1/cases/{case_id}/feedback/replies", "unit", {"replies": {keys[0]: "已补充"}},
                     case_id=case["id"])
            self.page("GET", "/cases/{case_id}/feedback", "unit", case_id=case["id"])
            self.page("POST", "/cases/{case_id}/feedback", "unit", {f"reply.{keys[0]}": "已补充数据"},
                      case_id=case["id"])
            self._presentation(case["id"])
        self.tokens["unit"] = self._fresh("unit1")

    def _presentation(self, case_id: str) -> None:
        """The advanced case's unit uploads its 综合评选 presentation (a PDF) and reads it back."""
        status, answer = self.api("POST", "/api/v1/cases/{case_id}/presentation", "unit", {
            "filename": "汇报.pdf", "content_type": "application/pdf", "size": len(PDF)}, case_id=case_id)
        assert status == 201, answer
        self._upload(answer["upload"]["fields"])
        assert self.api("POST", "/api/v1/cases/{case_id}/presentation/confirm", "unit", case_id=case_id)[0] == 200
        self.api("GET", "/api/v1/cases/{case_id}/presentation", "unit", case_id=case_id)
        self.page("GET", "/cases/{case_id}/presentation", "unit", case_id=case_id)
        self.page("GET", "/cases/{case_id}", "unit", case_id=case_id)

    def _fresh(self, user: str) -> str:
        response = self.client.http.post("/api/v1/sessions", headers={"Content-Type": "application/json"},
                                         body=json.dumps({"username": user, "password": PASSWORD}).encode())
        return json.loads(response.body)["token"]

    def final(self) -> None:
        self.at("final", datetime(2023, 6, 26, 9, 0, tzinfo=CHINA))
        self.organiser()
        self.api("POST", "/api/v1/admin/stages/{stage_id}/assignments", "organiser", {}, stage_id="final")
        self.api("POST", "/api/v1/admin/stages/{stage_id}/draw", "organiser", {"seed": "hall-2023"}, stage_id="final")
        self.api("GET", "/api/v1/admin/stages/{stage_id}/draw", "organiser", stage_id="final")
        self._judge_session("final")
        _, mine = self.api("GET", "/api/v1/judge/cases", "judge")
        self.api("PUT", "/api/v1/judge/cases/{case_id}/score", "judge", {"criteria": CRITERIA["development"]},
                 case_id=mine["cases"][0]["id"])
        self.api("GET", "/api/v1/admin/final/scoreboard?category=development", "organiser")
        self.visits[-1].route = "/api/v1/admin/final/scoreboard"
        self.page("GET", "/admin/final/scoreboard", "organiser")
        self.api("POST", "/api/v1/admin/final/live", "organiser",
                 {"category": "development", "action": "present", "case_id": mine["cases"][0]["id"]})
        self.api("GET", "/api/v1/judge/final/live", "judge")
        self.api("GET", "/api/v1/judge/cases/{case_id}/presentation", "judge", case_id=self.ids["coached_case"])
        self.page("GET", "/admin/final/control", "organiser")
        status, job = self.api("POST", "/api/v1/admin/exports", "organiser",
                               {"kind": "presentations_zip", "category": "development"})
        assert status == 202, job
        from scripts import local_jobs
        local_jobs.run_queued_exports()
        self._score_everything("final")
        self.api("POST", "/api/v1/admin/stages/{stage_id}/close", "organiser", stage_id="final")

    def provincial(self) -> None:
        self.at("provincial", datetime(2023, 7, 12, 9, 0, tzinfo=CHINA))
        self.organiser()
        self.ids["stage_id"] = "final"
        self.api("PUT", "/api/v1/admin/cases/{case_id}/provincial", "organiser", {"recommended": True})
        self.api("PUT", "/api/v1/admin/cases/{case_id}/recommendation", "organiser",
                 {"recommended": True, "reason": "机制创新，成效显著"})
        self._showcase()
        self.api("GET", "/api/v1/admin/honors", "organiser")
        self.api("GET", "/api/v1/admin/organisation-awards", "organiser")
        self.api("POST", "/api/v1/admin/notifications/awards", "organiser")
        status, job = self.api("POST", "/api/v1/admin/exports", "organiser", {"kind": "certificates_pdf"})
        assert status == 202, job
        from scripts import local_jobs
        local_jobs.run_queued_exports()
        self.ids["job_id"] = job["id"]
        self.api("GET", "/api/v1/admin/exports/{job_id}", "organiser")
        self.api("GET", "/api/v1/admin/mail", "organiser")
        archive = {"year": 2022, "cases": [
            {"title": f"往年案例{i}", "unit": "某单位", "category": "development",
             "background": f"党建引领基层治理创新实践第{i}例。" * 20, "innovations": ["创新点"], "results": ["成果"]}
            for i in range(3)]}
        self.api("POST", "/api/v1/admin/archive", "organiser", archive)
        self.api("GET", "/api/v1/admin/originality", "organiser")
        from chalicelib.store.models import Certificate
        code = next(iter(Certificate.scan(limit=1)), None)     # the visitor's printed code (not metered)
        self.ids["code"] = code.code if code else "x0"
        self.page("GET", "/verify/{code}", "anonymous")
        self.page("GET", "/verify", "anonymous")

    def _showcase(self) -> None:
        """优秀案例展示: unit 1 consents to show its awarded case (API, then its case page), the organiser takes it
        down and puts it back, a visitor reads the list and the page."""
        self.tokens["unit"] = self._fresh("unit1")
        self.api("PUT", "/api/v1/cases/{case_id}/showcase", "unit", {"consent": True})
        self.page("POST", "/cases/{case_id}/showcase", "unit", {"consent": "1"})
        self.api("PUT", "/api/v1/admin/cases/{case_id}/showcase", "organiser", {"shown": False, "reason": "待核实"})
        self.page("POST", "/admin/cases/{case_id}/showcase", "organiser", {"shown": "1"})
        status, shown = self.api("GET", "/api/v1/showcase", "anonymous")
        assert (status, [c["id"] for c in shown["cases"]]) == (200, [self.ids["case_id"]]), shown
        self.page("GET", "/showcase", "anonymous")

    # -- the sweep: every route not visited yet -------------------------------------------------------
    def sweep(self) -> None:
        from tests.integration.test_authorization_matrix import rule_for
        self.stage = "after"
        self.tokens["unit"] = self._fresh("unit1")          # sessions of earlier stages have expired by now
        self.ids.setdefault("stage_id", "final")
        self.ids.setdefault("version", "1")
        self.ids.setdefault("name", "app.css")
        seen = {(v.method, v.route) for v in self.visits}
        ends_a_session = ("/api/v1/sessions/current", "/logout", "/judge/logout", "/api/v1/account/sessions",
                          "/account/sessions/end-all")
        for method, route in sorted(routes(), key=lambda r: r[1] in ends_a_session):
            if (method, route) in seen:
                continue
            role = {"public": "anonymous", "organiser": "organiser", "judge": "judge", "owner": "unit",
                    "any-session": "unit", "account": "unit"}[rule_for(method, route)]
            if route.startswith("/api/"):
                self.api(method, route, role, {} if method in ("POST", "PUT") else None, how="plain")
            else:
                self.page(method, route, role, {} if method == "POST" else None, how="plain")


def fill(route: str, ids: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        return ids.get(match.group(1), "x0")
    return re.sub(r"\{(\w+)\}", one, route)
