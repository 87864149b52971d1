"""The hostile-input sweep: payloads in every text field a user can set, then every surface that shows them.

One competition is run to the end with a payload in every text field (registration, every field of the
说明书 incl. the points, an attachment's file name, judges from the API, the console form and the xlsx
import, score comments, a recusal reason, coaching feedback and the unit's replies, the archive, the
organisation award form), and then:
  - every page that can show the text (unit portal, judge pages, console, verify) is parsed: no element or
    attribute the payload tried to inject, and the payload text is there, escaped (`check_html`);
  - the query strings and refused forms that echo what was typed (reflected input);
  - the xlsx exports: no formula cell, every cell led by = + - @ tab CR is quote-prefixed text;
  - the PDF certificates and the docx award list: the text is literal;
  - every mail sent: headers without CR/LF from user data, the HTML part escaped, the text part literal;
  - CSRF: every cookie-authenticated write of the route table without (or with a wrong) token is 403;
  - uploads: oversize, wrong type, spoofed bytes, path-like and control-character names;
  - scoring-link tokens: never in the logs, never in a URL after the landing page, no-referrer everywhere.
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from chalicelib.domain.clock import moment
from tests.browser import Browser, csrf_of, text
from tests.conftest import CHINA, Api, Clock, case_body, create_aws_resources, start_competition

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
JS_URL = "javascript:alert(1)"
BIDI = "\u202e\u200b"                     # right-to-left override, zero-width space
LONG = f"{IMG}{SCRIPT}{TEMPLATE}{JS_URL}{BIDI}"    # 84 characters: fits every 100-character field
SHORT = f"{IMG}{TEMPLATE}{BIDI}"                   # 40 characters: fits the 50-character names
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(1+1)")

FIELDS: dict[str, str] = {}              # tag -> the field it was typed into


def hostile(name: str, short: bool = False) -> str:
    """The payload for one field, ending in a tag ([F07]) that says which field it came from."""
    tag = f"[F{len(FIELDS) + 1:02d}]"
    FIELDS[tag] = name
    return (SHORT if short else LONG) + tag


def tags_in(value: str) -> set[str]:
    return set(re.findall(r"\[[FR]\d+\]", value))


# -- checking HTML ----------------------------------------------------------------------------------

class _Parsed(HTMLParser):
    URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.injected: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            self.texts.append(value or "")
            if name.startswith("on"):
                self.injected.append(f"<{tag} {name}=…>")
            if name in self.URL_ATTRS and (value or "").strip().lower().startswith("javascript:"):
                self.injected.append(f"<{tag} {name}={value}>")
        if tag == "script" and not values.get("src"):
            self.injected.append("<script> without src (inline)")
        if tag == "img" and values.get("src") == "x":
            self.injected.append("<img src=x>")

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def check_html(page: str) -> set[str]:
    """Fails if the page carries markup that user text injected; returns the payload tags shown as text."""
    parsed = _Parsed()
    parsed.feed(page)
    parsed.close()
    assert parsed.injected == [], parsed.injected
    for raw in ("<script>alert", "<img src=x", "onerror=alert(1)>", "<svg/onload"):
        # escaped text reads &lt;img src=x onerror=alert(1)&gt;: the raw forms only appear unescaped
        assert re.search(re.escape(raw).replace("onerror", r"(?<!&lt;img src=x )onerror"), page) is None, raw
    shown = "".join(parsed.texts)
    found = tags_in(shown)
    for tag in found:   # every payload that is shown is shown whole, as the literal text that was typed
        assert TEMPLATE in shown and "<script>alert(1)</script>" in shown or IMG in shown, tag
    return found


def test_the_html_check_catches_unescaped_payloads():
    for bad in (f"<p>{SCRIPT}</p>", f'<input value="{IMG}">', f'<a href="{JS_URL}">x</a>',
                '<svg/onload=alert(1)>', '<div onmouseover="x">'):
        with pytest.raises(AssertionError):
            check_html(bad)
    from markupsafe import escape
    assert check_html(f'<p>{escape(LONG + "[F01]")}</p><input value="{escape(SHORT + "[F02]")}">') == {"[F01]", "[F02]"}


# -- CSRF, uploads, link tokens (each on a fresh emulated AWS; they run before the shared world is built) --

@pytest.fixture
def small(api, clock):
    """A unit with a submitted case, text_review open, an organiser and a judge with a scoring link."""
    from tests.conftest import register_unit
    from tests.integration.test_judging_api import organiser
    unit = api.as_(register_unit(api, 1))
    case = _ok(unit.call("POST", "/cases", case_body()), 201)["id"]
    _ok(unit.call("POST", f"/cases/{case}/submit"))
    draft = _ok(unit.call("POST", "/cases", case_body()), 201)["id"]
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge = _ok(org.call("POST", "/admin/judges", {"name": "评委", "email": "j@example.org", "affiliation": "某大学",
                                                   "categories": ["development"]}), 201)["id"]
    _ok(org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1}))
    link = _ok(org.call("POST", "/admin/stages/text_review/links"))["links"][0]["url"].rsplit("/j/", 1)[1]
    unit = api.as_(_ok(api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"}))["token"])
    return {"unit": unit, "org": org, "case": case, "draft": draft, "judge": judge, "link": link}


def _cookie_browser(client, token: str) -> Browser:
    browser = Browser(client)
    browser.jar["sp_session"] = token
    return browser


def test_every_cookie_authenticated_write_without_the_csrf_token_is_403(client, api, small):
    """Every non-GET route of the route table, with the right role's session cookie: no token, a wrong token."""
    from app import app
    unit_cookie = small["unit"].token
    org_cookie = small["org"].token
    judge_session = _ok(api.call("POST", "/judge/sessions", {"link": small["link"]}))["token"]
    ids = {"case_id": small["case"], "stage_id": "text_review", "judge_id": small["judge"], "attachment_id": "a1",
           "job_id": "j1", "version": "1", "token": small["link"], "session_id": "s1", "username": "unit1",
           "competition_id": "shenzhen-2023"}
    public = {("POST", "/api/v1/accounts"), ("POST", "/api/v1/sessions"), ("POST", "/api/v1/judge/sessions"),
              ("POST", "/api/v1/password-resets"), ("POST", "/api/v1/password-resets/{token}")}
    anonymous_forms = {"/login", "/register", "/judge/start", "/password-reset", "/reset/{token}"}
    checked, failures = [], []
    for path, entries in sorted(app.routes.items()):
        for method in sorted(entries):
            if method == "GET" or (method, path) in public:
                continue
            url = path.format(**ids)
            if path.startswith("/api/v1/admin") or path.startswith("/admin"):
                cookie = org_cookie
            elif path.startswith("/api/v1/judge") or path.startswith("/judge"):
                cookie = judge_session
            else:
                cookie = unit_cookie
            for variant in ("missing", "wrong"):
                browser = _cookie_browser(client, cookie)
                if path in anonymous_forms:
                    token = csrf_of(text(browser.get("/login")))
                    fields = {"username": "unit1", "password": "correct-horse-1", "link": small["link"],
                              **({"csrf_token": token[::-1]} if variant == "wrong" else {})}
                    response = browser.post(url, fields)
                elif path.startswith("/api/"):
                    headers = {"Cookie": f"sp_session={cookie}", "Content-Type": entries[method].content_types[0],
                               **({"X-CSRF-Token": "wrong-token"} if variant == "wrong" else {})}
                    response = getattr(client.http, method.lower())(url, headers=headers, body=b"{}")
                else:
                    response = browser.post(url, {"csrf_token": "wrong-token"} if variant == "wrong" else {})
                if response.status_code != 403 or "安全校验失败（CSRF）" not in response.body.decode():
                    failures.append((method, path, variant, response.status_code, response.body[:200].decode()))
            checked.append((method, path))
    assert failures == []
    assert len(checked) >= 50
    # nothing was written: the case is still submitted, the judge still has the one unscored slot
    assert small["unit"].call("GET", f"/cases/{small['case']}")[1]["status"] == "submitted"
    assert [c["scored"] for c in api.as_(judge_session).call("GET", "/judge/cases")[1]["cases"]] == [False]
    print(f"\nCSRF: {len(checked)} cookie-authenticated write routes x 2 variants -> 403")


