"""The local stack keeps what it acknowledged and leaves nothing behind (scripts/run_local.py,
scripts/local_emulator.py): real stacks on free ports, killed the hard way.

- 20 acknowledged writes (accounts, cases, judges, an attachment posted straight to the emulator and
  confirmed, an export accepted with 202 and done), then SIGKILL of every process of the stack, a restart on
  the same LOCAL_DATA_DIR: all 20 are there, the attachment and the export download.
- The same with snapshots written while the stack runs (LOCAL_JOURNAL_MAX_MB small): nothing lost.
- A crash in the middle of a snapshot (a half-written `snapshot.saving`, the previous one moved aside to
  `snapshot.old`) keeps the previous snapshot, which is used, and the journal's later changes on top of it.
- SIGTERM of the runner: exit 0, "data saved", no process of the stack left, both ports free; SIGINT or
  SIGTERM to the whole process group (a terminal's Ctrl-C) is the runner's: it stops the app, then the
  emulator, and nothing fails on the way.
- SIGKILL of the runner alone: its children go with it.
- A port already taken: exit 2 naming the port and its variable, before the emulator starts or loads
  (the runner's check, and the emulator's own for a port taken in between).
- SIGSTOP of the emulator (a frozen store): the API and a page answer 503 with Retry-After in about 3 s, and
  as before after SIGCONT.
- 30 processes editing one case with its version, retrying on 409: version 31, 30 history entries and
  30 audit rows — none lost.
The whole file starts 12 stacks: about 2–4 minutes on 2 busy CPUs (4 min 13 s at load 12).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import case_body
from tests.e2e.conftest import ORGANISER, ROOT, _free_port, _tail, start_stack, stop_stack

WRITERS = 30
GONE_SECONDS = 10


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}/api/v1{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def login(base: str, username: str, password: str) -> str:
    status, data = call(base, "POST", "/sessions", {"username": username, "password": password})
    assert status == 200, data
    return data["token"]


def account(n: int) -> dict:
    return {"username": f"durable{n}", "password": "correct-horse-1", "unit_name": f"深圳市第{n}局",
            "unit_system": "municipal", "contact_name": "张三", "email": f"u{n}@example.gov.cn",
            "mobile": "13800138000"}


def judge(n: int) -> dict:
    return {"name": f"评委{n}", "email": f"j{n}@example.gov.cn", "mobile": "13900139000",
            "affiliation": "深圳大学", "categories": ["development"]}


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running: a zombie counts as gone once its last thread has exited (a killed
    process's leader turns zombie before its other threads are gone, and its sockets go with the last one)."""
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            threads = len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
        if state != "Z" or threads > 1:
            living.add(pid)
    return living


def wait_gone(pids: set[int]) -> set[int]:
    deadline = time.time() + GONE_SECONDS
    while alive(pids) and time.time() < deadline:
        time.sleep(0.1)
    return alive(pids)


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ports_of(stack) -> tuple[int, int]:
    return int(stack.url.rsplit(":", 1)[1]), int(stack.emulator.rsplit(":", 1)[1])


def kill_everything(proc: subprocess.Popen) -> set[int]:
    """SIGKILL to the runner and every process below it, all at once (as `kill -9` of make's group)."""
    pids = descendants(proc.pid) | {proc.pid}
    assert len(pids) >= 3, pids          # runner, emulator, app
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    proc.wait()
    assert wait_gone(pids) == set()
    return pids


