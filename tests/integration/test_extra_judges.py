"""加评: extra judges on the cases ranked around the advance line of the text review (the live ranking),
with 回避, never a judge already on the case, loads balanced, only while the text review is open, staff and
admins only; the ranking shows which cases had extra scores (JSON API and the console's ranking page)."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

import pytest

from tests.browser import text
from tests.conftest import CHINA
from tests.integration.team import member
from tests.integration.test_admin_pages import log_in
from tests.integration.test_judging_api import judges, organiser, submitted_cases

EXTRA = "/admin/stages/text_review/assignments/extra"
# The wanted total of each case, in the order submitted: ranks 1–11, a tie at 12 (places 12–13), 14, 15, 16,
# a tie at 17 (places 17–18), then 19 and 20.
TOTALS = [80 - i for i in range(11)] + [69, 69, 67, 66, 65, 64, 64, 62, 61]
RANKS = list(range(1, 12)) + [12, 12, 14, 15, 16, 17, 17, 19, 20]


def criteria(total: int) -> dict[str, int]:
    return {"foresight": 20, "practicality": 20, "effectiveness": total - 40}


def judge_sessions(api, org) -> dict[str, object]:
    """Each judge's API session, opened from the links of the text review."""
    links = org.call("POST", "/admin/stages/text_review/links")[1]["links"]
    sessions = {}
    for link in links:
        status, data = api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})
        assert status == 200, data
        sessions[link["judge_id"]] = api.as_(data["token"])
    return sessions


def score_assigned(sessions, totals: dict[str, int]) -> None:
    for judge_api in sessions.values():
        for case in judge_api.call("GET", "/judge/cases")[1]["cases"]:
            if not case["scored"]:
                assert judge_api.call("PUT", f"/judge/cases/{case['id']}/score",
                                      {"criteria": criteria(totals[case["id"]])})[0] == 200


@pytest.fixture
def scored(api, clock):
    """20 development cases of 单位1–单位10 (two each), 12 judges of 单位1–单位12, three a case, every slot
    scored so that the live ranking is RANKS."""
    cases = submitted_cases(api, clock, units=10, per_unit=2)
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge_ids = judges(org, 12)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 3})[0] == 200
    sessions = judge_sessions(api, org)
    totals = dict(zip(cases, TOTALS))
    score_assigned(sessions, totals)
    ranking = org.call("GET", "/admin/stages/text_review/ranking")[1]["categories"]["development"]
    assert {e["case_id"]: e["rank"] for e in ranking} == dict(zip(cases, RANKS))
    return {"org": org, "cases": cases, "judges": judge_ids, "sessions": sessions, "totals": totals}


def slots(org) -> list[dict]:
    return org.call("GET", "/admin/stages/text_review/assignments")[1]["assignments"]


def test_extra_judges_go_to_the_ranks_around_the_line_with_ties_whole_conflicts_kept_and_loads_balanced(scored):
    org, cases = scored["org"], scored["cases"]
    before = slots(org)
    regular = {(s["judge_id"], s["case_id"]) for s in before}
    status, result = org.call("POST", EXTRA)          # the defaults: 2 extra judges on ranks 13–17
    assert status == 200, result
    window = cases[11:18]                              # the tie at 12 reaches 13; the tie at 17 is whole
    assert [(c["rank"], c["case_id"], len(c["added"]), c["extra_judges"]) for c in result["cases"]] == sorted(
        (rank, case_id, 2, 2) for case_id, rank in zip(window, RANKS[11:18]))     # tied cases by id
    assert (result["assignments"], result["judges_per_case"], result["from_rank"], result["to_rank"]) == (
        14, 2, 13, 17)
    assert result["needs_link"] == [] and result["written"] is True
    after = slots(org)
    extra = {(s["judge_id"], s["case_id"]) for s in after if s["source"] == "extra"}
    assert extra == {(j, c["case_id"]) for c in result["cases"] for j in c["added"]}
    assert extra.isdisjoint(regular)                   # never a judge already on the case
    units = {case_id: f"单位{n // 2 + 1}" for n, case_id in enumerate(cases)}
    affiliation = {judge_id: f"单位{n}" for n, judge_id in enumerate(scored["judges"], 1)}
    assert [(j, c) for j, c in extra if affiliation[j] == units[c]] == []          # 回避
    loads = Counter(s["judge_id"] for s in after)
    assert sorted(loads) == sorted(scored["judges"]) and max(loads.values()) - min(loads.values()) <= 1
    assert sum(loads.values()) == 60 + 14
    from chalicelib.store import audit
    [entry] = [e for e in audit.history("assignments#shenzhen-2023#text_review") if e.action == "assignments.extra"]
    assert entry.actor == "organiser:boss"


def test_asking_again_adds_nothing_unless_more_are_asked_for(scored):
    org, cases = scored["org"], scored["cases"]
    assert org.call("POST", EXTRA, {"judges_per_case": 2, "from_rank": 13, "to_rank": 17})[1]["assignments"] == 14
    status, again = org.call("POST", EXTRA, {"judges_per_case": 2, "from_rank": 13, "to_rank": 17})
    assert status == 200 and again["assignments"] == 0
    assert [(c["added"], c["extra_judges"]) for c in again["cases"]] == [([], 2)] * 7
    status, more = org.call("POST", EXTRA, {"judges_per_case": 3, "from_rank": 14, "to_rank": 14})
    assert status == 200
    assert [(c["case_id"], len(c["added"]), c["extra_judges"]) for c in more["cases"]] == [(cases[13], 1, 3)]
    from chalicelib.store import audit
    assert [e.action for e in audit.history("assignments#shenzhen-2023#text_review")].count("assignments.extra") == 2


