"""Mail around the competition: registration and submission receipt (and that mail trouble never undoes
them), deadline reminders, judge reminders, coaching feedback notices (each once, re-armed when the
deadline moves), SES bounces recorded from an SNS message, the mail log. Every mail parsed as mail."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from chalicelib.domain.clock import moment
from tests.conftest import CHINA, case_body, register_unit
from tests.integration.mailbox import bodies, check_headers, links, ses_messages
from tests.integration.test_judging_api import judges, organiser

SITE = "http://127.0.0.1:8000"
SUBMISSION_CLOSES = datetime(2023, 6, 9, 23, 59, 59, tzinfo=CHINA)


def _messages(kind_words: str) -> list:
    return [m for m in ses_messages() if kind_words in m["Subject"]]


def _reminders(clock, when: datetime) -> dict[str, int]:
    """The hourly schedule at `when`, as EventBridge (or the local runner) runs it: the app's function."""
    from app import send_reminders
    from scripts.local_jobs import scheduled_event
    clock.set(when)
    return send_reminders(scheduled_event("send_reminders", when), None)


def test_registration_and_submission_mail(api, clock):
    unit = api.as_(register_unit(api, 1, unit_name="深圳市<b>测试</b>局"))
    [welcome] = _messages("参赛帐号注册成功")
    check_headers(welcome, "u1@example.gov.cn", "参赛帐号注册成功")
    assert "测试" not in welcome["Subject"]
    text, html = bodies(welcome)
    assert "深圳市<b>测试</b>局" in text and "深圳市&lt;b&gt;测试&lt;/b&gt;局" in html and "<b>测试" not in html
    assert "用户名：unit1" in text and f"{SITE}/" in text
    assert links(html) == [f"{SITE}/login", f"{SITE}/"] and f"{SITE}/login" in text

    status, case = unit.call("POST", "/cases", case_body(title="党建引领数字政府建设"))
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200       # again: already submitted, no mail
    [receipt] = _messages("案例提交回执")
    check_headers(receipt, "u1@example.gov.cn", "案例提交回执")
    text, html = bodies(receipt)
    assert f"案例编号：{case['id']}" in text and "党建引领数字政府建设" in text and "发展提质" in text
    assert "提交时间：2023年6月1日 10:00" in text and "2023年6月9日 23:59" in text
    assert links(html) == [f"{SITE}/cases/{case['id']}"]
    assert receipt["X-Saiping-Mail"].strip() == f"submission_receipt#shenzhen-2023#{case['id']}@{int(clock.t)}#u1@example.gov.cn"
    # withdrawn and submitted again: a new submission, a new receipt
    assert unit.call("POST", f"/cases/{case['id']}/withdraw")[0] == 200
    clock.set(datetime(2023, 6, 1, 15, 0, tzinfo=CHINA))
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    assert len(_messages("案例提交回执")) == 2


class Broken:
    def send(self, message):
        raise ConnectionError("mail relay down")


def test_mail_failures_never_undo_a_registration_or_a_submission(api, clock):
    import dataclasses

    from chalicelib import bootstrap
    from chalicelib.services.results import Ports

    broken = Ports(put_object=lambda *a: None, transport=Broken(), sender="saiping@example.org", site_url=SITE,
                   accounts=bootstrap.deps().accounts)
    bootstrap.use(dataclasses.replace(bootstrap.deps(), ports=lambda: broken))
    unit = api.as_(register_unit(api, 1))                    # 201 although the mail failed
    status, case = unit.call("POST", "/cases", case_body())
    assert unit.call("POST", f"/cases/{case['id']}/submit") == (200, unit.call("GET", f"/cases/{case['id']}")[1])
    org = organiser(api)
    log = {m["kind"]: m for m in org.call("GET", "/admin/mail")[1]["mail"]}
    assert (log["registration"]["status"], log["registration"]["error"]) == ("failed", "ConnectionError")
    assert log["submission_receipt"]["status"] == "failed"

    def explode():
        raise RuntimeError("no adapters at all")
    bootstrap.use(dataclasses.replace(bootstrap.deps(), ports=explode))
    api.as_(register_unit(api, 2))
    assert ses_messages() == []


