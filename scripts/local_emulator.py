"""The local stack's AWS emulator: moto's WSGI app in a process of our own, made durable and serial.

Every request goes through one lock (moto's backends are not thread-safe: its threaded server lost updates
of transactions under concurrent writers), so DynamoDB's conditions and versions hold as they do in AWS.
A mutating request that succeeds (status < 400) is appended to the journal (`LOCAL_DATA_DIR/journal`) and
fsynced before its answer leaves: an acknowledged write survives kill -9 of every process. At start the
last snapshot (`LOCAL_DATA_DIR/snapshot`, chalicelib/store/backup.py's format, recording the last journal
sequence number it holds) is loaded and the journal's later entries are replayed through the same app,
in-process, before the port serves anything; after a replay, and when stopped (SIGTERM, SIGINT, or SIGUSR1 as
the runner does), a new snapshot is written atomically and the journal emptied. While it runs, once the
journal holds more than `LOCAL_JOURNAL_MAX_MB` (64) megabytes, the same happens between two requests, so a stack
that runs for weeks keeps a short journal and restarts quickly after a crash. Exit code 0 only when the last
snapshot was written.

    python -m scripts.local_emulator --host 127.0.0.1 --port 5000 --data .local

Transactions roll back item by item (scripts/moto_rollback.py) instead of copying whole tables, which moto
does for every transaction (safe here: one request at a time). The tables, the bucket and the SES sender
are created here (scripts/local_stack.create_resources, through moto's in-process mock, which shares moto's
backends with the app served here) before the snapshot loads.
Reads are not journaled: GET/HEAD/OPTIONS, DynamoDB's Get*/BatchGet*/Query/Scan/Describe*/List*, query
protocol (SES, STS) Get*/List*/Describe*; nor moto's own /moto-api/ (the emulator's dashboard, not AWS data).
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
import struct
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs

MAGIC = b"SPJ1"
HEADER = struct.Struct(">4sQIQI")       # magic, seq, meta length, body length, crc32(meta + body)
READ_PREFIXES = ("Get", "BatchGet", "Query", "Scan", "Describe", "List")
EXIT_PORT_TAKEN = 2
BACKLOG = 1024      # as the app's server (scripts/chalice_local.py): a burst of uploads waits to be accepted
MB = 1024 * 1024


# -- the journal -------------------------------------------------------------------------------

class Journal:
    """An append-only file of framed records; a torn last record (a crash mid-append, never acknowledged)
    is cut off when the journal is opened."""

    def __init__(self, path: Path):
        self.path = path
        self.entries = list(self._read())
        with open(path, "ab") as f:
            f.truncate(self._good_length)
        self.file = open(path, "ab")
        self.last_seq = self.entries[-1][0] if self.entries else 0

    def _read(self) -> Iterator[tuple[int, dict[str, Any], bytes]]:
        self._good_length = 0
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        offset = 0
        while offset + HEADER.size <= len(data):
            magic, seq, meta_len, body_len, crc = HEADER.unpack_from(data, offset)
            start = offset + HEADER.size
            end = start + meta_len + body_len
            if magic != MAGIC or end > len(data) or zlib.crc32(data[start:end]) != crc:
                return
            yield seq, json.loads(data[start:start + meta_len]), data[start + meta_len:end]
            offset = self._good_length = end

    def append(self, seq: int, meta: dict[str, Any], body: bytes) -> None:
        raw = json.dumps(meta, ensure_ascii=False).encode()
        self.file.write(HEADER.pack(MAGIC, seq, len(raw), len(body), zlib.crc32(raw + body)) + raw + body)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.last_seq = seq

    @property
    def size(self) -> int:
        return self.file.tell()

    def clear(self) -> None:
        self.file.truncate(0)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.entries = []


# -- which requests change state ---------------------------------------------------------------

def _action(environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return ""


def mutates(environ: dict[str, Any], body: bytes) -> bool:
    if environ["REQUEST_METHOD"] in ("GET", "HEAD", "OPTIONS") or environ.get("PATH_INFO", "").startswith("/moto-api"):
        return False
    action = _action(environ, body)
    return not (action and action.startswith(READ_PREFIXES))


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return stream.read(length) if length > 0 else b""


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return environ


# -- the serialising, journaling middleware ----------------------------------------------------

class DurableApp:
    """Serialises every request, journals each acknowledged change, and calls `compact` (a snapshot that
    empties the journal) between two requests once the journal holds `max_journal_bytes`."""

    def __init__(self, app: Callable, journal: Journal | None = None, compact: Callable[[], None] | None = None,
                 max_journal_bytes: int = 64 * MB):
        self.app = app
        self.journal = journal
        self.compact = compact
        self.max_journal_bytes = max_journal_bytes
        self.lock = threading.Lock()
        self.seq = journal.last_seq if journal else 0

    def _call(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            answer["status"], answer["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return answer["status"], answer["headers"], content

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        body = _read_body(environ)
        _with_body(environ, body)
        with self.lock:
            status, headers, content = self._call(environ)
            if int(status.split()[0]) < 400 and mutates(environ, body):
                self.seq += 1
                meta = {k: v for k, v in environ.items() if isinstance(v, str)}
                self.journal.append(self.seq, meta, body)
                if self.compact is not None and self.journal.size >= self.max_journal_bytes:
                    self.compact()      # after the change is on disk, before the next request runs
        start_response(status, headers)
        return [content]

    def replay(self, after: int) -> tuple[int, int]:
        """Run the journal's entries with seq > `after` through the app; (replayed, refused by the app)."""
        from werkzeug.test import create_environ
        replayed = refused = 0
        for seq, meta, body in self.journal.entries:
            if seq <= after:
                continue
            environ = {**create_environ(), **meta}
            status, _, _ = self._call(_with_body(environ, body))
            replayed += 1
            refused += int(status.split()[0]) >= 400
            self.seq = max(self.seq, seq)
        return replayed, refused