def test_the_new_case_is_in_the_judges_list_under_their_link_and_its_scores_are_marked_extra(api, client, scored):
    org, sessions, totals = scored["org"], scored["sessions"], scored["totals"]
    result = org.call("POST", EXTRA, {"judges_per_case": 1, "from_rank": 14, "to_rank": 14})[1]
    [case] = result["cases"]
    [judge_id] = case["added"]
    listed = sessions[judge_id].call("GET", "/judge/cases")[1]["cases"]
    assert case["case_id"] in [c["id"] for c in listed]           # the same session, the same link
    score_assigned({judge_id: sessions[judge_id]}, totals)
    ranking = org.call("GET", "/admin/stages/text_review/ranking")[1]["categories"]["development"]
    assert {e["case_id"]: (e["scores_count"], e["extra_scores"]) for e in ranking} == {
        c: ((4, 1) if c == case["case_id"] else (3, 0)) for c in scored["cases"]}
    browser, _ = log_in(client)
    page = text(browser.get("/admin/rankings/text_review"))
    assert re.findall(r'<span class="badge badge-extra"[^>]*>([^<]+)</span>', page) == ["含加评", "含加评 1"]


def test_a_case_without_enough_judges_left_refuses_the_whole_request(scored):
    org = scored["org"]
    status, body = org.call("POST", EXTRA, {"judges_per_case": 9, "from_rank": 13, "to_rank": 17})
    assert (status, body["error"]["code"]) == (400, "invalid")
    assert "要增加 9 名评委" in body["error"]["message"] and "请添加该类别评委" in body["error"]["message"]
    assert [s for s in slots(org) if s["source"] == "extra"] == []


@pytest.mark.parametrize("body, field", [
    ({"judges_per_case": 0}, "judges_per_case"), ({"judges_per_case": "2"}, "judges_per_case"),
    ({"from_rank": 0}, "from_rank"), ({"to_rank": True}, "to_rank"),
    ({"from_rank": 17, "to_rank": 13}, "from_rank"),
])
def test_bad_numbers_are_refused_naming_the_field(api, clock, body, field):
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    status, answer = organiser(api).call("POST", EXTRA, body)
    assert (status, answer["error"]["code"], list(answer["error"]["fields"])) == (400, "invalid", [field])


def test_only_while_the_text_review_is_open_and_only_for_it(api, clock):
    org = organiser(api)
    status, body = org.call("POST", EXTRA)                                    # still in submission
    assert (status, body["error"]["code"]) == (409, "stage_closed")
    assert body["error"]["message"] == "文本评审尚未开始，只能在评审进行中为名次线附近的案例增加评委"
    clock.set(datetime(2023, 6, 17, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    status, body = org.call("POST", EXTRA)
    assert (status, body["error"]["message"]) == (409, "文本评审已截止，只能在评审进行中为名次线附近的案例增加评委")
    assert org.call("POST", "/admin/stages/final/assignments/extra")[0] == 404


def test_the_stage_row_is_checked_in_the_write(api, clock):
    """Closed between the read and the write: the transaction's condition on the stage refuses it."""
    from chalicelib.domain.errors import StageClosed
    from chalicelib.store import judging as store
    clock.set(datetime(2023, 6, 17, 9, 0, tzinfo=CHINA))
    slot = store.new_slot("shenzhen-2023", "text_review", "j1", "c1", "development", "案例", clock.t)
    with pytest.raises(StageClosed):
        store.create_extra_slots([slot], "shenzhen-2023", "organiser:boss", clock.t, {})
    assert store.slots_of_judge("shenzhen-2023", "text_review", "j1") == []


def test_staff_may_ask_for_extra_judges_and_viewers_may_not(api, clock):
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    viewer = api.as_(member(api, org, "kan", "viewer"))
    staff = api.as_(member(api, org, "gong", "staff"))
    status, body = viewer.call("POST", EXTRA)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = staff.call("POST", EXTRA)
    assert (status, body["assignments"], body["cases"]) == (200, 0, [])


def test_the_console_previews_then_adds_on_confirmation(client, scored):
    browser, csrf = log_in(client)
    page = text(browser.get("/admin/rankings/text_review"))
    assert "默认为第13–17名，即入围线前后各 2 名" in page and ">增加评委…</button>" in page
    form = {"csrf_token": csrf, "judges_per_case": "2", "from_rank": "13", "to_rank": "17"}
    preview = browser.post("/admin/rankings/text_review/extra", form)
    shown = text(preview)
    assert preview.status_code == 200
    assert "确认为第13–17名增加评委？" in shown and "将新增 14 个评委分配（" in shown
    assert [s for s in slots(scored["org"]) if s["source"] == "extra"] == []           # nothing yet
    done = text(browser.post("/admin/rankings/text_review/extra", {**form, "confirm": "yes"}))
    assert "已为第13–17名增加评委：</strong>新增 14 个评委分配，涉及 7 个案例、" in done
    assert len([s for s in slots(scored["org"]) if s["source"] == "extra"]) == 14
    refused = browser.post("/admin/rankings/text_review/extra", {**form, "judges_per_case": "0"})
    assert refused.status_code == 400 and "每案增加的评委数 judges_per_case 应为 1～20 的整数" in text(refused)
    assert browser.post("/admin/rankings/text_review/extra", {**form, "csrf_token": "x"}).status_code == 403
