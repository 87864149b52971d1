"""One contract for the case repository: the same tests against DynamoDB (moto) and the in-memory twin.

Every condition the DynamoDB transactions check is checked here on both: the stage window (open, or not yet
opened), the case as read (version, status, previous 审核), a returned case's own window, the provincial
recommendation, a new id; each refused write raises the same domain error and leaves the case as it was.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from chalicelib.domain.case_record import Case, new_case
from chalicelib.domain.errors import StageClosed, VersionConflict
from chalicelib.services.repositories import CaseRepository
from chalicelib.store.memory import InMemoryCaseRepository
from tests.integration.backends import BACKENDS, SetStage, with_stages

COMP = "shenzhen-2023"
T = 1_700_000_000.0
WINDOWS = {"submission": (T - 100, T + 100), "text_review": (T + 100, T + 1000), "final": (T + 2000, T + 3000)}
SUBMISSION = (COMP, "submission")
BEFORE_FINAL = (COMP, "final", "before")
BODY = {"category": "development", "title": "党建引领数字政府建设", "recommending_unit": "深圳市某某局",
        "innovations": ["创新点一"], "leader": {"name": "李四"}}

def _dynamodb() -> CaseRepository:
    from chalicelib.store.cases import CaseRepository as DynamoCases
    return DynamoCases()


@pytest.fixture(params=BACKENDS)
def backend(request) -> Iterator[tuple[CaseRepository, SetStage]]:
    repo, set_stage = with_stages(request, COMP, _dynamodb, InMemoryCaseRepository)
    for stage_id, (opens_at, closes_at) in WINDOWS.items():
        set_stage(stage_id, opens_at, closes_at, False)
    yield repo, set_stage


@pytest.fixture
def repo(backend) -> CaseRepository:
    return backend[0]


def draft(repo: CaseRepository, case_id: str = "case0001", owner: str = "acc1", **body: Any) -> Case:
    case = new_case(case_id, COMP, owner, "unit1", {**BODY, **body}, 120, T - 50)
    repo.create(case, SUBMISSION, "unit:unit1", T - 50)
    return case


def submitted(repo: CaseRepository, case_id: str = "case0001") -> Case:
    return repo.set_status(draft(repo, case_id), "submitted", SUBMISSION, "unit:unit1", T - 40, submitted_at=T - 40)


# -- reads ------------------------------------------------------------------------------------------

def test_a_created_case_reads_back_with_its_body_parsed(repo) -> None:
    case = draft(repo)
    stored = repo.get(case.id)
    assert stored == case
    assert (stored.body["title"], stored.category, stored.version, stored.history) == (BODY["title"], "development", 1, ())
    assert stored.category_key == "development#case0001"


def test_unknown_cases_and_versions_are_none(repo) -> None:
    assert repo.get("nosuchcase") is None
    assert repo.get_version("nosuchcase", 1) is None
    assert repo.get_with_stages("nosuchcase", COMP, ("submission",))[0] is None


def test_lists_by_owner_and_by_competition_and_category(repo) -> None:
    draft(repo, "case0001", owner="acc1")
    draft(repo, "case0002", owner="acc2", category="service")
    draft(repo, "case0003", owner="acc1", category="service")
    assert sorted(c.id for c in repo.list_for_owner("acc1")) == ["case0001", "case0003"]
    assert sorted(c.id for c in repo.list_for_competition(COMP)) == ["case0001", "case0002", "case0003"]
    assert sorted(c.id for c in repo.list_for_competition(COMP, "service")) == ["case0002", "case0003"]
    assert repo.list_for_competition("another-competition") == []


def test_summaries_carry_what_the_dashboard_reads_and_no_body(repo) -> None:
    submitted(repo, "case0001")
    draft(repo, "case0002", owner="acc2", category="service")
    found = {s.id: s for s in repo.summaries(COMP)}
    assert sorted(found) == ["case0001", "case0002"]
    assert (found["case0001"].status, found["case0001"].owner_id, found["case0001"].submitted_at) == (
        "submitted", "acc1", T - 40)
    assert (found["case0002"].category_key, found["case0002"].status, found["case0002"].provincial) == (
        "service#case0002", "draft", False)
    assert not hasattr(found["case0001"], "body")
    assert repo.summaries("another-competition") == []


def test_the_history_lists_the_case_s_audit_rows_in_order(repo) -> None:
    submitted(repo, "case0001")
    draft(repo, "case0002")
    trail = repo.history("case0001")
    assert [(e.actor, e.action) for e in trail] == [("unit:unit1", "case.create"), ("unit:unit1", "case.submitted")]
    assert [e.entry_key for e in trail] == sorted(e.entry_key for e in trail)
    assert repo.history("nosuchcase") == []


def test_the_stage_rows_come_with_the_case(repo) -> None:
    case = draft(repo)
    found, rows = repo.get_with_stages(case.id, COMP, ("submission", "coaching"))
    assert found == case
    assert [(r.stage_id, float(r.opens_at), float(r.closes_at)) for r in rows if r is not None] == \
        [("submission", *WINDOWS["submission"])]
    assert rows[1] is None


# -- create -----------------------------------------------------------------------------------------

def test_create_is_refused_outside_the_window(repo) -> None:
    case = new_case("case0001", COMP, "acc1", "unit1", BODY, 120, T + 100)
    with pytest.raises(StageClosed):
        repo.create(case, SUBMISSION, "unit:unit1", T + 100)     # closes_at itself is closed
    with pytest.raises(StageClosed):
        repo.create(case, SUBMISSION, "unit:unit1", T - 101)     # before it opens
    assert repo.get(case.id) is None


def test_create_is_refused_on_a_stage_the_organiser_closed(backend) -> None:
    repo, set_stage = backend
    set_stage("submission", T - 100, T + 100, True)
    with pytest.raises(StageClosed):
        draft(repo)


def test_create_never_overwrites_a_case(repo) -> None:
    draft(repo, title="先")
    with pytest.raises(VersionConflict):
        draft(repo, title="后")
    assert repo.get("case0001").body["title"] == "先"


# -- save_text --------------------------------------------------------------------------------------

def test_save_text_makes_a_new_version_and_keeps_the_old_one(repo) -> None:
    case = draft(repo)
    saved = repo.save_text(case, {**BODY, "title": "新标题", "category": "service"}, 99, SUBMISSION, "unit:unit1", T)
    assert repo.get(case.id) == saved
    assert (saved.version, saved.history, saved.body["title"], saved.char_count) == (2, (1,), "新标题", 99)
    assert (saved.category_key, saved.updated_at, saved.showcase_choice) == ("service#case0001", T, None)
    old = repo.get_version(case.id, 1)
    assert (old.version, old.body["title"], old.status, old.saved_at) == (1, BODY["title"], "draft", T)


def test_save_text_is_refused_on_a_stale_version(repo) -> None:
    case = draft(repo)
    repo.save_text(case, {**BODY, "title": "先"}, 99, SUBMISSION, "unit:unit1", T)
    with pytest.raises(VersionConflict):
        repo.save_text(case, {**BODY, "title": "后"}, 99, SUBMISSION, "unit:unit1", T)
    assert (repo.get(case.id).body["title"], repo.get(case.id).version) == ("先", 2)


def test_save_text_is_refused_when_the_status_changed(repo) -> None:
    case = draft(repo)
    repo.set_status(case, "submitted", SUBMISSION, "unit:unit1", T)
    with pytest.raises(VersionConflict):
        repo.save_text(case, BODY, 99, SUBMISSION, "unit:unit1", T)


def test_save_text_is_refused_after_the_window(repo) -> None:
    case = draft(repo)
    with pytest.raises(StageClosed):
        repo.save_text(case, {**BODY, "title": "迟到"}, 99, SUBMISSION, "unit:unit1", T + 100)
    assert repo.get(case.id) == case
    assert repo.get_version(case.id, 1) is None


def test_a_revision_for_the_provincial_competition_needs_the_recommendation(repo) -> None:
    case = draft(repo)
    with pytest.raises(VersionConflict):
        repo.save_text(case, BODY, 99, SUBMISSION, "unit:unit1", T, recommended=True)
    assert repo.get(case.id).version == 1


# -- set_status -------------------------------------------------------------------------------------

def test_set_status_records_the_submission(repo) -> None:
    case = submitted(repo)
    assert repo.get(case.id) == case
    assert (case.status, case.submitted_at, case.updated_at, case.version) == ("submitted", T - 40, T - 40, 1)
    withdrawn = repo.set_status(case, "withdrawn", SUBMISSION, "unit:unit1", T)
    assert (withdrawn.status, withdrawn.submitted_at) == ("withdrawn", T - 40)


def test_set_status_is_refused_on_the_case_as_it_was(repo) -> None:
    case = draft(repo)
    repo.set_status(case, "submitted", SUBMISSION, "unit:unit1", T)
    with pytest.raises(VersionConflict):
        repo.set_status(case, "submitted", SUBMISSION, "unit:unit1", T)   # a second click on the draft it read
    with pytest.raises(StageClosed):
        repo.set_status(repo.get(case.id), "withdrawn", SUBMISSION, "unit:unit1", T + 100)
    assert repo.get(case.id).status == "submitted"


# -- attachments ------------------------------------------------------------------------------------

RECORD = {"attachment_id": "att1", "filename": "说明书.pdf", "content_type": "application/pdf", "size": 9,
          "status": "pending", "key": "cases/case0001/att1", "created_at": T}


def test_attachments_are_put_and_removed(repo) -> None:
    case = draft(repo)
    with_one = repo.put_attachment(case, RECORD, SUBMISSION, "unit:unit1", T, "attachment.declare")
    assert repo.get(case.id).attachments == with_one.attachments
    assert dict(with_one.attachments["att1"]) == RECORD
    verified = repo.put_attachment(with_one, {**RECORD, "status": "verified"}, SUBMISSION, "unit:unit1", T,
                                   "attachment.verify")
    assert repo.get(case.id).attachments["att1"]["status"] == "verified"
    emptied = repo.remove_attachment(verified, "att1", SUBMISSION, "unit:unit1", T, "attachment.delete")
    assert dict(repo.get(case.id).attachments) == dict(emptied.attachments) == {}


def test_a_confirm_lands_only_while_the_attachment_is_still_pending(repo) -> None:
    """Two confirms of one file at once: the first verified record stands; the second's write, and a refused
    confirm's removal, are refused once the record is no longer pending."""
    pending = repo.put_attachment(draft(repo), RECORD, SUBMISSION, "unit:unit1", T, "attachment.declare")
    first = repo.put_attachment(pending, {**RECORD, "status": "verified", "key": "k1"}, SUBMISSION, "unit:unit1", T,
                                "attachment.verify", pending_only=True)
    with pytest.raises(VersionConflict):
        repo.put_attachment(pending, {**RECORD, "status": "verified", "key": "k2"}, SUBMISSION, "unit:unit1", T,
                            "attachment.verify", pending_only=True)
    with pytest.raises(VersionConflict):
        repo.remove_attachment(pending, "att1", None, "unit:unit1", T, "attachment.reject", pending_only=True)
    assert dict(repo.get(first.id).attachments["att1"]) == {**RECORD, "status": "verified", "key": "k1"}


