"""Scoring links as the organiser handles them: the QR sheet shows the very links that were mailed and
revokes nothing, one judge's link is re-issued alone, and 评分链接 shows each link's state and the link
again (显示链接) — through the JSON API and the console's forms (chalice's test client, moto)."""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime

import pytest

from tests.browser import text
from tests.conftest import CHINA
from tests.integration.mailbox import bodies, send_queued, ses_messages
from tests.integration.test_admin_pages import judges, log_in, submit
from tests.integration.test_judging_api import organiser


@pytest.fixture
def review(api, client, clock):
    """Two submitted cases, three judges on both, links issued (their invitations queued); the console
    logged in."""
    cases = [submit(api, n, recommending_unit=f"单位{n}", title=f"案例{n}") for n in (1, 2)]
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge_ids = judges(org, 3)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 3})[0] == 200
    status, issued = org.call("POST", "/admin/stages/text_review/links")
    assert status == 200, issued
    browser, csrf = log_in(client)
    return {"org": org, "cases": cases, "judges": judge_ids, "browser": browser, "csrf": csrf,
            "urls": {l["judge_id"]: l["url"] for l in issued["links"]}}


def mailed_urls() -> dict[str, list[str]]:
    """Every scoring link mailed so far, per recipient, oldest first (text and html parts agree), once the
    queued sender has run."""
    send_queued()
    found: dict[str, list[str]] = {}
    for message in ses_messages():
        plain, rich = bodies(message)
        urls = re.findall(r"https?://\S+/j/[A-Za-z0-9._-]+", plain)
        if urls:
            assert [htmllib.unescape(u) for u in re.findall(r'href="([^"]+/j/[^"]+)"', rich)] == urls
            found.setdefault(str(message["To"]), []).extend(urls)
    return found


def token(url: str) -> str:
    return url.rsplit("/j/", 1)[1]


def opens(api, url: str) -> int:
    return api.call("POST", "/judge/sessions", {"link": token(url)})[0]


def qr_svg(url: str) -> str:
    import segno
    return segno.make(url, error="m").svg_inline(scale=4, border=2).replace("<svg ", "", 1)


def states(page: str) -> dict[str, str]:
    """评委 -> the state badge on the 文本评审 table of 评分链接."""
    section = page.split('<h2 id="h-text_review">', 1)[1].split("</section>", 1)[0]
    return dict(re.findall(r'<th scope="row">([^<]+)</th>.*?<span class="badge link-state[^"]*">([^<]+)</span>',
                           section, re.S))


# -- the QR sheet ---------------------------------------------------------------------------------------

def test_the_qr_sheet_shows_the_mailed_links_and_revokes_nothing(api, review):
    mailed = mailed_urls()
    assert sorted(mailed) == ["j1@example.org", "j2@example.org", "j3@example.org"]
    assert sorted(u for urls in mailed.values() for u in urls) == sorted(review["urls"].values())
    first = review["urls"][review["judges"][0]]
    status, before = api.call("POST", "/judge/sessions", {"link": token(first)})   # opened before the sheet
    assert status == 200
    browser, csrf = review["browser"], review["csrf"]
    page = text(browser.post("/admin/stages/text_review/links/qr", {"csrf_token": csrf}))
    assert page.count('<figure class="qr-card"') == 3
    for url in review["urls"].values():
        assert qr_svg(url) in page                        # the QR code of exactly the mailed link
    assert "已为其发放" not in page and 'class="admin-nav"' in page
    again = text(browser.post("/admin/stages/text_review/links/qr", {"csrf_token": csrf}))
    assert all(qr_svg(url) in again for url in review["urls"].values())   # printing twice changes nothing
    assert mailed_urls() == mailed                        # no new mail
    assert [opens(api, url) for url in review["urls"].values()] == [200, 200, 200]
    assert api.as_(before["token"]).call("GET", "/judge/cases")[0] == 200   # the earlier session lives on
    from chalicelib.store.models import AuditEntry
    shown = [e for e in AuditEntry.query("links#shenzhen-2023#text_review") if e.action == "link.show"]
    assert len(shown) == 2 and all("/j/" not in (e.detail or "") for e in shown)


