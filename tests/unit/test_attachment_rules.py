"""Attachment rules: what may be declared, how large, and how stored bytes are recognised."""
from __future__ import annotations

import io
import zipfile

import pytest

from chalicelib.domain.attachments import (
    KINDS, MB, TAIL_BYTES, DeclaredFile, content_matches, declare, display_name, zip_member_names,
)
from chalicelib.domain.errors import Invalid, TooLarge

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ALLOWED = [
    ("说明书.pdf", "application/pdf"), ("说明书.doc", "application/msword"), ("说明书.docx", DOCX),
    ("汇报.ppt", "application/vnd.ms-powerpoint"), ("汇报.pptx", PPTX), ("照片.jpg", "image/jpeg"),
    ("照片.jpeg", "image/jpeg"), ("照片.png", "image/png"), ("视频.mp4", "video/mp4"),
]

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_bytes(padding: int = 0) -> bytes:
    return zip_bytes({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
        "media/padding.bin": bytes(range(256)) * (padding // 256),
        "word/document.xml": '<?xml version="1.0"?><w:document>党建引领</w:document>'.encode(),
    }, zipfile.ZIP_STORED)


def pptx_bytes() -> bytes:
    return zip_bytes({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "ppt/presentation.xml": b'<?xml version="1.0"?><p:presentation/>',
        "ppt/slides/slide1.xml": b'<?xml version="1.0"?><p:sld/>',
    })


def matches(extension: str, data: bytes) -> bool:
    """What the confirm step does: the first 16 bytes and the last TAIL_BYTES of the object."""
    return content_matches(extension, data[:16], data[-TAIL_BYTES:])


# -- declare ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("filename", "content_type"), ALLOWED)
def test_declare_every_allowed_type(filename: str, content_type: str) -> None:
    declared = declare(filename, content_type, 1024)
    extension = filename.rsplit(".", 1)[1]
    assert declared == DeclaredFile(filename, content_type, 1024, KINDS[extension])


def test_declare_content_type_case_is_normalised() -> None:
    assert declare("说明书.PDF", "Application/PDF", 10) == DeclaredFile("说明书.PDF", "application/pdf", 10, KINDS["pdf"])


@pytest.mark.parametrize("filename", ["setup.exe", "说明书.pdf.exe", "脚本.js", "压缩包.zip", "无扩展名", "a.txt",
                                      "page.html", "image.svg", "movie.mov"])
def test_declare_type_not_allowed(filename: str) -> None:
    with pytest.raises(Invalid) as caught:
        declare(filename, "application/octet-stream", 10)
    assert caught.value.fields == {
        "filename": "只能上传pdf、doc、docx、ppt、pptx、jpg、png（不超过 50 MB）和 mp4（不超过 500 MB）"}


@pytest.mark.parametrize(("filename", "content_type"), [
    ("说明书.pdf", "image/png"), ("照片.png", "image/jpeg"), ("视频.mp4", "application/pdf"),
    ("说明书.docx", "application/msword"), ("汇报.pptx", DOCX), ("说明书.pdf", "text/html"),
])
def test_declare_content_type_mismatch(filename: str, content_type: str) -> None:
    with pytest.raises(Invalid) as caught:
        declare(filename, content_type, 10)
    assert list(caught.value.fields) == ["content_type"]


def test_declare_pdf_of_exactly_50_mb_is_accepted() -> None:
    assert declare("a.pdf", "application/pdf", 50 * MB).size == 50 * MB


def test_declare_pdf_one_byte_over_50_mb_is_too_large() -> None:
    with pytest.raises(TooLarge) as caught:
        declare("a.pdf", "application/pdf", 50 * MB + 1)
    assert caught.value.code == "too_large"
    assert caught.value.fields == {"size": "不能超过 50 MB"}


def test_declare_pdf_of_60_mb_is_too_large_with_its_size_in_the_message() -> None:
    with pytest.raises(TooLarge) as caught:
        declare("a.pdf", "application/pdf", 60 * MB)
    assert caught.value.message == "PDF文件不能超过 50 MB（本文件 60.0 MB）"


@pytest.mark.parametrize(("filename", "content_type"), [a for a in ALLOWED if not a[0].endswith(".mp4")])
def test_declare_every_document_type_over_50_mb_is_too_large(filename: str, content_type: str) -> None:
    with pytest.raises(TooLarge):
        declare(filename, content_type, 50 * MB + 1)


def test_declare_mp4_of_500_mb_is_accepted() -> None:
    assert declare("视频.mp4", "video/mp4", 500 * MB).size == 500 * MB


def test_declare_mp4_of_400_mb_is_accepted() -> None:
    assert declare("视频.mp4", "video/mp4", 400 * MB).size == 400 * MB


def test_declare_mp4_one_byte_over_500_mb_is_too_large() -> None:
    with pytest.raises(TooLarge) as caught:
        declare("视频.mp4", "video/mp4", 500 * MB + 1)
    assert caught.value.fields == {"size": "不能超过 500 MB"}


@pytest.mark.parametrize("size", [0, -1, 1.5, "100", None, True, [1]])
def test_declare_size_not_a_positive_integer(size: object) -> None:
    with pytest.raises(Invalid) as caught:
        declare("a.pdf", "application/pdf", size)
    assert caught.value.fields == {"size": "文件大小应为正整数（字节数）"}


@pytest.mark.parametrize("filename", ["", "   ", None, 5, ["a.pdf"]])
def test_declare_filename_missing(filename: object) -> None:
    with pytest.raises(Invalid) as caught:
        declare(filename, "application/pdf", 10)
    assert list(caught.value.fields) == ["filename"]


@pytest.mark.parametrize("filename", ["a\x00.pdf", "a\n.pdf", "a" * 197 + ".pdf"])
def test_declare_filename_with_control_characters_or_too_long(filename: str) -> None:
    with pytest.raises(Invalid) as caught:
        declare(filename, "application/pdf", 10)
    assert list(caught.value.fields) == ["filename"]


def test_declare_missing_everything_names_every_field() -> None:
    with pytest.raises(Invalid) as caught:
        declare(None, None, None)
    assert sorted(caught.value.fields) == ["content_type", "filename", "size"]


@pytest.mark.parametrize(("given", "kept"), [
    ("C:\\fakepath\\说明书.pdf", "说明书.pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("/var/tmp/案例 材料.pdf", "案例 材料.pdf"),
    ("..\\..\\windows\\win.pdf", "win.pdf"),
    ("  说明书.pdf  ", "说明书.pdf"),
    (".hidden.pdf", "hidden.pdf"),
])
def test_declare_path_like_names_keep_only_the_base_name(given: str, kept: str) -> None:
    assert declare(given, "application/pdf", 10).filename == kept


def test_display_name_of_only_a_path_is_a_placeholder() -> None:
    assert display_name("dir/") == "附件"


def test_declare_path_hiding_the_real_extension_uses_the_base_name() -> None:
    with pytest.raises(Invalid):
        declare("evil.pdf/run.exe", "application/pdf", 10)


# -- magic bytes -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("extension", "data"), [
    ("pdf", PDF), ("doc", OLE), ("ppt", OLE), ("jpg", JPEG), ("jpeg", JPEG), ("png", PNG), ("mp4", MP4),
])
def test_content_matches_every_binary_type(extension: str, data: bytes) -> None:
    assert matches(extension, data) is True


