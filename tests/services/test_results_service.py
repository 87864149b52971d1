"""services/results.py, final_stage.py and showcase.py on the in-memory twins: no DynamoDB, no moto.

The competition is the 2023 one with an advance quota of 2, so four cases show the cut. The judges' scores are
scored slots in the judging twin; the result mail, which goes
through the mail outbox, is recorded instead of sent.
"""
from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import competitions
from chalicelib.domain import draw as draw_rules
from chalicelib.domain.case_record import Case, new_case
from chalicelib.domain.competition import StageId, competition_from_config
from chalicelib.domain.errors import Conflict
from chalicelib.domain.judging_record import new_slot
from chalicelib.services import final_stage, results, showcase
from chalicelib.services.accounts import Principal
from chalicelib.store.memory_judging import InMemoryJudgingRepository
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_mail import InMemoryMailRepository
from chalicelib.store.memory_results import (
    InMemoryFinalRepository, InMemoryResultRepository, InMemoryShowcaseRepository, InMemoryStageRepository,
)

RAW = copy.deepcopy(competitions.load("shenzhen-2023"))
RAW["quotas"]["advance_per_category"] = 2
COMP = competition_from_config(RAW)
WINDOWS = {w.id: w for w in COMP.default_windows}
AFTER_REVIEW = WINDOWS[StageId.TEXT_REVIEW].closes_at + timedelta(minutes=5)
AFTER_FINAL = WINDOWS[StageId.FINAL].closes_at + timedelta(minutes=5)
UNIT = Principal("unit", "t1", account_id="acc1", username="unit1", unit_name="深圳市第1局")
TITLES = {"case0001": "第一", "case0002": "并列甲", "case0003": "并列乙", "case0004": "最后"}
# tenths per criterion (foresight, practicality, effectiveness), the same from each of three judges
MARKS = {"case0001": (280, 280, 380), "case0002": (250, 250, 350), "case0003": (250, 250, 350),
         "case0004": (150, 150, 200)}


class Ports:
    def __init__(self) -> None:
        self.objects: list[str] = []
        self.put_object = lambda key, body, media_type: self.objects.append(key)
        self.transport, self.sender, self.site_url, self.signing_key = None, "noreply@example.org", "https://x", "k"


class Twins:
    def __init__(self) -> None:
        tables = MemoryTables()
        self.cases = InMemoryCaseRepository(tables)
        self.judging = InMemoryJudgingRepository(tables)
        self.stages = InMemoryStageRepository(tables)
        self.results = InMemoryResultRepository(self.cases)
        self.final = InMemoryFinalRepository(self.cases)
        self.showcase = InMemoryShowcaseRepository(self.cases)
        self.ports: Any = Ports()
        self.mail = InMemoryMailRepository()
        self.notified: list[float] = []     # the runs of the result mail (notify_results)

    def case(self, case_id: str, status: str = "submitted", owner: str = "acc1", **fields: Any) -> Case:
        body = {"category": "development", "title": TITLES.get(case_id, case_id), "recommending_unit": "深圳市某某局",
                "showcase_consent": True}
        made = replace(new_case(case_id, COMP.id, owner, "unit1", body, 120, 0.0), status=status, **fields)
        self.cases.put(made)
        return made

    def status(self, case_id: str) -> tuple[str, str | None]:
        found = self.cases.get(case_id)
        assert found is not None
        return found.status, found.prize


def scored(judging: InMemoryJudgingRepository, comp_id: str) -> None:
    """Three judges' marks (MARKS) on every development case, in the text review and in the final."""
    for stage in (StageId.TEXT_REVIEW, StageId.FINAL):
        for case_id, marks in MARKS.items():
            for j in range(3):
                criteria = dict(zip(("foresight", "practicality", "effectiveness"), marks))
                judging.put_slot(comp_id, replace(new_slot(stage, f"judge{j}", case_id, "development",
                                                           TITLES[case_id], 0.0),
                                                  criteria=criteria, total=sum(marks), scored=True))


@pytest.fixture
def twins(monkeypatch) -> Twins:
    t = Twins()
    t.stages.seed(COMP.id, [(w.id, w.opens_at.timestamp(), w.closes_at.timestamp()) for w in COMP.default_windows])
    for case_id in TITLES:
        t.case(case_id)
    scored(t.judging, COMP.id)
    monkeypatch.setattr(results, "notify_results", lambda cases, repo, comp, ports, now, mail: t.notified.append(now))
    return t


