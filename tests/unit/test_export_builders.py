"""The export builders on made-up rows (no AWS): formula injection, the certificate layout rules, the
shipped font, verification codes, and that none of the heavy libraries load on the API's cold start."""
from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from chalicelib.exports import data

ROOT = Path(__file__).resolve().parents[2]


def results_book(titles: list[str]) -> data.ResultsBook:
    rows = [data.ResultRow(i + 1, t, t, t, 90.0 - i, "一等奖", "是", "否", "综合评选") for i, t in enumerate(titles)]
    return data.ResultsBook("竞赛", "综合评选结果", [("发展提质", rows)])


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\")"])
def test_formula_like_text_stays_text(text):
    from chalicelib.exports.workbooks import results_workbook
    payload = results_workbook(results_book([text]))
    with zipfile.ZipFile(io.BytesIO(payload)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet
    cell = load_workbook(io.BytesIO(payload))["发展提质"]["B2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)


def test_plain_text_and_control_characters():
    from chalicelib.exports.workbooks import results_workbook
    payload = results_workbook(results_book(["普通标题", "含\x00控制\x07字符", "1+1=2"]))
    ws = load_workbook(io.BytesIO(payload))["发展提质"]
    assert [ws[f"B{r}"].value for r in (2, 3, 4)] == ["普通标题", "含控制字符", "1+1=2"]
    assert not ws["B2"].quotePrefix and not ws["B4"].quotePrefix


def test_progress_is_reported_up_to_done():
    from chalicelib.exports.workbooks import results_workbook
    seen: list[float] = []
    results_workbook(results_book([f"案例{i}" for i in range(1200)]), seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 3


def test_wrap_keeps_closing_punctuation_off_a_line_start():
    from chalicelib.exports.certificates_pdf import wrap
    lines = wrap(lambda ch: 1.0, "一二三四五”六七八九十，", 5.0, 0.0)
    assert lines == ["一二三四", "五”六七八", "九十，"]
    assert all(line[0] not in "，。”" for line in lines)
    assert wrap(lambda ch: 1.0, "一二三四“五六", 5.0, 0.0) == ["一二三四", "“五六"]
    assert wrap(lambda ch: 1.0, "一二三2023年", 5.0, 2.0) == ["一二三", "2023年"]
    assert wrap(lambda ch: 1.0, "", 5.0, 0.0) == []


def test_certificates_pdf_has_a_page_per_item():
    from pypdf import PdfReader

    from chalicelib.exports.certificates_pdf import certificates_pdf
    items = [data.CertificateItem("深圳市某某局", f"案例{i}", "发展提质", "一等奖", "ABCD-EFGH-IJKL",
                                  "http://127.0.0.1:8000/verify/ABCDEFGHIJKL") for i in range(3)]
    book = data.CertificateBook("竞赛", ("主办一", "主办二", "主办三", "主办四"), "2023年7月10日", items)
    reader = PdfReader(io.BytesIO(certificates_pdf(book)))
    assert len(reader.pages) == 3
    text = reader.pages[2].extract_text().replace("\x00", "")
    assert "案例2" in "".join(text.split()) and "主办四" in text


def test_the_font_is_a_small_subset_with_its_licence_beside_it():
    from fontTools.ttLib import TTFont

    from scripts.make_font_subset import gb2312_characters
    font_file = ROOT / "chalicelib" / "fonts" / "NotoSansSC-subset.otf"
    licence = ROOT / "chalicelib" / "fonts" / "LICENSE-OFL.txt"
    assert font_file.stat().st_size < 5 * 1024 * 1024
    text = licence.read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in text and "Reserved Font Name 'Source'" in text
    assert not [p for p in (ROOT / "chalicelib").rglob("*.ttc")]
    with TTFont(str(font_file)) as font:
        cmap = font.getBestCmap()
        names = {r.nameID: r.toUnicode() for r in font["name"].names}
    hanzi = [c for c in gb2312_characters() if "\u4e00" <= c <= "\u9fff"]
    assert len(hanzi) == 6763 and all(ord(c) in cmap for c in hanzi)
    needed = "荣誉证书特发此证以资鼓励：，。“”《》、（）—0123456789ABCXYZ-:/." \
             "中共深圳市直属机关工作委员会总工会共青团妇女联合会党建杯先锋杯"
    assert all(ord(c) in cmap for c in needed)
    assert "Source" not in names[1] and "Source" not in names[6]


def test_verification_codes():
    from chalicelib.services.certificates import code_for, display, normalise
    code = code_for("key", "case-1", "first")
    assert len(code) == 12 and code == code_for("key", "case-1", "first")
    assert code != code_for("key", "case-1", "second") != code_for("other", "case-1", "first")
    assert normalise(display(code).lower()) == code and normalise(f" {display(code)} ") == code
    assert normalise("<script>") is None and normalise(code + "A") is None and normalise("") is None


def test_the_api_cold_start_loads_no_export_library():
    probe = ("import sys, app; heavy = ('openpyxl', 'fpdf', 'docx', 'fontTools', 'PIL', 'lxml', 'pypdf'); "
             "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_progress_bar_text():
    from scripts.organiser import progress_bar
    assert progress_bar(0, "queued", 10) == "[----------]   0% 排队中"
    assert progress_bar(45, "running", 10) == "[####------]  45% 导出中"
    assert progress_bar(100, "done", 10) == "[##########] 100% 完成"
