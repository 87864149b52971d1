"""Judges from a spreadsheet: the .xlsx template (Chinese headers) and the all-or-nothing import.

Every row is checked (the same rules as POST /admin/judges, plus no e-mail twice in the file or already
among the judges) before anything is written; one bad row imports nothing, and the answer lists every
problem by row number (as Excel numbers it) and column. openpyxl is imported here only, lazily.
"""
from __future__ import annotations

from datetime import datetime
import re
from typing import Any

from ..domain.clock import epoch
from ..domain.competition import Competition
from ..domain.errors import Invalid
from ..domain.judges import parse_judge
from ..security import new_id
from ..domain.judging_record import Judge
from . import workbook_rows
from .repositories import JudgingRepository
from .workbook_rows import RowError, Workbook

SHEET = "评委名单"
COLUMNS = (("name", "姓名"), ("email", "电子邮箱"), ("mobile", "手机"), ("affiliation", "工作单位"),
           ("categories", "评审类别"), ("conflicts", "回避单位"))
HEADER = {header: field for field, header in COLUMNS}
LABEL = dict(COLUMNS)
REQUIRED = ("姓名", "电子邮箱", "工作单位", "评审类别")
SEPARATORS = re.compile(r"[、,，;；/\n]+")
MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
WORKBOOK = Workbook(SHEET, HEADER, REQUIRED, MAX_BYTES, MAX_ROWS, "评委名单模板",
                    empty="请上传评委名单 .xlsx 文件（请求体为空）", too_large="请删去多余内容后重新上传",
                    too_many=f"一次最多导入 {MAX_ROWS} 位评委，请分多个文件导入")


class RowsInvalid(workbook_rows.RowsInvalid):
    def __init__(self, rows: list[RowError]):
        super().__init__(rows, "评委")


# -- the template ---------------------------------------------------------------------------------

def template(comp: Competition) -> bytes:
    names = "、".join(c.name for c in comp.categories)
    notes = {"姓名": "必填", "电子邮箱": "必填，评分链接发到这个邮箱", "手机": "选填，11 位手机号",
             "工作单位": "必填；不评本单位推荐的案例（回避）",
             "评审类别": f"必填，可多选，用“、”分隔：{names}", "回避单位": "选填，需回避的其他单位，多个用“、”分隔"}
    headers = [header for _, header in COLUMNS]
    widths = {h: 24 if h in ("电子邮箱", "工作单位", "评审类别", "回避单位") else 14 for h in headers}
    book, sheet = workbook_rows.template_book(SHEET, headers, notes, widths)
    sheet.column_dimensions[sheet.cell(row=1, column=headers.index("手机") + 1).column_letter].number_format = "@"
    # (a typed mobile number stays text: no 1.38E+10)
    return workbook_rows.template_bytes(book, [
        "评委名单导入说明",
        "1. 在“评委名单”工作表中每行填写一位评委，不要修改第一行的表头。",
        "2. 姓名、电子邮箱、工作单位、评审类别为必填；手机、回避单位选填。",
        f"3. 评审类别填写类别名称，可填多个，用“、”分隔：{names}。",
        "4. 回避单位填写评委需要回避的单位全称，多个用“、”分隔；评委也不会评审其工作单位推荐的案例。",
        "5. 上传后逐行校验：任何一行有错误时不会导入任何评委，请按提示修改后重新上传整个文件。",
        "6. 电子邮箱不能与表中其他行或已有评委重复。",
    ], 100)


# -- the import -----------------------------------------------------------------------------------

def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(Excel row number, {field: text}) for every non-empty row under the header row."""
    return workbook_rows.read_rows(data, WORKBOOK)


def _categories(text: str, comp: Competition) -> tuple[list[str], str | None]:
    by_name = {c.name: c.id for c in comp.categories} | {c.id: c.id for c in comp.categories}
    names = "、".join(c.name for c in comp.categories)
    tokens = [t.strip() for t in SEPARATORS.split(text) if t.strip()]
    if not tokens:
        return [], f"请填写评审类别（{names}，多个用“、”分隔）"
    unknown = [t for t in tokens if t not in by_name]
    if unknown:
        return [], f"“{'、'.join(unknown)}”不是评审类别，可填：{names}"
    return [by_name[t] for t in tokens], None


def check_rows(comp: Competition, rows: list[tuple[int, dict[str, str]]],
               existing: list[Judge]) -> tuple[list[Any], list[RowError]]:
    """The parsed judges, or every problem found (a pure function of the rows and the existing judges)."""
    errors: list[RowError] = []
    parsed = []
    taken = {j.email.lower(): j.name for j in existing}
    seen: dict[str, int] = {}
    for number, cells in rows:
        categories, category_error = _categories(cells.get("categories", ""), comp)
        raw = {"name": cells.get("name", ""), "email": cells.get("email", ""),
               "mobile": cells.get("mobile") or None, "affiliation": cells.get("affiliation", ""),
               "categories": categories or ["?"],  # the category problem is reported in Chinese below
               "conflicts": [t.strip() for t in SEPARATORS.split(cells.get("conflicts", "")) if t.strip()]}
        row_errors: dict[str, str] = {}
        try:
            data = parse_judge(raw, comp.category_ids)
        except Invalid as exc:
            row_errors.update(exc.fields or {})
            data = None
        row_errors.pop("categories", None)
        if category_error:
            row_errors["categories"] = category_error
        email = cells.get("email", "").strip().lower()
        if email and "email" not in row_errors:
            if email in seen:
                row_errors["email"] = f"与第 {seen[email]} 行的电子邮箱重复"
            elif email in taken:
                row_errors["email"] = f"已有使用该电子邮箱的评委（{taken[email]}），请勿重复导入"
            seen.setdefault(email, number)
        for field, _ in COLUMNS:
            if field in row_errors:
                errors.append(RowError(number, field, LABEL[field], row_errors[field]))
        if not row_errors and data is not None:
            parsed.append(data)
    return parsed, errors


def import_judges(judging: JudgingRepository, comp: Competition, data: bytes, actor: str, now: datetime) -> list[Judge]:
    rows = read_rows(data)
    if not rows:
        raise Invalid("表格中没有评委数据：请从第二行起每行填写一位评委", {"file": "没有数据行"})
    parsed, errors = check_rows(comp, rows, judging.list_judges(comp.id))
    if errors:
        raise RowsInvalid(errors)
    judges = [Judge(comp.id, new_id(), name=d.name, email=d.email, mobile=d.mobile, affiliation=d.affiliation,
                    categories=tuple(d.categories), conflicts=tuple(d.conflicts), created_at=epoch(now),
                    updated_at=epoch(now))
              for d in parsed]
    judging.save_judges(judges, actor, epoch(now))
    return judges
