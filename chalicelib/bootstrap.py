"""Lazily builds what the handlers use: settings, the bound store, S3, the clock, the competition.

Nothing is built at import time; the first request builds it once per process. Tests call `reset()`
after starting moto or changing the environment, and may replace the clock with `set_clock`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from . import competitions
from .config import Settings, reset as reset_settings, settings
from .domain.competition import Competition, competition_from_config

if TYPE_CHECKING:
    from .services.repositories import (
        AccountRepository, ArchiveRepository, AwardListRepository, CaseRepository, CertificateRepository,
        CompetitionRepository,
        ExportRepository, FinalRepository, JudgingRepository, MailRepository, OriginalityObjects, ResultRepository,
        ShowcaseRepository, StageRepository,
    )
    from .services.results import Ports
    from .store.files import Files

def _system_clock() -> datetime:
    return datetime.now(timezone.utc)


_clock: list[Callable[[], datetime]] = [_system_clock]


def now() -> datetime:
    """The current time, an aware datetime (the one clock every handler passes down)."""
    return _clock[0]()


def set_clock(clock: Callable[[], datetime]) -> None:
    """Replace the clock (tests): `clock` returns an aware datetime."""
    _clock[0] = clock


@lru_cache(maxsize=1)
def config() -> Settings:
    s = settings()
    from .store import db
    db.bind(s)
    return s


@lru_cache(maxsize=1)
def competition() -> Competition:
    return competition_from_config(competitions.load(config().competition_id))


@lru_cache(maxsize=1)
def case_repository() -> CaseRepository:
    """The cases in DynamoDB, for the services (services/repositories.CaseRepository)."""
    config()
    from .store.cases import CaseRepository as DynamoCases
    return DynamoCases()


@lru_cache(maxsize=1)
def account_repository() -> AccountRepository:
    """Accounts, throttles, tokens and sessions in DynamoDB (services/repositories.AccountRepository)."""
    config()
    from .store.accounts import AccountRepository as DynamoAccounts
    return DynamoAccounts()


@lru_cache(maxsize=1)
def judging_repository() -> JudgingRepository:
    """Judges, slots, links and judge sessions in DynamoDB (services/repositories.JudgingRepository)."""
    config()
    from .store.judging import JudgingRepository as DynamoJudging
    return DynamoJudging()


@lru_cache(maxsize=1)
def stage_repository() -> StageRepository:
    """The stage windows in DynamoDB (services/repositories.StageRepository)."""
    config()
    from .store.stages import StageRepository as DynamoStages
    return DynamoStages()


@lru_cache(maxsize=1)
def result_repository() -> ResultRepository:
    """The rankings and a close's outcomes in DynamoDB (services/repositories.ResultRepository)."""
    config()
    from .store.results import ResultRepository as DynamoResults
    return DynamoResults()


@lru_cache(maxsize=1)
def final_repository() -> FinalRepository:
    """The live final's logs and the coaching replies in DynamoDB (services/repositories.FinalRepository)."""
    config()
    from .store.final import FinalRepository as DynamoFinal
    return DynamoFinal()


@lru_cache(maxsize=1)
def showcase_repository() -> ShowcaseRepository:
    """The showcase's reads and marks in DynamoDB (services/repositories.ShowcaseRepository)."""
    config()
    from .store.showcase import ShowcaseRepository as DynamoShowcase
    return DynamoShowcase()


@lru_cache(maxsize=1)
def mail_repository() -> MailRepository:
    """The mail log in DynamoDB (services/repositories.MailRepository)."""
    config()
    from .store.mail import MailRepository as DynamoMail
    return DynamoMail()


@lru_cache(maxsize=1)
def competition_repository() -> CompetitionRepository:
    """The competitions table, for the services (services/repositories.CompetitionRepository)."""
    config()
    from .store.competitions import CompetitionRepository as DynamoCompetitions
    return DynamoCompetitions()


@lru_cache(maxsize=1)
def s3() -> Any:
    from .store import aws
    return aws.s3(config())


@lru_cache(maxsize=1)
def files() -> Files:
    from .store.files import Files
    return Files(s3(), config().bucket)


@lru_cache(maxsize=1)
def originality_objects() -> OriginalityObjects:
    """The originality index and the flags in the bucket (store/originality.py)."""
    from .store.originality import Objects
    return Objects(_S3OnFirstUse(), config().bucket)


@lru_cache(maxsize=1)
def export_repository() -> ExportRepository:
    """The export jobs in DynamoDB (services/repositories.ExportRepository)."""
    config()
    from .store.exports import ExportRepository as DynamoExports
    return DynamoExports()


