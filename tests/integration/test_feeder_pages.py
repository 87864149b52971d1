"""Feeder competitions (省赛推荐 sent on, issue 17 part 5) over HTTP on moto: the 2023 competition, run to the end
(tests/integration/finished_competition.py), recommends two awarded cases (one with an attachment) and feeds
"guangdong-2023", a competition created by copying it under another name. The send (POST
/api/v1/admin/provincial/send) makes two submissions there owned by the units, their attachment readable, their
source recorded, audit rows on both sides; a second send creates nothing. The console's 省赛推荐 page shows the
target, each case's state and the send button, in Chinese only; the builder offers 省赛推荐去向 as a select."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from tests.browser import Browser, csrf_of, text
from tests.conftest import CHINA, Api
from tests.integration.finished_competition import finished_world
from tests.integration.mailbox import bodies, check_headers, links, ses_messages
from tests.integration.test_admin_pages import log_in
from tests.integration.test_judging_api import organiser
from tests.integration.test_words_sweep import Seen, faults, visible

SOURCE = "shenzhen-2023"
TARGET = "guangdong-2023"
TARGET_NAME = "第十一届广东省市直机关“先锋杯”工作创新大赛"
SOURCE_NAME = "2023年深圳市“党建杯”机关创新创优竞赛暨第十一届广东省市直机关“先锋杯”工作创新大赛深圳选拔赛"
PDF = b"%PDF-1.7\n" + b"0" * 200 + b"\n%%EOF\n"
IN_PROVINCIAL = datetime(2023, 7, 15, 10, 0, tzinfo=CHINA)


@pytest.fixture(scope="module")
def world():
    with finished_world() as shared:
        yield shared


@pytest.fixture(scope="module")
def console(world):
    return log_in(world[1])


def _login(api: Api, n: int) -> Api:
    status, data = api.call("POST", "/sessions", {"username": f"unit{n}", "password": "correct-horse-1"})
    assert status == 200, data
    return api.as_(data["token"])


@pytest.fixture(scope="module")
def prepared(world):
    """Two recommended cases (development #2 with a verified attachment, service #1), the target created by copy
    and started with its 文本申报 open in late July, and 2023 feeding it."""
    from chalicelib import bootstrap
    from chalicelib.services import competitions
    from chalicelib.services.accounts import Principal
    from chalicelib.store.models import Case

    finished, client = world
    org = finished.org
    a, b = finished.ids["development"][1], finished.ids["service"][0]
    key = f"cases/{a}/att1/copy1"
    bootstrap.files().put(key, PDF, "application/pdf")
    Case(a).update(actions=[Case.attachments["att1"].set({
        "attachment_id": "att1", "filename": "案例说明.pdf", "content_type": "application/pdf", "size": len(PDF),
        "status": "verified", "key": key, "created_at": 1687000000})])
    for case_id in (a, b):
        status, body = org.call("PUT", f"/admin/cases/{case_id}/recommendation",
                                {"recommended": True, "reason": "成效显著，经验可推广"})
        assert status == 200, body
    boss = Principal("organiser", "t", account_id="boss", username="boss", organiser_role="admin")
    made = competitions.copy_from(bootstrap.deps().competitions, boss, SOURCE, TARGET, bootstrap.now())
    status, body = org.call("PUT", f"/admin/competitions/{TARGET}", {
        "version": made.version, "name": TARGET_NAME,
        "stages.submission.opens_at": "2023-07-11T00:00:00+08:00",
        "stages.submission.closes_at": "2023-08-31T23:59:59+08:00"})
    assert status == 200, body
    status, body = org.call("PUT", f"/admin/competitions/{TARGET}", {"version": body["version"], "state": "running"})
    assert status == 200, body
    source_version = competitions.get(bootstrap.deps().competitions, boss, SOURCE).version
    status, body = org.call("PUT", f"/admin/competitions/{SOURCE}", {"version": source_version, "feeds": TARGET})
    assert (status, body["definition"]["feeds"]) == (200, TARGET), body
    finished.clock.set(IN_PROVINCIAL)   # type: ignore[attr-defined]
    finished.org = organiser(Api(client))       # a session of the new day
    return finished, Api(client), a, b


@pytest.fixture
def later_console(prepared, world):
    return log_in(world[1])


def test_the_page_without_a_target_says_where_to_set_it(world, console):
    browser, _ = console
    response = browser.get("/admin/provincial")
    page = text(response)
    assert response.status_code == 200
    assert "<h1>省赛推荐</h1>" in page and "尚未设置" in page and 'id="send-provincial"' not in page
    assert 'href="/admin/provincial" aria-current="page"' in page


def test_feeds_refuses_itself_and_an_unknown_competition(world):
    from chalicelib import bootstrap
    org = world[0].org
    version = bootstrap.deps().competitions.get(SOURCE).version
    status, body = org.call("PUT", f"/admin/competitions/{SOURCE}", {"version": version, "feeds": SOURCE})
    assert (status, list(body["error"]["fields"])) == (400, ["feeds"])
    status, body = org.call("PUT", f"/admin/competitions/{SOURCE}", {"version": version, "feeds": "nosuch-2023"})
    assert (status, list(body["error"]["fields"])) == (400, ["feeds"])


def test_send_makes_submissions_of_the_units_in_the_target_once(prepared):
    from chalicelib import bootstrap
    from chalicelib.store.models import AuditEntry, Case

    finished, api, a, b = prepared
    org = finished.org
    status, sent = org.call("POST", "/admin/provincial/send")
    assert status == 200, sent
    assert (sent["target"], sent["status"]) == ({"id": TARGET, "name": TARGET_NAME}, "submitted")
    assert sorted(r["case_id"] for r in sent["sent"]) == sorted([a, b]) and sent["already"] == sent["skipped"] == []
    new = {r["case_id"]: r["sent_case_id"] for r in sent["sent"]}

    # the units see them under the target in 我的案例
    for n, case_id in ((2, a), (7, b)):
        unit = _login(api, n)
        status, listed = unit.call("GET", f"/cases?competition={TARGET}")
        assert status == 200
        (mine,) = listed["cases"]
        assert (mine["id"], mine["status"], mine["title"]) == (new[case_id], "submitted", finished.titles[case_id])
        assert mine["source"] == {"competition": SOURCE, "case_id": case_id, "version": 1}
        status, earlier = unit.call("GET", f"/cases?competition={SOURCE}")
        assert [c["id"] for c in earlier["cases"]] == [case_id] and earlier["cases"][0]["status"] == "awarded"
    # the target's organisers see them in its case list
    status, listed = org.call("GET", f"/cases?competition={TARGET}")
    assert sorted(c["id"] for c in listed["cases"]) == sorted(new.values())

    # the attachment was copied to the new case's key and is readable there
    stored = Case.get(new[a])
    record = stored.attachments.as_dict()["att1"] if hasattr(stored.attachments, "as_dict") else stored.attachments["att1"]
    assert record["key"] == f"cases/{new[a]}/att1" and record["status"] == "verified"
    assert bootstrap.files().open(record["key"]).read() == PDF
    unit = _login(api, 2)
    status, download = unit.call("GET", f"/cases/{new[a]}/attachments/att1")
    assert status == 200 and new[a] in download["url"]
    assert (stored.owner_id, stored.competition_id, stored.submitted_at) == (
        Case.get(a).owner_id, TARGET, IN_PROVINCIAL.timestamp())

    # audit rows on both sides
    received = [r for r in AuditEntry.query(f"case#{new[a]}") if r.action == "case.received"]
    assert [json.loads(r.detail)["from"] for r in received] == [SOURCE_NAME]
    assert [json.loads(r.detail)["to"] for r in AuditEntry.query(f"case#{a}") if r.action == "case.sent"] == [TARGET_NAME]

    # each unit got one mail, in the target's name, linking its new case
    arrivals = {m["To"]: m for m in ses_messages() if "已推荐参赛" in m["Subject"]}
    assert sorted(arrivals) == ["unit2@example.gov.cn", "unit7@example.gov.cn"]
    mail = arrivals["unit2@example.gov.cn"]
    check_headers(mail, "unit2@example.gov.cn", "贵单位案例已推荐参赛")
    text_part, html_part = bodies(mail)
    assert f"推荐参加{TARGET_NAME}" in text_part and finished.titles[a] in text_part
    assert "已作为贵单位的申报提交" in text_part and "2023年8月31日 23:59" in text_part
    (link,) = [u for u in links(html_part) if "/cases/" in u]
    assert link.endswith(f"/cases/{new[a]}")
    browser = Browser(api.client)   # the unit opens it, signed in through the login form
    token = csrf_of(text(browser.get("/login")))
    assert browser.post("/login", {"username": "unit2", "password": "correct-horse-1", "csrf_token": token}
                        ).status_code == 303
    opened = browser.get(link[link.index("/cases/"):])
    assert opened.status_code == 200 and finished.titles[a] in text(opened) and "已提交" in text(opened)

    # a second send creates nothing and mails nobody again
    status, again = org.call("POST", "/admin/provincial/send")
    assert (status, again["sent"], sorted(r["case_id"] for r in again["already"])) == (200, [], sorted([a, b]))
    assert len(org.call("GET", f"/cases?competition={TARGET}")[1]["cases"]) == 2
    assert len([r for r in AuditEntry.query(f"case#{a}") if r.action == "case.sent"]) == 1
    assert len([m for m in ses_messages() if "已推荐参赛" in m["Subject"]]) == 2


def test_the_page_shows_the_target_the_cases_and_the_button_in_chinese(prepared, later_console):
    browser, token = later_console
    finished, _, a, b = prepared
    page = text(browser.get("/admin/provincial"))
    assert TARGET_NAME in visible(page)
    assert finished.titles[a] in page and finished.titles[b] in page
    done = browser.post("/admin/provincial/send", {"csrf_token": token})
    assert done.status_code == 200
    result = text(done)
    assert 'id="send-result"' in result and "此前已发送 2 个" in result
    assert re.search(r'id="send-provincial" disabled>发送省赛推荐案例（0 个待发送）', result)
    assert result.count("<td>已发送</td>") == 2
    assert browser.post("/admin/provincial/send", {"csrf_token": "wrong"}).status_code == 403
    seen = [Seen("/admin/provincial", visible(page)), Seen("POST /admin/provincial/send", visible(result))]
    assert faults(seen) == []
    body = visible(result.split('<h1>', 1)[1])
    assert re.findall(r"[A-Za-z]{2,}", body) == []      # Chinese only


def test_the_new_case_trail_names_the_recommending_competition(prepared, later_console):
    browser, _ = later_console
    from chalicelib.services.feeder import fed_case_id
    _, _, a, _ = prepared
    page = text(browser.get(f"/admin/cases/{fed_case_id(TARGET, a)}"))
    assert f"由{SOURCE_NAME}推荐" in page.replace("&#8220;", "“").replace("&#8221;", "”")
    source_page = text(browser.get(f"/admin/cases/{a}"))
    assert f"已推荐至{TARGET_NAME}" in source_page.replace("&#8220;", "“").replace("&#8221;", "”")


def test_the_builder_offers_the_target_as_a_select(prepared, later_console):
    browser, _ = later_console
    page = text(browser.get(f"/admin/competitions/{SOURCE}"))
    assert '<select id="f-feeds" name="feeds">' in page
    assert f'<option value="{TARGET}" selected>' in page