def test_the_qr_sheet_issues_a_link_only_to_a_judge_without_one(api, review):
    org, revoked = review["org"], review["judges"][1]
    mailed = mailed_urls()
    assert org.call("DELETE", f"/admin/judges/{revoked}/links/text_review")[0] == 204
    page = text(review["browser"].post("/admin/stages/text_review/links/qr", {"csrf_token": review["csrf"]}))
    assert "其中 1 位评委此前没有有效链接，已为其发放并发送邮件。" in page
    new = mailed_urls()["j2@example.org"][-1]
    assert new not in mailed["j2@example.org"] and qr_svg(new) in page
    assert {k: v for k, v in mailed_urls().items() if k != "j2@example.org"} == \
        {k: v for k, v in mailed.items() if k != "j2@example.org"}
    assert [opens(api, review["urls"][j]) for j in review["judges"]] == [200, 401, 200]
    assert opens(api, new) == 200


# -- one judge's link re-issued ---------------------------------------------------------------------------

def test_reissuing_one_judge_revokes_only_that_judges_link(api, review):
    org, (first, second, third) = review["org"], review["judges"]
    status, old_session = api.call("POST", "/judge/sessions", {"link": token(review["urls"][first])})
    assert status == 200
    status, other_session = api.call("POST", "/judge/sessions", {"link": token(review["urls"][second])})
    assert status == 200
    status, link = org.call("POST", f"/admin/judges/{first}/links/text_review")
    assert status == 200, link
    assert link == {"judge_id": first, "url": link["url"], "expires_at": "2023-06-16T23:59:59+08:00",
                    "mail": "queued"}
    assert link["url"] != review["urls"][first] and "/j/" in link["url"]
    assert mailed_urls()["j1@example.org"][-1] == link["url"]
    assert opens(api, review["urls"][first]) == 401
    assert api.as_(old_session["token"]).call("GET", "/judge/cases")[0] == 401
    assert api.as_(other_session["token"]).call("GET", "/judge/cases")[0] == 200
    assert [opens(api, link["url"]), opens(api, review["urls"][second]), opens(api, review["urls"][third])] == \
        [200, 200, 200]


def test_reissuing_refuses_unknown_judges_stages_and_callers(api, review):
    org = review["org"]
    assert org.call("POST", "/admin/judges/nobody/links/text_review")[0] == 404
    assert org.call("POST", f"/admin/judges/{review['judges'][0]}/links/submission")[0] == 404
    status, body = org.call("POST", f"/admin/judges/{review['judges'][0]}/links/coaching")
    assert status == 409 and body["error"]["message"] == "该评委在专家辅导没有分配案例，无需发放评分链接"
    assert api.call("POST", f"/admin/judges/{review['judges'][0]}/links/text_review")[0] == 401
    assert org.call("POST", f"/admin/judges/{'x' * 300}/links/text_review")[0] == 404


def test_after_the_stage_closed_nothing_is_reissued(api, client, clock, review):
    first = review["judges"][0]
    assert review["org"].call("DELETE", f"/admin/judges/{first}/links/text_review")[0] == 204
    clock.set(datetime(2023, 6, 17, 9, 0, tzinfo=CHINA))
    org, (browser, csrf) = organiser(api), log_in(client)          # fresh sessions after the days passed
    mailed = mailed_urls()
    status, body = org.call("POST", f"/admin/judges/{first}/links/text_review")
    assert (status, body["error"]["code"]) == (409, "stage_closed")
    assert body["error"]["message"] == "文本评审已截止，评分链接不再能打开，无需重新发放"
    page = text(browser.post("/admin/stages/text_review/links/qr", {"csrf_token": csrf}))
    assert page.count('<figure class="qr-card"') == 2 and "已为其发放" not in page
    assert mailed_urls() == mailed
    refused = browser.post("/admin/links/text_review/reissue", {"csrf_token": csrf, "judge_id": first})
    assert refused.status_code == 409 and "文本评审已截止" in text(refused)


# -- 评分链接: states, 显示链接, 重新发放 -----------------------------------------------------------------------