def test_deadline_reminders_three_days_and_one_day_before_once_each(api, clock):
    drafter = api.as_(register_unit(api, 1, unit_name="只有草稿的单位"))
    drafter.call("POST", "/cases", case_body(title="草稿一"))
    drafter.call("POST", "/cases", case_body(title="草稿二"))
    mixed = api.as_(register_unit(api, 2, unit_name="已提交的单位"))
    mixed.call("POST", "/cases", case_body(title="另一个草稿"))
    status, done = mixed.call("POST", "/cases", case_body(title="已提交"))
    mixed.call("POST", f"/cases/{done['id']}/submit")
    register_unit(api, 3, unit_name="什么都没有的单位")

    assert _reminders(clock, SUBMISSION_CLOSES - timedelta(days=4))["deadline_reminder"] == 0
    assert _reminders(clock, SUBMISSION_CLOSES - timedelta(days=2, hours=12))["deadline_reminder"] == 1
    [three] = _messages("文本申报还有3天截止")
    check_headers(three, "u1@example.gov.cn", "贵单位尚未提交案例")
    text, html = bodies(three)
    assert "草稿一" in text and "草稿二" in text and "2023年6月9日 23:59" in text
    assert links(html) == [f"{SITE}/cases"]
    assert _reminders(clock, SUBMISSION_CLOSES - timedelta(days=2))["deadline_reminder"] == 0
    assert _reminders(clock, SUBMISSION_CLOSES - timedelta(hours=20))["deadline_reminder"] == 1
    assert [m["To"] for m in _messages("文本申报还有1天截止")] == ["u1@example.gov.cn"]
    assert _reminders(clock, SUBMISSION_CLOSES - timedelta(hours=2))["deadline_reminder"] == 0
    assert _reminders(clock, SUBMISSION_CLOSES + timedelta(hours=1))["deadline_reminder"] == 0
    assert len(_messages("文本申报还有")) == 2


def test_deadline_reminder_is_rearmed_by_a_new_closing_time(api, clock):
    drafter = api.as_(register_unit(api, 1))
    drafter.call("POST", "/cases", case_body(title="草稿"))
    _reminders(clock, SUBMISSION_CLOSES - timedelta(hours=10))
    assert len(_messages("还有1天截止")) == 1
    org = organiser(api)
    assert org.call("PUT", "/admin/stages/text_review", {"opens_at": "2023-06-12T00:00:00+08:00",
                                                          "closes_at": "2023-06-16T23:59:59+08:00"})[0] == 200
    assert org.call("PUT", "/admin/stages/submission", {"opens_at": "2023-05-19T00:00:00+08:00",
                                                         "closes_at": "2023-06-11T23:59:59+08:00"})[0] == 200
    _reminders(clock, datetime(2023, 6, 11, 12, 0, tzinfo=CHINA))
    assert len(_messages("还有1天截止")) == 2


def test_judge_reminder_for_unscored_assignments_a_day_before_close(api, clock):
    ids = []
    for n in (1, 2):
        unit = api.as_(register_unit(api, n, unit_name=f"单位{n}"))
        status, case = unit.call("POST", "/cases", case_body(recommending_unit=f"单位{n}", title=f"案例{n}"))
        unit.call("POST", f"/cases/{case['id']}/submit")
        ids.append(case["id"])
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judge_ids = judges(org, 3)          # affiliations 单位1..3: judges 1 and 2 each avoid one case
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    links_ = {l["judge_id"]: l["url"] for l in org.call("POST", "/admin/stages/text_review/links")[1]["links"]}
    # every judge but the last one scores everything
    keen = sorted(links_)[:-1]
    for judge_id in keen:
        token = api.call("POST", "/judge/sessions", {"link": links_[judge_id].rsplit("/j/", 1)[1]})[1]["token"]
        judge = api.as_(token)
        for case in judge.call("GET", "/judge/cases")[1]["cases"]:
            assert judge.call("PUT", f"/judge/cases/{case['id']}/score", {"criteria": {
                "foresight": 20, "practicality": 20, "effectiveness": 30}})[0] == 200
    closes = datetime(2023, 6, 16, 23, 59, 59, tzinfo=CHINA)
    assert _reminders(clock, closes - timedelta(days=2))["judge_reminder"] == 0
    assert _reminders(clock, closes - timedelta(hours=12))["judge_reminder"] == 1
    late = sorted(links_)[-1]
    [reminder] = _messages("文本评审评分即将截止")
    check_headers(reminder, f"j{judge_ids.index(late) + 1}@example.org", "文本评审评分即将截止")
    text, html = bodies(reminder)
    assert "分配给您的 1 个案例中，还有 1 个尚未评分" in text and "专属链接" in text
    assert links(html) == []                                  # the link itself is only in the invitation
    assert _reminders(clock, closes - timedelta(hours=2))["judge_reminder"] == 0


