"""One contract for the export jobs and the console's saved award list: the same tests against DynamoDB and
S3 (moto) and the in-memory twins (store/memory_exports.py).

A job is created once, claimed once (again only after its lease), reports progress only while running, and
ends done (with its file) or failed (with its reason); the console's latest jobs and the runner's queue read
it back. The award list reads back as saved, None before.
"""
from __future__ import annotations


import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.export_record import ExportJob, queued_job
from chalicelib.services.repositories import AwardListRepository, ExportRepository
from chalicelib.store.exports import LEASE_SECONDS
from chalicelib.store.memory_exports import InMemoryAwardListRepository, InMemoryExportRepository
from tests.integration.backends import BACKENDS, backend

COMP = "shenzhen-2023"
T = 1_700_000_000.0


def _dynamodb() -> ExportRepository:
    from chalicelib.store.exports import ExportRepository as DynamoExports
    return DynamoExports()


def _s3() -> AwardListRepository:
    from chalicelib import bootstrap
    from chalicelib.store.console import AwardListRepository as S3AwardLists
    return S3AwardLists(bootstrap.s3(), bootstrap.config().bucket)


@pytest.fixture(params=BACKENDS)
def jobs(request) -> ExportRepository:
    return backend(request, _dynamodb, InMemoryExportRepository)


@pytest.fixture(params=["s3", "memory"])
def award_lists(request) -> AwardListRepository:
    return backend(request, _s3, InMemoryAwardListRepository)


def queued(jobs: ExportRepository, job_id: str = "job1", created_at: float = T, kind: str = "results_xlsx",
           competition_id: str = COMP) -> ExportJob:
    job = queued_job(job_id, competition_id, kind, None, "organiser:admin", created_at)
    jobs.create(job)
    return job


def test_a_created_job_reads_back_queued(jobs) -> None:
    job = queued(jobs)
    assert jobs.get(job.id) == job
    assert (job.status, job.percent, job.attempts, job.requested_by) == ("queued", 0, 0, "organiser:admin")
    assert jobs.get("nosuchjob") is None


def test_a_job_is_never_created_twice(jobs) -> None:
    job = queued(jobs)
    with pytest.raises(Conflict):
        queued(jobs, created_at=T + 1)
    assert jobs.get(job.id) == job


def test_a_job_is_claimed_once_and_again_only_after_its_lease(jobs) -> None:
    job = queued(jobs)
    claimed = jobs.claim(job, T + 10)
    assert claimed is not None
    assert (claimed.status, claimed.started_at, claimed.percent, claimed.attempts) == ("running", T + 10, 0, 1)
    assert jobs.get(job.id) == claimed
    assert jobs.claim(job, T + 11) is None
    assert jobs.claim(job, T + 10 + LEASE_SECONDS) is None
    again = jobs.claim(job, T + 11 + LEASE_SECONDS)
    assert again is not None and again.attempts == 2


def test_progress_lands_only_while_running_and_stays_below_a_hundred(jobs) -> None:
    job = queued(jobs)
    with pytest.raises(Conflict):
        jobs.progress(job, 10)
    claimed = jobs.claim(job, T)
    assert claimed is not None
    jobs.progress(claimed, 40)
    assert jobs.get(job.id).percent == 40
    jobs.progress(claimed, 250)
    assert jobs.get(job.id).percent == 99


def test_a_finished_job_has_its_file_and_is_never_claimed_again(jobs) -> None:
    claimed = jobs.claim(queued(jobs), T)
    assert claimed is not None
    done = jobs.finish(claimed, "exports/job1/results.xlsx", "评审结果.xlsx", T + 5)
    assert jobs.get(claimed.id) == done
    assert (done.status, done.percent, done.key, done.filename, done.finished_at, done.error) == (
        "done", 100, "exports/job1/results.xlsx", "评审结果.xlsx", T + 5, None)
    assert jobs.claim(done, T + 10 * LEASE_SECONDS) is None
    with pytest.raises(Conflict):
        jobs.progress(done, 50)


def test_a_failed_job_keeps_its_reason_cut_to_500_characters(jobs) -> None:
    job = queued(jobs)
    failed = jobs.fail(job, "原因" * 400, T + 3)
    assert jobs.get(job.id) == failed
    assert (failed.status, len(failed.error or ""), failed.finished_at) == ("failed", 500, T + 3)
    assert jobs.claim(failed, T + 10 * LEASE_SECONDS) is None


def test_the_queue_is_oldest_first_and_the_latest_newest_first_of_one_competition(jobs) -> None:
    for n in range(4):
        queued(jobs, f"job{n}", T + n)
    queued(jobs, "other", T + 9, competition_id="another")
    jobs.fail(jobs.get("job1"), "x", T + 20)
    assert [j.id for j in jobs.queued(2)] == ["job0", "job2"]
    assert [j.id for j in jobs.latest(COMP, 3)] == ["job3", "job2", "job1"]
    assert [j.id for j in jobs.latest("another")] == ["other"]


def test_the_award_list_reads_back_as_saved(award_lists) -> None:
    assert award_lists.read(COMP) is None
    first = {"units": ["单位1", "单位2"], "saved_by": "organiser:admin", "saved_at": "2023-11-01 10:00"}
    award_lists.write(COMP, first, None, "organiser:admin", T)
    assert award_lists.read(COMP) == first
    second = {"units": ["单位2"], "saved_by": "organiser:admin", "saved_at": "2023-11-02 10:00"}
    award_lists.write(COMP, second, first, "organiser:admin", T + 1)
    assert award_lists.read(COMP) == second
    assert award_lists.read("another") is None
