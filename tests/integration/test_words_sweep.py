"""No English ids, Python names or raw times on any page, mail or sheet.

A small competition is driven through its five stages (tests/integration/route_tour.py: the scripted uses of the
routes, then every route of the app's route table), recording the visible text of every page it gets. Then every
GET page of the route table is fetched again, as each role that may see it, at the end of the competition (every
stage filled in where the route has one), every mail the emulated SES sent is read, and every export kind is made
and read (openpyxl, python-docx, pypdf). Data-driven: a page added to the route table, a mail kind or an export
kind is swept without a line here.

Fails on, in visible text (tags stripped; attribute values, URLs, scripts and styles ignored):
- an ISO-8601 time or date (2023-06-09T…, 2023-06-09): people read 2023年6月9日 18:00;
- an epoch-like number (1686300000, 1686300000.5);
- Python's None / True / False, a repr ({'…', […', object at 0x…, Decimal(…), datetime.…);
- the English id of a category, criterion, stage, case status, prize or honor (development, text_review, …);
- chalice's or API Gateway's English answers (Missing Authentication Token, Unsupported method, …).
- an internal name: an audit actor (unit:unit1) or action (case.submit).
The JSON API keeps its ISO times and ids (the contract); its error messages are checked for Python names,
reprs and English errors only (an API message may show the ISO format or name the ids a field takes).
"""
from __future__ import annotations

import html as htmllib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks.aws_calls import Meter
from chalicelib.domain.cases import STATUSES
from chalicelib.domain.competition import STAGE_ORDER
from tests.integration.mailbox import bodies, ses_messages
from tests.integration.route_tour import Tour, fill, routes

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

TIME_PATTERNS = {
    "ISO time": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}"),
    "ISO date": re.compile(r"(?<![\d-])(19|20)\d{2}-\d{2}-\d{2}(?![\d-]|T\d)"),
    "epoch number": re.compile(r"(?<![\d.])1[5-9]\d{8}(\.\d+)?(?![\d.])"),
}
PYTHON_PATTERNS = {
    "Python None/True/False": re.compile(r"\b(None|True|False)\b"),
    "Python repr": re.compile(r"\{'|\['|'\]|'\}|object at 0x|Decimal\(|datetime\.|<chalicelib|Traceback"),
    "internal name": re.compile(r"(?<![\w@./-])((unit|organiser|judge|system):[\w-]+|(case|score|feedback|assignment|"
                                r"attachment|stage|judge|link|account|session|mail|export|archive)\.[a-z_]+)(?![\w@/-])"),
    "English error": re.compile(r"Missing Authentication|Unsupported (method|media)|BadRequest|NotFoundError|"
                                r"Internal server error|An internal server error|Forbidden\b|Not Found\b"),
}


def english_ids() -> set[str]:
    from chalicelib import competitions
    from chalicelib.config import settings
    from chalicelib.domain.competition import competition_from_config
    comp = competition_from_config(competitions.load(settings().competition_id))   # the packaged one: no table read
    ids = {c.id for c in comp.categories} | {k.id for c in comp.categories for k in c.criteria}
    ids |= set(STAGE_ORDER) | set(STATUSES) | {"returned", "rejected"}
    ids |= {p["id"] for p in comp.raw.get("prizes", [])} | {h["id"] for h in comp.raw.get("honors", {}).get("rules", [])}
    return ids


def id_pattern() -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9_@./-])(" + "|".join(sorted(english_ids(), key=len, reverse=True))
                      + r")(?![A-Za-z0-9_@./-])")


def visible(page: str) -> str:
    """What a person reads: no scripts, styles or tags (so no attribute values), entities decoded."""
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(htmllib.unescape(page).split())


@dataclass
class Seen:
    where: str
    text: str
    api: bool = False            # an API message: ISO times and ids are the contract's words there


def faults(seen: list[Seen]) -> list[tuple[str, str, str]]:
    """(where, what, the text around it): one entry per place, kind of fault and offending word."""
    ids = id_pattern()
    found: dict[tuple[str, str, str], str] = {}
    for s in seen:
        checks = PYTHON_PATTERNS if s.api else {**TIME_PATTERNS, **PYTHON_PATTERNS, "English id": ids}
        for name, pattern in checks.items():
            for match in pattern.finditer(s.text):
                start = max(0, match.start() - 30)
                found.setdefault((s.where, name, match.group(0)), s.text[start:match.end() + 30])
    return sorted((where, name, text) for (where, name, _), text in found.items())