def test_coaching_feedback_notice_once_per_case(api, clock):
    unit = api.as_(register_unit(api, 1, unit_name="单位1"))
    status, case = unit.call("POST", "/cases", case_body(recommending_unit="单位1", title="辅导的案例"))
    unit.call("POST", f"/cases/{case['id']}/submit")
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 2)       # 评委1 avoids 单位1
    org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})
    link = org.call("POST", "/admin/stages/text_review/links")[1]["links"][0]["url"].rsplit("/j/", 1)[1]
    judge = api.as_(api.call("POST", "/judge/sessions", {"link": link})[1]["token"])
    judge.call("PUT", f"/judge/cases/{case['id']}/score",
               {"criteria": {"foresight": 20, "practicality": 20, "effectiveness": 30}})
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    assert _reminders(clock, datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))["feedback_available"] == 0
    status, body = org.call("POST", "/admin/stages/coaching/assignments", {})
    assert status == 200, body
    link = org.call("POST", "/admin/stages/coaching/links")[1]["links"][0]["url"].rsplit("/j/", 1)[1]
    coach = api.as_(api.call("POST", "/judge/sessions", {"link": link})[1]["token"])
    status, body = coach.call("PUT", f"/judge/cases/{case['id']}/feedback", {"points": ["建议补充量化成效"]})
    assert status == 200, body
    _reminders(clock, datetime(2023, 6, 18, 10, 0, tzinfo=CHINA))
    [notice] = _messages("专家辅导意见已发布")
    check_headers(notice, "u1@example.gov.cn", "专家辅导意见已发布")
    text, html = bodies(notice)
    assert "辅导的案例" in text and links(html) == [f"{SITE}/cases/{case['id']}/feedback"]
    assert f"{SITE}/cases/{case['id']}/feedback\n" in text
    assert "建议补充量化成效" not in text                      # the feedback itself stays behind the login
    assert _reminders(clock, datetime(2023, 6, 18, 11, 0, tzinfo=CHINA))["feedback_available"] == 0


def sns_bounce(message_id: str, recipient: str) -> dict:
    """An SNS delivery of an SES bounce notification, as SES documents it."""
    note = {
        "notificationType": "Bounce",
        "bounce": {"feedbackId": "0100-example", "bounceType": "Permanent", "bounceSubType": "General",
                   "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "5.1.1",
                                          "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                   "timestamp": "2023-06-01T02:00:01.000Z", "remoteMtaIp": "127.0.0.1"},
        "mail": {"timestamp": "2023-06-01T02:00:00.000Z", "source": "saiping@example.org",
                 "messageId": message_id, "destination": [recipient]},
    }
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {
        "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": "arn:aws:sns:ap-southeast-1:123456789012:saiping-bounces", "Subject": None,
        "Message": json.dumps(note), "Timestamp": "2023-06-01T02:00:02.000Z"}}]}


