"""省赛推荐名单 as a Word document (python-docx), in the layout of the 获奖名单 (award_list_docx.py): a title,
a table (序号, 案例类别, 奖项, 案例名称, 推荐单位, 牵头人, 推荐理由) in category and rank order, hosts and date."""
from __future__ import annotations

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

from .award_list_docx import _font, _paragraph, signed_and_saved
from .data import Progress, ProvincialList, no_progress

HEADERS = ("序号", "案例类别", "奖项", "案例名称", "推荐单位", "牵头人", "推荐理由")
WIDTHS_CM = (1.4, 2.2, 1.8, 5.6, 4.6, 2.2, 7.6)


def provincial_list_docx(book: ProvincialList, progress: Progress = no_progress) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.left_margin = section.right_margin = Cm(2.0)
    _paragraph(doc, f"{book.competition}省赛推荐名单", "方正小标宋简体", 20, WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    if not book.rows:
        _paragraph(doc, "（尚未推荐案例）", "仿宋_GB2312", 16, WD_ALIGN_PARAGRAPH.CENTER)
    else:
        table = doc.add_table(rows=1, cols=len(HEADERS))
        table.style = "Table Grid"
        for cell, header, width in zip(table.rows[0].cells, HEADERS, WIDTHS_CM):
            cell.width = Cm(width)
            _font(cell.paragraphs[0].add_run(header), "黑体", 12)
        for index, row in enumerate(book.rows, 1):
            values = (str(row.number), row.category, row.prize, row.title, row.unit, row.leader, row.reason)
            for cell, value, width in zip(table.add_row().cells, values, WIDTHS_CM):
                cell.width = Cm(width)
                _font(cell.paragraphs[0].add_run(value), "仿宋_GB2312", 12)
            progress(index / len(book.rows))
    return signed_and_saved(doc, book.hosts, book.date, f"{book.competition}省赛推荐名单", progress)
