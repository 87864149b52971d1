"""Password reset and change, two-step verification, sessions on /account and the organiser team's roles."""
from __future__ import annotations

import re
from datetime import datetime

from chalicelib.domain.clock import epoch
from chalicelib import bootstrap
from chalicelib.domain import totp as otp
from chalicelib.store import audit
from tests.conftest import CHINA, register_unit
from tests.integration import mailbox
from tests.integration.team import MEMBER_PASSWORD, invitation_token, member
from tests.integration.test_judging_api import organiser

PASSWORD = "correct-horse-1"
NEW_PASSWORD = "a-brand-new-secret-7"
ACCEPTED = {"status": "accepted", "message": "如果该用户名已注册，重置密码的链接已发送到其注册邮箱，30 分钟内有效。"}


def login(api, username: str = "unit1", password: str = PASSWORD, **extra):
    return api.call("POST", "/sessions", {"username": username, "password": password, **extra})


def reset_mails(to: str) -> list:
    return [m for m in mailbox.ses_messages() if m["To"] == to and "重置密码" in m["Subject"]]


def reset_token(to: str) -> str:
    _, html = mailbox.bodies(reset_mails(to)[-1])
    return next(link for link in mailbox.links(html) if "/reset/" in link).rsplit("/reset/", 1)[1]


# -- 1. password reset ---------------------------------------------------------------------------------

def test_reset_answers_the_same_for_a_known_and_an_unknown_user(api):
    register_unit(api)
    assert api.call("POST", "/password-resets", {"username": "unit1"}) == (202, ACCEPTED)
    assert api.call("POST", "/password-resets", {"username": "nobody"}) == (202, ACCEPTED)
    assert len(reset_mails("u1@example.gov.cn")) == 1
    assert [m["To"] for m in mailbox.ses_messages() if "重置密码" in m["Subject"]] == ["u1@example.gov.cn"]


def test_reset_mail_carries_a_128_bit_link_to_the_site(api):
    register_unit(api)
    api.call("POST", "/password-resets", {"username": "UNIT1"})
    message = reset_mails("u1@example.gov.cn")[0]
    mailbox.check_headers(message, "u1@example.gov.cn", "重置密码")
    text, html = mailbox.bodies(message)
    token = reset_token("u1@example.gov.cn")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)     # 16 random bytes, base64url
    assert f"{bootstrap.config().site_url}/reset/{token}" in text
    assert "2023年" in text and "T" not in text.split("前有效")[0][-20:]


def test_reset_sets_the_password_and_ends_every_session(api):
    old_session = api.as_(register_unit(api))
    api.call("POST", "/password-resets", {"username": "unit1"})
    token = reset_token("u1@example.gov.cn")
    assert api.call("POST", f"/password-resets/{token}", {"password": NEW_PASSWORD}) == (
        200, {"username": "unit1", "status": "password_set"})
    assert old_session.call("GET", "/cases")[0] == 401
    assert login(api)[0] == 401
    assert login(api, password=NEW_PASSWORD)[0] == 200
    actions = [e.action for e in audit.history("account#unit1")]
    assert "reset.request" in actions and "reset.use" in actions and "session.end" in actions


def test_reset_link_works_once(api):
    register_unit(api)
    api.call("POST", "/password-resets", {"username": "unit1"})
    token = reset_token("u1@example.gov.cn")
    assert api.call("POST", f"/password-resets/{token}", {"password": NEW_PASSWORD})[0] == 200
    status, data = api.call("POST", f"/password-resets/{token}", {"password": "yet-another-secret-9"})
    assert (status, data["error"]["code"]) == (400, "invalid_token")
    assert login(api, password=NEW_PASSWORD)[0] == 200


def test_reset_link_forged_or_expired_is_invalid_token(api, clock):
    register_unit(api)
    for token in ("forged-token-xyz", "x" * 300):
        status, data = api.call("POST", f"/password-resets/{token}", {"password": NEW_PASSWORD})
        assert (status, data["error"]["code"]) == (400, "invalid_token"), token
    api.call("POST", "/password-resets", {"username": "unit1"})
    token = reset_token("u1@example.gov.cn")
    clock.set(datetime.fromtimestamp(epoch(bootstrap.now()) + 30 * 60, tz=CHINA))
    status, data = api.call("POST", f"/password-resets/{token}", {"password": NEW_PASSWORD})
    assert (status, data["error"]["code"]) == (400, "invalid_token")