def test_an_attachment_is_refused_when_the_status_changed_or_the_window_closed(repo) -> None:
    case = draft(repo)
    repo.set_status(case, "submitted", SUBMISSION, "unit:unit1", T)
    with pytest.raises(VersionConflict):
        repo.put_attachment(case, RECORD, SUBMISSION, "unit:unit1", T, "attachment.declare")
    with pytest.raises(StageClosed):
        repo.put_attachment(repo.get(case.id), RECORD, SUBMISSION, "unit:unit1", T + 100, "attachment.declare")
    assert dict(repo.get(case.id).attachments) == {}


def test_a_presentation_lands_only_before_the_final_opens(repo) -> None:
    case = draft(repo)
    with pytest.raises(StageClosed):
        repo.put_attachment(case, RECORD, BEFORE_FINAL, "unit:unit1", T + 2000, "presentation.declare")
    repo.put_attachment(case, RECORD, BEFORE_FINAL, "unit:unit1", T + 1999, "presentation.declare")
    assert list(repo.get(case.id).attachments) == ["att1"]


# -- 审核 and a returned case's own window ----------------------------------------------------------

def test_review_is_refused_before_submission_closes_and_after_text_review(repo) -> None:
    case = submitted(repo)
    with pytest.raises(StageClosed):
        repo.review(case, "returned", "returned", "请补充", T + 500, COMP, "organiser:admin", T + 99)
    with pytest.raises(StageClosed):
        repo.review(case, "returned", "returned", "请补充", T + 1500, COMP, "organiser:admin", T + 1000)
    assert repo.get(case.id) == case


