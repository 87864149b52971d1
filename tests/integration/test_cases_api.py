"""Cases and attachments through the API (chalice test client + moto): CRUD, ownership, versions,
deadlines (the service's clock and the database's condition), malformed requests, uploads, audit rows.

The `clock` fixture seeds the 2023 windows and starts at 2023-06-01 10:00 (+08:00), inside 文本申报.
"""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from chalicelib import bootstrap
from chalicelib.domain.errors import StageClosed, VersionConflict
from chalicelib.services import accounts
from chalicelib.store import audit
from chalicelib.store import cases as case_store
from tests.conftest import case_body, register_unit

CHINA = timezone(timedelta(hours=8))
SECOND = timedelta(seconds=1)
OPENS = datetime(2023, 5, 19, 0, 0, 0, tzinfo=CHINA)
CLOSES = datetime(2023, 6, 9, 23, 59, 59, tzinfo=CHINA)      # submission closes_at, seeded from the config
MB = 1024 * 1024
ORGANISER_PASSWORD = "organiser-password-1"
PDF_BYTES = b"%PDF-1.7\n" + b"0" * 1000 + b"\n%%EOF\n"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 1000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BODY_FIELDS = ("category", "recommending_unit", "title", "leader", "contact", "background", "innovations",
               "results", "originality_pledge", "showcase_consent")


@pytest.fixture
def unit(api):
    return api.as_(register_unit(api, 1))


@pytest.fixture
def other(api):
    return api.as_(register_unit(api, 2))


@pytest.fixture
def organiser(api):
    accounts.ensure_organiser(bootstrap.deps().accounts, "organiser", ORGANISER_PASSWORD, bootstrap.config(), bootstrap.now())
    return session(api, "organiser", ORGANISER_PASSWORD)


def session(api, username: str = "unit1", password: str = "correct-horse-1"):
    """A fresh session (sessions last 12 hours: log in again after moving the clock by days)."""
    status, data = api.call("POST", "/sessions", {"username": username, "password": password})
    assert status == 200, data
    return api.as_(data["token"])


def move(clock, when: datetime, api, username: str = "unit1", password: str = "correct-horse-1"):
    clock.set(when)
    return session(api, username, password)


@pytest.fixture
def case(unit) -> dict[str, Any]:
    status, data = unit.call("POST", "/cases", case_body())
    assert status == 201, data
    return data


def body_of(view: dict[str, Any]) -> dict[str, Any]:
    return {k: view[k] for k in BODY_FIELDS}


def s3() -> Any:
    return bootstrap.s3()


def bucket() -> str:
    return bootstrap.config().bucket


def object_exists(key: str) -> bool:
    return s3().list_objects_v2(Bucket=bucket(), Prefix=key).get("KeyCount", 0) == 1


def served_key(case_id: str, answer: dict[str, Any]) -> str:
    """Where a confirmed attachment is served from (the grant writes only to its upload key)."""
    return f"cases/{case_id}/{answer['attachment_id']}"


def no_object_left(case_id: str, answer: dict[str, Any]) -> bool:
    return not object_exists(answer["upload"]["fields"]["key"]) and not object_exists(served_key(case_id, answer))


def declare(api, case_id: str, filename: str = "说明书.pdf", content_type: str = "application/pdf",
            size: int = len(PDF_BYTES)) -> tuple[int, Any]:
    return api.call("POST", f"/cases/{case_id}/attachments",
                    {"filename": filename, "content_type": content_type, "size": size})


def upload(api, case_id: str, data: bytes = PDF_BYTES, filename: str = "说明书.pdf",
           content_type: str = "application/pdf", declared_size: int | None = None) -> dict[str, Any]:
    """Declare, then put the bytes where the presigned form says (moto's in-process S3)."""
    status, answer = declare(api, case_id, filename, content_type, declared_size or len(data))
    assert status == 201, answer
    fields = answer["upload"]["fields"]
    s3().put_object(Bucket=bucket(), Key=fields["key"], Body=data, ContentType=fields["Content-Type"])
    return answer


def confirm(api, case_id: str, attachment_id: str) -> tuple[int, Any]:
    return api.call("POST", f"/cases/{case_id}/attachments/{attachment_id}/confirm")


def docx_bytes(part: str = "word/document.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<w:document>党建</w:document>")
    return buffer.getvalue()


# -- create, read, list ----------------------------------------------------------------------------

def test_create_answers_201_with_the_draft(unit, api) -> None:
    status, data = unit.call("POST", "/cases", case_body())
    assert status == 201
    assert data == {
        "id": data["id"], **case_body(), "status": "draft", "status_name": "草稿", "version": 1,
        "char_count": 121, "history": [], "attachments": [], "prize": None, "account_id": data["account_id"], "review": None,
        "showcase_consent": False, "showcase": {"consent": False, "hidden": False, "reason": None, "shown": False},
        "created_at": "2023-06-01T10:00:00+08:00", "updated_at": "2023-06-01T10:00:00+08:00", "submitted_at": None,
    }


def test_create_incomplete_draft_is_accepted(unit) -> None:
    status, data = unit.call("POST", "/cases", {"title": "只写了标题"})
    assert status == 201, data
    assert (data["status"], data["version"], data["char_count"], data["category"]) == ("draft", 1, 5, "")


def test_create_char_count_ignores_whitespace(unit) -> None:
    body = case_body(title="党 建", background="背\u3000景\n", innovations=["一 二"], results=["三"])
    assert unit.call("POST", "/cases", body)[1]["char_count"] == 2 + 2 + 2 + 1


