"""`/` as a visitor meets it: the competition's contacts (from the config) and its two Word downloads, 大赛通知 and
the 参赛案例说明书 template (made by `make downloads` into chalicelib/competitions/downloads/, handed out from S3 by
a presigned GET); the notice's
words in the unit's menu (案例 › 案例报送) and on registration (选手注册)."""
from __future__ import annotations

import io
import re
from urllib.parse import unquote, urlsplit

import pytest

from chalicelib import competitions
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.documents import downloads
from chalicelib.exports.competition_documents import case_form_docx, document_text
from chalicelib.media import DOCX
from scripts import make_downloads
from tests.browser import Browser, text
from tests.integration.test_pages import register_and_login

CONFIG = competitions.load("shenzhen-2023")
FORM_LABELS = ["案例类别", "推荐单位", "案例名称", "牵头人姓名", "牵头人职务", "牵头人办公电话", "牵头人手机",
               "牵头人性别", "牵头人职级", "牵头人出生日期", "联系人姓名", "联系人职务", "联系人办公电话",
               "联系人手机", "案例背景", "案例创新点1", "案例创新点2", "案例创新点3", "案例取得的成果1",
               "案例取得的成果2", "案例取得的成果3", "坚持原创承诺"]


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


def presigned(url: str) -> tuple[str, str]:
    """The object key a download link points at, and the Content-Disposition S3 will answer with."""
    parts = urlsplit(url)
    assert "X-Amz-Signature=" in parts.query
    key = re.search(r"downloads/shenzhen-2023/[0-9a-f]{16}/[\w.-]+\.docx$", parts.path).group(0)
    return key, unquote(unquote(parts.query.split("response-content-disposition=", 1)[1].split("&", 1)[0]))


def stored(key: str):
    from chalicelib import bootstrap
    return bootstrap.s3().get_object(Bucket=bootstrap.config().bucket, Key=key)


def download(client, name: str) -> bytes:
    """What a click on the link saves: the object the redirect points at."""
    response = client.http.get(f"/downloads/{name}")
    assert response.status_code == 302, response.body
    return stored(presigned(response.headers["Location"])[0])["Body"].read()


def table_labels(data: bytes) -> list[str]:
    from docx import Document
    (table,) = Document(io.BytesIO(data)).tables
    return [row.cells[0].text for row in table.rows]


def test_home_shows_the_contacts_with_their_phones_as_tel_links(browser):
    page = text(browser.get("/"))
    assert re.findall(r'<li>(\w+)，电话：<a href="(tel:\d+)">(\d+)</a></li>', page) == [
        ("王宇昕", "tel:88134324", "88134324"), ("马哲东", "tel:88132065", "88132065")]


def test_the_home_page_follows_the_contacts_of_the_config(browser, monkeypatch):
    changed = {**CONFIG, "contacts": [{"name": "赵六", "phone": "0755-12345678"}]}
    from chalicelib import bootstrap
    monkeypatch.setattr(competitions, "load", lambda competition_id: changed)
    repo = bootstrap.deps().competitions      # the competition requests read is the stored one (its seed: the JSON)
    record = repo.get(CONFIG["id"])
    assert record is not None
    repo.save(record, {**record.definition, "contacts": changed["contacts"]}, ["contacts"], "competition.edit",
              "organiser:test", 0)
    page = text(browser.get("/"))
    assert re.findall(r'<li>(\w+)，电话：<a href="([^"]+)">([^<]+)</a></li>', page) == [
        ("赵六", "tel:0755-12345678", "0755-12345678")]
    assert "王宇昕" not in page and "88134324" not in page


def test_home_links_both_downloads_and_keeps_the_contracts_links(browser):
    page = text(browser.get("/"))
    assert re.findall(r'<a href="(/downloads/[\w.-]+)" download>([^<]+)</a>', page) == [
        ("/downloads/notice.docx", "大赛通知（深直工字〔2023〕3号）"), ("/downloads/case-form.docx", "参赛案例说明书（模板）")]
    assert '<a class="button primary" href="/register">注册</a>' in page
    assert '<a class="button" href="/login">登录</a>' in page
    assert len(re.findall(r"<a [^>]*>[^<]*注册[^<]*</a>", page)) == 1       # a browser's link "注册" is one link
    assert "选手注册" in page and "案例—案例报送—新增案例" in page