def test_reset_with_a_weak_password_keeps_the_link(api):
    register_unit(api)
    api.call("POST", "/password-resets", {"username": "unit1"})
    token = reset_token("u1@example.gov.cn")
    status, data = api.call("POST", f"/password-resets/{token}", {"password": "short"})
    assert (status, data["error"]["fields"]) == (400, {"password": "密码至少 12 位"})
    assert api.call("POST", f"/password-resets/{token}", {"password": NEW_PASSWORD})[0] == 200


def test_reset_mails_at_most_three_an_hour_per_account(api):
    register_unit(api)
    for _ in range(5):
        assert api.call("POST", "/password-resets", {"username": "unit1"}) == (202, ACCEPTED)
    assert len(reset_mails("u1@example.gov.cn")) == 3


def test_reset_requests_are_limited_per_client(api):
    for n in range(10):
        assert api.call("POST", "/password-resets", {"username": f"someone{n}"})[0] == 202
    status, data = api.call("POST", "/password-resets", {"username": "someone-else"})
    assert (status, data["error"]["code"]) == (429, "rate_limited")


# -- 2. change of password -----------------------------------------------------------------------------

def test_change_password_needs_the_current_one_and_ends_the_other_sessions(api):
    first = api.as_(register_unit(api))
    second = api.as_(login(api)[1]["token"])
    status, data = first.call("PUT", "/account/password", {"current_password": "wrong-one-123",
                                                           "new_password": NEW_PASSWORD})
    assert (status, data["error"]["fields"]) == (400, {"current_password": "当前密码不正确"})
    assert first.call("PUT", "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}) == (
        200, {"status": "password_changed"})
    assert first.call("GET", "/cases")[0] == 200
    assert second.call("GET", "/cases")[0] == 401
    assert login(api, password=NEW_PASSWORD)[0] == 200


def test_change_password_applies_the_rules(api):
    unit = api.as_(register_unit(api))
    for new, message in [("unit1", "密码至少 12 位"), ("1234567890123", "该密码过于常见，容易被猜中，请换一个"),
                         ("zzzzzzzzzzzz", "密码不能由同一个字符重复组成")]:
        status, data = unit.call("PUT", "/account/password", {"current_password": PASSWORD, "new_password": new})
        assert (status, data["error"]["fields"]) == (400, {"new_password": message}), new


# -- 4. two-step verification --------------------------------------------------------------------------

def _turn_on_totp(session) -> tuple[str, list[str]]:
    status, setup = session.call("POST", "/account/totp")
    assert status == 200 and setup["otpauth_uri"] == (
        f"otpauth://totp/%E8%B5%9B%E8%AF%84%3Aboss?secret={setup['secret']}&issuer=%E8%B5%9B%E8%AF%84"
        "&algorithm=SHA1&digits=6&period=30")
    code = otp.code_at(setup["secret"], otp.step_of(epoch(bootstrap.now())))
    status, data = session.call("POST", "/account/totp/confirm", {"code": code})
    assert status == 200 and data["enabled"] is True and len(data["recovery_codes"]) == 10
    return setup["secret"], data["recovery_codes"]


def test_totp_login_without_with_a_wrong_and_with_the_right_code(api, clock):
    org = organiser(api)
    secret, _ = _turn_on_totp(org)
    from tests.integration.test_judging_api import ORGANISER
    status, data = login(api, *ORGANISER)
    assert (status, data["error"]["code"]) == (401, "mfa_required")
    right = otp.code_at(secret, otp.step_of(epoch(bootstrap.now())))     # the code that confirmed it: usable once
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    status, data = login(api, *ORGANISER, totp=wrong)
    assert (status, data["error"]["code"]) == (401, "unauthenticated")
    status, data = login(api, *ORGANISER, totp=right)
    assert (status, data["role"]) == (200, "organiser")
    status, data = login(api, *ORGANISER, totp=right)           # a code works once
    assert (status, data["error"]["code"]) == (401, "unauthenticated")


