"""scripts/organiser.py against a stage (here the in-process emulator, named by TABLE_PREFIX and
BUCKET_NAME as for a deployed stage): export with a progress bar, close a stage, send award mail."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.conftest import case_body, register_unit


def test_export_close_stage_and_award_mail_from_the_command_line(api, clock, monkeypatch, tmp_path):
    from scripts import organiser

    unit = api.as_(register_unit(api, 1, unit_name="命令行测试局"))
    status, case = unit.call("POST", "/cases", case_body(title="命令行导出的案例"))
    assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    monkeypatch.setenv("TABLE_PREFIX", "saiping-local-")
    monkeypatch.setenv("BUCKET_NAME", "saiping-local-files")
    monkeypatch.setenv("ASYNC_MODE", "poll")

    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "报名情况.xlsx"
    assert organiser.main(["export", "registrations_xlsx", "--out", str(target)], out, err) == 0
    assert out.getvalue().startswith(str(target))
    assert "[##############################] 100% 完成" in err.getvalue()
    rows = list(load_workbook(target)["案例"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3], r[6]) for r in rows] == [("命令行测试局", "命令行导出的案例", "已提交")]

    out = io.StringIO()
    assert organiser.main(["close-stage", "text_review"], out, err) == 0   # the real clock: long after 2023
    assert out.getvalue() == "stage text_review: closed\n"
    out = io.StringIO()
    assert organiser.main(["send-award-mail"], out, err) == 0
    assert out.getvalue().startswith("award mail: sent 0, skipped 0")

    err = io.StringIO()
    assert organiser.main(["export", "award_list_docx", "--out", str(tmp_path / "x.docx")], io.StringIO(), err) == 1
    assert "综合评选结束后才能生成获奖名单" in err.getvalue()
    assert not (tmp_path / "x.docx").exists()


def test_the_command_line_refuses_to_guess_a_stage(monkeypatch):
    from scripts import organiser
    for name in ("AWS_ENDPOINT_URL", "TABLE_PREFIX", "BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)
    err = io.StringIO()
    assert organiser.main(["send-award-mail"], io.StringIO(), err) == 2
    assert "which stage?" in err.getvalue()
