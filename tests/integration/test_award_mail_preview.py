"""Which award mails the preview on /admin/mail counts as skipped: exactly those `send_once` would skip."""
from __future__ import annotations

from chalicelib.mail import outbox


def _mail_log():
    """The mail log in DynamoDB (moto)."""
    from chalicelib.store.mail import MailRepository
    return MailRepository()


def test_would_skip_is_what_send_once_skips_sent_sending_bounced_and_failed_too_often(aws):
    from chalicelib.store.models import MailRecord
    rows = {"sent": ("sent", 1), "sending": ("sending", 1), "bounced": ("bounced", 1),
            "failed-once": ("failed", 1), "failed-out": ("failed", outbox.MAX_ATTEMPTS)}
    for case_id, (status, attempts) in rows.items():
        MailRecord(outbox.mail_key("c", "award", case_id, "U@example.gov.cn"), competition_id="c", kind="award",
                   recipient="u@example.gov.cn", subject="s", status=status, attempts=attempts, created_at=1).save()
    pairs = [(case_id, "u@example.gov.cn") for case_id in [*rows, "never-sent"]]
    assert outbox.would_skip("c", "award", pairs, _mail_log()) == {
        ("sent", "u@example.gov.cn"), ("sending", "u@example.gov.cn"), ("bounced", "u@example.gov.cn"),
        ("failed-out", "u@example.gov.cn")}
    assert outbox.would_skip("c", "award", [], _mail_log()) == set()
