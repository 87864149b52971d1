"""Accounts in Chromium: 忘记密码 by mail on a 390 px phone, 我的帐号 (change of password, sessions,
退出所有设备), two-step verification with the QR code and the login's second step, and /admin/team at 1280 px."""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import re
import secrets
import struct
import time
import urllib.request

import pytest

from .conftest import fresh_page, screenshot
from .test_unit_portal import expect, register_and_log_in

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-new-horse-battery-9"
PHONE = {"width": 390, "height": 844}


def last_link(stack, recipient: str) -> str:
    """The /reset/… path of the newest mail to `recipient` that SES (the emulator) took."""
    if not stack.emulator:
        pytest.skip("set SAIPING_E2E_EMULATOR to read the mail of an already running stack")
    with urllib.request.urlopen(f"{stack.emulator}/moto-api/data.json", timeout=10) as response:
        raw = json.load(response)["ses"]["RawMessage"]
    for item in reversed(raw):
        message = email.message_from_string(item["raw_data"], policy=email.policy.default)
        if message["To"] == recipient:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"/reset/[A-Za-z0-9_-]+", body).group(0)
    raise AssertionError(f"no mail to {recipient}")


def totp(secret: str, at: float) -> str:
    """RFC 6238 as an authenticator app computes it (independent of the product's code)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


@pytest.fixture
def phone(browser, stack):
    yield from fresh_page(browser, stack, viewport=PHONE)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_a_unit_resets_a_forgotten_password_on_a_phone(phone, stack):
    username = register_and_log_in(phone)
    phone.get_by_role("button", name="退出", exact=True).click()
    phone.get_by_role("link", name="忘记密码").click()
    expect()(phone).to_have_url(re.compile(r"/password-reset$"))
    phone.get_by_label("用户名").fill(username)
    phone.get_by_role("button", name="发送重置邮件").click()
    expect()(phone.get_by_role("status")).to_contain_text("重置密码的链接已发送到其注册邮箱")
    no_sideways_scroll(phone)
    screenshot(phone, "account-reset-sent-390")
    link = last_link(stack, f"{username}@example.gov.cn")
    phone.goto(link)
    expect()(phone.get_by_role("heading", name="重置密码")).to_be_visible()
    phone.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("确认新密码").fill(NEW_PASSWORD + "x")
    phone.get_by_role("button", name="设置新密码").click()
    expect()(phone.locator("#f-password-again-error")).to_have_text("两次输入的新密码不一致")
    screenshot(phone, "account-reset-refused-390")
    phone.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("确认新密码").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="设置新密码").click()
    expect()(phone).to_have_url(re.compile(r"/login\?done=password_set$"))
    log_in(phone, username, NEW_PASSWORD)
    expect()(phone).to_have_url(re.compile(r"/cases$"))
    phone.goto(link)                                           # the link worked once
    expect()(phone.get_by_role("alert")).to_contain_text("该链接无效或已过期")


def test_a_unit_changes_its_password_and_ends_its_other_devices(browser, stack, phone):
    username = register_and_log_in(phone)
    pages = fresh_page(browser, stack, viewport={"width": 1280, "height": 900})
    other = next(pages)
    log_in(other, username, PASSWORD)
    expect()(other).to_have_url(re.compile(r"/cases$"))
    phone.get_by_role("link", name=re.compile("深圳市测试局")).click()
    expect()(phone.get_by_role("heading", name="我的帐号")).to_be_visible()
    expect()(phone.locator("#session-table tbody tr")).to_have_count(2)
    expect()(phone.locator("#session-table")).to_contain_text("当前设备")
    no_sideways_scroll(phone)
    screenshot(phone, "account-page-390")
    phone.get_by_label("当前密码").fill(PASSWORD)
    phone.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("确认新密码").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="修改密码").click()
    expect()(phone.get_by_role("status")).to_have_text("密码已修改，其他设备上的登录已退出。")
    expect()(phone.locator("#session-table tbody tr")).to_have_count(1)
    other.goto("/cases")
    expect()(other).to_have_url(re.compile(r"/login$"))        # the other device's session ended
    phone.get_by_role("button", name="退出所有设备").click()
    expect()(phone).to_have_url(re.compile(r"/login\?done=ended$"))
    phone.goto("/cases")
    expect()(phone).to_have_url(re.compile(r"/login$"))
    pages.close()


def api(stack, method: str, path: str, body=None, token: str | None = None):
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(f"{stack.url}/api/v1{path}", method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def new_admin(stack) -> tuple[str, str]:
    """Another admin, invited by the stack's organiser and set up through the invitation link (so the
    stack's organiser keeps logging in with its password alone in the other browser tests)."""
    token = api(stack, "POST", "/sessions", {"username": stack.organiser[0], "password": stack.organiser[1]})["token"]
    username = f"admin-{secrets.token_hex(3)}"
    api(stack, "POST", "/admin/organisers", {"username": username, "name": "李管理", "role": "admin",
                                             "email": f"{username}@example.gov.cn"}, token)
    link = last_link(stack, f"{username}@example.gov.cn")
    api(stack, "POST", f"/password-resets/{link.rsplit('/', 1)[1]}", {"password": NEW_PASSWORD})
    return username, NEW_PASSWORD


def test_an_organiser_turns_on_totp_and_logs_in_with_the_code(page, stack):
    username, password = new_admin(stack)
    log_in(page, username, password)
    expect()(page).to_have_url(re.compile(r"/admin$"))
    page.goto("/account")
    page.get_by_role("button", name="启用两步验证").click()
    expect()(page.locator("#totp-qr")).to_be_visible()
    assert page.evaluate("document.getElementById('totp-qr').naturalWidth") > 100   # the QR image decoded
    secret = page.locator("#totp-secret").inner_text()
    screenshot(page, "account-totp-setup-1280")
    page.get_by_label("验证码").fill(totp(secret, time.time()))
    page.get_by_role("button", name="确认启用").click()
    expect()(page.locator("#recovery-codes li")).to_have_count(10)
    screenshot(page, "account-totp-recovery-1280")
    page.get_by_role("button", name="退出", exact=True).click()
    log_in(page, username, password)
    expect()(page.get_by_label("验证码")).to_be_visible()
    screenshot(page, "login-second-step-1280")
    page.get_by_label("验证码").fill("000000")
    page.get_by_role("button", name="登录").click()
    expect()(page.get_by_role("alert")).to_contain_text("验证码错误")
    log_in(page, username, password)
    page.get_by_label("验证码").fill(totp(secret, time.time() + 30))   # the next step's code: not yet used
    page.get_by_role("button", name="登录").click()
    expect()(page).to_have_url(re.compile(r"/admin$"))


def test_an_admin_invites_a_viewer_on_the_team_page(page, stack):
    username, password = stack.organiser
    log_in(page, username, password)
    page.goto("/admin/team")
    expect()(page.get_by_role("heading", name="团队", exact=True)).to_be_visible()
    viewer = f"viewer-{secrets.token_hex(3)}"
    page.get_by_label("用户名").fill(viewer)
    page.get_by_label("姓名").fill("王只读")
    page.get_by_label("电子邮箱").fill(f"{viewer}@example.gov.cn")
    page.get_by_label("角色", exact=True).select_option("只读成员")
    page.get_by_role("button", name="发送邀请").click()
    expect()(page.get_by_role("status")).to_contain_text("邀请邮件已发送")
    expect()(page.locator("#team-table")).to_contain_text("已邀请，尚未设置密码")
    screenshot(page, "admin-team-1280")
