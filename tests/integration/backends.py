"""What the contract suites (test_*_repository_contract.py) share: each test runs once against the store's
implementation in moto and once against its in-memory twin, by a fixture parametrised over BACKENDS (or over
its own names: every name but "memory" is the AWS side)."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

import pytest

BACKENDS = ("dynamodb", "memory")
SetStage = Callable[[str, float, float, bool], None]      # put a stage's window (stage id, opens, closes, closed)

R = TypeVar("R")


def on_aws(request: pytest.FixtureRequest) -> bool:
    """Whether this run of a parametrised test is the AWS side; then moto is started (the `aws` fixture) and the
    settings are bound to it."""
    if request.param == "memory":
        return False
    request.getfixturevalue("aws")
    from chalicelib import bootstrap
    bootstrap.config()
    return True


def backend(request: pytest.FixtureRequest, aws: Callable[[], R], memory: Callable[[], R]) -> R:
    """What `aws()` builds inside moto, or what `memory()` builds, by the fixture's parameter."""
    return aws() if on_aws(request) else memory()


def with_stages(request: pytest.FixtureRequest, competition_id: str, aws: Callable[[], R],
                memory: Callable[[], Any]) -> tuple[R, SetStage]:
    """A repository whose writes check the stage windows, with a way to put a window: a Stage row in moto, or
    the twin's own `set_stage`."""
    if on_aws(request):
        from chalicelib.store.models import Stage

        def put_row(stage_id: str, opens_at: float, closes_at: float, closed: bool = False) -> None:
            Stage(competition_id, stage_id, opens_at=opens_at, closes_at=closes_at, closed=closed).save()
        return aws(), put_row
    twin = memory()

    def set_stage(stage_id: str, opens_at: float, closes_at: float, closed: bool = False) -> None:
        twin.set_stage(competition_id, stage_id, opens_at, closes_at, closed)
    return twin, set_stage
