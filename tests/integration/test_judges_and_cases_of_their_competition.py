"""When 2024 is current, a 2023 judge's link and session and a unit's 2023 case keep working on 2023 (its windows,
criteria, categories), not on the current competition; a 2024 judge sees only 2024's cases.

2024 is copied from 2023 (its first category renamed), started, given the windows of 2023 shifted by five days (so
that 2024's submission is open while 2023's has closed, and 2024's text review while 2023's has closed), and
activated."""
from __future__ import annotations

from datetime import datetime, timedelta


from tests.browser import Browser, csrf_of, text
from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_judging_api import judges, organiser

SHIFT = timedelta(days=5)
RENAMED = "二〇二四年新设类别"
IN_TEXT_REVIEW_2023 = datetime(2023, 6, 12, 9, 0, tzinfo=CHINA)      # 2024: in submission (to 06-14)
AFTER_2023_SUBMISSION = datetime(2023, 6, 13, 9, 0, tzinfo=CHINA)    # 2023 submission closed, 2024's open
IN_TEXT_REVIEW_2024 = datetime(2023, 6, 17, 10, 0, tzinfo=CHINA)     # 2023 text review closed, 2024's open


def start_2024() -> None:
    """复制上一届 2023 → 2024 (its first category renamed), 开始 it with 2023's windows shifted by SHIFT, make it current."""
    from dataclasses import replace

    from chalicelib import bootstrap
    from chalicelib.services import competitions, stages
    from chalicelib.services.accounts import Principal

    admin = Principal("organiser", "t1", account_id="org1", username="admin", organiser_role="admin")
    repo, now = bootstrap.deps().competitions, bootstrap.now()
    copied = competitions.copy_from(repo, admin, "shenzhen-2023", "shenzhen-2024", now)
    edited = competitions.edit(repo, admin, "shenzhen-2024", {"categories[0].name": RENAMED}, copied.version, [], now)
    competitions.start(repo, admin, "shenzhen-2024", edited.version, [], now)
    comp = bootstrap.competition_by_id("shenzhen-2024")
    old = bootstrap.competition_by_id("shenzhen-2023")
    shifted = tuple(replace(w, opens_at=w.opens_at + SHIFT, closes_at=w.closes_at + SHIFT) for w in old.default_windows)
    stages.seed(bootstrap.deps().stages, comp, shifted)
    assert competitions.activate(repo, admin, "shenzhen-2024", now).id == "shenzhen-2024"


def claims(url: str) -> dict:
    import base64
    import json
    payload = url.rsplit("/j/", 1)[1].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


SHEET = {"criteria": {"foresight": 25, "practicality": 26, "effectiveness": 30}, "comment": "好"}


def test_a_2023_judge_scores_2023_after_2024_is_current_and_by_2023s_window(api, client, clock):
    unit = api.as_(register_unit(api, 1, unit_name="单位1"))
    status, case = unit.call("POST", "/cases", case_body(category="development", recommending_unit="单位1",
                                                         title="二〇二三年的案例"))
    assert status == 201 and unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    clock.set(IN_TEXT_REVIEW_2023)
    org = organiser(api)
    judges(org, 2)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    status, issued = org.call("POST", "/admin/stages/text_review/links")
    assert status == 200
    url = issued["links"][0]["url"]
    assert claims(url)["c"] == "shenzhen-2023"            # the link names its competition

    start_2024()
    assert api.call("GET", "/competition")[1]["id"] == "shenzhen-2024"
    link = url.rsplit("/j/", 1)[1]

    # the landing page and the session are 2023's
    browser = Browser(client)
    landing = browser.get(f"/j/{link}")
    assert landing.status_code == 200, text(landing)
    status, session = api.call("POST", "/judge/sessions", {"link": link})
    assert status == 200, session
    assert session["token"].startswith("j.shenzhen-2023.")
    judge_api = api.as_(session["token"])
    status, mine = judge_api.call("GET", "/judge/cases")
    assert (status, [c["id"] for c in mine["cases"]]) == (200, [case["id"]])
    status, read = judge_api.call("GET", f"/judge/cases/{case['id']}")
    assert (status, read["title"]) == (200, "二〇二三年的案例")
    assert judge_api.call("PUT", f"/judge/cases/{case['id']}/score", SHEET) == (200, {"case_id": case["id"], "total": 81.0})
    from chalicelib import bootstrap
    slots = bootstrap.deps().judging.slots_of_stage("shenzhen-2023", "text_review", ("development",))
    assert [s.total for s in slots if s.case_id == case["id"]] == [810]     # scored into 2023 (tenths)

    # the judge's pages of the 2023 session
    assert browser.post("/judge/start", {"link": link, "csrf_token": csrf_of(text(landing))}).status_code == 303
    cases_page = browser.get("/judge")
    assert cases_page.status_code == 200 and "二〇二三年的案例" in text(cases_page)
    case_page = browser.get(f"/judge/cases/{case['id']}")
    assert case_page.status_code == 200 and RENAMED not in text(case_page)

    # 2023's text review closes while 2024's is open: the 2023 session may read, never write
    clock.set(IN_TEXT_REVIEW_2024)
    status, refused = judge_api.call("PUT", f"/judge/cases/{case['id']}/score", SHEET)
    assert (status, refused["error"]["code"]) == (409, "stage_closed")
    assert api.call("POST", "/judge/sessions", {"link": link})[0] == 401    # the 2023 link has expired


