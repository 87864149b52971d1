"""`chalice local`, with three differences: a request whose HTTP method the standard library's server does not
know (TRACE, QUERY, …) goes through the same handler as every other method, so the app answers it instead of
the server's bare 501, as API Gateway does in AWS. A path no route has, or a method its route lacks, gets the
app's own Chinese 404 (as the gateway responses give in AWS), not `Missing Authentication Token`. And the
listening socket's backlog is 1024 instead of the standard library's 5, so a burst of connections (45 judges
saving in the same second) waits to be accepted instead of being reset.

    python -m scripts.chalice_local local --host 127.0.0.1 --port 8000 --no-autoreload --stage local
"""
from __future__ import annotations

import sys

from chalice.cli import main
from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalGateway, ThreadedHTTPServer

from chalicelib.web import not_found

BACKLOG = 1024      # capped by the kernel's net.core.somaxconn


def _any_method(self: ChaliceRequestHandler, name: str):
    if name.startswith("do_"):
        return self._generic_handle
    raise AttributeError(name)


ChaliceRequestHandler.__getattr__ = _any_method  # type: ignore[attr-defined]
ThreadedHTTPServer.request_queue_size = BACKLOG


def answer_unrouted_with_the_apps_404(gateway: type[LocalGateway] = LocalGateway) -> None:
    """A path no route has: the app's own Chinese 404 (chalicelib/web/not_found.py), as API Gateway's gateway
    responses give in AWS (infra/), not chalice's `Missing Authentication Token`. (A method its route lacks:
    the app's middleware answers the same 404.)"""
    handle = gateway.handle_request

    def handle_request(self: LocalGateway, method: str, path: str, headers: dict, body: bytes | None) -> dict:
        try:
            return handle(self, method, path, headers, body)
        except ForbiddenError:        # raised for unrouted paths only: the app has no authorizers
            return not_found.lambda_response(path, self._app_object.api.binary_types)

    gateway.handle_request = handle_request  # type: ignore[method-assign]


if __name__ == "__main__":
    answer_unrouted_with_the_apps_404()
    sys.exit(main())
