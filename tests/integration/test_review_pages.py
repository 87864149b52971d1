"""审核 in the pages (chalice's test client with cookie sessions): the console's /admin/review lists every
submitted case by category with its state and originality matches, takes 通过 / 退回修改 / 不予受理 with errors
beside the fields and a confirmation before 不予受理, read-only for a viewer; the unit's /cases and /cases/{id}
say 退回修改 with the reason and the deadline, and the case is corrected and submitted again through its form."""
from __future__ import annotations

import re
from datetime import datetime

from tests.browser import Browser, csrf_of, text
from tests.conftest import CHINA, case_body
from tests.integration.team import MEMBER_PASSWORD, member
from tests.integration.test_admin_pages import log_in, submit
from tests.integration.test_judging_api import organiser
from tests.integration.test_words_sweep import visible

AFTER_SUBMISSION = datetime(2023, 6, 10, 9, 0, tzinfo=CHINA)


def unit_browser(client, n: int) -> Browser:
    browser = Browser(client)
    token = csrf_of(text(browser.get("/login")))
    response = browser.post("/login", {"username": f"unit{n}", "password": "correct-horse-1", "csrf_token": token})
    assert response.status_code == 303, text(response)
    return browser


def card(page: str, case_id: str) -> str:
    """The visible text of one case's card on /admin/review."""
    found = re.search(rf'<section class="card review-case[^"]*" id="case-{case_id}".*?</form>|'
                      rf'<section class="card review-case[^"]*" id="case-{case_id}".*?</section>', page, re.S)
    assert found, case_id
    return visible(found.group(0))


def test_the_organiser_reviews_from_the_console_and_the_unit_corrects_and_resubmits(api, client, clock):
    first = submit(api, 1, recommending_unit="单位1", title="案例一")
    second = submit(api, 2, recommending_unit="单位2", title="案例二")
    clock.set(AFTER_SUBMISSION)
    org, csrf = log_in(client)
    page = text(org.get("/admin/review"))
    assert "现在可以审核" in visible(page) and "未审核 2 个" in visible(page)
    assert "审核： 未审核" in card(page, first) and "原创性：未发现超过阈值的相似案例" in card(page, first)

    refused = org.post(f"/admin/review/{first}", {"csrf_token": csrf, "decision": "returned", "reason": "请补充数据"})
    assert refused.status_code == 400
    assert "退回修改时请填写修改截止时间" in card(text(refused), first)
    assert 'id="f-' + first + '-deadline-error"' in text(refused) and "请补充数据" in text(refused)

    done = org.post(f"/admin/review/{first}", {"csrf_token": csrf, "decision": "returned", "reason": "请补充数据",
                                               "resubmit_by": "2023-06-12T18:00"})
    assert (done.status_code, done.headers["Location"]) == (303, f"/admin/review?done=reviewed#case-{first}")
    page = text(org.get("/admin/review?done=reviewed"))
    assert "审核结果已保存" in visible(page)
    assert "审核： 退回修改 修改截止 2023年6月12日 18:00" in card(page, first) and "原因：请补充数据" in card(page, first)

    asked = org.post(f"/admin/review/{second}", {"csrf_token": csrf, "decision": "rejected", "reason": "抄袭往年案例"})
    assert (asked.status_code, "确认不予受理" in text(asked)) == (200, True)
    assert api.call("GET", f"/cases/{second}", token=organiser(api).token)[1]["status"] == "submitted"
    org.post(f"/admin/review/{second}", {"csrf_token": csrf, "decision": "rejected", "reason": "抄袭往年案例",
                                         "confirm": "yes"})
    assert "审核： 不予受理" in card(text(org.get("/admin/review")), second)

    unit = unit_browser(client, 1)
    mine = visible(text(unit.get("/cases")))
    assert "退回修改" in mine and "原因：请补充数据" in mine and "2023年6月12日 18:00" in mine
    detail = text(unit.get(f"/cases/{first}"))
    assert "修改并重新提交" in detail and "修改截止时间： 2023年6月12日 18:00" in visible(detail)
    form = text(unit.get(f"/cases/{first}/edit"))
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    body = case_body(recommending_unit="单位1", title="案例一（修改稿）")
    fields = {"csrf_token": csrf_of(form), "version": version, "action": "submit", "category": body["category"],
              "recommending_unit": body["recommending_unit"], "title": body["title"], "background": body["background"],
              "innovations": body["innovations"], "results": body["results"], "originality_pledge": "1",
              **{f"leader.{k}": v for k, v in body["leader"].items()},
              **{f"contact.{k}": v for k, v in body["contact"].items()}}
    saved = unit.post(f"/cases/{first}/edit", fields)
    assert (saved.status_code, saved.headers.get("Location")) == (303, "/cases?done=submitted"), text(saved)[:2000]
    assert "已按退回意见修改并重新提交" in visible(text(unit.get(f"/cases/{first}")))

    rejected = visible(text(unit_browser(client, 2).get(f"/cases/{second}")))
    assert "不予受理" in rejected and "原因：抄袭往年案例" in rejected and "编辑" not in rejected


def test_a_viewer_sees_the_review_page_without_forms_and_may_not_post(api, client, clock):
    case_id = submit(api, 1, recommending_unit="单位1", title="案例一")
    clock.set(AFTER_SUBMISSION)
    member(api, organiser(api), "viewer1", "viewer")
    viewer = Browser(client)
    token = csrf_of(text(viewer.get("/login")))
    viewer.post("/login", {"username": "viewer1", "password": MEMBER_PASSWORD, "csrf_token": token})
    page = text(viewer.get("/admin/review"))
    assert "只能查看审核情况" in visible(page) and 'action="/admin/review/' not in page
    refused = viewer.post(f"/admin/review/{case_id}", {"csrf_token": csrf_of(page), "decision": "accepted"})
    assert refused.status_code == 403
