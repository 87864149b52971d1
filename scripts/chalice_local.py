"""`chalice local`, with one difference: a request whose HTTP method the standard library's server does not
know (TRACE, QUERY, …) goes through the same handler as every other method, so the app answers it (405 for
a method a route does not have) instead of the server's bare 501. API Gateway does the same in AWS.

    python -m scripts.chalice_local local --host 127.0.0.1 --port 8000 --no-autoreload --stage local
"""
from __future__ import annotations

import sys

from chalice.cli import main
from chalice.local import ChaliceRequestHandler


def _any_method(self: ChaliceRequestHandler, name: str):
    if name.startswith("do_"):
        return self._generic_handle
    raise AttributeError(name)


ChaliceRequestHandler.__getattr__ = _any_method  # type: ignore[attr-defined]

if __name__ == "__main__":
    sys.exit(main())
