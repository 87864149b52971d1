"""One contract for the originality check's store: the archive table and the objects (index, flags), the same
tests against DynamoDB and S3 (moto) and the in-memory twins (store/memory_originality.py)."""
from __future__ import annotations

from typing import Iterator

import pytest

from chalicelib.domain import originality as rules
from chalicelib.domain.archive_record import ArchiveCase
from chalicelib.services.repositories import ArchiveRepository, OriginalityObjects
from chalicelib.store.memory_originality import InMemoryArchiveRepository, InMemoryOriginalityObjects
from tests.integration.backends import on_aws

T = 1_700_000_000.0


@pytest.fixture(params=["aws", "memory"])
def store(request) -> Iterator[tuple[ArchiveRepository, OriginalityObjects]]:
    if on_aws(request):
        from chalicelib import bootstrap
        from chalicelib.store.originality import ArchiveRepository as DynamoArchive, Objects, forget_loaded
        forget_loaded()
        yield DynamoArchive(), Objects(bootstrap.s3(), bootstrap.config().bucket)
        forget_loaded()
    else:
        yield InMemoryArchiveRepository(), InMemoryOriginalityObjects()


def archived(case_id: str, title: str = "往年案例", year: int = 2022) -> ArchiveCase:
    return ArchiveCase(case_id, year, title, unit="深圳市某某局", category="development", background="背景。",
                       innovations=("创新点一", "创新点二"), results=("成果一",), imported_at=T,
                       imported_by="organiser:admin")


def test_archived_cases_are_put_and_listed_and_an_id_again_overwrites(store) -> None:
    archive, _ = store
    assert (archive.count_cases(), archive.list_cases()) == (0, [])
    archive.put_cases([archived("arc-2"), archived("arc-1")], "organiser:admin", T, {"cases": 2})
    assert archive.count_cases() == 2
    assert archive.list_cases() == [archived("arc-1"), archived("arc-2")]
    archive.put_cases([archived("arc-1", "改过的标题")], "organiser:admin", T, {"cases": 1})
    assert archive.count_cases() == 2
    assert [c.title for c in archive.list_cases()] == ["改过的标题", "往年案例"]


def test_the_index_reads_back_with_a_new_etag_on_each_save(store) -> None:
    _, objects = store
    assert objects.load_index() is None
    s = rules.settings_from_config(None)
    entry = rules.Entry("arc-1", "往年案例", 2022, rules.case_text("往年案例", "背景。", ["创新点一"], ["成果一"]))
    first = objects.save_index(rules.build_index([entry], s))
    loaded = objects.load_index()
    assert loaded is not None and loaded[1] == first and [e.id for e in loaded[0].entries] == ["arc-1"]
    second = objects.save_index(rules.build_index([], s))
    again = objects.load_index()
    assert again is not None and again[1] == second and list(again[0].entries) == []


def test_the_flags_are_kept_for_their_digest_only(store) -> None:
    _, objects = store
    assert objects.cached_flags("shenzhen-2023", "d1") is None
    objects.save_flags("shenzhen-2023", "d1", {"flags": [], "checked": 3})
    assert objects.cached_flags("shenzhen-2023", "d1") == {"flags": [], "checked": 3}
    assert objects.cached_flags("shenzhen-2023", "d2") is None


def test_each_competition_keeps_its_own_flags(store) -> None:
    _, objects = store
    objects.save_flags("shenzhen-2023", "d1", {"flags": [], "checked": 3})
    objects.save_flags("shenzhen-2024", "d2", {"flags": [], "checked": 5})
    assert objects.cached_flags("shenzhen-2023", "d1") == {"flags": [], "checked": 3}     # not pushed out by 2024's
    assert objects.cached_flags("shenzhen-2024", "d2") == {"flags": [], "checked": 5}
    assert objects.cached_flags("shenzhen-2024", "d1") is None