UPLOAD_REFUSED = [
    ("../../etc/passwd", "application/pdf", 100, 400, "filename"),
    ("x.pdf\x00.exe", "application/pdf", 100, 400, "filename"),
    ("a\r\nContent-Type: text/html.pdf", "application/pdf", 100, 400, "filename"),
    ("a" * 300 + ".pdf", "application/pdf", 100, 400, "filename"),
    ("....pdf", "application/pdf", 100, 400, "filename"),
    ("x.exe", "application/x-msdownload", 100, 400, "filename"),
    ("x.svg", "image/svg+xml", 100, 400, "filename"),
    ("x.html", "text/html", 100, 400, "filename"),
    ("x.pdf", "text/html", 100, 400, "content_type"),
    ("x.pdf", "application/pdf", 50 * 1024 * 1024 + 1, 413, "size"),
    ("x.mp4", "video/mp4", 500 * 1024 * 1024 + 1, 413, "size"),
    ("x.pdf", "application/pdf", -1, 400, "size"),
    ("x.pdf", "application/pdf", "100", 400, "size"),
    ("x.pdf", "application/pdf", True, 400, "size"),
    (["x.pdf"], "application/pdf", 100, 400, "filename"),
    ("", "application/pdf", 100, 400, "filename"),
]


@pytest.mark.parametrize("filename,content_type,size,status,field", UPLOAD_REFUSED)
def test_a_hostile_upload_declaration_is_refused_with_a_chinese_message(api, clock, filename, content_type, size,
                                                                        status, field):
    from tests.conftest import register_unit
    unit = api.as_(register_unit(api, 1))
    case = _ok(unit.call("POST", "/cases", case_body()), 201)["id"]
    got, body = unit.call("POST", f"/cases/{case}/attachments",
                          {"filename": filename, "content_type": content_type, "size": size})
    assert got == status, body
    assert field in body["error"]["fields"] and re.search(r"[\u4e00-\u9fff]", body["error"]["fields"][field]), body
    assert _ok(unit.call("GET", f"/cases/{case}"))["attachments"] == []


