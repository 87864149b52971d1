"""The local stack's seeding puts the deployment's competition into the competitions table once, as 进行中."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap
from chalicelib.domain.competition_edit import CompetitionState
from chalicelib.store.models import Stage

NOW = datetime(2023, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def test_the_local_stack_seeds_the_competition_and_its_windows_once(aws) -> None:
    from scripts import local_stack

    comp = bootstrap.competition()
    assert local_stack.seed_competition(NOW) == 1 + 5
    record = bootstrap.deps().competitions.get(comp.id)
    assert record is not None and (record.state, record.version) == (CompetitionState.RUNNING, 1)
    assert record.definition["categories"] == comp.raw["categories"]
    assert len(list(Stage.query(comp.id))) == 5
    assert local_stack.seed_competition(NOW + timedelta(days=1)) == 0
    assert bootstrap.deps().competitions.get(comp.id) == record
