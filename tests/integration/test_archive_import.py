"""Earlier years' cases imported from the console (/admin/originality): the template, the multipart form
upload, all rows or none with every problem by row and column, and the flags one entry per pair, paged."""
from __future__ import annotations

from urllib.parse import unquote
import html as htmllib
import io
import re
import uuid
from typing import Any

import pytest

from chalicelib.services import archive_import
from chalicelib.store import originality as archive_store
from tests.browser import text
from tests.integration.test_admin_pages import log_in
from tests.integration.test_originality_api import submit
from tests.originality_corpus import Texts

HEADER = ["年份", "案例名称", "单位", "案例类别", "案例背景", "案例创新点", "案例取得的成果"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "往年案例"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(year: Any, case: dict[str, Any], unit: str = "往年单位", category: str = "发展提质") -> list[Any]:
    return [year, case["title"], unit, category, case["background"], "\n".join(case["innovations"]),
            "\n".join(case["results"])]


def multipart(fields: dict[str, str], filename: str | None, data: bytes) -> tuple[str, bytes]:
    boundary = "----saiping" + uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    if filename is not None:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                f"Content-Type: {XLSX}\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", out


def upload(browser, csrf: str, data: bytes, filename: str | None = "往年案例.xlsx", fields: dict | None = None):
    content_type, body = multipart({"csrf_token": csrf} if fields is None else fields, filename, data)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.jar.items())
    return browser.http.post("/admin/originality/import", body=body,
                             headers={"Content-Type": content_type, "Cookie": cookie})


def archived() -> list[tuple[int, str, str | None, str | None, dict[str, Any]]]:
    import json
    return sorted((int(r.year), r.title, r.unit, r.category, json.loads(r.body)) for r in archive_store.list_cases())