def test_totp_recovery_code_works_once(api):
    org = organiser(api)
    _, codes = _turn_on_totp(org)
    from tests.integration.test_judging_api import ORGANISER
    assert login(api, *ORGANISER, totp=codes[3].upper())[0] == 200
    assert login(api, *ORGANISER, totp=codes[3])[0] == 401


def test_totp_confirm_with_a_wrong_code_keeps_it_off(api):
    org = organiser(api)
    org.call("POST", "/account/totp")
    status, data = org.call("POST", "/account/totp/confirm", {"code": "000000x"})
    assert (status, data["error"]["fields"]) == (400, {"code": "验证码不正确"})
    assert org.call("GET", "/account")[1]["totp_enabled"] is False


def test_totp_rfc6238_test_vector():
    secret = otp.secret_from(b"12345678901234567890")
    assert [otp.code_at(secret, otp.step_of(t)) for t in (59, 1111111109, 1234567890, 2000000000)] == [
        "287082", "081804", "005924", "279037"]


# -- 6. sessions ---------------------------------------------------------------------------------------

def test_sessions_are_listed_and_one_can_be_ended(api):
    first = api.as_(register_unit(api))
    second_token = login(api)[1]["token"]
    status, data = first.call("GET", "/account/sessions")
    assert status == 200 and [s["current"] for s in data["sessions"]].count(True) == 1
    assert len(data["sessions"]) == 2 and all(s["client"] == "127.0.0.1" for s in data["sessions"])
    other = next(s["id"] for s in data["sessions"] if not s["current"])
    assert first.call("DELETE", f"/account/sessions/{other}") == (204, None)
    assert api.as_(second_token).call("GET", "/cases")[0] == 401
    assert first.call("DELETE", f"/account/sessions/{other}")[0] == 404
    assert first.call("DELETE", "/account/sessions") == (204, None)
    assert first.call("GET", "/cases")[0] == 401


def test_an_idle_organiser_session_ends_after_30_minutes(api, clock):
    org = organiser(api)
    clock.set(datetime.fromtimestamp(epoch(bootstrap.now()) + 29 * 60, tz=CHINA))
    assert org.call("GET", "/admin/judges")[0] == 200          # in use: the idle deadline moves
    clock.set(datetime.fromtimestamp(epoch(bootstrap.now()) + 29 * 60, tz=CHINA))
    assert org.call("GET", "/admin/judges")[0] == 200
    clock.set(datetime.fromtimestamp(epoch(bootstrap.now()) + 30 * 60, tz=CHINA))
    assert org.call("GET", "/admin/judges")[0] == 401


def test_hsts_over_https_only(client):
    plain = client.http.get("/api/v1/health")
    secure = client.http.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# -- 3. the organiser team -----------------------------------------------------------------------------

def test_invited_viewer_reads_but_never_writes(api):
    admin = organiser(api)
    viewer = api.as_(member(api, admin, "viewer1", "viewer"))
    assert viewer.call("GET", "/admin/judges") == (200, {"judges": []})
    assert viewer.call("GET", "/cases")[0] == 200
    status, data = viewer.call("POST", "/admin/judges", {"name": "张评委"})
    assert (status, data) == (403, {"error": {"code": "forbidden",
                                              "message": "只读成员只能查看，不能修改（如需修改请联系管理员）"}})
    assert viewer.call("POST", "/admin/stages/submission/close")[0] == 403
    assert viewer.call("PUT", "/account/password", {"current_password": MEMBER_PASSWORD,
                                                    "new_password": NEW_PASSWORD})[0] == 200


def test_staff_may_work_but_not_manage_the_team_windows_closing_or_award_mail(api):
    admin = organiser(api)
    staff = api.as_(member(api, admin, "staff1", "staff"))
    body = {"name": "张评委", "email": "z@example.gov.cn", "mobile": "13800138000", "affiliation": "某大学",
            "categories": ["development"]}
    assert staff.call("POST", "/admin/judges", body)[0] == 201
    for method, path in [("POST", "/admin/organisers"), ("PUT", "/admin/stages/submission"),
                         ("POST", "/admin/stages/submission/close"), ("POST", "/admin/notifications/awards"),
                         ("DELETE", "/admin/organisers/organiser")]:
        status, data = staff.call(method, path, {})
        assert (status, data["error"]["message"]) == (
            403, "只有管理员可以进行此操作（团队成员、阶段时间、关闭阶段、发送获奖通知）"), path


