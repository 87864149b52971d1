"""The local stack: the AWS emulator (moto server), the app under `chalice local`, and what AWS would
run on its own (the app's schedules and async functions), with the data kept between runs.

    make run            # or: .venv/bin/python -m scripts.run_local

Environment: PORT (app, 8000), AWS_EMULATOR_PORT (moto, 5000), LOCAL_DATA_DIR (.local),
ORGANISER_USERNAME / ORGANISER_PASSWORD (organiser / saiping-2023-organiser),
RUNNER_SAVE_SECONDS (how often data is saved while running, 60).
Stops on SIGINT/SIGTERM: saves the data, then stops everything it started.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ORGANISER = ("organiser", "saiping-2023-organiser")


def _env() -> dict[str, str]:
    port = int(os.environ.get("PORT", "8000"))
    emulator = int(os.environ.get("AWS_EMULATOR_PORT", "5000"))
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator}",
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-1"),
        "SAIPING_LOCAL": "1", "SITE_URL": f"http://127.0.0.1:{port}",
        "ASYNC_MODE": "poll", "MAIL_TRANSPORT": os.environ.get("MAIL_TRANSPORT", "ses"),
        # The emulator has no sending quota to respect: no throttle unless asked for.
        "MAIL_RATE_PER_SECOND": os.environ.get("MAIL_RATE_PER_SECOND", "0"),
    }
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    return env


# Paths that carry a secret (a judge's scoring link, a password-reset or invitation link): cut from the log.
SECRET_PATHS = ((re.compile(r"/j/[^\s?\"']+"), "/j/<link>"), (re.compile(r"/reset/[^\s?\"']+"), "/reset/<token>"))


def _print_redacted(stream) -> None:
    """The app's log lines, with scoring-link and reset-link tokens cut out of the request lines it prints."""
    for line in stream:
        for pattern, placeholder in SECRET_PATHS:
            line = pattern.sub(placeholder, line)
        sys.stdout.write(line)
        sys.stdout.flush()


def _wait(url: str, seconds: float, proc: subprocess.Popen) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} stopped with code {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


class Runner:
    def __init__(self) -> None:
        os.environ.update(_env())
        self.port = int(os.environ.get("PORT", "8000"))
        self.emulator_port = int(os.environ.get("AWS_EMULATOR_PORT", "5000"))
        data = Path(os.environ.get("LOCAL_DATA_DIR") or ROOT / ".local")
        self.data_dir = data if data.is_absolute() else ROOT / data
        self.snapshot = self.data_dir / "snapshot"
        self.save_every = float(os.environ.get("RUNNER_SAVE_SECONDS", "60"))
        self.children: list[subprocess.Popen] = []
        self.stopping = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        emulator_env = {**os.environ, "MOTO_RECORDER_FILEPATH": str(self.data_dir / "moto_recording")}
        self.children.append(subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.emulator_port)],
            cwd=ROOT, env=emulator_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
        _wait(f"http://127.0.0.1:{self.emulator_port}/moto-api/", 60, self.children[0])
        self.provision()
        app = subprocess.Popen(
            [sys.executable, "-m", "scripts.chalice_local", "local", "--host", "127.0.0.1", "--port",
             str(self.port), "--no-autoreload", "--stage", "local"], cwd=ROOT, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=_print_redacted, args=(app.stdout,), daemon=True).start()
        self.children.append(app)
        _wait(f"http://127.0.0.1:{self.port}/api/v1/health", 60, self.children[1])

    def provision(self) -> None:
        from chalicelib import bootstrap
        from scripts import local_stack

        bootstrap.reset()
        local_stack.create_resources(f"http://127.0.0.1:{self.port}")
        restored = self.load()
        seeded = local_stack.seed_competition(bootstrap.now_dt())
        user, password = self.organiser()
        local_stack.ensure_organiser(user, password)
        print(f"saiping: data in {self.data_dir} ({'restored' if restored else 'fresh'}"
              f"{', competition seeded' if seeded else ''})", flush=True)

    def organiser(self) -> tuple[str, str]:
        return (os.environ.get("ORGANISER_USERNAME") or DEFAULT_ORGANISER[0],
                os.environ.get("ORGANISER_PASSWORD") or DEFAULT_ORGANISER[1])

    def banner(self) -> None:
        site = f"http://127.0.0.1:{self.port}"
        user, _ = self.organiser()
        print("\n".join([
            "", "saiping is running (Ctrl-C stops it and saves the data):",
            f"  competition     {site}/",
            f"  register a unit {site}/register",
            f"  log in          {site}/login",
            f"  organiser       {site}/admin   (user {user!r}; password from ORGANISER_PASSWORD or the README)",
            f"  JSON API        {site}/api/v1/competition",
            f"  AWS emulator    http://127.0.0.1:{self.emulator_port}/moto-api/",
            f"  local data      {self.data_dir}", "",
        ]), flush=True)

    def stop(self, *_: object) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        try:
            if len(self.children) >= 1 and self.children[0].poll() is None:
                self.save()
        finally:
            for proc in reversed(self.children):
                if proc.poll() is None:
                    proc.terminate()
            for proc in reversed(self.children):
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    # -- data ------------------------------------------------------------------------------
    def _stores(self):
        from chalicelib import bootstrap
        from chalicelib.store import schema
        cfg = bootstrap.config()
        return bootstrap.client("dynamodb"), bootstrap.s3(), schema.table_names(), cfg.bucket

    def load(self) -> bool:
        from chalicelib.store import backup
        if not backup.exists(self.snapshot):
            return False
        backup.load(self.snapshot, *self._stores())
        return True

    def save(self) -> None:
        from chalicelib.store import backup
        backup.dump(self.snapshot, *self._stores())

    # -- what AWS would run by itself ------------------------------------------------------
    def run_background_work(self) -> None:
        from scripts import local_jobs
        local_jobs.run_due(time.time())

    def loop(self) -> None:
        last_save = time.time()
        while not self.stopping:
            time.sleep(0.5)
            for proc in self.children:
                if proc.poll() is not None:
                    print(f"saiping: {proc.args[0]} exited with {proc.returncode}; stopping", flush=True)
                    return
            try:
                self.run_background_work()
            except Exception as exc:  # keep the stack up; the next round retries
                print(f"saiping: background work failed: {exc!r}", flush=True)
            if time.time() - last_save >= self.save_every:
                self.save()
                last_save = time.time()


def main() -> None:
    runner = Runner()
    signal.signal(signal.SIGINT, runner.stop)
    signal.signal(signal.SIGTERM, runner.stop)
    try:
        runner.start()
        runner.banner()
        runner.loop()
    finally:
        runner.shutdown()
        print("saiping: stopped, data saved", flush=True)


if __name__ == "__main__":
    main()