# -- the stores, through moto's in-process mock ------------------------------------------------

def _stores() -> tuple[Any, Any, dict[str, str], str]:
    from chalicelib import bootstrap
    from chalicelib.store import schema
    return bootstrap.client("dynamodb"), bootstrap.s3(), schema.table_names(), bootstrap.config().bucket


def _provision(site: str) -> None:
    from chalicelib import bootstrap
    from scripts import local_stack
    bootstrap.reset()
    local_stack.create_resources(site)


def save(snapshot: Path, durable: DurableApp) -> dict[str, Any]:
    """A new snapshot of everything, holding the journal's last seq; then the journal is emptied.
    Call with `durable.lock` held (or before serving)."""
    from chalicelib.store import backup
    manifest = backup.dump(snapshot, *_stores(), extra={"journal_seq": durable.seq})
    durable.journal.clear()
    return manifest


def _compact(snapshot: Path, durable: DurableApp) -> None:
    """A snapshot while serving (the lock is held by the request that filled the journal). If it fails, the
    journal keeps every change as before and the next change tries again."""
    started, size = time.perf_counter(), durable.journal.size
    try:
        save(snapshot, durable)
    except Exception as error:
        print(f"saiping: emulator could not write a snapshot ({error!r}); the journal keeps every change",
              file=sys.stderr, flush=True)
        return
    print(f"saiping: emulator wrote a snapshot (changes up to {durable.seq}, {size / MB:.1f} MB of journal) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)


# -- the process -------------------------------------------------------------------------------

def _bind(host: str, port: int, app: Callable):
    """The listening socket first (connections wait in its backlog until the data is loaded), then the server."""
    import socket
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        print(f"saiping: 模拟器端口 {port} 已被占用，未加载任何数据；请停止占用它的进程，"
              "或用 AWS_EMULATOR_PORT 换一个端口。"
              f"\nsaiping: the emulator's port {port} is already in use ({error.strerror}); nothing was loaded. "
              f"Stop what uses it or choose another port with AWS_EMULATOR_PORT.", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_PORT_TAKEN)
    listener.listen(BACKLOG)
    return make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--site", default=os.environ.get("SITE_URL", "http://127.0.0.1:8000"))
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.pop("AWS_ENDPOINT_URL", None)        # the in-process clients go to the mock, not to a port

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from scripts import moto_rollback  # noqa: F401  (transactions roll back item by item: no table copies)

    snapshot = args.data / "snapshot"
    durable = DurableApp(DomainDispatcherApplication(create_backend_app),
                         max_journal_bytes=int(float(os.environ.get("LOCAL_JOURNAL_MAX_MB", "64")) * MB))
    server = _bind(args.host, args.port, durable)      # before anything is read: a taken port refuses here
    restore(durable, snapshot, args.data / "journal", args.site)
    durable.compact = lambda: _compact(snapshot, durable)
    _serve_until_stopped(server)
    durable.lock.acquire()      # kept to the end: nothing runs after the snapshot
    try:
        save(snapshot, durable)
    except Exception as error:  # the journal still holds every acknowledged change
        print(f"saiping: emulator could not write the snapshot ({error!r}); the journal {durable.journal.path} "
              f"keeps every change and is replayed at the next start", file=sys.stderr, flush=True)
        return 1
    return 0


def restore(durable: DurableApp, snapshot: Path, journal_path: Path, site: str) -> None:
    """Resources, the snapshot, the journal's later changes; a new snapshot if anything was replayed."""
    from moto import mock_aws
    from chalicelib.store import backup

    started = time.perf_counter()
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    durable.journal = journal = Journal(journal_path)
    mock_aws().start()
    _provision(site)
    seq = int(backup.load(snapshot, *_stores()).get("journal_seq", 0)) if backup.exists(snapshot) else 0
    loaded = f"snapshot loaded (changes up to {seq})" if backup.exists(snapshot) else "no snapshot yet"
    durable.seq = max(journal.last_seq, seq)
    replayed, refused = durable.replay(seq)
    if journal.entries:
        save(snapshot, durable)
    print(f"saiping: emulator ready in {time.perf_counter() - started:.1f} s: {loaded}, {replayed} journaled "
          f"changes replayed{f'; WARNING: {refused} of them were refused this time' if refused else ''}", flush=True)


def _serve_until_stopped(server: Any) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        if signal.getsignal(sig) is not signal.SIG_IGN:   # the runner's: SIGUSR1 only (scripts/run_local.py)
            signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)          # no thread waiting for the lock gets to run after the last snapshot