def test_a_2024_judge_sees_only_2024(api, clock):
    unit = api.as_(register_unit(api, 1, unit_name="单位1"))
    status, old = unit.call("POST", "/cases", case_body(category="development", recommending_unit="单位1",
                                                        title="二〇二三年的案例"))
    assert status == 201 and unit.call("POST", f"/cases/{old['id']}/submit")[0] == 200
    start_2024()
    clock.set(AFTER_2023_SUBMISSION)
    unit = api.as_(api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"])
    status, new = unit.call("POST", "/cases", case_body(category="service", recommending_unit="单位1",
                                                        title="二〇二四年的案例"))
    assert status == 201 and unit.call("POST", f"/cases/{new['id']}/submit")[0] == 200
    clock.set(IN_TEXT_REVIEW_2024)
    org = organiser(api)
    judges(org, 2, category="service")
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    url = org.call("POST", "/admin/stages/text_review/links")[1]["links"][0]["url"]
    assert claims(url)["c"] == "shenzhen-2024"
    status, session = api.call("POST", "/judge/sessions", {"link": url.rsplit("/j/", 1)[1]})
    assert status == 200 and session["token"].startswith("j.shenzhen-2024.")
    judge_api = api.as_(session["token"])
    assert [c["id"] for c in judge_api.call("GET", "/judge/cases")[1]["cases"]] == [new["id"]]
    assert judge_api.call("GET", f"/judge/cases/{old['id']}")[0] == 404


def test_a_link_without_a_competition_is_the_deployments_own(api, clock):
    """Links issued before links named their competition (claims j, s, r) are COMPETITION_ID's."""
    from chalicelib import bootstrap
    from chalicelib.services import judging
    legacy = judging._serializer(bootstrap.config()).dumps({"j": "judge1", "s": "text_review", "r": "x" * 22})
    assert judging.read_link(bootstrap.config(), legacy)["c"] == "shenzhen-2023"
    altered = judging._serializer(bootstrap.config()).dumps({"c": 7, "j": "judge1", "s": "text_review", "r": "x"})
    assert api.call("POST", "/judge/sessions", {"link": altered})[0] == 401
    unknown = judging._serializer(bootstrap.config()).dumps({"c": "nosuch-1999", "j": "j", "s": "text_review", "r": "x"})
    assert api.call("POST", "/judge/sessions", {"link": unknown})[0] == 401


def test_a_units_2023_case_keeps_2023s_window_and_categories(api, client, clock):
    token = register_unit(api, 1, unit_name="单位1")
    unit = api.as_(token)
    status, old = unit.call("POST", "/cases", case_body(category="development", title="二〇二三年的案例"))
    assert status == 201
    start_2024()
    clock.set(AFTER_2023_SUBMISSION)      # 2024's submission open, 2023's closed
    status, session = api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})
    unit = api.as_(session["token"])
    status, refused = unit.call("PUT", f"/cases/{old['id']}", {**case_body(title="改"), "version": old["version"]})
    assert (status, refused["error"]["code"]) == (409, "stage_closed")
    assert unit.call("POST", f"/cases/{old['id']}/submit")[1]["error"]["code"] == "stage_closed"
    status, new = unit.call("POST", "/cases", case_body(category="development", title="二〇二四年的案例"))
    assert status == 201                                      # a new case goes to the current competition
    status, edited = unit.call("PUT", f"/cases/{new['id']}", {**case_body(title="二〇二四年改"), "version": new["version"]})
    assert status == 200, edited

    browser = Browser(client)
    login = browser.post("/login", {"username": "unit1", "password": "correct-horse-1",
                                    "csrf_token": csrf_of(text(browser.get("/login")))})
    assert login.status_code == 303
    page = browser.get(f"/cases/{old['id']}")
    assert page.status_code == 200
    words = text(page)
    assert "二〇二三年的案例" in words and RENAMED not in words
    form = browser.get(f"/cases/{old['id']}/edit")
    assert "文本申报阶段已截止或未开放" in text(form)       # read-only: 2023's submission has closed
    assert RENAMED not in text(form)
    assert RENAMED in text(browser.get(f"/cases/{new['id']}/edit"))   # 2024's categories on 2024's case
    listing = browser.get("/cases")
    words = text(listing)
    assert "往届案例" in words and "二〇二三年的案例" in words and "二〇二四年改" in words
    earlier = text(listing).split("往届案例", 1)[1]
    assert f'href="/cases/{old["id"]}/edit"' not in earlier and f'href="/cases/{old["id"]}"' in earlier
