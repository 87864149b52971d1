"""The console's close page names what is still open before the organiser confirms: per category the
assignments not yet scored (judge and case), for coaching the feedback not yet given, for submission the
cases not yet submitted, with the counts; the confirm form keeps its CSRF token."""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime

from tests.browser import text
from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_admin_pages import judges, log_in, submit
from tests.integration.test_judge_pages import links, set_status
from tests.integration.test_judging_api import organiser


def rows(page: str, heading_id: str) -> list[list[str]]:
    table = re.search(rf'<table class="data open-work-table" aria-labelledby="{heading_id}">(.*?)</table>', page, re.S)
    body = table.group(1).split("<tbody>", 1)[1]
    return [[htmllib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def plain(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment))


def judge_api(api, token: str):
    status, session = api.call("POST", "/judge/sessions", {"link": token})
    assert status == 200, session
    return api.as_(session["token"])


def test_the_text_review_close_page_lists_each_unscored_assignment_and_the_counts(api, client, clock):
    ids = {title: submit(api, n, title=title) for n, title in enumerate(("案例甲", "案例乙", "案例丙"), 1)}
    service = submit(api, 4, title="服务案例丁", category="service")
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    first, second = judges(org, 2)
    service_judges = judges(org, 2, category="service", prefix="服务评审机构")
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 2})[0] == 200
    for judge_id in service_judges:     # the service case loses its judges: no judge has it now
        assert org.call("DELETE", f"/admin/stages/text_review/assignments/{judge_id}/{service}")[0] == 204
    scorer = judge_api(api, links(org, "text_review")[first])
    sheet = {"criteria": {"foresight": 8, "practicality": 8, "effectiveness": 8}}
    assert scorer.call("PUT", f"/judge/cases/{ids['案例甲']}/score", sheet)[0] == 200

    browser, token = log_in(client)
    response = browser.get("/admin/stages/text_review/close")
    page = text(response)
    assert response.status_code == 200
    summary = plain(re.search(r'<p id="open-work-summary">(.*?)</p>', page, re.S).group(1))
    assert summary == "已评分 1 / 6；尚未评分 5 个（评委 × 案例）；没有分配评委的案例 1 个。"
    assert plain(re.search(r'<h3 id="open-development">(.*?)</h3>', page).group(1)) == "发展提质：已评分 1 / 6，尚未评分 5 个"
    titles = sorted(ids)
    assert rows(page, "open-development") == (
        [["评委1号", t] for t in titles if t != "案例甲"] + [["评委2号", t] for t in titles])
    assert plain(re.search(r'<h3 id="open-service">(.*?)</h3>', page).group(1)) == "服务增效：已评分 0 / 0，尚未评分 0 个"
    assert plain(re.search(r'<p class="unassigned">(.*?)</p>', page).group(1)) == "没有分配评委的案例：服务案例丁"
    assert f'<input type="hidden" name="csrf_token" value="{token}">' in page
    assert "确认关闭文本评审" in page and "仍有未完成的评分：确认关闭后将不能再补交。" in page
    assert browser.post("/admin/stages/text_review/close", {"confirm": "yes"}).status_code == 403   # no CSRF
    from chalicelib import bootstrap
    from chalicelib.services import stages
    assert not stages.windows(bootstrap.competition(), bootstrap.deps().stages)["text_review"].closed


def test_the_coaching_close_page_lists_the_feedback_not_yet_given(api, client, clock):
    ids = [submit(api, n, title=f"辅导案例{n}") for n in (1, 2)]
    set_status(ids, "advanced")
    clock.set(datetime(2023, 6, 20, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    coach = judges(org, 1)[0]
    assert org.call("POST", "/admin/stages/coaching/assignments", {})[0] == 200
    expert = judge_api(api, links(org, "coaching")[coach])
    assert expert.call("PUT", f"/judge/cases/{ids[0]}/feedback", {"points": ["建议补充成效数据"]})[0] == 200
    browser, _ = log_in(client)
    page = text(browser.get("/admin/stages/coaching/close"))
    summary = plain(re.search(r'<p id="open-work-summary">(.*?)</p>', page, re.S).group(1))
    assert summary == "已给出辅导意见 1 / 2；尚未给出辅导意见 1 个（评委 × 案例）；没有分配评委的案例 0 个。"
    assert rows(page, "open-development") == [["评委1号", "辅导案例2"]]
    assert "尚未评分" not in page


def test_the_submission_close_page_lists_the_cases_not_yet_submitted(api, client, clock):
    submit(api, 1, title="已交的案例")
    drafter = api.as_(register_unit(api, 2, unit_name="深圳市草稿局"))
    assert drafter.call("POST", "/cases", case_body(title="<b>未交</b>的草稿", recommending_unit="深圳市草稿局"))[0] == 201
    assert drafter.call("POST", "/cases", {"title": "还没选类别"})[0] == 201
    browser, _ = log_in(client)
    page = text(browser.get("/admin/stages/submission/close"))
    assert plain(re.search(r'<p id="open-work-summary">(.*?)</p>', page, re.S).group(1)) == \
        "尚未提交的案例 2 个（关闭后不能再提交）。"
    assert rows(page, "open-development") == [["<b>未交</b>的草稿", "深圳市草稿局", "草稿"]]
    assert "&lt;b&gt;未交&lt;/b&gt;" in page
    assert rows(page, "open-none") == [["还没选类别", "", "草稿"]]


def test_the_provincial_close_page_counts_the_coaching_round_and_a_closed_one_says_it_is_closed(client, clock):
    clock.set(datetime(2023, 7, 15, 9, 0, tzinfo=CHINA))
    browser, token = log_in(client)
    page = text(browser.get("/admin/stages/provincial/close"))
    assert "尚未给出辅导意见的分配" in page and "仍有未完成" not in page
    assert "已给出辅导意见 0 / 0；尚未给出辅导意见 <strong>0</strong> 个" in page
    assert browser.post("/admin/stages/provincial/close", {"csrf_token": token, "confirm": "yes"}).status_code == 303
    assert "省赛准备已经关闭。" in text(browser.get("/admin/stages/provincial/close"))
