"""Exports over the API: request, run (the app's `exports` function, as the local runner calls it), poll,
download; what is refused; the asynchronous invocation in AWS. The exports of a finished competition,
opened cell by cell, are in test_after_the_final.py (which uses the helpers here)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from botocore.stub import ANY, Stubber
from openpyxl import load_workbook

from tests.conftest import CHINA, case_body, register_unit
from tests.integration.test_judging_api import organiser

COMPETITION = "2023年深圳市“党建杯”机关创新创优竞赛"
HOSTS = ["中共深圳市直属机关工作委员会", "深圳市总工会", "共青团深圳市委员会", "深圳市妇女联合会"]
FILES = {"results_xlsx": "results.xlsx", "scores_xlsx": "scores.xlsx", "registrations_xlsx": "registrations.xlsx",
         "certificates_pdf": "certificates.pdf", "award_list_docx": "award-list.docx", "honors_xlsx": "honors.xlsx",
         "organisation_awards_xlsx": "organisation-awards.xlsx", "presentations_zip": "presentations.zip",
         "provincial_list_xlsx": "provincial-list.xlsx", "provincial_list_docx": "provincial-list.docx"}


@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    """The local world: the API queues, the runner (here: the test) runs the job."""
    monkeypatch.setenv("ASYNC_MODE", "poll")


def run_jobs() -> list[str]:
    from scripts import local_jobs
    return local_jobs.run_queued_exports()


def export(org, kind: str) -> tuple[dict, bytes]:
    """POST, run the queued job, GET until done; returns the final view and the file's bytes."""
    status, job = org.call("POST", "/admin/exports", {"kind": kind})
    assert status == 202 and job["status"] == "running", job
    status, view = org.call("GET", f"/admin/exports/{job['id']}")
    assert (status, view["status"], view["percent"]) == (200, "running", 0)
    assert run_jobs() == [job["id"]]
    status, view = org.call("GET", f"/admin/exports/{job['id']}")
    assert status == 200 and view["status"] == "done" and view["percent"] == 100, view
    assert f"exports/{job['id']}/{FILES[kind]}" in view["url"]
    disposition = unquote(unquote(view["url"].split("response-content-disposition=", 1)[1].split("&", 1)[0]))
    assert disposition == f"attachment; filename*=UTF-8''{view['filename']}"
    assert view["filename"].startswith(COMPETITION) and view["filename"].endswith(FILES[kind].rsplit(".")[-1])
    return view, read_export(job["id"], kind)


def read_export(job_id: str, kind: str) -> bytes:
    from chalicelib import bootstrap
    obj = bootstrap.s3().get_object(Bucket=bootstrap.config().bucket, Key=f"exports/{job_id}/{FILES[kind]}")
    return obj["Body"].read()


