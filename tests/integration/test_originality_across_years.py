"""Originality across years over the API, on DynamoDB and S3 (moto): 2023 with a case, 2024 (a copy of the 2023
record in the competitions table, another id) with a near copy of it. The 2024 check flags it against 2023 with
no import by hand, naming the year and the 2023 case; the 2023 check does not flag against 2024.

Which competition is current is `bootstrap.competition()` (the deployment's pointer): the test points it at
2024, then back at 2023."""
from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.competition_edit import CompetitionState, copy_for_next_year
from chalicelib.domain.competition_record import new_record
from tests.conftest import CHINA
from tests.integration.test_judging_api import organiser
from tests.integration.test_originality_api import submit
from tests.originality_corpus import Texts


def test_a_2024_copy_of_a_2023_case_is_flagged_against_2023_and_2023_is_not_flagged_against_2024(
        api, clock):
    from chalicelib import bootstrap
    from chalicelib.services import competitions, stages

    repo = bootstrap.deps().competitions
    c2023 = bootstrap.competition()
    competitions.seed(repo, c2023.id, datetime(2023, 3, 1, tzinfo=CHINA))   # the stack seeds it already; idempotent
    d2024 = {**copy_for_next_year(repo.get(c2023.id).definition, "shenzhen-2024"),
             "state": CompetitionState.RUNNING.value}
    repo.create(new_record(d2024, "organiser:admin", clock.t), "organiser:admin", clock.t)
    c2024 = competition_from_config(d2024)
    stages.seed(bootstrap.deps().stages, c2024, c2024.default_windows)

    texts = Texts(31)
    original = texts.case()
    old_id = submit(api, 1, original)
    submit(api, 2, texts.case())
    org = organiser(api)
    code, before = org.call("GET", "/admin/originality")
    assert (code, before["flags"], before["archived"]) == (200, [], 0)

    with pytest.MonkeyPatch.context() as mp:     # the pointer only (the fixtures' own patches outlive bootstrap)
        mp.setattr(bootstrap, "competition", lambda: c2024)
        check_2024(api, clock, texts, original, old_id)
    org = organiser(api)
    code, early = org.call("GET", "/admin/originality")
    assert (code, early) == (200, before)


def check_2024(api, clock, texts: Texts, original: dict, old_id: str) -> None:
    clock.set(datetime(2024, 6, 1, 10, 0, tzinfo=CHINA))
    new_id = submit(api, 3, texts.near_copy(original))
    submit(api, 4, texts.case())
    org = organiser(api)
    code, report = org.call("GET", "/admin/originality")
    assert code == 200, report
    assert (report["checked"], report["archived"]) == (2, 2)
    [flag] = report["flags"]
    assert flag["case_id"] == new_id
    [match] = flag["matches"]
    assert (match["source"], match["year"], match["other_id"], match["other_title"]) == (
        "archive", 2023, old_id, original["title"])
    assert match["similarity"] > 0.5 and match["passages"]
    assert org.call("GET", "/admin/originality") == (200, report)           # asked again: from the cache
