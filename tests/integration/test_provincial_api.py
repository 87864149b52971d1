"""省赛准备 over the API: the organiser recommends awarded cases to the provincial competition with a reason
(only after the final closed; audited), and the 省赛推荐名单 exports (.xlsx, .docx) opened cell by cell and
paragraph by paragraph. One finished competition for the module (tests/integration/finished_competition.py)."""
from __future__ import annotations

import io
import json

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.integration.finished_competition import finished_world
from tests.integration.test_exports_api import HOSTS, assert_no_formulas, export

COMPETITION = "2023年深圳市“党建杯”机关创新创优竞赛暨第十一届广东省市直机关“先锋杯”工作创新大赛深圳选拔赛"
REASON_A = "数字政府建设成效显著，经验可复制可推广。"
REASON_B = "=“一网统管”机制创新，群众满意度高"          # looks like a formula: must stay text


@pytest.fixture(scope="module")
def world():
    with finished_world() as shared:
        yield shared


@pytest.fixture(scope="module")
def recommended(world):
    finished = world[0]
    a, b = finished.ids["development"][1], finished.ids["service"][0]
    for case_id, reason in ((b, REASON_B), (a, REASON_A)):
        status, body = finished.org.call("PUT", f"/admin/cases/{case_id}/recommendation",
                                         {"recommended": True, "reason": reason})
        assert (status, body) == (200, {"case_id": case_id, "recommended": True, "reason": reason})
    return finished, a, b


def test_a_recommendation_needs_a_reason_and_an_awarded_case(world):
    finished = world[0]
    case_id = finished.ids["development"][2]
    status, refused = finished.org.call("PUT", f"/admin/cases/{case_id}/recommendation", {"recommended": True})
    assert (status, refused["error"]["code"], refused["error"]["fields"]) == (400, "invalid", {"reason": "请填写推荐理由"})
    status, refused = finished.org.call("PUT", f"/admin/cases/{case_id}/recommendation",
                                        {"recommended": True, "reason": "好" * 501})
    assert (status, refused["error"]["fields"]) == (400, {"reason": "不能超过 500 字"})
    assert finished.org.call("PUT", f"/admin/cases/{case_id}/recommendation", {"recommended": "yes"})[0] == 400
    assert finished.org.call("PUT", "/admin/cases/nope/recommendation", {"recommended": False})[0] == 404
    from chalicelib.store.models import Case
    draft = next(c.id for c in Case.scan() if c.status == "draft")
    status, refused = finished.org.call("PUT", f"/admin/cases/{draft}/recommendation",
                                        {"recommended": True, "reason": "理由"})
    assert (status, refused["error"]["message"]) == (409, "只能在综合评选获奖案例中推荐参加省赛")


def test_a_recommendation_is_audited_and_can_be_withdrawn(world):
    finished = world[0]
    case_id = finished.ids["development"][3]
    org = finished.org
    assert org.call("PUT", f"/admin/cases/{case_id}/recommendation", {"recommended": True, "reason": " 理由一 "}) == (
        200, {"case_id": case_id, "recommended": True, "reason": "理由一"})
    assert org.call("PUT", f"/admin/cases/{case_id}/recommendation", {"recommended": False}) == (
        200, {"case_id": case_id, "recommended": False, "reason": None})
    from chalicelib.store.models import AuditEntry, Case
    rows = [r for r in AuditEntry.query(f"case#{case_id}") if r.action == "case.provincial"]
    assert [(r.actor, json.loads(r.detail) if r.detail else None) for r in rows] == [
        ("organiser:boss", None), ("organiser:boss", None)]
    stored = Case.get(case_id)
    assert (stored.provincial, stored.provincial_reason) == (False, None)
    ranking = org.call("GET", "/admin/stages/final/ranking")[1]
    assert [e["provincial"] for e in ranking["categories"]["development"] if e["case_id"] == case_id] == [False]


def test_the_provincial_list_workbook_cell_by_cell(recommended):
    finished, a, b = recommended
    view, data = export(finished.org, "provincial_list_xlsx")
    assert view["filename"] == "2023年深圳市“党建杯”机关创新创优竞赛-省赛推荐名单-20230625.xlsx"
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["省赛推荐名单"]
    rows = [[c.value for c in row] for row in wb["省赛推荐名单"].iter_rows()]
    assert rows == [
        ["序号", "案例类别", "名次", "奖项", "案例名称", "推荐单位", "牵头人", "牵头人职务", "牵头人手机", "推荐理由"],
        [1, "发展提质", 2, "一等奖", "党建引领数字政府建设", "深圳市政务服务数据管理局", "王芳", "科长", "13900000002", REASON_A],
        [2, "服务增效", 1, "一等奖", "“一网统管”提升城市治理效能", "深圳市城市管理和综合执法局", "赵磊", "科长",
         "13900000007", REASON_B],
    ]
    assert wb["省赛推荐名单"]["J3"].quotePrefix is True


def test_the_provincial_list_document_paragraph_by_paragraph(recommended):
    finished, a, b = recommended
    view, data = export(finished.org, "provincial_list_docx")
    assert view["filename"] == "2023年深圳市“党建杯”机关创新创优竞赛-省赛推荐名单-20230625.docx"
    document = Document(io.BytesIO(data))
    assert [p.text for p in document.paragraphs] == [f"{COMPETITION}省赛推荐名单", "", *HOSTS, "2023年6月25日"]
    table = document.tables[0]
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["序号", "案例类别", "奖项", "案例名称", "推荐单位", "牵头人", "推荐理由"],
        ["1", "发展提质", "一等奖", "党建引领数字政府建设", "深圳市政务服务数据管理局", "王芳", REASON_A],
        ["2", "服务增效", "一等奖", "“一网统管”提升城市治理效能", "深圳市城市管理和综合执法局", "赵磊", REASON_B],
    ]