def test_the_links_page_shows_each_state_and_the_link_again(api, review):
    browser, csrf, (first, second, third) = review["browser"], review["csrf"], review["judges"]
    page = text(browser.get("/admin/links"))
    assert states(page) == {"评委1号": "已发放", "评委2号": "已发放", "评委3号": "已发放"}
    assert "readonly value=" not in page and "/j/" not in page              # links only on request
    assert opens(api, review["urls"][first]) == 200
    assert review["org"].call("DELETE", f"/admin/judges/{third}/links/text_review")[0] == 204
    page = text(browser.get("/admin/links"))
    assert states(page) == {"评委1号": "已打开", "评委2号": "已发放", "评委3号": "已撤销"}
    assert page.count('action="/admin/links/text_review/show"') == 2        # none for the revoked link
    shown = browser.post("/admin/links/text_review/show", {"csrf_token": csrf, "judge_id": second})
    assert shown.status_code == 200
    shown_page = text(shown)
    assert re.findall(r'readonly value="([^"]+)"', shown_page) == [review["urls"][second]]
    assert "评分链接 · 评委2号（文本评审）" in shown_page
    refused = browser.post("/admin/links/text_review/show", {"csrf_token": csrf, "judge_id": third})
    assert refused.status_code == 409 and "该评委本阶段没有有效的评分链接，请先发放" in text(refused)
    assert browser.post("/admin/links/text_review/show", {"csrf_token": "wrong", "judge_id": second}).status_code == 403
    reissued = browser.post("/admin/links/text_review/reissue", {"csrf_token": csrf, "judge_id": third})
    reissued_page = text(reissued)
    assert reissued.status_code == 200 and "已重新发放 · 评委3号（文本评审）" in reissued_page
    new = re.findall(r'readonly value="([^"]+)"', reissued_page)
    assert new == [mailed_urls()["j3@example.org"][-1]] and opens(api, new[0]) == 200
    assert states(text(browser.get("/admin/links"))) == {"评委1号": "已打开", "评委2号": "已发放", "评委3号": "已打开"}
    assert [opens(api, review["urls"][first]), opens(api, review["urls"][second])] == [200, 200]
    assert browser.post("/admin/links/text_review/reissue", {"csrf_token": "wrong", "judge_id": third}).status_code == 403


def test_a_link_of_an_older_release_can_be_revoked_and_reissued_but_not_shown(api, review):
    from chalicelib.store.models import Link
    first = review["judges"][0]
    row = Link.get(f"shenzhen-2023#{first}#text_review")
    row.update(actions=[Link.link_id.remove()])                              # as rows were before ids were kept
    assert opens(api, review["urls"][first]) == 200                          # still in force
    browser, csrf = review["browser"], review["csrf"]
    page = text(browser.post("/admin/stages/text_review/links/qr", {"csrf_token": csrf}))
    assert page.count('<figure class="qr-card"') == 2 and "评委1号的链接发放于系统升级或更换签名密钥之前，无法再次显示" in page
    refused = browser.post("/admin/links/text_review/show", {"csrf_token": csrf, "judge_id": first})
    assert refused.status_code == 409 and "该链接发放于系统升级或更换签名密钥之前，无法再次显示，请为该评委重新发放" in text(refused)
    assert review["org"].call("POST", f"/admin/judges/{first}/links/text_review")[0] == 200
    assert opens(api, review["urls"][first]) == 401


def test_a_link_is_shown_as_mailed_across_a_key_rotation_and_dies_with_its_key(api, clock, review):
    from dataclasses import replace

    from chalicelib import bootstrap
    from chalicelib.domain.errors import Conflict, Unauthenticated
    from chalicelib.services import judging
    from chalicelib.store.models import Link
    comp, now, first = bootstrap.competition(), bootstrap.now(), review["judges"][0]
    old = replace(bootstrap.config(), signing_keys=("old-key",))
    link = judging.reissue_link(bootstrap.deps().judging, comp, old, first, "text_review", "organiser:test", now,
                                stages=bootstrap.deps().stages)
    row = Link.get(f"shenzhen-2023#{first}#text_review")
    secret = judging.read_link(old, token(link.url))["r"]
    assert secret not in str(row.attribute_values)                   # the id itself is stored nowhere
    rotated = replace(old, signing_keys=("new-key", "old-key"))
    assert judging.show_link(bootstrap.deps().judging, comp, rotated, first, "text_review", "organiser:test",
                             now, stages=bootstrap.deps().stages) == \
        replace(link, mail="none")
    assert judging.open_judge_session(bootstrap.deps().judging, bootstrap.competition_by_id, rotated, token(link.url), now, stages=bootstrap.deps().stages).judge_id == first
    dropped = replace(old, signing_keys=("new-key",))
    with pytest.raises(Conflict):
        judging.show_link(bootstrap.deps().judging, comp, dropped, first, "text_review", "organiser:test",
                          now, stages=bootstrap.deps().stages)
    with pytest.raises(Unauthenticated):
        judging.open_judge_session(bootstrap.deps().judging, bootstrap.competition_by_id, dropped, token(link.url), now, stages=bootstrap.deps().stages)


# -- issuing to many judges: the request queues, the queued sender mails ------------------------------------
def recorded(monkeypatch) -> list[str]:
    """The AWS operations made from now on, in order."""
    from botocore.client import BaseClient
    made: list[str] = []
    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        made.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return made


