"""Lazily builds what the handlers use: settings, the bound store, S3, the clock, the competition.

Nothing is built at import time; the first request builds it once per process. Tests call `reset()`
after starting moto or changing the environment, and may replace the clock with `set_clock`.
"""
from __future__ import annotations

import importlib
import time
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
    from .services.notifications import Mailing
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


# -- the competitions requests work on ----------------------------------------------------------------
# Per process, for `competition_cache_seconds` (config.py) on a monotonic clock: the current competition's id
# (the pointer item) and each competition built from its stored definition. A request pays no AWS call for
# them while they are fresh; every competition write made through `deps().competitions` in this process
# clears them (`_ClearsCompetitionCache`), so another process sees an activate or an edit at most that late.
# When the table cannot be read (AWS unavailable), the last value read stands in, else the deployment's own
# packaged competition, for another period: a page can still say where it is (the 503 page, the login form),
# and the request's own reads answer 503 as before.
_current: dict[str, tuple[float, str]] = {}
_by_id: dict[str, tuple[float, Competition]] = {}
_unreachable: dict[str, tuple[float, Exception]] = {}     # when and how the table last failed to answer


def _read_table(read: Callable[[], Any]) -> Any:
    """`read()` of the competitions table; its failure is raised again without a call for the cache period."""
    failed = _unreachable.get("last")
    if failed is not None and _fresh(failed[0]):
        raise failed[1]
    try:
        return read()
    except unavailable_errors() as exc:
        _unreachable["last"] = (time.monotonic(), exc)
        raise


def _fresh(at: float) -> bool:
    return time.monotonic() - at < config().competition_cache_seconds


def current_competition_id() -> str:
    """The current competition's id: the one an organiser activated, else the deployment's own (COMPETITION_ID)."""
    cached = _current.get("id")
    if cached is not None and _fresh(cached[0]):
        return cached[1]
    try:
        found = _read_table(deps().competitions.current_id) or config().competition_id
    except unavailable_errors():
        found = cached[1] if cached is not None else config().competition_id
    _current["id"] = (time.monotonic(), found)
    return found


def competition() -> Competition:
    """The current competition (the one every request without a competition works on), from its stored
    definition (services/competitions.activate moves it)."""
    return competition_by_id(current_competition_id())


def competition_by_id(competition_id: str) -> Competition:
    """A competition of the table, built from its stored definition; NotFound when there is none. The
    deployment's own competition before it is seeded is its packaged JSON (chalicelib/competitions/)."""
    cached = _by_id.get(competition_id)
    if cached is not None and _fresh(cached[0]):
        return cached[1]
    try:
        record = _read_table(lambda: deps().competitions.get(competition_id))
    except unavailable_errors():
        if cached is not None:             # the last one read stands in
            _by_id[competition_id] = (time.monotonic(), cached[1])
            return cached[1]
        if competition_id != config().competition_id:
            raise
        record = None                      # the deployment's own: its packaged JSON
    if record is not None:
        built = competition_from_config(record.definition)
    elif competition_id == config().competition_id:
        built = competition_from_config(competitions.load(competition_id))
    else:
        from .domain.errors import NotFound
        raise NotFound("没有找到这个竞赛届次")
    _by_id[competition_id] = (time.monotonic(), built)
    return built


def clear_competitions() -> None:
    """Forget the competitions read (after a competition write in this process)."""
    _current.clear()
    _by_id.clear()
    _unreachable.clear()


class _ClearsCompetitionCache:
    """The process's competition repository: each write (create, save, make_current) clears the cache of the
    competitions requests work on; reads pass through."""

    def __init__(self, inner: CompetitionRepository) -> None:
        self._inner = inner

    def get(self, competition_id: str) -> Any:
        return self._inner.get(competition_id)

    def list_all(self) -> Any:
        return self._inner.list_all()

    def current_id(self) -> str | None:
        return self._inner.current_id()

    def create(self, record: Any, actor: str, now: float) -> None:
        try:
            self._inner.create(record, actor, now)
        finally:
            clear_competitions()

    def save(self, record: Any, definition: Any, changed: Any, action: str, actor: str, now: float) -> Any:
        try:
            return self._inner.save(record, definition, changed, action, actor, now)
        finally:
            clear_competitions()

    def make_current(self, competition_id: str, actor: str, now: float) -> None:
        try:
            self._inner.make_current(competition_id, actor, now)
        finally:
            clear_competitions()


