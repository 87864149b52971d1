"""The SMTP adapter (MAIL_TRANSPORT=smtp: the aws-cn partition, government relays) against a real SMTP
server on 127.0.0.1 (aiosmtpd), started by the test: the registration mail of a new unit arrives once,
with its headers, both parts and its link. In AWS the relay comes from a Secrets Manager secret and TLS is
required: STARTTLS and login against a relay with a certificate made here, no mail to a relay without
STARTTLS, implicit TLS on port 465."""
from __future__ import annotations

import email
import email.policy
import socket
from typing import Iterator

import pytest

from chalicelib.domain.clock import moment
from tests.conftest import register_unit
from tests.integration.mailbox import bodies, links


def _mail_log():
    """The mail log in DynamoDB (moto)."""
    from chalicelib.store.mail import MailRepository
    return MailRepository()

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
    monkeypatch.setenv("SMTP_TLS", "false")          # a local relay without a certificate
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
                             "someone@example.org", context, moment(1.0), mail=_mail_log())
    again = outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a1",
                             "SomeOne@example.org", context, moment(2.0), mail=_mail_log())
    assert (first.sent, again.sent, again.reason) == (True, False, "already_sent")
    assert len(inbox.envelopes) == 1
    bad = outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a2",
                           "someone@example.org\r\nBcc: victim@example.org", context, moment(3.0), mail=_mail_log())
    assert (bad.sent, bad.reason) == (False, "invalid_address") and len(inbox.envelopes) == 1


# -- the relay of a deployed stage: its secret, TLS required ----------------------------------------
RELAY_USER, RELAY_PASSWORD = "saiping@relay.example.gov.cn", "relay-password-1"
MAIL_CONTEXT = {"competition": "竞赛", "site_url": "http://x", "hosts": "主办", "unit": "单位", "username": "u",
                "contact": "张三", "closes_at": "2023年06月09日 23:59"}


def _certificate(folder) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem), which the client is told to trust."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


class Authenticator:
    def __init__(self) -> None:
        self.logins: list[tuple[str, bool]] = []   # (user, over TLS)

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        ok = (auth_data.login, auth_data.password) == (RELAY_USER.encode(), RELAY_PASSWORD.encode())
        encrypted = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.logins.append((auth_data.login.decode(), encrypted))
        return AuthResult(success=ok)


def _relay_secret(port: int, password: str = RELAY_PASSWORD) -> str:
    import json

    import boto3
    return boto3.client("secretsmanager", region_name="ap-southeast-1").create_secret(
        Name=f"saiping/test/smtp-{port}", SecretString=json.dumps(
            {"host": "127.0.0.1", "port": port, "username": RELAY_USER, "password": password}))["ARN"]


@pytest.fixture
def certificate(tmp_path, monkeypatch) -> tuple[str, str]:
    cert_file, key_file = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert_file)    # what ssl.create_default_context() trusts
    return cert_file, key_file


def _server_context(certificate: tuple[str, str]):
    import ssl
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _transport(monkeypatch, secret_arn: str):
    from chalicelib import bootstrap
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("SMTP_SECRET", secret_arn)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "saiping-test")   # as in AWS: TLS may not be turned off
    monkeypatch.setenv("SMTP_TLS", "false")                          # and the secret's relay ignores this
    monkeypatch.setenv("SIGNING_KEYS", "k1")
    bootstrap.reset()
    return bootstrap.mail_transport()


def test_relay_from_the_secret_gets_starttls_then_login_then_the_mail(aws, certificate, monkeypatch):
    from chalicelib.mail import outbox
    from chalicelib.store.models import MailRecord
    handler, authenticator = Inbox(), Authenticator()
    port = _free_port()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port,
                                     tls_context=_server_context(certificate), require_starttls=True,
                                     authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller.start()
    try:
        transport = _transport(monkeypatch, _relay_secret(port))
        relay = transport.transport.relay
        assert (relay.host, relay.port, relay.username, relay.tls) == ("127.0.0.1", port, RELAY_USER, True)
        outcome = outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a1",
                                   "someone@example.org", MAIL_CONTEXT, moment(1.0), mail=_mail_log())
    finally:
        controller.stop()
    assert outcome == outbox.Outcome(True)
    assert authenticator.logins == [(RELAY_USER, True)]
    [envelope] = handler.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("saiping@example.org", ["someone@example.org"])
    assert MailRecord.get(outbox.mail_key("shenzhen-2023", "registration", "a1", "someone@example.org")).status == "sent"


def test_relay_without_starttls_gets_no_password_and_no_mail(aws, certificate, monkeypatch):
    import smtplib

    from chalicelib.mail import outbox
    from chalicelib.store.models import MailRecord
    handler, authenticator = Inbox(), Authenticator()
    port = _free_port()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                                     auth_require_tls=False)      # a relay that would take both in clear
    controller.start()
    try:
        transport = _transport(monkeypatch, _relay_secret(port))
        with pytest.raises(smtplib.SMTPNotSupportedError):
            outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a1",
                             "someone@example.org", MAIL_CONTEXT, moment(1.0), mail=_mail_log())
    finally:
        controller.stop()
    assert (handler.envelopes, authenticator.logins) == ([], [])
    record = MailRecord.get(outbox.mail_key("shenzhen-2023", "registration", "a1", "someone@example.org"))
    assert (record.status, record.error) == ("failed", "SMTPNotSupportedError")


def test_relay_on_port_465_speaks_tls_from_the_first_byte(aws, certificate, monkeypatch):
    from chalicelib.mail import outbox
    handler, authenticator = Inbox(), Authenticator()
    try:
        controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=465,
                                         ssl_context=_server_context(certificate),
                                         authenticator=authenticator,
                                         auth_require_tls=False)   # aiosmtpd counts only STARTTLS as TLS
        controller.start()
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"port 465 is not free here ({exc})")
    try:
        transport = _transport(monkeypatch, _relay_secret(465))
        assert transport.transport.relay.implicit_tls is True
        outcome = outbox.send_once(transport, "saiping@example.org", "shenzhen-2023", "registration", "a1",
                                   "someone@example.org", MAIL_CONTEXT, moment(1.0), mail=_mail_log())
    finally:
        controller.stop()
    assert outcome == outbox.Outcome(True)
    assert authenticator.logins == [(RELAY_USER, True)] and len(handler.envelopes) == 1


def test_a_function_may_not_turn_tls_off(aws, monkeypatch):
    from chalicelib import bootstrap
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("SMTP_TLS", "false")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "saiping-test")
    monkeypatch.setenv("SIGNING_KEYS", "k1")
    bootstrap.reset()
    with pytest.raises(RuntimeError, match="SMTP_TLS=false is for a local relay only"):
        bootstrap.mail_transport()


@pytest.mark.parametrize("value", ['{"host": "relay.example.gov.cn"}', '{"host": "", "port": 465}',
                                   '{"host": "h", "port": 465, "username": "u"}', "not json"])
def test_a_secret_without_a_whole_relay_is_refused_naming_it(aws, monkeypatch, value):
    import boto3

    from chalicelib import config
    arn = boto3.client("secretsmanager", region_name="ap-southeast-1").create_secret(
        Name="saiping/test/smtp-broken", SecretString=value)["ARN"]
    monkeypatch.setenv("SMTP_SECRET", arn)
    config.reset()
    with pytest.raises(RuntimeError, match="the secret arn:aws:secretsmanager:"):
        config.smtp_relay(config.settings())
