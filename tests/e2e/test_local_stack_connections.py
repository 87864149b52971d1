"""The local stack's server takes a burst: 45 judges pressing 保存评分 in the same second each open a
connection at once, and every one gets an HTTP answer (no connection reset, none refused).

The requests are score saves with a session that does not exist (401): what is measured is the server's
accepting of 45 simultaneous connections (the listen backlog, scripts/chalice_local.py), not scoring.
"""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlparse

import pytest

JUDGES = 45


def save_score(host: str, port: int, n: int, start: threading.Barrier) -> str:
    body = b'{"criteria": {"foresight": 20, "practicality": 20, "effectiveness": 30}, "comment": ""}'
    request = (f"PUT /api/v1/judge/cases/case-{n}/score HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Authorization: Bearer judge-session-{n}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    start.wait()
    try:
        with socket.create_connection((host, port), timeout=120) as conn:
            conn.sendall(request)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    except ConnectionResetError:
        return "reset"
    except ConnectionRefusedError:
        return "refused"
    except OSError as error:
        return f"error: {error!r}"
    return answer.split(b"\r\n", 1)[0].decode("latin-1")


def listen_backlog(port: int) -> int | None:
    """The listening socket's backlog as the kernel reports it (ss: Send-Q of a LISTEN socket), if ss exists."""
    import shutil
    import subprocess
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout.split()
    return int(out[2]) if len(out) > 2 else None


def test_the_server_listens_with_a_backlog_for_a_room_of_judges(stack):
    backlog = listen_backlog(urlparse(stack.url).port)
    if backlog is None:
        pytest.skip("ss (iproute2) is missing or the stack listens elsewhere")
    assert backlog == 1024


def test_45_judges_saving_at_the_same_second_all_get_an_answer(stack):
    url = urlparse(stack.url)
    start = threading.Barrier(JUDGES)
    results: list[str] = [""] * JUDGES

    def judge(n: int) -> None:
        results[n] = save_score(url.hostname, url.port, n, start)

    threads = [threading.Thread(target=judge, args=(n,)) for n in range(JUDGES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(results)) == ["HTTP/1.1 401 Unauthorized"], {r: results.count(r) for r in set(results)}
