"""Twenty OS processes at the same moment against one emulator (issue 8): concurrent edits of one case,
submissions at the deadline ±1 s, one judge saving the same score twenty times.

moto's backends are not thread-safe, so the in-process mock cannot take concurrent callers: the test starts
one moto server in its own process on a free port, sets up the competition through the app, then forks 20
processes that each build their own clients (bootstrap.reset) and their own chalice test client, wait at a
barrier and send their request together. The assertions are counts, never timings.

The emulator runs each request under one lock. DynamoDB applies every write and every transaction
atomically; moto's TransactWriteItems does not (it copies the tables, applies the items one by one and
restores the copy on a refused condition, which wipes a concurrent writer's committed item), so an
unserialized moto server would report lost updates that DynamoDB never makes. The races under test are the
app's own: between its read and its conditional write, across processes.
"""
from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from tests.conftest import fixed_clock
import pytest

from tests.conftest import CHINA, Api, Clock, case_body, create_aws_resources, register_unit, start_competition

K = 20
SECOND = timedelta(seconds=1)
CLOSES = datetime(2023, 6, 9, 23, 59, 59, tzinfo=CHINA)      # submission closes_at, seeded from the config
IN_TEXT_REVIEW = datetime(2023, 6, 12, 9, 0, tzinfo=CHINA)
ORGANISER = ("organiser", "organiser-password-1")
RUN_SECONDS = 120        # the longest one round of 20 processes may take before the test fails