# The repositories of `Deps`: each field, the store module and the class there that implements its Protocol
# (services/repositories.py). A class marked `bucket` works on the S3 bucket and is given the process's S3 client,
# built on first use, and the bucket's name; the others are DynamoDB tables over the bound settings.
_STORE: dict[str, tuple[str, str, bool]] = dict(
    cases=(".store.cases", "CaseRepository", False),                    # the cases
    judging=(".store.judging", "JudgingRepository", False),             # judges, slots, links and judge sessions
    accounts=(".store.accounts", "AccountRepository", False),           # accounts, throttles, tokens and sessions
    files=(".store.files", "Files", True),                              # the uploaded files and made exports
    stages=(".store.stages", "StageRepository", False),                 # the stage windows
    results=(".store.results", "ResultRepository", False),              # the rankings and a close's outcomes
    final=(".store.final", "FinalRepository", False),                   # the live final's logs, coaching replies
    showcase=(".store.showcase", "ShowcaseRepository", False),          # the showcase's reads and marks
    exports=(".store.exports", "ExportRepository", False),              # the export jobs
    award_lists=(".store.console", "AwardListRepository", True),        # the saved 优秀组织奖 list
    archive=(".store.originality", "ArchiveRepository", False),         # earlier years' cases
    originality=(".store.originality", "Objects", True),                # the originality index and the flags
    certificates=(".store.certificates", "CertificateRepository", False),  # the issued certificate codes
    mail=(".store.mail", "MailRepository", False),                      # the mail log
    competitions=(".store.competitions", "CompetitionRepository", False),  # the competitions table
)


@lru_cache(maxsize=None)
def _repository(field: str) -> Any:
    """The store's implementation of the `Deps` field `field` (`_STORE`), built once per process."""
    s = config()
    module, name, on_bucket = _STORE[field]
    implementation = getattr(importlib.import_module(module, __package__), name)
    built = implementation(_S3OnFirstUse(), s.bucket) if on_bucket else implementation()
    # a competition written in this process is read afresh at once (the competitions requests work on)
    return _ClearsCompetitionCache(built) if field == "competitions" else built


@lru_cache(maxsize=1)
def s3() -> Any:
    from .store import aws
    return aws.s3(config())


@lru_cache(maxsize=1)
def files() -> Files:
    from .store.files import Files
    return Files(s3(), config().bucket)


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


def mailing() -> Mailing:
    """What a service that mails after its own write is given: the mail port (`result_ports`, built when the
    mail is made), the competition and the mail log."""
    from .services.notifications import Mailing
    d = deps()
    return Mailing(d.ports, competition(), d.mail)


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
        # each repository is built here without an AWS call; the S3 client is built when a file is first used: a
        # request that touches none (every signed-in request looks up its session through `accounts`) does not
        # load S3's model
        _deps.append(Deps(clock=now, ports=result_ports, **{field: _repository(field) for field in _STORE}))
    return _deps[0]


class _S3OnFirstUse:
    """The process's S3 client (`s3()`), built on first use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(s3(), name)


def use(replacement: Deps) -> None:
    """Serve `replacement` from `deps()` until the next `reset()` (tests on the in-memory twins)."""
    _deps[:] = [replacement]
    clear_competitions()


def reset() -> None:
    reset_settings()
    clear_competitions()
    for cached in (config, _repository, s3, files, mail_transport, client):
        cached.cache_clear()
    _deps.clear()
    _clock[0] = _system_clock
