"""综合评选 presentation materials (展示材料) over the API (chalice test client + moto): the unit's upload
through the presigned POST and the content check, the window (text review over, final not opened: the
service's clock and the database's condition), one current file per case with replacement, who may download
it (owner, organisers, the case's final judges), and the organiser's zip of a category in the drawn order."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime
from urllib.parse import unquote

import pytest
import requests

from chalicelib import bootstrap
from chalicelib.domain.errors import StageClosed
from tests.conftest import CHINA
from tests.integration.test_cases_api import PDF_BYTES, s3
from tests.integration.test_judge_pages import links, make_judges, organiser, set_status, submitted_cases

COACHING = datetime(2023, 6, 20, 10, 0, tzinfo=CHINA)          # text review over, the final not opened
FINAL_OPENS = datetime(2023, 6, 24, 0, 0, tzinfo=CHINA)
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def pptx_bytes(marker: str = "slide") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("ppt/presentation.xml", f"<p:presentation>{marker}</p:presentation>")
    return buffer.getvalue()


MP4_BYTES = (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"      # ftyp, then an mdat to the end
             + (8 + 500).to_bytes(4, "big") + b"mdat" + b"\x00" * 500)


@pytest.fixture
def world(api, clock):
    """Three development finalists (units 1–3) and one case that did not advance (unit 4); coaching time."""
    cases, usernames = submitted_cases(api, 4)
    set_status(cases[:3], "advanced")
    set_status(cases[3:], "not_advanced")
    clock.set(COACHING)
    org, _ = organiser(api)
    units = {case_id: login(api, username) for case_id, username in usernames.items()}
    return {"org": org, "cases": cases, "units": units, "clock": clock, "usernames": usernames}


def login(api, username):
    return api.as_(api.call("POST", "/sessions", {"username": username, "password": "correct-horse-1"})[1]["token"])


def declare(unit, case_id, filename="汇报.pptx", content_type=PPTX, size=None, data=None):
    return unit.call("POST", f"/cases/{case_id}/presentation",
                     {"filename": filename, "content_type": content_type, "size": size or len(data or b"x")})


def upload(unit, case_id, data, filename="汇报.pptx", content_type=PPTX):
    status, answer = declare(unit, case_id, filename, content_type, data=data)
    assert status == 201, answer
    fields = answer["upload"]["fields"]
    s3().put_object(Bucket=bootstrap.config().bucket, Key=fields["key"], Body=data, ContentType=content_type)
    return answer


def present(unit, case_id, data, filename="汇报.pptx", content_type=PPTX):
    answer = upload(unit, case_id, data, filename, content_type)
    status, confirmed = unit.call("POST", f"/cases/{case_id}/presentation/confirm")
    assert status == 200, confirmed
    return answer, confirmed


def fetched(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


def audit_actions(case_id: str) -> list[str]:
    from chalicelib.store.models import AuditEntry
    return sorted(row.action for row in AuditEntry.query(f"case#{case_id}") if row.action.startswith("presentation"))


def test_a_finalist_uploads_its_presentation_and_downloads_it(world):
    case_id, unit = world["cases"][0], world["units"][world["cases"][0]]
    data = pptx_bytes()
    answer, confirmed = present(unit, case_id, data)
    assert answer["upload"]["fields"]["key"] == f"uploads/{case_id}/{answer['presentation_id']}"
    assert confirmed == {"presentation_id": answer["presentation_id"], "status": "verified", "filename": "汇报.pptx",
                         "content_type": PPTX, "size": len(data), "uploaded_at": "2023-06-20T10:00:00+08:00"}
    status, got = unit.call("GET", f"/cases/{case_id}/presentation")
    assert (status, {k: v for k, v in got.items() if k != "url"}) == (200, confirmed)
    response = fetched(got["url"])
    assert (response.status_code, response.content) == (200, data)
    assert unquote(response.headers["Content-Disposition"]) == "attachment; filename*=UTF-8''汇报.pptx"
    assert unit.call("GET", f"/cases/{case_id}")[1]["attachments"] == []     # not an attachment
    assert world["org"].call("GET", f"/cases/{case_id}/presentation")[1]["filename"] == "汇报.pptx"
    assert unit.call("POST", f"/cases/{case_id}/presentation/confirm") == (200, confirmed)   # again: the same
    assert audit_actions(case_id) == ["presentation.declare", "presentation.verify"]


def test_a_post_to_the_old_grant_after_confirm_leaves_the_served_presentation(world):
    """The grant names only uploads/…; confirm copies it to cases/… and checks the copy: a later post of other
    bytes of the same size and type (the policy would let S3 take it) never reaches what is downloaded."""
    case_id, unit = world["cases"][0], world["units"][world["cases"][0]]
    original, replacement = pptx_bytes("our slides"), pptx_bytes("evil slide")
    assert len(original) == len(replacement)
    status, grant = declare(unit, case_id, data=original)
    assert status == 201, grant
    form = grant["upload"]
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("x", original, PPTX)}, timeout=10)
    assert posted.status_code in (200, 201, 204)
    assert unit.call("POST", f"/cases/{case_id}/presentation/confirm")[1]["status"] == "verified"
    from chalicelib.store import cases as case_store
    record = case_store.attachments_of(case_store.get(case_id))[grant["presentation_id"]]
    assert record["upload_key"] == f"uploads/{case_id}/{grant['presentation_id']}"
    assert record["key"].startswith(f"cases/{case_id}/{grant['presentation_id']}/")
    assert form["fields"]["key"] == record["upload_key"] != record["key"]
    assert bootstrap.files().head(record["upload_key"]) is None
    requests.post(form["url"], data=form["fields"], files={"file": ("x", replacement, PPTX)}, timeout=10)
    for who in (unit, world["org"]):
        assert fetched(who.call("GET", f"/cases/{case_id}/presentation")[1]["url"]).content == original


def test_only_presentation_types_within_the_config_limits(world):
    case_id, unit = world["cases"][0], world["units"][world["cases"][0]]
    status, refused = declare(unit, case_id, "说明书.docx",
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 100)
    allowed = "pptx（不超过 100 MB）、ppt（不超过 100 MB）、pdf（不超过 100 MB）、mp4（不超过 500 MB）"
    assert (status, refused["error"]["code"], refused["error"]["fields"]) == (
        400, "invalid", {"filename": f"只能上传{allowed}"})
    status, refused = declare(unit, case_id, "汇报.pdf", "application/pdf", 100 * 1024 * 1024 + 1)
    assert (status, refused["error"]["code"], refused["error"]["fields"]) == (413, "too_large", {"size": "不能超过 100 MB"})
    assert declare(unit, case_id, "汇报.mp4", "video/mp4", 500 * 1024 * 1024)[0] == 201
    assert declare(unit, case_id, "汇报.pptx", "application/pdf", 10)[0] == 400
    assert unit.call("POST", f"/cases/{case_id}/presentation", raw=b"[1]")[0] == 400


def test_the_stored_bytes_must_be_what_the_name_says(world):
    case_id, unit = world["cases"][0], world["units"][world["cases"][0]]
    answer = upload(unit, case_id, PDF_BYTES, "汇报.pptx", PPTX)
    status, refused = unit.call("POST", f"/cases/{case_id}/presentation/confirm")
    assert (status, refused["error"]["code"]) == (400, "invalid")
    assert refused["error"]["fields"] == {"file": "文件内容不是有效的PowerPoint文件（与扩展名 .pptx 不符）"}
    for key in (answer["upload"]["fields"]["key"], f"cases/{case_id}/{answer['presentation_id']}"):
        assert s3().list_objects_v2(Bucket=bootstrap.config().bucket, Prefix=key)["KeyCount"] == 0
    status, missing = unit.call("GET", f"/cases/{case_id}/presentation")
    assert (status, missing["error"]["code"]) == (404, "not_found")
    assert audit_actions(case_id) == ["presentation.declare", "presentation.reject"]   # sorted


def test_a_new_file_replaces_the_presentation_until_the_final_opens(api, world):
    case_id, unit = world["cases"][0], world["units"][world["cases"][0]]
    first, _ = present(unit, case_id, pptx_bytes("old"))
    second, confirmed = present(unit, case_id, MP4_BYTES, "汇报视频.mp4", "video/mp4")
    got = unit.call("GET", f"/cases/{case_id}/presentation")[1]
    assert (got["presentation_id"], got["filename"], fetched(got["url"]).content) == (
        second["presentation_id"], "汇报视频.mp4", MP4_BYTES)
    bucket = bootstrap.config().bucket
    assert s3().list_objects_v2(Bucket=bucket, Prefix=f"cases/{case_id}/{first['presentation_id']}")["KeyCount"] == 0
    assert audit_actions(case_id) == ["presentation.declare", "presentation.declare", "presentation.replace",
                                      "presentation.verify", "presentation.verify"]
    world["clock"].set(FINAL_OPENS)
    unit = login(api, world["usernames"][case_id])
    status, refused = declare(unit, case_id, data=pptx_bytes())
    assert (status, refused["error"]["code"]) == (409, "stage_closed")
    assert "综合评选开始前" in refused["error"]["message"]
    assert unit.call("POST", f"/cases/{case_id}/presentation/confirm")[1]["error"]["code"] == "stage_closed"
    assert unit.call("GET", f"/cases/{case_id}/presentation")[1]["presentation_id"] == second["presentation_id"]


def test_a_declared_upload_left_unconfirmed_is_replaced_by_the_next(world):
    case_id, unit = world["cases"][0], world["units"][world["cases"][0]]
    stale = upload(unit, case_id, pptx_bytes("never confirmed"))
    fresh, _ = present(unit, case_id, pptx_bytes("fresh"))
    from chalicelib.store import cases as case_store
    records = case_store.attachments_of(case_store.get(case_id))
    assert [(r["attachment_id"], r["status"]) for r in records.values()] == [(fresh["presentation_id"], "verified")]
    assert stale["presentation_id"] != fresh["presentation_id"]


def test_the_database_refuses_a_presentation_once_the_final_has_opened(world):
    from chalicelib.services import presentations
    from chalicelib.services.accounts import Principal  # noqa: F401  (the service's caller type)
    from chalicelib.store import cases as case_store
    case_id = world["cases"][0]
    case = case_store.CaseRepository().get(case_id)
    record = {"attachment_id": "late", "filename": "a.pdf", "content_type": "application/pdf", "size": 9,
              "status": "pending", "key": f"cases/{case_id}/late", "created_at": 0, "kind": "presentation"}
    with pytest.raises(StageClosed):
        case_store.CaseRepository().put_attachment(case, record, ("shenzhen-2023", "final", "before"), "unit:unit1",
                                  FINAL_OPENS.timestamp(), "presentation.declare")
    case_store.CaseRepository().put_attachment(case, record, ("shenzhen-2023", "final", "before"), "unit:unit1",
                              FINAL_OPENS.timestamp() - 1, "presentation.declare")
    assert presentations.current(case_store.CaseRepository().get(case_id)) is None     # pending: not a presentation yet


def test_who_may_upload_and_read_a_presentation(api, world):
    first, second, _, out = world["cases"]
    unit = world["units"][first]
    present(unit, first, pptx_bytes())
    other = world["units"][second]
    assert other.call("POST", f"/cases/{first}/presentation", {"filename": "a.pdf", "content_type": "application/pdf",
                                                               "size": 10})[0] == 403
    assert other.call("GET", f"/cases/{first}/presentation")[0] == 403
    assert world["org"].call("POST", f"/cases/{first}/presentation", {"filename": "a.pdf",
                                                                      "content_type": "application/pdf", "size": 9})[0] == 403
    assert api.call("GET", f"/cases/{first}/presentation")[0] == 401
    status, refused = declare(world["units"][out], out, data=pptx_bytes())
    assert (status, refused["error"]["code"], refused["error"]["message"]) == (
        409, "stage_closed", "只有进入综合评选（且综合评选尚未结束）的案例可以上传展示材料")
    assert api.call("GET", "/cases/nope/presentation", token=None)[0] == 401


def test_final_judges_read_the_presentations_of_their_cases(api, world):
    first, second = world["cases"][0], world["cases"][1]
    data = pptx_bytes()
    present(world["units"][first], first, data)
    world["clock"].set(datetime(2023, 6, 28, 9, 0, tzinfo=CHINA))
    org, _ = organiser(api)
    judge_ids = make_judges(org, 2)
    assert org.call("POST", "/admin/stages/final/assignments", {})[0] == 200
    assert org.call("DELETE", f"/admin/stages/final/assignments/{judge_ids[1]}/{first}")[0] == 204
    sessions = {}
    for judge_id, token in links(org, "final").items():
        sessions[judge_id] = api.as_(api.call("POST", "/judge/sessions", {"link": token})[1]["token"])
    status, got = sessions[judge_ids[0]].call("GET", f"/judge/cases/{first}/presentation")
    assert (status, got["filename"], fetched(got["url"]).content) == (200, "汇报.pptx", data)
    assert sessions[judge_ids[1]].call("GET", f"/judge/cases/{first}/presentation")[0] == 404
    status, none = sessions[judge_ids[0]].call("GET", f"/judge/cases/{second}/presentation")
    assert (status, none["error"]["message"]) == (404, "这个案例还没有展示材料")


# -- the organiser's zip of a category -----------------------------------------------------------

@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


def test_a_category_zip_holds_the_presentations_in_the_drawn_order(api, world):
    first, second, third, _ = world["cases"]
    files = {first: (pptx_bytes("one"), "我们的汇报.pptx", PPTX), second: (MP4_BYTES, "视频.MP4", "video/mp4")}
    for case_id, (data, name, content_type) in files.items():
        present(world["units"][case_id], case_id, data, name, content_type)
    org = world["org"]
    status, refused = org.call("POST", "/admin/exports", {"kind": "presentations_zip"})
    assert (status, refused["error"]["fields"]) == (400, {"category": "请选择案例类别"})
    status, drawn = org.call("POST", "/admin/stages/final/draw", {"seed": "zip-2023", "category": "development"})
    assert status == 200, drawn
    order = [o["case_id"] for o in drawn["draws"]["development"]["order"]]
    status, job = org.call("POST", "/admin/exports", {"kind": "presentations_zip", "category": "development"})
    assert status == 202, job
    from scripts import local_jobs
    assert local_jobs.run_queued_exports() == [job["id"]]
    status, view = org.call("GET", f"/admin/exports/{job['id']}")
    assert (status, view["status"], view["category"], view["filename"]) == (
        200, "done", "development", "2023年深圳市“党建杯”机关创新创优竞赛-展示材料-发展提质-20230620.zip")
    archive = zipfile.ZipFile(io.BytesIO(fetched(view["url"]).content))
    titles = {first: "案例1", second: "案例2", third: "案例3"}
    expected = ["展示顺序.txt"] + [
        f"{i:02d}_{titles[cid]}.{files[cid][1].rsplit('.', 1)[1].lower()}" for i, cid in enumerate(order, 1)
        if cid in files]
    assert archive.namelist() == expected
    for i, cid in enumerate(order, 1):
        if cid in files:
            assert archive.read(expected[[n.startswith(f"{i:02d}_") for n in expected].index(True)]) == files[cid][0]
    listing = archive.read("展示顺序.txt").decode("utf-8").split("\r\n")
    assert listing[0] == "2023年深圳市“党建杯”机关创新创优竞赛 综合评选展示材料（发展提质，按抽签顺序）"
    assert listing[2:5] == [
        f"{i:02d}\t{titles[cid]}\t单位{world['cases'].index(cid) + 1}\t"
        + (f"{i:02d}_{titles[cid]}.{files[cid][1].rsplit('.', 1)[1].lower()}" if cid in files else "未上传展示材料")
        for i, cid in enumerate(order, 1)]


def test_a_category_not_drawn_yet_cannot_be_zipped(world):
    org = world["org"]
    status, job = org.call("POST", "/admin/exports", {"kind": "presentations_zip", "category": "service"})
    assert status == 202
    from scripts import local_jobs
    local_jobs.run_queued_exports()
    status, view = org.call("GET", f"/admin/exports/{job['id']}")
    assert (view["status"], view["error"]) == ("failed", "服务增效尚未抽签：展示材料按抽签顺序打包，请先在“抽签”页面抽签")
