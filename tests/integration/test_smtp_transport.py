"""The SMTP adapter (MAIL_TRANSPORT=smtp: the aws-cn partition, government relays) against a real SMTP
server on 127.0.0.1 (aiosmtpd), started by the test: the registration mail of a new unit arrives once,
with its headers, both parts and its link."""
from __future__ import annotations

import email
import email.policy
import socket
from typing import Iterator

import pytest

from tests.conftest import register_unit
from tests.integration.mailbox import bodies, links

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list:
        return [email.message_from_bytes(e.original_content or e.content, policy=email.policy.default)
                for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(monkeypatch) -> Iterator[Inbox]:
    """A local SMTP server, and the app configured to send through it (before the `aws` fixture binds)."""
    handler = Inbox()
    port = _free_port()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    try:
        yield handler
    finally:
        controller.stop()


def test_registration_mail_through_smtp(inbox, api, clock):
    from chalicelib import bootstrap
    from chalicelib.mail.outbox import SmtpTransport, Throttled
    transport = bootstrap.mail_transport()
    assert isinstance(transport, Throttled) and isinstance(transport.transport, SmtpTransport)

    register_unit(api, 1, unit_name="深圳市测试局")
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "saiping@example.org" and envelope.rcpt_tos == ["u1@example.gov.cn"]
    [message] = inbox.messages()
    assert message["To"] == "u1@example.gov.cn"
    assert message["From"].addresses[0].display_name == "赛评 saiping"
    assert message["Subject"] == "【2023年深圳市“党建杯”机关创新创优竞赛】参赛帐号注册成功"
    text, html = bodies(message)
    assert "深圳市测试局：您好！" in text and "深圳市测试局" in html
    assert links(html) == ["http://127.0.0.1:8000/login", "http://127.0.0.1:8000/"]


def test_send_once_through_smtp_sends_once(inbox, aws):
    from chalicelib import bootstrap
    from chalicelib.mail import outbox

    transport = bootstrap.mail_transport()
    context = {"competition": "竞赛", "site_url": "http://x", "hosts": "主办", "unit": "单位", "username": "u",
               "contact": "张三", "closes_at": "2023年06月09日 23:59"}
    first = outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a1",
                             "someone@example.org", context, 1.0)
    again = outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a1",
                             "SomeOne@example.org", context, 2.0)
    assert (first.sent, again.sent, again.reason) == (True, False, "already_sent")
    assert len(inbox.envelopes) == 1
    bad = outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a2",
                           "someone@example.org\r\nBcc: victim@example.org", context, 3.0)
    assert (bad.sent, bad.reason) == (False, "invalid_address") and len(inbox.envelopes) == 1