def test_create_over_the_limit_is_400_with_the_count(unit) -> None:
    status, data = unit.call("POST", "/cases", case_body(title="标", background="字" * 3000,
                                                         innovations=["一二三四五"], results=["一二三四五六"]))
    assert status == 400
    assert data["error"]["code"] == "invalid"
    assert "3012/3000" in data["error"]["message"]
    assert list(data["error"]["fields"]) == ["text"]
    assert "3012/3000" in data["error"]["fields"]["text"]


def test_create_then_get_returns_the_same_case(unit, case) -> None:
    assert unit.call("GET", f"/cases/{case['id']}") == (200, case)


def test_create_keeps_chinese_text_as_is(unit, case, api) -> None:
    response = api.client.http.get(f"/api/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {unit.token}"})
    assert "党建引领数字政府建设".encode() in response.body
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_list_answers_own_cases(unit, case) -> None:
    _, second = unit.call("POST", "/cases", case_body(title="第二个案例"))
    status, data = unit.call("GET", "/cases")
    assert status == 200
    assert sorted(c["id"] for c in data["cases"]) == sorted([case["id"], second["id"]])


def test_list_does_not_show_another_units_cases(other, case) -> None:
    assert other.call("GET", "/cases") == (200, {"cases": []})


def test_list_unit_filters_by_category(unit, case) -> None:
    _, service = unit.call("POST", "/cases", case_body(category="service"))
    assert [c["id"] for c in unit.call("GET", "/cases?category=service")[1]["cases"]] == [service["id"]]


def test_list_organiser_sees_every_units_cases(organiser, unit, other, case) -> None:
    _, theirs = other.call("POST", "/cases", case_body(category="service", title="别的单位的案例"))
    status, data = organiser.call("GET", "/cases")
    assert status == 200
    assert sorted(c["id"] for c in data["cases"]) == sorted([case["id"], theirs["id"]])


def test_list_organiser_filters_by_category(organiser, unit, other, case) -> None:
    _, service = other.call("POST", "/cases", case_body(category="service"))
    _, empowerment = unit.call("POST", "/cases", case_body(category="empowerment"))
    assert [c["id"] for c in organiser.call("GET", "/cases?category=service")[1]["cases"]] == [service["id"]]
    assert [c["id"] for c in organiser.call("GET", "/cases?category=development")[1]["cases"]] == [case["id"]]
    assert [c["id"] for c in organiser.call("GET", "/cases?category=empowerment")[1]["cases"]] == [empowerment["id"]]


def test_list_organiser_category_follows_an_edit(organiser, unit, case) -> None:
    unit.call("PUT", f"/cases/{case['id']}", {**case_body(category="service"), "version": 1})
    assert organiser.call("GET", "/cases?category=development")[1]["cases"] == []
    assert [c["id"] for c in organiser.call("GET", "/cases?category=service")[1]["cases"]] == [case["id"]]


def test_list_organiser_unknown_category_is_400(organiser) -> None:
    status, data = organiser.call("GET", "/cases?category=sports")
    assert (status, list(data["error"]["fields"])) == (400, ["category"])


def test_get_organiser_reads_any_case(organiser, case) -> None:
    assert organiser.call("GET", f"/cases/{case['id']}") == (200, case)


def test_create_organiser_is_403(organiser) -> None:
    assert organiser.call("POST", "/cases", case_body())[1]["error"]["code"] == "forbidden"


def test_update_organiser_is_403(organiser, case) -> None:
    status, data = organiser.call("PUT", f"/cases/{case['id']}", {**case_body(title="主办改的"), "version": 1})
    assert (status, data["error"]["code"]) == (403, "forbidden")


def test_cases_without_a_token_are_401(api, case) -> None:
    for method, path in [("GET", "/cases"), ("POST", "/cases"), ("GET", f"/cases/{case['id']}"),
                         ("PUT", f"/cases/{case['id']}"), ("POST", f"/cases/{case['id']}/submit")]:
        assert api.call(method, path, case_body())[0] == 401, (method, path)


# -- another unit's case ---------------------------------------------------------------------------

def test_other_unit_get_is_403(other, case) -> None:
    status, data = other.call("GET", f"/cases/{case['id']}")
    assert (status, data["error"]["code"]) == (403, "forbidden")


def test_other_unit_put_is_403_and_changes_nothing(unit, other, case) -> None:
    status, data = other.call("PUT", f"/cases/{case['id']}", {**case_body(title="被别人改了"), "version": 1})
    assert (status, data["error"]["code"]) == (403, "forbidden")
    assert unit.call("GET", f"/cases/{case['id']}") == (200, case)


def test_other_unit_submit_and_withdraw_are_403(unit, other, case) -> None:
    assert other.call("POST", f"/cases/{case['id']}/submit")[0] == 403
    assert other.call("POST", f"/cases/{case['id']}/withdraw")[0] == 403
    assert unit.call("GET", f"/cases/{case['id']}")[1]["status"] == "draft"


def test_other_unit_versions_are_403(unit, other, case) -> None:
    unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新"), "version": 1})
    assert other.call("GET", f"/cases/{case['id']}/versions/1")[0] == 403


def test_other_unit_attachments_are_403(unit, other, case) -> None:
    answer = upload(unit, case["id"])
    aid = answer["attachment_id"]
    assert confirm(unit, case["id"], aid)[0] == 200
    assert declare(other, case["id"])[0] == 403
    assert confirm(other, case["id"], aid)[0] == 403
    assert other.call("GET", f"/cases/{case['id']}/attachments/{aid}")[0] == 403
    assert other.call("DELETE", f"/cases/{case['id']}/attachments/{aid}")[0] == 403
    assert [a["attachment_id"] for a in unit.call("GET", f"/cases/{case['id']}")[1]["attachments"]] == [aid]
    assert object_exists(served_key(case["id"], answer))


