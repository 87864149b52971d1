"""services/cases.py on the in-memory case repository: no DynamoDB, no moto (`make test-fast` runs these).

The stage rows are the competition's own 2023 windows; the clock is a datetime the test passes in.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import competitions
from chalicelib.domain.case_record import new_case
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound, StageClosed, VersionConflict
from chalicelib.services import cases, notifications
from chalicelib.services.accounts import Principal
from chalicelib.store.memory import InMemoryCaseRepository
from chalicelib.store.memory_mail import InMemoryMailRepository

CHINA = timezone(timedelta(hours=8))
IN_SUBMISSION = datetime(2023, 6, 1, 10, 0, tzinfo=CHINA)
COMP = competition_from_config(competitions.load("shenzhen-2023"))
OF = {COMP.id: COMP}.__getitem__   # a competition by its id (bootstrap.competition_by_id)
UNIT = Principal("unit", "t1", account_id="acc1", username="unit1", unit_name="深圳市第1局")
OTHER = Principal("unit", "t2", account_id="acc2", username="unit2", unit_name="深圳市第2局")
ORGANISER = Principal("organiser", "t3", account_id="org1", username="admin")
BODY = {"category": "development", "recommending_unit": "深圳市某某局", "title": "党建引领数字政府建设",
        "leader": {"name": "李四", "position": "处长", "office_phone": "0755-88134324", "mobile": "13912345678",
                   "gender": "female", "rank_level": "section_or_below", "birth_date": "1988-05-04"},
        "contact": {"name": "王五", "position": "科员", "office_phone": "88134324", "mobile": "13712345678"},
        "background": "背景介绍。" * 20, "innovations": ["创新点一", "创新点二"], "results": ["成果一"],
        "originality_pledge": True}
SUBMISSION_CLOSES = next(w.closes_at for w in COMP.default_windows if w.id == "submission")


class Transport:
    """Keeps the mail it is given (the submission receipt)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> str:
        self.sent.append(message)
        return f"message-{len(self.sent)}"


MAILING = notifications.Mailing(
    lambda: SimpleNamespace(transport=Transport(), sender="noreply@example.org", site_url="https://saiping.example"),
    COMP, InMemoryMailRepository())


@pytest.fixture
def repo() -> InMemoryCaseRepository:
    twin = InMemoryCaseRepository()
    for w in COMP.default_windows:
        twin.set_stage(COMP.id, w.id, w.opens_at.timestamp(), w.closes_at.timestamp())
    return twin


@pytest.fixture
def draft(repo):
    case = new_case("case0001", COMP.id, "acc1", "unit1", BODY, 120, IN_SUBMISSION.timestamp() - 60)
    repo.put(case)
    return case


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_case_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_a_unit_reads_and_lists_its_own_cases_only(repo, draft) -> None:
    assert cases.get(repo, UNIT, draft.id) == draft
    assert cases.get(repo, ORGANISER, draft.id) == draft
    with pytest.raises(Forbidden):
        cases.get(repo, OTHER, draft.id)
    with pytest.raises(NotFound):
        cases.get(repo, UNIT, "nosuchcase")
    assert [c.id for c in cases.list_cases(repo, COMP, UNIT, None)] == [draft.id]
    assert cases.list_cases(repo, COMP, UNIT, "service") == []
    assert cases.list_cases(repo, COMP, OTHER, None) == []
    assert [c.id for c in cases.list_cases(repo, COMP, ORGANISER, "development")] == [draft.id]
    with pytest.raises(Invalid):
        cases.list_cases(repo, COMP, ORGANISER, "nosuchcategory")


def test_the_view_shows_the_parsed_body(repo, draft) -> None:
    view = cases.case_view(draft)
    assert (view["title"], view["status"], view["status_name"], view["version"], view["history"]) == \
        (BODY["title"], "draft", "草稿", 1, [])
    assert view["attachments"] == [] and view["review"] is None


def test_an_edit_makes_a_new_version_and_keeps_the_old_one(repo, draft) -> None:
    saved = cases.update(repo, COMP, UNIT, draft.id, {**BODY, "title": "新标题", "version": 1}, IN_SUBMISSION, competition_of=OF)
    assert (saved.version, saved.history, saved.title) == (2, (1,), "新标题")
    assert repo.get(draft.id) == saved
    assert cases.version_view(repo, UNIT, draft.id, 1)["title"] == BODY["title"]
    assert cases.version_view(repo, UNIT, draft.id, 2) == {"id": draft.id, "version": 2, **saved.body, "current": True}
    with pytest.raises(NotFound):
        cases.version_view(repo, UNIT, draft.id, 3)
    assert [a for _, _, a in repo.audit] == ["case.edit"]


