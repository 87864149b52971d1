"""The competition's lifecycle as a hypothesis state machine, driven through the HTTP API.

Each example starts (through the same API) with three units, four judges and up to five cases, brought to
the start of submission, text review, coaching or the final. Then, in random order: units create / edit
(also with a stale version) / submit / withdraw; the clock moves forward by an hour, a day, to the next
window boundary or deadline ±1 s (and the 5-minute schedule `close_due_stages` runs, or lags); the
organiser assigns judges, (re-)issues links, closes stages through the close endpoint (again, too), runs
the schedule, reads rankings; judges score. After every step the machine checks:

- every write is accepted exactly when the model says its stage is open (and its version is current):
  no case create / edit / submit / withdraw after the submission closes (edits of advanced cases only
  while coaching is open), no score after its stage closes, no assignment once a stage is over;
- the audit rows equal the accepted changes: per case (create, edit, submit, withdraw, score and the
  outcome each close writes), per stage (one `stage.close`), per judge and per assignment plan; no audit
  row of a governed write is dated after its stage closed; a close moves only the cases it may move;
- rankings are deterministic: read twice, after a second close or a later schedule run they equal the
  ranking read at the close; the stored ranking is what its record in S3 (named by its digest)
  re-derives, and what ranking the current inputs gives again (same record, same digest).
"""
from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test

from tests.conftest import CHINA, Api, case_body, create_aws_resources, start_competition
from tests.integration.test_judging_api import ORGANISER

CATEGORIES = ("development", "service")
CRITERIA = {"development": (("foresight", 30), ("practicality", 30), ("effectiveness", 40)),
            "service": (("targeting", 30), ("mechanism", 30), ("effectiveness", 40))}
RANKED = ("text_review", "final")
CLOSABLE = ("submission", "text_review", "coaching", "final")
START = datetime(2023, 6, 8, 9, 0, tzinfo=CHINA).timestamp()
END = datetime(2023, 7, 31, 0, 0, tzinfo=CHINA).timestamp()
HOUR, DAY = 3600.0, 86400.0
# The suite's run is derandomized (the same examples every time). A longer soak with fresh examples:
# LIFECYCLE_EXAMPLES=200 LIFECYCLE_RANDOM=1 .venv/bin/pytest tests/integration/test_lifecycle_machine.py
EXAMPLES, STEPS = int(os.environ.get("LIFECYCLE_EXAMPLES", "12")), 35
RANDOM = bool(os.environ.get("LIFECYCLE_RANDOM"))
# No shrinking by default: a failure prints its (unshrunk) steps at once instead of searching for minutes;
# LIFECYCLE_SHRINK=1 shrinks it.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if os.environ.get("LIFECYCLE_SHRINK") else [])
SUBMISSION_ACTIONS = {"case.create", "case.submitted", "case.withdrawn"}