def test_a_review_lands_once_on_the_submitted_case(repo) -> None:
    case = submitted(repo)
    returned = repo.review(case, "returned", "returned", "请补充", T + 500, COMP, "organiser:admin", T + 200)
    assert repo.get(case.id) == returned
    assert (returned.status, returned.review_decision, returned.review_reason, returned.resubmit_by,
            returned.reviewed_at, returned.reviewed_by) == ("returned", "returned", "请补充", T + 500, T + 200,
                                                            "organiser:admin")
    with pytest.raises(VersionConflict):   # the same decision again, on the case as it was read before
        repo.review(case, "rejected", "rejected", "不符合", None, COMP, "organiser:admin", T + 201)
    with pytest.raises(VersionConflict):   # not submitted (returned) any more
        repo.review(returned, "rejected", "rejected", "不符合", None, COMP, "organiser:admin", T + 201)


def returned_case(repo) -> Case:
    return repo.review(submitted(repo), "returned", "returned", "请补充", T + 500, COMP, "organiser:admin", T + 200)


def test_a_returned_case_is_written_in_its_own_window_only(repo) -> None:
    case = returned_case(repo)
    saved = repo.save_text(case, {**BODY, "title": "改正"}, 99, None, "unit:unit1", T + 499)
    assert saved.version == 2
    with pytest.raises(VersionConflict):
        repo.save_text(saved, {**BODY, "title": "过期"}, 99, None, "unit:unit1", T + 500)
    with pytest.raises(VersionConflict):
        repo.put_attachment(saved, RECORD, None, "unit:unit1", T + 500, "attachment.declare")
    with_one = repo.put_attachment(saved, RECORD, None, "unit:unit1", T + 499, "attachment.declare")
    with pytest.raises(VersionConflict):
        repo.remove_attachment(with_one, "att1", None, "unit:unit1", T + 500, "attachment.delete")
    resubmitted = repo.set_status(with_one, "submitted", None, "unit:unit1", T + 499, submitted_at=T + 499)
    assert (repo.get(case.id).status, repo.get(case.id).submitted_at) == ("submitted", T + 499) == \
        (resubmitted.status, resubmitted.submitted_at)