def test_an_edit_on_a_stale_version_is_a_conflict(repo, draft) -> None:
    cases.update(repo, COMP, UNIT, draft.id, {**BODY, "title": "先", "version": 1}, IN_SUBMISSION, competition_of=OF)
    with pytest.raises(VersionConflict):
        cases.update(repo, COMP, UNIT, draft.id, {**BODY, "title": "后", "version": 1}, IN_SUBMISSION, competition_of=OF)
    assert repo.get(draft.id).title == "先"


def test_an_edit_after_the_window_is_closed(repo, draft) -> None:
    with pytest.raises(StageClosed):
        cases.update(repo, COMP, UNIT, draft.id, {**BODY, "version": 1}, SUBMISSION_CLOSES, competition_of=OF)
    with pytest.raises(Forbidden):
        cases.update(repo, COMP, OTHER, draft.id, {**BODY, "version": 1}, IN_SUBMISSION, competition_of=OF)
    assert repo.get(draft.id) == draft


def test_submit_and_withdraw_in_the_window(repo, draft) -> None:
    submitted = cases.submit(repo, COMP, UNIT, draft.id, IN_SUBMISSION, mailing=MAILING, competition_of=OF)
    assert (submitted.status, submitted.submitted_at) == ("submitted", IN_SUBMISSION.timestamp())
    assert cases.submit(repo, COMP, UNIT, draft.id, IN_SUBMISSION, mailing=MAILING, competition_of=OF) == submitted    # a repeated request
    withdrawn = cases.withdraw(repo, COMP, UNIT, draft.id, IN_SUBMISSION, competition_of=OF)
    assert repo.get(draft.id) == withdrawn and withdrawn.status == "withdrawn"
    with pytest.raises(StageClosed):
        cases.submit(repo, COMP, UNIT, draft.id, SUBMISSION_CLOSES, mailing=MAILING, competition_of=OF)
    assert [a for _, _, a in repo.audit] == ["case.submitted", "case.withdrawn"]


def test_an_incomplete_case_is_not_submitted(repo) -> None:
    repo.put(new_case("case0002", COMP.id, "acc1", "unit1", {**BODY, "title": ""}, 100, IN_SUBMISSION.timestamp()))
    with pytest.raises(Invalid):
        cases.submit(repo, COMP, UNIT, "case0002", IN_SUBMISSION, mailing=MAILING, competition_of=OF)
    assert repo.get("case0002").status == "draft"


def test_a_submission_that_lost_the_race_to_the_same_submission_is_answered_as_done(repo, draft) -> None:
    """The twin lands the other click first: the case read is a draft, the write finds it submitted."""
    class Racing(InMemoryCaseRepository):
        def set_status(self, case, status, *args, **kwargs):
            super().set_status(case, status, *args, **kwargs)
            return super().set_status(case, status, *args, **kwargs)
    racing = Racing()
    racing.stages, racing.cases = repo.stages, repo.cases
    assert cases.submit(racing, COMP, UNIT, draft.id, IN_SUBMISSION, mailing=MAILING, competition_of=OF).status == "submitted"


def test_a_returned_case_has_its_own_window(repo, draft) -> None:
    from dataclasses import replace
    returned = replace(draft, status="returned", review_decision="returned",
                       resubmit_by=(SUBMISSION_CLOSES + timedelta(days=3)).timestamp())
    repo.put(returned)
    after_close = SUBMISSION_CLOSES + timedelta(days=1)
    assert cases.editable(repo, COMP, UNIT, draft.id, after_close, competition_of=OF).stage_id is None
    saved = cases.update(repo, COMP, UNIT, draft.id, {**BODY, "title": "改正", "version": 1}, after_close, competition_of=OF)
    assert cases.submit(repo, COMP, UNIT, draft.id, after_close, mailing=MAILING, competition_of=OF).status == "submitted"
    assert saved.version == 2
    with pytest.raises(StageClosed):      # resubmitted after the submission window: no withdrawal
        cases.withdraw(repo, COMP, UNIT, "case0001", after_close, competition_of=OF)
    repo.put(returned)
    with pytest.raises(StageClosed):      # its own window has ended
        cases.update(repo, COMP, UNIT, draft.id, {**BODY, "version": 1}, after_close + timedelta(days=5), competition_of=OF)


def test_a_rejected_case_is_not_submitted_again(repo, draft) -> None:
    from dataclasses import replace
    repo.put(replace(draft, status="rejected", review_decision="rejected", review_reason="不符合要求"))
    with pytest.raises(Conflict):
        cases.submit(repo, COMP, UNIT, draft.id, IN_SUBMISSION, mailing=MAILING, competition_of=OF)