def test_an_ses_bounce_marks_the_mail_log_row(api, clock):
    from chalicelib.jobs import bounces
    register_unit(api, 1)
    org = organiser(api)
    [row] = [m for m in org.call("GET", "/admin/mail")[1]["mail"] if m["kind"] == "registration"]
    assert row["status"] == "sent" and row["message_id"]
    assert bounces.handle(sns_bounce("some-other-message", "u1@example.gov.cn")) == 0
    assert bounces.handle({"Records": [{"Sns": {"Message": "not json"}}]}) == 0
    assert bounces.handle(sns_bounce(row["message_id"], "U1@example.gov.cn")) == 1
    [row] = [m for m in org.call("GET", "/admin/mail")[1]["mail"] if m["kind"] == "registration"]
    assert row["status"] == "bounced"
    assert row["error"] == "Permanent/General: smtp; 550 5.1.1 user unknown"
    # a receipt's row (written with the submission, no SES id on it) is found by the mail's own header
    unit = api.as_(api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"])
    status, case = unit.call("POST", "/cases", case_body())
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    [receipt] = [m for m in ses_messages() if m["X-Saiping-Mail"] and "submission_receipt" in m["X-Saiping-Mail"]]
    event = sns_bounce("ses-id-unknown-to-the-log", "u1@example.gov.cn")
    note = json.loads(event["Records"][0]["Sns"]["Message"])
    note["mail"]["headers"] = [{"name": "X-Saiping-Mail", "value": receipt["X-Saiping-Mail"]}]
    event["Records"][0]["Sns"]["Message"] = json.dumps(note)
    assert bounces.handle(event) == 1
    statuses = {m["kind"]: m["status"] for m in org.call("GET", "/admin/mail")[1]["mail"]}
    assert statuses["submission_receipt"] == "bounced"
    delivery = {"Records": [{"Sns": {"Message": json.dumps({"notificationType": "Delivery",
                                                            "mail": {"messageId": row["message_id"]}})}}]}
    assert bounces.handle(delivery) == 0


def ses_event(event_type: str, message_id: str, recipient: str, mail_key: str | None = None) -> dict:
    """An SNS delivery to a Lambda function of an SES event-publishing record (what the configuration set's
    event destination sends: `eventType`, the original headers always in `mail.headers`), shaped like the
    examples of the SES Developer Guide ("Examples of event data that Amazon SES publishes to Amazon SNS")."""
    headers = [{"name": "From", "value": "=?utf-8?b?6LWb6K+EIHNhaXBpbmc=?= <saiping@example.org>"},
               {"name": "To", "value": recipient},
               {"name": "Subject", "value": "=?utf-8?b?5Y+C6LWb5biQ5Y+35rOo5YaM5oiQ5Yqf?="},
               {"name": "Message-ID", "value": "<169999999999.1.2@example.org>"},
               {"name": "MIME-Version", "value": "1.0"},
               {"name": "Content-Type", "value": 'multipart/alternative; boundary="===============1=="'}]
    if mail_key:
        headers.append({"name": "X-Saiping-Mail", "value": mail_key})
    record = {
        "eventType": event_type,
        "mail": {
            "timestamp": "2023-06-01T02:00:00.000Z", "source": "saiping@example.org",
            "sourceArn": "arn:aws:ses:ap-southeast-1:123456789012:identity/example.org",
            "sendingAccountId": "123456789012", "messageId": message_id, "destination": [recipient],
            "headersTruncated": False, "headers": headers,
            "commonHeaders": {"from": ["赛评 saiping <saiping@example.org>"], "to": [recipient],
                              "messageId": "<169999999999.1.2@example.org>", "subject": "参赛帐号注册成功"},
            "tags": {"ses:configuration-set": ["saiping-dev"], "ses:source-ip": ["203.0.113.9"],
                     "ses:from-domain": ["example.org"], "ses:caller-identity": ["saiping-dev-api_handler"]},
        },
    }
    if event_type == "Bounce":
        record["bounce"] = {
            "bounceType": "Permanent", "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
            "timestamp": "2023-06-01T02:00:01.669Z",
            "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com"}
    elif event_type == "Complaint":
        record["complaint"] = {
            "complainedRecipients": [{"emailAddress": recipient}], "timestamp": "2023-06-02T02:00:00.000Z",
            "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000001",
            "userAgent": "Mozilla/5.0", "complaintFeedbackType": "abuse", "arrivalDate": "2023-06-02T01:59:00.000Z"}
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                         "EventSubscriptionArn": "arn:aws:sns:ap-southeast-1:123456789012:saiping-dev-bounces:"
                                                 "2bcfbf39-05c3-41de-beaa-fcfcc21c8f55", "Sns": {
        "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": "arn:aws:sns:ap-southeast-1:123456789012:saiping-dev-bounces",
        "Subject": "Amazon SES Email Event Notification", "Message": json.dumps(record),
        "Timestamp": "2023-06-01T02:00:02.000Z", "SignatureVersion": "1", "Signature": "EXAMPLE",
        "SigningCertUrl": "https://sns.ap-southeast-1.amazonaws.com/SimpleNotificationService-example.pem",
        "UnsubscribeUrl": "https://sns.ap-southeast-1.amazonaws.com/?Action=Unsubscribe", "MessageAttributes": {}}}]}