PDF = b"%PDF-1.4\n" + b"1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 40 + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def upload(base: str, token: str, case_id: str) -> str:
    """An attachment as the browser sends it: the presigned POST straight to the emulator, then confirm."""
    status, grant = call(base, "POST", f"/cases/{case_id}/attachments",
                         {"filename": "说明.pdf", "content_type": "application/pdf", "size": len(PDF)}, token)
    assert status == 201, grant
    boundary = "durable-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in grant["upload"]["fields"].items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
                 f'Content-Type: application/pdf\r\n\r\n'.encode() + PDF + f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(grant["upload"]["url"], data=b"".join(parts), method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status in (200, 201, 204)
    status, data = call(base, "POST", f"/cases/{case_id}/attachments/{grant['attachment_id']}/confirm", {}, token)
    assert status == 200, data
    return grant["attachment_id"]


def acknowledged_writes(base: str) -> dict:
    """20 writes, each answered 2xx: 6 accounts, 6 cases, 6 judges, 1 attachment (posted to the emulator,
    confirmed) and 1 export (202, then done)."""
    organiser = login(base, *ORGANISER)
    acknowledged = {"accounts": [], "cases": {}, "judges": [], "export": None}
    for n in range(6):
        status, data = call(base, "POST", "/accounts", account(n))
        assert status == 201, data
        acknowledged["accounts"].append(account(n)["username"])
        token = login(base, f"durable{n}", "correct-horse-1")
        status, data = call(base, "POST", "/cases", case_body(title=f"案例{n}"), token)
        assert status == 201, data
        acknowledged["cases"][f"durable{n}"] = data["id"]
    acknowledged["attachment"] = upload(base, token, data["id"])
    for n in range(6):
        status, data = call(base, "POST", "/admin/judges", judge(n), organiser)
        assert status == 201, data
        acknowledged["judges"].append(data["id"])
    status, data = call(base, "POST", "/admin/exports", {"kind": "registrations_xlsx"}, organiser)
    assert status == 202, data
    acknowledged["export"] = data["id"]
    deadline = time.time() + 60
    while (job := call(base, "GET", f"/admin/exports/{data['id']}", token=organiser)[1])["status"] != "done":
        assert job["status"] == "running" and time.time() < deadline, job
        time.sleep(0.3)
    return acknowledged


def kept(base: str, acknowledged: dict) -> int:
    """How many of the acknowledged writes the stack has now (the export: done and downloadable)."""
    count = 0
    for username in acknowledged["accounts"]:
        status, data = call(base, "POST", "/sessions", {"username": username, "password": "correct-horse-1"})
        if status != 200:
            continue
        count += 1
        cases = call(base, "GET", "/cases", token=data["token"])[1]["cases"]
        count += [c["id"] for c in cases] == [acknowledged["cases"][username]]
    token = call(base, "POST", "/sessions", {"username": "durable5", "password": "correct-horse-1"})[1]["token"]
    case_id = acknowledged["cases"]["durable5"]
    status, link = call(base, "GET", f"/cases/{case_id}/attachments/{acknowledged['attachment']}", token=token)
    if status == 200:
        with urllib.request.urlopen(link["url"], timeout=30) as download:
            count += download.read() == PDF
    organiser = login(base, *ORGANISER)
    judges = {j["id"] for j in call(base, "GET", "/admin/judges", token=organiser)[1]["judges"]}
    count += len(judges & set(acknowledged["judges"]))
    status, job = call(base, "GET", f"/admin/exports/{acknowledged['export']}", token=organiser)
    if status == 200 and job["status"] == "done":
        with urllib.request.urlopen(job["url"], timeout=30) as download:
            count += download.read(2) == b"PK"
    return count


def test_20_acknowledged_writes_survive_kill_9_of_every_process(tmp_path):
    proc, stack = start_stack(tmp_path / "data", "durable-kill", start_new_session=True)
    try:
        acknowledged = acknowledged_writes(stack.url)
        kill_everything(proc)
        assert port_free(ports_of(stack)[0]) and port_free(ports_of(stack)[1])
        proc, stack = start_stack(tmp_path / "data", "durable-kill-restart")
        assert kept(stack.url, acknowledged) == 20
    finally:
        stop_stack(proc)


def test_snapshots_taken_while_running_keep_the_journal_short_and_lose_nothing(tmp_path, monkeypatch):
    """LOCAL_JOURNAL_MAX_MB small: the emulator writes snapshots between requests while it serves; the same
    20 acknowledged writes survive kill -9 of every process, and the journal never grew past the limit."""
    monkeypatch.setenv("LOCAL_JOURNAL_MAX_MB", "0.05")
    proc, stack = start_stack(tmp_path / "data", "durable-compact", start_new_session=True)
    try:
        acknowledged = acknowledged_writes(stack.url)
        log = (ROOT / "test-artifacts" / "durable-compact.log").read_text("utf-8", "replace")
        assert log.count("emulator wrote a snapshot") >= 2, _tail(ROOT / "test-artifacts" / "durable-compact.log")
        assert (tmp_path / "data" / "journal").stat().st_size < 0.05 * 1024 * 1024 + 64 * 1024
        kill_everything(proc)
        proc, stack = start_stack(tmp_path / "data", "durable-compact-restart")
        assert kept(stack.url, acknowledged) == 20
    finally:
        stop_stack(proc)


def test_a_crash_in_the_middle_of_a_snapshot_keeps_the_previous_one(tmp_path):
    data_dir = tmp_path / "data"
    proc, stack = start_stack(data_dir, "durable-snapshot")
    assert call(stack.url, "POST", "/accounts", account(1))[0] == 201
    assert stop_stack(proc) == 0                       # the snapshot holds account 1
    proc, stack = start_stack(data_dir, "durable-snapshot-2", start_new_session=True)
    assert call(stack.url, "POST", "/accounts", account(2))[0] == 201     # in the journal only
    kill_everything(proc)
    # As if the next save had died between its two renames, with half of the new copy written:
    (data_dir / "snapshot").rename(data_dir / "snapshot.old")
    (data_dir / "snapshot.saving" / "tables").mkdir(parents=True)
    (data_dir / "snapshot.saving" / "tables" / "accounts.jsonl").write_text('{"username": {"S": "half')
    proc, stack = start_stack(data_dir, "durable-snapshot-3")
    try:
        for n in (1, 2):
            assert call(stack.url, "POST", "/sessions", {"username": f"durable{n}",
                                                          "password": "correct-horse-1"})[0] == 200
        assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith("snapshot")) == ["snapshot"]
    finally:
        stop_stack(proc)