class RecordingTour(Tour):
    """The route tour, keeping what each page showed and what each API refusal said."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen: list[Seen] = []
        self.pages_seen: set[str] = set()          # routes of the pages fetched with GET

    def page(self, method: str, route: str, role: str, form: dict[str, Any] | None = None, how: str = "scripted",
             **params: str) -> tuple[int, str]:
        status, text = super().page(method, route, role, form, how, **params)
        if method == "GET":
            self.pages_seen.add(route)
        self.keep(f"{method} {fill(route, {**self.ids, **params})} as {role} ({status}, {self.stage})", route, text)
        return status, text

    def api(self, method: str, route: str, role: str, body: Any = None, raw: bytes | None = None,
            how: str = "scripted", content_type: str = "application/json", **params: str) -> tuple[int, Any]:
        status, data = super().api(method, route, role, body, raw, how, content_type, **params)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            error = data["error"]
            said = " ".join([str(error.get("message"))] + [str(v) for v in (error.get("fields") or {}).values()])
            self.seen.append(Seen(f"{method} {route} as {role} ({status}): API message", said, api=True))
        return status, data

    def keep(self, where: str, route: str, body: str) -> None:
        if route.endswith(".xlsx") and "(302," in where:                 # a download: read it as a sheet
            from tests.browser import followed_download
            response = self.client.http.get(fill(route, self.ids),
                                            headers={"Cookie": f"sp_session={self.tokens['organiser']}"})
            data, _ = followed_download(response)
            self.seen += [Seen(f"{where}: {cell}", text) for cell, text in document_texts(route, data)]
            return
        if route.startswith("/static/") or route == "/favicon.ico" or not body:
            return
        if re.match(r"\s*<!doctype html", body, re.I):
            self.seen.append(Seen(where, visible(body)))
        elif "\ufffd" not in body and not body.startswith("%PDF"):
            self.seen.append(Seen(where, body))          # a plain-text answer (没有这个文件)

    # -- the mails that the schedules send (as EventBridge would run them) -----------------------------
    def submission(self) -> None:
        """Then a unit with only a draft, and the reminder it gets three days before the deadline."""
        from datetime import datetime

        from chalicelib.jobs import reminders
        from tests.conftest import CHINA, case_body
        from tests.integration.route_tour import PASSWORD
        super().submission()
        account = {"username": "unit4", "password": PASSWORD, "unit_name": "丁单位", "unit_system": "district",
                   "district": "福田区", "contact_name": "李四", "email": "u4@example.gov.cn", "mobile": "13900139000"}
        assert self.api("POST", "/api/v1/accounts", "anonymous", account)[0] == 201
        self.login("unit4", "unit4", PASSWORD)
        status, draft = self.api("POST", "/api/v1/cases", "unit4", case_body(recommending_unit="丁单位",
                                                                               title="尚未提交的草稿"))
        assert status == 201, draft
        self.clock.set(datetime(2023, 6, 7, 11, 30, tzinfo=CHINA))           # 2½ days before it closes
        assert reminders.send_reminders()["deadline_reminder"] == 1

    def text_review(self) -> None:
        """Then the results mail (advanced / not advanced) that the 5-minute schedule sends after the close."""
        from chalicelib.jobs import schedules
        super().text_review()
        schedules.close_due_stages()

    def coaching(self) -> None:
        """Then the hourly notice to the unit whose case got coaching feedback."""
        from chalicelib.jobs import reminders
        super().coaching()
        assert reminders.send_reminders()["feedback_available"] >= 1

    # -- after the tour: every page again, as each role that may see it -------------------------------
    def every_page(self) -> None:
        from tests.integration.test_authorization_matrix import rule_for
        self.tokens["unit"] = self._fresh("unit1")
        self.organiser()
        page_routes = sorted({r for m, r in routes() if m == "GET" and not r.startswith(("/api/", "/static/"))})
        for route in page_routes:
            who = rule_for("GET", route)
            roles = {"public": ("anonymous", "unit", "organiser"), "organiser": ("organiser",),
                     "judge": ("judge",), "owner": ("unit", "organiser"), "any-session": ("unit", "organiser"),
                     "account": ("unit", "organiser")}[who]
            stages = STAGE_ORDER if "{stage_id}" in route or "{stage}" in route else (None,)
            for role in roles:
                for stage in stages:
                    extra = {"stage_id": stage, "stage": stage} if stage else {}
                    self.page("GET", route, role, how="plain", **extra)

    def downloads(self) -> None:
        """The Word files that `/` offers (大赛通知, the 参赛案例说明书 template), read as a visitor opens them."""
        from chalicelib import bootstrap
        from chalicelib.domain.documents import downloads
        from tests.integration.test_downloads import download
        for offered in downloads(bootstrap.competition()):
            self.seen += [Seen(f"GET /downloads/{offered.name}: {where}", text)
                          for where, text in document_texts(offered.name, download(self.client, offered.name))]

    def judge_pages(self) -> None:
        """The judge's pages once more, the day after the final closed (what a judge coming back sees)."""
        from datetime import datetime

        from tests.conftest import CHINA
        self.at("final", datetime(2023, 6, 27, 9, 0, tzinfo=CHINA))
        for route in sorted({r for m, r in routes() if m == "GET" and r.startswith(("/judge", "/j/"))}):
            self.page("GET", route, "judge", how="plain")


