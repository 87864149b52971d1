"""services/exports.py (requesting, starting, following and running an export), the certificate codes
(services/certificates.py), the console's saved award list and latest exports (services/console.py) and the
originality check (services/originality.py) on the in-memory twins: no DynamoDB, no S3, no moto.

A run's builders read the other services' tables; here a kind is registered for the test with a builder of its
own, so what is under test is the job's life: claimed once, progress, done with its file or failed with why.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.domain.clock import epoch, moment
from chalicelib import competitions
from chalicelib.domain.case_record import Case, new_case
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.services import certificates, console, exports, originality
from chalicelib.services.accounts import Principal
from chalicelib.store.memory_accounts import InMemoryAccountRepository
from chalicelib.store.memory_judging import InMemoryJudgingRepository
from chalicelib.store.memory import InMemoryCaseRepository, MemoryTables
from chalicelib.store.memory_competitions import InMemoryCompetitionRepository
from chalicelib.store.memory_certificates import InMemoryCertificateRepository
from chalicelib.store.memory_exports import InMemoryAwardListRepository, InMemoryExportRepository
from chalicelib.store.memory_originality import InMemoryArchiveRepository, InMemoryOriginalityObjects
from chalicelib.store.memory_results import InMemoryFinalRepository, InMemoryResultRepository, InMemoryStageRepository
from tests.originality_corpus import Texts

CHINA = timezone(timedelta(hours=8))
T = datetime(2023, 6, 1, 10, 0, tzinfo=CHINA).timestamp()
COMP = competition_from_config(competitions.load("shenzhen-2023"))
ORGANISER = Principal("organiser", "t3", account_id="org1", username="admin")
ACTOR = "organiser:admin"


def test_the_service_tests_run_without_moto() -> None:
    code = "import sys, tests.services.test_export_service; assert 'moto' not in sys.modules, 'moto imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


class Clock:
    def __init__(self) -> None:
        self.t = T

    def seconds(self) -> float:
        self.t += 1
        return self.t

    def __call__(self) -> datetime:
        return moment(self.seconds())


@pytest.fixture
def jobs() -> InMemoryExportRepository:
    return InMemoryExportRepository()


@pytest.fixture
def stored() -> dict[str, tuple[bytes, str]]:
    return {}


@pytest.fixture
def ports(jobs, stored) -> exports.RunPorts:
    cases = InMemoryCaseRepository()
    return exports.RunPorts(
        jobs=jobs, cases=cases, certificates=InMemoryCertificateRepository(),
        award_lists=InMemoryAwardListRepository(), judging=InMemoryJudgingRepository(),
        accounts=InMemoryAccountRepository(), stages=InMemoryStageRepository(cases.tables),
        results=InMemoryResultRepository(cases), final=InMemoryFinalRepository(cases),
        signing_key="key", site_url="https://example.test", now=Clock(),
        put_object=lambda key, body, media: stored.__setitem__(key, (body, media)))


def kind(builder: Any) -> exports.Kind:
    return exports.Kind("测试导出", "test.xlsx", "application/octet-stream", "测试导出（Excel）", builder)


# -- requesting and starting ------------------------------------------------------------------------
def test_a_request_names_a_known_kind_and_a_per_category_kind_its_category(jobs) -> None:
    with pytest.raises(Invalid) as refused:
        exports.request(jobs, COMP, {"kind": "nonsense"}, ACTOR, moment(T))
    assert refused.value.fields == {"kind": "不支持的导出类型"}
    with pytest.raises(Invalid) as refused:
        exports.request(jobs, COMP, {"kind": "presentations_zip"}, ACTOR, moment(T))
    assert refused.value.fields == {"category": "请选择案例类别"}
    job = exports.request(jobs, COMP, {"kind": "presentations_zip", "category": "development"}, ACTOR, moment(T))
    assert jobs.get(job.id) == job
    assert (job.status, job.category, job.requested_by, exports.public_status(job)) == (
        "queued", "development", ACTOR, "running")
    assert jobs.queued() == [job]


def test_start_dispatches_the_job_and_a_failed_dispatch_fails_it_at_once(jobs) -> None:
    sent: list[str] = []
    job = exports.start(jobs, COMP, {"kind": "results_xlsx"}, ACTOR, moment(T), sent.append)
    assert sent == [job.id] and jobs.get(job.id).status == "queued"

    def down(job_id: str) -> None:
        raise RuntimeError("lambda down")
    with pytest.raises(RuntimeError):
        exports.start(jobs, COMP, {"kind": "results_xlsx"}, ACTOR, moment(T), down)
    [failed] = [j for j in jobs.jobs.values() if j.status == "failed"]
    assert failed.error == "导出任务未能启动，请稍后重新导出"


def test_a_job_of_another_competition_or_an_odd_id_is_not_found(jobs) -> None:
    job = exports.request(jobs, COMP, {"kind": "results_xlsx"}, ACTOR, moment(T))
    assert exports.get(jobs, COMP, job.id) == job
    jobs.jobs["other"] = replace(job, id="other", competition_id="another")
    for job_id in ("other", "nosuch", "x" * 65, ""):
        with pytest.raises(NotFound):
            exports.get(jobs, COMP, job_id)


# -- running ----------------------------------------------------------------------------------------
def test_a_run_builds_the_file_once_under_its_chinese_name(jobs, ports, stored, monkeypatch) -> None:
    reports: list[float] = []

    def build(comp, ports, progress, category):
        for step in range(1, 11):
            progress(step / 10)
            reports.append(jobs.get(job.id).percent)
        return b"file"
    monkeypatch.setitem(exports.KINDS, "test_xlsx", kind(build))
    monkeypatch.setattr(exports.time, "monotonic", Clock().seconds)      # each reading a second later
    job = exports.request(jobs, COMP, {"kind": "test_xlsx"}, ACTOR, moment(T))
    assert exports.run(COMP, ports, job.id) == "done"
    done = jobs.get(job.id)
    assert stored == {f"exports/{job.id}/test.xlsx": (b"file", "application/octet-stream")}
    assert (done.status, done.percent, done.key, done.attempts) == ("done", 100, f"exports/{job.id}/test.xlsx", 1)
    assert done.filename is not None and done.filename.startswith(f"{COMP.short_name}-测试导出-")
    assert done.filename.endswith(".xlsx")
    assert 0 < max(reports) <= 99 and reports == sorted(reports)
    view = exports.view(done, lambda key, name: f"https://s3.test/{key}?name={name}")
    assert view["status"] == "done" and view["url"].startswith(f"https://s3.test/exports/{job.id}/")
    assert exports.run(COMP, ports, job.id) == "already_done"
    assert exports.run(COMP, ports, "nosuch") == "missing"


def test_a_claimed_job_is_left_alone_and_a_refused_build_fails_with_its_reason(jobs, ports, monkeypatch) -> None:
    def refuse(comp, ports, progress, category):
        raise Conflict("综合评选结束后才能生成")

    def crash(comp, ports, progress, category):
        raise KeyError("boom")
    monkeypatch.setitem(exports.KINDS, "refused", kind(refuse))
    monkeypatch.setitem(exports.KINDS, "crash", kind(crash))
    busy = exports.request(jobs, COMP, {"kind": "refused"}, ACTOR, moment(T))
    assert jobs.claim(busy, epoch(ports.now())) is not None
    assert exports.run(COMP, ports, busy.id) == "busy"
    refused = exports.request(jobs, COMP, {"kind": "refused"}, ACTOR, moment(T + 1))
    crashed = exports.request(jobs, COMP, {"kind": "crash"}, ACTOR, moment(T + 2))
    assert exports.run_queued(COMP, ports) == [refused.id, crashed.id]
    assert jobs.get(refused.id).error == "综合评选结束后才能生成"
    assert jobs.get(crashed.id).error == "导出失败（KeyError），请稍后重试或联系技术支持"
    assert exports.view(jobs.get(crashed.id))["status"] == "failed"


def test_every_builder_reads_first_then_makes_its_file_with_the_rest_of_the_progress(monkeypatch) -> None:
    seen: list[Any] = []

    class Progress:
        def __call__(self, fraction: float) -> None:
            seen.append(fraction)

        def part(self, start: float, end: float):
            seen.append((start, end))
            return lambda fraction: None
    from chalicelib.exports import data
    monkeypatch.setattr(data, "fake_maker", lambda book, progress: repr(book).encode(), raising=False)
    assert exports._made({"book": 1}, Progress(), "data.fake_maker", start=0.2) == b"{'book': 1}"
    assert seen == [0.2, (0.2, 0.95)]


def test_every_kind_has_a_builder_and_a_file_of_its_media_type() -> None:
    for kind_id, spec in exports.KINDS.items():
        assert callable(spec.builder) and "." in spec.file and spec.description, kind_id


# -- the console's side: the saved award list, the latest exports -------------------------------------
def test_the_latest_exports_are_the_competitions_newest(jobs) -> None:
    first = exports.request(jobs, COMP, {"kind": "results_xlsx"}, ACTOR, moment(T))
    second = exports.request(jobs, COMP, {"kind": "scores_xlsx"}, ACTOR, moment(T + 5))
    assert console.latest_exports(COMP, jobs) == [second, first]
    assert console.latest_exports(COMP, jobs, limit=1) == [second]


# -- certificates -------------------------------------------------------------------------------------
def awarded(case_id: str, prize: str, title: str, category: str = "development") -> Case:
    body = {"category": category, "title": title, "recommending_unit": "深圳市某某局"}
    case = new_case(case_id, COMP.id, "acc1", "unit1", body, 100, T)
    return replace(case, status="awarded", prize=prize)


def test_issued_codes_verify_as_typed_and_unknown_ones_do_not() -> None:
    issued = InMemoryCertificateRepository()
    cases = [awarded("c2", "second", "乙"), awarded("c1", "first", "甲"), replace(awarded("c3", "third", "丙"),
                                                                              status="not_awarded")]
    found = certificates.awards(COMP, "key", cases)
    assert [a.case_id for a in found] == ["c1", "c2"]
    assert certificates.record(COMP, found, moment(T), issued) == 2
    code = found[0].code
    typed = certificates.display(code).lower()
    record = certificates.verify(issued, typed)
    assert record is not None and (record.case_id, record.prize, record.title, record.issued_at) == (
        "c1", "first", "甲", T)
    assert certificates.verify(issued, "AAAA-BBBB-CCCC") is None
    assert certificates.verify(issued, "not a code") is None


# -- originality --------------------------------------------------------------------------------------
def test_an_archive_import_flags_the_copied_case_and_asking_again_reads_the_cache() -> None:
    tables = MemoryTables()
    archive, objects, cases = InMemoryArchiveRepository(tables), InMemoryOriginalityObjects(), InMemoryCaseRepository(tables)
    texts = Texts(21)
    archived = [texts.case() for _ in range(6)]
    raw = {"year": 2022, "cases": [{"title": c["title"], "unit": f"往年单位{n}", "category": "development",
                                    "background": c["background"], "innovations": c["innovations"],
                                    "results": c["results"]} for n, c in enumerate(archived)]}
    assert originality.import_archive(COMP, archive, objects, ORGANISER, raw, moment(T)) == 6
    assert archive.count_cases() == 6 and ("archive#archive", ORGANISER.actor, "archive.import") in tables.audit
    copy, other = texts.near_copy(archived[2]), texts.case()
    for n, text in enumerate((copy, other, texts.near_copy(archived[3]))):
        case = new_case(f"case{n}", COMP.id, f"acc{n}", f"unit{n}", {**text, "category": "development"}, 100, T)
        cases.put(replace(case, status="submitted" if n < 2 else "draft"))
    report = originality.report(COMP, archive, objects, cases, InMemoryCompetitionRepository())
    assert (report["checked"], report["archived"]) == (2, 6)
    assert [f["case_id"] for f in report["flags"]] == ["case0"]
    [match] = report["flags"][0]["matches"]
    assert (match["source"], match["year"], match["other_title"]) == ("archive", 2022, archived[2]["title"])
    saves = objects.saves
    assert originality.report(COMP, archive, objects, cases, InMemoryCompetitionRepository()) == report and objects.saves == saves


def test_the_archive_index_is_rebuilt_from_the_table_when_it_is_lost() -> None:
    archive, objects = InMemoryArchiveRepository(), InMemoryOriginalityObjects()
    texts = Texts(5)
    raw = {"year": 2022, "cases": [{**texts.case(), "unit": None, "category": None}]}
    originality.import_archive(COMP, archive, objects, ORGANISER, raw, moment(T))
    objects.index = None
    s = originality.settings_for(COMP)
    index, _ = originality.archive_index(s, archive, objects)
    assert index.size == 1 and objects.index is not None