# One moto server, every request under one lock (see the module docstring); prints its port.
EMULATOR = """
import sys, threading
from werkzeug.serving import make_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
one_at_a_time = threading.Lock()

def serialized(environ, start_response):
    with one_at_a_time:
        return [b"".join(app(environ, start_response))]

server = make_server("127.0.0.1", 0, serialized, threaded=True, request_handler=MotoRequestHandler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("emulator") / "moto.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", EMULATOR], stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline().decode().strip() if ready else ""   # type: ignore[union-attr]
        assert line.isdigit(), f"the emulator did not start (exit code {proc.poll()}):\n{log.read_text()[-3000:]}"
        yield f"http://127.0.0.1:{line}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


_tests = itertools.count(1)


@pytest.fixture
def stack(emulator) -> Iterator[Clock]:
    """Fresh tables (a prefix per test) on the shared emulator, the 2023 windows and a clock in the parent."""
    from chalicelib import bootstrap

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", emulator)
        env.setenv("TABLE_PREFIX", f"conc{next(_tests)}-")
        try:
            create_aws_resources()
            yield start_competition()
        finally:
            bootstrap.reset()
    bootstrap.reset()   # the environment is restored: forget the emulator's settings and clients


@pytest.fixture
def api(stack) -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield Api(client)


# -- running K processes at once ---------------------------------------------------------------------

def _child(index: int, barrier: Any, results: Any, env: dict[str, str], token: str, when: float, task: Callable,
           arg: Any) -> None:
    """One process: its own clients and clock, one warm-up read, then the barrier, then the task."""
    waited = False
    try:
        os.environ.update(env)       # a forkserver's children have the environment of its start, not this test's
        from chalice.test import Client

        from app import app
        from chalicelib import bootstrap
        bootstrap.reset()            # new settings, bound models and clients: no socket of the parent's is used
        bootstrap.set_clock(fixed_clock(when))
        with Client(app) as client:
            api = Api(client, token)
            assert api.call("GET", "/competition")[0] == 200       # cold start before the barrier, not after
            barrier.wait(timeout=RUN_SECONDS)
            waited = True
            value = task(api, arg)
        results.put((index, None, value))
    except BaseException:   # noqa: BLE001 - reported to the parent, which fails the test
        if not waited:
            barrier.abort()         # the others stop waiting at once
        results.put((index, traceback.format_exc(), None))


def run_at_once(tasks: list[tuple[str, float, Callable, Any]]) -> list[Any]:
    """One process per (token, clock time, task, argument); all start their task together.

    The app is imported once in the parent and the processes are forked from it. Forking a process that
    runs other threads can copy a lock some thread holds, so when this pytest process has threads (left by
    another test), the processes come from a forkserver that has imported the app instead.
    Returns each task's value in order; any process that fails, hangs or dies fails the test.
    """
    import app  # noqa: F401

    method = os.environ.get("CONCURRENCY_START_METHOD") or ("fork" if threading.active_count() == 1 else "forkserver")
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["app", "chalice.test", "tests.integration.test_concurrency"])
    barrier, results, env = ctx.Barrier(len(tasks)), ctx.Queue(), dict(os.environ)
    procs = [ctx.Process(target=_child, args=(i, barrier, results, env, *t), daemon=True)
             for i, t in enumerate(tasks)]
    values: dict[int, Any] = {}
    errors: list[str] = []
    try:
        for p in procs:
            p.start()
        until = time.monotonic() + RUN_SECONDS
        while len(values) + len(errors) < len(procs):
            index, error, value = results.get(timeout=max(1.0, until - time.monotonic()))
            if error:
                errors.append(f"process {index}:\n{error}")
            else:
                values[index] = value
        for p in procs:
            p.join(timeout=max(1.0, until - time.monotonic()))
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(5)
        results.close()
    assert errors == []
    return [values[i] for i in range(len(procs))]


# -- the tasks (module level: they run in the forked processes) -----------------------------------------

def edit_once(api: Api, arg: tuple[str, int, str]) -> tuple[int, str | None]:
    case_id, version, title = arg
    status, data = api.call("PUT", f"/cases/{case_id}", {**case_body(title=title), "version": version})
    return status, (data.get("error") or {}).get("code") if status != 200 else None


def edit_until_it_lands(api: Api, arg: tuple[str, str]) -> tuple[int, int]:
    """Read the current version, send the edit; on a version conflict read again. (attempts, version made)."""
    case_id, title = arg
    for attempt in range(1, 10 * K):
        version = api.call("GET", f"/cases/{case_id}")[1]["version"]
        status, data = api.call("PUT", f"/cases/{case_id}", {**case_body(title=title), "version": version})
        if status == 200:
            return attempt, data["version"]
        assert (status, data["error"]["code"]) == (409, "version_conflict"), data
    raise AssertionError("the edit never landed")


def submit(api: Api, case_id: str) -> tuple[int, str]:
    status, data = api.call("POST", f"/cases/{case_id}/submit")
    return status, data["status"] if status == 200 else data["error"]["code"]


def withdraw(api: Api, case_id: str) -> tuple[int, str]:
    status, data = api.call("POST", f"/cases/{case_id}/withdraw")
    return status, data["status"] if status == 200 else data["error"]["code"]


def foresight(i: int) -> float:
    return 10 + i * 0.5


def save_score(api: Api, arg: tuple[str, int]) -> tuple[int, Any]:
    case_id, i = arg
    return api.call("PUT", f"/judge/cases/{case_id}/score",
                    {"criteria": {"foresight": foresight(i), "practicality": 20, "effectiveness": 30},
                     "comment": f"进程{i}的评分"})


def mail_sent() -> int:
    """What the emulated SES has sent so far (the emulator is shared by this module's tests)."""
    from chalicelib import bootstrap
    return int(bootstrap.client("ses").get_send_quota()["SentLast24Hours"])


def edits_in_audit(case_id: str, action: str) -> int:
    from chalicelib.store import audit
    return sum(1 for e in audit.history(f"case#{case_id}") if e.action == action)


# -- (a) one case edited by 20 processes at once -----------------------------------------------------

def test_twenty_edits_of_one_version_have_exactly_one_winner(api, stack) -> None:
    unit = api.as_(register_unit(api, 1))
    status, case = unit.call("POST", "/cases", case_body())
    assert status == 201
    when = stack.t

    answers = run_at_once([(unit.token, when, edit_once, (case["id"], 1, f"进程{i}的修改")) for i in range(K)])

    winners = [i for i, (status, _) in enumerate(answers) if status == 200]
    assert len(winners) == 1
    assert sorted(answers) == sorted([(200, None)] + [(409, "version_conflict")] * (K - 1))
    stored = unit.call("GET", f"/cases/{case['id']}")[1]
    assert (stored["title"], stored["version"], stored["history"]) == (f"进程{winners[0]}的修改", 2, [1])
    assert unit.call("GET", f"/cases/{case['id']}/versions/1")[1]["title"] == case["title"]
    assert edits_in_audit(case["id"], "case.edit") == 1


def test_twenty_processes_retrying_with_the_fresh_version_all_land(api, stack) -> None:
    unit = api.as_(register_unit(api, 1))
    status, case = unit.call("POST", "/cases", case_body())
    assert status == 201
    titles = [f"进程{i}的修改" for i in range(K)]

    answers = run_at_once([(unit.token, stack.t, edit_until_it_lands, (case["id"], t)) for t in titles])

    assert sorted(version for _, version in answers) == list(range(2, K + 2))   # each edit made its own version
    stored = unit.call("GET", f"/cases/{case['id']}")[1]
    assert (stored["version"], stored["history"]) == (K + 1, list(range(1, K + 1)))
    kept = [unit.call("GET", f"/cases/{case['id']}/versions/{v}")[1]["title"] for v in range(2, K + 1)]
    assert sorted([*kept, stored["title"]]) == sorted(titles)                    # no edit lost, none twice
    assert edits_in_audit(case["id"], "case.edit") == K
    print(f"\nattempts per process: {sorted(a for a, _ in answers)}")


# -- (b) submissions at the deadline ±1 s ----------------------------------------------------------------

def test_submissions_at_the_deadline_plus_minus_one_second(api, stack) -> None:
    from chalicelib.store import cases as case_store

    stack.set(CLOSES - timedelta(hours=1))
    tokens = [register_unit(api, n) for n in range(1, 5)]
    cases = []
    for i in range(K):
        status, case = api.as_(tokens[i % 4]).call("POST", "/cases", case_body(title=f"案例{i}"))
        assert status == 201
        cases.append(case["id"])
    offsets = [(-1, 0, 1)[i % 3] for i in range(K)]                          # 7 before, 7 at, 6 after
    sent = mail_sent()

    answers = run_at_once([(tokens[i % 4], (CLOSES + offsets[i] * SECOND).timestamp(), submit, cases[i])
                           for i in range(K)])

    expected = [(200, "submitted") if o < 0 else (409, "stage_closed") for o in offsets]
    assert answers == expected
    stored = {c: case_store.get(c) for c in cases}
    assert [stored[c].status for c in cases] == ["submitted" if o < 0 else "draft" for o in offsets]
    assert all(stored[c].submitted_at < CLOSES.timestamp() for c, o in zip(cases, offsets) if o < 0)
    assert sum(edits_in_audit(c, "case.submitted") for c in cases) == offsets.count(-1)
    assert mail_sent() - sent == offsets.count(-1)                          # one receipt per accepted case


def test_one_case_submitted_then_withdrawn_by_twenty_processes_at_once_changes_once(api, stack) -> None:
    from chalicelib.store import cases as case_store

    stack.set(CLOSES - timedelta(hours=1))                                  # sessions last 12 hours
    unit = api.as_(register_unit(api, 1))
    status, case = unit.call("POST", "/cases", case_body())
    assert status == 201
    sent = mail_sent()

    answers = run_at_once([(unit.token, (CLOSES - SECOND).timestamp(), submit, case["id"])] * K)

    assert answers == [(200, "submitted")] * K          # submitting twice is harmless, also at the same moment
    assert case_store.get(case["id"]).status == "submitted"
    assert (edits_in_audit(case["id"], "case.submitted"), mail_sent() - sent) == (1, 1)

    answers = run_at_once([(unit.token, (CLOSES - SECOND).timestamp(), withdraw, case["id"])] * K)

    assert answers == [(200, "withdrawn")] * K
    assert case_store.get(case["id"]).status == "withdrawn"
    assert edits_in_audit(case["id"], "case.withdrawn") == 1


# -- (c) the same score saved 20 times at once by one judge -------------------------------------------------

def test_one_judge_saving_a_score_twenty_times_at_once_leaves_one_score(api, stack) -> None:
    from chalicelib import bootstrap
    from chalicelib.services import accounts
    from chalicelib.store import judging

    unit = api.as_(register_unit(api, 1))
    status, case = unit.call("POST", "/cases", case_body(recommending_unit="单位甲"))
    assert status == 201 and unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    stack.set(IN_TEXT_REVIEW)
    accounts.ensure_organiser(bootstrap.deps().accounts, *ORGANISER, bootstrap.config(), bootstrap.now())
    org = api.as_(api.call("POST", "/sessions", {"username": ORGANISER[0], "password": ORGANISER[1]})[1]["token"])
    status, judge = org.call("POST", "/admin/judges", {"name": "评委一", "email": "j1@example.org",
                                                        "affiliation": "单位乙", "categories": ["development"]})
    assert status == 201, judge
    assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
    link = org.call("POST", "/admin/stages/text_review/links")[1]["links"][0]["url"].rsplit("/j/", 1)[1]
    status, session = api.call("POST", "/judge/sessions", {"link": link})
    assert status == 200, session
    answers = run_at_once([(session["token"], stack.t, save_score, (case["id"], i)) for i in range(K)])

    assert answers == [(200, {"case_id": case["id"], "total": foresight(i) + 50}) for i in range(K)]
    repo = judging.JudgingRepository()
    slots = [s for s in repo.slots_of_judge("shenzhen-2023", "text_review", judge["id"]) if s.case_id == case["id"]]
    in_index = repo.slots_of_category("shenzhen-2023", "text_review", "development", case["id"])
    assert (len(slots), len(in_index)) == (1, 1)                              # one score row, not twenty
    stored = judging_score(slots[0])
    i = int(stored["comment"][2:-3])                                         # "进程<i>的评分": whose save it was
    assert stored == {"criteria": {"foresight": foresight(i), "practicality": 20, "effectiveness": 30},
                      "total": foresight(i) + 50, "comment": f"进程{i}的评分"}   # one save's values, not a mix
    judge_api = api.as_(session["token"])
    assert judge_api.call("GET", f"/judge/cases/{case['id']}")[1]["my_score"] == stored
    assert edits_in_audit(case["id"], "score.save") == K


def judging_score(slot: Any) -> dict[str, Any]:
    from chalicelib.services.scoring import score_view
    return json.loads(json.dumps(score_view(slot)))