def test_path_like_names_keep_only_the_file_name_and_never_reach_the_key(client, api, clock):
    from urllib.parse import unquote

    from chalicelib import bootstrap
    from tests.conftest import register_unit
    unit = api.as_(register_unit(api, 1))
    case = _ok(unit.call("POST", "/cases", case_body()), 201)["id"]
    pdf, docx = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    for name, kind, shown in (("a/b.pdf", pdf, "b.pdf"), ("..\\x.docx", docx, "x.docx"),
                              ("../../../tmp/报告.pdf", pdf, "报告.pdf"), ('a";b=c.pdf', pdf, 'a";b=c.pdf')):
        declared = _ok(unit.call("POST", f"/cases/{case}/attachments",
                                 {"filename": name, "content_type": kind, "size": 10}), 201)
        aid = declared["attachment_id"]
        assert declared["upload"]["fields"]["key"] == f"uploads/{case}/{aid}"
        record = next(a for a in _ok(unit.call("GET", f"/cases/{case}"))["attachments"] if a["attachment_id"] == aid)
        assert record["filename"] == shown
        if kind == pdf:
            bootstrap.files().put(f"uploads/{case}/{aid}", b"%PDF-%%EOF", pdf)   # the declared 10 bytes
            _ok(unit.call("POST", f"/cases/{case}/attachments/{aid}/confirm"))
            url = _ok(unit.call("GET", f"/cases/{case}/attachments/{aid}"))["url"]
            assert re.search(rf"/cases/{case}/{aid}/[0-9a-f]{{16}}\?", url), url
            disposition = unquote(url.split("response-content-disposition=", 1)[1].split("&", 1)[0])
            assert disposition == "attachment; filename*=UTF-8''" + quote(shown, safe="")
    keys = [o["Key"] for o in bootstrap.s3().list_objects_v2(Bucket=bootstrap.config().bucket).get("Contents", [])]
    assert keys and all(re.fullmatch(rf"cases/{case}/\w+/\w+|uploads/{case}/\w+", k) for k in keys), keys


@pytest.mark.parametrize("filename,content_type,stored", [
    ("x.pdf", "application/pdf", b"<html><script>alert(1)</script></html>"),
    ("x.png", "image/png", b"%PDF-1.4\n000000000000000000"),
    ("x.jpg", "image/jpeg", b"\x89PNG\r\n\x1a\n00000000000000"),
    ("x.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04" + b"0" * 40),
    ("x.doc", "application/msword", b"MZ\x90\x00" + b"0" * 40),
    ("x.mp4", "video/mp4", b"GIF89a" + b"0" * 40),
])
def test_spoofed_bytes_are_refused_at_confirm_and_removed(api, clock, filename, content_type, stored):
    from chalicelib import bootstrap
    from tests.conftest import register_unit
    unit = api.as_(register_unit(api, 1))
    case = _ok(unit.call("POST", "/cases", case_body()), 201)["id"]
    aid = _ok(unit.call("POST", f"/cases/{case}/attachments",
                        {"filename": filename, "content_type": content_type, "size": len(stored)}), 201)["attachment_id"]
    bootstrap.files().put(f"uploads/{case}/{aid}", stored, content_type)
    got, body = unit.call("POST", f"/cases/{case}/attachments/{aid}/confirm")
    assert got == 400 and "file" in body["error"]["fields"] and "不符" in body["error"]["message"], body
    assert bootstrap.files().head(f"cases/{case}/{aid}") is None
    assert bootstrap.files().head(f"uploads/{case}/{aid}") is None


def test_scoring_link_tokens_stay_out_of_logs_urls_and_referers(client, api, small, caplog):
    """The whole judge flow at DEBUG: the link token (and its random part) never in a log record; every
    judge response says no-referrer; after the landing page no URL carries the token."""
    from chalicelib.services.judging import read_link
    from chalicelib import bootstrap
    caplog.set_level(logging.DEBUG)
    token = small["link"]
    secret = read_link(bootstrap.config(), token)["r"]
    org = small["org"]
    reissued = _ok(org.call("POST", "/admin/stages/text_review/links"))["links"][0]["url"].rsplit("/j/", 1)[1]
    browser = Browser(client)
    assert browser.get(f"/j/{token}").status_code == 401      # the re-issued link replaced it
    token, secret = reissued, read_link(bootstrap.config(), reissued)["r"]
    responses = []
    landing = browser.get(f"/j/{token}")
    responses.append(landing)
    page = text(landing)
    assert landing.status_code == 200
    # the token is only in the form that POSTs it, never in a link, a script or a resource URL
    assert [m.start() for m in re.finditer(re.escape(token), page)] == [page.index(f'name="link" value="{token}"') + 19]
    start = browser.post("/judge/start", {"link": token, "csrf_token": csrf_of(page)})
    responses.append(start)
    assert start.status_code == 303 and start.headers["Location"] == "/judge"
    assert token not in browser.jar["sp_session"] and secret not in browser.jar["sp_session"]
    listing = browser.get("/judge")
    responses.append(listing)
    case_page = browser.get(f"/judge/cases/{small['case']}")
    responses.append(case_page)
    csrf = csrf_of(text(case_page))
    saved = browser.post(f"/judge/cases/{small['case']}/score", {
        "csrf_token": csrf, "criteria.foresight": "27", "criteria.practicality": "25", "criteria.effectiveness": "30",
        "comment": "好"})
    responses.append(saved)
    assert saved.status_code == 303 and token not in saved.headers["Location"]
    responses.append(browser.get("/judge?done=saved"))
    responses.append(browser.post("/judge/logout", {"csrf_token": csrf}))
    responses.append(Browser(client).get("/j/" + token[:-2] + "xx"))     # an altered link: 401 page
    for response in responses:
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert token not in response.headers.get("Location", "")
    for response in responses[1:-1]:
        assert token not in text(response) and secret not in text(response)
    logged = [(r.name, r.getMessage()) for r in caplog.records]
    assert logged, "DEBUG logging captured nothing"
    assert [n for n, m in logged if token in m or secret in m] == []


