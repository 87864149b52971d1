"""往届竞赛 on the public pages (DynamoDB in moto): the home page shows the current competition first and, below it,
the earlier non-draft competitions, each linking to /competitions/{id} with its name, year and published
results (the cases 优秀案例展示 shows, once its final has closed); drafts never show; an unknown id is a 404."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest

from chalicelib.domain.case_record import new_case
from chalicelib.domain.competition_edit import CompetitionState
from chalicelib.domain.competition_record import new_record
from tests.conftest import CHINA, case_body
from tests.integration.test_not_found import visible

AFTER_THE_FINAL = datetime(2023, 9, 1, 10, 0, tzinfo=CHINA)


@pytest.fixture
def archive(clock):
    """2023 (current, seeded), 2022 (进行中 in the table: a competition of an earlier year), a 2021 draft."""
    from chalicelib import bootstrap, competitions as configs
    from chalicelib.services import competitions

    repo = bootstrap.deps().competitions
    competitions.seed(repo, "shenzhen-2023", datetime(2023, 3, 1, tzinfo=CHINA))
    base = configs.load("shenzhen-2023")
    for new_id, name, year, state in (("shenzhen-2022", "2022年深圳市机关创新创优案例评选", 2022, CompetitionState.RUNNING),
                                      ("draft-2021", "草稿届次不公开", 2021, CompetitionState.DRAFT)):
        definition = {**base, "id": new_id, "name": name, "year": year, "state": state.value}
        repo.create(new_record(definition, "organiser:admin", clock.t), "organiser:admin", clock.t)
    return repo


def award(case_id: str, competition_id: str, title: str, consent: bool = True) -> None:
    """An awarded case of that competition, as its final left it (the unit consented to the showcase)."""
    from chalicelib.store.cases import _row
    body = {**case_body(title=title), "showcase_consent": consent}
    case = new_case(case_id, competition_id, "acc-old", "old-unit", body, 100, 0.0)
    row = _row(replace(case, status="awarded"))
    row.prize = "first"                 # written by the final's close
    row.save()


def test_the_home_page_lists_the_earlier_competition_below_the_current_one_and_no_draft(client, archive):
    page = client.http.get("/")
    assert page.status_code == 200
    text = visible(page.body.decode())
    assert "往届竞赛" in text and "2022年深圳市机关创新创优案例评选" in text and "2022 年" in text
    assert "草稿届次不公开" not in text and "/competitions/draft-2021" not in page.body.decode()
    assert text.index("竞赛阶段与时间") < text.index("往届竞赛")          # the current competition first
    assert re.search(r'href="/competitions/shenzhen-2022"', page.body.decode())
    assert "/competitions/shenzhen-2023" not in page.body.decode()     # the current one is the page itself


def test_an_earlier_competitions_page_says_when_it_has_no_published_results(client, archive):
    award("old-1", "shenzhen-2022", "往届获奖案例甲")          # awarded, but its final has not closed yet
    page = client.http.get("/competitions/shenzhen-2022")
    assert page.status_code == 200
    text = visible(page.body.decode())
    assert "2022年深圳市机关创新创优案例评选" in text and "2022 年" in text
    assert "本届竞赛尚未公布评选结果。" in text and "往届获奖案例甲" not in text


def test_an_earlier_competitions_page_shows_its_published_results_and_only_its_own(client, archive, clock):
    award("old-1", "shenzhen-2022", "往届获奖案例甲")
    award("old-2", "shenzhen-2022", "不同意展示的案例", consent=False)
    award("new-1", "shenzhen-2023", "本届获奖案例乙")
    clock.set(AFTER_THE_FINAL)
    text = visible(client.http.get("/competitions/shenzhen-2022").body.decode())
    assert "往届获奖案例甲" in text and "一等奖" in text
    assert "不同意展示的案例" not in text and "本届获奖案例乙" not in text
    assert "共展示 1 个获奖案例" in text


def test_an_earlier_competition_without_shown_cases_says_so(client, archive, clock):
    clock.set(AFTER_THE_FINAL)
    text = visible(client.http.get("/competitions/shenzhen-2022").body.decode())
    assert "本届竞赛暂无公开展示的获奖案例。" in text


@pytest.mark.parametrize("competition_id", ["draft-2021", "no-such-competition"])
def test_a_draft_or_an_unknown_competition_is_not_found(client, archive, competition_id):
    page = client.http.get(f"/competitions/{competition_id}")
    assert page.status_code == 404
    assert "草稿届次不公开" not in page.body.decode()
