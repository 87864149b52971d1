"""The deeper content check of a stored attachment: each rule over files built with real libraries (fpdf2,
Pillow, python-docx, zlib/struct), read in pieces as the service reads an object from S3."""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator

import pytest
from docx import Document
from fpdf import FPDF
from PIL import Image

from chalicelib.domain.attachments import (
    EXECUTABLE_FOUND, HEAD_BYTES, MP4_WINDOW_BYTES, TAIL_BYTES, mp4_problem, ooxml_problem, stream_problem,
)

# A Windows executable's first bytes: MZ, e_lfanew (at 0x3C) = 0x80, the DOS stub, PE\0\0 at 0x80.
PE_HEADER = 0x80
EXE = (b"MZ\x90\x00" + b"\x00" * (0x3C - 4) + struct.pack("<I", PE_HEADER)
       + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21" + b"\x00" * (PE_HEADER - 0x40 - 9)
       + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 20


def pieces(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at:at + size]


def streamed(extension: str, data: bytes, size: int = 1000) -> str | None:
    return stream_problem(extension, pieces(data, size))


def pdf_bytes(**extra) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="Party building case 2023")
    if "embed" in extra:
        pdf.embed_file(basename="tool.txt", bytes=extra["embed"])
    return bytes(pdf.output())


def with_object(pdf: bytes, body: bytes) -> bytes:
    """A PDF with one more indirect object before its cross-reference table (as a tool would write it)."""
    at = pdf.rindex(b"xref")
    return pdf[:at] + b"99 0 obj\n" + body + b"\nendobj\n" + pdf[at:]


def noise_image(mode: str = "RGB", side: int = 128) -> Image.Image:
    rng = random.Random(2023)
    return Image.frombytes(mode, (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * len(mode))))