def test_invitation_mail_is_a_72_hour_link_and_audit_names_the_person(api, clock):
    admin = organiser(api)
    status, data = admin.call("POST", "/admin/organisers", {"username": "Li.Hua", "name": "李华",
                                                            "email": "li.hua@example.gov.cn", "role": "staff"})
    assert (status, data) == (201, {"username": "li.hua", "name": "李华", "email": "li.hua@example.gov.cn",
                                    "role": "staff", "invited": True})
    assert login(api, "li.hua", "anything-at-all-1")[0] == 401
    token = invitation_token("li.hua")
    clock.set(datetime.fromtimestamp(epoch(bootstrap.now()) + 71 * 3600, tz=CHINA))
    assert api.call("POST", f"/password-resets/{token}", {"password": MEMBER_PASSWORD})[0] == 200
    session = login(api, "li.hua", MEMBER_PASSWORD)[1]
    assert api.as_(session["token"]).call("POST", "/admin/judges", {})[0] == 400   # staff: allowed, body invalid
    rows = {(e.action, e.actor) for e in audit.history("account#li.hua")}
    assert {("account.create", "organiser:boss"), ("invitation.use", "token:li.hua"),
            ("session.open", "organiser:li.hua")} <= rows


def test_changing_a_role_applies_to_live_sessions_and_removal_ends_them(api):
    admin = organiser(api)
    staff = api.as_(member(api, admin, "staff1", "staff"))
    assert admin.call("PUT", "/admin/organisers/staff1", {"role": "viewer"})[1]["role"] == "viewer"
    assert staff.call("POST", "/admin/judges", {})[0] == 403
    assert admin.call("GET", "/admin/organisers")[1]["organisers"][1]["role"] == "viewer"
    assert admin.call("DELETE", "/admin/organisers/staff1") == (204, None)
    assert staff.call("GET", "/admin/judges")[0] == 401
    assert login(api, "staff1", MEMBER_PASSWORD)[0] == 401


def test_an_admin_cannot_demote_or_remove_themself(api):
    admin = organiser(api)
    assert admin.call("PUT", "/admin/organisers/boss", {"role": "viewer"})[0] == 409
    assert admin.call("DELETE", "/admin/organisers/boss")[0] == 409


def test_a_look_alike_organiser_username_is_refused(api):
    admin = organiser(api)
    status, data = admin.call("POST", "/admin/organisers", {"username": "bоss", "name": "假冒",
                                                            "email": "x@example.gov.cn", "role": "admin"})
    assert (status, data["error"]["code"]) == (409, "duplicate")


# -- the pages -----------------------------------------------------------------------------------------

def _page_login(browser, username: str, password: str):
    from tests.browser import csrf_of, text
    page = text(browser.get("/login"))
    return browser.post("/login", {"username": username, "password": password, "csrf_token": csrf_of(page)})


def test_login_page_asks_for_the_code_as_a_second_step(client, api):
    from tests.browser import Browser, csrf_of, text
    from tests.integration.test_judging_api import ORGANISER
    secret, _ = _turn_on_totp(organiser(api))
    browser = Browser(client)
    step_two = _page_login(browser, *ORGANISER)
    page = text(step_two)
    assert step_two.status_code == 200 and '<label for="f-totp">验证码</label>' in page
    assert ORGANISER[1] not in page and "__Host-sp_session" not in browser.jar
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    fields = {"ticket": ticket, "username": ORGANISER[0], "csrf_token": csrf_of(page)}
    wrong = browser.post("/login", {**fields, "totp": "000000"})
    assert wrong.status_code == 401 and "验证码错误" in text(wrong)
    again = browser.post("/login", {**fields, "totp": otp.code_at(secret, otp.step_of(epoch(bootstrap.now())))})
    assert again.status_code == 401 and "登录已超时" in text(again)        # a ticket is one try
    page = text(_page_login(browser, *ORGANISER))
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    done = browser.post("/login", {**fields, "ticket": ticket, "csrf_token": csrf_of(page),
                                   "totp": otp.code_at(secret, otp.step_of(epoch(bootstrap.now())))})
    assert (done.status_code, done.headers["Location"]) == (303, "/admin")
    assert browser.get("/admin").status_code == 200