# -- edits, versions, history ----------------------------------------------------------------------

def test_update_increments_the_version(unit, case, clock) -> None:
    clock.t += 60
    status, data = unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新标题"), "version": 1})
    assert status == 200
    assert data == {**case, "title": "新标题", "version": 2, "history": [1], "char_count": 121 - 10 + 3,
                    "updated_at": "2023-06-01T10:01:00+08:00"}


def test_update_stale_version_is_409_and_nothing_is_overwritten(unit, case) -> None:
    _, saved = unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="第一个标签页保存的"), "version": 1})
    status, data = unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="第二个标签页保存的"), "version": 1})
    assert status == 409
    assert data["error"]["code"] == "version_conflict"
    assert unit.call("GET", f"/cases/{case['id']}") == (200, saved)
    assert saved["title"] == "第一个标签页保存的"


def test_update_future_version_is_409(unit, case) -> None:
    status, data = unit.call("PUT", f"/cases/{case['id']}", {**case_body(), "version": 7})
    assert (status, data["error"]["code"]) == (409, "version_conflict")


def test_update_without_an_integer_version_is_400(unit, case) -> None:
    for version in [None, "1", 1.0, True, [1]]:
        body = case_body() if version is None else {**case_body(), "version": version}
        status, data = unit.call("PUT", f"/cases/{case['id']}", body)
        assert (status, data["error"]["fields"]) == (400, {"version": "应为整数"}), version
    assert unit.call("GET", f"/cases/{case['id']}") == (200, case)


def test_update_keeps_every_earlier_version_readable(unit, case) -> None:
    for n, title in enumerate(["第二版", "第三版"], start=1):
        assert unit.call("PUT", f"/cases/{case['id']}", {**case_body(title=title), "version": n})[0] == 200
    _, current = unit.call("GET", f"/cases/{case['id']}")
    assert (current["version"], current["history"], current["title"]) == (3, [1, 2], "第三版")
    status, first = unit.call("GET", f"/cases/{case['id']}/versions/1")
    assert status == 200
    assert first == {"id": case["id"], "version": 1, **body_of(case), "status": "draft",
                     "saved_at": "2023-06-01T10:00:00+08:00", "current": False}
    assert unit.call("GET", f"/cases/{case['id']}/versions/2")[1]["title"] == "第二版"
    status, latest = unit.call("GET", f"/cases/{case['id']}/versions/3")
    assert (status, latest["title"], latest["current"]) == (200, "第三版", True)


def test_versions_unknown_number_is_404(unit, case) -> None:
    assert unit.call("GET", f"/cases/{case['id']}/versions/9")[0] == 404
    assert unit.call("GET", f"/cases/{case['id']}/versions/0")[0] == 404


def test_versions_malformed_number_is_400(unit, case) -> None:
    for version in ["abc", "-1", "1.5", "9" * 20]:
        assert unit.call("GET", f"/cases/{case['id']}/versions/{version}")[0] == 400, version


def test_versions_organiser_reads_earlier_versions(unit, organiser, case) -> None:
    unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新"), "version": 1})
    assert organiser.call("GET", f"/cases/{case['id']}/versions/1")[1]["title"] == case["title"]


def test_update_submitted_case_must_stay_complete(unit, case) -> None:
    unit.call("POST", f"/cases/{case['id']}/submit")
    status, data = unit.call("PUT", f"/cases/{case['id']}",
                             {**case_body(leader={**case_body()["leader"], "mobile": "123"}), "version": 1})
    assert (status, list(data["error"]["fields"])) == (400, ["leader.mobile"])
    status, data = unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="改好了"), "version": 1})
    assert (status, data["status"], data["version"]) == (200, "submitted", 2)


# -- submit and withdraw ---------------------------------------------------------------------------

def test_submit_answers_200_submitted(unit, case, clock) -> None:
    clock.t += 5
    status, data = unit.call("POST", f"/cases/{case['id']}/submit")
    assert status == 200
    assert data == {**case, "status": "submitted", "status_name": "已提交", "updated_at": "2023-06-01T10:00:05+08:00",
                    "submitted_at": "2023-06-01T10:00:05+08:00"}
    assert unit.call("GET", f"/cases/{case['id']}") == (200, data)


def test_submit_twice_is_harmless(unit, case) -> None:
    unit.call("POST", f"/cases/{case['id']}/submit")
    status, data = unit.call("POST", f"/cases/{case['id']}/submit")
    assert (status, data["status"]) == (200, "submitted")


def test_submit_incomplete_is_400_with_every_field(unit) -> None:
    _, draft = unit.call("POST", "/cases", {"title": "只写了标题", "innovations": ["一", ""], "originality_pledge": False})
    status, data = unit.call("POST", f"/cases/{draft['id']}/submit")
    assert status == 400
    assert data["error"]["code"] == "invalid"
    assert sorted(data["error"]["fields"]) == sorted([
        "category", "recommending_unit", "background", "leader.name", "leader.mobile", "contact.name",
        "contact.mobile", "leader.position", "leader.gender", "leader.rank_level", "leader.birth_date",
        "innovations[1]", "results", "originality_pledge",
    ])
    assert unit.call("GET", f"/cases/{draft['id']}")[1]["status"] == "draft"


def test_submit_malformed_field_is_named(unit) -> None:
    for path, value in [("leader.mobile", "1381234567"), ("contact.mobile", "02012345678"),
                        ("leader.office_phone", "0755 88134324"), ("contact.office_phone", "88-13"),
                        ("leader.birth_date", "1988/05/04"), ("leader.birth_date", "2024-01-01")]:
        who, key = path.split(".")
        body = case_body()
        body[who] = {**body[who], key: value}
        _, draft = unit.call("POST", "/cases", body)
        status, data = unit.call("POST", f"/cases/{draft['id']}/submit")
        assert (status, list(data["error"]["fields"])) == (400, [path]), value


