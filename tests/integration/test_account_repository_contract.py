"""One contract for the account repository: the same tests against DynamoDB (moto) and the in-memory twin.

Every condition the DynamoDB writes check is checked here on both: a taken username, a look-alike of one and a
unit that has an account; the failure counts as read; a token spent once and only while live; a ticket taken
once; a TOTP step or recovery code used once; a pending secret still pending; an organiser still one. Each
refused write raises the same domain error and changes nothing.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.account_record import Account, Session, new_token
from chalicelib.domain.errors import Conflict, Duplicate, NotFound
from chalicelib.services.repositories import AccountRepository
from chalicelib.store.memory import MemoryTables
from chalicelib.store.memory_accounts import InMemoryAccountRepository
from tests.integration.backends import BACKENDS, backend

T = 1_700_000_000.0


def _dynamodb() -> AccountRepository:
    from chalicelib.store.accounts import AccountRepository as DynamoAccounts
    return DynamoAccounts()


@pytest.fixture(params=BACKENDS)
def repo(request) -> AccountRepository:
    return backend(request, _dynamodb, lambda: InMemoryAccountRepository(MemoryTables()))


def unit(n: int = 1, **fields) -> Account:
    return Account(f"unit{n}", id=f"acc{n}", role="unit", password_hash="hash", created_at=T + n,
                   unit_name=f"深圳市第{n}局", unit_system="municipal", contact_name="张三",
                   email=f"u{n}@example.gov.cn", mobile="13800138000", **fields)


def organiser(username: str = "boss", role: str = "admin", n: int = 0) -> Account:
    return Account(username, id=f"org-{username}", role="organiser", password_hash="hash", created_at=T + n,
                   unit_name="主办单位", organiser_role=role, name="管理员", email=f"{username}@example.org")


def session(token_hash: str, account: Account, created_at: float = T, **fields) -> Session:
    return Session(token_hash=token_hash, role=account.role, created_at=created_at, expires_at=int(T + 3600),
                   account_id=account.id, username=account.username, unit_name=account.unit_name, csrf="c",
                   session_id=f"s-{token_hash}", ends_at=int(T + 7200), last_seen=created_at, client="203.0.113.9",
                   organiser_role=account.organiser_role, **fields)


def created(repo: AccountRepository, account: Account | None = None, key: str | None = "unit-key-1") -> Account:
    account = account or unit()
    repo.create(account, key, f"skeleton-{account.username}", f"unit:{account.username}", T)
    return account


# -- accounts -------------------------------------------------------------------------------------

def test_a_created_account_reads_back_as_it_was_made(repo) -> None:
    account = created(repo)
    assert repo.get("unit1") == account
    assert repo.get("nobody") is None


def test_creation_refuses_a_taken_username_a_look_alike_and_a_unit_with_an_account(repo) -> None:
    created(repo)
    with pytest.raises(Duplicate) as taken:
        repo.create(replace(unit(2), username="unit1"), "unit-key-2", "skeleton-other", "unit:x", T)
    assert taken.value.fields == {"username": "用户名已被使用"}
    with pytest.raises(Duplicate) as look_alike:
        repo.create(unit(2), "unit-key-2", "skeleton-unit1", "unit:unit2", T)
    assert look_alike.value.fields == {"username": "与已有用户名过于相似"}
    with pytest.raises(Duplicate) as same_unit:
        repo.create(unit(2), "unit-key-1", "skeleton-unit2", "unit:unit2", T)
    assert same_unit.value.fields == {"unit_name": "该单位已注册帐号"}
    assert repo.get("unit2") is None
    created(repo, unit(2), "unit-key-2")            # nothing of the refused ones was kept
    assert [a.username for a in repo.list_units()] == ["unit1", "unit2"]


def test_units_and_organisers_are_listed_apart_oldest_first(repo) -> None:
    created(repo, unit(2), "k2")
    created(repo, unit(1), "k1")
    created(repo, organiser("boss", n=5), None)
    repo.save_organiser(organiser("chief", n=3), "skeleton-chief")
    assert [a.username for a in repo.list_units()] == ["unit1", "unit2"]
    assert [a.username for a in repo.list_organisers()] == ["chief", "boss"]


def test_the_organiser_from_the_environment_is_saved_over_and_keeps_its_look(repo) -> None:
    chief = organiser("chief")
    repo.save_organiser(chief, "skeleton-chief")
    repo.save_organiser(replace(chief, password_hash="new"), "skeleton-chief")
    assert repo.get("chief") == replace(chief, password_hash="new")
    with pytest.raises(Duplicate):
        repo.create(unit(1), None, "skeleton-chief", "unit:unit1", T)


def test_password_and_two_step_setup(repo) -> None:
    created(repo)
    repo.set_password("unit1", "hash2", "unit:unit1", T + 1)
    repo.set_totp_pending("unit1", "SECRET", "unit:unit1", T + 2)
    with pytest.raises(Conflict):
        repo.enable_totp("unit1", "OTHER", {"r1"}, "unit:unit1", T + 3)    # not the pending secret
    repo.enable_totp("unit1", "SECRET", {"r1", "r2"}, "unit:unit1", T + 3)
    account = repo.get("unit1")
    assert account is not None
    assert (account.password_hash, account.password_changed_at) == ("hash2", T + 1)
    assert (account.totp_secret, account.totp_pending, account.recovery_hashes) == ("SECRET", None, {"r1", "r2"})
    with pytest.raises(Conflict):
        repo.set_password("nobody", "hash", "unit:nobody", T)


# -- login throttles --------------------------------------------------------------------------------

def test_login_reads_the_account_and_both_throttles(repo) -> None:
    account = created(repo)
    found, by_account, by_client = repo.get_for_login("unit1", "203.0.113.9", T)
    assert found == account
    assert (by_account.key, by_account.stored, by_account.failures, by_account.locked_until) == ("login#unit1", None, 0, 0)
    assert (by_client.key, by_client.stored) == ("client#203.0.113.9", None)
    assert repo.get_for_login("nobody", "203.0.113.9", T)[0] is None


def test_attempts_are_counted_on_the_count_as_read_and_a_stale_count_is_refused(repo) -> None:
    _, seen, by_client = repo.get_for_login("unit1", "203.0.113.9", T)
    repo.reserve_attempts([(seen, T + 30), (by_client, 0)], 3600, T)
    with pytest.raises(Conflict):
        repo.reserve_attempts([(seen, 0), (by_client, 0)], 3600, T)     # read before the first write
    _, after, client_after = repo.get_for_login("unit1", "203.0.113.9", T)
    assert (after.stored, after.failures, after.locked_until, client_after.failures) == (1, 1, T + 30, 1)
    repo.reserve_attempts([(after, 0)], 3600, T)
    assert [t.failures for t in repo.read_throttles(["login#unit1", "client#203.0.113.9"], T)] == [2, 1]
    # forgotten after `forget_after`: the row counts nothing, but its stored count still conditions the write
    expired = repo.read_throttles(["login#unit1"], T + 3601)[0]
    assert (expired.stored, expired.failures, expired.locked_until) == (2, 0, 0)


def test_released_attempts_take_back_one_and_the_lock(repo) -> None:
    _, seen, by_client = repo.get_for_login("unit1", "203.0.113.9", T)
    repo.reserve_attempts([(seen, T + 30), (by_client, T + 30)], 3600, T)
    repo.release_attempts(["login#unit1", "client#203.0.113.9"])
    assert [(t.failures, t.locked_until) for t in repo.read_throttles(["login#unit1", "client#203.0.113.9"], T)] == [
        (0, 0), (0, 0)]


def test_a_fixed_window_counts_up_to_its_limit_then_starts_again(repo) -> None:
    assert [repo.count_in_window("reset#unit1", 3, 3600, T) for _ in range(4)] == [True, True, True, False]
    assert repo.count_in_window("reset#unit1", 3, 3600, T + 3600) is True      # the window has passed
    assert [repo.count_in_window("reset#unit1", 3, 3600, T + 3600) for _ in range(3)] == [True, True, False]


# -- sessions ---------------------------------------------------------------------------------------

def test_a_session_opens_ends_the_failure_count_and_the_clients_attempt(repo) -> None:
    account = created(repo)
    _, seen, by_client = repo.get_for_login("unit1", "203.0.113.9", T)
    repo.reserve_attempts([(seen, T + 30), (by_client, T + 30)], 3600, T)
    opened = session("h1", account)
    repo.open_session(opened, "unit1", "client#203.0.113.9", T)
    assert repo.get_session("h1") == opened
    _, after, client_after = repo.get_for_login("unit1", "203.0.113.9", T)
    assert (after.stored, after.failures, client_after.failures, client_after.locked_until) == (None, 0, 0, 0)
    assert repo.get_session("nope") is None


def test_a_totp_step_and_a_recovery_code_are_used_once(repo) -> None:
    account = created(repo)
    repo.set_totp_pending("unit1", "SECRET", "unit:unit1", T)
    repo.enable_totp("unit1", "SECRET", {"r1", "r2"}, "unit:unit1", T)
    repo.open_session(session("h1", account), "unit1", None, T, totp_step=100)
    with pytest.raises(Conflict):
        repo.open_session(session("h2", account), "unit1", None, T, totp_step=100)
    with pytest.raises(Conflict):
        repo.open_session(session("h2", account), "unit1", None, T, totp_step=99)
    assert repo.get_session("h2") is None
    repo.open_session(session("h2", account), "unit1", None, T, totp_step=101)
    repo.open_session(session("h3", account), "unit1", None, T, recovery_hash="r1")
    with pytest.raises(Conflict):
        repo.open_session(session("h4", account), "unit1", None, T, recovery_hash="r1")
    stored = repo.get("unit1")
    assert stored is not None and (stored.totp_last_step, stored.recovery_hashes) == (101, {"r2"})
    assert repo.get_session("h4") is None


def test_sessions_are_listed_touched_marked_and_ended(repo) -> None:
    account = created(repo)
    for n in range(3):
        repo.open_session(session(f"h{n}", account, created_at=T + n), "unit1", None, T + n)
    assert [s.token_hash for s in repo.sessions_of("acc1")] == ["h0", "h1", "h2"]
    assert repo.touch_session("h0", T + 900, T + 60) is True
    touched = repo.get_session("h0")
    assert touched is not None and (touched.expires_at, touched.last_seen) == (T + 900, T + 60)
    repo.mark_session_mfa("h1")
    marked = repo.get_session("h1")
    assert marked is not None and marked.mfa is True
    repo.delete_session("h0", "account#unit1", "unit:unit1", T)
    assert repo.touch_session("h0", T + 900, T + 60) is False
    repo.end_sessions(["h1", "h2"], "account#unit1", "unit:unit1", "all_devices", T)
    assert repo.sessions_of("acc1") == [] and repo.get_session("h1") is None
    assert repo.sessions_of("acc2") == []


# -- tokens and tickets -----------------------------------------------------------------------------

def test_a_token_sets_the_password_once_and_only_while_live(repo) -> None:
    created(repo)
    token = new_token("th1", "unit1", "reset", T + 1800)
    repo.put_token(token, "anonymous", T)
    assert repo.get_token("th1") == token
    assert repo.get_token("other") is None
    repo.use_token(token, "hash2", T + 60)
    with pytest.raises(Conflict):
        repo.use_token(token, "hash3", T + 61)
    assert repo.get_token("th1") is None
    account = repo.get("unit1")
    assert account is not None and (account.password_hash, account.password_changed_at) == ("hash2", T + 60)
    late = new_token("th2", "unit1", "reset", T + 1800)
    repo.put_token(late, "anonymous", T)
    with pytest.raises(Conflict):
        repo.use_token(late, "hash4", T + 1800)         # expired
    assert repo.get_token("th2") == late                # refused: left to its TTL
    assert repo.get("unit1") == account


def test_an_invitation_token_is_created_with_its_organiser(repo) -> None:
    token = new_token("inv1", "staff1", "invitation", T + 72 * 3600)
    repo.create(organiser("staff1", "staff"), None, "skeleton-staff1", "organiser:boss", T, token=token)
    assert repo.get_token("inv1") == token
    repo.use_token(token, "hash2", T + 10)
    account = repo.get("staff1")
    assert account is not None and account.password_hash == "hash2"


def test_a_second_step_ticket_is_taken_once_and_only_while_live(repo) -> None:
    repo.put_ticket("tk1", "unit1", T + 300)
    assert repo.take_ticket("tk1", T + 10) == "unit1"
    assert repo.take_ticket("tk1", T + 11) is None
    repo.put_ticket("tk2", "unit1", T + 300)
    assert repo.take_ticket("tk2", T + 300) is None      # expired
    assert repo.take_ticket("nope", T) is None


# -- the organiser team -----------------------------------------------------------------------------

def test_an_organisers_role_changes_with_its_sessions(repo) -> None:
    staff = created(repo, organiser("staff1", "staff"), None)
    repo.open_session(session("h1", staff), "staff1", None, T)
    repo.set_organiser_role("staff1", "viewer", "organiser:boss", T)
    repo.set_sessions_role(["h1", "gone"], "viewer")
    account, opened = repo.get("staff1"), repo.get_session("h1")
    assert account is not None and account.organiser_role == "viewer"
    assert opened is not None and opened.organiser_role == "viewer"
    assert repo.get_session("gone") is None
    created(repo)
    with pytest.raises(NotFound):
        repo.set_organiser_role("unit1", "admin", "organiser:boss", T)     # a unit is no organiser
    with pytest.raises(NotFound):
        repo.set_organiser_role("nobody", "admin", "organiser:boss", T)
    unit1 = repo.get("unit1")
    assert unit1 is not None and unit1.organiser_role is None


def test_a_removed_organiser_is_gone_and_its_username_free(repo) -> None:
    created(repo, organiser("staff1", "staff"), None)
    created(repo)
    repo.remove_organiser("staff1", "skeleton-staff1", "organiser:boss", T)
    assert repo.get("staff1") is None and repo.list_organisers() == []
    with pytest.raises(NotFound):
        repo.remove_organiser("staff1", "skeleton-staff1", "organiser:boss", T)
    with pytest.raises(NotFound):
        repo.remove_organiser("unit1", "skeleton-unit1", "organiser:boss", T)
    assert repo.get("unit1") is not None
    created(repo, organiser("staff1", "admin"), None)      # the username and its look are free again