def test_staff_gets_a_403_page_for_an_admin_only_form(client, api):
    from tests.browser import Browser, csrf_of, text
    admin = organiser(api)
    member(api, admin, "staff1", "staff")
    browser = Browser(client)
    assert _page_login(browser, "staff1", MEMBER_PASSWORD).headers["Location"] == "/admin"
    page = text(browser.get("/admin/team"))
    assert "邀请成员" not in page and "staff1" in page
    refused = browser.post("/admin/team", {"username": "x1", "name": "某", "email": "x1@example.gov.cn",
                                           "role": "admin", "csrf_token": csrf_of(page)})
    assert refused.status_code == 403 and "只有管理员可以进行此操作" in text(refused)
    assert [o["username"] for o in admin.call("GET", "/admin/organisers")[1]["organisers"]] == ["boss", "staff1"]


def test_the_reset_pages_set_a_new_password(client, api):
    from tests.browser import Browser, csrf_of, text
    register_unit(api)
    browser = Browser(client)
    page = text(browser.get("/login"))
    assert '<a href="/password-reset">忘记密码</a>' in page
    page = text(browser.get("/password-reset"))
    sent = browser.post("/password-reset", {"username": "unit1", "csrf_token": csrf_of(page)})
    assert sent.status_code == 202 and "重置密码的链接已发送到其注册邮箱" in text(sent)
    path = f"/reset/{reset_token('u1@example.gov.cn')}"
    page = text(browser.get(path))
    assert '<label for="f-password">新密码</label>' in page and '<label for="f-password-again">确认新密码</label>' in page
    done = browser.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "csrf_token": csrf_of(page)})
    assert (done.status_code, done.headers["Location"]) == (303, "/login?done=password_set")
    assert browser.get(path).status_code == 400
    assert login(api, password=NEW_PASSWORD)[0] == 200


def test_totp_required_for_organisers_sends_them_to_turn_it_on(client, api, monkeypatch):
    from chalicelib import config
    from tests.browser import Browser
    from tests.integration.test_judging_api import ORGANISER
    admin = organiser(api)
    monkeypatch.setenv("TOTP_REQUIRED_FOR_ORGANISERS", "1")
    config.reset()
    bootstrap.config.cache_clear()
    try:
        status, data = admin.call("GET", "/admin/judges")
        assert (status, data["error"]["message"]) == (403, "请先在“我的帐号”（/account）中启用两步验证，之后才能使用管理台")
        browser = Browser(client)
        assert _page_login(browser, *ORGANISER).headers["Location"] == "/admin"
        assert browser.get("/admin").headers["Location"] == "/account?done=mfa_needed"
        secret, _ = _turn_on_totp(admin)
        assert admin.call("GET", "/admin/judges")[0] == 200           # this session has just proved the code
        step = otp.step_of(epoch(bootstrap.now()))
        assert login(api, *ORGANISER, totp=otp.code_at(secret, step))[0] == 200
    finally:
        monkeypatch.delenv("TOTP_REQUIRED_FOR_ORGANISERS")
        config.reset()
        bootstrap.config.cache_clear()


def test_a_browser_that_logged_in_before_is_not_held_back_by_a_strangers_guesses(client, api):
    from tests.browser import Browser
    register_unit(api)
    owner = Browser(client)
    assert _page_login(owner, "unit1", PASSWORD).status_code == 303
    assert "sp_device" in owner.jar or "__Host-sp_device" in owner.jar
    owner.post("/logout", {})
    stranger = Browser(client)
    for _ in range(5):
        assert _page_login(stranger, "unit1", "wrong-password-9").status_code == 401
    held = _page_login(stranger, "unit1", PASSWORD)
    assert (held.status_code, held.headers["Retry-After"]) == (429, "2")
    assert login(api)[0] == 429                                   # no device cookie: held back too
    assert _page_login(owner, "unit1", PASSWORD).headers["Location"] == "/cases"
