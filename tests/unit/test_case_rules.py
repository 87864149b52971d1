"""The 说明书 rules: character counting, the 3,000-character limit, shapes on save, formats on submit."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.cases import (
    CaseBody, Leader, Person, body_from_stored, count_chars, parse_case_body, submit_errors, validate_for_submit,
)
from chalicelib.domain.errors import Invalid

CATEGORIES = ("development", "service", "empowerment")
TODAY = date(2023, 6, 1)


def parse(raw: object, max_chars: int = 3000) -> CaseBody:
    return parse_case_body(raw, CATEGORIES, max_chars, 3)


def complete(**overrides: object) -> dict:
    raw = {
        "category": "development", "recommending_unit": "深圳市某某局", "title": "党建引领数字政府建设",
        "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
        "background": "背景介绍。", "innovations": ["创新点一", "创新点二"], "results": ["成果一"],
        "originality_pledge": True,
    }
    raw.update(overrides)
    return raw


def with_person(who: str, **fields: str) -> dict:
    raw = complete()
    raw[who] = {**raw[who], **fields}
    return raw


# -- counting -------------------------------------------------------------------------------------

def test_count_chars_cjk_letters_digits_punctuation_count_one_each() -> None:
    assert count_chars(["党建", "ab", "12", "，。！", "?!"]) == 2 + 2 + 2 + 3 + 2


def test_count_chars_ascii_whitespace_is_not_counted() -> None:
    assert count_chars(["党 建\t引\n领\r\n 2023 "]) == 8


def test_count_chars_full_width_space_is_not_counted() -> None:
    assert count_chars(["党\u3000建\u3000\u3000引领"]) == 4


def test_count_chars_non_breaking_space_is_not_counted() -> None:
    assert count_chars(["党\u00a0建"]) == 2


def test_count_chars_sums_every_text() -> None:
    assert count_chars(["标题", "背景 背景", "", "创新"]) == 2 + 4 + 0 + 2


def test_count_chars_counts_title_background_innovations_and_results() -> None:
    body = parse(complete(title="标题", background="背景", innovations=["一", "二二"], results=["三三三"]))
    assert body.counted_texts == ["标题", "背景", "一", "二二", "三三三"]
    assert count_chars(body.counted_texts) == 10


def test_count_chars_ignores_names_and_phones() -> None:
    body = parse(complete(title="标题", background="背景", innovations=["一"], results=["二"],
                          recommending_unit="很长的推荐单位名称" * 5))
    assert count_chars(body.counted_texts) == 6


# -- the 3,000-character limit ---------------------------------------------------------------------

def test_limit_exactly_3000_is_accepted() -> None:
    body = parse(complete(title="标", background="字" * 2990, innovations=["创新"], results=["成果" * 3 + "果"]))
    assert count_chars(body.counted_texts) == 3000


def test_limit_whitespace_does_not_push_over() -> None:
    body = parse(complete(title="标", background="字 \u3000\n" * 2990, innovations=["创新"], results=["成果成果成果果"]))
    assert count_chars(body.counted_texts) == 3000


def test_limit_3012_is_refused_with_count_in_message_and_fields_text() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(title="标", background="字" * 3000, innovations=["一二三四五"], results=["一二三四五六"]))
    message = "案例名称、背景、创新点和成果合计不能超过3000字（现有3012/3000字，不计空白），请删减"
    assert caught.value.fields == {"text": message}
    assert caught.value.message == message
    assert caught.value.code == "invalid"


def test_limit_uses_the_competitions_maximum() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(title="标题", background="背景背景", innovations=[], results=[]), max_chars=5)
    assert "6/5" in caught.value.fields["text"]


def test_limit_title_longer_than_100_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(title="题" * 101))
    assert caught.value.fields == {"title": "案例名称不能超过100个字符（现有101个）"}


# -- shapes checked on every save ------------------------------------------------------------------

def test_parse_draft_may_be_empty() -> None:
    assert parse({}) == CaseBody()


def test_parse_keeps_values_and_strips_short_fields() -> None:
    body = parse(complete(title="  标题  ", recommending_unit=" 深圳市某某局 "))
    assert body.title == "标题"
    assert body.recommending_unit == "深圳市某某局"
    assert body.leader == Leader("李四", "处长", "0755-88134324", "13912345678", "female", "section_or_below",
                                 "1988-05-04")
    assert body.contact == Person("王五", "科员", "88134324", "13712345678")


def test_parse_not_an_object_is_invalid() -> None:
    for raw in ([], "text", 5, None):
        with pytest.raises(Invalid) as caught:
            parse(raw)
        assert caught.value.fields == {"body": "应为 JSON 对象"}


def test_parse_wrong_types_name_their_fields() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(title=5, innovations="x", leader=[], originality_pledge="yes", results=[1, "成果"]))
    assert sorted(caught.value.fields) == ["innovations", "leader", "originality_pledge", "results[0]", "title"]


def test_parse_unknown_category_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(category="sports"))
    assert list(caught.value.fields) == ["category"]


def test_parse_unknown_gender_and_rank_level_are_refused() -> None:
    with pytest.raises(Invalid) as caught:
        parse(with_person("leader", gender="other", rank_level="minister"))
    assert caught.value.fields == {"leader.gender": "牵头人性别只能选择：女、男",
                                   "leader.rank_level": "牵头人职级只能选择：科级及以下、处级及以上"}


def test_parse_more_than_three_points_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(innovations=["一", "二", "三", "四"]))
    assert caught.value.fields == {"innovations": "案例创新点最多3条（现有4条）"}


def test_parse_nul_character_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(background="背景\x00"))
    assert list(caught.value.fields) == ["background"]


def test_parse_several_errors_summarise_the_count() -> None:
    with pytest.raises(Invalid) as caught:
        parse(complete(title=5, background=6))
    assert caught.value.message.endswith("（共2处需要修改）")


def test_body_from_stored_round_trips() -> None:
    body = parse(complete())
    assert body_from_stored(body.to_dict()) == body


# -- completeness and formats on submit ------------------------------------------------------------

def errors_of(raw: dict) -> dict[str, str]:
    return submit_errors(parse(raw), TODAY)


def test_submit_errors_complete_body_has_none() -> None:
    assert errors_of(complete()) == {}


def test_submit_errors_empty_draft_names_every_missing_field() -> None:
    assert sorted(errors_of({})) == sorted([
        "category", "recommending_unit", "title", "background", "leader.name", "leader.mobile",
        "contact.name", "contact.mobile", "leader.position", "leader.gender", "leader.rank_level",
        "leader.birth_date", "innovations", "results", "originality_pledge",
    ])


@pytest.mark.parametrize("mobile", ["12345678901", "1391234567", "139123456789", "23912345678", "1391234567a",
                                    "+8613912345678"])
def test_submit_errors_leader_mobile_malformed(mobile: str) -> None:
    assert errors_of(with_person("leader", mobile=mobile)) == {
        "leader.mobile": "牵头人手机应为以 1 开头的 11 位手机号码（第二位为 3～9），请检查"}


def test_submit_errors_contact_mobile_malformed() -> None:
    assert errors_of(with_person("contact", mobile="10012345678")) == {
        "contact.mobile": "联系人手机应为以 1 开头的 11 位手机号码（第二位为 3～9），请检查"}


def test_submit_errors_contact_mobile_missing() -> None:
    assert errors_of(with_person("contact", mobile="")) == {"contact.mobile": "请填写联系人手机"}


@pytest.mark.parametrize("phone", ["0755-88134324", "88134324", "020-1234567", "1234567"])
def test_submit_errors_office_phone_accepted(phone: str) -> None:
    assert errors_of(with_person("leader", office_phone=phone)) == {}


@pytest.mark.parametrize("phone", ["0755 88134324", "0755-881343", "755-88134324", "8813432x", "0755--88134324"])
def test_submit_errors_leader_office_phone_malformed(phone: str) -> None:
    assert errors_of(with_person("leader", office_phone=phone)) == {
        "leader.office_phone": "牵头人办公电话格式不正确，应为区号-号码（如 0755-88134324）或 7～8 位号码"}


def test_submit_errors_office_phone_may_be_empty() -> None:
    assert errors_of(with_person("contact", office_phone="")) == {}


def test_submit_errors_empty_innovation_in_the_middle() -> None:
    assert errors_of(complete(innovations=["创新点一", "  ", "创新点三"])) == {
        "innovations[1]": "案例创新点第2条为空，请填写或删除该条"}


def test_submit_errors_no_result_at_all() -> None:
    assert errors_of(complete(results=[" "])) == {"results": "请至少填写1条案例取得的成果"}


def test_submit_errors_originality_pledge_false() -> None:
    assert errors_of(complete(originality_pledge=False)) == {
        "originality_pledge": "提交前请勾选坚持原创承诺（不得抄袭、复制往年案例）"}


@pytest.mark.parametrize("birth", ["1988/05/04", "1988-5-4", "04-05-1988", "1988-02-30", "1988-13-01", "一九八八"])
def test_submit_errors_birth_date_format(birth: str) -> None:
    assert errors_of(with_person("leader", birth_date=birth)) == {
        "leader.birth_date": "牵头人出生日期应为有效日期，格式 YYYY-MM-DD（如 1988-05-04）"}


@pytest.mark.parametrize("birth", ["2023-06-01", "2030-01-01", "1899-12-31"])
def test_submit_errors_birth_date_out_of_range(birth: str) -> None:
    assert errors_of(with_person("leader", birth_date=birth)) == {
        "leader.birth_date": "牵头人出生日期应早于今天且晚于 1900-01-01"}


def test_submit_errors_birth_date_missing() -> None:
    assert errors_of(with_person("leader", birth_date="")) == {"leader.birth_date": "请填写牵头人出生日期"}


def test_validate_for_submit_raises_with_all_fields() -> None:
    with pytest.raises(Invalid) as caught:
        validate_for_submit(parse(complete(originality_pledge=False, title="")), TODAY)
    assert sorted(caught.value.fields) == ["originality_pledge", "title"]
    assert caught.value.message == "请填写案例名称（共2处需要修改）"
