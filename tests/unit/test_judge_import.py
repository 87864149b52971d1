"""The judges' spreadsheet: row checks (a pure function of the rows and the existing judges) and the template."""
from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from chalicelib import competitions
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.errors import Invalid
from chalicelib.services.judge_import import RowError, check_rows, read_rows, template


@pytest.fixture(scope="module")
def comp():
    return competition_from_config(competitions.load("shenzhen-2023"))


def row(**cells):
    base = {"name": "王专家", "email": "wang@example.org", "mobile": "", "affiliation": "深圳大学",
            "categories": "发展提质", "conflicts": ""}
    return {**base, **cells}


def test_good_rows_parse_categories_by_chinese_name_and_conflicts(comp):
    parsed, errors = check_rows(comp, [(2, row(categories="党建赋能、发展提质", conflicts="甲局，乙局;丙局"))], [])
    assert errors == []
    assert parsed[0].categories == ("development", "empowerment")
    assert parsed[0].conflicts == ("甲局", "乙局", "丙局")


def test_every_problem_is_reported_with_row_and_column(comp):
    rows = [(2, row()), (3, row(email="bad", categories="", mobile="123")), (4, row(email="WANG@example.org", name=""))]
    parsed, errors = check_rows(comp, rows, [])
    assert [(e.row, e.column, e.field) for e in errors] == [
        (3, "email", "电子邮箱"), (3, "mobile", "手机"), (3, "categories", "评审类别"),
        (4, "name", "姓名"), (4, "email", "电子邮箱")]
    assert errors[2].message.startswith("请填写评审类别")
    assert errors[4] == RowError(4, "email", "电子邮箱", "与第 2 行的电子邮箱重复")


def test_an_existing_judges_email_is_refused(comp):
    existing = [SimpleNamespace(email="Wang@Example.org", name="王老师")]
    _, errors = check_rows(comp, [(2, row())], existing)
    assert errors == [RowError(2, "email", "电子邮箱", "已有使用该电子邮箱的评委（王老师），请勿重复导入")]


def test_unknown_category_names_the_bad_word(comp):
    _, errors = check_rows(comp, [(2, row(categories="发展提质、创新类"))], [])
    assert errors[0].column == "categories" and "“创新类”不是评审类别" in errors[0].message


def test_template_round_trips_through_read_rows(comp):
    from openpyxl import load_workbook
    data = template(comp)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["评委名单", "填写说明"]
    sheet = book["评委名单"]
    sheet.append(["李专家", "li@example.org", 13912345678, "市委党校", "服务增效", None])
    out = io.BytesIO()
    book.save(out)
    assert read_rows(out.getvalue()) == [(2, {"name": "李专家", "email": "li@example.org", "mobile": "13912345678",
                                               "affiliation": "市委党校", "categories": "服务增效", "conflicts": ""})]


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 broken zip", b"<html>not xlsx</html>"])
def test_unreadable_files_are_400(data):
    with pytest.raises(Invalid):
        read_rows(data)
