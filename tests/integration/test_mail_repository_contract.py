"""One contract for the mail log: the same tests against DynamoDB (moto) and the in-memory twin.

Every condition the DynamoDB writes check is checked here on both: a mail is claimed once (a failed one again
while it has attempts left), a queued one only while it is queued, a queued one is dropped only while nobody
has claimed it; a sent mail is found by its message id, a bounced one stays bounced.
"""
from __future__ import annotations

from typing import Callable

import pytest

from chalicelib.domain.clock import moment
from chalicelib.mail import outbox
from chalicelib.services.repositories import MailRepository
from chalicelib.store.memory_mail import InMemoryMailRepository
from tests.integration.backends import BACKENDS, backend as built

COMP = "shenzhen-2023"
T = 1_700_000_000.0
LIMIT = 3
KEY = outbox.mail_key(COMP, "award", "case0001", "Unit@Example.gov.cn")

Seed = Callable[[object], None]     # a row another table's transaction writes (a queued invitation)


def _dynamodb() -> tuple[MailRepository, Seed]:
    from chalicelib.store import db
    from chalicelib.store.mail import MailRepository as DynamoMail, save_in

    def seed(row) -> None:
        with db.transaction() as t:       # as the submit's or the link's transaction writes it
            save_in(t, row)
    return DynamoMail(), seed


def _memory() -> tuple[MailRepository, Seed]:
    twin = InMemoryMailRepository()

    def seed(row) -> None:
        twin.put(row)
    return twin, seed


@pytest.fixture(params=BACKENDS)
def backend(request) -> tuple[MailRepository, Seed]:
    return built(request, _dynamodb, _memory)


@pytest.fixture
def repo(backend) -> MailRepository:
    return backend[0]


@pytest.fixture
def seed(backend) -> Seed:
    return backend[1]


def claim(repo: MailRepository, key: str = KEY, now: float = T):
    return repo.claim(key, COMP, "award", "unit@example.gov.cn", "获奖通知", now, LIMIT)


def queue(seed: Seed, judge: str, at: float, competition: str = COMP) -> str:
    row = outbox.queue(competition, "judge_invitation", f"hash-{judge}", f"{judge}@example.org", "评审邀请",
                       f"{judge}#text_review", moment(at))
    assert row is not None
    seed(row)
    return row.mail_key


def test_a_mail_is_claimed_once(repo) -> None:
    assert repo.get(KEY) is None
    first = claim(repo)
    assert first is not None
    assert (first.mail_key, first.status, first.attempts, first.kind, first.recipient, first.subject,
            first.competition_id, first.created_at) == (KEY, "sending", 1, "award", "unit@example.gov.cn",
                                                        "获奖通知", COMP, T)
    assert claim(repo, now=T + 1) is None                  # being sent
    repo.mark_sent(KEY, "ses-1", T + 2)
    assert claim(repo, now=T + 3) is None                  # sent
    stored = repo.get(KEY)
    assert stored is not None
    assert (stored.status, stored.message_id, stored.sent_at, stored.attempts, stored.error) == \
        ("sent", "ses-1", T + 2, 1, None)


def test_a_failed_mail_is_retried_up_to_the_limit(repo) -> None:
    for attempt in range(1, LIMIT + 1):
        claimed = claim(repo, now=T + attempt)
        assert claimed is not None and claimed.attempts == attempt
        assert claimed.created_at == T + 1                 # the first claim's time stays
        repo.mark_failed(KEY, "ConnectionError")
    assert claim(repo, now=T + 10) is None
    stored = repo.get(KEY)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.error) == ("failed", LIMIT, "ConnectionError")


def test_a_retry_that_is_sent_clears_the_error(repo) -> None:
    assert claim(repo) is not None
    repo.mark_failed(KEY, "Throttling")
    again = claim(repo, now=T + 60)
    assert again is not None and again.attempts == 2
    repo.mark_sent(KEY, "ses-2", T + 61)
    stored = repo.get(KEY)
    assert stored is not None and (stored.status, stored.error, stored.message_id) == ("sent", None, "ses-2")


def test_a_sent_mail_is_found_by_its_message_id_and_a_bounce_marks_it(repo) -> None:
    other = outbox.mail_key(COMP, "award", "case0002", "other@example.gov.cn")
    claim(repo)
    claim(repo, key=other)
    repo.mark_sent(KEY, "ses-1", T + 1)
    repo.mark_sent(other, "ses-2", T + 1)
    assert [r.mail_key for r in repo.by_message("ses-1")] == [KEY]
    assert repo.by_message("ses-unknown") == []
    repo.mark_bounced(KEY, "Permanent/General: 550 no such user", T + 5)
    by_key = repo.get(KEY)
    assert by_key is not None
    assert (by_key.status, by_key.error, by_key.bounced_at, by_key.message_id) == \
        ("bounced", "Permanent/General: 550 no such user", T + 5, "ses-1")
    assert claim(repo, now=T + 6) is None                  # a bounced mail is not sent again
    assert [r.status for r in repo.by_message("ses-1")] == ["bounced"]


