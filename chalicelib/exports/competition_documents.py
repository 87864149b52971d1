"""The two Word files that `/` offers (chalicelib/domain/documents.py says what they hold), laid out as the offices
print them: A4, 仿宋 16 pt body on a 28 pt line, 方正小标宋简体 titles, 黑体 headings, 楷体 sub-headings (Word falls
back when a font is missing; the helpers are the 获奖名单's, award_list_docx.py).

Built ahead of time by scripts/make_downloads.py (`make downloads`), never in a request: python-docx lives in the
exports' layer only (infra/layers.py).
"""
from __future__ import annotations

import io
import zipfile
from datetime import datetime

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from ..domain.competition import CHINA, Competition
from ..domain.documents import Block, case_form_limits, case_form_rows
from .award_list_docx import _font, _paragraph

BODY = "仿宋_GB2312"
TITLE = "方正小标宋简体"
STYLES = {  # kind -> (font, size, alignment, first-line indent in characters)
    "title": (TITLE, 22, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "heading": ("黑体", 16, None, 2),
    "subheading": ("楷体_GB2312", 16, None, 2),
    "flush": (BODY, 16, None, 0),
    "paragraph": (BODY, 16, None, 2),
}
FIXED_TIME = datetime(2023, 5, 19, 9, 0, tzinfo=CHINA)     # the files' own dates: the day registration opened
WIDTHS_CM = (4.2, 11.4)   # the field's name, the space to fill in (A4 less the margins)
LINE_CM = 0.6           # one written line in a cell of the 说明书


def _a4(doc) -> None:
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY)


def _saved(doc, title: str, comp: Competition) -> bytes:
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "、".join(comp.hosts), "、".join(comp.hosts)
    props.created = props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    return _stamped(buffer.getvalue())


def _stamped(data: bytes) -> bytes:
    """The same package with every zip entry dated FIXED_TIME: a build of unchanged input is the same bytes,
    so `make downloads` leaves git alone."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME.timetuple()[:6]), source.read(info.filename),
                            zipfile.ZIP_DEFLATED)
    return out.getvalue()


def notice_docx(comp: Competition, blocks: tuple[Block, ...]) -> bytes:
    """The notice: its number centred above the title, then its paragraphs; `---` starts the attachment's page."""
    doc = Document()
    _a4(doc)
    number = str(comp.raw.get("notice_number") or "")
    if number:
        _paragraph(doc, number, BODY, 16, WD_ALIGN_PARAGRAPH.CENTER, space_after=16)
    title = next((b.text for b in blocks if b.kind == "title"), comp.name)
    for block in blocks:
        if block.kind == "page_break":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            continue
        font, size, align, indent = STYLES[block.kind]
        _paragraph(doc, block.text, font, size, align, space_after=16 if block.kind == "title" else 0,
                   indent_chars=indent)
    return _saved(doc, title, comp)


def case_form_docx(comp: Competition) -> bytes:
    """参赛案例说明书 as a two-column table (the field, the space to fill in), the limits stated beneath."""
    doc = Document()
    _a4(doc)
    title = f"{comp.name}参赛案例说明书"
    _paragraph(doc, title, TITLE, 18, WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.autofit = False
    for row in case_form_rows(comp):
        added = table.add_row()
        added.height = Cm(LINE_CM * max(row.lines, 1) + 0.3)
        added.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell, width in zip(added.cells, WIDTHS_CM):
            cell.width = Cm(width)
            cell.vertical_alignment = (WD_CELL_VERTICAL_ALIGNMENT.TOP if row.lines > 1
                                       else WD_CELL_VERTICAL_ALIGNMENT.CENTER)
        _font(added.cells[0].paragraphs[0].add_run(row.label), "黑体", 12)
        if row.hint:
            _font(added.cells[1].paragraphs[0].add_run(row.hint), BODY, 12)
    for column, width in zip(table.columns, WIDTHS_CM):
        column.width = Cm(width)
    _paragraph(doc, "", BODY, 12)
    _paragraph(doc, f"注：1. {case_form_limits(comp)}", BODY, 12)
    _paragraph(doc, "2. 本《说明书》仅供参考，请按要求在网上申报案例：登录帐号后，选择“案例—案例报送—新增案例”，"
               "按要求填报相关内容，上传完毕后进行提交即可完成报名。", BODY, 12, indent_chars=2)
    return _saved(doc, title, comp)


def document_text(data: bytes) -> list[str]:
    """What a reader sees in a .docx, in order: its paragraphs, then its tables' cells."""
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    texts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return texts