def test_sigterm_stops_every_process_frees_both_ports_and_says_the_data_is_saved(tmp_path):
    proc, stack = start_stack(tmp_path / "data", "durable-sigterm")
    children = descendants(proc.pid)
    assert len(children) == 2, children
    assert stop_stack(proc, signal.SIGTERM) == 0
    assert wait_gone(children) == set()
    assert [port_free(p) for p in ports_of(stack)] == [True, True]
    last = _tail(ROOT / "test-artifacts" / "durable-sigterm.log", 1)
    assert last == f"saiping: stopped, data saved in {tmp_path / 'data' / 'snapshot'}"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_whole_group_is_the_runners_and_it_stops_the_stack_in_order(tmp_path, sig):
    """A terminal's Ctrl-C (or `kill -TERM -<group>`) reaches every process; the children leave it to the
    runner, which stops the app, then the emulator: nothing fails on the way and the snapshot is written."""
    proc, stack = start_stack(tmp_path / "data", f"durable-group-{sig.name}", start_new_session=True)
    assert call(stack.url, "POST", "/accounts", account(1))[0] == 201
    children = descendants(proc.pid)
    time.sleep(1)         # a round of the runner's background work, which must not see the emulator go first
    os.killpg(proc.pid, sig)
    assert proc.wait(timeout=60) == 0
    assert wait_gone(children) == set()
    log = (ROOT / "test-artifacts" / f"durable-group-{sig.name}.log").read_text()
    assert "failed" not in log and "exited with" not in log
    assert log.splitlines()[-1] == f"saiping: stopped, data saved in {tmp_path / 'data' / 'snapshot'}"


def test_kill_9_of_the_runner_alone_takes_its_children_down(tmp_path):
    proc, stack = start_stack(tmp_path / "data", "durable-orphans")
    children = descendants(proc.pid)
    assert len(children) == 2, children
    proc.kill()
    proc.wait()
    assert wait_gone(children) == set()
    assert [port_free(p) for p in ports_of(stack)] == [True, True]