def test_a_second_review_needs_the_previous_decision_as_read(repo) -> None:
    case = returned_case(repo)
    again = repo.set_status(case, "submitted", None, "unit:unit1", T + 300)
    accepted = repo.review(again, "submitted", "accepted", None, None, COMP, "organiser:admin", T + 400)
    assert (accepted.review_decision, accepted.review_reason, accepted.resubmit_by) == ("accepted", None, None)
    assert repo.get(case.id) == accepted
    with pytest.raises(VersionConflict):   # reviewed_at changed since `again` was read
        repo.review(again, "submitted", "accepted", None, None, COMP, "organiser:admin", T + 401)


# -- receive (省赛推荐: a case sent on from a feeder competition) ----------------------------------------

FEEDER = "feeder-2023"


def recommended_source(repo: CaseRepository, case_id: str = "src00001", provincial: bool = True) -> Case:
    """A case of the feeder competition, awarded and (by default) recommended to the one `COMP` stands for."""
    from dataclasses import replace
    case = new_case(case_id, FEEDER, "acc1", "unit1", BODY, 120, T - 500)
    if isinstance(repo, InMemoryCaseRepository):
        repo.put(replace(case, status="awarded", provincial=provincial))
    else:
        from chalicelib.store import cases as case_store
        from chalicelib.store.models import Case as Row
        case_store._row(case).save()
        Row(case_id).update(actions=[Row.status.set("awarded"), Row.provincial.set(provincial)])
    stored = repo.get(case_id)
    assert stored is not None
    return stored


