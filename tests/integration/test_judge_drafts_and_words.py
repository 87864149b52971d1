"""What the judge pages give judge-draft.js (the draft's key, the saved values to compare with) and how the
coaching pages speak (辅导意见, not 评分), through chalice's test client with moto."""
from __future__ import annotations

import html as htmllib
import json
import re
from datetime import datetime

import pytest

from tests.browser import Browser, csrf_of, text
from tests.conftest import CHINA
from tests.integration.mailbox import bodies, send_queued, ses_messages
from tests.integration.test_judge_pages import (
    links, make_judges, organiser, set_status, start, submitted_cases,
)


def form_tag(page: str, form_id: str) -> str:
    return re.search(rf'<form id="{form_id}"[^>]*>', page).group(0)


def saved_of(tag: str):
    return json.loads(htmllib.unescape(re.search(r"data-saved='([^']*)'", tag).group(1)))


@pytest.fixture
def text_review_one(api, client, clock):
    """One submitted development case, one judge on it, in a judge session; text review open."""
    cases, _ = submitted_cases(api, 1)
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org, _ = organiser(api)
    judge_id = make_judges(org, 1)[0]
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    browser = Browser(client)
    start(browser, links(org, "text_review")[judge_id])
    return browser, judge_id, cases[0]


def test_the_score_form_carries_its_draft_key_and_what_is_saved(client, text_review_one):
    browser, judge_id, case_id = text_review_one
    page = text(browser.get(f"/judge/cases/{case_id}"))
    tag = form_tag(page, "score-form")
    assert f'data-draft-key="saiping-draft:{judge_id}:text_review:{case_id}"' in tag
    assert 'data-draft-button="保存评分"' in tag and saved_of(tag) is None
    assert '<script src="/static/judge/judge-draft.js?v=' in page
    assert '<p class="draft-state" data-draft-state role="status" aria-live="polite" hidden>' in page
    saved = browser.post(f"/judge/cases/{case_id}/score", {
        "csrf_token": csrf_of(page), "criteria.foresight": "27.5", "criteria.practicality": "25",
        "criteria.effectiveness": "35", "comment": "思路清晰 <b>好</b> 'x'"})
    assert (saved.status_code, saved.headers["Location"]) == (303, "/judge?done=saved")
    listed = text(browser.get("/judge?done=saved"))
    assert '<script src="/static/judge/judge-draft.js?v=' in listed and "data-draft-done" in listed
    assert "data-draft-done" not in text(browser.get("/judge"))
    tag = form_tag(text(browser.get(f"/judge/cases/{case_id}")), "score-form")
    assert saved_of(tag) == [["criteria.foresight", "27.5"], ["criteria.practicality", "25"],
                             ["criteria.effectiveness", "35"], ["comment", "思路清晰 <b>好</b> 'x'"]]
    refused = browser.post(f"/judge/cases/{case_id}/score", {
        "csrf_token": csrf_of(page), "criteria.foresight": "99", "criteria.practicality": "25",
        "criteria.effectiveness": "35", "comment": "改过"})
    assert refused.status_code == 400                  # the typed values come back; the saved ones stay the base
    assert saved_of(form_tag(text(refused), "score-form"))[3] == ["comment", "思路清晰 <b>好</b> 'x'"]


def test_a_closed_stage_keeps_no_draft(client, clock, text_review_one):
    browser, _, case_id = text_review_one
    clock.set(datetime(2023, 6, 17, 9, 0, tzinfo=CHINA))          # closed; the session may still read
    page = text(browser.get(f"/judge/cases/{case_id}"))
    assert "评分已锁定" in page and "data-draft-key" not in form_tag(page, "score-form")


def test_the_static_draft_script_is_served(client):
    response = client.http.get("/static/judge/judge-draft.js")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "beforeunload" in response.body.decode()


def test_coaching_pages_and_mail_speak_of_feedback(api, client, clock):
    cases, _ = submitted_cases(api, 1)
    set_status(cases, "advanced")
    clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
    org, _ = organiser(api)
    judge_id = make_judges(org, 1)[0]
    assert org.call("POST", "/admin/stages/coaching/assignments", {})[0] == 200
    token = links(org, "coaching")[judge_id]
    send_queued()     # invitations leave through the queued sender
    mail = next(m for m in ses_messages() if "/j/" in bodies(m)[0])
    plain, rich = bodies(mail)
    assert mail["Subject"] == "【2023年深圳市“党建杯”机关创新创优竞赛】专家辅导邀请"
    assert "辅导时间：2023年6月17日 00:00 至 2023年6月23日 23:59。请逐条填写对案例的辅导意见（不打分）" in plain
    assert "打开我的专属辅导页面" in rich and not re.search(r"\d{4}-\d\d-\d\dT", plain + rich)

    browser = Browser(client)
    landing = text(browser.get(f"/j/{token}"))
    assert "<h1>专家辅导入口</h1>" in landing and ">开始评分</button>" in landing   # the contract's button
    start(browser, token)
    listed = text(browser.get("/judge"))
    assert '<p class="judge-progress" id="judge-progress" aria-live="polite">已提交意见 0 / 1</p>' in listed
    assert "<h1>我的辅导案例</h1>" in listed and ">未提交意见</span>" in listed and "已评" not in listed
    page = text(browser.get(f"/judge/cases/{cases[0]}"))
    tag = form_tag(page, "feedback-form")
    assert f'data-draft-key="saiping-draft:{judge_id}:coaching:{cases[0]}"' in tag
    assert 'data-draft-list="points"' in tag and saved_of(tag) is None and "返回我的辅导案例" in page
    sent = browser.post(f"/judge/cases/{cases[0]}/feedback",
                        {"csrf_token": csrf_of(page), "points": ["背景请补充数据", "", "成果请量化"]})
    assert sent.headers["Location"] == "/judge?done=feedback"
    assert "data-draft-done" in text(browser.get("/judge?done=feedback"))
    listed = text(browser.get("/judge"))
    assert "已提交意见 1 / 1</p>" in listed and ">已提交意见</span>" in listed
    tag = form_tag(text(browser.get(f"/judge/cases/{cases[0]}")), "feedback-form")
    assert saved_of(tag) == [["points", "背景请补充数据"], ["points", "成果请量化"]]