@pytest.mark.parametrize("taken", ["PORT", "AWS_EMULATOR_PORT"])
def test_a_taken_port_refuses_the_start_before_anything_loads(tmp_path, taken):
    port, emulator = _free_port(), _free_port()
    busy = port if taken == "PORT" else emulator
    env = {**os.environ, "PORT": str(port), "AWS_EMULATOR_PORT": str(emulator),
           "LOCAL_DATA_DIR": str(tmp_path / "data")}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", busy))
        holder.listen()
        done = subprocess.run([sys.executable, "-m", "scripts.run_local"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (f"saiping: 端口 {busy} 已被占用，未启动也未加载任何数据；请停止占用它的进程，或设置 {taken}=<其他端口>。\n"
                           f"saiping: port {busy} is already in use; nothing was started or loaded. Stop what "
                           f"uses it (an earlier `make run`?) or choose another port with {taken}=<port>.\n")
    assert not (tmp_path / "data").exists()


def edit_until_accepted(base: str, token: str, case_id: str, n: int) -> int:
    """One writer: read the case's version, PUT with it; on 409 wait a little (jittered) and read again.
    Returns the attempts."""
    attempts = 0
    while True:
        if attempts:
            time.sleep(random.uniform(0, 0.2 * attempts))
        attempts += 1
        status, case = call(base, "GET", f"/cases/{case_id}", token=token)
        assert status == 200, case
        status, data = call(base, "PUT", f"/cases/{case_id}",
                            {**case_body(title=f"第{n}次修改"), "version": case["version"]}, token)
        if status == 200:
            return attempts
        assert status == 409 and data["error"]["code"] == "version_conflict", (status, data)


def audit_edits(emulator: str, case_id: str) -> int:
    import boto3
    dynamodb = boto3.client("dynamodb", endpoint_url=emulator, region_name="ap-southeast-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if t.endswith("audit"))
    items = dynamodb.query(TableName=table, KeyConditionExpression="object_key = :k",
                           ExpressionAttributeValues={":k": {"S": f"case#{case_id}"}})["Items"]
    return sum(item["action"]["S"] == "case.edit" for item in items)


def test_30_processes_editing_one_case_lose_no_update(tmp_path):
    proc, stack = start_stack(tmp_path / "data", "durable-writers")
    try:
        assert call(stack.url, "POST", "/accounts", account(1))[0] == 201
        token = login(stack.url, "durable1", "correct-horse-1")
        status, case = call(stack.url, "POST", "/cases", case_body(), token)
        assert status == 201, case
        with multiprocessing.get_context("fork").Pool(WRITERS) as pool:
            attempts = pool.starmap(edit_until_accepted, [(stack.url, token, case["id"], n) for n in range(WRITERS)])
        final = call(stack.url, "GET", f"/cases/{case['id']}", token=token)[1]
        assert (final["version"], len(final["history"]), audit_edits(stack.emulator, case["id"])) == \
            (1 + WRITERS, WRITERS, WRITERS), attempts
        assert sum(attempts) > WRITERS, attempts     # they did collide
    finally:
        stop_stack(proc)


def test_the_emulator_itself_refuses_a_taken_port_before_reading_its_data(tmp_path):
    """The runner checks both ports first; the emulator binds before it reads anything, for a port taken
    in between."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "scripts.local_emulator", "--port", str(port), "--data",
                               str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert f"the emulator's port {port} is already in use" in done.stderr and "AWS_EMULATOR_PORT" in done.stderr
    assert not (tmp_path / "data").exists()


def test_a_frozen_emulator_gives_503_with_retry_after_on_pages_and_api_then_the_stack_goes_on(tmp_path):
    """SIGSTOP of the emulator (a store that accepts and never answers): the API and a page answer 503
    `unavailable` with Retry-After after the clients' short timeouts, not a hung request; SIGCONT and the same
    requests answer as before (docs/RELIABILITY.md records the seconds)."""
    proc, stack = start_stack(tmp_path / "data", "durable-frozen")
    try:
        emulator = next(pid for pid in descendants(proc.pid)
                        if b"scripts.local_emulator" in Path(f"/proc/{pid}/cmdline").read_bytes())
        os.kill(emulator, signal.SIGSTOP)
        try:
            answers = []
            for path in ("/api/v1/competition", "/"):
                started = time.monotonic()
                try:
                    urllib.request.urlopen(f"{stack.url}{path}", timeout=60)
                    raise AssertionError(f"{path} answered although the emulator is frozen")
                except urllib.error.HTTPError as error:
                    answers.append((path, error.code, error.headers.get("Retry-After"),
                                    round(time.monotonic() - started, 2), error.read().decode("utf-8")))
        finally:
            os.kill(emulator, signal.SIGCONT)
        print("\nfrozen emulator:", [(p, code, retry, seconds) for p, code, retry, seconds, _ in answers])
        for path, code, retry, _, body in answers:
            assert code == 503 and retry and retry.isdigit(), (path, code, retry)
            assert "服务暂时繁忙" in body, body[:200]
        assert call(stack.url, "GET", "/competition")[0] == 200
        with urllib.request.urlopen(f"{stack.url}/", timeout=60) as home:
            assert home.status == 200
    finally:
        stop_stack(proc)