def test_submit_without_the_pledge_is_400(unit) -> None:
    _, draft = unit.call("POST", "/cases", case_body(originality_pledge=False))
    status, data = unit.call("POST", f"/cases/{draft['id']}/submit")
    assert (status, list(data["error"]["fields"])) == (400, ["originality_pledge"])


def test_submit_empty_innovation_is_named_by_index(unit) -> None:
    _, draft = unit.call("POST", "/cases", case_body(innovations=["创新点一", " ", "创新点三"]))
    status, data = unit.call("POST", f"/cases/{draft['id']}/submit")
    assert (status, list(data["error"]["fields"])) == (400, ["innovations[1]"])


def test_withdraw_then_submit_again(unit, case) -> None:
    unit.call("POST", f"/cases/{case['id']}/submit")
    status, data = unit.call("POST", f"/cases/{case['id']}/withdraw")
    assert (status, data["status"], data["status_name"]) == (200, "withdrawn", "已撤回")
    status, data = unit.call("POST", f"/cases/{case['id']}/submit")
    assert (status, data["status"]) == (200, "submitted")


def test_withdraw_a_draft(unit, case) -> None:
    assert unit.call("POST", f"/cases/{case['id']}/withdraw")[1]["status"] == "withdrawn"


# -- deadlines: the service's clock ----------------------------------------------------------------

def test_deadline_edit_one_second_before_close_succeeds(api, unit, case, clock) -> None:
    unit = move(clock, CLOSES - SECOND, api)
    status, data = unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="最后一秒"), "version": 1})
    assert (status, data["version"]) == (200, 2)


def test_deadline_submit_one_second_before_close_succeeds(api, unit, case, clock) -> None:
    unit = move(clock, CLOSES - SECOND, api)
    status, data = unit.call("POST", f"/cases/{case['id']}/submit")
    assert (status, data["status"], data["submitted_at"]) == (200, "submitted", "2023-06-09T23:59:58+08:00")


def test_deadline_edit_at_and_after_close_is_409(api, unit, case, clock) -> None:
    for offset in [timedelta(0), SECOND, timedelta(days=30)]:
        unit = move(clock, CLOSES + offset, api)
        status, data = unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="迟到"), "version": 1})
        assert (status, data["error"]["code"]) == (409, "stage_closed"), offset
        assert unit.call("GET", f"/cases/{case['id']}") == (200, case)


def test_deadline_submit_at_and_after_close_is_409(api, unit, case, clock) -> None:
    for offset in [timedelta(0), SECOND]:
        unit = move(clock, CLOSES + offset, api)
        status, data = unit.call("POST", f"/cases/{case['id']}/submit")
        assert (status, data["error"]["code"]) == (409, "stage_closed"), offset
        assert "文本申报已于 2023年6月9日 23:59 截止，不能再提交" in data["error"]["message"]
        assert unit.call("GET", f"/cases/{case['id']}")[1]["status"] == "draft"


def test_deadline_withdraw_after_close_is_409(api, unit, case, clock) -> None:
    unit.call("POST", f"/cases/{case['id']}/submit")
    unit = move(clock, CLOSES, api)
    assert unit.call("POST", f"/cases/{case['id']}/withdraw")[1]["error"]["code"] == "stage_closed"


def test_deadline_create_after_close_is_409(api, unit, clock) -> None:
    unit = move(clock, CLOSES, api)
    assert unit.call("POST", "/cases", case_body())[1]["error"]["code"] == "stage_closed"


def test_deadline_create_one_second_before_opening_is_409(api, unit, clock) -> None:
    unit = move(clock, OPENS - SECOND, api)
    assert unit.call("POST", "/cases", case_body())[1]["error"]["code"] == "stage_closed"
    unit = move(clock, OPENS, api)
    assert unit.call("POST", "/cases", case_body())[0] == 201


