"""The console's results pages on one finished competition (tests/integration/finished_competition.py):
rankings with the prize lines, the fairness report, honors, the organisation award list kept in S3,
the provincial mark, award mail (count, preview, confirm) twice, and an export of the award list followed to its link."""
from __future__ import annotations

import html as htmllib
import json
import re

import pytest

from tests.integration.finished_competition import finished_world
from tests.integration.test_admin_pages import log_in
from tests.browser import text


@pytest.fixture(scope="module")
def world():
    with finished_world() as shared:
        yield shared


@pytest.fixture
def finished(world):
    return world[0]


@pytest.fixture(scope="module")
def console(world):
    return log_in(world[1])


def ranking_rows(page: str, category: str) -> list[tuple[str, ...]]:
    table = re.search(rf'<table class="data ranking" id="ranking-{category}">.*?<tbody>(.*?)</tbody>', page,
                      re.S).group(1)
    found = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        found.append(tuple(htmllib.unescape(" ".join(c.split())) for c in cells))
    return found


def test_final_ranking_shows_prizes_with_the_line_between_them(finished, console):
    browser, _ = console
    page = text(browser.get("/admin/rankings/final"))
    assert "本阶段已关闭，以下为关闭时确定的排名" in page
    rows = ranking_rows(page, "development")
    titles = [finished.titles[c] for c in finished.ids["development"]]
    assert rows[:5] == [(str(i + 1), titles[i], finished.units[finished.ids["development"][i]], f"{90 - i:.2f}", "3",
                         "一等奖", "") for i in range(5)]
    assert rows[5] == ("以下：二等奖",)
    assert rows[6][:6] == ("6", titles[5], finished.units[finished.ids["development"][5]], "85.00", "3", "二等奖")
    assert "公平性报告" in page and "评委打分统计" in page and "<th scope=\"row\">评委1</th>" in page


def test_text_review_ranking_marks_the_advance_line(finished, console):
    browser, _ = console
    rows = ranking_rows(text(browser.get("/admin/rankings/text_review")), "service")
    assert [r[-1] for r in rows] == ["入围", "入围"]
    assert browser.get("/admin/rankings/coaching").status_code == 404


def test_honors_after_the_final(finished, console):
    browser, _ = console
    page = text(browser.get("/admin/honors"))
    assert "<h2 id=\"h-nominations\">提名（" in page
    assert "深圳市五一劳动奖章" in page and "审核记录" in page
    assert finished.titles[finished.ids["development"][1]] in htmllib.unescape(page)


def test_the_organisation_award_list_is_suggested_then_saved_with_an_audit_row(finished, console):
    browser, token = console
    page = text(browser.get("/admin/organisation-awards"))
    assert "尚未保存最终名单，下方已按系统建议勾选。" in page
    boxes = re.findall(r'<input type="checkbox" name="units" value="([^"]+)" id="unit-\d+"( checked)?', page)
    units = [htmllib.unescape(v) for v, _ in boxes]
    checked = [htmllib.unescape(v) for v, c in boxes if c]
    assert len(units) == 9 and len(checked) == 8            # the eight prize-winning units; the drafter's scores 0
    assert set(units) - set(checked) == {"深圳市某某局"}
    chosen = [units[2], units[0]]
    refused = browser.post("/admin/organisation-awards", [("csrf_token", token), ("units", units[0]),
                                                          ("units", "不存在的单位")])
    assert refused.status_code == 400 and "以下单位不在统计名单中：不存在的单位" in text(refused)
    saved = browser.post("/admin/organisation-awards", [("csrf_token", token)] + [("units", u) for u in chosen])
    assert saved.headers["Location"] == "/admin/organisation-awards?done=saved"
    page = text(browser.get("/admin/organisation-awards?done=saved"))
    assert "组织奖名单已保存。" in page and "已保存的名单（2 个单位" in page
    assert len(re.findall(r'name="units" value="[^"]+" id="unit-\d+" checked', page)) == 2
    from chalicelib import bootstrap
    from chalicelib.store.audit import history
    stored = bootstrap.s3().get_object(Bucket=bootstrap.config().bucket,
                                       Key="settings/shenzhen-2023/organisation-award.json")["Body"].read()
    assert json.loads(stored)["units"] == [units[0], units[2]]            # in the tally's order
    assert [e.action for e in history("organisation_award#shenzhen-2023")] == ["organisation_award.save"]


def test_an_awarded_case_can_be_recommended_to_the_provincial_round(finished, console):
    browser, token = console
    case_id = finished.ids["service"][0]
    page = text(browser.get(f"/admin/cases/{case_id}"))
    assert ">推荐参加省赛</button>" in page
    refused = browser.post(f"/admin/cases/{case_id}/provincial", {"csrf_token": token, "recommended": "1"})
    assert refused.status_code == 400 and '<p class="field-error" id="f-reason-error">请填写推荐理由</p>' in text(refused)
    done = browser.post(f"/admin/cases/{case_id}/provincial", {"csrf_token": token, "recommended": "1",
                                                               "reason": "机制创新，群众满意度高"})
    assert done.headers["Location"] == f"/admin/cases/{case_id}?done=provincial"
    page = text(browser.get(done.headers["Location"]))
    assert "省赛推荐标记已保存。" in page and ">取消省赛推荐</button>" in page
    assert "推荐理由：机制创新，群众满意度高" in page
    assert "<td>省赛推荐标记</td>" in page
    assert ("1", finished.titles[case_id]) == ranking_rows(text(browser.get("/admin/rankings/final")), "service")[0][:2]
    assert ranking_rows(text(browser.get("/admin/rankings/final")), "service")[0][-1] == "是"
    browser.post(f"/admin/cases/{case_id}/provincial", {"csrf_token": token, "recommended": "0"})


