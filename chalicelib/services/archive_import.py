"""Earlier years' cases from a spreadsheet (往年案例导入): the .xlsx template and the all-or-nothing import.

The organiser's workbook has one case a row under the header 年份, 案例名称, 单位, 案例类别, 案例背景, 案例创新点,
案例取得的成果 (categories by their Chinese names, points one per line in the cell). Every row is checked
before anything is written; one bad row imports nothing, and the answer lists every problem by row number
(as Excel numbers it) and column, as the judges' import does (services/judge_import.py). The checked cases
go through the same service as POST /api/v1/admin/archive (services/originality.py: store_archive), so an
import from the console rebuilds the index and re-checks every case the same way. openpyxl is imported
here only, lazily.
"""
from __future__ import annotations

from datetime import datetime
import re
from typing import TYPE_CHECKING, Any

from ..domain.competition import Competition
from ..domain.errors import Invalid
from . import originality
from .accounts import Principal
from . import workbook_rows
from .workbook_rows import RowError, Workbook

if TYPE_CHECKING:
    from .repositories import ArchiveRepository, OriginalityObjects

SHEET = "往年案例"
COLUMNS = (("year", "年份"), ("title", "案例名称"), ("unit", "单位"), ("category", "案例类别"),
           ("background", "案例背景"), ("innovations", "案例创新点"), ("results", "案例取得的成果"))
HEADER = {header: field for field, header in COLUMNS}
LABEL = dict(COLUMNS)
POINTS = ("innovations", "results")
MAX_ROWS = 2000
MAX_BYTES = 4 * 1024 * 1024       # a Lambda's 6 MB request, once API Gateway has base64-encoded the upload
WORKBOOK = Workbook(SHEET, HEADER, tuple(h for _, h in COLUMNS), MAX_BYTES, MAX_ROWS, "往年案例模板",
                    empty="请选择往年案例 .xlsx 文件（上传的文件为空）", too_large="请分成几个文件分别导入",
                    too_many=f"一次最多导入 {MAX_ROWS} 个往年案例，请分多个文件导入")
LINES = re.compile(r"\r\n|\r|\n")
YEAR = re.compile(r"^(\d{4})\s*年?$")
EXAMPLE = {"year": 2022, "title": "示例：“党建+网格”推动基层治理提质增效", "unit": "深圳市××局机关党委",
           "category": "服务增效",
           "background": "（示例，导入前请删除本行）简述案例的背景：面临的问题、工作的出发点。",
           "innovations": "创新点一：……\n创新点二：……", "results": "成果一：……\n成果二：……"}


class RowsInvalid(workbook_rows.RowsInvalid):
    def __init__(self, rows: list[RowError]):
        super().__init__(rows, "往年案例")


# -- the template ---------------------------------------------------------------------------------

def template(comp: Competition) -> bytes:
    from openpyxl.styles import Alignment

    names = "、".join(c.name for c in comp.categories)
    notes = {"年份": "必填，四位数字，早于本届比赛的年份", "案例名称": "必填", "单位": "选填，推荐单位",
             "案例类别": f"必填，填写类别名称：{names}", "案例背景": "案例背景、创新点、成果至少填写一项",
             "案例创新点": "每行一条（单元格内换行：Alt+Enter）",
             "案例取得的成果": "每行一条（单元格内换行：Alt+Enter）"}
    widths = {"年份": 8, "案例名称": 30, "单位": 22, "案例类别": 12, "案例背景": 50, "案例创新点": 40,
              "案例取得的成果": 40}
    book, sheet = workbook_rows.template_book(SHEET, [header for _, header in COLUMNS], notes, widths)
    sheet.append([EXAMPLE[field] for field, _ in COLUMNS])
    for index in range(1, len(COLUMNS) + 1):
        sheet.cell(row=2, column=index).alignment = Alignment(wrap_text=True, vertical="top")
    return workbook_rows.template_bytes(book, [
        "往年案例导入说明",
        "1. 在“往年案例”工作表中每行填写一个往年参赛案例，不要修改第一行的表头。",
        "2. 第 2 行是示例，导入前请删除或替换为真实案例（保留示例行会被拒绝导入）。",
        "3. 年份、案例名称、案例类别为必填；案例背景、案例创新点、案例取得的成果至少填写一项；单位选填。",
        f"4. 案例类别填写类别名称：{names}。",
        "5. 案例创新点、案例取得的成果每行一条，在单元格内换行（Alt+Enter）分隔。",
        f"6. 一次最多导入 {MAX_ROWS} 个案例，文件不超过 {MAX_BYTES // 1024 // 1024} MB；案例名称和单位不超过 "
        f"{originality.MAX_TITLE} 字，案例背景和每一条不超过 {originality.MAX_FIELD} 字，"
        f"每格最多 {originality.MAX_ITEMS} 条。",
        "7. 上传后逐行校验：任何一行有错误时不会导入任何案例，请按提示修改后重新上传整个文件。",
        "8. 同一案例重复导入不会产生重复记录；导入后所有已提交案例会重新比对。",
    ], 110)


