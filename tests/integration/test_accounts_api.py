"""Accounts and sessions through the API (chalice test client + moto): registration, login, cool-down, logout."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.domain.clock import epoch
from chalicelib import bootstrap
from chalicelib.store import audit
from tests.conftest import register_unit

PASSWORD = "correct-horse-1"


def registration(n: int = 1, **overrides: Any) -> dict[str, Any]:
    return {"username": f"unit{n}", "password": PASSWORD, "unit_name": f"深圳市第{n}局",
            "unit_system": "municipal", "contact_name": "张三", "email": f"u{n}@example.gov.cn",
            "mobile": "13800138000", **overrides}


def login(api, username: str = "unit1", password: str = PASSWORD) -> tuple[int, Any]:
    return api.call("POST", "/sessions", {"username": username, "password": password})


def advance(clock, seconds: float) -> None:
    clock.t += seconds


# -- registration ----------------------------------------------------------------------------------

def test_register_unit_answers_201_with_the_account(api) -> None:
    status, data = api.call("POST", "/accounts", registration())
    assert status == 201
    assert data == {"id": data["id"], "username": "unit1", "unit_name": "深圳市第1局", "role": "unit"}
    assert isinstance(data["id"], str) and data["id"]


def test_register_district_unit_with_district(api) -> None:
    status, data = api.call("POST", "/accounts", registration(unit_system="district", district="南山区",
                                                              unit_name="中共深圳市南山区委组织部"))
    assert status == 201, data
    assert data["role"] == "unit"


def test_a_district_unit_names_its_district_and_a_municipal_one_has_none(api) -> None:
    from chalicelib.store import accounts as account_store
    for district in (None, "", "   "):
        body = registration(unit_system="district", **({} if district is None else {"district": district}))
        status, data = api.call("POST", "/accounts", body)
        assert (status, data) == (400, {"error": {"code": "invalid", "message": "单位类型为区直时请填写所属区（如 福田区、大鹏新区）",
                                                  "fields": {"district": "单位类型为区直时请填写所属区（如 福田区、大鹏新区）"}}})
    status, data = api.call("POST", "/accounts", registration(unit_system="district", district="区" * 51))
    assert (status, data["error"]["fields"]) == (400, {"district": "所属区不能超过 50 个字符"})
    assert api.call("POST", "/accounts", registration(1, unit_system="district", district=" 福田区 "))[0] == 201
    assert api.call("POST", "/accounts", registration(2, district="南山区"))[0] == 201        # 市直: ignored
    assert (account_store.get("unit1").district, account_store.get("unit2").district) == ("福田区", None)


def test_register_cannot_make_an_organiser(api) -> None:
    status, data = api.call("POST", "/accounts", registration(role="organiser"))
    assert (status, data["role"]) == (201, "unit")
    status, session = login(api)
    assert (status, session["role"]) == (200, "unit")


def test_register_writes_an_audit_row(api) -> None:
    api.call("POST", "/accounts", registration())
    assert [e.action for e in audit.history("account#unit1")] == ["account.create"]


def test_register_empty_body_names_every_field(api) -> None:
    status, data = api.call("POST", "/accounts", {})
    assert status == 400
    assert data["error"]["code"] == "invalid"
    assert sorted(data["error"]["fields"]) == sorted(
        ["username", "password", "unit_name", "unit_system", "contact_name", "email", "mobile"])
    assert data["error"]["message"].endswith("（共7处需要修改）")


INVALID_FIELDS = [
    ("username", "a"), ("username", "有 空格"), ("username", "x" * 65), ("username", 5),
    ("unit_name", "局"), ("unit_name", "局" * 101), ("unit_system", "province"), ("unit_system", None),
    ("contact_name", ""), ("email", "not-an-email"), ("email", "a@b"), ("mobile", "12800138000"),
    ("mobile", "1380013800"), ("mobile", 13800138000),
]


def test_register_invalid_field_is_named(api) -> None:
    for field, value in INVALID_FIELDS:
        status, data = api.call("POST", "/accounts", registration(**{field: value}))
        assert (status, data["error"]["code"], list(data["error"]["fields"])) == (400, "invalid", [field]), value
    assert login(api)[0] == 401


def test_register_password_of_11_characters_is_refused(api) -> None:
    status, data = api.call("POST", "/accounts", registration(password="horse-st4pl"))
    assert (status, data) == (400, {"error": {"code": "invalid", "message": "密码至少 12 位",
                                              "fields": {"password": "密码至少 12 位"}}})


def test_register_password_of_12_characters_is_accepted(api) -> None:
    status, _ = api.call("POST", "/accounts", registration(password="horse-st4ple"))
    assert status == 201
    assert login(api, password="horse-st4ple")[0] == 200


def test_register_password_over_128_is_refused(api) -> None:
    status, data = api.call("POST", "/accounts", registration(password="p" * 129))
    assert (status, list(data["error"]["fields"])) == (400, ["password"])


def test_register_taken_username_is_duplicate(api) -> None:
    api.call("POST", "/accounts", registration(1))
    status, data = api.call("POST", "/accounts", registration(2, username="unit1"))
    assert status == 409
    assert data == {"error": {"code": "duplicate", "message": "用户名已被使用，请换一个用户名",
                              "fields": {"username": "用户名已被使用"}}}


def test_register_duplicate_keeps_the_first_account(api) -> None:
    api.call("POST", "/accounts", registration(1))
    api.call("POST", "/accounts", registration(2, username="unit1", password="another-password"))
    assert login(api, password=PASSWORD)[0] == 200


SAME_UNIT = ["深圳市ABC局", " 深圳市ABC局 ", "深圳市 ABC 局", "深圳市\u3000ABC局", "深圳市ＡＢＣ局", "深圳市abc局",
             "深圳市\tＡｂｃ\u3000局"]


def test_register_second_account_for_one_unit_is_duplicate(api) -> None:
    assert api.call("POST", "/accounts", registration(1, unit_name="深圳市ABC局"))[0] == 201
    for n, second_name in enumerate(SAME_UNIT, start=2):
        status, data = api.call("POST", "/accounts", registration(n, unit_name=second_name))
        assert status == 409, second_name
        assert data["error"]["code"] == "duplicate"
        assert data["error"]["fields"] == {"unit_name": "该单位已注册帐号"}


def test_register_duplicate_unit_leaves_no_account_behind(api) -> None:
    api.call("POST", "/accounts", registration(1))
    api.call("POST", "/accounts", registration(2, unit_name="深圳市第1局"))
    assert [e.action for e in audit.history("account#unit2")] == []
    assert login(api, username="unit2")[0] == 401
    assert [e.action for e in audit.history("account#unit2")] == ["login.failed"]


def test_register_different_units_both_succeed(api) -> None:
    assert api.call("POST", "/accounts", registration(1))[0] == 201
    assert api.call("POST", "/accounts", registration(2))[0] == 201


def test_register_malformed_body_is_400(api) -> None:
    for raw in [b"{not json", b"\xff\xfe\x00{", b"[1, 2]", b'"text"', b"null", b"", b"   "]:
        status, data = api.call("POST", "/accounts", raw=raw)
        assert (status, data["error"]["code"]) == (400, "invalid"), raw


def test_register_huge_body_is_413(api) -> None:
    status, data = api.call("POST", "/accounts", registration(contact_name="张" * 300_000))
    assert (status, data["error"]["code"]) == (413, "too_large")


# -- login -----------------------------------------------------------------------------------------

def test_login_answers_a_token_with_role_and_account(api) -> None:
    _, account = api.call("POST", "/accounts", registration())
    status, data = login(api)
    assert status == 200
    assert (data["role"], data["account_id"]) == ("unit", account["id"])
    assert isinstance(data["token"], str) and len(data["token"]) >= 32


def test_login_wrong_password_is_401(api) -> None:
    api.call("POST", "/accounts", registration())
    status, data = login(api, password="wrong-password")
    assert (status, data) == (401, {"error": {"code": "unauthenticated", "message": "用户名或密码错误"}})


def test_login_unknown_user_is_401_like_a_wrong_password(api) -> None:
    status, data = login(api, username="nobody")
    assert (status, data) == (401, {"error": {"code": "unauthenticated", "message": "用户名或密码错误"}})


def test_login_malformed_credentials_are_401(api) -> None:
    api.call("POST", "/accounts", registration())
    for body in [{}, {"username": "unit1"}, {"username": 5, "password": PASSWORD},
                 {"username": "unit1", "password": ["x"]}, [], "unit1"]:
        status, data = api.call("POST", "/sessions", body)
        assert (status, data["error"]["code"]) == (401, "unauthenticated"), body


def test_login_malformed_json_is_400(api) -> None:
    assert api.call("POST", "/sessions", raw=b'{"username": ')[0] == 400


def test_login_five_failures_hold_even_the_right_password_back_for_two_seconds(api, clock) -> None:
    api.call("POST", "/accounts", registration())
    for _ in range(5):
        assert login(api, password="wrong-password")[0] == 401
    advance(clock, 1)
    status, data = login(api)
    assert (status, data) == (429, {"error": {"code": "rate_limited", "message": "登录失败次数较多，请 1 秒后再试"}})


def test_login_four_failures_do_not_lock(api) -> None:
    api.call("POST", "/accounts", registration())
    for _ in range(4):
        assert login(api, password="wrong-password")[0] == 401
    assert login(api)[0] == 200


def test_login_success_resets_the_failure_count(api) -> None:
    api.call("POST", "/accounts", registration())
    for _ in range(4):
        login(api, password="wrong-password")
    assert login(api)[0] == 200
    for _ in range(4):
        assert login(api, password="wrong-password")[0] == 401
    assert login(api)[0] == 200


def test_login_back_off_answers_429_with_the_true_retry_after(api) -> None:
    api.call("POST", "/accounts", registration())
    for _ in range(5):
        login(api, password="wrong-password")
    response = api.client.http.post("/api/v1/sessions", headers={"Content-Type": "application/json"},
                                    body=b'{"username": "unit1", "password": "correct-horse-1"}')
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"


def test_login_lock_is_per_username(api) -> None:
    api.call("POST", "/accounts", registration(1))
    api.call("POST", "/accounts", registration(2))
    for _ in range(5):
        login(api, username="unit1", password="wrong-password")
    assert login(api, username="unit2")[0] == 200


def test_login_held_back_one_second_before_the_back_off_ends(api, clock) -> None:
    api.call("POST", "/accounts", registration())
    for _ in range(5):
        login(api, password="wrong-password")
    advance(clock, 2 - 1)
    assert login(api)[0] == 429


def test_login_works_after_the_back_off(api, clock) -> None:
    api.call("POST", "/accounts", registration())
    for _ in range(5):
        login(api, password="wrong-password")
    advance(clock, 2)
    status, data = login(api)
    assert (status, data["role"]) == (200, "unit")


def test_login_back_off_doubles_with_each_further_failure(api, clock) -> None:
    api.call("POST", "/accounts", registration())
    for _ in range(5):
        login(api, password="wrong-password")
    waits = []
    for _ in range(4):
        response = api.client.http.post("/api/v1/sessions", headers={"Content-Type": "application/json"},
                                        body=b'{"username": "unit1", "password": "x"}')
        waits.append(response.headers["Retry-After"])
        advance(clock, int(response.headers["Retry-After"]))
        assert login(api, password="wrong-password")[0] == 401
    assert waits == ["2", "4", "8", "16"]
    advance(clock, 32)
    assert login(api)[0] == 200


def test_login_back_off_never_exceeds_the_longest_wait(api, clock, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_COOLDOWN_SECONDS", "10")
    from chalicelib import config
    config.reset()
    bootstrap.config.cache_clear()
    try:
        api.call("POST", "/accounts", registration())
        for _ in range(9):
            assert login(api, password="wrong-password")[0] == 401
            advance(clock, 10)
        assert login(api, password="wrong-password")[0] == 401
        status = api.client.http.post("/api/v1/sessions", headers={"Content-Type": "application/json"},
                                      body=b'{"username": "unit1", "password": "correct-horse-1"}')
        assert (status.status_code, status.headers["Retry-After"]) == (429, "10")
    finally:
        monkeypatch.delenv("LOGIN_COOLDOWN_SECONDS")
        config.reset()
        bootstrap.config.cache_clear()


def test_login_parallel_guesses_that_read_one_count_are_checked_once(api, clock) -> None:
    """Two attempts that read the same failure count: the conditional write lets only one through."""
    import pytest
    from chalicelib.store import accounts as store
    from chalicelib.store import db
    api.call("POST", "/accounts", registration())
    now = epoch(bootstrap.now())
    _, seen, by_client = store.get_for_login("unit1", "203.0.113.9", now)
    store.reserve_attempts([(seen, 0), (by_client, 0)], 3600, now)
    with pytest.raises(db.Refused):
        store.reserve_attempts([(seen, 0), (by_client, 0)], 3600, now)
    _, after, _ = store.get_for_login("unit1", "203.0.113.9", now)
    assert after.failures == 1


def test_login_failures_from_one_client_across_usernames_back_off(api, clock) -> None:
    for n in range(10):
        assert login(api, username=f"spray{n}", password="wrong-password")[0] == 401
    status, data = login(api, username="spray-other", password="wrong-password")
    assert (status, data["error"]["code"]) == (429, "rate_limited")


def test_login_usernames_are_folded(api) -> None:
    api.call("POST", "/accounts", registration(username="Unit1"))
    assert login(api, username="ＵＮＩＴ１")[0] == 200
    assert login(api, username="unit1")[0] == 200


def test_register_a_look_alike_username_is_refused(api) -> None:
    api.call("POST", "/accounts", registration(username="organ"))
    status, data = api.call("POST", "/accounts", registration(2, username="оrgan"))   # Cyrillic о
    assert (status, data["error"]["code"], data["error"]["fields"]) == (409, "duplicate",
                                                                        {"username": "与已有用户名过于相似"})


def test_register_refuses_common_repeated_and_username_passwords(api) -> None:
    for password, message in [("password1234", "该密码过于常见，容易被猜中，请换一个"),
                              ("QWERTYUIOP123", "该密码过于常见，容易被猜中，请换一个"),
                              ("aaaaaaaaaaaaaaa", "密码不能由同一个字符重复组成"),
                              ("unit-long-name", "密码不能与用户名相同")]:
        status, data = api.call("POST", "/accounts", registration(username="unit-long-name", password=password))
        assert (status, data["error"]["fields"]) == (400, {"password": message}), password


def test_login_lock_also_holds_for_an_unknown_username(api) -> None:
    for _ in range(5):
        assert login(api, username="ghost", password="wrong-password")[0] == 401
    assert login(api, username="ghost", password="wrong-password")[0] == 429


def test_login_organiser(api) -> None:
    from chalicelib.services import accounts
    accounts.ensure_organiser(bootstrap.deps().accounts, "organiser", "organiser-password-1", bootstrap.config(), bootstrap.now())
    status, data = login(api, "organiser", "organiser-password-1")
    assert (status, data["role"]) == (200, "organiser")


# -- sessions and logout ---------------------------------------------------------------------------

def test_session_token_opens_the_api(api) -> None:
    unit = api.as_(register_unit(api))
    assert unit.call("GET", "/cases") == (200, {"cases": []})


def test_session_missing_token_is_401(api) -> None:
    status, data = api.call("GET", "/cases")
    assert (status, data) == (401, {"error": {"code": "unauthenticated", "message": "请先登录"}})


def test_session_bad_token_is_401(api) -> None:
    for token in ["bogus", "x" * 500, "Ω" * 10]:
        assert api.call("GET", "/cases", token=token)[0] == 401, token


def test_session_malformed_authorization_header_is_401(api) -> None:
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token"):
        response = api.client.http.get("/api/v1/cases", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_session_expires_after_session_hours(api, clock) -> None:
    unit = api.as_(register_unit(api))
    advance(clock, timedelta(hours=12).total_seconds() - 1)
    assert unit.call("GET", "/cases")[0] == 200
    advance(clock, 1)
    assert unit.call("GET", "/cases")[0] == 401


def test_logout_answers_204_and_kills_the_token(api) -> None:
    token = register_unit(api)
    unit = api.as_(token)
    status, data = unit.call("DELETE", "/sessions/current")
    assert (status, data) == (204, None)
    status, data = unit.call("GET", "/cases")
    assert (status, data["error"]["code"]) == (401, "unauthenticated")


def test_logout_twice_is_401(api) -> None:
    unit = api.as_(register_unit(api))
    unit.call("DELETE", "/sessions/current")
    assert unit.call("DELETE", "/sessions/current")[0] == 401


def test_logout_without_token_is_401(api) -> None:
    assert api.call("DELETE", "/sessions/current")[0] == 401


def test_logout_ends_only_that_session(api) -> None:
    first = api.as_(register_unit(api))
    _, second = login(api)
    first.call("DELETE", "/sessions/current")
    assert api.as_(second["token"]).call("GET", "/cases")[0] == 200
    assert first.call("GET", "/cases")[0] == 401


def test_sessions_opened_and_closed_are_audited(api) -> None:
    api.call("POST", "/accounts", registration(1))
    status, session = login(api, username="unit1")
    assert status == 200
    assert api.call("DELETE", "/sessions/current", token=session["token"])[0] == 204
    # the test clock stands still, so the rows share a time: compare them as a set
    assert sorted(e.action for e in audit.history("account#unit1")) == ["account.create", "session.close",
                                                                         "session.open"]


def test_a_right_password_from_a_client_past_its_free_failures_leaves_no_back_off(api, clock) -> None:
    """The attempt is counted (and a back-off set) before the password is checked; a right one takes both back."""
    api.call("POST", "/accounts", registration(1))
    for n in range(10):
        assert login(api, username=f"spray{n}", password="wrong-password")[0] == 401
    advance(clock, 2)
    assert login(api)[0] == 200
    assert login(api)[0] == 200
