"""Close text_review for 3 categories x 500 cases (5 scores each) against the emulator (moto server).

Prints the wall time of close_stage and the AWS calls it made, by operation; a Scan would be a bug.

    .venv/bin/python benchmarks/bench_close_stage.py [cases_per_category]
"""
from __future__ import annotations

import collections
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(script: Path | None = None) -> tuple[subprocess.Popen, int]:
    """moto's server on a free port (or `script`, a wrapper of it that takes the same arguments)."""
    port = free_port()
    command = [str(script)] if script else ["-m", "moto.server"]
    proc = subprocess.Popen([sys.executable, *command, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("emulator did not start")


SECONDS: collections.Counter = collections.Counter()


def count_calls():
    import botocore.client
    calls: collections.Counter = collections.Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(self, operation, params):
        name = f"{self.meta.service_model.service_name}.{operation}"
        calls[name] += 1
        start = time.perf_counter()
        try:
            return original(self, operation, params)
        finally:
            SECONDS[name] += time.perf_counter() - start

    botocore.client.BaseClient._make_api_call = counted
    return calls


def seed(per_category: int, now: datetime) -> None:
    from chalicelib import bootstrap
    from chalicelib.domain.competition import StageWindow
    from chalicelib.services import stages
    from chalicelib.store import judging
    from chalicelib.store.models import Account, Assignment, Case
    from tests.conftest import case_body

    comp = bootstrap.competition()
    windows = [StageWindow(w.id, w.name, now - timedelta(days=30 - 5 * i), now - timedelta(days=26 - 5 * i))
               for i, w in enumerate(comp.default_windows[:1])]
    windows.append(StageWindow("text_review", "文本评审", now - timedelta(days=3), now + timedelta(hours=1)))
    stages.seed(comp, tuple(windows))
    rng = random.Random(7)
    with Account.batch_write() as accounts:
        for u in range(100):
            accounts.save(Account(f"unit{u}", id=f"acc{u}", role="unit", password_hash="x", unit_name=f"单位{u}",
                                  email=f"unit{u}@example.org", created_at=0))
    with Case.batch_write() as cases, Assignment.batch_write() as slots:
        for category in comp.category_ids:
            criteria = [c.id for c in comp.category(category).criteria]
            for n in range(per_category):
                case_id = f"{category[:3]}{n:05d}"
                body = case_body(category=category, title=f"{category}-{n}", recommending_unit=f"单位{n % 100}")
                cases.save(Case(case_id, competition_id=comp.id, category_key=f"{category}#{case_id}",
                                owner_id=f"acc{n % 100}", owner_username=f"unit{n % 100}", status="submitted",
                                version=1, history=[], body=json.dumps(body, ensure_ascii=False), char_count=100,
                                attachments={}, created_at=0, updated_at=0))
                for j in rng.sample(range(7), 5):
                    slot = judging.new_slot(comp.id, "text_review", f"{category[:3]}-judge{j}", case_id, category, "", 0)
                    sheet = {c: rng.randint(100, 300) for c in criteria}
                    slot.criteria, slot.total = sheet, sum(sheet.values())
                    slot.scored = True
                    slots.save(slot)


def main() -> None:
    per_category = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    proc, port = start_emulator()
    try:
        os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "bench",
                           "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "ap-southeast-1",
                           "SAIPING_LOCAL": "1", "MAIL_RATE_PER_SECOND": "0"})
        from chalicelib import bootstrap
        from chalicelib.services import results
        from scripts import local_stack

        bootstrap.reset()
        local_stack.create_resources("http://127.0.0.1:8000")
        now = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        seed(per_category, now)
        seeded = time.perf_counter() - t0
        calls = count_calls()
        t0 = time.perf_counter()
        deps = bootstrap.deps()
        results.close_stage(deps.judging, deps.cases, deps.stages, deps.results, bootstrap.competition(), deps.ports(),
                            "text_review", "bench", now)
        wall = time.perf_counter() - t0
        closing = dict(calls)
        calls.clear()
        t0 = time.perf_counter()
        mailed = results.notify_results(deps.cases, deps.results, bootstrap.competition(), deps.ports(), now, mail=deps.mail)
        mail_wall = time.perf_counter() - t0
        print(f"close text_review, 3 x {per_category} cases x 5 scores")
        print(f"  seeding: {seeded:.1f} s (not part of the figures)")
        print(f"  close_stage (ranking, statuses, records): {wall:.2f} s, AWS calls {sum(closing.values())}")
        for name, count in sorted(closing.items()):
            print(f"    {name:40s} {count:5d}  {SECONDS[name]:.2f} s in the emulator")
        print(f"  result mail from the schedule: {mailed} mails in {mail_wall:.2f} s, AWS calls {sum(calls.values())}")
        for name, count in sorted(calls.items()):
            print(f"    {name:40s} {count}")
        scans = sum(v for k, v in {**closing, **calls}.items() if k.endswith(".Scan"))
        print(f"  Scans: {scans}")
        if scans:
            raise SystemExit("a Scan on the closing path")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
