"""The rows of an uploaded .xlsx import (the judges' list, earlier years' cases): one reader for both.

The workbook's sheet is found by name (else the first), its header row mapped to fields by the Chinese
headers, and every non-empty row under it returned with its Excel row number, so the import can report
each problem by row and column. openpyxl is imported here only, lazily (never on the API's cold path).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Mapping

from ..domain.errors import Invalid, TooLarge


@dataclass(frozen=True)
class Workbook:
    """What one import expects of its upload, and the words its refusals use."""
    sheet: str                       # the template's sheet name
    header: Mapping[str, str]        # header text -> field
    required: tuple[str, ...]        # headers that must be there
    max_bytes: int
    max_rows: int
    template: str                    # "往年案例模板": what to download and fill in again
    empty: str                       # the refusal of an empty upload
    too_large: str                   # what to do with a file over max_bytes
    too_many: str                    # the refusal past max_rows


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes, shape: Workbook) -> list[tuple[int, dict[str, str]]]:
    """(Excel row number, {field: text}) for every non-empty row under the header row."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    if not data:
        raise Invalid(shape.empty, {"file": "文件为空"})
    if len(data) > shape.max_bytes:
        raise TooLarge(f"文件过大（超过 {shape.max_bytes // 1024 // 1024} MB），{shape.too_large}")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError) as exc:
        raise Invalid(f"文件不是有效的 .xlsx 表格，请使用下载的{shape.template}（Excel 2007 及以上格式）",
                      {"file": "不是有效的 .xlsx 文件"}) from exc
    except Exception as exc:  # openpyxl raises its own InvalidFileException and others for broken files
        raise Invalid(f"文件无法读取，请使用下载的{shape.template}重新填写", {"file": "无法读取"}) from exc
    try:
        sheet = book[shape.sheet] if shape.sheet in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [cell_text(v) for v in next(rows, ())]
        columns = {shape.header[h]: i for i, h in enumerate(header) if h in shape.header}
        missing = [h for h in shape.required if shape.header[h] not in columns]
        if missing:
            raise Invalid(f"第一行缺少表头：{'、'.join(missing)}。请使用下载的模板，不要修改表头",
                          {"file": "缺少表头 " + "、".join(missing)})
        found: list[tuple[int, dict[str, str]]] = []
        for number, values in enumerate(rows, 2):
            cells = {field: cell_text(values[i]) if i < len(values) else "" for field, i in columns.items()}
            if not any(cells.values()):
                continue
            if len(found) >= shape.max_rows:
                raise Invalid(shape.too_many, {"file": "行数过多"})
            found.append((number, cells))
        return found
    finally:
        book.close()


@dataclass(frozen=True)
class RowError:
    row: int
    column: str      # the field of the import's columns (or "file")
    field: str       # the column's Chinese header
    message: str

    def view(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "field": self.field, "message": self.message}


class RowsInvalid(Invalid):
    """A refused import: `rows` lists every problem; nothing was imported. `what`: 评委, 往年案例."""

    def __init__(self, rows: list[RowError], what: str):
        first = rows[0]
        where = f"第 {first.row} 行“{first.field}”：" if first.row else ""
        super().__init__(f"未导入任何{what}：共 {len(rows)} 处错误，{where}{first.message}。请修改后重新上传整个文件",
                         {f"rows[{e.row}].{e.column}": e.message for e in rows})
        self.rows = rows


def template_book(sheet_title: str, headers: list[str], notes: Mapping[str, str], widths: Mapping[str, int]) -> Any:
    """An import template: a workbook whose first sheet has the styled header row (each header's rule as its
    comment, the column's width), frozen under it. Returns (workbook, sheet)."""
    from openpyxl import Workbook as Book
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Book()
    sheet = book.active
    sheet.title = sheet_title
    sheet.append(headers)
    for index, header in enumerate(headers, 1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B3261E")
        cell.alignment = Alignment(horizontal="center")
        cell.comment = Comment(notes[header], "saiping")
        sheet.column_dimensions[cell.column_letter].width = widths[header]
    sheet.freeze_panes = "A2"
    return book, sheet


def template_bytes(book: Any, guide: list[str], guide_width: int) -> bytes:
    """The template with its 填写说明 sheet (one line a row), as .xlsx bytes."""
    sheet = book.create_sheet("填写说明")
    for line in guide:
        sheet.append([line])
    sheet.column_dimensions["A"].width = guide_width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