@lru_cache(maxsize=1)
def award_list_repository() -> AwardListRepository:
    """The organisers' saved 优秀组织奖 list in the bucket (store/console.py)."""
    from .store.console import AwardListRepository as S3AwardLists
    return S3AwardLists(_S3OnFirstUse(), config().bucket)


@lru_cache(maxsize=1)
def archive_repository() -> ArchiveRepository:
    """Earlier years' cases in DynamoDB (store/originality.py)."""
    config()
    from .store.originality import ArchiveRepository as DynamoArchive
    return DynamoArchive()


@lru_cache(maxsize=1)
def certificate_repository() -> CertificateRepository:
    """The issued certificate codes in DynamoDB (store/certificates.py)."""
    config()
    from .store.certificates import CertificateRepository as DynamoCertificates
    return DynamoCertificates()


@lru_cache(maxsize=1)
def mail_transport() -> Any:
    from .mail.outbox import SesTransport, SmtpTransport, Throttled
    s = config()
    if s.mail_transport == "smtp":
        from .config import smtp_relay
        return Throttled(SmtpTransport(smtp_relay(s)), s.mail_rate_per_second)
    return Throttled(SesTransport(client("ses"), s.mail_configuration_set), s.mail_rate_per_second)


def result_ports() -> Ports:
    """What closing a stage writes besides tables: ranking records in S3, mail."""
    from .services.results import Ports
    s = config()
    return Ports(put_object=files().put, transport=mail_transport(), sender=s.mail_sender, site_url=s.site_url,
                 accounts=deps().accounts, signing_key=s.signing_keys[0])


@lru_cache(maxsize=8)
def client(service: str) -> Any:
    from .store import aws
    return aws.client(config(), service)


def unavailable_errors() -> tuple[type[Exception], ...]:
    """What a failing AWS dependency raises (store/aws.py): the doors answer it 503 `unavailable`
    (web/http.py, web/html.py) without importing an AWS library themselves."""
    from .store import aws
    return aws.unavailable_errors()


@dataclass(frozen=True)
class Deps:
    """What the services are given, built once per process from the settings: the repositories (the
    Protocols of services/repositories.py: DynamoDB here, the in-memory twins in service tests), the files,
    the mail transport and the clock. A handler takes what its service uses from `deps()` and passes it as
    arguments; no service reaches for an adapter itself."""
    cases: CaseRepository
    judging: JudgingRepository
    competitions: CompetitionRepository
    files: Files
    clock: Callable[[], datetime]
    accounts: AccountRepository
    stages: StageRepository
    results: ResultRepository
    final: FinalRepository
    showcase: ShowcaseRepository
    ports: Callable[[], Ports]          # what closing a stage writes besides tables (result_ports), built when used
    exports: ExportRepository
    award_lists: AwardListRepository
    archive: ArchiveRepository
    originality: OriginalityObjects
    certificates: CertificateRepository
    mail: MailRepository


_deps: list[Deps] = []


def deps() -> Deps:
    """The process's Deps (a test may put its own with `use`)."""
    if not _deps:
        from .store.files import Files
        # the S3 client is built when a file is first used: a request that touches none (every signed-in
        # request looks up its session through `accounts`) does not load S3's model
        _deps.append(Deps(cases=case_repository(), judging=judging_repository(), accounts=account_repository(),
                          files=Files(_S3OnFirstUse(), config().bucket), clock=now, stages=stage_repository(),
                          results=result_repository(), final=final_repository(), showcase=showcase_repository(),
                          ports=result_ports, exports=export_repository(), award_lists=award_list_repository(),
                          archive=archive_repository(), originality=originality_objects(),
                          certificates=certificate_repository(), mail=mail_repository(),
                          competitions=competition_repository()))
    return _deps[0]


class _S3OnFirstUse:
    """The process's S3 client (`s3()`), built on first use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(s3(), name)


def use(replacement: Deps) -> None:
    """Serve `replacement` from `deps()` until the next `reset()` (tests on the in-memory twins)."""
    _deps[:] = [replacement]


def reset() -> None:
    reset_settings()
    for cached in (config, competition, case_repository, account_repository, judging_repository, stage_repository,
                   result_repository, final_repository, showcase_repository, export_repository, award_list_repository,
                   archive_repository, certificate_repository, mail_repository, competition_repository, s3, files,
                   originality_objects, mail_transport, client):
        cached.cache_clear()
    _deps.clear()
    _clock[0] = _system_clock