def test_the_local_runner_cuts_link_tokens_out_of_request_lines(capsys):
    from scripts.run_local import _print_redacted
    lines = ['127.0.0.1 - - [26/Nov/2026 10:00:00] "GET /j/eyJqIjoiYWJjIn0.Zm9v-bar_baz HTTP/1.1" 200 -\n',
             '127.0.0.1 - - [26/Nov/2026 10:00:01] "GET /j/abc.def?x=1 HTTP/1.1" 401 -\n',
             '127.0.0.1 - - [26/Nov/2026 10:00:02] "POST /judge/start HTTP/1.1" 303 -\n',
             '127.0.0.1 - - [26/Nov/2026 10:00:03] "GET /reset/Q29kZS1yZXNldA-_x HTTP/1.1" 200 -\n',
             '127.0.0.1 - - [26/Nov/2026 10:00:04] "POST /reset/Q29kZS1yZXNldA-_x HTTP/1.1" 303 -\n']
    _print_redacted(io.StringIO("".join(lines)))
    out = capsys.readouterr().out
    assert "eyJqIjoiYWJjIn0" not in out and "abc.def" not in out and "Q29kZS1yZXNldA" not in out
    assert out.count("/j/<link>") == 2 and "POST /judge/start" in out and out.count("/reset/<token>") == 2


# -- the world --------------------------------------------------------------------------------------

ORGANISER = ("hostile-boss", "organiser-pass-1")
PASSWORD = "correct-horse-1"


@dataclass
class World:
    client: Any
    api: Api
    org: Api
    unit: Api
    clock: Clock
    case_a: str = ""                # every field hostile (unit 1)
    case_b: str = ""                # formula-led fields (unit 2)
    attachment: str = ""
    judge_ids: dict[str, str] = field(default_factory=dict)   # label -> id
    pages: list[tuple[str, str, int, str]] = field(default_factory=list)   # (who, path, status, html)
    exports: dict[str, bytes] = field(default_factory=dict)
    link_tokens: list[str] = field(default_factory=list)
    payloads: dict[str, str] = field(default_factory=dict)   # name -> exact value typed
    browsers: dict[str, Browser] = field(default_factory=dict)


def _ok(result: tuple[int, Any], status: int = 200) -> Any:
    assert result[0] == status, result
    return result[1]


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import load_workbook

    from chalicelib import bootstrap
    from chalicelib.services.judge_import import template
    wb = load_workbook(io.BytesIO(template(bootstrap.competition())))
    ws = wb.worksheets[0]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _relogin(w: World) -> None:
    """Sessions last 12 hours: after moving the clock, log the organiser and unit 1 in again."""
    w.org = w.api.as_(_ok(w.api.call("POST", "/sessions", {"username": ORGANISER[0], "password": ORGANISER[1]}))["token"])
    w.unit = w.api.as_(_ok(w.api.call("POST", "/sessions", {"username": "hostile1", "password": PASSWORD}))["token"])


def _judge_session(w: World, stage: str) -> dict[str, Api]:
    """Issue the stage's links and open a session for each; label -> the judge's Api."""
    from tests.integration.mailbox import send_queued

    links = _ok(w.org.call("POST", f"/admin/stages/{stage}/links"))["links"]
    send_queued()     # the invitations leave through the queued sender
    by_id = {v: k for k, v in w.judge_ids.items()}
    sessions = {}
    for link in links:
        token = link["url"].rsplit("/j/", 1)[1]
        w.link_tokens.append(token)
        session = _ok(w.api.call("POST", "/judge/sessions", {"link": token}))
        sessions[by_id[link["judge_id"]]] = w.api.as_(session["token"])
    return sessions


