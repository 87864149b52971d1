"""What the competition's documents say (domain/documents.py): the notice's marks, the 说明书 template's rows in
the case form's order, the contacts' tel: addresses."""
from __future__ import annotations

from chalicelib import competitions
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.documents import Block, Contact, case_form_rows, contacts, downloads, parse_notice

CONFIG = competitions.load("shenzhen-2023")


def test_each_mark_of_the_notice_text_says_what_the_line_is():
    text = "# 关于…的通知\n\n: 各单位：\n正文一段。\n## 一、主办单位\n### （一）发展提质\n---\n: 附件\n#没有空格\n"
    assert parse_notice(text) == (
        Block("title", "关于…的通知"), Block("flush", "各单位："), Block("paragraph", "正文一段。"),
        Block("heading", "一、主办单位"), Block("subheading", "（一）发展提质"), Block("page_break"),
        Block("flush", "附件"), Block("paragraph", "#没有空格"))


def test_the_kept_notice_has_its_ten_sections_and_one_attachment():
    blocks = parse_notice(competitions.notice_text(CONFIG))
    assert [b.text[:2] for b in blocks if b.kind == "heading"] == [
        "一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、", "九、", "十、"]
    assert [b.kind for b in blocks].count("page_break") == 1
    assert [b.text for b in blocks if b.kind == "title"][1].endswith("参赛案例说明书")


def test_the_template_rows_follow_the_case_form_with_the_configs_points():
    comp = competition_from_config({**CONFIG, "limits": {"max_chars": 3000, "max_points": 1}})
    rows = case_form_rows(comp)
    assert [r.label for r in rows][-4:] == ["案例背景", "案例创新点1", "案例取得的成果1", "坚持原创承诺"]
    assert rows[0].hint == "□发展提质　□服务增效　□党建赋能"
    assert [r.lines for r in rows if r.lines > 1] == [12, 5, 5]


def test_a_contacts_tel_address_is_its_phone_without_spaces():
    assert [c.tel for c in contacts(CONFIG)] == ["tel:88134324", "tel:88132065"]
    assert Contact("赵六", "0755 1234 5678").tel == "tel:075512345678"
    assert contacts({}) == ()


def test_the_downloads_are_named_after_the_competition():
    comp = competition_from_config(CONFIG)
    assert [(d.name, d.title) for d in downloads(comp)] == [
        ("notice.docx", "大赛通知（深直工字〔2023〕3号）"), ("case-form.docx", "参赛案例说明书（模板）")]


def test_a_competition_without_the_notices_text_offers_only_the_template():
    bare = {k: v for k, v in CONFIG.items() if k not in ("notice_text", "notice_number")}
    assert [d.name for d in downloads(competition_from_config(bare))] == ["case-form.docx"]
    assert downloads(competition_from_config({**bare, "notice_text": "x.txt"}))[0].title == "大赛通知"
