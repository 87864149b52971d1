"""The local stack's durability figures (docs/RELIABILITY.md, "本地环境 / the local stack"): real stacks of
`python -m scripts.run_local` on free ports, killed the hard way.

    .venv/bin/python benchmarks/bench_local_durability.py [--judges 180] [--writers 30] [--checkout DIR]

Prints: judge creations acknowledged / kept after SIGKILL of every process and a restart (and whether an
export accepted with 202 still downloads); concurrent writers of one case (versioned PUT, retry on 409) /
updates lost; whether the previous snapshot is used after a crash mid-snapshot; processes left and ports
held after SIGTERM and after SIGKILL of the runner alone; time to ready (fresh, and with data).
`--checkout` runs another checkout's runner (e.g. an older commit in a worktree) for comparison; the
stacks' logs are in test-artifacts/bench-durability-*.log.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import case_body  # noqa: E402
from tests.e2e.conftest import ORGANISER, start_stack, stop_stack  # noqa: E402
from tests.e2e.test_local_stack_durability import (  # noqa: E402
    account, audit_edits, call, descendants, edit_until_accepted, judge, login, port_free, ports_of,
    wait_gone,
)


def timed_start(data: Path, name: str, checkout: Path, **popen):
    started = time.perf_counter()
    proc, stack = start_stack(data, name, checkout=checkout, **popen)
    return proc, stack, time.perf_counter() - started


def kill_9(judges: int, checkout: Path, data: Path) -> dict[str, object]:
    proc, stack, fresh = timed_start(data, "bench-durability-kill", checkout, start_new_session=True)
    organiser = login(stack.url, *ORGANISER)
    created = []
    started = time.perf_counter()
    for n in range(judges):
        status, body = call(stack.url, "POST", "/admin/judges", judge(n), organiser)
        if status == 201:
            created.append(body["id"])
    per_write = (time.perf_counter() - started) / judges
    status, job = call(stack.url, "POST", "/admin/exports", {"kind": "registrations_xlsx"}, organiser)
    deadline = time.time() + 60
    while call(stack.url, "GET", f"/admin/exports/{job['id']}", token=organiser)[1]["status"] != "done":
        if time.time() > deadline:
            break
        time.sleep(0.3)
    pids = descendants(proc.pid) | {proc.pid}
    os.killpg(proc.pid, signal.SIGKILL)     # every process of the stack at once, as kill -9 of make's group
    proc.wait()
    for pid in wait_gone(pids):             # an older runner's children live in sessions of their own
        os.kill(pid, signal.SIGKILL)
    wait_gone(pids)
    proc, stack, restart = timed_start(data, "bench-durability-kill-restart", checkout)
    try:
        organiser = login(stack.url, *ORGANISER)
        kept = {j["id"] for j in call(stack.url, "GET", "/admin/judges", token=organiser)[1]["judges"]}
        status, after = call(stack.url, "GET", f"/admin/exports/{job['id']}", token=organiser)
        downloads = False
        if status == 200 and after.get("url"):
            with urllib.request.urlopen(after["url"], timeout=30) as download:
                downloads = download.read(2) == b"PK"
    finally:
        stop_stack(proc)
    return {"acknowledged": len(created), "kept": len(kept & set(created)), "export": "202",
            "export after restart": "downloads" if downloads else f"{status}", "ms per write": per_write * 1000,
            "ready fresh s": fresh, "ready with data s": restart}


def writers(count: int, checkout: Path, data: Path) -> dict[str, object]:
    proc, stack, _ = timed_start(data, "bench-durability-writers", checkout)
    try:
        call(stack.url, "POST", "/accounts", account(1))
        token = login(stack.url, "durable1", "correct-horse-1")
        case = call(stack.url, "POST", "/cases", case_body(), token)[1]
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(count) as pool:
            attempts = pool.starmap(edit_until_accepted, [(stack.url, token, case["id"], n) for n in range(count)])
        seconds = time.perf_counter() - started
        final = call(stack.url, "GET", f"/cases/{case['id']}", token=token)[1]
        audited = audit_edits(stack.emulator, case["id"])
    finally:
        stop_stack(proc)
    return {"writers": count, "acknowledged": count, "version": final["version"],
            "lost": count - (final["version"] - 1), "history": len(final["history"]), "audit rows": audited,
            "attempts": sum(attempts), "seconds": seconds}


def stops(checkout: Path, data: Path) -> dict[str, object]:
    proc, stack, _ = timed_start(data, "bench-durability-sigterm", checkout)
    children = descendants(proc.pid)
    code = stop_stack(proc, signal.SIGTERM)
    left_term = wait_gone(children)
    ports_term = [p for p in ports_of(stack) if not port_free(p)]
    proc, stack, _ = timed_start(data, "bench-durability-orphans", checkout)
    children = descendants(proc.pid)
    proc.kill()
    proc.wait()
    left_kill = wait_gone(children)
    ports_kill = [p for p in ports_of(stack) if not port_free(p)]
    for pid in left_term | left_kill:       # clean up after an older runner that leaves orphans
        os.kill(pid, signal.SIGKILL)
    return {"SIGTERM exit": code, "left after SIGTERM": len(left_term), "ports held after SIGTERM": len(ports_term),
            "left after kill -9 of the runner": len(left_kill), "ports held after it": len(ports_kill)}


def snapshot_crash(checkout: Path, data: Path) -> dict[str, object]:
    proc, stack, _ = timed_start(data, "bench-durability-snapshot", checkout)
    call(stack.url, "POST", "/accounts", account(1))
    stop_stack(proc)
    (data / "snapshot").rename(data / "snapshot.old")
    (data / "snapshot.saving").mkdir()
    (data / "snapshot.saving" / "manifest.json").write_text("{")
    proc, stack, _ = timed_start(data, "bench-durability-snapshot-2", checkout)
    try:
        status = call(stack.url, "POST", "/sessions", {"username": "durable1", "password": "correct-horse-1"})[0]
    finally:
        stop_stack(proc)
    return {"previous snapshot used after a crash mid-save": status == 200}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judges", type=int, default=180)
    parser.add_argument("--writers", type=int, default=30)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-durability-") as tmp:
        tmp = Path(tmp)
        results = {
            "kill -9 of every process": kill_9(args.judges, args.checkout, tmp / "kill"),
            "concurrent writers": writers(args.writers, args.checkout, tmp / "writers"),
            "stopping": stops(args.checkout, tmp / "stops"),
            "snapshot": snapshot_crash(args.checkout, tmp / "snapshot"),
        }
    for section, figures in results.items():
        print(section)
        for name, value in figures.items():
            print(f"  {name:48} {value:.2f}" if isinstance(value, float) else f"  {name:48} {value}")


if __name__ == "__main__":
    main()