def test_many_are_read_at_once_and_missing_keys_are_left_out(repo) -> None:
    other = outbox.mail_key(COMP, "award", "case0002", "other@example.gov.cn")
    claim(repo)
    claim(repo, key=other)
    found = repo.get_many([KEY, "award#nothing#x@example.org", other, KEY])
    assert sorted(r.mail_key for r in found) == sorted([KEY, other])
    assert repo.get_many([]) == []


def test_the_log_is_newest_first_and_of_its_competition(repo) -> None:
    for i in range(3):
        repo.claim(outbox.mail_key(COMP, "award", f"case{i}", "u@example.org"), COMP, "award", "u@example.org", "s",
                   T + i, LIMIT)
    repo.claim("award#elsewhere#u@example.org", "other-comp", "award", "u@example.org", "s", T + 9, LIMIT)
    assert [r.mail_key.split("#")[2] for r in repo.recent(COMP, 10)] == ["case2", "case1", "case0"]
    assert [r.mail_key.split("#")[2] for r in repo.recent(COMP, 2)] == ["case2", "case1"]


def test_queued_mail_is_owed_oldest_first_and_claimed_once(repo, seed) -> None:
    late = queue(seed, "j2", T + 5)
    early = queue(seed, "j1", T + 1)
    queue(seed, "j3", T, competition="other-comp")
    assert [r.mail_key for r in repo.queued(COMP, 10)] == [early, late]
    assert [r.mail_key for r in repo.queued(COMP, 1)] == [early]
    first = repo.queued(COMP, 1)[0]
    assert (first.status, first.attempts, first.ref, first.queued_for) == ("queued", 0, "j1#text_review", COMP)
    claimed = repo.claim_queued(early, T + 10, LIMIT)
    assert claimed is not None and (claimed.status, claimed.attempts, claimed.claimed_at) == ("sending", 1, T + 10)
    assert repo.claim_queued(early, T + 11, LIMIT) is None          # another sender has it
    assert repo.claim_queued("judge_invitation#none#x@example.org", T, LIMIT) is None
    repo.mark_sent(early, "ses-9", T + 12, subject="评审邀请（第二版）", dequeue=True)
    stored = repo.get(early)
    assert stored is not None
    assert (stored.status, stored.subject, stored.queued_for, stored.message_id) == \
        ("sent", "评审邀请（第二版）", None, "ses-9")
    assert [r.mail_key for r in repo.queued(COMP, 10)] == [late]
    assert repo.claim_queued(early, T + 13, LIMIT) is None          # sent, out of the queue


def test_a_queued_mail_that_fails_stays_queued_until_its_last_attempt(repo, seed) -> None:
    key = queue(seed, "j1", T)
    for attempt in range(1, LIMIT + 1):
        claimed = repo.claim_queued(key, T + attempt, LIMIT)
        assert claimed is not None and claimed.attempts == attempt
        repo.mark_failed(key, "Throttling", dequeue=attempt >= LIMIT)
        assert [r.mail_key for r in repo.queued(COMP, 10)] == ([key] if attempt < LIMIT else [])
    assert repo.claim_queued(key, T + 10, LIMIT) is None
    stored = repo.get(key)
    assert stored is not None and (stored.status, stored.attempts, stored.queued_for) == ("failed", LIMIT, None)


def test_a_queued_mail_is_dropped_only_while_nobody_has_claimed_it(repo, seed) -> None:
    waiting, taken = queue(seed, "j1", T), queue(seed, "j2", T + 1)
    assert repo.claim_queued(taken, T + 2, LIMIT) is not None
    assert repo.drop(waiting) is True
    assert repo.drop(taken) is False                                 # another sender's claim
    assert repo.drop("judge_invitation#none#x@example.org") is False
    stored = repo.get(waiting)
    assert stored is not None and (stored.status, stored.queued_for) == ("dropped", None)
    assert repo.claim_queued(waiting, T + 3, LIMIT) is None
    assert repo.drop(taken, claimed=True) is True                   # the claimer's own drop
    dropped = repo.get(taken)
    assert dropped is not None and (dropped.status, dropped.queued_for) == ("dropped", None)
    assert repo.queued(COMP, 10) == []