def _browser_login(w: World, username: str, password: str) -> Browser:
    browser = Browser(w.client)
    token = csrf_of(text(browser.get("/login")))
    response = browser.post("/login", {"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 303, text(response)
    return browser


def _judge_browser(w: World, token: str) -> Browser:
    browser = Browser(w.client)
    landing = browser.get(f"/j/{token}")
    assert landing.status_code == 200, text(landing)
    w.pages.append(("judge", "/j/<link>", landing.status_code, text(landing)))
    response = browser.post("/judge/start", {"link": token, "csrf_token": csrf_of(text(landing))})
    assert (response.status_code, response.headers["Location"]) == (303, "/judge")
    return browser


def _crawl_judge(w: World, token: str) -> None:
    """The judge's landing, list and every case on it."""
    browser = _judge_browser(w, token)
    _crawl(w, "judge", browser, ["/judge"])
    listed = sorted(set(re.findall(r'href="(/judge/cases/\w+)"', w.pages[-1][3])))
    assert listed
    _crawl(w, "judge", browser, listed)


def _crawl(w: World, who: str, browser: Browser, paths: list[str]) -> None:
    for path in paths:
        response = browser.get(path, headers={"Accept": "text/html"})
        w.pages.append((who, path, response.status_code, response.body.decode("utf-8", "replace")))


def build(w: World) -> None:
    from chalicelib import bootstrap
    from chalicelib.jobs import reminders, schedules
    from chalicelib.services import accounts
    from tests.integration.test_exports_api import read_export, run_jobs

    api, p = w.api, w.payloads
    # Unit 1: every registration text hostile; unit 2: formula-led texts; its hostile address is refused.
    p["unit_name"], p["contact_name"], p["district"] = hostile("单位名称 unit_name"), hostile("联系人 contact_name", True), \
        hostile("所属区 district", True)
    _ok(api.call("POST", "/accounts", {"username": "hostile1", "password": PASSWORD, "unit_name": p["unit_name"],
                                       "unit_system": "district", "district": p["district"],
                                       "contact_name": p["contact_name"], "email": "unit1@example.gov.cn",
                                       "mobile": "13800138000"}), 201)
    unit2 = {"username": "hostile2", "password": PASSWORD, "unit_name": FORMULAS[0], "unit_system": "municipal",
             "contact_name": FORMULAS[3], "mobile": "13800138001"}
    # an address with header characters is refused where it is typed (it could never be mailed)
    refused = api.call("POST", "/accounts", {**unit2, "email": '"><svg/onload=alert(1)>x@example.org'})
    assert refused[0] == 400 and set(refused[1]["error"]["fields"]) == {"email"}, refused
    _ok(api.call("POST", "/accounts", {**unit2, "email": "unit2@example.gov.cn"}), 201)
    w.unit = api.as_(_ok(api.call("POST", "/sessions", {"username": "hostile1", "password": PASSWORD}))["token"])
    unit2 = api.as_(_ok(api.call("POST", "/sessions", {"username": "hostile2", "password": PASSWORD}))["token"])

    leader = {"name": hostile("牵头人姓名 leader.name"), "position": hostile("牵头人职务 leader.position"),
              "office_phone": "0755-88134324", "mobile": "13912345678", "gender": "female",
              "rank_level": "section_or_below", "birth_date": "1990-05-04"}
    contact = {"name": hostile("联系人姓名 contact.name"), "position": hostile("联系人职务 contact.position"),
               "office_phone": "88134324", "mobile": "13712345678"}
    body = case_body(recommending_unit=hostile("推荐单位 recommending_unit"), title=hostile("案例名称 title"),
                     leader=leader, contact=contact,
                     background=hostile("案例背景 background") + "为落实机关党建工作要求，推动党建与业务深度融合。" * 8,
                     innovations=[hostile(f"案例创新点{i} innovations[{i - 1}]") for i in (1, 2, 3)],
                     results=[hostile(f"案例取得的成果{i} results[{i - 1}]") for i in (1, 2, 3)])
    p.update(title=body["title"], recommending_unit=body["recommending_unit"], background=body["background"])
    w.case_a = _ok(w.unit.call("POST", "/cases", body), 201)["id"]
    # an attachment named with the payload (a name with no path in it: the display name keeps it whole)
    p["filename"] = hostile("附件文件名 attachment filename") + ".pdf"
    data = b"%PDF-1.4\n" + b"0" * 64 + b"\n%%EOF\n"
    declared = _ok(w.unit.call("POST", f"/cases/{w.case_a}/attachments",
                               {"filename": p["filename"], "content_type": "application/pdf", "size": len(data)}), 201)
    w.attachment = declared["attachment_id"]
    bootstrap.files().put(declared["upload"]["fields"]["key"], data, "application/pdf")
    _ok(w.unit.call("POST", f"/cases/{w.case_a}/attachments/{w.attachment}/confirm"))
    _ok(w.unit.call("POST", f"/cases/{w.case_a}/submit"))
    formula_body = case_body(title=FORMULAS[0], recommending_unit=FORMULAS[1],
                             leader={**leader, "name": FORMULAS[2], "position": FORMULAS[3]},
                             contact={**contact, "name": "\t=1+1", "position": "\r=1+1"},
                             background="=1+1 " + "背景介绍。" * 20, innovations=["@SUM(1+1)"], results=["-1+1"])
    w.case_b = _ok(unit2.call("POST", "/cases", formula_body), 201)["id"]
    _ok(unit2.call("POST", f"/cases/{w.case_b}/submit"))

    # Text review: judges from the API, the console form and the xlsx import.
    w.clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    accounts.ensure_organiser(bootstrap.deps().accounts, *ORGANISER, bootstrap.config(), bootstrap.now())
    w.org = api.as_(_ok(api.call("POST", "/sessions", {"username": ORGANISER[0], "password": ORGANISER[1]}))["token"])
    p["judge_name"], p["judge_affiliation"] = hostile("评委姓名 judge.name (API)", True), hostile("工作单位 affiliation (API)")
    w.judge_ids["api"] = _ok(w.org.call("POST", "/admin/judges", {
        "name": p["judge_name"], "email": "judge1@example.org", "mobile": "13800138002",
        "affiliation": p["judge_affiliation"], "categories": ["development"],
        "conflicts": [hostile("回避单位 conflicts (API)")]}), 201)["id"]
    w.judge_ids["formula"] = _ok(w.org.call("POST", "/admin/judges", {
        "name": FORMULAS[0][:50], "email": "judge2@example.org", "affiliation": FORMULAS[2],
        "categories": ["development"]}), 201)["id"]
    console = _browser_login(w, *ORGANISER)
    csrf = csrf_of(text(console.get("/admin/judges")))
    p["form_judge_name"] = hostile("评委姓名 judge.name (console form)", True)
    response = console.post("/admin/judges", {"csrf_token": csrf, "name": p["form_judge_name"],
                                              "email": "judge3@example.org", "mobile": "",
                                              "affiliation": hostile("工作单位 affiliation (console form)"),
                                              "categories": "development",
                                              "conflicts": hostile("回避单位 conflicts (console form)")})
    assert response.status_code == 303, text(response)
    p["xlsx_judge_name"] = hostile("评委姓名 judge.name (xlsx import)", True)
    rows = [[p["xlsx_judge_name"], "judge4@example.org", "", hostile("工作单位 affiliation (xlsx import)"),
             "发展提质", hostile("回避单位 conflicts (xlsx import)")],
            [FORMULAS[3], "judge5@example.org", "", FORMULAS[1], "发展提质", ""]]
    headers = {"Authorization": f"Bearer {w.org.token}",
               "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    hostile_address = [[*rows[0][:1], "<script>alert(1)</script>@example.org", *rows[0][2:]], rows[1]]
    refused = w.client.http.post("/api/v1/admin/judges/import", body=_xlsx(hostile_address), headers=headers)
    assert refused.status_code == 400 and "电子邮箱" in refused.body.decode(), refused.body   # all or nothing
    imported = w.client.http.post("/api/v1/admin/judges/import", body=_xlsx(rows), headers=headers)
    assert imported.status_code == 201, imported.body
    for j in _ok(w.org.call("GET", "/admin/judges"))["judges"]:
        if j["id"] not in w.judge_ids.values():
            w.judge_ids[{"judge3@example.org": "form", "judge5@example.org": "xlsx-formula"}.get(j["email"], "xlsx")] = j["id"]
    _ok(w.org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 4}))
    judges = _judge_session(w, "text_review")
    p["comment"] = hostile("评语 score comment")
    criteria = {"foresight": 27.5, "practicality": 25, "effectiveness": 30}
    for label, judge in judges.items():
        for case in _ok(judge.call("GET", "/judge/cases"))["cases"]:
            _ok(judge.call("PUT", f"/judge/cases/{case['id']}/score",
                           {"criteria": criteria, "comment": p["comment"] if label != "formula" else "=1+1 评语"}))
    _crawl_judge(w, w.link_tokens[0])
    p["recusal"] = hostile("回避理由 recusal reason")
    recuser = next(j for j in judges.values() if w.case_b in {c["id"] for c in _ok(j.call("GET", "/judge/cases"))["cases"]})
    _ok(recuser.call("POST", f"/judge/cases/{w.case_b}/recuse", {"reason": p["recusal"]}))
    _ok(w.org.call("POST", "/admin/stages/text_review/close"))
    schedules.close_due_stages()

    # Coaching: feedback points and the unit's replies, and a revision (a second version).
    w.clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
    _relogin(w)
    _ok(w.org.call("POST", "/admin/stages/coaching/assignments", {}))
    coaches = _judge_session(w, "coaching")
    p["feedback"] = hostile("辅导意见 feedback point")
    for judge in coaches.values():
        for case in _ok(judge.call("GET", "/judge/cases"))["cases"]:
            _ok(judge.call("PUT", f"/judge/cases/{case['id']}/feedback", {"points": [p["feedback"], "=1+1 意见"]}))
    view = _ok(w.unit.call("GET", f"/cases/{w.case_a}/feedback/replies"))
    p["reply"] = hostile("回复 feedback reply")
    keys = [pt["key"] for e in view["feedback"] for pt in e["points"]]
    _ok(w.unit.call("PUT", f"/cases/{w.case_a}/feedback/replies", {"replies": {k: p["reply"] for k in keys}}))
    current = _ok(w.unit.call("GET", f"/cases/{w.case_a}"))
    _ok(w.unit.call("PUT", f"/cases/{w.case_a}", {**body, "version": current["version"]}))
    reminders.send_reminders()
    coach_token = w.link_tokens[-1]
    _crawl_judge(w, coach_token)

    # Final: scores, the draw, closing with prizes, the award mail, organisation awards, the archive.
    w.clock.set(datetime(2023, 6, 25, 9, 0, tzinfo=CHINA))
    schedules.close_due_stages()
    _relogin(w)
    console = _browser_login(w, *ORGANISER)
    _ok(w.org.call("POST", "/admin/stages/final/assignments", {}))
    finals = _judge_session(w, "final")
    for judge in finals.values():
        for case in _ok(judge.call("GET", "/judge/cases"))["cases"]:
            _ok(judge.call("PUT", f"/judge/cases/{case['id']}/score", {"criteria": criteria, "comment": p["comment"]}))
    _ok(w.org.call("POST", "/admin/stages/final/draw", {"category": "development", "seed": "seed-42"}))
    _crawl_judge(w, w.link_tokens[-1])
    _ok(w.org.call("POST", "/admin/stages/final/close"))
    _ok(w.org.call("PUT", f"/admin/cases/{w.case_a}/provincial", {"recommended": True}))
    _ok(w.org.call("POST", "/admin/notifications/awards"))
    csrf = csrf_of(text(console.get("/admin/organisation-awards")))
    saved = console.post("/admin/organisation-awards", [("csrf_token", csrf), ("units", p["recommending_unit"]),
                                                        ("units", FORMULAS[1])])
    assert saved.status_code == 303, text(saved)
    archive = {"year": 2022, "cases": [{"title": hostile("往年案例名称 archive title"), "unit": hostile("往年单位 archive unit"),
                                        "category": "development", "background": body["background"],
                                        "innovations": body["innovations"], "results": body["results"]}]}
    _ok(w.org.call("POST", "/admin/archive", archive), 201)
    for kind in ("results_xlsx", "scores_xlsx", "registrations_xlsx", "certificates_pdf", "award_list_docx"):
        job = _ok(w.org.call("POST", "/admin/exports", {"kind": kind}), 202)
        run_jobs()
        assert _ok(w.org.call("GET", f"/admin/exports/{job['id']}"))["status"] == "done", kind
        w.exports[kind] = read_export(job["id"], kind)

    # Every page that shows the text, as the unit, the organiser and at the verify page.
    unit = _browser_login(w, "hostile1", PASSWORD)
    a = w.case_a
    _crawl(w, "unit", unit, ["/", "/cases", f"/cases/{a}", f"/cases/{a}/edit", f"/cases/{a}/feedback",
                             f"/cases/{a}/versions", f"/cases/{a}/versions/1", f"/cases/{a}/versions/2"])
    judge_ids = list(w.judge_ids.values())
    _crawl(w, "organiser", console, [
        "/admin", "/admin/cases", f"/admin/cases/{a}", f"/admin/cases/{w.case_b}", "/admin/judges",
        *[f"/admin/judges/{j}" for j in judge_ids], "/admin/judges/import", "/admin/assignments/text_review",
        "/admin/assignments/coaching", "/admin/assignments/final", "/admin/links", "/admin/stages",
        "/admin/stages/final/close", "/admin/rankings/text_review", "/admin/rankings/final", "/admin/honors",
        "/admin/organisation-awards", "/admin/originality", "/admin/exports", "/admin/mail", "/admin/final/draw",
        "/admin/final/timer", "/admin/final/scoreboard", "/admin/stages/final/links/qr",
        f"/cases/{a}/feedback", f"/cases/{a}/versions", f"/cases/{a}/versions/1"])
    from chalicelib.store.models import Certificate
    for cert in Certificate.scan():
        _crawl(w, "public", Browser(w.client), [f"/verify/{cert.code}"])
    w.browsers.update(unit=unit, organiser=console)
    # the QR sheet re-issues the final's links: last
    csrf = csrf_of(text(console.get("/admin/stages/final/links/qr")))
    qr = console.post("/admin/stages/final/links/qr", {"csrf_token": csrf})
    w.pages.append(("organiser", "POST /admin/stages/final/links/qr", qr.status_code, text(qr)))


@contextmanager
def hostile_world() -> Iterator[World]:
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import bootstrap

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("ASYNC_MODE", "poll")
        create_aws_resources()
        clock = start_competition()
        from app import app
        try:
            with Client(app) as client:
                api = Api(client)
                w = World(client=client, api=api, org=api, unit=api, clock=clock)
                build(w)
                yield w
        finally:
            bootstrap.reset()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with hostile_world() as w:
        yield w


# -- pages ------------------------------------------------------------------------------------------

def test_every_page_shows_the_payloads_only_as_text(world):
    shown: dict[str, set[str]] = {}
    for who, path, status, page in world.pages:
        assert status == 200, (who, path, status, page[:2000])
        shown[f"{who} {path}"] = check_html(page)
    everywhere = set().union(*shown.values())
    never = {FIELDS[t] for t in FIELDS if t not in everywhere}
    print(f"\n{len(world.pages)} pages, {len(FIELDS)} hostile fields, "
          f"{sum(len(v) for v in shown.values())} (field, page) pairs shown escaped")
    for where, found in sorted(shown.items()):
        print(f"  {len(found):3d}  {where}")
    # the contact and the archive's units are shown on no page (the registrations xlsx has them); a 区直
    # unit's 所属区 is shown beside its name in the page header, escaped
    assert never == {"联系人 contact_name", "往年单位 archive unit"}


def test_input_echoed_from_query_strings_and_refused_forms_is_escaped(world):
    p = quote(LONG + "[R1]", safe="")
    org, unit, anon = world.browsers["organiser"], world.browsers["unit"], Browser(world.client)
    reflected = {
        org: [f"/admin/cases?q={p}&category={p}&status={p}", f"/admin/mail?kind={p}", f"/admin?done={p}",
              f"/admin/final/scoreboard?category={p}", f"/admin/exports?job={p}",
              f"/admin/assignments/final?done=planned&new={p}", f"/admin/cases/{p}", f"/admin/judges/{p}",
              f"/admin/rankings/{p}", f"/admin/assignments/{p}", f"/admin/stages/{p}/close"],
        unit: [f"/cases?done={p}", f"/cases/{p}", f"/cases/{p}/edit", f"/cases/{world.case_a}/versions/{p}"],
        anon: [f"/verify/{p}", f"/login?done={p}", f"/j/{p}", f"/judge?done={p}", "/verify/" + quote(SCRIPT, safe="")],
    }
    checked = 0
    for browser, paths in reflected.items():
        for path in paths:
            response = browser.get(path, headers={"Accept": "text/html"})
            assert response.status_code < 500, path
            if response.body:
                check_html(text(response))
            checked += 1
    assert anon.get(f"/verify?code={p}").status_code == 303

    csrf = csrf_of(text(org.get("/admin/judges")))
    forms = [
        (org, "/admin/judges", {"csrf_token": csrf, "name": LONG + "[R2]", "email": LONG, "affiliation": LONG + "[R3]",
                                "categories": LONG, "conflicts": LONG}),
        (org, f"/admin/judges/{world.judge_ids['api']}", {"csrf_token": csrf, "name": SHORT + "[R4]", "email": "x",
                                                         "affiliation": LONG, "categories": "development"}),
        (org, "/admin/stages/final/window", {"csrf_token": csrf, "opens_at": LONG + "[R5]", "closes_at": SHORT}),
        (org, "/admin/final/draw", {"csrf_token": csrf, "category": LONG, "seed": LONG + "[R6]"}),
        (org, "/admin/organisation-awards", {"csrf_token": csrf, "units": LONG + "[R7]"}),
        (org, "/admin/assignments/final/add", {"csrf_token": csrf, "judge_id": LONG + "[R8]", "case_id": LONG}),
        (org, "/admin/assignments/final/plan", {"csrf_token": csrf, "judges_per_case": LONG + "[R9]"}),
        (org, "/admin/exports", {"csrf_token": csrf, "kind": LONG + "[R10]"}),
        (unit, "/cases/new", {"csrf_token": csrf_of(text(unit.get("/cases"))), "title": LONG + "[R11]",
                              "background": LONG, "innovations": LONG, "leader.name": LONG, "leader.mobile": LONG}),
        (unit, f"/cases/{world.case_a}/feedback", {"csrf_token": csrf_of(text(unit.get("/cases"))),
                                                   f"reply.{LONG}": LONG + "[R12]"}),
    ]
    for browser, path, fields in forms:
        response = browser.post(path, fields)
        assert response.status_code < 500, (path, text(response)[:500])
        if response.body:
            check_html(text(response))
        checked += 1
    anon_csrf = csrf_of(text(anon.get("/register")))
    refused = anon.post("/register", {"csrf_token": anon_csrf, "username": LONG, "password": "x",
                                      "unit_name": LONG + "[R13]", "unit_system": LONG, "district": LONG,
                                      "contact_name": SHORT, "email": LONG, "mobile": LONG})
    assert refused.status_code == 400 and "[R13]" in check_html(text(refused))
    login = anon.post("/login", {"csrf_token": anon_csrf, "username": LONG + "[R14]", "password": "x"})
    assert login.status_code == 401 and "[R14]" in check_html(text(login))
    assert checked >= 30


# -- exports ----------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_xlsx_exports_hold_no_formula_and_quote_every_formula_like_text(world):
    from openpyxl import load_workbook

    counts = {}
    for kind in ("results_xlsx", "scores_xlsx", "registrations_xlsx"):
        data = world.exports[kind]
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), (kind, name)
        wb = load_workbook(io.BytesIO(data))
        quoted, found = 0, set()
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (kind, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        found |= tags_in(cell.value)
                        if cell.value.startswith(FORMULA_STARTS):
                            assert cell.data_type == "s" and cell.quotePrefix, (kind, ws.title, cell.coordinate)
                            quoted += 1
        counts[kind] = (quoted, len(found))
        assert quoted > 0, kind
    wb = load_workbook(io.BytesIO(world.exports["registrations_xlsx"]))
    values = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    from chalicelib.domain.text import single_line   # names are stored without format characters
    assert {*(single_line(world.payloads[k]) for k in ("unit_name", "contact_name", "district")),
            FORMULAS[0], FORMULAS[3], world.payloads["title"]} <= values
    wb = load_workbook(io.BytesIO(world.exports["scores_xlsx"]))
    values = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert {world.payloads["comment"], "=1+1 评语", single_line(world.payloads["judge_name"])} <= values
    print("\nxlsx (formula-led cells quoted, payload fields):", counts)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages).replace("\x00", "")