class LifecycleMachine(RuleBasedStateMachine):
    # -- the world: tests/conftest.py's aws / clock / client fixtures, with the emulated AWS emptied and the
    # tables made again for every example (one moto and one test client for the whole run: cheaper) ------
    world: Any = None   # (mock_aws, chalice test client), set by the test function

    def __init__(self) -> None:
        super().__init__()
        from chalicelib import bootstrap
        from chalicelib.services import accounts

        mock, client = self.world
        mock.reset()
        create_aws_resources()
        self.comp = bootstrap.competition()
        self.clock = start_competition(datetime.fromtimestamp(START, tz=CHINA))
        accounts.ensure_organiser(bootstrap.deps().accounts, *ORGANISER, bootstrap.config(), bootstrap.now())
        self.api = Api(client)

        # the model
        self.windows = {w.id: (w.opens_at.timestamp(), w.closes_at.timestamp()) for w in self.comp.default_windows}
        self.boundaries = sorted({t for pair in self.windows.values() for t in pair})
        self.closed: set[str] = set()                     # closed for good (endpoint or schedule)
        self.tokens: dict[str, tuple[str, float]] = {}    # username -> (token, issued at)
        self.units: list[str] = []
        self.cases: dict[str, dict[str, Any]] = {}        # id -> owner, status, version, category, title
        self.case_ids: list[str] = []
        self.judges: dict[str, str] = {}                  # judge id -> category
        self.slots: list[tuple[str, str, str, str]] = []  # (stage, judge, case, category)
        self.judge_tokens: dict[tuple[str, str], str] = {}
        self.audit: dict[str, Counter] = {}               # object key -> expected actions
        self.dirty: set[str] = set()                      # object keys to compare at the next invariant
        self.snapshots: dict[str, dict[str, Any]] = {}    # stage -> ranking as read right after its close
        self.accepted = Counter()                         # what the run did (shown when it fails)

    def teardown(self) -> None:
        self.check_audit(every=True)

    # -- helpers ---------------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.clock.t

    def is_open(self, stage: str) -> bool:
        opens, closes = self.windows[stage]
        return opens <= self.now < closes and stage not in self.closed

    def status_closed(self, stage: str) -> bool:   # StageWindow.status(now) == "closed"
        return stage in self.closed or self.now >= self.windows[stage][1]

    def ranked(self, stage: str) -> str:
        """"current": the ranked stage still ahead (what an organiser would be working on)."""
        if stage != "current":
            return stage
        return next((s for s in RANKED if not self.status_closed(s)), "final")

    def closable(self, stage: str) -> str:
        """"current": the stage whose window holds now, else the last one that opened."""
        if stage != "current":
            return stage
        opened = [s for s in CLOSABLE if self.windows[s][0] <= self.now]
        return next((s for s in opened if self.now < self.windows[s][1]), opened[-1] if opened else "submission")

    def as_user(self, username: str, password: str) -> Api:
        token, issued = self.tokens.get(username, ("", -1e18))
        if self.now - issued >= HOUR:   # sessions last 12 h; a fresh one for every hour of model time
            status, data = self.api.call("POST", "/sessions", {"username": username, "password": password})
            assert status == 200, data
            token = data["token"]
            self.tokens[username] = (token, self.now)
        return self.api.as_(token)

    def org(self) -> Api:
        return self.as_user(*ORGANISER)

    def unit(self, username: str) -> Api:
        return self.as_user(username, "correct-horse-1")

    def expect(self, key: str, action: str, n: int = 1) -> None:
        self.audit.setdefault(key, Counter())[action] += n
        self.dirty.add(key)
        self.accepted[action] += n

    def pick(self, items: list, i: int):
        return items[i % len(items)]

    def body_of(self, case: dict[str, Any]) -> dict[str, Any]:
        return case_body(category=case["category"], title=case["title"], recommending_unit=f"推荐{case['owner']}")

    # -- where an example starts -----------------------------------------------------------------------
    @initialize(cases=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(CATEGORIES),
                                         st.sampled_from((True, True, False))), min_size=1, max_size=5),
                start=st.sampled_from(("submission", "final", "text_review", "coaching", "submission", "final")),
                closer=st.sampled_from(("endpoint", "schedule")), k=st.sampled_from((1, 2)),
                points=st.lists(st.integers(0, 30), min_size=3, max_size=3))
    def begin(self, cases: list[tuple[int, str, bool]], start: str, closer: str, k: int, points: list[int]) -> None:
        """Three units, two judges per category, up to five cases (some submitted); then, through the same
        API, the competition is brought to the start of `start` (text review assigned and scored, closed
        by the organiser or by the schedule, the final assigned), so that every example has steps left
        for the later stages. The rules take it on from there, in any order."""
        for _ in range(3):
            self.register_unit()
        for category in CATEGORIES:
            for _ in range(2):
                self.add_judge(category)
        for unit, category, and_submit in cases:
            self.create_case(unit, category)
            if and_submit:
                self.submit_case(len(self.case_ids) - 1)
        if start == "submission":
            return
        self.assign("text_review", k, links=True)   # during submission: the stage is still pending
        self.clock.t = self.windows["text_review"][0] + 2 * HOUR
        self.score("text_review", True, 0, points)
        if start == "text_review":
            return
        if closer == "endpoint":
            self.close_stage("text_review")
        self.clock.t = self.windows["coaching"][0] + 2 * HOUR
        self.run_schedule()
        if start == "final":
            self.clock.t = self.windows["final"][0] + 2 * HOUR
            self.assign("final", k, links=True)

    # -- units and cases -------------------------------------------------------------------------------
    @rule(ops=st.lists(st.tuples(st.sampled_from(("create", "edit", "stale edit", "submit", "withdraw")),
                                 st.integers(0, 30), st.sampled_from(CATEGORIES)), min_size=1, max_size=3))
    def units_act(self, ops: list[tuple[str, int, str]]) -> None:
        """A few unit requests at the same moment (one step, so that the clock gets its share of steps)."""
        for op, i, category in ops:
            if op == "create" or not self.case_ids:
                self.create_case(i, category)
            elif op in ("edit", "stale edit"):
                self.edit_case(i, stale=op == "stale edit")
            elif op == "submit":
                self.submit_case(i)
            else:
                self.withdraw_case(i)

    def register_unit(self) -> None:
        n = len(self.units) + 1
        username = f"unit{n}"
        status, data = self.api.call("POST", "/accounts", {
            "username": username, "password": "correct-horse-1", "unit_name": f"单位{n}",
            "unit_system": "municipal", "contact_name": "张三", "email": f"u{n}@example.gov.cn",
            "mobile": "13800138000"})
        assert status == 201, data
        self.units.append(username)
        self.expect(f"account#{username}", "account.create")

    def create_case(self, i: int, category: str) -> None:
        owner = self.pick(self.units, i)
        case = {"owner": owner, "category": category, "title": f"案例{len(self.case_ids) + 1}"}
        status, data = self.unit(owner).call("POST", "/cases", self.body_of(case))
        if not self.is_open("submission"):
            assert (status, data["error"]["code"]) == (409, "stage_closed"), data
            return
        assert status == 201, data
        case.update(id=data["id"], status="draft", version=1)
        self.cases[data["id"]] = case
        self.case_ids.append(data["id"])
        self.expect(f"case#{data['id']}", "case.create")

    def edit_case(self, i: int, stale: bool) -> None:
        case = self.cases[self.pick(self.case_ids, i)]
        case_title = f"{case['title'].split('（')[0]}（第{case['version'] + 1}版）"
        body = {**self.body_of({**case, "title": case_title}), "version": case["version"] - (1 if stale else 0)}
        status, data = self.unit(case["owner"]).call("PUT", f"/cases/{case['id']}", body)
        editable = ((case["status"] in ("draft", "submitted", "withdrawn") and self.is_open("submission"))
                    or (case["status"] == "advanced" and self.is_open("coaching")))
        if not editable:
            assert (status, data["error"]["code"]) == (409, "stage_closed"), (case, data)
        elif stale:
            assert (status, data["error"]["code"]) == (409, "version_conflict"), (case, data)
        else:
            assert status == 200 and data["version"] == case["version"] + 1, (case, data)
            case["version"] += 1
            case["title"] = case_title
            self.expect(f"case#{case['id']}", "case.edit")

    def submit_case(self, i: int) -> None:
        case = self.cases[self.pick(self.case_ids, i)]
        status, data = self.unit(case["owner"]).call("POST", f"/cases/{case['id']}/submit")
        if case["status"] == "submitted":
            assert status == 200 and data["status"] == "submitted", data   # idempotent: no second write
        elif case["status"] not in ("draft", "withdrawn"):
            assert (status, data["error"]["code"]) == (409, "conflict"), (case, data)
        elif not self.is_open("submission"):
            assert (status, data["error"]["code"]) == (409, "stage_closed"), (case, data)
        else:
            assert status == 200 and data["status"] == "submitted", (case, data)
            case["status"] = "submitted"
            self.expect(f"case#{case['id']}", "case.submitted")

    def withdraw_case(self, i: int) -> None:
        case = self.cases[self.pick(self.case_ids, i)]
        status, data = self.unit(case["owner"]).call("POST", f"/cases/{case['id']}/withdraw")
        if case["status"] == "withdrawn":
            assert status == 200 and data["status"] == "withdrawn", data
        elif case["status"] not in ("draft", "submitted"):
            assert (status, data["error"]["code"]) == (409, "conflict"), (case, data)
        elif not self.is_open("submission"):
            assert (status, data["error"]["code"]) == (409, "stage_closed"), (case, data)
        else:
            assert status == 200 and data["status"] == "withdrawn", (case, data)
            case["status"] = "withdrawn"
            self.expect(f"case#{case['id']}", "case.withdrawn")

    # -- the clock -------------------------------------------------------------------------------------
    @precondition(lambda self: self.now < END)
    @rule(step=st.sampled_from(("+1h", "+1d", "boundary-1s", "boundary", "boundary+1s", "next stage",
                                "deadline-1s", "deadline", "deadline+1s")),
          schedule=st.booleans())
    def move_clock(self, step: str, schedule: bool) -> None:
        """Forward (never back): by an hour or a day, to the next window boundary ±1 s, two hours into the
        next stage's window, or to the deadline of the stage now open (or next) ±1 s; then the 5-minute
        schedule runs, or it lags (the organiser rule runs it later)."""
        nxt = min([b for b in self.boundaries if b > self.now], default=self.now + DAY)
        opens = min([w[0] for w in self.windows.values() if w[0] > self.now], default=self.now + DAY)
        deadline = min(w[1] for w in self.windows.values() if w[1] >= self.now)
        target = {"+1h": self.now + HOUR, "+1d": self.now + DAY, "boundary-1s": nxt - 1, "boundary": nxt,
                  "boundary+1s": nxt + 1, "next stage": opens + 2 * HOUR, "deadline-1s": deadline - 1,
                  "deadline": deadline, "deadline+1s": deadline + 1}[step]
        self.clock.t = max(self.now, target)
        if schedule:
            self.run_schedule()

    # -- judges and scores -----------------------------------------------------------------------------
    def add_judge(self, category: str) -> None:
        n = len(self.judges) + 1
        status, data = self.org().call("POST", "/admin/judges", {
            "name": f"评委{n}", "email": f"j{n}@example.org", "affiliation": f"评审机构{n}",
            "categories": [category]})
        assert status == 201, data
        self.judges[data["id"]] = category
        self.expect(f"judge#shenzhen-2023#{data['id']}", "judge.create")

    @rule(op=st.sampled_from(("assign", "assign", "links", "close", "close", "schedule", "ranking")),
          stage=st.sampled_from(("current", "current", "current", *CLOSABLE)), k=st.sampled_from((1, 2)))
    def organiser(self, op: str, stage: str, k: int) -> None:
        """What the organiser does next (the stage the work is on, mostly, or any other)."""
        if op == "assign":
            self.assign(self.ranked(stage if stage in ("current", *RANKED) else "current"), k, links=False)
        elif op == "links":
            stage = self.ranked(stage if stage in ("current", *RANKED) else "current")
            if any(s[0] == stage for s in self.slots):
                self.issue_links(stage)
        elif op == "close":
            self.close_stage(self.closable(stage))
        elif op == "schedule":
            self.run_schedule()
        else:
            self.read_ranking_of(self.ranked(stage if stage in ("current", *RANKED) else "current"))

    def assign(self, stage: str, k: int, links: bool) -> None:
        """Plan (or re-plan) the stage's assignments; a plan with new slots sends the stage's links again
        (re-issuing revokes the earlier links and their sessions)."""
        org = self.org()
        status, data = org.call("POST", f"/admin/stages/{stage}/assignments", {"judges_per_case": k})
        if self.status_closed(stage):
            assert (status, data["error"]["code"]) == (409, "conflict"), data
        else:
            assert status == 200, data
            if data["new"]:
                self.expect(f"assignments#shenzhen-2023#{stage}", "assignments.plan")
            status, listed = org.call("GET", f"/admin/stages/{stage}/assignments")
            assert status == 200, listed
            judges, cases = list(self.judges), self.case_ids   # model order, not the random ids' order
            self.slots = [s for s in self.slots if s[0] != stage] + sorted(
                ((stage, a["judge_id"], a["case_id"], a["category"]) for a in listed["assignments"]),
                key=lambda s: (cases.index(s[2]), judges.index(s[1])))
            links = links or bool(data["new"])
        if links and any(s[0] == stage for s in self.slots):
            self.issue_links(stage)

    def issue_links(self, stage: str) -> None:
        status, data = self.org().call("POST", f"/admin/stages/{stage}/links")
        assert status == 200, data
        for link in data["links"]:
            self.expect(f"judge#shenzhen-2023#{link['judge_id']}", "link.issue")
            self.judge_tokens.pop((link["judge_id"], stage), None)   # the earlier link's sessions end
            status, session = self.api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})
            if self.status_closed(stage):
                assert status == 401, session
            else:
                assert status == 200, session
                self.judge_tokens[(link["judge_id"], stage)] = session["token"]

    @precondition(lambda self: self.slots)
    @rule(stage=st.sampled_from(("current", "current", *RANKED)), every=st.booleans(), i=st.integers(0, 50),
          points=st.lists(st.integers(0, 30), min_size=3, max_size=3))
    def score(self, stage: str, every: bool, i: int, points: list[int]) -> None:
        """Judges holding a session score: each of them every case assigned in the stage, or one slot."""
        stage = self.ranked(stage)
        if not any(s[0] == stage and (s[1], stage) in self.judge_tokens for s in self.slots) and \
                any(s[0] == stage for s in self.slots):
            self.issue_links(stage)   # the judges' first visit: links go out, sessions open
        mine = [s for s in self.slots if s[0] == stage and (s[1], stage) in self.judge_tokens]
        if not mine:
            return
        for n, slot in enumerate(mine if every else mine[i % len(mine):][:1]):
            self.score_one(slot, [(p + 7 * n) % 31 for p in points], tenth=(i + n) % 2 == 1)

    def score_one(self, slot: tuple[str, str, str, str], points: list[int], tenth: bool) -> None:
        stage, judge_id, case_id, category = slot
        sheet = {name: min(p + (0.5 if tenth and name == "effectiveness" else 0), top)
                 for (name, top), p in zip(CRITERIA[category], points)}
        judge = self.api.as_(self.judge_tokens[(judge_id, stage)])
        status, data = judge.call("PUT", f"/judge/cases/{case_id}/score", {"criteria": sheet, "comment": "评语"})
        if self.is_open(stage):
            assert status == 200 and data["total"] == sum(sheet.values()), data
            self.expect(f"case#{case_id}", "score.save")
        else:
            # a session opened before the close reads for a day, never writes; later it is gone
            assert status in (401, 409), (stage, data)
            if status == 409:
                assert data["error"]["code"] == "stage_closed", data

    # -- closing and ranking ---------------------------------------------------------------------------
    def close_stage(self, stage: str) -> None:
        """The organiser closes a stage that has opened (closing one that has not is another question)."""
        if self.now < self.windows[stage][0]:
            return
        status, data = self.org().call("POST", f"/admin/stages/{stage}/close")
        first: list[str] = []
        if stage == "final" and "text_review" not in self.closed:     # the final closes after the text review
            if self.now < self.windows["text_review"][1]:
                assert (status, data["error"]["code"]) == (409, "conflict"), data
                return
            first = ["text_review"]                                   # closed first, as the schedule would
        assert (status, data) == (200, {"stage": stage, "status": "closed"}), data
        self.after_close([*first, stage], [*first, *([] if stage in self.closed else [stage])])

    def run_schedule(self) -> None:
        from chalicelib.jobs import schedules
        due = [s for s in RANKED if s not in self.closed and self.now >= self.windows[s][1]]
        assert schedules.close_due_stages() == due
        self.after_close(due, due)

    def after_close(self, stages: list[str] | tuple[str, ...], newly: list[str]) -> None:
        """`stages` were just closed (again, or for the first time: `newly`): compare every case's status,
        the outcome audit rows and the rankings with what closing may change."""
        before = {cid: c["status"] for cid, c in self.cases.items()}
        for stage in newly:
            assert stage != "final" or "text_review" in self.closed, "the final closed before the text review"
            self.closed.add(stage)
            self.expect(f"stage#shenzhen-2023#{stage}", "stage.close")
        status, listed = self.org().call("GET", "/cases")
        assert status == 200, listed
        after = {c["id"]: c for c in listed["cases"]}
        assert set(after) == set(self.cases)
        moves = {"text_review": ({"submitted"}, {"advanced", "not_advanced"}),
                 "final": ({"advanced"}, {"awarded", "not_awarded"})}
        for cid, case in self.cases.items():
            old, new = before[cid], after[cid]["status"]
            if old == new:
                continue
            path = [old]            # the statuses it passed through, one move per stage newly closed
            for stage in newly:
                if stage in moves and path[-1] in moves[stage][0]:
                    path.append(new if new in moves[stage][1] else "advanced")
            assert path[-1] == new and "not_advanced" not in path[1:-1], \
                f"case {cid} moved {old} -> {new} when {stages} closed (newly {newly})"
            case["status"] = new
            for status in path[1:]:
                self.expect(f"case#{cid}", f"case.{status}")
        for stage in stages:
            if stage in RANKED and stage in self.closed:
                ranking = self.read_ranking(stage)
                if stage in self.snapshots:
                    assert ranking == self.snapshots[stage], f"{stage} ranking changed after its close"
                else:
                    self.snapshots[stage] = ranking
                self.check_stored(stage)

    def read_ranking(self, stage: str) -> dict[str, Any]:
        org = self.org()
        first = org.call("GET", f"/admin/stages/{stage}/ranking")
        second = org.call("GET", f"/admin/stages/{stage}/ranking")
        assert first[0] == 200 and first == second, (first, second)
        return first[1]

    def check_stored(self, stage: str) -> None:
        """The stored ranking is what its record (in S3, under its digest) re-derives, and what ranking the
        current inputs gives again: the same cases, scores and digest (scores are frozen at the close)."""
        from chalicelib import bootstrap
        from chalicelib.domain import ranking as ranking_rules
        from chalicelib.services import results
        from chalicelib.store import results as result_store

        cases = results._cases_of(bootstrap.deps().cases, self.comp, stage)
        for category in self.comp.category_ids:
            stored = result_store.get_ranking(self.comp.id, stage, category)
            assert stored is not None, (stage, category)
            entries = result_store.results_of(stored)
            obj = bootstrap.s3().get_object(Bucket=bootstrap.config().bucket, Key=stored.record_key)
            record = json.loads(obj["Body"].read())
            assert record["digest"] == stored.digest
            again = [(r.case_id, r.rank, r.tie, r.advanced if stage == "text_review" else True, r.prize)
                     for r in ranking_rules.rank_from_record(record)]
            assert again == [(e["case_id"], e["rank"], e["tie"], e["advanced"], e["prize"]) for e in entries]
            now_entries, now_record = results.compute(bootstrap.deps().judging, self.comp, stage, category,
                                                      cases[category])
            assert now_record == record, (stage, category, "the inputs of a closed stage changed")
            shown = [{k: v for k, v in e.items() if k != "title"} for e in entries]   # a revision may retitle
            assert shown == [{k: v for k, v in e.items() if k != "title"} for e in now_entries], (stage, category)

    def read_ranking_of(self, stage: str) -> None:
        ranking = self.read_ranking(stage)
        if stage in self.snapshots:
            assert ranking == self.snapshots[stage], f"{stage} ranking changed after its close"
            self.check_stored(stage)

    # -- invariants ------------------------------------------------------------------------------------
    @invariant()
    def audit_matches(self) -> None:
        self.check_audit(every=False)

    def check_audit(self, every: bool) -> None:
        from chalicelib.store.models import AuditEntry, Stage

        keys = set(self.audit) if every else set(self.dirty)
        self.dirty.clear()
        if not keys:
            return
        rows = {s.stage_id: s for s in Stage.query(self.comp.id)}
        for key in sorted(keys):
            found = list(AuditEntry.query(key))
            actions = Counter(e.action for e in found if e.action not in ("session.open", "login.failed"))
            assert actions == self.audit[key], (key, actions, self.audit[key])
            for e in found:
                if e.action in SUBMISSION_ACTIONS:
                    governing = ["submission"]
                elif e.action == "case.edit":
                    governing = ["submission", "coaching"]
                elif e.action == "score.save":
                    governing = [json.loads(e.detail)["stage"]]
                else:
                    continue
                assert any(self.inside(rows[s], float(e.at)) for s in governing), (key, e.action, e.at, governing)

    @staticmethod
    def inside(row, at: float) -> bool:
        """`at` inside the stage's window and not after the organiser / schedule closed it. A close before the
        window's end ends the window then (closes_at = closed_at): a write at that very instant came before
        the close (the close found the stage open), so it is inside."""
        closed_at = float(row.closed_at) if row.closed and row.closed_at is not None else None
        ended_by_close = closed_at is not None and closed_at == float(row.closes_at)
        return (float(row.opens_at) <= at and (at < float(row.closes_at) or (ended_by_close and at == closed_at))
                and not (closed_at is not None and at > closed_at))


