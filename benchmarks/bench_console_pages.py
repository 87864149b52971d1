"""The organiser's pages at a real size, on the local stack: p50 of `/admin`, `/admin/rankings/text_review`
and `GET /api/v1/cases` (as the organiser) with 600 submitted cases, every case scored by 5 judges.

    .venv/bin/python benchmarks/bench_console_pages.py [--cases 600] [--judges 30] [--runs 15]

Starts `python -m scripts.run_local` (moto server + `chalice local`, as `make run` does) on free ports with a
fresh data folder, seeds it straight into the emulator's tables (unit accounts, cases, judges, the text
review's scored slots: seeding through the API would take longer than the measurement and measure nothing
more), logs the organiser in over the API, then requests each URL `--runs` times, the three in turn, after
one warm-up each. Goal (docs/PERFORMANCE.md): both pages within 3x the p50 of `GET /api/v1/cases`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_simulation import CATEGORIES, MAXIMA, case_body  # noqa: E402

ORGANISER = ("bench-organiser", "bench-organiser-password")
URLS = ("/admin", "/admin/rankings/text_review", "/api/v1/cases")
JUDGES_PER_CASE = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_stack(data_dir: str) -> tuple[subprocess.Popen, str, int, Path]:
    port, emulator = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "AWS_EMULATOR_PORT": str(emulator), "LOCAL_DATA_DIR": data_dir,
           "ORGANISER_USERNAME": ORGANISER[0], "ORGANISER_PASSWORD": ORGANISER[1], "RUNNER_SAVE_SECONDS": "3600"}
    env.pop("AWS_ENDPOINT_URL", None)
    log = Path(data_dir) / "stack.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "scripts.run_local"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the local stack exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2):
                return proc, url, emulator, log
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the local stack did not start; see {log}")


def stop_stack(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=300)       # it saves the data first (a few seconds per thousand items)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed(emulator: int, cases: int, judges: int) -> None:
    os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator}", "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local", "SAIPING_LOCAL": "1",
                       "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-1")})
    seed_tables(cases, judges)


def seed_tables(cases: int, judges: int) -> None:
    """Accounts, cases, judges and scored text-review slots, written as the app's store would keep them."""
    from chalicelib import bootstrap
    from chalicelib.domain.cases import count_chars
    from chalicelib.store import judging
    from chalicelib.store.cases import category_key
    from chalicelib.store.models import Account, Assignment, Case, Judge

    bootstrap.reset()
    bootstrap.config()
    comp = bootstrap.competition()
    now = time.time()
    rng = random.Random(2023)
    categories = list(CATEGORIES)
    units = max(1, cases // 6)
    with Account.batch_write() as batch:
        for u in range(units):
            batch.save(Account(f"bench-unit-{u}", id=f"acc-{u:05d}", role="unit", password_hash="-",
                               unit_name=f"深圳市基准测试第{u}局", unit_system="municipal", contact_name="张三",
                               email=f"u{u}@example.gov.cn", mobile="13800138000", created_at=now - 86400 + u))
    by_category: dict[str, list[tuple[str, str]]] = {c: [] for c in categories}
    with Case.batch_write() as batch:
        for n in range(cases):
            category = categories[n % 3]
            case_id = f"bench-case-{n:05d}"
            body = case_body(rng, category, f"深圳市基准测试第{n % units}局", n)
            text = [body["title"], body["background"], *body["innovations"], *body["results"]]
            batch.save(Case(case_id, competition_id=comp.id, category_key=category_key(category, case_id),
                            owner_id=f"acc-{n % units:05d}", owner_username=f"bench-unit-{n % units}",
                            status="submitted", version=1, history=[], body=json.dumps(body, ensure_ascii=False),
                            char_count=count_chars(text), attachments={}, created_at=now - 3600 + n,
                            updated_at=now - 1800 + n, submitted_at=now - 1800 + n))
            by_category[category].append((case_id, body["title"]))
    panel = {c: [f"bench-judge-{c}-{j}" for j in range(judges // 3)] for c in categories}
    with Judge.batch_write() as batch:
        for category, ids in panel.items():
            for j, judge_id in enumerate(ids):
                batch.save(Judge(comp.id, judge_id, name=f"评委{category[:3]}{j}", email=f"{judge_id}@example.org",
                                 affiliation=f"评审单位{j}", categories=[category], conflicts=[], created_at=now,
                                 updated_at=now))
    with Assignment.batch_write() as batch:
        for category, found in by_category.items():
            for n, (case_id, title) in enumerate(found):
                for k in range(JUDGES_PER_CASE):
                    judge_id = panel[category][(n + k) % len(panel[category])]
                    slot = judging.new_slot(comp.id, "text_review", judge_id, case_id, category, title, now)
                    criteria = {c: rng.randint(MAXIMA[c] * 5, MAXIMA[c] * 10) for c in CATEGORIES[category]}
                    slot.criteria, slot.total, slot.scored, slot.scored_at = criteria, sum(criteria.values()), True, now
                    batch.save(slot)
    bootstrap.reset()


def organiser_token(url: str) -> str:
    request = urllib.request.Request(f"{url}/api/v1/sessions", method="POST", headers={
        "Content-Type": "application/json"}, data=json.dumps({"username": ORGANISER[0],
                                                              "password": ORGANISER[1]}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


def fetch(url: str, path: str, token: str) -> tuple[float, int, int]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"} if path.startswith("/api/") \
        else {"Cookie": f"sp_session={token}", "Accept": "text/html"}
    request = urllib.request.Request(url + path, headers=headers)
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        size = len(response.read())
        status = response.status
    return time.perf_counter() - start, status, size


def measure(url: str, token: str, runs: int) -> dict[str, dict[str, float]]:
    times: dict[str, list[float]] = {p: [] for p in URLS}
    sizes: dict[str, int] = {}
    for path in URLS:                                   # warm-up: imports, templates, the originality index
        _, status, sizes[path] = fetch(url, path, token)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    for _ in range(runs):
        for path in URLS:
            seconds, _, _ = fetch(url, path, token)
            times[path].append(seconds)
    return {p: {"p50_ms": statistics.median(t) * 1000, "min_ms": min(t) * 1000, "max_ms": max(t) * 1000,
                "bytes": sizes[p]} for p, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--judges", type=int, default=30)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as data_dir:
        proc, url, emulator, _ = start_stack(data_dir)
        try:
            started = time.perf_counter()
            seed(emulator, args.cases, args.judges)
            print(f"seeded {args.cases} cases, {args.judges} judges, {args.cases * JUDGES_PER_CASE} scored slots "
                  f"in {time.perf_counter() - started:.0f} s", flush=True)
            result = measure(url, organiser_token(url), args.runs)
        finally:
            stop_stack(proc)
    base = result["/api/v1/cases"]["p50_ms"]
    print(f"\n{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
          f"{args.runs} runs each after one warm-up")
    print(f"{'request':<34}{'p50 ms':>9}{'min':>8}{'max':>8}{'KB':>8}{'x cases':>9}")
    for path, r in result.items():
        label = ("GET " + path) if path.startswith("/api/") else ("GET " + path + " (page)")
        print(f"{label:<34}{r['p50_ms']:>9.0f}{r['min_ms']:>8.0f}{r['max_ms']:>8.0f}{r['bytes'] / 1024:>8.0f}"
              f"{r['p50_ms'] / base:>9.2f}")
    worst = max(result[p]["p50_ms"] for p in URLS[:2]) / base
    print(f"\ngoal: both pages within 3x of GET /api/v1/cases: {'met' if worst <= 3 else 'NOT met'} ({worst:.2f}x)")


if __name__ == "__main__":
    main()