def test_deadline_attachments_after_close_are_409(api, unit, case, clock) -> None:
    answer = upload(unit, case["id"])
    unit = move(clock, CLOSES - SECOND, api)
    assert confirm(unit, case["id"], answer["attachment_id"])[0] == 200
    unit = move(clock, CLOSES, api)
    assert declare(unit, case["id"])[1]["error"]["code"] == "stage_closed"
    status, data = unit.call("DELETE", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")
    assert (status, data["error"]["code"]) == (409, "stage_closed")
    assert unit.call("GET", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")[0] == 200


def test_deadline_reading_still_works_after_close(api, unit, case, clock) -> None:
    unit = move(clock, CLOSES + timedelta(days=1), api)
    assert unit.call("GET", f"/cases/{case['id']}") == (200, case)
    assert unit.call("GET", "/cases")[0] == 200


def test_deadline_competition_shows_the_stage_status(api, clock) -> None:
    clock.set(CLOSES - SECOND)
    stages = api.call("GET", "/competition")[1]["stages"]
    assert [(s["id"], s["status"]) for s in stages] == [
        ("submission", "open"), ("text_review", "pending"), ("coaching", "pending"), ("final", "pending"),
        ("provincial", "pending")]
    clock.set(CLOSES)
    assert api.call("GET", "/competition")[1]["stages"][0]["status"] == "closed"


# -- deadlines: the database's condition -----------------------------------------------------------

def test_db_condition_refuses_save_text_after_close(unit, case) -> None:
    stored = case_store.CaseRepository().get(case["id"])
    with pytest.raises(StageClosed):
        case_store.CaseRepository().save_text(stored, case_body(title="绕过服务"), 121,
                             ("shenzhen-2023", "submission"), "unit:unit1", CLOSES.timestamp())
    assert unit.call("GET", f"/cases/{case['id']}") == (200, case)
    assert case_store.get_version(case["id"], 1) is None


def test_db_condition_refuses_save_text_one_second_after_close(case) -> None:
    with pytest.raises(StageClosed):
        case_store.CaseRepository().save_text(case_store.CaseRepository().get(case["id"]), case_body(), 121,
                             ("shenzhen-2023", "submission"), "unit:unit1", (CLOSES + SECOND).timestamp())


def test_db_condition_allows_save_text_one_second_before_close(case) -> None:
    version = case_store.CaseRepository().save_text(case_store.CaseRepository().get(case["id"]), case_body(title="x"), 121,
                                   ("shenzhen-2023", "submission"), "unit:unit1", (CLOSES - SECOND).timestamp()).version
    assert (version, int(case_store.get(case["id"]).version)) == (2, 2)


def test_db_condition_refuses_set_status_after_close(unit, case) -> None:
    with pytest.raises(StageClosed):
        case_store.CaseRepository().set_status(case_store.CaseRepository().get(case["id"]), "submitted", ("shenzhen-2023", "submission"),
                              "unit:unit1", CLOSES.timestamp())
    assert unit.call("GET", f"/cases/{case['id']}")[1]["status"] == "draft"


def test_db_condition_refuses_a_stale_version(case) -> None:
    stale = case_store.CaseRepository().get(case["id"])
    case_store.CaseRepository().save_text(case_store.CaseRepository().get(case["id"]), case_body(title="先"), 121,
                         ("shenzhen-2023", "submission"), "unit:unit1", (CLOSES - SECOND).timestamp())
    with pytest.raises(VersionConflict):
        case_store.CaseRepository().save_text(stale, case_body(title="后"), 121,
                             ("shenzhen-2023", "submission"), "unit:unit1", (CLOSES - SECOND).timestamp())
    assert json.loads(case_store.get(case["id"]).body)["title"] == "先"


def test_db_condition_refuses_a_window_moved_after_the_service_read_it(unit, case, organiser, clock) -> None:
    """The service saw the window open; the organiser closed it by time before the write landed."""
    stored = case_store.CaseRepository().get(case["id"])
    assert organiser.call("PUT", "/admin/stages/submission", {
        "opens_at": "2023-05-19T00:00:00+08:00", "closes_at": "2023-06-01T09:00:00+08:00"})[0] == 200
    with pytest.raises(StageClosed):
        case_store.CaseRepository().save_text(stored, case_body(), 121, ("shenzhen-2023", "submission"),
                             "unit:unit1", clock.t)


# -- the organiser moves a window ------------------------------------------------------------------

def test_stage_extend_then_a_late_submit_works(api, unit, case, organiser, clock) -> None:
    unit = move(clock, datetime(2023, 6, 10, 12, 0, tzinfo=CHINA), api)
    organiser = session(api, "organiser", ORGANISER_PASSWORD)
    assert unit.call("POST", f"/cases/{case['id']}/submit")[1]["error"]["code"] == "stage_closed"
    status, data = organiser.call("PUT", "/admin/stages/text_review", {
        "opens_at": "2023-06-13T00:00:00+08:00", "closes_at": "2023-06-16T23:59:59+08:00"})
    assert status == 200, data
    status, data = organiser.call("PUT", "/admin/stages/submission", {
        "opens_at": "2023-05-19T00:00:00+08:00", "closes_at": "2023-06-12T23:59:59+08:00"})
    assert (status, data) == (200, {"id": "submission", "name": "文本申报", "opens_at": "2023-05-19T00:00:00+08:00",
                                    "closes_at": "2023-06-12T23:59:59+08:00", "status": "open"})
    status, data = unit.call("POST", f"/cases/{case['id']}/submit")
    assert (status, data["status"]) == (200, "submitted")
    stages = {s["id"]: s for s in unit.call("GET", "/competition")[1]["stages"]}
    assert stages["submission"]["closes_at"] == "2023-06-12T23:59:59+08:00"
    assert [e.action for e in audit.history("stage#shenzhen-2023#submission")] == ["stage.window"]


def test_stage_extended_deadline_holds_at_the_new_second(api, unit, case, organiser, clock) -> None:
    organiser.call("PUT", "/admin/stages/text_review", {"opens_at": "2023-06-13T00:00:00+08:00",
                                                        "closes_at": "2023-06-16T23:59:59+08:00"})
    organiser.call("PUT", "/admin/stages/submission", {"opens_at": "2023-05-19T00:00:00+08:00",
                                                       "closes_at": "2023-06-12T23:59:59+08:00"})
    unit = move(clock, datetime(2023, 6, 12, 23, 59, 59, tzinfo=CHINA), api)
    assert unit.call("POST", f"/cases/{case['id']}/submit")[1]["error"]["code"] == "stage_closed"


def test_stage_moved_into_the_past_closes_it(unit, case, organiser) -> None:
    status, data = organiser.call("PUT", "/admin/stages/submission", {
        "opens_at": "2023-05-19T00:00:00+08:00", "closes_at": "2023-05-31T23:59:59+08:00"})
    assert (status, data["status"]) == (200, "closed")
    assert unit.call("POST", f"/cases/{case['id']}/submit")[1]["error"]["code"] == "stage_closed"


def test_stage_overlapping_windows_are_400(organiser) -> None:
    status, data = organiser.call("PUT", "/admin/stages/submission", {
        "opens_at": "2023-05-19T00:00:00+08:00", "closes_at": "2023-06-12T23:59:59+08:00"})
    assert status == 400
    assert data["error"]["code"] == "invalid"
    assert list(data["error"]["fields"]) == ["text_review.opens_at"]


def test_stage_later_window_opening_before_the_earlier_closes_is_400(organiser) -> None:
    status, data = organiser.call("PUT", "/admin/stages/text_review", {
        "opens_at": "2023-06-09T00:00:00+08:00", "closes_at": "2023-06-16T23:59:59+08:00"})
    assert (status, list(data["error"]["fields"])) == (400, ["opens_at"])


def test_stage_closing_before_opening_is_400(organiser) -> None:
    status, data = organiser.call("PUT", "/admin/stages/submission", {
        "opens_at": "2023-06-01T00:00:00+08:00", "closes_at": "2023-05-20T00:00:00+08:00"})
    assert (status, list(data["error"]["fields"])) == (400, ["closes_at"])


def test_stage_malformed_window_is_400(organiser) -> None:
    for body in [{}, {"opens_at": "tomorrow", "closes_at": "2023-06-12T23:59:59+08:00"},
                 {"opens_at": 5, "closes_at": None}, [], "x"]:
        assert organiser.call("PUT", "/admin/stages/submission", body)[0] == 400, body


def test_stage_unknown_is_404(organiser) -> None:
    status, data = organiser.call("PUT", "/admin/stages/sports", {
        "opens_at": "2023-05-19T00:00:00+08:00", "closes_at": "2023-06-09T23:59:59+08:00"})
    assert (status, data["error"]["code"]) == (404, "not_found")


def test_stage_unit_may_not_move_a_window(unit) -> None:
    status, data = unit.call("PUT", "/admin/stages/submission", {
        "opens_at": "2023-05-19T00:00:00+08:00", "closes_at": "2023-06-09T23:59:59+08:00"})
    assert (status, data["error"]["code"]) == (403, "forbidden")


# -- malformed requests: 4xx, never 5xx ------------------------------------------------------------

MALFORMED = [b"{not json", b'{"title": "unterminated', b"\xff\xfe\xfd", b"\xe5\x85", b"[]", b'[{"title": "x"}]',
             b"42", b'"text"', b"null", b"true", b"", b"[" * 100_000 + b"]" * 100_000]


def test_malformed_body_on_create_is_400(unit) -> None:
    for raw in MALFORMED:
        status, data = unit.call("POST", "/cases", raw=raw)
        assert (status, data["error"]["code"]) == (400, "invalid"), raw[:40]
    assert unit.call("GET", "/cases") == (200, {"cases": []})


def test_malformed_body_on_update_is_400(unit, case) -> None:
    for raw in MALFORMED:
        status, data = unit.call("PUT", f"/cases/{case['id']}", raw=raw)
        assert (status, data["error"]["code"]) == (400, "invalid"), raw[:40]
    assert unit.call("GET", f"/cases/{case['id']}") == (200, case)


WRONG_TYPES = [
    ({"title": 5}, "title"), ({"innovations": "x"}, "innovations"), ({"leader": []}, "leader"),
    ({"contact": "王五"}, "contact"), ({"results": [1, "成果"]}, "results[0]"), ({"category": ["development"]}, "category"),
    ({"originality_pledge": "true"}, "originality_pledge"), ({"background": {"a": 1}}, "background"),
    ({"leader": {"name": 5}}, "leader.name"), ({"leader": {"gender": "unknown"}}, "leader.gender"),
    ({"innovations": ["一", "二", "三", "四"]}, "innovations"), ({"title": "题" * 101}, "title"),
]


def test_wrong_type_is_400_with_the_field(unit, case) -> None:
    for override, field in WRONG_TYPES:
        status, data = unit.call("POST", "/cases", case_body(**override))
        assert (status, data["error"]["code"], list(data["error"]["fields"])) == (400, "invalid", [field]), override
        status, data = unit.call("PUT", f"/cases/{case['id']}", {**case_body(**override), "version": 1})
        assert (status, list(data["error"]["fields"])) == (400, [field]), override
    assert [c["id"] for c in unit.call("GET", "/cases")[1]["cases"]] == [case["id"]]
    assert unit.call("GET", f"/cases/{case['id']}") == (200, case)


def test_null_fields_are_empty_in_a_draft(unit) -> None:
    status, data = unit.call("POST", "/cases", case_body(recommending_unit=None, title=None, leader=None,
                                                         innovations=None, originality_pledge=None))
    assert status == 201, data
    assert (data["recommending_unit"], data["title"], data["leader"]["name"], data["innovations"],
            data["originality_pledge"]) == ("", "", "", [], False)


def test_body_of_300_kb_is_413(unit, case) -> None:
    big = case_body(background="字" * 100_000)          # 300 KB of UTF-8
    status, data = unit.call("POST", "/cases", big)
    assert (status, data["error"]["code"]) == (413, "too_large")
    status, data = unit.call("PUT", f"/cases/{case['id']}", {**big, "version": 1})
    assert (status, data["error"]["code"]) == (413, "too_large")


def test_unknown_case_id_is_404_everywhere(unit) -> None:
    for case_id in ["nope", "0123456789abcdef", "x" * 1500, "%E4%B8%AD", "..", "a%00b"]:
        unknown_case_everywhere(unit, case_id)


def unknown_case_everywhere(unit, case_id: str) -> None:
    for method, path, body in [
        ("GET", f"/cases/{case_id}", None), ("PUT", f"/cases/{case_id}", {**case_body(), "version": 1}),
        ("POST", f"/cases/{case_id}/submit", None), ("POST", f"/cases/{case_id}/withdraw", None),
        ("GET", f"/cases/{case_id}/versions/1", None),
        ("POST", f"/cases/{case_id}/attachments", {"filename": "a.pdf", "content_type": "application/pdf", "size": 9}),
        ("POST", f"/cases/{case_id}/attachments/abc/confirm", None), ("GET", f"/cases/{case_id}/attachments/abc", None),
        ("DELETE", f"/cases/{case_id}/attachments/abc", None),
    ]:
        status, data = unit.call(method, path, body)
        assert (status, data["error"]["code"]) == (404, "not_found"), (method, path)


def test_unknown_attachment_id_is_404(unit, case) -> None:
    for method, path in [("POST", f"/cases/{case['id']}/attachments/nope/confirm"),
                         ("GET", f"/cases/{case['id']}/attachments/nope"),
                         ("DELETE", f"/cases/{case['id']}/attachments/nope")]:
        assert unit.call(method, path)[0] == 404, (method, path)


def test_unknown_route_is_4xx(unit) -> None:
    response = unit.client.http.get("/api/v1/nothing-here", headers={"Authorization": f"Bearer {unit.token}"})
    assert 400 <= response.status_code < 500


# -- attachments -----------------------------------------------------------------------------------

def test_attachment_declare_pdf_is_201_with_a_presigned_post(unit, case) -> None:
    status, data = declare(unit, case["id"], size=1234)
    assert status == 201
    assert sorted(data) == ["attachment_id", "expires_in", "upload"]
    assert sorted(data["upload"]) == ["fields", "url"]
    assert data["upload"]["url"] == "https://saiping-local-files.s3.ap-southeast-1.amazonaws.com/"
    assert data["upload"]["fields"]["key"] == f"uploads/{case['id']}/{data['attachment_id']}"
    assert data["upload"]["fields"]["Content-Type"] == "application/pdf"
    _, view = unit.call("GET", f"/cases/{case['id']}")
    assert view["attachments"] == [{"attachment_id": data["attachment_id"], "filename": "说明书.pdf",
                                    "content_type": "application/pdf", "size": 1234, "status": "pending"}]


def test_attachment_declare_exe_is_400(unit, case) -> None:
    status, data = declare(unit, case["id"], "setup.exe", "application/octet-stream")
    assert (status, data["error"]["code"], list(data["error"]["fields"])) == (400, "invalid", ["filename"])


def test_attachment_declare_mismatched_type_is_400(unit, case) -> None:
    status, data = declare(unit, case["id"], "说明书.pdf", "text/html")
    assert (status, list(data["error"]["fields"])) == (400, ["content_type"])


def test_attachment_declare_60_mb_pdf_is_413(unit, case) -> None:
    status, data = declare(unit, case["id"], size=60 * MB)
    assert (status, data["error"]["code"]) == (413, "too_large")


def test_attachment_declare_400_mb_mp4_is_201(unit, case) -> None:
    status, data = declare(unit, case["id"], "汇报视频.mp4", "video/mp4", 400 * MB)
    assert status == 201, data
    assert data["upload"]["fields"]["Content-Type"] == "video/mp4"


def test_attachment_declare_600_mb_mp4_is_413(unit, case) -> None:
    assert declare(unit, case["id"], "汇报视频.mp4", "video/mp4", 600 * MB)[0] == 413


def test_attachment_declare_malformed_body_is_400(unit, case) -> None:
    for raw in [b"[]", b"{bad", b"\xff", b"null", b'{"filename": "a.pdf"}',
                b'{"filename": "a.pdf", "content_type": "application/pdf", "size": "9"}']:
        assert unit.call("POST", f"/cases/{case['id']}/attachments", raw=raw)[0] == 400, raw
    assert unit.call("GET", f"/cases/{case['id']}")[1]["attachments"] == []


def test_attachment_declare_keeps_only_the_base_name(unit, case) -> None:
    status, data = declare(unit, case["id"], "C:\\fakepath\\../说明书.pdf")
    assert status == 201
    assert unit.call("GET", f"/cases/{case['id']}")[1]["attachments"][0]["filename"] == "说明书.pdf"


def test_attachment_declare_at_most_ten(unit, case) -> None:
    for _ in range(10):
        assert declare(unit, case["id"])[0] == 201
    status, data = declare(unit, case["id"])
    assert (status, data["error"]["code"]) == (400, "invalid")


def test_attachment_upload_then_confirm_is_verified(unit, case) -> None:
    answer = upload(unit, case["id"])
    status, data = confirm(unit, case["id"], answer["attachment_id"])
    assert (status, data) == (200, {"attachment_id": answer["attachment_id"], "status": "verified",
                                    "size": len(PDF_BYTES), "content_type": "application/pdf",
                                    "filename": "说明书.pdf"})
    assert unit.call("GET", f"/cases/{case['id']}")[1]["attachments"][0]["status"] == "verified"


def test_attachment_posted_with_the_presigned_form_is_verified(unit, case) -> None:
    status, answer = declare(unit, case["id"])
    form = answer["upload"]
    response = requests.post(form["url"], data=form["fields"],
                             files={"file": ("说明书.pdf", PDF_BYTES, "application/pdf")}, timeout=10)
    assert response.status_code in (200, 201, 204)
    assert confirm(unit, case["id"], answer["attachment_id"])[1]["status"] == "verified"


def test_attachment_confirm_twice_is_harmless(unit, case) -> None:
    answer = upload(unit, case["id"])
    first = confirm(unit, case["id"], answer["attachment_id"])
    assert confirm(unit, case["id"], answer["attachment_id"]) == first


def test_attachment_real_docx_is_verified(unit, case) -> None:
    answer = upload(unit, case["id"], docx_bytes(), "说明书.docx", DOCX)
    assert confirm(unit, case["id"], answer["attachment_id"])[1]["status"] == "verified"


def test_attachment_zip_named_docx_is_refused(unit, case) -> None:
    answer = upload(unit, case["id"], docx_bytes("data/sheet.xml"), "说明书.docx", DOCX)
    assert confirm(unit, case["id"], answer["attachment_id"])[0] == 400
    assert no_object_left(case["id"], answer)


def test_attachment_spoofed_pdf_is_400_and_the_object_is_deleted(unit, case) -> None:
    answer = upload(unit, case["id"], EXE_BYTES, "说明书.pdf", "application/pdf")
    key = answer["upload"]["fields"]["key"]
    assert object_exists(key)
    status, data = confirm(unit, case["id"], answer["attachment_id"])
    assert status == 400
    assert data["error"]["code"] == "invalid"
    assert list(data["error"]["fields"]) == ["file"]
    assert no_object_left(case["id"], answer)
    assert unit.call("GET", f"/cases/{case['id']}")[1]["attachments"] == []
    assert unit.call("GET", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")[0] == 404


def test_attachment_wrong_size_is_400_and_the_object_is_deleted(unit, case) -> None:
    answer = upload(unit, case["id"], PDF_BYTES, declared_size=len(PDF_BYTES) + 1)
    status, data = confirm(unit, case["id"], answer["attachment_id"])
    assert (status, list(data["error"]["fields"])) == (400, ["file"])
    assert str(len(PDF_BYTES)) in data["error"]["message"]
    assert no_object_left(case["id"], answer)


def test_attachment_confirm_before_upload_is_400(unit, case) -> None:
    _, answer = declare(unit, case["id"])
    status, data = confirm(unit, case["id"], answer["attachment_id"])
    assert (status, data["error"]["code"]) == (400, "invalid")


def test_attachment_download_url_carries_the_original_name(unit, case) -> None:
    name = "党建 案例说明书（2023）.pdf"
    answer = upload(unit, case["id"], filename=name)
    confirm(unit, case["id"], answer["attachment_id"])
    status, data = unit.call("GET", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")
    assert status == 200
    assert list(data) == ["url"]
    query = parse_qs(urlsplit(data["url"]).query)
    assert query["response-content-disposition"] == [f"attachment; filename*=UTF-8''{quote(name, safe='')}"]
    assert "%25E5%2585%259A" in data["url"]                       # 党, percent-encoded inside the query value
    assert served_key(case["id"], answer) in data["url"]
    assert answer["upload"]["fields"]["key"] not in data["url"]
    assert query["X-Amz-Expires"] == ["300"]


def test_attachment_download_serves_the_bytes_under_the_original_name(unit, case) -> None:
    name = "汇报材料.pdf"
    answer = upload(unit, case["id"], filename=name)
    confirm(unit, case["id"], answer["attachment_id"])
    url = unit.call("GET", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")[1]["url"]
    response = requests.get(url, timeout=10)
    assert response.content == PDF_BYTES
    assert response.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(name, safe='')}"


def test_attachment_download_of_a_pending_upload_is_404(unit, case) -> None:
    answer = upload(unit, case["id"])
    assert unit.call("GET", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")[0] == 404


def test_attachment_organiser_may_download(unit, organiser, case) -> None:
    answer = upload(unit, case["id"])
    confirm(unit, case["id"], answer["attachment_id"])
    assert organiser.call("GET", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")[0] == 200


def test_attachment_delete_is_204_and_removes_the_object(unit, case) -> None:
    answer = upload(unit, case["id"])
    confirm(unit, case["id"], answer["attachment_id"])
    status, data = unit.call("DELETE", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")
    assert (status, data) == (204, None)
    assert no_object_left(case["id"], answer)
    assert unit.call("GET", f"/cases/{case['id']}")[1]["attachments"] == []
    assert unit.call("DELETE", f"/cases/{case['id']}/attachments/{answer['attachment_id']}")[0] == 404


# -- audit -----------------------------------------------------------------------------------------

def test_audit_every_case_mutation_has_a_row(unit, case, clock) -> None:
    def step() -> None:
        clock.t += 1

    step()
    unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="改"), "version": 1})
    step()
    unit.call("POST", f"/cases/{case['id']}/submit")
    step()
    unit.call("POST", f"/cases/{case['id']}/withdraw")
    step()
    kept = upload(unit, case["id"])
    step()
    confirm(unit, case["id"], kept["attachment_id"])
    step()
    spoofed = upload(unit, case["id"], EXE_BYTES)
    step()
    confirm(unit, case["id"], spoofed["attachment_id"])
    step()
    unit.call("DELETE", f"/cases/{case['id']}/attachments/{kept['attachment_id']}")
    entries = audit.history(f"case#{case['id']}")
    assert [e.action for e in entries] == [
        "case.create", "case.edit", "case.submitted", "case.withdrawn", "attachment.declare", "attachment.verify",
        "attachment.declare", "attachment.reject", "attachment.delete"]
    assert {e.actor for e in entries} == {"unit:unit1"}
    assert [e.at for e in entries] == [clock.t - 8 + i for i in range(9)]


def test_audit_edit_row_has_before_and_after_digests(unit, case) -> None:
    unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="改"), "version": 1})
    edit = [e for e in audit.history(f"case#{case['id']}") if e.action == "case.edit"][0]
    assert edit.before_digest and edit.after_digest and edit.before_digest != edit.after_digest
    assert json.loads(edit.detail) == {"version": 2}


def test_audit_refused_writes_leave_no_row(api, unit, other, case, clock) -> None:
    other.call("PUT", f"/cases/{case['id']}", {**case_body(), "version": 1})
    unit.call("PUT", f"/cases/{case['id']}", {**case_body(), "version": 5})
    unit = move(clock, CLOSES, api)
    unit.call("POST", f"/cases/{case['id']}/submit")
    assert [e.action for e in audit.history(f"case#{case['id']}")] == ["case.create"]
