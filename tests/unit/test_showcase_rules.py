"""优秀案例展示's rules: the consent in the 说明书, who is shown, what of a case is shown, the search and the order."""
from __future__ import annotations

import pytest

from chalicelib.domain import showcase as rules
from chalicelib.domain.cases import body_from_stored, parse_case_body
from chalicelib.domain.errors import Invalid
from tests.unit.test_case_rules import CATEGORIES, complete

PRIZES = ("first", "second", "third")
CATEGORY_NAMES = {"development": "发展提质", "service": "服务增效", "empowerment": "党建赋能"}
PRIZE_NAMES = {"first": "一等奖", "second": "二等奖", "third": "三等奖"}


def shown(case_id: str, category: str = "development", prize: str = "first", title: str = "案例", **text) -> dict:
    body = {"category": category, "title": title, "recommending_unit": text.pop("unit", "深圳市某某局"),
            "background": "背景", "innovations": ["创新点"], "results": ["成果"], **text}
    return rules.entry(case_id, body, prize, CATEGORY_NAMES, PRIZE_NAMES)


# -- the consent in the body ------------------------------------------------------------------------
def test_showcase_consent_defaults_to_false_and_is_kept_when_true():
    assert parse_case_body(complete(), CATEGORIES, 3000, 3).showcase_consent is False
    body = parse_case_body(complete(showcase_consent=True), CATEGORIES, 3000, 3)
    assert (body.showcase_consent, body.to_dict()["showcase_consent"]) == (True, True)
    assert body_from_stored(body.to_dict()).showcase_consent is True
    assert body_from_stored({"title": "旧案例"}).showcase_consent is False


@pytest.mark.parametrize("wrong", ["true", 1, 0, [], {}])
def test_showcase_consent_that_is_not_a_boolean_names_the_field(wrong):
    with pytest.raises(Invalid) as caught:
        parse_case_body(complete(showcase_consent=wrong), CATEGORIES, 3000, 3)
    assert caught.value.fields == {"showcase_consent": "同意在成果展示中公开应为 true 或 false"}


# -- who is shown -----------------------------------------------------------------------------------
def test_the_units_later_word_outranks_the_body():
    assert [rules.consented(body, choice) for body, choice in
            ((True, None), (False, None), (True, False), (False, True))] == [True, False, False, True]


def test_only_an_awarded_consented_case_not_taken_down_is_shown():
    assert rules.on_show("awarded", True, None, None) is True
    assert rules.on_show("awarded", True, None, True) is False
    assert rules.on_show("awarded", False, None, None) is False
    assert rules.on_show("not_awarded", True, None, None) is False
    assert rules.on_show("advanced", True, True, False) is False


def test_state_of_gives_the_reason_only_while_taken_down():
    assert rules.state_of("awarded", True, None, True, "待核实") == {
        "consent": True, "hidden": True, "reason": "待核实", "shown": False}
    assert rules.state_of("awarded", True, None, False, "旧原因") == {
        "consent": True, "hidden": False, "reason": None, "shown": True}


def test_an_entry_holds_the_cases_own_text_and_nothing_about_people():
    body = {**complete(showcase_consent=True)}
    assert rules.entry("c1", body, "second", CATEGORY_NAMES, PRIZE_NAMES) == {
        "id": "c1", "title": "党建引领数字政府建设", "unit": "深圳市某某局", "category": "development",
        "category_name": "发展提质", "prize": "second", "prize_name": "二等奖", "background": "背景介绍。",
        "innovations": ["创新点一", "创新点二"], "results": ["成果一"]}


# -- search -----------------------------------------------------------------------------------------
def test_search_terms_fold_width_and_case_and_all_must_match():
    terms, category = rules.search_terms("  ＡＩ  政务 ", "", CATEGORIES)
    assert (terms, category) == (["ai", "政务"], None)
    case = shown("c1", title="AI 赋能政务 服务", background="")
    assert rules.matches(case, terms, None) is True
    assert rules.matches(case, ["ai", "医疗"], None) is False
    assert rules.matches(shown("c2", background="数字 政府"), ["数字政府"], None) is True
    assert rules.matches(shown("c3", unit="深圳市民政局"), ["民政"], None) is True
    assert rules.matches(shown("c4", results=["群众满意度提升"]), ["满意度"], "service") is False


def test_search_input_over_its_limits_names_the_field():
    with pytest.raises(Invalid) as caught:
        rules.search_terms("词" * 51, "sports", CATEGORIES)
    assert sorted(caught.value.fields) == ["category", "q"]
    assert caught.value.fields["q"] == "关键词不能超过50个字（现有51个），请缩短后再搜索"
    assert rules.search_terms(None, None, CATEGORIES) == ([], None)


# -- order ------------------------------------------------------------------------------------------
def test_grouped_by_category_in_the_competitions_order_then_prize_then_rank():
    cases = [shown("s1", "service", "second", "乙"), shown("d3", "development", "third", "甲"),
             shown("d1", "development", "first", "乙"), shown("d2", "development", "first", "甲"),
             shown("e1", "empowerment", "first", "甲")]
    groups = rules.grouped(rules.ordered(cases, CATEGORIES, PRIZES, {"d1": 1, "d2": 2, "d3": 11, "s1": 6}))
    assert [(category, [(prize, [c["id"] for c in found]) for prize, found in prizes])
            for category, prizes in groups] == [
        ("development", [("first", ["d1", "d2"]), ("third", ["d3"])]),
        ("service", [("second", ["s1"])]),
        ("empowerment", [("first", ["e1"])])]


def test_a_reason_is_required_to_take_a_case_down_and_bounded():
    assert rules.hide_reason("  待核实 ", False) == "待核实"
    assert rules.hide_reason("写了也不要", True) is None
    for raw, field in ((None, "请填写撤下原因"), ("  ", "请填写撤下原因"), ("字" * 501, "不能超过 500 字"), (5, "应为文字")):
        with pytest.raises(Invalid) as caught:
            rules.hide_reason(raw, False)
        assert caught.value.fields == {"reason": field}


def test_flags_are_true_or_false_only():
    assert rules.flag({"consent": False}, "consent", "同意") is False
    for raw in ({"consent": "false"}, {}, None, []):
        with pytest.raises(Invalid) as caught:
            rules.flag(raw, "consent", "同意")
        assert caught.value.fields == {"consent": "应为 true 或 false"}