def arriving(source: Case, case_id: str = "new00001", status: str = "submitted") -> Case:
    from dataclasses import replace
    from chalicelib.domain.case_record import category_key, frozen_map
    return replace(source, id=case_id, competition_id=COMP, status=status, version=1, created_at=T, updated_at=T,
                   provincial=False, category_key=category_key(source.category, case_id),
                   submitted_at=T if status == "submitted" else None,
                   attachments=frozen_map({"att1": {"attachment_id": "att1", "filename": "说明.pdf",
                                                    "content_type": "application/pdf", "size": 12,
                                                    "status": "verified", "key": f"cases/{case_id}/att1",
                                                    "created_at": 1.0}}),
                   source=frozen_map({"competition": FEEDER, "case_id": source.id, "version": source.version}))


def test_a_received_case_reads_back_with_its_source_and_audit_rows_on_both(repo) -> None:
    source = recommended_source(repo)
    new = arriving(source)
    repo.receive(new, source, SUBMISSION, "organiser:boss", T, {"from": "深圳选拔赛"}, {"to": "省赛"})
    stored = repo.get(new.id)
    assert stored == new
    assert dict(stored.source or {}) == {"competition": FEEDER, "case_id": source.id, "version": 1}
    assert [c.id for c in repo.list_for_competition(COMP)] == [new.id]
    assert [r.action for r in repo.history(new.id)] == ["case.received"]
    assert [r.action for r in repo.history(source.id)] == ["case.sent"]


def test_a_case_is_received_once(repo) -> None:
    from chalicelib.domain.errors import Duplicate
    source = recommended_source(repo)
    new = arriving(source)
    repo.receive(new, source, SUBMISSION, "organiser:boss", T, {}, {})
    with pytest.raises(Duplicate):
        repo.receive(as_draft(new), source, SUBMISSION, "organiser:boss", T + 1, {}, {})
    assert repo.get(new.id) == new
    assert [r.action for r in repo.history(source.id)] == ["case.sent"]


def as_draft(case: Case) -> Case:
    from dataclasses import replace
    return replace(case, status="draft")


def test_a_case_no_longer_recommended_or_outside_the_window_is_not_received(repo) -> None:
    from chalicelib.domain.errors import Conflict
    source = recommended_source(repo, provincial=False)
    with pytest.raises(Conflict):
        repo.receive(arriving(source), source, SUBMISSION, "organiser:boss", T, {}, {})
    source = recommended_source(repo, "src00002")
    with pytest.raises(StageClosed):
        repo.receive(arriving(source, "new00002"), source, SUBMISSION, "organiser:boss", T + 500, {}, {})
    assert repo.get("new00001") is None and repo.get("new00002") is None
    draft_arrival = arriving(source, "new00003", status="draft")
    repo.receive(draft_arrival, source, BEFORE_FINAL, "organiser:boss", T, {}, {})   # before a stage opens
    assert repo.get("new00003") == draft_arrival