def invitations(org) -> list[tuple[str, str, str | None]]:
    """(recipient, status, error) of every invitation in the mail log, sorted."""
    return sorted((m["recipient"], m["status"], m["error"]) for m in org.call("GET", "/admin/mail")[1]["mail"]
                  if m["kind"] == "judge_invitation")


def test_links_for_many_judges_are_queued_by_the_request_and_each_mailed_once_by_the_sender(api, clock,
                                                                                            monkeypatch):
    """40 judges: the request writes each judge's link row, audit row and queued mail-log row in transactions
    of up to 100 items (120 items: 2 transactions) and sends nothing; the queued sender then mails each judge
    their link once, and a second run sends nothing."""
    from chalicelib.store import audit

    [submit(api, n, recommending_unit=f"单位{n}", title=f"案例{n}") for n in (1, 2)]
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge_ids = judges(org, 40)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 20})[0] == 200
    made = recorded(monkeypatch)
    status, issued = org.call("POST", "/admin/stages/text_review/links")
    assert status == 200, issued
    assert (made.count("TransactWriteItems"), made.count("UpdateItem"), made.count("SendRawEmail")) == (2, 0, 0)
    assert {link["mail"] for link in issued["links"]} == {"queued"}
    assert invitations(org) == sorted((f"j{n}@example.org", "queued", None) for n in range(1, 41))
    made.clear()
    assert send_queued() == {"sent": 40, "failed": 0, "dropped": 0, "skipped": 0}
    assert made.count("SendRawEmail") == 40
    urls = {link["judge_id"]: link["url"] for link in issued["links"]}
    assert sorted(urls) == sorted(judge_ids)
    mailed = mailed_urls()                                   # runs the sender once more: nothing new
    assert {f"j{n}@example.org": [urls[judge_id]] for n, judge_id in enumerate(judge_ids, 1)} == mailed
    assert send_queued() == {"sent": 0, "failed": 0, "dropped": 0, "skipped": 0}
    assert [opens(api, urls[judge_ids[0]]), opens(api, urls[judge_ids[-1]])] == [200, 200]
    assert all([e.action for e in audit.history(f"judge#shenzhen-2023#{j}")].count("link.issue") == 1 for j in judge_ids)
    assert invitations(org) == sorted((f"j{n}@example.org", "sent", None) for n in range(1, 41))


def test_a_failed_invitation_is_retried_then_marked_failed_and_the_link_stays_issued(api, clock, monkeypatch):
    from chalicelib import bootstrap
    from chalicelib.mail import outbox

    class Flaky:
        def __init__(self, failures: int):
            self.failures, self.calls = failures, 0

        def send(self, message):
            self.calls += 1
            if self.calls <= self.failures:
                raise ConnectionError("mail relay down")
            return f"ses-{self.calls}"

    submit(api, 1, recommending_unit="单位1", title="案例1")
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 2)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 2})[0] == 200
    relay = Flaky(failures=2)
    monkeypatch.setattr(bootstrap.mail_transport(), "transport", relay)   # behind the send-rate limiter
    status, issued = org.call("POST", "/admin/stages/text_review/links")
    assert status == 200, issued
    assert [opens(api, link["url"]) for link in issued["links"]] == [200, 200]
    assert send_queued() == {"sent": 0, "failed": 2, "dropped": 0, "skipped": 0}
    assert invitations(org) == [("j1@example.org", "failed", "ConnectionError"),
                                ("j2@example.org", "failed", "ConnectionError")]
    assert send_queued() == {"sent": 2, "failed": 0, "dropped": 0, "skipped": 0}       # retried, each once
    assert invitations(org) == [("j1@example.org", "sent", None), ("j2@example.org", "sent", None)]
    assert relay.calls == 4
    monkeypatch.setattr(bootstrap.mail_transport(), "transport", Flaky(failures=100))
    status, again = org.call("POST", f"/admin/judges/{issued['links'][0]['judge_id']}/links/text_review")
    assert status == 200
    runs = [send_queued()["failed"] for _ in range(outbox.MAX_ATTEMPTS + 1)]
    assert runs == [1] * outbox.MAX_ATTEMPTS + [0]          # after five send calls it leaves the queue
    assert sorted((status, error) for _, status, error in invitations(org)) == [
        ("failed", "ConnectionError"), ("sent", None), ("sent", None)]
    assert outbox.queued(bootstrap.competition().id, 10, bootstrap.deps().mail) == []
    assert opens(api, again["url"]) == 200