def assert_no_formulas(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def assert_sheet_layout(ws, headers: tuple[str, ...]) -> None:
    assert [c.value for c in ws[1]] == list(headers)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert COMPETITION in ws.oddHeader.center.text
    assert "&P" in ws.oddFooter.center.text
    assert ws.column_dimensions["B"].width >= 10


def test_results_before_the_final_come_from_the_text_review(api, clock):
    for n in (1, 2):
        unit = api.as_(register_unit(api, n, unit_name=f"单位{n}"))
        status, case = unit.call("POST", "/cases", case_body(title=f"案例{n}", recommending_unit=f"单位{n}"))
        assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    _, data = export(org, "results_xlsx")
    ws = load_workbook(io.BytesIO(data))["发展提质"]
    assert "文本评审排名（暂定" in ws.oddHeader.center.text
    rows = sorted(ws.iter_rows(min_row=2, values_only=True), key=lambda r: r[1])
    assert rows == [(1, "案例1", "单位1", "李四", None, None, "否", None, "文本评审"),
                    (1, "案例2", "单位2", "李四", None, None, "否", None, "文本评审")]
    # certificates and the award list wait for the final: the job fails with a reason
    for kind, reason in (("certificates_pdf", "综合评选结束并评出奖项后才能生成荣誉证书"),
                         ("award_list_docx", "综合评选结束后才能生成获奖名单")):
        status, job = org.call("POST", "/admin/exports", {"kind": kind})
        run_jobs()
        assert org.call("GET", f"/admin/exports/{job['id']}")[1] == {
            "id": job["id"], "kind": kind, "status": "failed", "percent": 0, "error": reason}


def test_export_requests_are_checked(api, clock):
    org = organiser(api)
    for kind in ("everything", {}, ["results_xlsx"], 1, None):    # {} and [] once were a 500 (unhashable)
        status, body = org.call("POST", "/admin/exports", {"kind": kind})
        assert status == 400 and body["error"]["fields"] == {"kind": "不支持的导出类型"}, kind
    assert org.call("POST", "/admin/exports", raw=b"{")[0] == 400
    assert org.call("GET", "/admin/exports/nope")[0] == 404
    unit = api.as_(register_unit(api, 1))
    assert unit.call("POST", "/admin/exports", {"kind": "results_xlsx"})[0] == 403
    assert api.call("GET", "/admin/exports/nope")[0] == 401
    assert unit.call("GET", "/admin/mail")[0] == 403


def test_lambda_mode_invokes_the_export_function_asynchronously(api, clock, monkeypatch):
    from chalicelib import bootstrap, config
    from chalicelib.store import exports as export_store

    monkeypatch.setenv("ASYNC_MODE", "lambda")
    monkeypatch.setenv("EXPORT_FUNCTION_NAME", "saiping-dev-exports")
    config.reset()
    bootstrap.config.cache_clear()
    org = organiser(api)
    stub = Stubber(bootstrap.client("lambda"))
    stub.add_response("invoke", {"StatusCode": 202}, {
        "FunctionName": "saiping-dev-exports", "InvocationType": "Event",
        "Payload": ANY})
    stub.add_client_error("invoke", "ServiceException", "down", 500)
    with stub:
        status, job = org.call("POST", "/admin/exports", {"kind": "scores_xlsx"})
        assert (status, job["status"]) == (202, "running")
        status, body = org.call("POST", "/admin/exports", {"kind": "scores_xlsx"})
        assert status == 503 and body["error"]["code"] == "unavailable"
    assert export_store.get(job["id"]).status == "queued"     # the function (stubbed here) would run it
    failed = [j for j in export_store.ExportJob.by_status.query("failed")]
    assert len(failed) == 1 and failed[0].error == "导出任务未能启动，请稍后重新导出"


def test_the_verify_form_redirects_to_the_canonical_page(client, clock):
    response = client.http.get("/verify?code=abcd-efgh-ijkl", headers={"Accept": "text/html"})
    assert response.status_code == 303 and response.headers["Location"] == "/verify/ABCDEFGHIJKL"
    empty = client.http.get("/verify", headers={"Accept": "text/html"})
    assert empty.status_code == 200 and "12 位验证码" in empty.body.decode()


def test_payload_of_the_dispatch_is_the_job_id(monkeypatch, aws):
    from chalicelib.web import api_exports
    from chalicelib import bootstrap, config

    monkeypatch.setenv("ASYNC_MODE", "lambda")
    monkeypatch.setenv("EXPORT_FUNCTION_NAME", "fn")
    config.reset()
    bootstrap.config.cache_clear()
    stub = Stubber(bootstrap.client("lambda"))
    stub.add_response("invoke", {"StatusCode": 202}, {"FunctionName": "fn", "InvocationType": "Event",
                                                     "Payload": json.dumps({"id": "j1"}).encode()})
    with stub:
        api_exports.dispatch("j1")
    stub.assert_no_pending_responses()


def test_the_local_runner_runs_schedules_and_queued_exports(api, clock):
    from scripts import local_jobs
    org = organiser(api)
    status, job = org.call("POST", "/admin/exports", {"kind": "registrations_xlsx"})
    local_jobs._last_run.clear()
    ran = local_jobs.run_due(clock())
    assert {"close_due_stages", "send_reminders", f"exports:{job['id']}"} <= set(ran)
    assert org.call("GET", f"/admin/exports/{job['id']}")[1]["status"] == "done"
    assert local_jobs.run_due(clock() + timedelta(seconds=1)) == []
