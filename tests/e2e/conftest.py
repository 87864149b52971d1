"""Browser tests: the local stack (`python -m scripts.run_local`) in a subprocess, driven by Playwright's sync
API on Debian's chromium (never a downloaded browser). Screenshots go to test-artifacts/ (gitignored).

SAIPING_E2E_URL=http://127.0.0.1:8000 runs the tests against a stack that is already running instead.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
ORGANISER = ("e2e-organiser", "e2e-organiser-password")
START_SECONDS = 90
STOP_SECONDS = 20


@dataclass(frozen=True)
class Stack:
    url: str
    organiser: tuple[str, str]
    emulator: str = ""          # the AWS emulator's base URL (its /moto-api/ shows the mail SES took)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk; CI installs it)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    if os.environ.get("SAIPING_E2E_URL"):
        yield Stack(os.environ["SAIPING_E2E_URL"].rstrip("/"), ORGANISER, os.environ.get("SAIPING_E2E_EMULATOR", ""))
        return
    with running_stack(tmp_path_factory.mktemp("local-data"), "e2e-stack") as started:
        yield started


@contextmanager
def running_stack(data_dir: Path, name: str) -> Iterator[Stack]:
    """A local stack of its own (free ports, its own data), stopped with SIGINT afterwards; for tests that
    change what cannot be undone (a stage closed for good) use one beside the shared `stack`."""
    proc, started = start_stack(data_dir, name)
    try:
        yield started
    finally:
        stop_stack(proc)


def start_stack(data_dir: Path, name: str, ports: tuple[int, int] | None = None, checkout: Path = ROOT,
                **popen: object) -> tuple[subprocess.Popen, Stack]:
    """`python -m scripts.run_local` of `checkout` on free ports (or `ports`: app, emulator), its log in
    test-artifacts/, once /api/v1/health answers."""
    ARTIFACTS.mkdir(exist_ok=True)
    port, emulator = ports or (_free_port(), _free_port())
    python = ROOT / ".venv" / "bin" / "python"
    env = {**os.environ, "PORT": str(port), "AWS_EMULATOR_PORT": str(emulator), "LOCAL_DATA_DIR": str(data_dir),
           "ORGANISER_USERNAME": ORGANISER[0], "ORGANISER_PASSWORD": ORGANISER[1]}
    env.pop("AWS_ENDPOINT_URL", None)
    log_path = ARTIFACTS / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(python if python.exists() else sys.executable), "-m", "scripts.run_local"],
                                cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT, **popen)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + START_SECONDS
    while not _healthy(url):
        if proc.poll() is not None:
            pytest.fail(f"the local stack exited with {proc.returncode}:\n{_tail(log_path)}")
        if time.time() > deadline:
            stop_stack(proc)
            pytest.fail(f"the local stack did not answer {url}/api/v1/health within {START_SECONDS} s:\n"
                        f"{_tail(log_path)}")
        time.sleep(0.5)
    return proc, Stack(url, ORGANISER, f"http://127.0.0.1:{emulator}")


def stop_stack(proc: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    """Stop the runner as Ctrl-C does (or with `sig`); its return code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the whole run (Playwright's sync API allows one running instance per thread), shared
    by the tests on the shared `stack` and those on a stack of their own."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk; CI installs it)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def browser(stack, chromium):
    return chromium


def fresh_page(browser, stack, **options):
    """A fresh browser context (no cookies) on the stack; fails the test on a CSP violation or a JS error.
    A generator for fixtures: `yield from fresh_page(browser, stack, viewport=…)`."""
    context = browser.new_context(base_url=stack.url, locale="zh-CN", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    yield page
    context.close()
    assert problems == []


@pytest.fixture
def page(browser, stack):
    yield from fresh_page(browser, stack, viewport={"width": 1280, "height": 900})


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
