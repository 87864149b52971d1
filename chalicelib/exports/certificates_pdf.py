"""荣誉证书 as one PDF: one A4 landscape page per awarded case (fpdf2).

The font is chalicelib/fonts/NotoSansSC-subset.otf (SIL OFL 1.1, licence beside it; made by
scripts/make_font_subset.py from Noto Sans CJK SC: GB2312 hanzi, ASCII, CJK punctuation). Lambda has no
system fonts, and the full collection (19 MB) would ride in every function's zip. fpdf2 reads its CFF
outlines (reportlab cannot) and embeds only the glyphs the document uses. A character outside the subset
(a rare hanzi in a unit's name) is logged; add it with `make_font_subset.py --extra-chars`.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Callable

from fpdf import FPDF

from .data import CertificateBook, CertificateItem, Progress, no_progress

log = logging.getLogger("saiping")
# In Lambda the font comes with the exports function's document layer (/opt/saiping-fonts, infra/layers.py:
# it is not in the code zip every function carries); in a checkout it is in chalicelib/fonts.
LAYER_FONT_DIR = Path("/opt/saiping-fonts")
FONT_DIR = LAYER_FONT_DIR if LAYER_FONT_DIR.is_dir() else Path(__file__).resolve().parents[1] / "fonts"
FONT_FILE = FONT_DIR / "NotoSansSC-subset.otf"
FONT = "notosc"
RED = (178, 34, 34)
GOLD = (191, 148, 56)
INK = (33, 33, 33)
GREY = (110, 110, 110)
PAGE_W, PAGE_H = 297.0, 210.0


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """The code points the shipped font has (checked once per process)."""
    from fontTools.ttLib import TTFont
    with TTFont(str(FONT_FILE), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_characters(book: CertificateBook) -> set[str]:
    have = covered()
    text = "".join([book.competition, book.date, *book.hosts,
                    *(f"{i.unit}{i.title}{i.category}{i.prize}{i.code}{i.verify_url}" for i in book.items)])
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in have}


class _Certificate(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.add_font(FONT, "", str(FONT_FILE))
        self.set_creator("saiping")


def certificates_pdf(book: CertificateBook, progress: Progress = no_progress) -> bytes:
    missing = missing_characters(book)
    if missing:
        log.warning("certificate font lacks %d characters: %s", len(missing), "".join(sorted(missing)))
    pdf = _Certificate()
    pdf.set_title(f"{book.competition} 荣誉证书")
    pdf.set_author("、".join(book.hosts))
    total = len(book.items) or 1
    for done, item in enumerate(book.items, 1):
        _page(pdf, book, item)
        if done % 5 == 0:
            progress(done / total * 0.9)
    if not book.items:
        pdf.add_page()
    data = bytes(pdf.output())
    progress(1.0)
    return data


NO_LINE_START = set("，。、；：？！”’）》」』】〕…—·%,.;:?!)]}")
NO_LINE_END = set("“‘（《「『【〔([{")


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def wrap(measure: Callable[[str], float], text: str, width: float, indent: float) -> list[str]:
    """Lines of CJK text no wider than `width` (the first `indent` narrower), breaking between any two
    characters except: no closing punctuation at a line's start, no opening one at its end (禁则), and a
    run of Latin letters or digits (2023, ABC) stays whole when it fits on a line."""
    widths: dict[str, float] = {}
    size = lambda ch: widths[ch] if ch in widths else widths.setdefault(ch, measure(ch))  # noqa: E731
    lines: list[str] = []
    current: list[str] = []
    used = indent
    for ch in text:
        if current and used + size(ch) > width:
            carry: list[str] = []
            if ch in NO_LINE_START and len(current) > 1:
                carry.append(current.pop())
            while len(current) > 1 and current[-1] in NO_LINE_END:
                carry.insert(0, current.pop())
            if _latin(ch) and not carry:
                run = len(current)
                while run > 0 and _latin(current[run - 1]):
                    run -= 1
                if 0 < run < len(current):
                    carry, current = current[run:], current[:run]
            lines.append("".join(current))
            current, used = carry, sum(size(c) for c in carry)
        current.append(ch)
        used += size(ch)
    if current:
        lines.append("".join(current))
    return lines


def _page(pdf: FPDF, book: CertificateBook, item: CertificateItem) -> None:
    pdf.add_page()
    # frame: a broad gold line and a thin red one inside it
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(2.2)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.5)
    pdf.rect(15, 15, PAGE_W - 30, PAGE_H - 30)

    pdf.set_text_color(*RED)
    pdf.set_font(FONT, size=46)
    pdf.set_xy(0, 30)
    pdf.cell(PAGE_W, 20, "荣誉证书", align="C")

    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=20)
    left, width, line = 38.0, PAGE_W - 76.0, 12.0
    y = 64.0
    for text in wrap(pdf.get_string_width, f"{item.unit}：", width, 0.0):
        pdf.set_xy(left, y)
        pdf.cell(width, line, text)
        y += line
    indent = 2 * pdf.get_string_width("中")
    for paragraph in (f"贵单位推报的案例《{item.title}》在{book.competition}中，荣获{item.category}类{item.prize}。",
                      "特发此证，以资鼓励。"):
        for number, text in enumerate(wrap(pdf.get_string_width, paragraph, width, indent)):
            pdf.set_xy(left + (indent if number == 0 else 0.0), y)
            pdf.cell(width, line, text)
            y += line

    # the four host organisations and the date, bottom right
    pdf.set_font(FONT, size=13)
    hosts = list(book.hosts)
    y = PAGE_H - 30 - 7.5 * (len(hosts) + 1)
    for host in hosts:
        pdf.set_xy(PAGE_W - 40 - 110, y)
        pdf.cell(110, 7.5, host, align="R")
        y += 7.5
    pdf.set_xy(PAGE_W - 40 - 110, y)
    pdf.cell(110, 7.5, book.date, align="R")

    # verification, bottom left
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, size=9)
    pdf.set_xy(22, PAGE_H - 33)
    pdf.cell(130, 5, f"证书验证码：{item.code}", align="L")
    pdf.set_xy(22, PAGE_H - 28)
    pdf.cell(130, 5, f"核验网址：{item.verify_url}", align="L")
