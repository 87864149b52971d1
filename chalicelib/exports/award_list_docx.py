"""获奖名单 as a Word document (python-docx), laid out to paste into the joint commendation:
a title, then per category (一、发展提质 …) per prize (一等奖（5个）) the winning cases in rank order,
"案例名称（推荐单位）", numbered; last the 优秀组织奖 section (the units the organisers chose). Official-document
fonts: 方正小标宋简体 for the title, 黑体 for category headings, 楷体 for prize headings, 仿宋 for the list (Word
falls back when a font is missing).
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from .data import AwardList, Progress, no_progress

NUMERALS = "一二三四五六七八九十"


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    r_pr = run._element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(r_fonts)
    r_fonts.set(qn("w:eastAsia"), name)


def _paragraph(doc, text: str, font: str, size: float, align=None, bold: bool = False, space_after: float = 0,
               indent_chars: int = 0):
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_after = Pt(space_after)
    fmt.space_before = Pt(0)
    fmt.line_spacing = Pt(28)
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
    _font(paragraph.add_run(text), font, size, bold)
    return paragraph


def _numeral(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


def _organisation_section(doc, award_list: AwardList, number: int) -> None:
    """X、优秀组织奖（n个）, then the chosen units numbered, after the categories."""
    units = award_list.organisation_units
    heading = f"{_numeral(number)}、优秀组织奖" + (f"（{len(units)}个）" if units else "")
    _paragraph(doc, heading, "黑体", 16, indent_chars=2)
    if units is None:
        _paragraph(doc, "（优秀组织奖名单尚未确定）", "仿宋_GB2312", 16, indent_chars=2)
    elif not units:
        _paragraph(doc, "（无）", "仿宋_GB2312", 16, indent_chars=2)
    for index, unit in enumerate(units or [], 1):
        _paragraph(doc, f"{index}. {unit}", "仿宋_GB2312", 16, indent_chars=2)


def award_list_docx(award_list: AwardList, progress: Progress = no_progress) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = "仿宋_GB2312"
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")

    _paragraph(doc, f"{award_list.competition}获奖名单", "方正小标宋简体", 22, WD_ALIGN_PARAGRAPH.CENTER,
               space_after=16)
    total = sum(len(entries) for _, prizes in award_list.groups for _, entries in prizes) or 1
    done = 0
    for index, (category, prizes) in enumerate(award_list.groups, 1):
        _paragraph(doc, f"{_numeral(index)}、{category}", "黑体", 16, indent_chars=2)
        for prize, entries in prizes:
            _paragraph(doc, f"{prize}（{len(entries)}个）", "楷体_GB2312", 16, indent_chars=2)
            for number, entry in enumerate(entries, 1):
                _paragraph(doc, f"{number}. {entry.title}（{entry.unit}）", "仿宋_GB2312", 16, indent_chars=2)
                done += 1
            progress(done / total)
    if not award_list.groups:
        _paragraph(doc, "（暂无获奖案例）", "仿宋_GB2312", 16, WD_ALIGN_PARAGRAPH.CENTER)
    _organisation_section(doc, award_list, len(award_list.groups) + 1)
    return signed_and_saved(doc, award_list.hosts, award_list.date, f"{award_list.competition}获奖名单", progress)


def signed_and_saved(doc, hosts: list[str] | tuple[str, ...], date: str, title: str, progress: Progress) -> bytes:
    """The hosts and the date at the foot, right-aligned as an official list ends; the file's title and author."""
    _paragraph(doc, "", "仿宋_GB2312", 16)
    for host in hosts:
        _paragraph(doc, host, "仿宋_GB2312", 16, WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, date, "仿宋_GB2312", 16, WD_ALIGN_PARAGRAPH.RIGHT)
    doc.core_properties.title = title
    doc.core_properties.author = "、".join(hosts)
    buffer = io.BytesIO()
    doc.save(buffer)
    progress(1.0)
    return buffer.getvalue()
