"""`chalice local`, with two differences: a request whose HTTP method the standard library's server does not
know (TRACE, QUERY, …) goes through the same handler as every other method, so the app answers it (405 for
a method a route does not have) instead of the server's bare 501. API Gateway does the same in AWS. And the
listening socket's backlog is 1024 instead of the standard library's 5, so a burst of connections (45 judges
saving in the same second) waits to be accepted instead of being reset.

    python -m scripts.chalice_local local --host 127.0.0.1 --port 8000 --no-autoreload --stage local
"""
from __future__ import annotations

import sys

from chalice.cli import main
from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

BACKLOG = 1024      # capped by the kernel's net.core.somaxconn


def _any_method(self: ChaliceRequestHandler, name: str):
    if name.startswith("do_"):
        return self._generic_handle
    raise AttributeError(name)


ChaliceRequestHandler.__getattr__ = _any_method  # type: ignore[attr-defined]
ThreadedHTTPServer.request_queue_size = BACKLOG

if __name__ == "__main__":
    sys.exit(main())