def error_rows(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table class="data import-errors">(.*?)</table>', page, re.S).group(1)
    return [tuple(htmllib.unescape(c).strip() for c in re.findall(r"<td>(.*?)</td>", tr, re.S))
            for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


def test_the_template_opens_with_the_header_an_example_row_and_a_guide(client):
    from openpyxl import load_workbook
    browser, _ = log_in(client)
    from tests.browser import followed_download
    data, disposition = followed_download(browser.get("/admin/originality/template.xlsx"))
    assert "filename*=UTF-8''" in disposition and "往年案例导入模板.xlsx" in unquote(disposition)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["往年案例", "填写说明"]
    rows = list(book["往年案例"].iter_rows(values_only=True))
    assert [list(r) for r in rows] == [HEADER, [archive_import.EXAMPLE[f] for f, _ in archive_import.COLUMNS]]
    assert "下载模板" in text(browser.get("/admin/originality"))


def test_a_good_workbook_is_imported_whole_and_a_copy_is_flagged_naming_the_year(client, api):
    texts = Texts(31)
    cases = [texts.case() for _ in range(3)]
    browser, csrf = log_in(client)
    data = workbook([row(2022, cases[0]), row("2021年", cases[1], "", "服务增效"),
                     row(2020.0, cases[2], "某区直机关", "党建赋能")])
    response = upload(browser, csrf, data)
    assert (response.status_code, response.headers["Location"]) == (303, "/admin/originality?done=imported&n=3")
    assert archived() == sorted([
        (2022, cases[0]["title"], "往年单位", "development", {k: cases[0][k] for k in ("background", "innovations", "results")}),
        (2021, cases[1]["title"], None, "service", {k: cases[1][k] for k in ("background", "innovations", "results")}),
        (2020, cases[2]["title"], "某区直机关", "empowerment", {k: cases[2][k] for k in ("background", "innovations", "results")}),
    ])
    page = text(browser.get(response.headers["Location"]))
    assert "已导入 3 个往年案例，所有已提交案例已重新比对。" in page
    assert "与 3 个往年案例" in page and "没有超过阈值的相似案例" in page
    submit(api, 1, texts.near_copy(cases[1]))
    page = htmllib.unescape(text(browser.get("/admin/originality")))
    assert re.findall(r'<p class="match">(.*?)相似度', page) == [f"与 2021 年往年案例“{cases[1]['title']}”"]


def test_bad_rows_import_nothing_and_are_listed_by_row_and_column(client):
    texts = Texts(32)
    good = texts.case()
    browser, csrf = log_in(client)
    long_title = "题" * 201
    data = workbook([
        row(2022, good),
        [2023, "本届案例", "单位", "发展提质", "背景。", "", ""],
        ["去年", "", "单位", "创新类", "背景。", "", ""],
        [2022, long_title, "单位", "服务增效", "", "", ""],
        [2022, "太多条", "单位", "服务增效", "背景。", "\n".join(f"第{n}条" for n in range(21)), ""],
        [archive_import.EXAMPLE[f] for f, _ in archive_import.COLUMNS],
        [None] * 7,
        [1999, "很早的案例", None, "党建赋能", "背景。", None, None],
    ])
    response = upload(browser, csrf, data)
    assert response.status_code == 400
    page = text(response)
    assert error_rows(page) == [
        ("第 3 行", "年份", "往年案例的年份应早于本届比赛（2023 年）；本届案例已自动参与比对"),
        ("第 4 行", "年份", "“去年”不是年份，请填写四位数字，例如 2022"),
        ("第 4 行", "案例名称", "请填写案例名称"),
        ("第 4 行", "案例类别", "“创新类”不是案例类别，可填：发展提质、服务增效、党建赋能"),
        ("第 5 行", "案例名称", "过长（201 字，最多 200 字）"),
        ("第 5 行", "案例背景", "案例背景、案例创新点、案例取得的成果至少填写一项（用于原创性比对）"),
        ("第 6 行", "案例创新点", "最多 20 条（本格 21 条），每行一条"),
        ("第 7 行", "案例名称", "这是模板中的示例行，请删除或替换为往年案例后再导入"),
        ("第 9 行", "年份", "年份应在 2000 至 2100 之间"),
    ]
    assert "未导入任何往年案例：共 9 处错误，第 3 行“年份”：" in htmllib.unescape(page)
    assert archived() == []


@pytest.mark.parametrize("data, filename, status, message", [
    (b"not a workbook", "案例.xlsx", 400, "文件不是有效的 .xlsx 表格"),
    (b"", None, 400, "请先选择填好的往年案例 .xlsx 文件"),
    (workbook([], header=["年份", "案例名称"]), "案例.xlsx", 400, "第一行缺少表头：单位、案例类别、案例背景、案例创新点、案例取得的成果"),
    (workbook([]), "案例.xlsx", 400, "表格中没有往年案例"),
    (b"0" * (archive_import.MAX_BYTES + 1), "案例.xlsx", 413, "文件过大（超过 4 MB）"),
    (b"0" * (archive_import.MAX_BYTES + 70 * 1024), "案例.xlsx", 413, "上传的内容过大（超过 4 MB）"),
])
def test_a_file_that_is_not_a_filled_workbook_is_refused_on_the_page(client, data, filename, status, message):
    browser, csrf = log_in(client)
    response = upload(browser, csrf, data, filename)
    assert response.status_code == status
    assert message in htmllib.unescape(text(response))
    assert archived() == []


def test_the_upload_needs_the_session_and_its_csrf_token(client):
    data = workbook([row(2022, Texts(33).case())])
    browser, csrf = log_in(client)
    assert upload(browser, csrf, data, fields={}).status_code == 403
    assert upload(browser, csrf, data, fields={"csrf_token": "forged"}).status_code == 403
    browser.jar.clear()
    response = upload(browser, csrf, data)
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert archived() == []


def test_flags_show_one_entry_per_pair_folded_and_twenty_to_a_page(client, api):
    texts = Texts(34)
    browser, csrf = log_in(client)
    olds = [texts.case() for _ in range(21)]
    response = upload(browser, csrf, workbook([row(2022, c) for c in olds]))
    assert response.status_code == 303
    for n, old in enumerate(olds, 1):
        submit(api, n, texts.near_copy(old))
    base = texts.case()
    submit(api, 30, base)
    submit(api, 31, texts.near_copy(base))
    first = text(browser.get("/admin/originality"))
    second = text(browser.get("/admin/originality?page=2"))
    entries = [re.findall(r'<section class="card flag"', p) for p in (first, second)]
    assert [len(e) for e in entries] == [20, 2]     # 21 copies of archived cases + one current pair, once
    assert "共 22 对相似（涉及 23 个本届案例），第 1 / 2 页" in first
    assert ('rel="next">下一页' in first, 'rel="prev">上一页' in first) == (True, False)
    assert ('rel="next">下一页' in second, 'rel="prev">上一页' in second) == (False, True)
    assert first.count("<details>") == 20 and second.count("<details>") == 2
    assert len(re.findall(r"与本届案例", first + second)) == 1