# -- reading the workbook -------------------------------------------------------------------------

def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(Excel row number, {field: text}) for every non-empty row under the header row."""
    return workbook_rows.read_rows(data, WORKBOOK)


# -- checking the rows ----------------------------------------------------------------------------

def _year(text: str, before: int) -> tuple[int | None, str | None]:
    if not text:
        return None, "请填写年份（四位数字，例如 2022）"
    match = YEAR.match(text)
    if not match:
        return None, f"“{text[:20]}”不是年份，请填写四位数字，例如 2022"
    year = int(match.group(1))
    problem = originality.year_problem(year, before)
    return (None, problem) if problem else (year, None)


def _points(text: str, limit: int) -> tuple[list[str], str | None]:
    points = [line.strip() for line in LINES.split(text) if line.strip()]
    if len(points) > originality.MAX_ITEMS:
        return [], f"最多 {originality.MAX_ITEMS} 条（本格 {len(points)} 条），每行一条"
    for n, point in enumerate(points, 1):
        if len(point) > limit:
            return [], f"第 {n} 条过长（{len(point)} 字，最多 {limit} 字）"
    return points, None


def _check(cells: dict[str, str], comp: Competition, before: int) -> tuple[dict[str, Any], dict[str, str]]:
    """One row as an archive case, and its problems by field (a row with problems is not imported)."""
    errors: dict[str, str] = {}
    year, problem = _year(cells.get("year", ""), before)
    if problem:
        errors["year"] = problem
    limits = {"title": originality.MAX_TITLE, "unit": originality.MAX_NAME, "background": originality.MAX_FIELD}
    for field, limit in limits.items():
        if len(cells.get(field, "")) > limit:
            errors[field] = f"过长（{len(cells[field])} 字，最多 {limit} 字）"
    if not cells.get("title"):
        errors["title"] = "请填写案例名称"
    by_name = {c.name: c.id for c in comp.categories} | {c.id: c.id for c in comp.categories}
    names = "、".join(c.name for c in comp.categories)
    category = cells.get("category", "")
    if not category:
        errors["category"] = f"请填写案例类别：{names}"
    elif category not in by_name:
        errors["category"] = f"“{category[:20]}”不是案例类别，可填：{names}"
    points = {}
    for field in POINTS:
        points[field], problem = _points(cells.get(field, ""), originality.MAX_FIELD)
        if problem:
            errors[field] = problem
    if not (cells.get("background") or cells.get("innovations") or cells.get("results")):
        errors["background"] = "案例背景、案例创新点、案例取得的成果至少填写一项（用于原创性比对）"
    if cells.get("title") == EXAMPLE["title"]:
        errors["title"] = "这是模板中的示例行，请删除或替换为往年案例后再导入"
    case = {"year": year, "title": cells.get("title", ""), "unit": cells.get("unit") or None,
            "category": by_name.get(category), "background": cells.get("background", ""), **points}
    return case, errors


def check_rows(comp: Competition, rows: list[tuple[int, dict[str, str]]]
               ) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """The (year, case) pairs, or every problem found (a pure function of the rows and the competition)."""
    before = originality.competition_year(comp)
    parsed: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    for number, cells in rows:
        case, problems = _check(cells, comp, before)
        errors.extend(RowError(number, field, LABEL[field], problems[field]) for field, _ in COLUMNS
                      if field in problems)
        if not problems:
            parsed.append((case.pop("year"), case))
    return parsed, errors


def import_workbook(comp: Competition, archive: ArchiveRepository, objects: OriginalityObjects,
                    principal: Principal, data: bytes, now: datetime) -> int:
    """Check every row, then store them all (or nothing). Returns how many cases were imported."""
    rows = read_rows(data)
    if not rows:
        raise Invalid("表格中没有往年案例：请从第二行起每行填写一个案例", {"file": "没有数据行"})
    parsed, errors = check_rows(comp, rows)
    if errors:
        raise RowsInvalid(errors)
    return originality.store_archive(comp, archive, objects, principal, parsed, now, "xlsx")