def test_the_app_function_records_an_ses_event_publishing_bounce(api, clock):
    """What the stack wires: the configuration set's event destination -> the stage's topic -> record_bounces."""
    from app import record_bounces
    register_unit(api, 1)
    org = organiser(api)

    def registration() -> dict:
        return next(m for m in org.call("GET", "/admin/mail")[1]["mail"] if m["kind"] == "registration")

    [welcome] = _messages("参赛帐号注册成功")
    key = welcome["X-Saiping-Mail"]
    # a complaint is logged, not recorded: the row stays "sent"
    assert record_bounces(ses_event("Complaint", registration()["message_id"], "u1@example.gov.cn", key), None) == 0
    assert registration()["status"] == "sent"
    # the row is found by its own header, whatever SES's message id
    assert record_bounces(ses_event("Bounce", "ses-id-unknown-to-the-log", "u1@example.gov.cn", key), None) == 1
    row = registration()
    assert (row["status"], row["error"]) == ("bounced", "Permanent/General: smtp; 550 5.1.1 user unknown")


def test_an_ses_event_publishing_bounce_without_our_header_is_found_by_the_message_id(api, clock):
    from chalicelib.jobs import bounces
    register_unit(api, 1)
    org = organiser(api)
    [row] = [m for m in org.call("GET", "/admin/mail")[1]["mail"] if m["kind"] == "registration"]
    assert bounces.handle(ses_event("Bounce", row["message_id"], "someone-else@example.org")) == 0
    assert bounces.handle(ses_event("Delivery", row["message_id"], "u1@example.gov.cn")) == 0
    assert bounces.handle(ses_event("Bounce", row["message_id"], "u1@example.gov.cn")) == 1
    [row] = [m for m in org.call("GET", "/admin/mail")[1]["mail"] if m["kind"] == "registration"]
    assert row["status"] == "bounced"


def test_every_ses_mail_names_the_stages_configuration_set(aws, monkeypatch):
    """Without the configuration set on the send, its event destination never hears of the mail."""
    from botocore.stub import Stubber

    from chalicelib import bootstrap
    from chalicelib.mail.outbox import SesTransport, build_message
    message = build_message("saiping@example.org", "u1@example.gov.cn", "主题", "正文", "<p>正文</p>")
    monkeypatch.setenv("MAIL_CONFIGURATION_SET", "saiping-dev")
    bootstrap.reset()
    transport = bootstrap.mail_transport().transport
    assert isinstance(transport, SesTransport) and transport.configuration_set == "saiping-dev"
    with Stubber(transport.ses) as ses:
        ses.add_response("send_raw_email", {"MessageId": "id-1"},
                         {"RawMessage": {"Data": message.as_bytes()}, "ConfigurationSetName": "saiping-dev"})
        assert transport.send(message) == "id-1"
        ses.assert_no_pending_responses()
    with Stubber(transport.ses) as ses:           # no set configured (the local emulator): none named
        ses.add_response("send_raw_email", {"MessageId": "id-2"}, {"RawMessage": {"Data": message.as_bytes()}})
        assert SesTransport(transport.ses).send(message) == "id-2"


