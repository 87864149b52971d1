"""What the services need of the store, named as Protocols: the store's repositories (store/cases.py over
DynamoDB) and their in-memory twins (store/memory.py) both answer them, and one contract suite
(tests/integration/test_case_repository_contract.py) holds both to the same behaviour.

A stage key names the window a write must land in, checked in the write itself: (competition, stage) the stage
is open, (competition, stage, "before") it has not opened yet, None the case's own window (a returned case:
before its `resubmit_by`). A refused write raises StageClosed (the window) or VersionConflict (the case as
read changed).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

from ..domain import account_record
from ..domain import originality as originality_rules
from ..domain.archive_record import ArchiveCase
from ..domain.case_record import AuditRow, Case, CaseSummary, EarlierVersion
from ..domain.certificate_record import Certificate
from ..domain.export_record import ExportJob
from ..domain.judging_record import Assignment, Judge, JudgeSession, Link
from ..domain.result_record import FinalRecord, RankedCase, Ranking, ShownCase
from ..domain.stage_record import StageRow
from ..domain.mail_record import MailRecord
from ..domain.competition_record import CompetitionRecord

StageKey = tuple[str, ...]


class Files(Protocol):
    """The bucket's files (store/files.Files over S3): presigned uploads and downloads, reading back what a
    browser uploaded, the exports and the certificates."""

    def upload_form(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        """A presigned POST whose policy pins the key, the content type and the exact size (no S3 call)."""
        ...

    def download_url(self, key: str, filename: str, expires_in: int) -> str: ...

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's metadata (None: no such object)."""
        ...

    def copy(self, source: str, key: str) -> bool:
        """Server-side copy of `source` to `key`; False when `source` does not exist."""
        ...

    def read_range(self, key: str, byte_range: str) -> bytes: ...

    def open(self, key: str) -> Any:
        """The stored object's bytes as a stream."""
        ...

    def put(self, key: str, data: Any, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def get_with_stages(self, case_id: str, competition_id: str,
                        stage_ids: Sequence[str]) -> tuple[Case | None, list[Any]]:
        """The case and the stage rows that govern its edits, in one consistent read (None: no row)."""
        ...

    def list_for_owner(self, owner_id: str) -> list[Case]: ...

    def list_for_competition(self, competition_id: str, category: str | None = None) -> list[Case]: ...

    def iter_for_competition(self, competition_id: str) -> Iterator[Case]:
        """The competition's cases page by page (an export reduces each to its row: never all held at once)."""
        ...

    def get_version(self, case_id: str, version: int) -> EarlierVersion | None: ...

    def summaries(self, competition_id: str) -> list[CaseSummary]:
        """Every case of the competition without its body (one Query of a projection)."""
        ...

    def history(self, case_id: str) -> list[AuditRow]:
        """The case's audit trail, oldest first."""
        ...

    def create(self, case: Case, stage_key: StageKey, actor: str, now: float) -> None:
        """A new case (never over an existing id), inside the stage window."""
        ...

    def receive(self, case: Case, source: Case, stage_key: StageKey, actor: str, now: float,
                received: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
        """A case recommended from a feeder competition (省赛推荐) arriving in the competition it feeds: the new case
        (never over an existing id: Duplicate, so a second send creates nothing twice), inside the target's window
        `stage_key` (StageClosed), while `source` is still awarded and recommended (Conflict); audit rows on both,
        `case.received` on the new case (detail `received`) and `case.sent` on the source (detail `sent`)."""
        ...

    def save_text(self, case: Case, body: dict[str, Any], char_count: int, stage_key: StageKey | None,
                  actor: str, now: float, recommended: bool = False) -> Case:
        """A new version of the text on the case as read (its version and status); the old one stays readable.
        `recommended`: the case must still be recommended to the provincial competition, and the first such
        revision keeps the text as awarded (`awarded_body`)."""
        ...

    def set_status(self, case: Case, status: str, stage_key: StageKey | None, actor: str, now: float,
                   submitted_at: float | None = None, also: Sequence[MailRecord] = ()) -> Case:
        """The case's new status, on the case as read; `also`: mail-log rows written in the same transaction
        (a submission receipt, made by mail/outbox.prepare)."""
        ...

    def put_attachment(self, case: Case, record: dict[str, Any], stage_key: StageKey | None, actor: str,
                       now: float, action: str, pending_only: bool = False) -> Case:
        """An attachment's record, while the case has the status it was read with; `pending_only`: only while
        the attachment's record is still pending (a confirm), else VersionConflict."""
        ...

    def remove_attachment(self, case: Case, attachment_id: str, stage_key: StageKey | None, actor: str,
                          now: float, action: str, pending_only: bool = False) -> Case:
        """`pending_only`: only while the attachment's record is still pending (a refused confirm)."""
        ...

    def review(self, case: Case, status: str, decision: str, reason: str | None, resubmit_by: float | None,
               competition_id: str, actor: str, now: float) -> Case:
        """An organiser's 审核 decision: after `submission` closed, before `text_review` closes, on the
        submitted case as read (its version, status and previous decision)."""
        ...


# -- export jobs (table export_jobs), the console's saved award list (S3), the archive (table archive_cases)
# -- with the originality objects (S3), the issued certificates (table certificates)
class ExportRepository(Protocol):
    def create(self, job: ExportJob) -> None:
        """A new queued job (never over an existing id)."""
        ...

    def get(self, job_id: str) -> ExportJob | None: ...

    def queued(self, limit: int = 10) -> list[ExportJob]:
        """The oldest queued jobs, oldest first."""
        ...

    def latest(self, competition_id: str, limit: int = 10) -> list[ExportJob]:
        """The competition's newest jobs, newest first."""
        ...

    def claim(self, job: ExportJob, now: float) -> ExportJob | None:
        """queued -> running (or running whose lease ran out): the job as claimed, None when someone else has
        it or it is done."""
        ...

    def progress(self, job: ExportJob, percent: int) -> None:
        """The percent (0-99), only while running (else Conflict)."""
        ...

    def finish(self, job: ExportJob, key: str, filename: str, now: float) -> ExportJob: ...

    def fail(self, job: ExportJob, error: str, now: float) -> ExportJob: ...


class AwardListRepository(Protocol):
    def read(self, competition_id: str) -> dict[str, Any] | None:
        """The organisers' saved 优秀组织奖 list ({"units", "saved_by", "saved_at"}), None until saved."""
        ...

    def write(self, competition_id: str, record: Mapping[str, Any], before: Mapping[str, Any] | None, actor: str,
              now: float) -> None:
        """Replace it, with its audit row."""
        ...


class ArchiveRepository(Protocol):
    def put_cases(self, cases: list[ArchiveCase], actor: str, now: float, detail: dict[str, Any]) -> None:
        """Write archived cases (an existing id is overwritten) and the import's audit row."""
        ...

    def count_cases(self) -> int: ...

    def list_cases(self) -> list[ArchiveCase]: ...


class OriginalityObjects(Protocol):
    def load_index(self) -> tuple[originality_rules.ArchiveIndex, str] | None:
        """The stored index and its ETag, None when there is none usable."""
        ...

    def save_index(self, index: originality_rules.ArchiveIndex) -> str: ...

    def cached_flags(self, competition_id: str, digest: str) -> dict[str, Any] | None:
        """The competition's last result, if it was computed from the inputs of `digest`."""
        ...

    def save_flags(self, competition_id: str, digest: str, result: dict[str, Any]) -> None: ...


class CertificateRepository(Protocol):
    def record(self, issued: Iterable[Certificate]) -> int:
        """Store the codes (a re-run rewrites the same rows); returns how many."""
        ...

    def get(self, code: str) -> Certificate | None: ...


# -- the accounts table (accounts, uniqueness keys, throttles, tokens, tickets, sessions) -----------------

class AccountRepository(Protocol):
    """Accounts and what logging in uses. A refused condition raises a domain error: Duplicate (a taken
    username, a look-alike of one, a unit that has an account), NotFound (an organiser gone or no longer one),
    Conflict (anything else: a count read changed, a code or token spent, a pending secret replaced)."""

    def create(self, account: account_record.Account, unit_key: str | None, skeleton: str, actor: str, now: float,
               token: account_record.Token | None = None) -> None:
        """The account, its uniqueness keys (the unit's, the username's look), an invitation token if any and
        the audit row, together or not at all."""
        ...

    def save_organiser(self, account: account_record.Account, skeleton: str) -> None:
        """The organiser from the environment (no condition, no audit): its account and its username's look."""
        ...

    def get(self, username: str) -> account_record.Account | None: ...

    def list_units(self) -> list[account_record.Account]: ...

    def list_organisers(self) -> list[account_record.Account]: ...

    def get_for_login(self, username: str, client: str, now: float) -> tuple[
            account_record.Account | None, account_record.Throttle, account_record.Throttle]:
        """The account, its throttle ("login#<username>") and the client's ("client#<address>"), in one call."""
        ...

    def read_throttles(self, keys: Iterable[str], now: float) -> list[account_record.Throttle]: ...

    def reserve_attempts(self, throttles: list[tuple[account_record.Throttle, float]], forget_after: int,
                         now: float) -> None:
        """One more attempt on every throttle, each on the count as read (else Conflict, nothing written),
        with the lock its new count earns; the counts are forgotten `forget_after` seconds later."""
        ...

    def record_failure(self, username: str, failures: int, client: str, now: float) -> None: ...

    def release_attempts(self, keys: list[str]) -> None:
        """Take back one counted attempt (and its lock) on each throttle."""
        ...

    def open_session(self, session: account_record.Session, username: str, client_key: str | None, now: float,
                     totp_step: int | None = None, recovery_hash: str | None = None) -> None:
        """The session, the end of the account's failure count, this attempt off the client's count, the one
        use of a TOTP step (later than the last used) or recovery code, and the audit row. A spent code: Conflict."""
        ...

    def count_in_window(self, key: str, limit: int, window: int, now: float) -> bool:
        """One more in a fixed window of `window` seconds if fewer than `limit` so far; False: over."""
        ...

    def put_token(self, token: account_record.Token, actor: str, now: float) -> None: ...

    def get_token(self, token_hash: str) -> account_record.Token | None:
        """The token as stored, expired or not."""
        ...

    def use_token(self, token: account_record.Token, password_hash: str, now: float) -> None:
        """Spend the live token and set its account's password together; spent or expired: Conflict."""
        ...

    def put_ticket(self, ticket_hash: str, username: str, expires_at: float) -> None: ...

    def take_ticket(self, ticket_hash: str, now: float) -> str | None:
        """The username of a live second-step ticket, spent by this call (None: none, spent or expired)."""
        ...

    def set_password(self, username: str, password_hash: str, actor: str, now: float) -> None: ...

    def set_totp_pending(self, username: str, secret: str, actor: str, now: float) -> None: ...

    def enable_totp(self, username: str, secret: str, recovery_hashes: set[str], actor: str, now: float) -> None:
        """TOTP on with `secret`, if it is still the pending one (else Conflict)."""
        ...

    def set_organiser_role(self, username: str, role: str, actor: str, now: float) -> None: ...

    def remove_organiser(self, username: str, skeleton: str, actor: str, now: float) -> None: ...

    def get_session(self, token_hash: str) -> account_record.Session | None: ...

    def touch_session(self, token_hash: str, expires_at: float, now: float) -> bool:
        """Slide the session's idle deadline; False when it ended meanwhile."""
        ...

    def sessions_of(self, account_id: str) -> list[account_record.Session]: ...

    def delete_session(self, token_hash: str, object_key: str, actor: str, now: float) -> None: ...

    def end_sessions(self, token_hashes: list[str], object_key: str, actor: str, reason: str, now: float) -> None: ...

    def set_sessions_role(self, token_hashes: list[str], role: str) -> None:
        """The organiser role of the sessions still there (ended ones are skipped)."""
        ...

    def mark_session_mfa(self, token_hash: str) -> None: ...


# -- judges, assignments, links and judge sessions (the judges, assignments, links and sessions tables) ----------
class JudgingRepository(Protocol):
    """Judges, their slots (one per judge, case and stage: created when assigned, filled when scored), their
    scoring links and the judge sessions opened from them (store/judging.py; store/memory_judging.py its
    twin; tests/integration/test_judging_repository_contract.py). A slot's write lands only while its stage is
    open and the slot is still the judge's (StageClosed, NotFound); new slots never overwrite one. Slots and links
    belong to a competition: two competitions with the same stage and judge ids never see each other's."""

    def list_judges(self, competition_id: str) -> list[Judge]: ...

    def get_judge(self, competition_id: str, judge_id: str) -> Judge | None: ...

    def save_judge(self, judge: Judge, actor: str, now: float, action: str, before: Any = None) -> None: ...

    def save_judges(self, judges: Sequence[Judge], actor: str, now: float) -> None:
        """An import: all rows land together, each with its audit row."""
        ...

    def slots_of_judge(self, competition_id: str, stage: str, judge_id: str) -> list[Assignment]: ...

    def slots_of_category(self, competition_id: str, stage: str, category: str, case_id: str | None = None,
                          attributes: Sequence[str] | None = None) -> list[Assignment]:
        """A category's slots (of one case); `attributes`: only those are read (the others hold defaults)."""
        ...

    def scores_of_category(self, competition_id: str, stage: str,
                           category: str) -> list[tuple[str, str, dict[str, Any], str]]:
        """(case id, judge id, criteria, source) of every scored, not recused slot of a category."""
        ...

    def slots_of_stage(self, competition_id: str, stage: str, categories: Iterable[str],
                       attributes: Sequence[str] | None = None) -> list[Assignment]: ...

    def create_slots(self, competition_id: str, slots: Sequence[Assignment], actor: str, now: float,
                     detail: dict[str, Any]) -> None: ...

    def create_extra_slots(self, slots: Sequence[Assignment], competition_id: str, actor: str, now: float,
                           detail: dict[str, Any]) -> None:
        """Extra judges' slots, only while the stage is open (StageClosed) and each new (Conflict)."""
        ...

    def add_slot(self, competition_id: str, slot: Assignment, actor: str, now: float) -> None:
        """One new slot (Invalid when the judge is already on the case)."""
        ...

    def remove_slot(self, competition_id: str, stage: str, judge_id: str, case_id: str, actor: str,
                    now: float) -> None:
        """NotFound when there is no such slot."""
        ...

    def get_slot_and_stage(self, stage: str, judge_id: str, case_id: str,
                           competition_id: str) -> tuple[Assignment | None, StageRow | None]: ...

    def write_slot(self, slot: Assignment, changes: Mapping[str, Any], competition_id: str, actor: str,
                   action: str, now: float, before: Any, after: Any) -> Assignment:
        """Change a judge's slot (`changes`: field -> value, of domain/judging_record.SLOT_FIELDS) while its
        stage is open (StageClosed) and the slot is still there and not recused (NotFound)."""
        ...

    def set_links(self, competition_id: str, links: list[tuple[str, str, str]], mails: Mapping[str, MailRecord],
                  stage: str, actor: str, now: float, action: str = "link.issue") -> None:
        """New links in force (judge id, seed, link hash), each with its audit row and its invitation's mail
        record (`mails` by judge id, written as given)."""
        ...

    def revoke_link(self, competition_id: str, judge_id: str, stage: str, actor: str, now: float) -> bool:
        """False when no link was in force."""
        ...

    def links_of(self, competition_id: str, stage: str, judge_ids: Iterable[str]) -> dict[str, Link]: ...

    def links_of_stages(self, competition_id: str,
                        judges_by_stage: Mapping[str, Iterable[str]]) -> dict[str, dict[str, Link]]: ...

    def open_session(self, competition_id: str, session: JudgeSession, now: float) -> bool:
        """Store the session and mark its link opened, if the link is still the one in force (else False)."""
        ...

    def audit_links_shown(self, competition_id: str, stage: str, judge_ids: list[str], actor: str,
                          now: float) -> None: ...

    def link_and_stage(self, judge_id: str, stage: str,
                       competition_id: str) -> tuple[Link | None, StageRow | None]: ...

    def session_and_link(self, competition_id: str, token_hash: str, judge_id: str,
                         stage: str) -> tuple[JudgeSession | None, Link | None]: ...

# -- stages, rankings, the final and the showcase (the stage, ranking and audit tables; marks on the case) --------


class StageRepository(Protocol):
    """The stage windows (store/stages.py; the twin keeps them in MemoryTables.stages)."""

    def all_for(self, competition_id: str) -> list[StageRow]: ...

    def seed(self, competition_id: str, windows: list[tuple[str, float, float]]) -> int:
        """Create the missing rows (never over a window the organiser moved); how many."""
        ...

    def move_window(self, competition_id: str, stage_id: str, opens_at: float, closes_at: float, actor: str,
                    now: float, before: dict) -> None:
        """A new window, while the stage was not closed (else StageClosed)."""
        ...

    def close(self, competition_id: str, stage_id: str, actor: str, now: float, after: str | None = None) -> bool:
        """Close for good (a close before the window's end ends it at `now`), only once `after` is closed
        (else EarlierStageOpen); False when it was closed already."""
        ...

    def settle(self, competition_id: str, stage_id: str) -> None:
        """Mark a closed stage whose consequences are all done (else Conflict)."""
        ...


class ResultRepository(Protocol):
    """The stored rankings, and what closing a stage writes on the cases."""

    def get_ranking(self, competition_id: str, stage: str, category: str) -> Ranking | None: ...

    def stage_and_rankings(self, competition_id: str, stage: str, categories: tuple[str, ...]
                           ) -> tuple[StageRow | None, dict[str, Ranking | None]]:
        """The stage's row and its categories' rankings in one read."""
        ...

    def ranked_cases(self, competition_id: str, with_body: bool = True) -> list[RankedCase]:
        """The competition's cases as a ranking page reads them (a projection); `with_body` False: the marks only."""
        ...

    def save_ranking(self, ranking: Ranking) -> None: ...

    def apply_outcomes(self, changes: Sequence[tuple[Any, str, str | None]], from_statuses: tuple[str, ...],
                       actor: str, now: float) -> int:
        """(case, status, prize) each while the case is still in one of `from_statuses`; how many moved."""
        ...

    def set_provincial(self, case: Any, recommended: bool, actor: str, now: float,
                       reason: str | None = None) -> None:
        """The 省赛 mark and its reason, only on a case still awarded (else Conflict)."""
        ...

    def mark_notified(self, ranking: Ranking) -> None: ...


class FinalRepository(Protocol):
    """The live final's logs (the draws, the hall states; numbered per category) and the coaching replies."""

    def save_draw(self, competition_id: str, category: str, record: dict[str, Any], actor: str, now: float) -> int:
        """The category's next draw; its sequence number (Conflict if another took it)."""
        ...

    def latest_draw(self, competition_id: str, category: str) -> FinalRecord | None: ...

    def save_live(self, competition_id: str, category: str, action: str, record: dict[str, Any],
                  before: dict[str, Any] | None, expected: int, actor: str, now: float) -> int:
        """The next hall state after the one numbered `expected` (Conflict if another change landed)."""
        ...

    def latest_live(self, competition_id: str, category: str) -> FinalRecord | None: ...

    def save_replies(self, case: Any, replies_json: str, competition_id: str, stage: str, actor: str, now: float,
                     before: Any, after: Any) -> None:
        """A unit's replies while the coaching round is open (StageClosed), on a case that may reply (NotFound)."""
        ...


class ShowcaseRepository(Protocol):
    """The awarded cases as the showcase reads them, and its marks on the case (VersionConflict if changed)."""

    def awarded(self, competition_id: str) -> list[ShownCase]: ...

    def set_choice(self, case: Case, consent: bool, actor: str, now: datetime) -> Case: ...

    def set_hidden(self, case: Case, hidden: bool, reason: str | None, actor: str, now: datetime) -> Case: ...


# -- the mail log (table mail_log) ------------------------------------------------------------------------
class MailRepository(Protocol):
    """The mail log: one row per (kind, object, recipient), the once-only key of every mail. A claim that is
    refused (the mail was sent, is being sent, bounced, or failed its attempts) answers None, not an error."""

    def get(self, mail_key: str) -> MailRecord | None: ...

    def get_many(self, mail_keys: Sequence[str]) -> list[MailRecord]:
        """The rows of these keys that exist."""
        ...

    def by_message(self, message_id: str) -> list[MailRecord]:
        """The rows sent with this (SES) message id."""
        ...

    def recent(self, competition_id: str, limit: int) -> list[MailRecord]:
        """The competition's mail log, newest first."""
        ...

    def queued(self, competition_id: str, limit: int) -> list[MailRecord]:
        """The mail the queued sender owes (queued, or failed with attempts left), oldest first."""
        ...

    def claim(self, mail_key: str, competition_id: str, kind: str, recipient: str, subject: str, now: float,
              max_attempts: int) -> MailRecord | None:
        """The mail "sending", new or a failed one with fewer than `max_attempts` send calls, counting this
        attempt; None when it may not be sent now."""
        ...

    def claim_queued(self, mail_key: str, now: float, max_attempts: int) -> MailRecord | None:
        """A queued mail (or a failed one with attempts left, still in the queue) "sending", counting the
        attempt; None when another sender has it, it was sent, or it left the queue."""
        ...

    def mark_sent(self, mail_key: str, message_id: str, now: float, subject: str | None = None,
                  dequeue: bool = False) -> None:
        """Sent with this message id (an earlier error cleared); `dequeue`: it leaves the queue."""
        ...

    def mark_failed(self, mail_key: str, error: str, dequeue: bool = False) -> None:
        """The send failed (`error`: the exception's name); `dequeue`: it leaves the queue (its last attempt)."""
        ...

    def mark_bounced(self, mail_key: str, reason: str, now: float) -> None: ...

    def drop(self, mail_key: str, claimed: bool = False) -> bool:
        """The mail "dropped", out of the queue: only while it is queued and unclaimed (else False), or
        `claimed`: the caller's own claim."""
        ...


# -- the competitions table (竞赛届次: store/competitions.py, store/memory_competitions.py) ---------------------

class CompetitionRepository(Protocol):
    """Competitions stored as data (domain/competition_record.CompetitionRecord). A refused write raises
    Duplicate (an id in use) or VersionConflict (the competition as read changed)."""

    def get(self, competition_id: str) -> CompetitionRecord | None: ...

    def list_all(self) -> list[CompetitionRecord]:
        """Every competition, newest (created) first."""
        ...

    def create(self, record: CompetitionRecord, actor: str, now: float) -> None:
        """A new competition (never over an existing id), with its audit row."""
        ...

    def save(self, record: CompetitionRecord, definition: Mapping[str, Any], changed: Sequence[str], action: str,
             actor: str, now: float) -> CompetitionRecord:
        """The new definition (its state its own) on the record as read (its version); the audit row's before and
        after are the values at the `changed` paths (competition_edit.changed_paths)."""
        ...

    def current_id(self) -> str | None:
        """The id of the current competition (the one every request without a competition works on); None
        before any was made current."""
        ...

    def make_current(self, competition_id: str, actor: str, now: float) -> None:
        """Make the competition the current one, only while it is 进行中 (else Conflict, the competition as it
        was), with its audit row (competition.activate)."""
        ...