def test_lifecycle_state_machine():
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib import bootstrap

    with mock_aws() as mock:
        bootstrap.reset()
        try:
            with Client(app) as client:
                LifecycleMachine.world = (mock, client)
                run_state_machine_as_test(LifecycleMachine, settings=settings(
                    max_examples=EXAMPLES, stateful_step_count=STEPS, derandomize=not RANDOM, deadline=None, phases=PHASES,
                    database=None, suppress_health_check=list(HealthCheck)))
        finally:
            LifecycleMachine.world = None
            bootstrap.reset()


# -- what the machine found: a second close re-ranked a closed stage from cases changed since ----------------
def _two_scored_cases(api, clock):
    from tests.integration.test_judging_api import judges, organiser, submitted_cases
    from tests.integration.test_results_api import _score_all

    ids = submitted_cases(api, clock, units=2, per_unit=1)
    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    judges(org, 3)
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    _score_all(api, org, "text_review", {ids[0]: 80, ids[1]: 70})
    return ids, org


def test_closing_text_review_again_keeps_its_ranking_after_a_coaching_revision(api, clock):
    from tests.integration.test_judging_api import organiser

    ids, org = _two_scored_cases(api, clock)   # unit1's and unit2's cases
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    ranking = org.call("GET", "/admin/stages/text_review/ranking")[1]
    clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
    unit = api.as_(api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"])
    case = unit.call("GET", f"/cases/{ids[0]}")[1]
    revised = {k: case[k] for k in case_body()} | {"title": "修改后的案例名称", "version": case["version"]}
    assert unit.call("PUT", f"/cases/{ids[0]}", revised)[0] == 200
    org = organiser(api)
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    assert org.call("GET", "/admin/stages/text_review/ranking")[1] == ranking


def test_the_final_closes_only_after_the_text_review(api, clock):
    """The final ranks the cases the text review advanced. While the text review is open, closing the final
    is refused (409, checked in the close's transaction) and nothing moves; once the text review's window
    has passed, closing the final closes the text review first (what the schedule would do), then ranks."""
    from tests.integration.test_judging_api import organiser

    ids, org = _two_scored_cases(api, clock)                # text review open
    status, body = org.call("POST", "/admin/stages/final/close")
    assert (status, body["error"]["code"]) == (409, "conflict") and "文本评审" in body["error"]["message"]
    assert {s["id"]: s["status"] for s in org.call("GET", "/competition")[1]["stages"]}["final"] != "closed"
    assert [org.call("GET", f"/cases/{i}")[1]["status"] for i in ids] == ["submitted", "submitted"]
    clock.set(datetime(2023, 6, 25, 9, 0, tzinfo=CHINA))   # text review over by time, not closed yet
    org = organiser(api)
    assert org.call("POST", "/admin/stages/final/close") == (200, {"stage": "final", "status": "closed"})
    assert org.call("GET", "/admin/stages/text_review/ranking")[1]["final"] is True
    # advanced by the text review, then decided by the final (no final scores: no prize)
    assert [org.call("GET", f"/cases/{i}")[1]["status"] for i in ids] == ["not_awarded", "not_awarded"]


def test_a_coaching_revision_keeps_the_case_in_its_category(api, clock):
    """An advanced case was judged and ranked in its category: a revision during coaching may change the
    text, not the category (it would move the case into another category's final)."""
    ids, org = _two_scored_cases(api, clock)
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))           # coaching open
    unit = api.as_(api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"])
    case = unit.call("GET", f"/cases/{ids[0]}")[1]
    assert case["status"] == "advanced"
    revised = {k: case[k] for k in case_body()} | {"version": case["version"]}
    other = next(c for c in ("development", "service", "empowerment") if c != case["category"])
    status, body = unit.call("PUT", f"/cases/{ids[0]}", revised | {"category": other})
    assert status == 400 and set(body["error"]["fields"]) == {"category"}, body
    assert unit.call("PUT", f"/cases/{ids[0]}", revised | {"title": "辅导后的案例名称"})[0] == 200