def test_a_revoked_or_reissued_links_queued_invitation_is_dropped(api, review):
    org, (first, second, third) = review["org"], review["judges"]
    assert org.call("DELETE", f"/admin/judges/{first}/links/text_review")[0] == 204
    status, new = org.call("POST", f"/admin/judges/{second}/links/text_review")
    assert status == 200
    assert send_queued() == {"sent": 2, "failed": 0, "dropped": 2, "skipped": 0}
    assert mailed_urls() == {"j2@example.org": [new["url"]], "j3@example.org": [review["urls"][third]]}
    log = sorted((m["recipient"], m["status"]) for m in org.call("GET", "/admin/mail")[1]["mail"]
                 if m["kind"] == "judge_invitation")
    assert log == [("j1@example.org", "dropped"), ("j2@example.org", "dropped"), ("j2@example.org", "sent"),
                   ("j3@example.org", "sent")]


def test_the_links_page_shows_each_invitations_mail_state(api, review, monkeypatch):
    from chalicelib import bootstrap

    class Broken:
        def send(self, message):
            raise ConnectionError("mail relay down")

    def mail_badges(page: str) -> dict[str, str]:
        section = page.split('<h2 id="h-text_review">', 1)[1].split("</section>", 1)[0]
        return dict(re.findall(r'<th scope="row">([^<]+)</th>.*?<span class="badge mail-state[^"]*">([^<]+)</span>',
                               section, re.S))

    browser, org, (_, second, third) = review["browser"], review["org"], review["judges"]
    assert mail_badges(text(browser.get("/admin/links"))) == {"评委1号": "已排队", "评委2号": "已排队",
                                                             "评委3号": "已排队"}
    send_queued()
    monkeypatch.setattr(bootstrap.mail_transport(), "transport", Broken())
    assert org.call("POST", f"/admin/judges/{second}/links/text_review")[0] == 200
    send_queued()
    assert org.call("DELETE", f"/admin/judges/{third}/links/text_review")[0] == 204
    page = text(browser.get("/admin/links"))
    assert mail_badges(page) == {"评委1号": "已发送", "评委2号": "发送失败"}
    assert states(page) == {"评委1号": "已发放", "评委2号": "已发放", "评委3号": "已撤销"}


def test_lambda_mode_starts_the_queued_sender_right_after_the_request(api, review, monkeypatch):
    from unittest.mock import ANY

    from botocore.stub import Stubber

    from chalicelib import bootstrap, config
    monkeypatch.setenv("ASYNC_MODE", "lambda")
    monkeypatch.setenv("MAIL_FUNCTION_NAME", "saiping-dev-send_queued_mail")
    config.reset()
    bootstrap.config.cache_clear()
    org = organiser(api)
    stub = Stubber(bootstrap.client("lambda"))
    stub.add_response("invoke", {"StatusCode": 202}, {
        "FunctionName": "saiping-dev-send_queued_mail", "InvocationType": "Event", "Payload": ANY})
    stub.add_client_error("invoke", "ServiceException", "down", 500)
    with stub:
        assert org.call("POST", "/admin/stages/text_review/links")[0] == 200
        status, body = org.call("POST", "/admin/stages/text_review/links")   # not started: the schedule sends
        assert status == 200 and {link["mail"] for link in body["links"]} == {"queued"}
    stub.assert_no_pending_responses()
    assert {status for _, status, _ in invitations(org)} == {"queued"}
    import app
    from chalicelib.jobs import mail_queue
    event = mail_queue.start_event(bootstrap.now())         # what the function is started with, as Lambda hands it
    assert app.send_queued_mail(event, None) == {"sent": 3, "failed": 0, "dropped": 6, "skipped": 0}


def test_a_run_past_its_time_budget_claims_nothing_more_and_the_rest_waits(api, review):
    from chalicelib import bootstrap
    from chalicelib.mail import outbox
    from chalicelib.services import judging
    comp, cfg = bootstrap.competition(), bootstrap.config()
    assert judging.send_invitations(bootstrap.deps().judging, comp, cfg, bootstrap.mail_transport(), bootstrap.now,
                                    budget_seconds=-1, stages=bootstrap.deps().stages, mail=bootstrap.deps().mail) == outbox.Drained()
    assert len(outbox.queued(comp.id, 10, bootstrap.deps().mail)) == 3
    assert send_queued() == {"sent": 3, "failed": 0, "dropped": 0, "skipped": 0}