def test_mail_log_is_for_organisers_newest_first(api, clock):
    register_unit(api, 1)
    clock.set(datetime(2023, 6, 1, 11, 0, tzinfo=CHINA))
    register_unit(api, 2)
    org = organiser(api)
    status, log = org.call("GET", "/admin/mail?limit=1")
    assert status == 200 and [m["recipient"] for m in log["mail"]] == ["u2@example.gov.cn"]
    entry = log["mail"][0]
    assert entry["kind"] == "registration" and entry["status"] == "sent"
    assert entry["created_at"] == "2023-06-01T11:00:00+08:00"
    assert org.call("GET", "/admin/mail?limit=x")[0] == 400


@pytest.mark.parametrize("kind", ["registration", "submission_receipt", "deadline_reminder", "judge_reminder",
                                  "feedback_available", "award", "case_review", "case_received"])
def test_every_template_renders_a_subject_without_user_text(kind):
    from chalicelib.mail.render import render
    user = "用户<script>文本"
    context = {"competition": "竞赛", "site_url": SITE, "hosts": "主办", "unit": user, "username": "u",
               "contact": user, "closes_at": "2023年06月09日 23:59", "title": user, "case_id": "c1",
               "category": "发展提质", "submitted_at": "x", "days": 3, "drafts": [user], "judge_name": "评委",
               "stage_name": "文本评审", "total": 3, "unscored": 1, "prize": "一等奖", "verify_url": f"{SITE}/verify/X",
               "code": "XXXX", "decision": "returned", "decision_name": "退回修改", "reason": user,
               "resubmit_by": 1686564000, "round_name": "赛前辅导", "source": user, "target": user, "status": "draft",
               "opens_at": "2023年7月1日 00:00"}
    subject, text, html = render(kind, context)
    assert user not in subject and "<script>" not in html
    assert subject.startswith("【竞赛】") and text.strip() and html.startswith("<!doctype html>")


def test_a_failed_mail_is_tried_again_up_to_max_attempts_then_left_failed(aws):
    """send_once: a failed send may be claimed again by a later run, MAX_ATTEMPTS send calls in all; a
    sent mail is never claimed again; the row counts the attempts and drops the error once sent."""
    from chalicelib.mail import outbox
    from chalicelib.store.mail import MailRepository as DynamoMail
    from chalicelib.store.models import MailRecord

    class Flaky:
        def __init__(self, failures):
            self.failures, self.calls = failures, 0

        def send(self, message):
            self.calls += 1
            if self.calls <= self.failures:
                raise ConnectionError("mail relay down")
            return f"<m{self.calls}@example.org>"

    def attempt(transport, key="case-1"):
        try:
            return outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "advance", key,
                                    "unit@example.gov.cn", {"competition": "党建杯", "title": "案例", "unit": "某局",
                                                            "site_url": SITE, "hosts": "主办"}, moment(1.0), mail=DynamoMail())
        except ConnectionError:
            return None

    flaky = Flaky(failures=2)
    assert [attempt(flaky), attempt(flaky)] == [None, None]
    assert attempt(flaky) == outbox.Outcome(True)
    row = MailRecord.get(outbox.mail_key("shenzhen-2023", "advance", "case-1", "unit@example.gov.cn"))
    assert (row.status, row.attempts, row.error) == ("sent", 3, None)
    assert attempt(flaky).reason == "already_sent" and flaky.calls == 3

    down = Flaky(failures=10**6)
    outcomes = [attempt(down, "case-2") for _ in range(outbox.MAX_ATTEMPTS + 3)]
    assert down.calls == outbox.MAX_ATTEMPTS
    assert outcomes[outbox.MAX_ATTEMPTS:] == [outbox.Outcome(False, "already_sent")] * 3
    row = MailRecord.get(outbox.mail_key("shenzhen-2023", "advance", "case-2", "unit@example.gov.cn"))
    assert (row.status, row.attempts, row.error) == ("failed", outbox.MAX_ATTEMPTS, "ConnectionError")