def jpeg_bytes(**options) -> bytes:
    buffer = io.BytesIO()
    noise_image().save(buffer, "JPEG", quality=85, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int = 64, height: int = 32) -> bytes:
    """A PNG built by hand: signature, IHDR, one IDAT of zlib-compressed rows, IEND."""
    rows = b"".join(b"\x00" + bytes((x * 4 + y) % 256 for x in range(width * 3)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def docx_bytes(extra: dict[str, bytes] | None = None) -> bytes:
    document = Document()
    document.add_paragraph("党建引领 创新创优")
    buffer = io.BytesIO()
    document.save(buffer)
    if not extra:
        return buffer.getvalue()
    with zipfile.ZipFile(buffer, "a") as archive:
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ooxml(extension: str, data: bytes) -> str | None:
    """As the service reads it: the first HEAD_BYTES and the last TAIL_BYTES."""
    return ooxml_problem(extension, data[:HEAD_BYTES], data[-TAIL_BYTES:])


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(mdat: int = 3 * MP4_WINDOW_BYTES) -> bytes:
    return (box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
            + box(b"moov", box(b"mvhd", b"\x00" * 100)) + box(b"mdat", b"\x01" * mdat))


def walk_mp4(data: bytes, reads: list[tuple[int, int]] | None = None) -> str | None:
    def read(at: int, length: int) -> bytes:
        if reads is not None:
            reads.append((at, length))
        return data[at:at + length]
    return mp4_problem(len(data), read)


# -- PDF -------------------------------------------------------------------------------------------

def test_pdf_from_fpdf2_passes() -> None:
    data = pdf_bytes()
    assert streamed("pdf", data) is None
    assert streamed("pdf", data, size=7) is None


def test_pdf_carrying_a_windows_executable_is_refused() -> None:
    data = with_object(pdf_bytes(), b"<< /Length %d >>\nstream\n" % len(EXE) + EXE + b"\nendstream")
    assert streamed("pdf", data) == EXECUTABLE_FOUND


def test_pdf_executable_cut_across_two_pieces_is_still_found() -> None:
    data = with_object(pdf_bytes(), b"stream\n" + EXE + b"\nendstream")
    at = data.index(b"MZ\x90")
    for cut in (at + 1, at + 0x3D, at + PE_HEADER + 2):
        assert stream_problem("pdf", iter([data[:cut], data[cut:]])) == EXECUTABLE_FOUND, cut


def test_pdf_with_only_the_dos_stub_text_is_refused() -> None:
    data = with_object(pdf_bytes(), b"(This program cannot be run in DOS mode.)")
    assert streamed("pdf", data) == EXECUTABLE_FOUND


def test_pdf_mz_without_a_pe_header_passes() -> None:
    """MZ occurs by chance in compressed streams; only an MZ whose e_lfanew leads to PE\\0\\0 is a program."""
    data = with_object(pdf_bytes(), b"(MZ" + b"\x00" * 0x3A + struct.pack("<I", 0x80) + b"no header here)")
    assert streamed("pdf", data) is None


@pytest.mark.parametrize(("body", "named"), [
    (b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>", "JavaScript 脚本（/JavaScript）"),
    (b"<< /OpenAction << /JS (app.alert(1))>> >>", "JavaScript 脚本（/JS）"),
    (b"<< /S /Launch /F (cmd.exe) >>", "启动外部程序的动作（/Launch）"),
    (b"<< /S /J#61vaScript /JS#20 >>", "JavaScript 脚本（/JavaScript）"),
])
def test_pdf_with_active_content_is_refused_naming_it(body: bytes, named: str) -> None:
    assert streamed("pdf", with_object(pdf_bytes(), body)) == f"PDF 中含有{named}"


def test_pdf_with_an_embedded_file_from_fpdf2_is_refused() -> None:
    assert streamed("pdf", pdf_bytes(embed=b"hello")) == "PDF 中含有嵌入的附件文件（/EmbeddedFile）"


def test_pdf_names_that_only_begin_like_js_pass() -> None:
    assert streamed("pdf", with_object(pdf_bytes(), b"<< /JSON 1 /JSFont 2 >>")) is None


def test_pdf_without_eof_in_its_last_kilobyte_is_refused() -> None:
    data = pdf_bytes()
    assert streamed("pdf", data[: data.rindex(b"%%EOF")]) == "PDF 文件不完整（最后 1024 字节中没有结束标记 %%EOF）"
    assert streamed("pdf", data + b"\n" * 2000) == "PDF 文件不完整（最后 1024 字节中没有结束标记 %%EOF）"


def test_pdf_leading_bytes_still_decide_the_kind() -> None:
    assert streamed("pdf", png_bytes()) == "文件内容不是有效的PDF文件（与扩展名 .pdf 不符）"


# -- PNG -------------------------------------------------------------------------------------------

def test_png_built_by_hand_passes() -> None:
    assert streamed("png", png_bytes()) is None
    assert streamed("png", png_bytes(), size=5) is None


def test_png_from_pillow_passes() -> None:
    buffer = io.BytesIO()
    noise_image().save(buffer, "PNG")
    assert streamed("png", buffer.getvalue()) is None


def test_png_with_trailing_bytes_is_refused() -> None:
    assert streamed("png", png_bytes() + b"PK\x03\x04hidden") == "PNG 图片结束块（IEND）之后还附带了 10 字节其他数据"


def test_png_cut_short_is_refused() -> None:
    data = png_bytes()
    assert streamed("png", data[:-12]) == "PNG 图片不完整（没有结束块 IEND）"
    assert streamed("png", data[:40]) == "PNG 图片不完整（没有结束块 IEND）"


def test_png_with_a_damaged_chunk_is_refused() -> None:
    data = bytearray(png_bytes())
    data[50] ^= 0xFF
    assert streamed("png", bytes(data)) == "PNG 图片已损坏（数据块 IDAT 校验不符）"


def test_png_whose_first_chunk_is_not_ihdr_is_refused() -> None:
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"tEXt", b"a\x00b") + png_bytes()[8:]
    assert streamed("png", data) == "PNG 图片结构损坏（第 8 字节处不是有效的数据块）"


# -- JPEG ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"exif": b"Exif\x00\x00" + b"MM\x00*" + b"\x00" * 20},
                                     {"restart_marker_blocks": 2}], ids=["baseline", "progressive", "exif", "restarts"])
def test_jpeg_from_pillow_passes(options: dict) -> None:
    data = jpeg_bytes(**options)
    assert streamed("jpg", data) is None
    assert streamed("jpeg", data, size=3) is None


def test_jpeg_followed_by_a_second_image_passes() -> None:
    """A phone's multi-picture file: further whole images after the first, the last ending FF D9."""
    assert streamed("jpg", jpeg_bytes() + jpeg_bytes(progressive=True)) is None


def test_jpeg_with_a_zip_appended_is_refused() -> None:
    data = jpeg_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.txt", "隐藏内容")
    assert streamed("jpg", data + archive.getvalue()) == (
        f"JPEG 图片结束标记（FF D9，第 {len(data)} 字节）之后还附带了一个 zip 压缩包")
    assert streamed("jpg", data + archive.getvalue() + b"\xff\xd9") == (   # ends FF D9 all the same
        f"JPEG 图片结束标记（FF D9，第 {len(data)} 字节）之后还附带了一个 zip 压缩包")


