"""services/feeder.py (省赛推荐 sent to the competition this one feeds) and the `feeds` setting of
services/competitions.py, on the in-memory repositories: no DynamoDB, no moto (`make test-fast`)."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain.case_record import body_json, frozen_map, new_case
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.competition_edit import copy_for_next_year, validate
from chalicelib.domain.errors import Conflict, Forbidden, Invalid
from chalicelib.mail import outbox
from chalicelib.services import competitions, console, feeder, notifications
from chalicelib.services.accounts import Principal
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_competitions import InMemoryCompetitionRepository
from chalicelib.store.memory_mail import InMemoryMailRepository
from chalicelib.store.memory_results import InMemoryStageRepository

CHINA = timezone(timedelta(hours=8))
SOURCE = "shenzhen-2023"
TARGET = "guangdong-2023"
BEFORE = datetime(2023, 3, 1, 9, 0, tzinfo=CHINA)
IN_PROVINCIAL = datetime(2023, 7, 15, 10, 0, tzinfo=CHINA)
ORGANISER = Principal("organiser", "t1", account_id="org1", username="admin", organiser_role="admin")
VIEWER = Principal("organiser", "t2", account_id="org2", username="viewer", organiser_role="viewer")
UNIT = Principal("unit", "t3", account_id="acc1", username="unit1", unit_name="深圳市第1局")
BODY = {"category": "development", "recommending_unit": "深圳市第1局", "title": "党建引领数字政府建设",
        "background": "背景介绍。" * 20, "innovations": ["创新点一"], "results": ["成果一"]}


class MemoryFiles:
    """The bucket's objects by key (what feeder uses of Files: a server-side copy)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def copy(self, source: str, key: str) -> bool:
        if source not in self.objects:
            return False
        self.objects[key] = self.objects[source]
        return True