def _plain(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment))


def _by_id(page: str, tag: str, element_id: str) -> str:
    return _plain(re.search(rf'<{tag}[^>]* id="{element_id}"[^>]*>(.*?)</{tag}>', page, re.S).group(1))


def test_award_mail_shows_the_count_and_a_preview_asks_to_confirm_and_sends_once_per_case(finished, console):
    from chalicelib import bootstrap
    from tests.integration.mailbox import bodies, ses_messages
    browser, token = console
    before = text(browser.get("/admin/mail"))
    assert _by_id(before, "p", "award-mail-count") == \
        "获奖案例 8 个：将发送 8 封；跳过 0 封（已发送过 0 封，单位没有有效邮箱 0 封）。"
    first = min((finished.titles[c], c) for c in finished.ids["development"][:5])[1]   # 一等奖, by title
    competition = bootstrap.competition().short_name
    assert _by_id(before, "dd", "mail-preview-to") == finished.emails[first]
    assert _by_id(before, "dd", "mail-preview-subject") == f"【{competition}】获奖通知：贵单位推报的案例荣获一等奖"
    preview = _by_id(before, "pre", "mail-preview-body")
    assert preview.startswith(f"{finished.units[first]}：您好！\n\n祝贺！贵单位推报的案例“{finished.titles[first]}”"
                              "在综合评选中荣获一等奖。\n")
    assert '<button type="submit" class="primary">发送获奖通知…</button>' in before and "确认发送" not in before

    unconfirmed = browser.post("/admin/notifications/awards", {"csrf_token": token})
    assert unconfirmed.headers["Location"] == "/admin/mail?confirm=awards#award-confirm"
    assert [m for m in ses_messages() if "获奖通知" in m["Subject"]] == []
    confirming = text(browser.get("/admin/mail?confirm=awards"))
    assert _by_id(confirming, "p", "award-confirm-title") == "确认发送获奖通知？将发送 8 封，跳过 0 封。邮件发出后不能撤回。"
    assert f'<input type="hidden" name="csrf_token" value="{token}">' in confirming
    assert "确认发送获奖通知（8 封）" in confirming
    assert browser.post("/admin/notifications/awards", {"confirm": "yes"}).status_code == 403    # no CSRF token

    sent = text(browser.post("/admin/notifications/awards", {"csrf_token": token, "confirm": "yes"}))
    assert "获奖通知已处理：发送 8 封，跳过 0 封" in sent
    mailed = [m for m in ses_messages() if "获奖通知" in m["Subject"]]
    assert len(mailed) == 8
    that = next(m for m in mailed if m["To"] == finished.emails[first])
    assert (that["Subject"], bodies(that)[0]) == (f"【{competition}】获奖通知：贵单位推报的案例荣获一等奖", preview)
    assert _by_id(sent, "p", "award-mail-count") == \
        "获奖案例 8 个：将发送 0 封；跳过 8 封（已发送过 8 封，单位没有有效邮箱 0 封）。"
    second = text(browser.post("/admin/notifications/awards", {"csrf_token": token, "confirm": "yes"}))
    assert "获奖通知已处理：发送 0 封，跳过 8 封" in second
    assert len([m for m in ses_messages() if "获奖通知" in m["Subject"]]) == 8
    log = text(browser.get("/admin/mail?kind=award"))
    assert len(re.findall(r"<td>获奖通知</td>", log)) == 8


def test_the_award_list_export_runs_and_links_its_file(finished, console):
    from tests.integration.test_exports_api import run_jobs
    browser, token = console
    started = browser.post("/admin/exports", {"csrf_token": token, "kind": "award_list_docx"})
    job_id = started.headers["Location"].split("job=", 1)[1]
    assert run_jobs() == [job_id]
    page = text(browser.get(started.headers["Location"]))
    assert re.search(rf'data-export-job="{job_id}" data-status="done" class="is-current">.*?下载 [^<]+获奖名单-\d{{8}}\.docx',
                     page, re.S)


def test_the_console_offers_the_honors_and_organisation_award_workbooks(finished, console):
    from tests.integration.test_exports_api import run_jobs
    browser, token = console
    page = text(browser.get("/admin/exports"))
    assert '<input type="radio" name="kind" value="honors_xlsx"> 荣誉提名人选（Excel，每项荣誉一张表，报送市总工会、团市委、市妇联）' in page
    assert '<input type="radio" name="kind" value="organisation_awards_xlsx"> 优秀组织奖（Excel，各单位统计及选定名单）' in page
    for kind, name in (("honors_xlsx", "荣誉提名人选"), ("organisation_awards_xlsx", "优秀组织奖")):
        started = browser.post("/admin/exports", {"csrf_token": token, "kind": kind})
        job_id = started.headers["Location"].split("job=", 1)[1]
        assert run_jobs() == [job_id]
        page = text(browser.get(started.headers["Location"]))
        assert re.search(rf'data-export-job="{job_id}" data-status="done" class="is-current">.*?下载 [^<]+{name}-\d{{8}}\.xlsx',
                         page, re.S), kind
