"""赛前辅导 (省赛准备) over the API: one expert of its category for each awarded case recommended to the
provincial competition (回避 respected), feedback only (no score), the unit reads the 专家辅导 and 赛前辅导
rounds and replies, revises the recommended case (category locked) while the stage is open, and the prizes
and ranks stay as awarded. One finished competition (专家辅导 included) for the module."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.conftest import CHINA, Api, case_body
from tests.integration.finished_competition import COACHING_POINT, finished_world
from tests.integration.mailbox import bodies, send_queued, ses_messages
from tests.integration.test_judging_api import organiser

IN_PROVINCIAL = datetime(2023, 7, 12, 9, 0, tzinfo=CHINA)
POINT = "赛前辅导：省赛展示请突出可复制的机制"


@pytest.fixture(scope="module")
def world():
    with finished_world(coached=True) as shared:
        yield shared


def unit(api: Api, n: int) -> Api:
    status, data = api.call("POST", "/sessions", {"username": f"unit{n}", "password": "correct-horse-1"})
    assert status == 200, data
    return api.as_(data["token"])


@pytest.fixture(scope="module")
def coached(world):
    """dev case 2 (unit2) and service case 1 (unit7) recommended; 评委1 declares a conflict with dev case 2's
    unit; provincial assignments planned and links issued in the provincial window."""
    finished, client = world
    api, org = Api(client), finished.org
    dev, service = finished.ids["development"][1], finished.ids["service"][0]
    for case_id in (dev, service):
        status, body = org.call("PUT", f"/admin/cases/{case_id}/recommendation",
                                {"recommended": True, "reason": "经验可复制可推广"})
        assert status == 200, body
    judges = {j["name"]: j for j in org.call("GET", "/admin/judges")[1]["judges"]}
    first = judges["评委1"]
    status, body = org.call("PUT", f"/admin/judges/{first['id']}", {
        "name": first["name"], "email": first["email"], "mobile": first["mobile"], "affiliation": first["affiliation"],
        "categories": first["categories"], "conflicts": [finished.units[dev]]})
    assert status == 200, body
    finished.clock.set(IN_PROVINCIAL)
    org = finished.org = organiser(api)       # a new session: the earlier one has expired by July
    status, planned = org.call("POST", "/admin/stages/provincial/assignments", {})
    assert status == 200, planned
    status, issued = org.call("POST", "/admin/stages/provincial/links")
    assert status == 200, issued
    return finished, api, dev, service, judges, planned, issued["links"]


def expert_of(api: Api, links: list[dict], judge_id: str) -> Api:
    url = next(link["url"] for link in links if link["judge_id"] == judge_id)
    status, session = api.call("POST", "/judge/sessions", {"link": url.rsplit("/j/", 1)[1]})
    assert status == 200 and session["stage"] == "provincial", session
    return api.as_(session["token"])


def give_feedback(coached) -> None:
    finished, api, dev, service, judges, planned, links = coached
    expert = expert_of(api, links, assigned(finished.org)[dev])
    assert expert.call("PUT", f"/judge/cases/{dev}/feedback", {"points": [POINT]}) == (
        200, {"case_id": dev, "points": [POINT]})


def assigned(org: Api) -> dict[str, str]:
    rows = org.call("GET", "/admin/stages/provincial/assignments")[1]["assignments"]
    return {r["case_id"]: r["judge_id"] for r in rows}


def test_only_the_recommended_cases_get_one_expert_each_of_their_category_with_recusal(coached):
    finished, api, dev, service, judges, planned, links = coached
    by_case = assigned(finished.org)
    assert sorted(by_case) == sorted([dev, service]) and planned["assignments"] == 2 and planned["new"] == 2
    names = {j["id"]: j["name"] for j in judges.values()}
    assert names[by_case[dev]] in ("评委2", "评委3")           # 评委1 must recuse from dev case 2's unit
    assert names[by_case[service]] in ("评委4", "评委5", "评委6")
    assert sorted(link["judge_id"] for link in links) == sorted(by_case.values())
    assert all(link["mail"] == "queued" for link in links)


def test_the_invitation_speaks_of_the_pre_competition_coaching(coached):
    send_queued()
    mails = [m for m in ses_messages() if "赛前辅导" in m["Subject"]]
    assert len(mails) == 2 and {m["Subject"] for m in mails} == {"【2023年深圳市“党建杯”机关创新创优竞赛】赛前辅导邀请"}
    text, html = bodies(mails[0])
    assert "“赛前辅导”环节辅导专家" in text and "不打分" in text and "评分邀请" not in text


def test_the_expert_gives_feedback_never_a_score_and_rerunning_keeps_it(coached):
    finished, api, dev, service, judges, planned, links = coached
    expert = expert_of(api, links, assigned(finished.org)[dev])
    status, mine = expert.call("GET", "/judge/cases")
    assert (status, mine["stage"], [c["id"] for c in mine["cases"]]) == (200, "provincial", [dev])
    status, refused = expert.call("PUT", f"/judge/cases/{dev}/score", {"criteria": {"foresight": 20}})
    assert (status, refused["error"]["code"], refused["error"]["message"]) == (
        403, "forbidden", "赛前辅导阶段不打分，请填写辅导意见")
    assert expert.call("GET", f"/judge/cases/{service}")[0] == 404       # not theirs
    assert expert.call("PUT", f"/judge/cases/{dev}/feedback", {"points": []})[0] == 400
    assert expert.call("PUT", f"/judge/cases/{dev}/feedback", {"points": [POINT]}) == (
        200, {"case_id": dev, "points": [POINT]})
    status, again = finished.org.call("POST", "/admin/stages/provincial/assignments", {})
    assert (status, again["new"], again["assignments"]) == (200, 0, 2)
    rows = finished.org.call("GET", "/admin/stages/provincial/assignments")[1]["assignments"]
    assert [(r["case_id"], r["scored"]) for r in rows if r["case_id"] == dev] == [(dev, True)]


def test_the_unit_reads_both_rounds_replies_and_gets_the_notice(coached):
    finished, api, dev, service, judges, planned, links = coached
    give_feedback(coached)
    owner = unit(api, 2)
    status, read = owner.call("GET", f"/cases/{dev}/feedback")
    assert (status, read) == (200, {"feedback": [
        {"judge": "专家1", "points": [COACHING_POINT], "stage": "coaching", "round": "专家辅导"},
        {"judge": "专家1", "points": [POINT], "stage": "provincial", "round": "赛前辅导"}]})
    status, view = owner.call("GET", f"/cases/{dev}/feedback/replies")
    assert (status, view["round"]["stage"], view["round"]["name"], view["can_reply"], view["can_revise"]) == (
        200, "provincial", "赛前辅导", True, True)
    assert [(e["round"], e["can_reply"]) for e in view["feedback"]] == [("专家辅导", False), ("赛前辅导", True)]
    earlier, key = (e["points"][0]["key"] for e in view["feedback"])
    status, refused = owner.call("PUT", f"/cases/{dev}/feedback/replies", {"replies": {earlier: "补答"}})
    assert (status, refused["error"]["fields"]) == (400, {f"replies.{earlier}": "没有这条辅导意见（可能已被专家修改），请刷新页面后再回复"})
    status, saved = owner.call("PUT", f"/cases/{dev}/feedback/replies", {"replies": {key: "已按意见突出机制"}})
    assert (status, saved["replies"]) == (200, {key: "已按意见突出机制"})
    assert unit(api, 3).call("GET", f"/cases/{dev}/feedback")[0] == 403           # another unit's case
    from app import send_reminders
    from scripts.local_jobs import scheduled_event
    counts = send_reminders(scheduled_event("send_reminders", finished.clock()), None)
    assert counts["feedback_available"] == 1
    [notice] = [m for m in ses_messages() if "赛前辅导意见已发布" in m["Subject"]]
    assert notice["To"] == finished.emails[dev]
    text, _ = bodies(notice)
    assert f"/cases/{dev}/feedback" in text and "赛前辅导阶段截止" in text and POINT not in text
    assert send_reminders(scheduled_event("send_reminders", finished.clock() + timedelta(hours=1)), None)["feedback_available"] == 0


def test_the_recommended_case_is_revised_category_locked_and_its_prize_and_rank_stay(coached):
    finished, api, dev, *_ = coached
    org, owner = finished.org, unit(api, 2)
    ranking = org.call("GET", "/admin/stages/final/ranking")[1]
    case = owner.call("GET", f"/cases/{dev}")[1]
    fields = {k: case[k] for k in case_body()}
    status, refused = owner.call("PUT", f"/cases/{dev}", {**fields, "category": "service", "version": case["version"]})
    assert (status, refused["error"]["fields"]) == (400, {"category": "辅导阶段不能更改申报类别"})
    status, revised = owner.call("PUT", f"/cases/{dev}", {**fields, "title": "党建引领数字政府建设（省赛版）",
                                                          "version": case["version"]})
    assert status == 200, revised
    assert (revised["version"], revised["status"], revised["prize"], revised["history"]) == (
        case["version"] + 1, "awarded", case["prize"], [*case["history"], case["version"]])
    assert org.call("GET", "/admin/stages/final/ranking")[1] == ranking      # no score, rank or prize moved
    from chalicelib.store.models import AuditEntry
    edits = [json.loads(r.detail) for r in AuditEntry.query(f"case#{dev}") if r.action == "case.edit"]
    assert edits == [{"version": case["version"] + 1}]
    # the 荣誉证书 and the award mail name the case as it was awarded, after this revision and a second one
    again = owner.call("PUT", f"/cases/{dev}", {**fields, "title": "党建引领数字政府建设（省赛二稿）",
                                                 "version": revised["version"]})
    assert again[0] == 200, again
    from chalicelib import bootstrap
    from chalicelib.services import certificates
    award = certificates.award_of(bootstrap.competition(), "key", bootstrap.deps().cases.get(dev))
    assert (award.title, award.unit) == (case["title"], case["recommending_unit"])
    assert owner.call("GET", f"/cases/{dev}")[1]["title"] == "党建引领数字政府建设（省赛二稿）"


def test_a_case_not_recommended_can_neither_be_revised_nor_answered(coached):
    finished, api, dev, *_ = coached
    other = finished.ids["development"][2]               # awarded, not recommended (unit3)
    owner = unit(api, 3)
    case = owner.call("GET", f"/cases/{other}")[1]
    fields = {k: case[k] for k in case_body()}
    status, refused = owner.call("PUT", f"/cases/{other}", {**fields, "title": "改", "version": case["version"]})
    assert (status, refused["error"]["code"], refused["error"]["message"]) == (
        409, "stage_closed", "综合评选已结束，只有推荐参加省赛的获奖案例可在赛前辅导阶段修改，本案例不能再修改")
    view = owner.call("GET", f"/cases/{other}/feedback/replies")[1]
    assert (view["round"]["stage"], view["can_reply"], view["can_revise"]) == ("coaching", False, False)
    key = view["feedback"][0]["points"][0]["key"]
    status, refused = owner.call("PUT", f"/cases/{other}/feedback/replies", {"replies": {key: "回复"}})
    assert (status, refused["error"]["code"]) == (409, "stage_closed")


def test_only_the_organiser_assigns_and_only_recommended_cases_can_be_added(coached):
    finished, api, dev, service, judges, *_ = coached
    other = finished.ids["development"][2]
    assert unit(api, 2).call("POST", "/admin/stages/provincial/assignments", {})[0] == 403
    assert api.call("POST", "/admin/stages/provincial/links")[0] == 401
    status, refused = finished.org.call("PUT", f"/admin/stages/provincial/assignments/{judges['评委2']['id']}/{other}")
    assert (status, refused["error"]["fields"]) == (400, {"case_id": "该案例未被推荐参加省赛"})
    status, refused = finished.org.call("PUT", f"/admin/stages/provincial/assignments/{judges['评委1']['id']}/{dev}")
    assert (status, refused["error"]["fields"]) == (400, {"judge_id": "需回避"})


def test_the_close_page_lists_the_feedback_not_yet_given(coached):
    finished, api, dev, service, *_ = coached
    give_feedback(coached)
    from chalicelib import bootstrap
    from chalicelib.services import stages
    work = stages.open_work(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(), "provincial")
    assert (work["kind"], work["totals"]["assigned"], work["totals"]["unassigned"]) == ("feedback", 2, 0)
    assert [(c["id"], [o["case_id"] for o in c["open"]]) for c in work["categories"]] == [
        ("development", []), ("service", [service]), ("empowerment", [])]
    from chalicelib.services import console
    progress = console.dashboard(bootstrap.deps().judging, bootstrap.deps().cases, bootstrap.competition(), bootstrap.now(),
                                 bootstrap.deps().accounts, stages=bootstrap.deps().stages)["progress"]
    assert [(p["stage"], p["assigned"], p["scored"]) for p in progress if p["stage"] == "provincial"] == [
        ("provincial", 2, 1)]