def test_content_matches_real_docx() -> None:
    assert matches("docx", docx_bytes()) is True


def test_content_matches_real_pptx() -> None:
    assert matches("pptx", pptx_bytes()) is True


def test_content_matches_docx_larger_than_the_tail() -> None:
    data = docx_bytes(padding=3 * TAIL_BYTES)
    assert len(data) > 3 * TAIL_BYTES
    assert matches("docx", data) is True


def test_content_matches_zip_that_is_not_docx() -> None:
    data = zip_bytes({"readme.txt": b"hello", "data/values.csv": b"1,2,3"})
    assert matches("docx", data) is False
    assert matches("pptx", data) is False


def test_content_matches_docx_is_not_pptx_and_back() -> None:
    assert matches("pptx", docx_bytes()) is False
    assert matches("docx", pptx_bytes()) is False


def test_content_matches_zip_names_read_from_the_central_directory() -> None:
    assert zip_member_names(pptx_bytes()) == ["[Content_Types].xml", "ppt/presentation.xml", "ppt/slides/slide1.xml"]


def test_content_matches_truncated_zip_is_refused() -> None:
    data = docx_bytes()
    assert matches("docx", data[: len(data) // 2]) is False


def test_content_matches_docx_extension_on_an_ole_file_is_refused() -> None:
    assert matches("docx", OLE) is False


@pytest.mark.parametrize("extension", ["pdf", "doc", "docx", "ppt", "pptx", "jpg", "png", "mp4"])
def test_content_matches_spoofed_executable_is_refused(extension: str) -> None:
    assert matches(extension, EXE + b"\x00" * 100) is False


@pytest.mark.parametrize(("extension", "data"), [
    ("pdf", PNG), ("png", JPEG), ("jpg", PDF), ("mp4", PDF), ("doc", PDF), ("pdf", b""), ("mp4", b"\x00\x00ftyp"),
    ("pdf", b" %PDF-1.7"), ("exe", EXE),
])
def test_content_matches_wrong_leading_bytes_are_refused(extension: str, data: bytes) -> None:
    assert matches(extension, data) is False