def close_due(t: Twins, now) -> list[str]:
    return results.close_due_stages(t.judging, t.cases, t.stages, t.results, COMP, t.ports, now, mail=t.mail)


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_results_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_text_review_closes_on_schedule_once(twins) -> None:
    assert close_due(twins, WINDOWS[StageId.TEXT_REVIEW].closes_at - timedelta(minutes=5)) == []
    assert close_due(twins, AFTER_REVIEW) == [StageId.TEXT_REVIEW]
    assert twins.stages.stages[(COMP.id, StageId.TEXT_REVIEW)].closed is True
    assert len(twins.ports.objects) == len(COMP.category_ids)       # one ranking record per category
    stored = twins.results.get_ranking(COMP.id, StageId.TEXT_REVIEW, "development")
    assert stored is not None
    assert close_due(twins, AFTER_REVIEW + timedelta(minutes=5)) == []                # again: nothing changes
    assert twins.results.get_ranking(COMP.id, StageId.TEXT_REVIEW, "development") == stored
    assert len(twins.ports.objects) == len(COMP.category_ids)
    assert sum(1 for _, _, action in twins.cases.audit if action == "stage.close") == 1
    assert len(twins.notified) == 3      # the result mail is the schedule's: tried on each run until all through
    assert twins.stages.stages[(COMP.id, StageId.TEXT_REVIEW)].settled is False     # not all mail through yet


def test_the_ranking_has_the_tie_and_the_advance_cut(twins) -> None:
    close_due(twins, AFTER_REVIEW)
    view = results.ranking(twins.judging, COMP, StageId.TEXT_REVIEW, results=twins.results)
    assert view["final"] is True
    entries = view["categories"]["development"]
    assert [(e["case_id"], e["rank"], e["tie"], e["advanced"], e["cut_tie"]) for e in entries] == [
        ("case0001", 1, False, True, False), ("case0002", 2, True, True, True), ("case0003", 2, True, True, True),
        ("case0004", 4, False, False, False)]
    assert [e["title"] for e in entries] == ["第一", "并列甲", "并列乙", "最后"]
    # the tie across the cut advances the whole tied group
    assert {c: twins.status(c)[0] for c in TITLES} == {"case0001": "advanced", "case0002": "advanced",
                                                      "case0003": "advanced", "case0004": "not_advanced"}


def test_the_final_closes_only_after_the_text_review(twins) -> None:
    early = WINDOWS[StageId.TEXT_REVIEW].closes_at - timedelta(hours=1)
    with pytest.raises(Conflict):
        results.close_stage(twins.judging, twins.cases, twins.stages, twins.results, COMP, twins.ports, "final", "organiser:admin",
                            early)
    assert twins.stages.stages[(COMP.id, StageId.FINAL)].closed is False


def test_closing_the_final_awards_the_finalists_and_settles_both_stages(twins) -> None:
    close_due(twins, AFTER_REVIEW)
    for ranking in [twins.results.get_ranking(COMP.id, StageId.TEXT_REVIEW, c) for c in COMP.category_ids]:
        assert ranking is not None
        twins.results.mark_notified(ranking)          # every result mail through
    assert close_due(twins, AFTER_FINAL) == [StageId.FINAL]
    # the three finalists rank within the first prize band (the tied two both); the fourth never reached the final
    assert {c: twins.status(c) for c in TITLES} == {"case0001": ("awarded", "first"), "case0002": ("awarded", "first"),
                                                   "case0003": ("awarded", "first"),
                                                   "case0004": ("not_advanced", None)}
    assert all(twins.stages.stages[(COMP.id, s)].settled for s in results.RANKED_STAGES)
    recommended = results.recommend_provincial(twins.cases, twins.stages, twins.results, COMP, "case0001",
                                               {"recommended": True, "reason": "成效显著"}, "organiser:admin",
                                               AFTER_FINAL)
    assert recommended["provincial"] is True
    stored = twins.cases.get("case0001")
    assert stored is not None and (stored.provincial, stored.provincial_reason) == (True, "成效显著")


