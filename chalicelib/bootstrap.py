"""Lazily builds what the handlers use: settings, the bound store, S3, the clock, the competition.

Nothing is built at import time; the first request builds it once per process. Tests call `reset()`
after starting moto or changing the environment, and may replace the clock with `set_clock`.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from . import competitions
from .config import Settings, reset as reset_settings, settings
from .domain.competition import Competition, competition_from_config

if TYPE_CHECKING:
    from .services.repositories import CaseRepository, CompetitionRepository
    from .store.files import Files

_clock: list[Callable[[], float]] = [time.time]


def now() -> float:
    """The current time in epoch seconds (the one clock every handler passes down)."""
    return _clock[0]()


def now_dt() -> datetime:
    return datetime.fromtimestamp(now(), tz=timezone.utc)


def set_clock(clock: Callable[[], float]) -> None:
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
def competition_repository() -> CompetitionRepository:
    """The competitions table, for the services (services/repositories.CompetitionRepository)."""
    config()
    from .store.competitions import CompetitionRepository as DynamoCompetitions
    return DynamoCompetitions()


@lru_cache(maxsize=1)
def s3() -> Any:
    import boto3
    s = config()
    return boto3.client(
        "s3", region_name=s.region, endpoint_url=s.endpoint_url,
        config=s.aws_timeouts.botocore(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


@lru_cache(maxsize=1)
def files() -> Files:
    from .store.files import Files
    return Files(s3(), config().bucket)


@lru_cache(maxsize=1)
def originality_objects() -> Any:
    """The originality index and the archive in the bucket (store/originality.py)."""
    from .store.originality import Objects
    return Objects(s3(), config().bucket)


@lru_cache(maxsize=1)
def mail_transport() -> Any:
    from .mail.outbox import SesTransport, SmtpTransport, Throttled
    s = config()
    if s.mail_transport == "smtp":
        from .config import smtp_relay
        return Throttled(SmtpTransport(smtp_relay(s)), s.mail_rate_per_second)
    return Throttled(SesTransport(client("ses"), s.mail_configuration_set), s.mail_rate_per_second)


def result_ports() -> Any:
    """What closing a stage writes besides tables: ranking records in S3, mail."""
    from .services.results import Ports
    s = config()
    return Ports(put_object=files().put, transport=mail_transport(), sender=s.mail_sender, site_url=s.site_url,
                 signing_key=s.signing_keys[0])


@lru_cache(maxsize=8)
def client(service: str) -> Any:
    import boto3
    s = config()
    return boto3.client(service, region_name=s.region, endpoint_url=s.endpoint_url, config=s.aws_timeouts.botocore())


@dataclass(frozen=True)
class Deps:
    """What the services are given, built once per process from the settings: the repositories (the
    Protocols of services/repositories.py: DynamoDB here, the in-memory twins in service tests), the files,
    the mail transport and the clock. A handler takes what its service uses from `deps()` and passes it as
    arguments; no service reaches for an adapter itself."""
    cases: CaseRepository
    competitions: CompetitionRepository
    files: Files
    clock: Callable[[], datetime]


_deps: list[Deps] = []


def deps() -> Deps:
    """The process's Deps (a test may put its own with `use`)."""
    if not _deps:
        _deps.append(Deps(cases=case_repository(), competitions=competition_repository(), files=files(),
                           clock=now_dt))
    return _deps[0]


def use(replacement: Deps) -> None:
    """Serve `replacement` from `deps()` until the next `reset()` (tests on the in-memory twins)."""
    _deps[:] = [replacement]


def reset() -> None:
    reset_settings()
    for cached in (config, competition, case_repository, competition_repository, s3, files, originality_objects,
                   mail_transport, client):
        cached.cache_clear()
    _deps.clear()
    _clock[0] = time.time
