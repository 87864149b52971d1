"""Names shown to others lose the characters that reorder or hide text (chalicelib/domain/text.py)."""
import pytest

from chalicelib.domain.accounts import parse_registration
from chalicelib.domain.attachments import declare, display_name
from chalicelib.domain.errors import Invalid
from chalicelib.domain.judges import parse_judge
from chalicelib.domain.text import single_line

RLO, ZWSP, LRI, PDI, BOM = "\u202e", "\u200b", "\u2066", "\u2069", "\ufeff"


def test_format_and_control_characters_are_dropped_and_ordinary_text_kept():
    assert single_line(f" 深圳市{ZWSP}某局{RLO}机关党委{BOM} ") == "深圳市某局机关党委"
    assert single_line(f"{LRI}李明{PDI}") == "李明"
    assert single_line("Zhang San · 张三（组长）") == "Zhang San · 张三（组长）"


def test_an_attachment_cannot_pose_as_another_type():
    assert display_name(f"报告{RLO}fdp.exe") == "报告fdp.exe"
    with pytest.raises(Invalid):                       # the real suffix decides, and it is refused
        declare(f"报告{RLO}fdp.exe", "application/pdf", 100)
    assert declare(f"说明{ZWSP}书.pdf", "application/pdf", 100).filename == "说明书.pdf"


def test_registration_and_judges_store_what_readers_see():
    registration = parse_registration({
        "username": "dwjg01", "password": "S3cure-pass-2023", "unit_name": f"深圳市{RLO}某局",
        "unit_system": "municipal", "contact_name": f"李{ZWSP}明", "email": "li@example.gov.cn",
        "mobile": "13800138000"})
    assert (registration.unit_name, registration.contact_name) == ("深圳市某局", "李明")
    judge = parse_judge({"name": f"{LRI}王专家{PDI}", "email": "w@example.org", "categories": ["a"],
                         "affiliation": f"深圳{RLO}大学"}, ("a",))
    assert (judge.name, judge.affiliation) == ("王专家", "深圳大学")


def test_a_name_of_nothing_but_hidden_characters_is_missing():
    with pytest.raises(Invalid) as refused:
        parse_judge({"name": RLO + ZWSP, "email": "w@example.org", "categories": ["a"]}, ("a",))
    assert "name" in refused.value.fields
