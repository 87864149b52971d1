"""The local stack: the AWS emulator (moto server), the app under `chalice local`, and what AWS would
run on its own (the app's schedules and async functions), with the data kept between runs.

    make run            # or: .venv/bin/python -m scripts.run_local

Environment: PORT (app, 8000), AWS_EMULATOR_PORT (moto, 5000), LOCAL_DATA_DIR (.local),
ORGANISER_USERNAME / ORGANISER_PASSWORD (organiser / saiping-2023-organiser).

Durability is the emulator's (scripts/local_emulator.py): every acknowledged change is in its journal,
fsynced before the answer leaves, and replayed over the last snapshot at the next start. Both children stay
in the runner's process group and get SIGKILL if the runner dies (PR_SET_PDEATHSIG), so none outlives it;
they ignore SIGINT and SIGTERM (a terminal's Ctrl-C or a kill of the whole group reaches them too) and are
stopped by the runner in order, with SIGUSR1.
A start refuses (exit 2) when either port is taken, before anything is started or loaded.
Stops on SIGINT/SIGTERM: stops the app, then the emulator, which writes the snapshot.
"""
from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
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


PORT_TAKEN = 2
PR_SET_PDEATHSIG = 1


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def refuse_taken_ports(ports: dict[str, int]) -> None:
    """Exit 2, naming the port and the variable to change, when another process holds one of the ports."""
    for variable, port in ports.items():
        if _port_taken(port):
            print(f"saiping: 端口 {port} 已被占用，未启动也未加载任何数据；"
                  f"请停止占用它的进程，或设置 {variable}=<其他端口>。\n"
                  f"saiping: port {port} is already in use; nothing was started or loaded. Stop what uses it "
                  f"(an earlier `make run`?) or choose another port with {variable}=<port>.", file=sys.stderr,
                  flush=True)
            raise SystemExit(PORT_TAKEN)


STOP = signal.SIGUSR1      # how the runner stops a child: SIGINT and SIGTERM sent to the group are its own


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the runner dies (even by kill -9). SIGINT and SIGTERM are
    ignored: a terminal's Ctrl-C or a `kill` of the whole group reaches the runner, which stops the app, then
    the emulator (with STOP), in that order."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _import_the_app() -> None:
    """What provisioning and the background work import (the app, for its schedules and functions)."""
    import importlib
    from scripts import local_jobs, local_stack  # noqa: F401
    importlib.import_module("app")


class Runner:
    def __init__(self) -> None:
        os.environ.update(_env())
        self.port = int(os.environ.get("PORT", "8000"))
        self.emulator_port = int(os.environ.get("AWS_EMULATOR_PORT", "5000"))
        data = Path(os.environ.get("LOCAL_DATA_DIR") or ROOT / ".local")
        self.data_dir = data if data.is_absolute() else ROOT / data
        self.snapshot = self.data_dir / "snapshot"
        self.journal = self.data_dir / "journal"
        self.children: list[subprocess.Popen] = []
        self.stopping = False
        self.saved = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        restored = self.has_data()
        emulator_env = {**os.environ, "MOTO_RECORDER_FILEPATH": str(self.data_dir / "moto_recording")}
        self.children.append(subprocess.Popen(
            [sys.executable, "-m", "scripts.local_emulator", "--host", "127.0.0.1", "--port", str(self.emulator_port),
             "--data", str(self.data_dir)], cwd=ROOT, env=emulator_env, preexec_fn=_die_with_parent))
        _import_the_app()       # while the emulator loads, on the other CPU
        _wait(f"http://127.0.0.1:{self.emulator_port}/moto-api/", 600, self.children[0])
        self.provision(restored)
        app = subprocess.Popen(
            [sys.executable, "-m", "scripts.chalice_local", "local", "--host", "127.0.0.1", "--port",
             str(self.port), "--no-autoreload", "--stage", "local"], cwd=ROOT, preexec_fn=_die_with_parent,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.children.append(app)
        threading.Thread(target=_print_redacted, args=(app.stdout,), daemon=True).start()
        _wait(f"http://127.0.0.1:{self.port}/api/v1/health", 60, self.children[1])

    def has_data(self) -> bool:
        from chalicelib.store import backup
        return backup.exists(self.snapshot) or (self.journal.exists() and self.journal.stat().st_size > 0)

    def provision(self, restored: bool) -> None:
        """The tables, bucket and sender are the emulator's (created before its snapshot loads)."""
        from chalicelib import bootstrap
        from scripts import local_stack

        bootstrap.reset()
        seeded = local_stack.seed_competition(bootstrap.now())
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
            "", "saiping is running (every change is kept as it is made; Ctrl-C stops it):",
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
        """The app first (no more changes), then the emulator, which writes the snapshot as it exits."""
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(STOP)
            try:
                proc.wait(timeout=600 if proc is self.children[0] else 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.saved = bool(self.children) and self.children[0].returncode == 0

    def farewell(self) -> str:
        if self.saved:
            return f"saiping: stopped, data saved in {self.snapshot}"
        code = self.children[0].returncode
        return (f"saiping: stopped; the emulator exited with {code} and wrote no snapshot. Every acknowledged "
                f"change is in the journal {self.journal} and is replayed at the next start")

    # -- what AWS would run by itself ------------------------------------------------------
    def run_background_work(self) -> None:
        from scripts import local_jobs
        local_jobs.run_due(datetime.now(timezone.utc))

    def loop(self) -> None:
        while not self.stopping:
            time.sleep(0.5)
            for proc in self.children:
                if proc.poll() is not None:
                    print(f"saiping: {proc.args[2]} exited with {proc.returncode}; stopping", flush=True)
                    return
            try:
                self.run_background_work()
            except Exception as exc:  # keep the stack up; the next round retries
                print(f"saiping: background work failed: {exc!r}", flush=True)


def main() -> None:
    runner = Runner()
    refuse_taken_ports({"PORT": runner.port, "AWS_EMULATOR_PORT": runner.emulator_port})
    signal.signal(signal.SIGINT, runner.stop)
    signal.signal(signal.SIGTERM, runner.stop)
    try:
        runner.start()
        runner.banner()
        runner.loop()
    finally:
        runner.shutdown()
        print(runner.farewell(), flush=True)


if __name__ == "__main__":
    main()