class Relay:
    """A mail transport that keeps what it sends (or fails every send while `down`)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.down = False

    def send(self, message: EmailMessage) -> str:
        if self.down:
            raise ConnectionError("relay down")
        self.sent.append(message)
        return f"ses-{len(self.sent)}"


UNITS = {f"unit{n}": SimpleNamespace(id=f"acc{n}", email=f"u{n}@example.gov.cn", unit_name=f"深圳市第{n}局")
         for n in range(1, 4)}


class World:
    def __init__(self) -> None:
        self.relay = Relay()
        self.mail = InMemoryMailRepository()
        self.tables = MemoryTables()
        self.cases = InMemoryCaseRepository(self.tables)
        self.stages = InMemoryStageRepository(self.tables)
        self.competitions = InMemoryCompetitionRepository(self.tables)
        self.files = MemoryFiles()
        competitions.seed(self.competitions, SOURCE, BEFORE)
        source = competition_from_config(self.competitions.get(SOURCE).definition)   # type: ignore[union-attr]
        for w in source.default_windows:
            self.cases.set_stage(SOURCE, w.id, w.opens_at.timestamp(), w.closes_at.timestamp(),
                                 closed=w.id in ("submission", "text_review", "coaching", "final"))
        made = competitions.copy_from(self.competitions, ORGANISER, SOURCE, TARGET, BEFORE)
        competitions.edit(self.competitions, ORGANISER, TARGET, {"name": "第十一届广东省市直机关“先锋杯”工作创新大赛",
                                                                 "short_name": "广东省先锋杯"}, made.version, [], BEFORE)
        started = self.competitions.get(TARGET)
        assert started is not None
        competitions.start(self.competitions, ORGANISER, TARGET, started.version, [], BEFORE)

    def feed(self, target: str | None = TARGET) -> None:
        record = self.competitions.get(SOURCE)
        assert record is not None
        competitions.edit(self.competitions, ORGANISER, SOURCE, {"feeds": target}, record.version, [], BEFORE)

    def comp(self, competition_id: str = SOURCE):
        record = self.competitions.get(competition_id)
        assert record is not None
        return competition_from_config(record.definition)

    def open_target_submission(self, opens: datetime, closes: datetime) -> None:
        self.cases.set_stage(TARGET, "submission", opens.timestamp(), closes.timestamp())

    def recommended(self, n: int, owner: str = "acc1", attachment: bool = False, **body: Any) -> str:
        case_id = f"case{n}"
        case = new_case(case_id, SOURCE, owner, f"unit{n}", {**BODY, **body, "title": f"案例{n}"}, 500,
                        BEFORE.timestamp())
        records = {}
        if attachment:
            key = f"cases/{case_id}/att1/copy1"
            self.files.objects[key] = b"%PDF-1.7 ..."
            records = {"att1": {"attachment_id": "att1", "filename": "说明.pdf", "content_type": "application/pdf",
                                "size": 12, "status": "verified", "key": key, "created_at": 1.0},
                       "att2": {"attachment_id": "att2", "filename": "未完成.pdf", "content_type": "application/pdf",
                                "size": 12, "status": "pending", "key": f"cases/{case_id}/att2", "created_at": 2.0}}
        self.cases.put(replace(case, status="awarded", prize="first", provincial=True, provincial_reason="成效突出",
                               attachments=frozen_map(records), version=3))
        return case_id

    def send(self, now: datetime = IN_PROVINCIAL, who: Principal = ORGANISER) -> dict[str, Any]:
        ports = SimpleNamespace(transport=self.relay, sender="saiping@example.org",
                                site_url="https://saiping.example.org", accounts=SimpleNamespace(get=UNITS.get))
        mailing = notifications.Mailing(lambda: ports, self.comp(), self.mail)
        return feeder.send(self.cases, self.stages, self.competitions, self.files, self.comp(), who, now,
                           mailing=mailing)

    def mails(self) -> dict[str, tuple[str, str]]:
        """What was mailed: recipient -> (subject, plain text)."""
        return {m["To"]: (str(m["Subject"]), m.get_body(("plain",)).get_content())   # type: ignore[union-attr]
                for m in self.relay.sent}


@pytest.fixture
def world() -> World:
    return World()


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_feeder_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


# -- the setting ---------------------------------------------------------------------------------------

def test_feeds_names_another_competition_that_exists_and_closes_no_loop(world) -> None:
    definition = world.competitions.get(SOURCE).definition
    assert validate({**definition, "feeds": SOURCE})[0].field == "feeds"
    assert [e.code for e in validate({**definition, "feeds": "Not An Id"})] == ["invalid_field"]
    assert validate({**definition, "feeds": TARGET}) == []
    with pytest.raises(Invalid) as missing:
        world.feed("nowhere-2023")
    assert set(missing.value.fields or {}) == {"feeds"}
    world.feed()
    assert world.competitions.get(SOURCE).definition["feeds"] == TARGET
    target = world.competitions.get(TARGET)
    with pytest.raises(Invalid) as loop:        # the province cannot feed back into the city
        competitions.edit(world.competitions, ORGANISER, TARGET, {"feeds": SOURCE}, target.version, [], BEFORE)
    assert "循环" in (loop.value.fields or {})["feeds"]
    world.feed(None)
    assert world.competitions.get(SOURCE).definition.get("feeds") is None


def test_feeds_stays_editable_while_running_and_is_not_copied_to_next_year(world) -> None:
    world.feed()
    record = world.competitions.get(SOURCE)
    rows = list(world.stages.all_for(SOURCE))
    state = competitions.progress(record, rows, IN_PROVINCIAL)
    sections = competitions.builder_form(record, state, competitions.feed_choices(world.competitions, SOURCE))
    field = next(f for s in sections for g in s["groups"] for f in g["fields"] if f["path"] == "feeds")
    assert (field["kind"], field["value"], field["locked"]) == ("select", TARGET, None)
    assert [key for key, _ in field["options"]] == ["", TARGET]
    assert "feeds" not in copy_for_next_year(record.definition, "shenzhen-2024")
    assert competitions.form_changes(record, {"feeds": "select"}, {"feeds": [""]}) == {"feeds": None}


# -- sending -------------------------------------------------------------------------------------------

def test_recommended_cases_arrive_as_submissions_of_their_units_with_attachments_and_history(world) -> None:
    world.feed()
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=1), IN_PROVINCIAL + timedelta(days=20))
    first = world.recommended(1, attachment=True)
    second = world.recommended(2, owner="acc2", category="service")
    world.cases.put(replace(world.cases.get(second), body=frozen_map({**BODY, "category": "service", "title": "案例2"}),
                            stored_body=body_json({**BODY, "category": "service", "title": "案例2"})))
    not_recommended = new_case("case3", SOURCE, "acc3", "unit3", BODY, 10, 1.0)
    world.cases.put(replace(not_recommended, status="awarded"))

    sent = world.send()

    assert (sent["status"], len(sent["sent"]), sent["already"], sent["skipped"]) == ("submitted", 2, [], [])
    arrived = {c.source["case_id"]: c for c in world.cases.list_for_competition(TARGET)}
    assert set(arrived) == {first, second}
    one, two = arrived[first], arrived[second]
    assert (one.owner_id, one.status, one.competition_id, one.version) == ("acc1", "submitted", TARGET, 1)
    assert two.owner_id == "acc2" and two.category == "service"
    assert one.submitted_at == IN_PROVINCIAL.timestamp()
    assert dict(one.source) == {"competition": SOURCE, "case_id": first, "version": 3}
    assert one.body == world.cases.get(first).body and one.id == feeder.fed_case_id(TARGET, first)
    assert list(one.attachments) == ["att1"]            # verified objects only
    assert one.attachments["att1"]["key"] == f"cases/{one.id}/att1"
    assert world.files.objects[f"cases/{one.id}/att1"] == b"%PDF-1.7 ..."
    assert ("case#" + one.id, "organiser:admin", "case.received") in world.tables.audit
    assert ("case#" + first, "organiser:admin", "case.sent") in world.tables.audit
    # the source cases are as they were
    assert world.cases.get(first).status == "awarded" and world.cases.get(first).competition_id == SOURCE


def test_a_second_send_creates_nothing_twice_and_completes_what_is_new(world) -> None:
    world.feed()
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=1), IN_PROVINCIAL + timedelta(days=20))
    first = world.recommended(1)
    assert len(world.send()["sent"]) == 1
    later = world.recommended(2)        # recommended after the first send
    again = world.send()
    assert [r["case_id"] for r in again["sent"]] == [later]
    assert [r["case_id"] for r in again["already"]] == [first]
    assert len(world.cases.list_for_competition(TARGET)) == 2
    third = world.send()
    assert (third["sent"], len(third["already"])) == ([], 2)
    assert len(world.cases.list_for_competition(TARGET)) == 2


def test_a_send_that_failed_midway_is_completed_by_the_next(world) -> None:
    world.feed()
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=1), IN_PROVINCIAL + timedelta(days=20))
    world.recommended(1)
    world.recommended(2)
    calls = {"n": 0}
    real = world.cases.receive

    def failing(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the table did not answer")
        real(*args, **kwargs)

    world.cases.receive = failing   # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        world.send()
    assert len(world.cases.list_for_competition(TARGET)) == 1
    world.cases.receive = real      # type: ignore[method-assign]
    done = world.send()
    assert (len(done["sent"]), len(done["already"])) == (1, 1)
    assert len(world.cases.list_for_competition(TARGET)) == 2


def test_before_the_targets_submission_opens_they_arrive_as_drafts(world) -> None:
    world.feed()        # the copy's windows are a year later: its 文本申报 has not opened
    world.recommended(1)
    sent = world.send()
    assert sent["status"] == "draft"
    (case,) = world.cases.list_for_competition(TARGET)
    assert (case.status, case.submitted_at) == ("draft", None)
    assert world.stages.all_for(TARGET)      # the target's windows are rows now (the write checked one)


def test_nothing_is_sent_after_the_targets_submission_closed_or_before_the_final_closed(world) -> None:
    world.feed()
    world.recommended(1)
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=20), IN_PROVINCIAL - timedelta(days=1))
    with pytest.raises(Conflict, match="截止"):
        world.send()
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=1), IN_PROVINCIAL + timedelta(days=20))
    final = world.stages.all_for(SOURCE)
    row = next(r for r in final if r.stage_id == "final")
    world.cases.set_stage(SOURCE, "final", row.opens_at, row.closes_at, closed=False)
    with pytest.raises(Conflict, match="综合评选结束"):
        world.send(datetime(2023, 7, 1, 10, 0, tzinfo=CHINA))
    assert world.cases.list_for_competition(TARGET) == []


def test_without_a_target_or_a_running_one_nothing_is_sent(world) -> None:
    world.recommended(1)
    with pytest.raises(Conflict, match="尚未设置省赛推荐去向"):
        world.send()
    world.feed()
    finished = world.competitions.get(TARGET)
    world.competitions.save(finished, {**finished.definition, "state": "draft"}, ["state"], "competition.edit",
                            "organiser:admin", 1.0)
    with pytest.raises(Conflict, match="进行中的竞赛届次才能接收"):
        world.send()


def test_a_case_whose_category_the_target_lacks_is_skipped(world) -> None:
    world.feed()
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=1), IN_PROVINCIAL + timedelta(days=20))
    world.recommended(1)
    record = world.competitions.get(TARGET)
    definition = record.definition
    definition["categories"] = [c for c in definition["categories"] if c["id"] != "development"]
    world.competitions.save(record, definition, ["categories"], "competition.edit", "organiser:admin", 1.0)
    sent = world.send()
    assert (sent["sent"], [r["case_id"] for r in sent["skipped"]]) == ([], ["case1"])


def test_only_organisers_with_write_rights_send(world) -> None:
    world.feed()
    world.recommended(1)
    with pytest.raises(Forbidden):
        world.send(who=VIEWER)
    with pytest.raises(Forbidden):
        world.send(who=UNIT)
    assert feeder.overview(world.cases, world.stages, world.competitions, world.comp(), VIEWER,
                           IN_PROVINCIAL)["target"]["id"] == TARGET


def test_the_overview_says_what_was_sent_and_why_not_now(world) -> None:
    world.recommended(1)
    first = feeder.overview(world.cases, world.stages, world.competitions, world.comp(), ORGANISER, IN_PROVINCIAL)
    assert first["target"] is None and "尚未设置" in first["why_not"]
    world.feed()
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=1), IN_PROVINCIAL + timedelta(days=20))
    ready = feeder.overview(world.cases, world.stages, world.competitions, world.comp(), ORGANISER, IN_PROVINCIAL)
    assert (ready["why_not"], ready["to_send"], ready["arrives_as"]) == (None, 1, "submitted")
    world.send()
    after = feeder.overview(world.cases, world.stages, world.competitions, world.comp(), ORGANISER, IN_PROVINCIAL)
    assert (after["to_send"], after["recommended"][0]["sent"]) == (0, True)


def test_each_unit_is_mailed_once_in_the_targets_name_what_its_case_became(world) -> None:
    world.feed()
    world.open_target_submission(IN_PROVINCIAL - timedelta(days=1), IN_PROVINCIAL + timedelta(days=20))
    world.recommended(1)
    world.send()
    (subject, text), = world.mails().values()
    assert list(world.mails()) == ["u1@example.gov.cn"]
    assert subject == "【广东省先锋杯】贵单位案例已推荐参赛"
    arrived = feeder.fed_case_id(TARGET, "case1")
    assert "推荐参加第十一届广东省市直机关“先锋杯”工作创新大赛" in text and "贵单位在2023年深圳市“党建杯”" in text
    assert "深圳市第1局：您好" in text and "案例名称：案例1" in text and f"案例编号：{arrived}" in text
    assert "已作为贵单位的申报提交" in text and "截止（2023年8月4日 10:00）" in text
    assert f"https://saiping.example.org/cases/{arrived}" in text
    assert world.mail.get(outbox.mail_key(SOURCE, "case_received", arrived, "u1@example.gov.cn")) is not None
    assert [m["kind"] for m in notifications.mail_log(world.comp(), world.mail)["mail"]] == ["case_received"]
    world.recommended(2, owner="acc2")
    world.send()                    # the second send mails the new case's unit only
    assert [m["To"] for m in world.relay.sent] == ["u1@example.gov.cn", "u2@example.gov.cn"]


def test_a_draft_arrival_says_when_to_submit_and_a_failed_mail_is_sent_by_the_next_send(world) -> None:
    world.feed()                    # the target's 文本申报 opens next year: the case arrives as a draft
    world.recommended(1)
    world.relay.down = True
    assert len(world.send()["sent"]) == 1           # the case arrived though the relay was down
    assert world.relay.sent == []
    world.relay.down = False
    again = world.send()
    assert (again["sent"], len(again["already"])) == ([], 1)
    (subject, text), = world.mails().values()
    assert "已存为贵单位的草稿" in text and "于 2024年5月19日 00:00 开放，请在 2024年6月9日 23:59 前" in text
    world.send()
    assert len(world.relay.sent) == 1


def test_the_console_names_the_audit_rows_by_the_competitions() -> None:
    class Row:
        def __init__(self, action: str, detail: dict[str, Any]) -> None:
            self.action, self.detail = action, json.dumps(detail, ensure_ascii=False)

    assert console.action_name(Row("case.received", {"from": "2023年深圳市“党建杯”"})) == "由2023年深圳市“党建杯”推荐"
    assert console.action_name(Row("case.sent", {"to": "广东省先锋杯"})) == "已推荐至广东省先锋杯"
