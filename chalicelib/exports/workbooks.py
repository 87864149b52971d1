"""The xlsx exports (openpyxl write-only: rows stream to a temporary file, so 10,000 cases stay small).

Every sheet: Chinese headers in a bold, frozen first row; column widths; print setup for A4 landscape,
fitted to the page width, the header row repeated on every page, the competition's name in the page
header and page numbers in the footer.

Text a user typed can start with = + - @ (or a tab / carriage return), which Excel would take for a
formula ("formula injection"). Such cells are written as text with Excel's quote prefix: shown exactly as
typed, never evaluated (`safe_text`).
"""
from __future__ import annotations

import io
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from .data import (
    HonorsBook, OrganisationAwardsBook, Progress, ProvincialList, RegistrationsBook, ResultsBook, ScoresBook,
    no_progress,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
WRAP = Alignment(wrap_text=True, vertical="top")
PROGRESS_EVERY = 500


def _header_cells(ws: Any, headers: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


def safe_text(ws: Any, value: str) -> Any:
    """A string cell that can never be a formula: plain when harmless, quote-prefixed text otherwise.
    Control characters XML cannot carry are dropped (openpyxl would refuse the whole row)."""
    if value and ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value and value.startswith(FORMULA_STARTS):
        cell = WriteOnlyCell(ws)
        cell._value = value            # bypass openpyxl's "starts with = is a formula" inference
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def _sheet(wb: Workbook, title: str, headers: Sequence[str], widths: Sequence[float], competition: str,
           subtitle: str) -> Any:
    ws = wb.create_sheet(title=_sheet_title(title))
    for index, width in enumerate(widths):
        ws.column_dimensions[_column(index)].width = width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"          # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddHeader.center.text = f"{competition}　{subtitle}"[:250].replace("&", "&&")
    ws.oddHeader.center.size = 10
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.right.text = title.replace("&", "&&")
    ws.append(_header_cells(ws, headers))
    return ws


def _number_cell(ws: Any, number_format: str) -> WriteOnlyCell:
    """One styled cell reused row after row: write-only mode writes it out during `append`, so setting its
    value for the next row is safe, and the style is resolved once instead of 10,000 times."""
    cell = WriteOnlyCell(ws)
    cell.number_format = number_format
    return cell


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(index + 1)


def _sheet_title(title: str) -> str:
    for ch in '[]:*?/\\':
        title = title.replace(ch, "_")
    return title[:31] or "Sheet"


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _report(progress: Progress, done: int, total: int) -> None:
    if total and done % PROGRESS_EVERY == 0:
        progress(done / total)


# -- results_xlsx ---------------------------------------------------------------------------------
RESULT_HEADERS = ("名次", "案例名称", "推荐单位", "牵头人", "得分", "奖项", "入围", "推荐省赛", "排名依据")
RESULT_WIDTHS = (7, 46, 30, 12, 9, 9, 7, 9, 11)


def results_workbook(book: ResultsBook, progress: Progress = no_progress) -> bytes:
    wb = Workbook(write_only=True)
    total = sum(len(rows) for _, rows in book.sheets) or 1
    done = 0
    for name, rows in book.sheets:
        ws = _sheet(wb, name, RESULT_HEADERS, RESULT_WIDTHS, book.competition, f"{book.subtitle}　{name}")
        score = _number_cell(ws, "0.00")
        for row in rows:
            score.value = row.score
            ws.append([row.rank, safe_text(ws, row.title), safe_text(ws, row.unit), safe_text(ws, row.leader),
                       score, row.prize, row.advanced, row.provincial, row.basis])
            done += 1
            _report(progress, done, total)
    if not book.sheets:
        _sheet(wb, "结果", RESULT_HEADERS, RESULT_WIDTHS, book.competition, book.subtitle)
    progress(1.0)
    return _save(wb)


# -- scores_xlsx ----------------------------------------------------------------------------------
SCORE_FIXED = ("类别", "案例编号", "案例名称", "推荐单位", "评委编号", "评委")
SCORE_TAIL = ("合计", "状态", "计入排名", "评语")
SUMMARY_HEADERS = ("阶段", "类别", "名次", "案例编号", "案例名称", "有效评分数", "得分（聚合）", "全部评分平均",
                   "成效性/实效性平均", "并列", "结果")


def scores_workbook(book: ScoresBook, progress: Progress = no_progress) -> bytes:
    wb = Workbook(write_only=True)
    headers = [*SCORE_FIXED, *(c.header for c in book.columns), *SCORE_TAIL]
    widths = [9, 14, 40, 26, 14, 10, *(12 for _ in book.columns), 8, 7, 9, 40]
    total = sum(len(rows) for _, rows in book.stages) + len(book.summary) or 1
    done = 0
    for stage_name, rows in book.stages:
        ws = _sheet(wb, stage_name, headers, widths, book.competition, f"评分明细　{stage_name}")
        criterion_cells = [_number_cell(ws, "0.0") for _ in book.columns]
        total_cell = _number_cell(ws, "0.0")
        for row in rows:
            values: list[Any] = [row.category, row.case_id, safe_text(ws, row.title), safe_text(ws, row.unit),
                                 row.judge_id, safe_text(ws, row.judge)]
            for column, cell in zip(book.columns, criterion_cells):
                cell.value = next((row.criteria[i] for i in column.ids if i in row.criteria), None)
                values.append(cell)
            total_cell.value = row.total
            values += [total_cell, row.state, row.counted, safe_text(ws, row.comment)]
            ws.append(values)
            done += 1
            _report(progress, done, total)
    ws = _sheet(wb, "排名汇总", SUMMARY_HEADERS, (9, 9, 6, 14, 40, 10, 12, 12, 16, 6, 10), book.competition,
                "排名汇总（由评分明细按说明计算）")
    means = [_number_cell(ws, "0.00") for _ in range(3)]
    for line in book.summary:
        for cell, value in zip(means, (line.score, line.plain_mean, line.tie_break_mean)):
            cell.value = value
        ws.append([line.stage, line.category, line.rank, line.case_id, safe_text(ws, line.title), line.scores_count,
                   *means, line.tie, line.outcome])
        done += 1
        _report(progress, done, total)
    ws = _sheet(wb, "说明", ("项目", "说明"), (22, 110), book.competition, "计分与排名规则说明")
    for item, text in book.rules:
        explanation = WriteOnlyCell(ws, text)
        explanation.alignment = WRAP
        ws.append([item, explanation])
    progress(1.0)
    return _save(wb)


# -- registrations_xlsx ---------------------------------------------------------------------------
ACCOUNT_HEADERS = ("用户名", "单位名称", "单位类型", "所属区", "联系人", "电子邮箱", "手机", "注册时间",
                   "案例数", "已提交案例数")
CASE_HEADERS = ("单位名称", "用户名", "案例编号", "案例名称", "类别", "推荐单位", "状态", "奖项", "提交时间",
                "牵头人", "牵头人手机", "联系人", "联系人手机", "字数")


def registrations_workbook(book: RegistrationsBook, progress: Progress = no_progress) -> bytes:
    wb = Workbook(write_only=True)
    total = len(book.accounts) + len(book.cases) or 1
    done = 0
    ws = _sheet(wb, "单位帐号", ACCOUNT_HEADERS, (14, 30, 8, 10, 10, 26, 13, 17, 7, 11), book.competition,
                "报名单位")
    for a in book.accounts:
        ws.append(_texts(ws, a, numeric=("cases", "entered")))
        done += 1
        _report(progress, done, total)
    ws = _sheet(wb, "案例", CASE_HEADERS, (26, 14, 14, 40, 9, 26, 12, 8, 17, 9, 13, 9, 13, 7), book.competition,
                "报名案例")
    for c in book.cases:
        ws.append(_texts(ws, c, numeric=("chars",)))
        done += 1
        _report(progress, done, total)
    progress(1.0)
    return _save(wb)


def _texts(ws: Any, row: Any, numeric: Iterable[str]) -> list[Any]:
    """A row's cells: the named fields as numbers, every other through `safe_text` (never a formula)."""
    numbers = set(numeric)
    return [value if name in numbers else safe_text(ws, value or "")
            for name, value in zip(row._fields, row)]


# -- honors_xlsx ----------------------------------------------------------------------------------
NOMINATION_HEADERS = ("荣誉", "牵头人", "案例名称", "类别", "名次", "推荐单位", "牵头人手机")
HONOR_HEADERS = ("提名", "类别", "名次", "案例名称", "推荐单位", "牵头人", "牵头人职务", "牵头人性别", "牵头人职级",
                 "牵头人出生日期", "牵头人手机", "符合条件", "说明")


def honors_workbook(book: HonorsBook, progress: Progress = no_progress) -> bytes:
    """提名汇总 (every nominee), then one sheet per honor: each case considered for it, nominees first,
    with whether it meets the honor's rules on its own and why (the sheet sent to the honor's body)."""
    wb = Workbook(write_only=True)
    ws = _sheet(wb, "提名汇总", NOMINATION_HEADERS, (20, 10, 40, 9, 6, 30, 13), book.competition, "每项荣誉的提名人选")
    for nominee in book.nominations:
        ws.append(_texts(ws, nominee, numeric=("rank",)))
    total = sum(len(rows) for _, rows in book.honors) or 1
    done = 0
    for honor, rows in book.honors:
        ws = _sheet(wb, honor, HONOR_HEADERS, (6, 10, 6, 40, 28, 10, 12, 9, 11, 14, 13, 9, 46), book.competition,
                    f"{honor}　提名人选及审核情况")
        for row in rows:
            reason = WriteOnlyCell(ws, row.reason)          # the system's own words, never a formula
            reason.alignment = WRAP
            ws.append([*_texts(ws, row, numeric=("rank",))[:-1], reason])
            done += 1
        progress(done / total)
    progress(1.0)
    return _save(wb)


# -- organisation_awards_xlsx ---------------------------------------------------------------------
ORGANISATION_HEADERS = ("名次", "推荐单位", "案例数", "提交案例数", "进入综合评选数", "一等奖", "二等奖", "三等奖",
                        "得分", "系统建议", "选定")


def organisation_awards_workbook(book: OrganisationAwardsBook, progress: Progress = no_progress) -> bytes:
    """优秀组织奖: 各单位统计 (every unit's figures, best first, suggested and chosen marked), 获奖单位 (the
    organisers' final list) and 说明 (how the score is made)."""
    wb = Workbook(write_only=True)
    state = "" if book.chosen is not None else "（最终名单尚未保存）"
    ws = _sheet(wb, "各单位统计", ORGANISATION_HEADERS, (6, 36, 8, 10, 14, 8, 8, 8, 8, 9, 7), book.competition,
                f"优秀组织奖　各推荐单位统计{state}")
    for row in book.rows:
        ws.append(_texts(ws, row, numeric=("rank", "cases", "submitted", "advanced", "first", "second", "third",
                                           "score")))
    progress(0.6)
    ws = _sheet(wb, "获奖单位", ("序号", "推荐单位"), (8, 50), book.competition, f"优秀组织奖获奖单位{state}")
    if book.chosen is None:
        ws.append(["", "（最终名单尚未保存：请在“优秀组织奖”页面勾选并保存后重新导出）"])
    for number, unit in enumerate(book.chosen or [], 1):
        ws.append([number, safe_text(ws, unit)])
    ws = _sheet(wb, "说明", ("项目", "说明"), (22, 110), book.competition, "优秀组织奖统计说明")
    for item, text in book.rules:
        explanation = WriteOnlyCell(ws, text)
        explanation.alignment = WRAP
        ws.append([item, explanation])
    progress(1.0)
    return _save(wb)


# -- provincial_list_xlsx -------------------------------------------------------------------------
PROVINCIAL_HEADERS = ("序号", "案例类别", "名次", "奖项", "案例名称", "推荐单位", "牵头人", "牵头人职务", "牵头人手机",
                      "推荐理由")


def provincial_workbook(book: ProvincialList, progress: Progress = no_progress) -> bytes:
    """省赛推荐名单: the cases the organisers recommend to the provincial competition, by category and rank."""
    wb = Workbook(write_only=True)
    ws = _sheet(wb, "省赛推荐名单", PROVINCIAL_HEADERS, (6, 10, 6, 8, 40, 28, 10, 12, 13, 50), book.competition,
                "省赛推荐名单")
    for row in book.rows:
        cells = _texts(ws, row, numeric=("number", "rank"))
        reason = WriteOnlyCell(ws, cells[-1]) if isinstance(cells[-1], str) else cells[-1]
        reason.alignment = WRAP
        ws.append([*cells[:-1], reason])
    if not book.rows:
        ws.append(["", "（尚未推荐案例）"])
    progress(1.0)
    return _save(wb)