def export_texts(tour: RecordingTour) -> list[Seen]:
    from chalicelib import bootstrap
    from chalicelib.services.exports import KINDS
    from scripts import local_jobs
    seen = []
    for kind, spec in KINDS.items():
        status, job = tour.api("POST", "/api/v1/admin/exports", "organiser",
                               {"kind": kind, **({"category": "development"} if spec.per_category else {})})
        assert status == 202, (kind, job)
        local_jobs.run_queued_exports()
        status, view = tour.api("GET", "/api/v1/admin/exports/{job_id}", "organiser", job_id=job["id"])
        assert (status, view["status"]) == (200, "done"), (kind, view)
        data = bootstrap.s3().get_object(Bucket=bootstrap.config().bucket,
                                         Key=f"exports/{job['id']}/{spec.file}")["Body"].read()
        seen += [Seen(f"export {kind}: {where}", text) for where, text in document_texts(spec.file, data)]
    return seen


def document_texts(name: str, data: bytes) -> list[tuple[str, str]]:
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(data))
        return [(f"{ws.title}!{cell.coordinate}", str(cell.value)) for ws in book.worksheets
                for row in ws.iter_rows() for cell in row if cell.value is not None]
    if name.endswith(".docx"):
        from docx import Document
        document = Document(io.BytesIO(data))
        texts = [("paragraph", p.text) for p in document.paragraphs if p.text]
        texts += [("table", cell.text) for t in document.tables for row in t.rows for cell in row.cells if cell.text]
        return texts
    if name.endswith(".pdf"):
        from pypdf import PdfReader
        reader = PdfReader(io.BytesIO(data))
        return [(f"page {n + 1}", (p.extract_text() or "").replace("\x00", "")) for n, p in enumerate(reader.pages)]
    if name.endswith(".txt"):
        return [("text", data.decode("utf-8"))]
    if name == "presentations.zip":     # the units' own files are theirs; the listing is the app's
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(f"{inner}: {where}", text) for inner in z.namelist() if inner.endswith(".txt")
                    for where, text in document_texts(inner, z.read(inner))]
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(f"{inner}: {where}", text) for inner in z.namelist()
                    for where, text in document_texts(inner, z.read(inner))]
    raise AssertionError(f"an export kind this sweep cannot read: {name} (teach document_texts to read it)")


def mail_texts() -> list[Seen]:
    seen = []
    for message in ses_messages():
        text, html = bodies(message)
        where = "mail " + str(message["X-Saiping-Mail"] or message["Subject"]).strip()
        seen += [Seen(f"{where}: subject", str(message["Subject"])), Seen(f"{where}: text", text),
                 Seen(f"{where}: html", visible(html))]
    return seen


ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"     # what Chromium sends for a page


