"""Stage ids: the StageId enum is the contract's strings, parsing goes through one function, and chalicelib/
names stages by the enum (a bare stage-id string outside domain/competition.py is a field or page name)."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from chalicelib import competitions
from chalicelib.domain.competition import (
    COACHING_ROUNDS, JUDGED_STAGES, STAGE_NAMES, STAGE_ORDER, StageId, competition_from_config, parse_stage,
)
from chalicelib.domain.errors import NotFound

CONTRACT_IDS = ("submission", "text_review", "coaching", "final", "provincial")
ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
# The string constants equal to a stage id that name something else, each by its value and a piece of its line:
# the case's 省赛推荐 attribute and the answers' field of it, a ranking's "final" (closed) flag, the answer's
# `coaching` window field and the mail's `coaching` flag, a flash message's key, the live final's nav section.
NOT_A_STAGE = (
    ("provincial", "SUMMARY_FIELDS = ("), ("provincial", "RANKED_CASE_FIELDS = ("),
    ("provincial", "MARK_CASE_FIELDS = ("), ("provincial", '"provincial": bool(case.provincial)'),
    ("provincial", '"provincial": e["case_id"] in provincial'), ("provincial", '"provincial": recommended'),
    ("provincial", 'e.get("provincial")'), ("provincial", 'marked["provincial"]'),
    ("provincial", '"provincial": "省赛推荐标记已保存。"'),
    ("final", '"final": window.closed'), ("final", 'review["final"]'), ("final", 'ranking["final"]'),
    ("final", 'section="final"'),
    ("coaching", '"coaching": _window('), ("coaching", '"coaching": is_coaching(stage)'),
)


def test_the_enum_is_the_contracts_ids_in_the_notices_order():
    assert tuple(StageId) == STAGE_ORDER
    assert tuple(str(s) for s in STAGE_ORDER) == CONTRACT_IDS
    assert JUDGED_STAGES == STAGE_ORDER[1:]
    assert set(COACHING_ROUNDS) == {StageId.COACHING, StageId.PROVINCIAL}
    assert all(type(s) is StageId for s in (*STAGE_ORDER, *JUDGED_STAGES, *COACHING_ROUNDS))


def test_each_stage_has_the_notices_chinese_name_as_the_config_has_it():
    comp = competition_from_config(competitions.load("shenzhen-2023"))
    assert [s.chinese_name for s in StageId] == ["文本申报", "文本评审", "专家辅导", "综合评选", "省赛准备"]
    assert {s: comp.stage_name(s) for s in StageId} == STAGE_NAMES


def test_a_member_is_written_as_its_string_in_json_and_in_a_dynamodb_item():
    from chalicelib.store.models import Stage
    assert json.dumps({StageId.FINAL: [StageId.TEXT_REVIEW]}) == '{"final": ["text_review"]}'
    assert f"{StageId.COACHING}#c1" == "coaching#c1" and str(StageId.PROVINCIAL) == "provincial"
    assert StageId.FINAL == "final" and {"final": 1}[StageId.FINAL] == 1
    item = Stage("shenzhen-2023", StageId.TEXT_REVIEW, opens_at=1, closes_at=2).serialize()
    assert json.loads(json.dumps(item))["stage_id"] == {"S": "text_review"}


def test_parsing_a_stage_id_gives_the_member_or_not_found():
    assert parse_stage("final") is StageId.FINAL
    assert parse_stage("coaching", JUDGED_STAGES) is StageId.COACHING
    for bad in ("Final", "", "results", None, 5, ["final"]):
        with pytest.raises(NotFound) as e:
            parse_stage(bad)
        assert e.value.code == "not_found" and "可选 submission, text_review" in e.value.message
    with pytest.raises(NotFound, match="只有文本评审"):
        parse_stage("submission", JUDGED_STAGES, "只有文本评审、专家辅导、综合评选和赛前辅导（省赛准备）有评委分配")


def test_no_bare_stage_id_string_is_left_in_chalicelib():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path == ROOT / "domain" / "competition.py":
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and node.value in CONTRACT_IDS:
                line = lines[node.lineno - 1]
                if not any(node.value == value and piece in line for value, piece in NOT_A_STAGE):
                    found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {line.strip()}")
    assert found == [], "a stage id is StageId.X (chalicelib/domain/competition.py):\n" + "\n".join(found)
