"""Test speed only: every `aws` fixture rebinds the store, and `store.db.bind` makes a new PynamoDB
connection, so a new botocore session that parses the DynamoDB service description again (~0.3 s, about a
quarter of an integration test). Within a test module the integration tests give PynamoDB one shared
botocore session instead. Behaviour and call counts are unchanged (clients are still made per bind).

Use: `from tests.integration.botocore_speed import one_botocore_session  # noqa: F401` (autouse fixture).
"""
from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def one_botocore_session() -> Iterator[None]:
    import botocore.session
    import moto  # noqa: F401  (registers moto's handler on every botocore session made after this import)
    import pynamodb.connection.base as base

    shared = botocore.session.get_session()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "get_session", lambda: shared)
        yield