class AsBrowser:
    """The test client, sending a browser's Accept header (the test client sends none: downloads would get 400)."""

    def __init__(self, client: Any) -> None:
        self.http = self
        self._http = client.http

    def __getattr__(self, method: str) -> Any:
        call = getattr(self._http, method)

        def with_accept(path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
            return call(path, headers={"Accept": ACCEPT, **(headers or {})}, **kwargs)
        return with_accept


@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


@pytest.fixture
def swept(client, clock) -> tuple[RecordingTour, list[Seen]]:
    meter = Meter()
    meter.attach_app()
    tour = RecordingTour(AsBrowser(client), meter, clock)
    tour.run()
    tour.every_page()
    tour.downloads()
    mails = mail_texts()
    exports = export_texts(tour)
    tour.judge_pages()
    return tour, tour.seen + mails + exports


def test_no_page_mail_or_sheet_shows_an_english_id_a_python_name_or_a_raw_time(swept):
    from chalicelib.services.exports import KINDS
    tour, seen = swept
    # The control first: what the sweep read is the real thing (every page of the route table, as its people
    # see it; every kind of mail and export), so an empty fault list means something.
    page_routes = {r for m, r in routes() if m == "GET" and not r.startswith(("/api/", "/static/"))}
    assert page_routes - tour.pages_seen == set()
    assert any(s.where.startswith("GET /admin/judges/template.xlsx as organiser") for s in seen)
    assert {n for n in ("notice.docx", "case-form.docx") if any(s.where.startswith(f"GET /downloads/{n}: ") for s in seen)} \
        == {"notice.docx", "case-form.docx"}
    home = next(s.text for s in seen if s.where.startswith("GET / as anonymous"))
    assert "联系人" in home and "选手注册" in home and "参赛案例说明书（模板）" in home
    assert {k for k in KINDS if not any(s.where.startswith(f"export {k}:") for s in seen)} == set()
    kinds = {s.where.split("#")[0].removeprefix("mail ") for s in seen if s.where.startswith("mail ")}
    # (not_advance: the tour's 9 cases all advance within the quota of 15; test_results_api.py sends it)
    assert {"registration", "submission_receipt", "deadline_reminder", "judge_invitation", "advance",
            "feedback_available", "award"} <= kinds
    dashboard = next(s.text for s in seen if s.where.startswith("GET /admin as organiser"))
    assert "发展提质" in dashboard and "文本申报" in dashboard

    found = faults(seen)
    ARTIFACTS.mkdir(exist_ok=True)          # the whole list, to read when this fails
    (ARTIFACTS / "words-sweep.txt").write_text("".join(f"{w}\n  {kind}: …{text}…\n" for w, kind, text in found)
                                               + f"{len(seen)} texts read, {len(found)} faults\n", "utf-8")
    assert found == []


def test_the_checks_catch_what_they_are_for():
    """The patterns themselves: each fault kind is found in a page that has it, and ordinary text passes."""
    bad = {
        "ISO time": "截止时间 2023-06-09T23:59:59+08:00", "ISO date": "出生 1990-01-01",
        "epoch number": "提交于 1686300000.25", "Python None/True/False": "联系人：None",
        "Python repr": "{'points': 3}", "English error": '{"message": "Missing Authentication Token"}',
    }
    bad["internal name"] = "操作人 unit:unit1 case.submit"
    for name, text in bad.items():
        assert {f[1] for f in faults([Seen("t", text)])} == {name}, name
    assert faults([Seen("t", "应为 ISO-8601 时间，如 2023-06-09T23:59:59+08:00；类别 development", api=True)]) == []
    assert [f[1] for f in faults([Seen("t", "{'detail': None}", api=True)])] == ["Python None/True/False", "Python repr"]
    assert [f[1] for f in faults([Seen("t", visible("<td>text_review</td><td>发展提质</td>"))])] == ["English id"]
    fine = visible('<a href="/admin/rankings/text_review" data-x="None">排名</a> 2023年6月9日 18:00 '
                   'u1@example.gov.cn 13800138000 第 1 名 综合评选 final.pdf')
    assert faults([Seen("t", fine)]) == []