@pytest.mark.parametrize("name, filename", [
    ("notice.docx", "2023年深圳市“党建杯”机关创新创优竞赛通知.docx"),
    ("case-form.docx", "2023年深圳市“党建杯”机关创新创优竞赛参赛案例说明书.docx"),
])
def test_a_download_is_the_packaged_word_file_from_s3_under_its_chinese_name(client, name, filename):
    response = client.http.get(f"/downloads/{name}")
    assert (response.status_code, response.headers["Cache-Control"]) == (302, "no-store")
    key, disposition = presigned(response.headers["Location"])
    assert disposition == f"attachment; filename*=UTF-8''{filename}"
    obj = stored(key)
    assert obj["ContentType"] == DOCX
    data = obj["Body"].read()
    assert data == competitions.download_path("shenzhen-2023", name).read_bytes()
    assert document_text(data)                  # python-docx opens it
    again = client.http.get(f"/downloads/{name}")           # stored once: the same object
    assert presigned(again.headers["Location"])[0] == key


def test_the_notice_has_its_number_title_sections_and_attachment(client):
    from docx import Document
    doc = Document(io.BytesIO(download(client, "notice.docx")))
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    assert paragraphs[:2] == ["深直工字〔2023〕3号", "关于开展2023年深圳市“党建杯”机关创新创优竞赛暨第十一届广东省市直机关"
                              "“先锋杯”工作创新大赛深圳选拔赛的通知"]
    headings = [p for p in paragraphs if re.match(r"[一二三四五六七八九十]+、", p)]
    assert headings == ["一、主办单位", "二、大赛名称", "三、大赛主题", "四、比赛时间", "五、参赛对象", "六、案例要求",
                        "七、比赛安排", "八、申报事项", "九、奖项设置", "十、有关要求"]
    assert "（二）填报案例。登录帐号后，选择：案例—案例报送—新增案例，按要求填报相关内容，上传完毕后进行提交即可完成报名。" \
           "上传材料格式见附件。" in paragraphs
    attachment = paragraphs[paragraphs.index("附件"):]
    assert attachment[1].endswith("参赛案例说明书") and attachment[2] == "案例类别：□发展提质 □服务增效 □党建赋能"
    assert doc.core_properties.title == paragraphs[1]


def test_the_case_form_template_is_a_table_of_the_forms_fields_in_order(client):
    data = download(client, "case-form.docx")
    assert table_labels(data) == FORM_LABELS
    texts = document_text(data)
    assert "□发展提质　□服务增效　□党建赋能" in texts and "□女　□男" in texts and "□科级及以下　□处级及以上" in texts
    assert any("合计不超过 3000 字（不计空白）" in t and "各 1～3 条" in t for t in texts)
    assert "□本单位承诺：案例坚持原创，不抄袭、不复制往年案例，所填内容真实。" in texts


def test_the_template_follows_the_configs_categories_and_limits():
    raw = {**CONFIG, "limits": {"max_chars": 2500, "max_points": 2},
           "categories": [c for c in CONFIG["categories"] if c["id"] != "service"]}
    data = case_form_docx(competition_from_config(raw))
    assert table_labels(data) == [x for x in FORM_LABELS if not x.endswith("3")]
    texts = document_text(data)
    assert "□发展提质　□党建赋能" in texts
    assert any("合计不超过 2500 字" in t and "各 1～2 条" in t for t in texts)


def test_the_committed_downloads_are_what_the_config_makes_now():
    """`make downloads` after a change of the config or the notice's text: the committed files cannot drift."""
    for competition_id in competitions.ids():
        built = make_downloads.build(competition_id)
        offered = downloads(competition_from_config(competitions.load(competition_id)))
        assert sorted(built) == sorted(d.name for d in offered)
        for name, data in built.items():
            committed = competitions.download_path(competition_id, name).read_bytes()
            assert document_text(committed) == document_text(data), f"{competition_id}/{name}: run make downloads"


@pytest.mark.parametrize("name", ["x0", "notice.pdf", "..%2Fshenzhen-2023.json", "%2E%2E", "NOTICE.DOCX"])
def test_an_unknown_download_is_the_chinese_404_page(client, name):
    response = client.http.get(f"/downloads/{name}")
    assert response.status_code == 404
    assert "没有这个文件：请从首页的下载链接进入。" in text(response)


def test_the_units_menu_reads_cases_then_case_submission(browser):
    page = register_and_login(browser)
    nav = re.search(r'<nav class="site-nav".*?</nav>', page, re.S).group(0)
    assert re.search(r'role="group" aria-labelledby="nav-cases"><span id="nav-cases" class="nav-group-name">案例</span>'
                     r'<a href="/cases">案例报送</a>', nav)
    assert "<h1>我的案例</h1>" in page and '<a class="button primary" href="/cases/new">新增案例</a>' in page


def test_registration_says_xuanshou_zhuce_and_keeps_the_button(browser):
    page = text(browser.get("/register"))
    assert "<h1>选手注册</h1>" in page and "<title>选手注册 · " in page
    assert '<button type="submit" class="primary">注册</button>' in page
    assert '<a href="/register">选手注册</a>' in text(browser.get("/login"))