def test_the_draw_is_fair_and_reproducible_and_fixed_once_drawn(twins) -> None:
    close_due(twins, AFTER_REVIEW)
    finalists = ["case0001", "case0002", "case0003"]
    drawn = final_stage.draw(twins.cases, twins.final, COMP, {"category": "development", "seed": "hall-2023"},
                             "organiser:admin", AFTER_REVIEW)
    order = [o["case_id"] for o in drawn["draws"]["development"]["order"]]
    assert sorted(order) == finalists                                     # every finalist once, nobody else
    assert tuple(order) == draw_rules.draw("development", finalists, "hall-2023").order   # the seed re-derives it
    assert drawn["draws"]["development"]["order"][0]["title"] == TITLES[order[0]]
    assert drawn["drawn"] == ["development"] and drawn["draws"]["service"] is None
    # a case that reaches the final after the draw presents last; the drawn order stays as it was
    twins.case("case0005", status="advanced")
    after = final_stage.drawn_finalists(COMP, "development", cases=twins.cases, final=twins.final)
    assert after is not None and [c.id for c in after] == [*order, "case0005"]
    assert [o["case_id"] for o in final_stage.draws(twins.cases, twins.final, COMP)["draws"]["development"]["order"]
            ] == order
    again = final_stage.draw(twins.cases, twins.final, COMP, {"category": "development", "seed": "hall-2023"},
                             "organiser:admin", AFTER_REVIEW)
    latest = twins.final.latest_draw(COMP.id, "development")
    assert latest is not None and latest.sequence == 2
    assert again["draws"]["development"]["case_ids"] == sorted([*finalists, "case0005"])


def test_the_live_final_refuses_a_change_made_from_a_stale_state(twins) -> None:
    close_due(twins, AFTER_REVIEW)
    state, sequence = final_stage.live_state(twins.final, COMP, "development")
    assert sequence == 0 and state.presenting is None
    twins.final.save_live(COMP.id, "development", "final.present", {"category": "development",
                                                                   "presenting": "case0001"}, None, 0, "a", 1.0)
    with pytest.raises(Conflict):
        twins.final.save_live(COMP.id, "development", "final.present", {"presenting": "case0002"}, None, 0, "b", 2.0)
    assert final_stage.live_state(twins.final, COMP, "development")[0].presenting == "case0001"


def test_the_showcase_opens_with_the_final_and_follows_consent_and_the_organiser(twins) -> None:
    twins.case("case0001", status="awarded", prize="first")
    twins.case("case0002", status="awarded", prize="second", owner="acc2")
    before = showcase.showcase(twins.results, twins.showcase, COMP, "", "", AFTER_REVIEW)
    assert (before["open"], before["cases"]) == (False, [])
    twins.stages.close(COMP.id, StageId.TEXT_REVIEW, "organiser:admin", AFTER_REVIEW.timestamp())
    twins.stages.close(COMP.id, StageId.FINAL, "organiser:admin", AFTER_FINAL.timestamp(), after=StageId.TEXT_REVIEW)
    shown = showcase.showcase(twins.results, twins.showcase, COMP, "", "", AFTER_FINAL)
    assert shown["open"] is True and sorted(c["id"] for c in shown["cases"]) == ["case0001", "case0002"]

    withdrawn = showcase.set_consent(twins.cases, twins.showcase, UNIT, "case0001", {"consent": False},
                                     AFTER_FINAL)
    assert (withdrawn["consent"], withdrawn["hidden"]) == (False, False)
    assert [c["id"] for c in showcase.showcase(twins.results, twins.showcase, COMP, "", "", AFTER_FINAL)["cases"]
            ] == ["case0002"]
    hidden = showcase.set_shown(twins.cases, twins.showcase, "case0002", {"shown": False, "reason": "材料待核实"},
                                "organiser:admin", AFTER_FINAL)
    assert (hidden["hidden"], hidden["reason"]) == (True, "材料待核实")
    assert showcase.showcase(twins.results, twins.showcase, COMP, "", "", AFTER_FINAL)["cases"] == []
    back = showcase.set_consent(twins.cases, twins.showcase, UNIT, "case0001", {"consent": True},
                                AFTER_FINAL)
    assert back["consent"] is True
    assert [c["id"] for c in showcase.showcase(twins.results, twins.showcase, COMP, "", "", AFTER_FINAL)["cases"]
            ] == ["case0001"]
    assert [a for _, _, a in twins.cases.audit if a.startswith("showcase.")] == [
        "showcase.withdraw", "showcase.hide", "showcase.consent"]