def test_jpeg_with_an_executable_appended_is_refused() -> None:
    assert streamed("jpg", jpeg_bytes() + EXE + b"\xff\xd9") == EXECUTABLE_FOUND


def test_jpeg_with_other_bytes_after_its_end_is_refused() -> None:
    data = jpeg_bytes()
    assert streamed("jpg", data + b"\x00" * 16) == f"JPEG 图片结束标记（FF D9，第 {len(data)} 字节）之后还附带了16 字节其他数据"


def test_jpeg_cut_short_is_refused() -> None:
    data = jpeg_bytes()
    assert streamed("jpg", data[:-2]) == "JPEG 图片不完整（没有结束标记 FF D9）"
    assert streamed("jpg", data[: len(data) // 2]) == "JPEG 图片不完整（没有结束标记 FF D9）"


# -- DOCX / PPTX -----------------------------------------------------------------------------------

def test_docx_from_python_docx_passes() -> None:
    assert ooxml("docx", docx_bytes()) is None


def test_docx_with_a_macro_project_is_refused() -> None:
    data = docx_bytes({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    assert ooxml("docx", data) == "文档中含有宏（word/vbaProject.bin），请另存为不含宏的 .docx 文件"


@pytest.mark.parametrize("name", ["word/embeddings/setup.exe", "word/media/run.BAT", "customXml/a.js",
                                  "word/x.vbs", "word/lib.dll"])
def test_docx_with_an_embedded_executable_is_refused(name: str) -> None:
    assert ooxml("docx", docx_bytes({name: EXE})) == f"文档中夹带了可执行文件（{name}）"


def test_docx_whose_directory_cannot_be_read_whole_is_refused() -> None:
    data = bytearray(docx_bytes())
    directory = data.rindex(b"PK\x01\x02")          # the last entry of the central directory
    data[directory:directory + 4] = b"XXXX"
    assert ooxml("docx", bytes(data)) == "文件内容不是有效的Word文件（与扩展名 .docx 不符）"


def test_docx_is_not_a_pptx() -> None:
    assert ooxml("pptx", docx_bytes()) == "文件内容不是有效的PowerPoint文件（与扩展名 .pptx 不符）"


# -- MP4 -------------------------------------------------------------------------------------------

def test_mp4_whose_boxes_end_at_the_end_passes_reading_only_box_headers() -> None:
    data = mp4_bytes()
    reads: list[tuple[int, int]] = []
    assert walk_mp4(data, reads) is None
    assert sum(length for _, length in reads) <= 2 * MP4_WINDOW_BYTES < len(data)


def test_mp4_with_a_64_bit_box_size_and_a_box_to_the_end_passes() -> None:
    head = box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")
    large = struct.pack(">I4sQ", 1, b"mdat", 16 + 1000) + b"\x02" * 1000
    assert walk_mp4(head + large) is None
    assert walk_mp4(head + struct.pack(">I4s", 0, b"mdat") + b"\x03" * 500) is None


def test_truncated_mp4_is_refused() -> None:
    data = mp4_bytes()
    cut = data[:-100]
    assert walk_mp4(cut) == (f"MP4 视频不完整（数据盒 mdat 应到第 {len(data)} 字节，文件在第 {len(cut)} 字节就结束了）")


def test_mp4_with_bytes_after_its_last_box_is_refused() -> None:
    data = mp4_bytes(1000)
    assert walk_mp4(data + b"\x00\x00\x00") == f"MP4 视频不完整（第 {len(data)} 字节处的数据盒只剩 3 字节）"
    assert walk_mp4(data + b"\xff" * 16) == f"MP4 视频结构损坏（第 {len(data)} 字节处不是有效的数据盒）"


def test_mp4_not_starting_with_ftyp_is_refused() -> None:
    assert walk_mp4(box(b"moov", b"\x00" * 40)) == "文件内容不是有效的MP4 视频文件（与扩展名 .mp4 不符）"


# -- DOC / PPT (OLE) -------------------------------------------------------------------------------

@pytest.mark.parametrize("extension", ["doc", "ppt"])
def test_ole_document_passes(extension: str) -> None:
    assert streamed(extension, OLE) is None


@pytest.mark.parametrize("extension", ["doc", "ppt"])
def test_ole_document_carrying_an_executable_is_refused(extension: str) -> None:
    assert streamed(extension, OLE[:3000] + EXE + OLE[3000:]) == EXECUTABLE_FOUND


def test_ole_signature_still_decides_the_kind() -> None:
    assert streamed("doc", EXE) == "文件内容不是有效的Word 97-2003文件（与扩展名 .doc 不符）"
