"""省赛推荐 sent on, in Chromium, on a local stack of its own: the 2023 competition is run to its end over the API, its
first-prize case recommended, and a provincial competition on the same deployment (copied, renamed, its 文本申报
open now, started) named as where the recommendations go. The organiser at 1280 px opens 省赛推荐, sends, reads the
result and follows it to 邮件记录 (one 省赛推荐通知 sent); the unit gets the mail (read from the emulator's SES) and on
a 390 px phone finds the arrived case on 我的案例 under the provincial competition, with 编辑, and opens it from the
mail's link. Screenshots: /tmp/shots-provincial/."""
from __future__ import annotations

import email
import email.policy
import json
import re
import secrets
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from .conftest import ORGANISER, fresh_page, running_stack
from .test_account_pages import log_in as log_in_as
from .test_admin_console import log_in
from .test_competition_years import two_units_to_the_end, windows_from_now
from .test_unit_results import CHINA, PASSWORD, PHONE, Http, _case, expect

SHOTS = Path("/tmp/shots-provincial")
TARGET_NAME = "2024年广东省市直机关“先锋杯”工作创新大赛"


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _window_fields() -> dict[str, str]:
    """The target's windows as PUT /admin/competitions/{id} fields, Beijing time: 文本申报 open now."""
    return {f"stages.{stage}.{end}": f"{at}+08:00" for stage, pair in windows_from_now().items()
            for end, at in zip(("opens_at", "closes_at"), pair)}


def mails_to(stack, recipient: str) -> list[email.message.EmailMessage]:
    with urllib.request.urlopen(f"{stack.emulator}/moto-api/data.json", timeout=10) as response:
        raw = json.load(response)["ses"]["RawMessage"]
    found = [email.message_from_string(item["raw_data"], policy=email.policy.default) for item in raw]
    return [m for m in found if m["To"] == recipient]


@pytest.fixture(scope="module")
def recommended(tmp_path_factory):
    """A stack whose 2023 competition is over, its first-prize case recommended and 2023 feeding TARGET_NAME."""
    with running_stack(tmp_path_factory.mktemp("provincial-data"), "e2e-provincial-stack") as stack:
        api, tag = Http(stack.url), secrets.token_hex(3)
        (username, case_id), _ = two_units_to_the_end(
            api, tag, "feed", [_case(f"推荐案例{n}-{tag}", f"深圳市第{n}局", n) for n in (1, 2)])
        org = api.login(*ORGANISER)
        org("PUT", f"/admin/cases/{case_id}/recommendation", {"recommended": True, "reason": "成效显著，经验可推广"})
        target = org("POST", "/admin/competitions", {"copy_from": "shenzhen-2023", "name": TARGET_NAME, "year": 2024})
        path = f"/admin/competitions/{target['id']}"           # (no version: the stored one)
        org("PUT", path, {"short_name": "广东省先锋杯", "honors.reference_date": datetime.now(CHINA).date().isoformat(),
                          **_window_fields()})
        org("PUT", path, {"state": "running"})
        org("PUT", "/admin/competitions/shenzhen-2023", {"feeds": target["id"]})
        yield stack, {"username": username, "title": f"推荐案例1-{tag}", "target": target["id"]}


def test_the_organiser_sends_the_recommendations_and_the_unit_finds_its_case_there(chromium, recommended):
    stack, unit = recommended
    for page in fresh_page(chromium, stack, viewport={"width": 1280, "height": 900}):
        log_in(page, stack)
        page.get_by_role("navigation", name="管理台导航").get_by_role("link", name="省赛推荐").click()
        expect()(page.locator("#feed-target")).to_have_text(TARGET_NAME)
        expect()(page.locator("#recommended")).to_contain_text(unit["title"])
        expect()(page.locator("#recommended")).to_contain_text("未发送")
        shot(page, "01-provincial-before")
        page.get_by_role("button", name="发送省赛推荐案例（1 个待发送）").click()
        result = page.locator("#send-result")
        expect()(result).to_contain_text(f"已发送到“{TARGET_NAME}”：新发送 1 个（状态：已提交）")
        expect()(page.locator("#recommended")).to_contain_text("已发送")
        expect()(page.get_by_role("button", name=re.compile("发送省赛推荐案例"))).to_be_disabled()
        shot(page, "02-provincial-sent")
        result.get_by_role("link", name="邮件记录").click()
        expect()(page).to_have_url(re.compile(r"/admin/mail"))
        row = page.locator("tr", has_text="省赛推荐通知")
        expect()(row).to_have_count(1)
        expect()(row).to_contain_text(f"{unit['username']}@example.gov.cn")
        expect()(row).to_contain_text("已发送")
        shot(page, "03-mail-log")

    (mail,) = mails_to(stack, f"{unit['username']}@example.gov.cn")[-1:]
    assert mail["Subject"] == "【广东省先锋杯】贵单位案例已推荐参赛"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"推荐参加{TARGET_NAME}" in text and unit["title"] in text and "已作为贵单位的申报提交" in text
    link = re.search(r"https?://\S+/cases/(\w+)", text)
    assert link is not None

    for phone in fresh_page(chromium, stack, **PHONE):
        log_in_as(phone, unit["username"], PASSWORD)
        expect()(phone).to_have_url(re.compile(r"/cases$"))
        listed = phone.locator(f'ul[data-competition="{unit["target"]}"] [data-case-id="{link.group(1)}"]')
        expect()(listed.get_by_role("link", name=unit["title"])).to_be_visible()
        expect()(listed.locator(".badge")).to_have_text("已提交")
        expect()(listed.get_by_role("link", name="编辑")).to_be_visible()
        assert phone.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        shot(phone, "04-unit-cases-390")
        phone.goto(f"/cases/{link.group(1)}")           # the mail's link
        expect()(phone.get_by_role("heading", name=unit["title"])).to_be_visible()
        expect()(phone.locator(".case-source")).to_have_text("由2023年深圳市“党建杯”机关创新创优竞赛推荐参加本届比赛（原案例）。")
        expect()(phone.get_by_role("link", name="撤回")).to_be_visible()
        shot(phone, "05-unit-case-390")
