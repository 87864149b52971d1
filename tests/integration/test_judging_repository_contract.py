"""One contract for the judging repository: the same tests against DynamoDB (moto) and the in-memory twin.

Every condition the DynamoDB transactions check is checked here on both: a slot's write only while its stage
is open and while the slot is still the judge's (not removed, not recused), new slots never over an existing
one, extra judges' slots only while the stage is open, a session opened only from the link in force; each
refused write raises the same domain error (or answers False) and leaves what was stored as it was.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from chalicelib.domain.errors import Invalid, NotFound, StageClosed
from chalicelib.domain.judging_record import Judge, JudgeSession, new_slot
from chalicelib.services.repositories import JudgingRepository
from chalicelib.store.memory_judging import InMemoryJudgingRepository
from tests.integration.backends import BACKENDS, SetStage, with_stages

COMP = "shenzhen-2023"
T = 1_700_000_000.0
STAGE = "text_review"
ORGANISER = "organiser:boss"

def _dynamodb() -> JudgingRepository:
    from chalicelib.store.judging import JudgingRepository as DynamoJudging
    return DynamoJudging()


@pytest.fixture(params=BACKENDS)
def backend(request) -> Iterator[tuple[JudgingRepository, SetStage]]:
    repo, set_stage = with_stages(request, COMP, _dynamodb, InMemoryJudgingRepository)
    set_stage(STAGE, T - 100, T + 100, False)
    yield repo, set_stage


@pytest.fixture
def repo(backend) -> JudgingRepository:
    return backend[0]


def judge(judge_id: str = "j1", **fields) -> Judge:
    values = {"name": "评委一", "email": f"{judge_id}@example.org", "affiliation": "单位乙",
              "categories": ("development",), "conflicts": ("单位丙",), "created_at": T, "updated_at": T, **fields}
    return Judge(COMP, judge_id, **values)


def assigned(repo: JudgingRepository, *pairs: tuple[str, str], category: str = "development",
             stage: str = STAGE) -> None:
    repo.create_slots(COMP, [new_slot(stage, j, c, category, f"案例{c}", T) for j, c in pairs], ORGANISER, T,
                      {"stage": stage})


def test_judges_are_saved_listed_and_read_back(repo) -> None:
    repo.save_judge(judge("j2", mobile="13800000000"), ORGANISER, T, "judge.create")
    repo.save_judges([judge("j1"), judge("j3", categories=("development", "governance"))], ORGANISER, T)
    assert [j.judge_id for j in repo.list_judges(COMP)] == ["j1", "j2", "j3"]
    assert repo.get_judge(COMP, "j2") == judge("j2", mobile="13800000000")
    assert repo.get_judge(COMP, "j3").categories == ("development", "governance")
    assert repo.get_judge(COMP, "nobody") is None and repo.list_judges("another") == []


def test_slots_are_listed_by_judge_by_category_and_by_stage(repo) -> None:
    assigned(repo, ("j1", "c1"), ("j2", "c1"), ("j1", "c2"))
    assigned(repo, ("j1", "c3"), category="governance")
    assigned(repo, ("j1", "c1"), stage="final")
    assert [s.case_id for s in repo.slots_of_judge(COMP, STAGE, "j1")] == ["c1", "c2", "c3"]
    assert [(s.case_id, s.judge_id) for s in repo.slots_of_category(COMP, STAGE, "development")] == [
        ("c1", "j1"), ("c1", "j2"), ("c2", "j1")]
    assert [s.judge_id for s in repo.slots_of_category(COMP, STAGE, "development", "c1")] == ["j1", "j2"]
    assert len(repo.slots_of_stage(COMP, STAGE, ["development", "governance"])) == 4
    assert [s.case_id for s in repo.slots_of_judge(COMP, "final", "j1")] == ["c1"]
    slot = repo.slots_of_judge(COMP, STAGE, "j1")[0]
    assert (slot.stage, slot.category, slot.title, slot.scored, slot.recused, slot.source, slot.criteria) == (
        STAGE, "development", "案例c1", False, False, "plan", None)


def test_a_projected_read_keeps_the_fields_asked_for(repo) -> None:
    assigned(repo, ("j1", "c1"))
    (slot,) = repo.slots_of_category(COMP, STAGE, "development", "c1", attributes=("judge_id",))
    assert (slot.judge_id, slot.case_id, slot.stage, slot.category) == ("j1", "c1", STAGE, "development")


def test_a_slot_is_added_once_and_removed_once(repo) -> None:
    repo.add_slot(COMP, new_slot(STAGE, "j1", "c1", "development", "案例", T, source="organiser"), ORGANISER, T)
    with pytest.raises(Invalid):
        repo.add_slot(COMP, new_slot(STAGE, "j1", "c1", "development", "案例", T), ORGANISER, T)
    assert [s.source for s in repo.slots_of_judge(COMP, STAGE, "j1")] == ["organiser"]
    repo.remove_slot(COMP, STAGE, "j1", "c1", ORGANISER, T)
    with pytest.raises(NotFound):
        repo.remove_slot(COMP, STAGE, "j1", "c1", ORGANISER, T)
    assert repo.slots_of_judge(COMP, STAGE, "j1") == []


def test_extra_slots_land_only_while_the_stage_is_open(backend) -> None:
    repo, set_stage = backend
    repo.create_extra_slots([new_slot(STAGE, "j1", "c1", "development", "案例", T, source="extra")], COMP,
                            ORGANISER, T, {})
    assert [s.source for s in repo.slots_of_judge(COMP, STAGE, "j1")] == ["extra"]
    with pytest.raises(StageClosed):
        repo.create_extra_slots([new_slot(STAGE, "j2", "c1", "development", "案例", T + 200, source="extra")],
                                COMP, ORGANISER, T + 200, {})
    set_stage(STAGE, T - 100, T + 100, True)
    with pytest.raises(StageClosed):
        repo.create_extra_slots([new_slot(STAGE, "j2", "c1", "development", "案例", T, source="extra")], COMP,
                                ORGANISER, T, {})
    assert repo.slots_of_judge(COMP, STAGE, "j2") == []


def test_a_score_is_written_and_read_back_with_the_stage_row(repo) -> None:
    assigned(repo, ("j1", "c1"))
    slot, row = repo.get_slot_and_stage(STAGE, "j1", "c1", COMP)
    assert slot is not None and row is not None
    assert (row.stage_id, row.opens_at, row.closes_at, row.closed) == (STAGE, T - 100, T + 100, False)
    saved = repo.write_slot(slot, {"criteria": {"a": 250, "b": 300}, "total": 550, "comment": None,
                                   "scored": True, "scored_at": T}, COMP, "judge:j1", "score.save", T, None, {})
    stored, _ = repo.get_slot_and_stage(STAGE, "j1", "c1", COMP)
    assert stored == saved
    assert (dict(stored.criteria), stored.total, stored.comment, stored.scored, stored.scored_at) == (
        {"a": 250, "b": 300}, 550, None, True, T)
    assert repo.scores_of_category(COMP, STAGE, "development") == [("c1", "j1", {"a": 250, "b": 300}, "plan")]
    assert repo.get_slot_and_stage(STAGE, "j9", "c1", COMP)[0] is None


def test_a_draft_of_feedback_is_kept_and_replaced(repo) -> None:
    assigned(repo, ("j1", "c1"))
    slot = repo.slots_of_judge(COMP, STAGE, "j1")[0]
    repo.write_slot(slot, {"feedback": ["一"], "scored": True, "scored_at": T}, COMP, "judge:j1", "feedback.save",
                    T, None, ["一"])
    repo.write_slot(slot, {"feedback": ["一", "二"], "scored": True, "scored_at": T + 1}, COMP, "judge:j1",
                    "feedback.save", T + 1, ["一"], ["一", "二"])
    stored = repo.slots_of_judge(COMP, STAGE, "j1")[0]
    assert (stored.feedback, stored.scored_at) == (("一", "二"), T + 1)
    assert repo.scores_of_category(COMP, STAGE, "development") == []     # no criteria: not a score


def test_write_slot_is_refused_after_the_close(backend) -> None:
    repo, set_stage = backend
    assigned(repo, ("j1", "c1"))
    slot = repo.slots_of_judge(COMP, STAGE, "j1")[0]
    with pytest.raises(StageClosed):
        repo.write_slot(slot, {"total": 1, "scored": True}, COMP, "judge:j1", "score.save", T + 100, None, {})
    set_stage(STAGE, T - 100, T + 100, True)
    with pytest.raises(StageClosed):
        repo.write_slot(slot, {"total": 1, "scored": True}, COMP, "judge:j1", "score.save", T, None, {})
    assert repo.slots_of_judge(COMP, STAGE, "j1")[0] == slot


def test_write_slot_is_refused_on_a_slot_no_longer_as_read(repo) -> None:
    """The slot as read is stale once it was recused or removed: the write is refused."""
    assigned(repo, ("j1", "c1"), ("j1", "c2"))
    first, second = repo.slots_of_judge(COMP, STAGE, "j1")
    repo.write_slot(first, {"recused": True, "recusal_reason": "同事"}, COMP, "judge:j1", "assignment.recuse", T,
                    None, "同事")
    with pytest.raises(NotFound):
        repo.write_slot(first, {"total": 1, "scored": True}, COMP, "judge:j1", "score.save", T, None, {})
    repo.remove_slot(COMP, STAGE, "j1", "c2", ORGANISER, T)
    with pytest.raises(NotFound):
        repo.write_slot(second, {"total": 1, "scored": True}, COMP, "judge:j1", "score.save", T, None, {})
    (stored,) = repo.slots_of_judge(COMP, STAGE, "j1")
    assert (stored.recused, stored.recusal_reason, stored.scored) == (True, "同事", False)


def test_links_are_set_revoked_and_read_by_stage(repo) -> None:
    repo.set_links(COMP, [("j1", "tag:seed1", "hash1"), ("j2", "tag:seed2", "hash2")], {}, STAGE, ORGANISER, T)
    repo.set_links(COMP, [("j1", "tag:seed3", "hash3")], {}, "final", ORGANISER, T)
    links = repo.links_of(COMP, STAGE, ["j1", "j2", "j9"])
    assert sorted(links) == ["j1", "j2"]
    assert (links["j1"].judge_id, links["j1"].stage, links["j1"].link_hash, links["j1"].link_id,
            links["j1"].issued_at, links["j1"].opened_at) == ("j1", STAGE, "hash1", "tag:seed1", T, None)
    assert repo.revoke_link(COMP, "j1", STAGE, ORGANISER, T + 1) is True
    assert repo.revoke_link(COMP, "j1", STAGE, ORGANISER, T + 2) is False
    assert repo.revoke_link(COMP, "j9", STAGE, ORGANISER, T + 2) is False
    revoked = repo.links_of(COMP, STAGE, ["j1"])["j1"]
    assert (revoked.link_hash, revoked.link_id, revoked.revoked_at) == (None, None, T + 1)
    both = repo.links_of_stages(COMP, {STAGE: ["j1", "j2"], "final": ["j1", "j2"], "coaching": []})
    assert {s: sorted(by_judge) for s, by_judge in both.items()} == {
        STAGE: ["j1", "j2"], "final": ["j1"], "coaching": []}
    assert both["final"]["j1"].link_hash == "hash3"
    assert repo.links_of(COMP, STAGE, []) == {}


def test_a_new_link_replaces_the_one_in_force(repo) -> None:
    repo.set_links(COMP, [("j1", "tag:seed1", "hash1")], {}, STAGE, ORGANISER, T)
    repo.set_links(COMP, [("j1", "tag:seed2", "hash2")], {}, STAGE, ORGANISER, T + 1, "link.reissue")
    link, row = repo.link_and_stage("j1", STAGE, COMP)
    assert link is not None and (link.link_hash, link.issued_at) == ("hash2", T + 1)
    assert row is not None and row.stage_id == STAGE
    assert repo.link_and_stage("j9", "final", COMP) == (None, None)


def test_a_session_opens_only_from_the_link_in_force(repo) -> None:
    repo.set_links(COMP, [("j1", "tag:seed1", "hash1")], {}, STAGE, ORGANISER, T)
    old = JudgeSession("token-old", "j1", STAGE, "hash0", "csrf", T, T + 1000)
    assert repo.open_session(COMP, old, T) is False
    assert repo.session_and_link(COMP, "token-old", "j1", STAGE)[0] is None
    session = JudgeSession("token1", "j1", STAGE, "hash1", "csrf1", T + 5, T + 1000)
    assert repo.open_session(COMP, session, T + 5) is True
    assert repo.open_session(COMP, JudgeSession("token2", "j1", STAGE, "hash1", "csrf2", T + 9, T + 1000), T + 9)
    stored, link = repo.session_and_link(COMP, "token1", "j1", STAGE)
    assert stored == session
    assert link is not None and link.opened_at == T + 5       # the first session marks the link opened
    repo.revoke_link(COMP, "j1", STAGE, ORGANISER, T + 10)
    assert repo.open_session(COMP, JudgeSession("token3", "j1", STAGE, "hash1", "csrf3", T + 11, T + 1000), T + 11) is False
    stored, link = repo.session_and_link(COMP, "token1", "j1", STAGE)
    assert stored == session and link is not None and link.link_hash is None


def test_showing_links_is_recorded_without_a_change(repo) -> None:
    repo.set_links(COMP, [("j1", "tag:seed1", "hash1")], {}, STAGE, ORGANISER, T)
    repo.audit_links_shown(COMP, STAGE, ["j1"], ORGANISER, T)
    assert repo.links_of(COMP, STAGE, ["j1"])["j1"].link_hash == "hash1"


# -- two competitions on the same tables (issue 17): same stage ids, same judge ids, same categories ----------
NEXT = "shenzhen-2024"


def test_two_competitions_with_the_same_stage_and_judge_ids_do_not_see_each_others_slots(backend) -> None:
    repo, _ = backend
    assigned(repo, ("j1", "c1"), ("j2", "c1"))
    repo.create_slots(NEXT, [new_slot(STAGE, "j1", "c9", "development", "案例c9", T)], ORGANISER, T, {})
    assert [s.case_id for s in repo.slots_of_judge(COMP, STAGE, "j1")] == ["c1"]
    assert [s.case_id for s in repo.slots_of_judge(NEXT, STAGE, "j1")] == ["c9"]
    assert [(s.case_id, s.judge_id) for s in repo.slots_of_category(NEXT, STAGE, "development")] == [("c9", "j1")]
    assert len(repo.slots_of_stage(COMP, STAGE, ["development"])) == 2
    repo.add_slot(NEXT, new_slot(STAGE, "j1", "c1", "development", "案例", T), ORGANISER, T)   # not a duplicate
    repo.remove_slot(COMP, STAGE, "j2", "c1", ORGANISER, T)
    with pytest.raises(NotFound):
        repo.remove_slot(NEXT, STAGE, "j2", "c1", ORGANISER, T)
    assert repo.get_slot_and_stage(STAGE, "j2", "c1", NEXT)[0] is None
    assert [s.case_id for s in repo.slots_of_judge(NEXT, STAGE, "j1")] == ["c1", "c9"]


def test_two_competitions_keep_their_scores_apart(backend) -> None:
    repo, set_stage = backend
    assigned(repo, ("j1", "c1"))
    slot = repo.slots_of_judge(COMP, STAGE, "j1")[0]
    repo.write_slot(slot, {"criteria": {"a": 100}, "total": 100, "scored": True, "scored_at": T}, COMP, "judge:j1",
                    "score.save", T, None, {})
    assert repo.scores_of_category(NEXT, STAGE, "development") == []
    with pytest.raises((NotFound, StageClosed)):   # no slot and no stage row in 2024
        repo.write_slot(slot, {"total": 1, "scored": True}, NEXT, "judge:j1", "score.save", T, None, {})
    assert repo.scores_of_category(COMP, STAGE, "development") == [("c1", "j1", {"a": 100}, "plan")]


def test_two_competitions_with_the_same_judge_ids_have_their_own_links_and_sessions(repo) -> None:
    repo.set_links(COMP, [("j1", "tag:seed1", "hash1")], {}, STAGE, ORGANISER, T)
    repo.set_links(NEXT, [("j1", "tag:seed2", "hash2")], {}, STAGE, ORGANISER, T)
    assert repo.links_of(COMP, STAGE, ["j1"])["j1"].link_hash == "hash1"
    assert repo.links_of(NEXT, STAGE, ["j1"])["j1"].link_hash == "hash2"
    assert repo.links_of_stages(NEXT, {STAGE: ["j1"]})[STAGE]["j1"].link_id == "tag:seed2"
    assert repo.open_session(NEXT, JudgeSession("t", "j1", STAGE, "hash1", "c", T, T + 9), T) is False
    assert repo.revoke_link(NEXT, "j1", STAGE, ORGANISER, T) is True
    assert repo.links_of(COMP, STAGE, ["j1"])["j1"].link_hash == "hash1"       # 2023's stays in force
    assert repo.link_and_stage("j1", STAGE, NEXT)[0].link_hash is None
    assert repo.session_and_link(NEXT, "t", "j1", STAGE)[0] is None