def test_certificates_and_the_award_list_show_the_payload_as_literal_text(world):
    from docx import Document

    pdf = world.exports["certificates_pdf"]
    for active in (b"/JavaScript", b"/JS ", b"/JS(", b"/Launch", b"/AA ", b"/URI (javascript"):
        assert active not in pdf, active
    shown = re.sub(r"\s+", "", _pdf_text(pdf))
    title = world.payloads["title"]
    for part in (SCRIPT, IMG, TEMPLATE, JS_URL, FORMULAS[0]):
        assert re.sub(r"\s+", "", part) in shown, part
    assert tags_in(shown) >= tags_in(title) | tags_in(world.payloads["recommending_unit"])

    document = Document(io.BytesIO(world.exports["award_list_docx"]))
    words = "\n".join([p.text for p in document.paragraphs] +
                      [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert title in words and world.payloads["recommending_unit"] in words
    assert FORMULAS[0] in words
    with zipfile.ZipFile(io.BytesIO(world.exports["award_list_docx"])) as z:
        body = z.read("word/document.xml")
    assert b"<script" not in body and b"&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert not [n for n in z.namelist() if "vbaProject" in n or n.endswith(".bin")]


# -- mail -------------------------------------------------------------------------------------------

def test_every_mail_has_clean_headers_an_escaped_html_part_and_a_literal_text_part(world):
    from chalicelib.domain.accounts import EMAIL as ADDRESS
    from chalicelib.domain.text import single_line
    from tests.integration.mailbox import bodies, ses_messages

    messages = ses_messages()
    kinds, tagged = {}, 0
    for message in messages:
        for name in ("To", "From", "Subject"):
            value = str(message[name])
            assert "\r" not in value and "\n" not in value, (name, value)
        assert len(message.get_all("To")) == 1 and message.get_all("Bcc") is None and message.get_all("Cc") is None
        assert ADDRESS.match(str(message["To"])), message["To"]
        assert not tags_in(str(message["Subject"]))
        plain, html = bodies(message)
        found = check_html(html)
        assert tags_in(plain) == found, message["Subject"]
        for tag in found:    # the text part carries the payload exactly as typed
            assert any(v in plain or single_line(v) in plain for v in world.payloads.values() if tag in v), tag
        kind = str(message["X-Saiping-Mail"]).strip().split("#")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        tagged += bool(found)
    assert {"registration", "submission_receipt", "judge_invitation", "advance", "feedback_available", "award"} <= set(kinds)
    assert tagged >= 4
    print(f"\n{len(messages)} mails parsed, {tagged} with payload text:", kinds)


def test_a_recipient_with_a_line_break_is_never_sent():
    from chalicelib.mail.outbox import prepare, send_once
    from chalicelib.store.memory_mail import InMemoryMailRepository

    mail = InMemoryMailRepository()
    for recipient in ("a@example.org\r\nBcc: evil@example.org", "a@example.org\nBcc: evil@example.org",
                      "a@example.org, evil@example.org", '"x" <evil@example.org>', "<a@example.org>"):
        context = {"competition": LONG, "unit": LONG, "username": LONG, "site_url": "https://x"}
        assert send_once(None, "noreply@example.org", "c", "registration", "k", recipient,
                         context, moment(0.0), mail).reason == "invalid_address", recipient
        assert prepare("noreply@example.org", "c", "registration", "k", recipient, context, moment(0.0)) is None
    assert mail.rows == {}


def test_a_subject_cannot_carry_a_line_break_from_the_data():
    from chalicelib.mail.render import render

    subject, _, _ = render("registration", {"competition": "赛\r\nBcc: evil@example.org\u2028X", "unit": "u",
                                            "username": "n", "contact": "c", "hosts": "h", "site_url": "https://x"})
    assert "\r" not in subject and "\n" not in subject and "\u2028" not in subject
