"""PynamoDB models: one class per table (docs/DATA.md lists each access pattern).

Table names, region and endpoint are bound at run time by `bind(settings)` (PynamoDB reads Meta when a
class is defined, so the classes start with placeholders and nothing here reads the environment).
"""
from __future__ import annotations

from typing import Any, Callable, Protocol, cast, runtime_checkable

from pynamodb.attributes import (
    Attribute, BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


@runtime_checkable
class TableMeta(Protocol):
    """What every model's Meta adds to PynamoDB's: the table's logical name ("accounts": config's table
    names, infra's logical ids, backups)."""
    logical: str


def logical_name(model: type[Model]) -> str:
    """The model's logical table name; every class of MODELS declares one in its Meta."""
    meta = model.Meta
    if not isinstance(meta, TableMeta):
        raise TypeError(f"{model.__name__}.Meta has no logical table name")
    return meta.logical


def _text_list(*, null: bool | None = None, default: Callable[[], list[str]] | None = None) -> ListAttribute[str]:
    """A list of strings (ListAttribute of UnicodeAttribute)."""
    # PynamoDB's stub types `of` as the element type, right for a MapAttribute class, wrong for a scalar one
    return ListAttribute(of=UnicodeAttribute, null=null, default=default)  # type: ignore[arg-type]


def _index(**keys: Attribute[Any]) -> GlobalSecondaryIndex[Any]:
    """A global secondary index on `keys` (the hash key, then the range key if any) that projects every attribute;
    its name is the model attribute it is assigned to (PynamoDB names an index without `index_name` so)."""
    meta = type("Meta", (), {"projection": AllProjection()})
    index = type("Index", (GlobalSecondaryIndex,), {"Meta": meta, **keys})
    return cast(GlobalSecondaryIndex[Any], index())


class _Meta:
    table_name = "unbound"
    region = "ap-southeast-1"
    host = None
    billing_mode = "PAY_PER_REQUEST"


class Account(Model):
    """A unit's (or an organiser's) account; the username is the key, so login is one read."""
    class Meta(_Meta):
        logical = "accounts"

    username = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute()
    role = UnicodeAttribute()                 # "unit" | "organiser"
    password_hash = UnicodeAttribute()
    unit_name = UnicodeAttribute(null=True)
    unit_system = UnicodeAttribute(null=True)  # "municipal" | "district"
    district = UnicodeAttribute(null=True)
    contact_name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    mobile = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    by_role = _index(role=UnicodeAttribute(hash_key=True), created_at=NumberAttribute(range_key=True))
    organiser_role = UnicodeAttribute(null=True)   # "admin" | "staff" | "viewer" (organisers; none = admin)
    name = UnicodeAttribute(null=True)             # an organiser's own name (the audit shows it)
    totp_secret = UnicodeAttribute(null=True)      # base32, once two-step verification is on
    totp_pending = UnicodeAttribute(null=True)     # the secret being set up, until a code confirms it
    totp_last_step = NumberAttribute(null=True)    # the last time step used: a code works once
    recovery_hashes = UnicodeSetAttribute(null=True)   # SHA-256 of the unused recovery codes
    password_changed_at = NumberAttribute(null=True)


class Guard(Model):
    """Uniqueness keys ("unit#<name>", "username#<skeleton>"), login and mail throttles ("login#<username>",
    "client#<address>", "reset#<username>", "resetclient#<address>"), one-use tokens ("token#<SHA-256>":
    reset links and invitations, with `purpose`) and second-step tickets ("mfa#<SHA-256>")."""
    class Meta(_Meta):
        logical = "guards"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute(null=True)
    failures = NumberAttribute(default=0)
    locked_until = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)   # TTL for throttles
    purpose = UnicodeAttribute(null=True)     # tokens: "reset" | "invitation"; tickets: "mfa"


class Session(Model):
    """A revocable server-side session; the client holds the token, the table its SHA-256."""
    class Meta(_Meta):
        logical = "sessions"

    token_hash = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()                 # "unit" | "organiser" | "judge"
    account_id = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)
    unit_name = UnicodeAttribute(null=True)
    district = UnicodeAttribute(null=True)    # a 区直 unit's 所属区, shown beside its name
    email = UnicodeAttribute(null=True)       # the unit's address, for mail its own requests cause (receipts)
    judge_id = UnicodeAttribute(null=True)
    stage = UnicodeAttribute(null=True)
    link_hash = UnicodeAttribute(null=True)
    csrf = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    expires_at = NumberAttribute()            # also the table's TTL attribute; organisers' slides while in use
    # an account's sessions (sparse: judges' sessions have no account)
    by_account = _index(account_id=UnicodeAttribute(hash_key=True), created_at=NumberAttribute(range_key=True))
    session_id = UnicodeAttribute(null=True)  # names the session on /account (never the token or its hash)
    ends_at = NumberAttribute(null=True)      # the latest end, however active (idle sessions end earlier)
    last_seen = NumberAttribute(null=True)
    client = UnicodeAttribute(null=True)      # the address it was opened from
    agent = UnicodeAttribute(null=True)       # the browser or program, shortened
    organiser_role = UnicodeAttribute(null=True)
    mfa = BooleanAttribute(null=True)         # opened with a second factor


class AttachmentMap(MapAttribute):
    attachment_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    status = UnicodeAttribute()               # "pending" | "verified"
    key = UnicodeAttribute()
    created_at = NumberAttribute()


class Case(Model):
    class Meta(_Meta):
        logical = "cases"

    id = UnicodeAttribute(hash_key=True)
    competition_id = UnicodeAttribute()
    category_key = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    owner_username = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()
    history = ListAttribute(of=NumberAttribute, default=list)
    body = UnicodeAttribute()                 # the 说明书 as JSON (validated on write)
    char_count = NumberAttribute()
    attachments: MapAttribute[str, dict[str, Any]] = MapAttribute(default=dict)  # id -> AttachmentMap fields
    prize = UnicodeAttribute(null=True)
    provincial = BooleanAttribute(default=False)   # recommended to the provincial competition (省赛)
    provincial_reason = UnicodeAttribute(null=True)  # the organiser's 推荐理由 (省赛推荐名单)
    awarded_body = UnicodeAttribute(null=True)      # the body as awarded, kept by the first 赛前辅导 revision
    source = UnicodeAttribute(null=True)   # JSON {competition, case_id, version}: recommended from a feeder (省赛推荐)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    submitted_at = NumberAttribute(null=True)
    feedback_replies = UnicodeAttribute(null=True)  # JSON: coaching point key -> the unit's reply
    # 审核: the latest decision ("accepted" | "returned" | "rejected"; none = not reviewed), its reason, the
    # deadline of a returned case's corrections (its own window), when and by whom.
    review_decision = UnicodeAttribute(null=True)
    review_reason = UnicodeAttribute(null=True)
    resubmit_by = NumberAttribute(null=True)
    reviewed_at = NumberAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    # 优秀案例展示: the unit's consent given or taken back on its case page after the body (none: the body's
    # `showcase_consent` holds; a later edit of the body clears it), and the organiser's 撤下 with its reason.
    showcase_choice = BooleanAttribute(null=True)
    showcase_hidden = BooleanAttribute(null=True)
    showcase_hidden_reason = UnicodeAttribute(null=True)
    by_owner = _index(owner_id=UnicodeAttribute(hash_key=True), created_at=NumberAttribute(range_key=True))
    by_competition = _index(competition_id=UnicodeAttribute(hash_key=True),
                            category_key=UnicodeAttribute(range_key=True))    # "<category or ~>#<case id>"


class CaseVersion(Model):
    """An earlier version of a case's text, kept readable after each edit."""
    class Meta(_Meta):
        logical = "case_versions"

    case_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    saved_at = NumberAttribute()


class Stage(Model):
    """A stage's window; writes the window governs check it in their own transaction's condition."""
    class Meta(_Meta):
        logical = "stages"

    competition_id = UnicodeAttribute(hash_key=True)
    stage_id = UnicodeAttribute(range_key=True)
    opens_at = NumberAttribute()              # epoch seconds
    closes_at = NumberAttribute()
    closed = BooleanAttribute(default=False)  # closed through the close endpoint: stays closed
    closed_at = NumberAttribute(null=True)
    settled = BooleanAttribute(default=False)  # closed, every category decided, its result mail through


class AuditEntry(Model):
    class Meta(_Meta):
        logical = "audit"

    object_key = UnicodeAttribute(hash_key=True)   # "case#<id>", "account#<username>", "stage#<competition>#<id>"
                                                   # (store/keys.py)
    entry_key = UnicodeAttribute(range_key=True)   # "<epoch ms, zero-padded>#<random>"
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    at = NumberAttribute()
    before_digest = UnicodeAttribute(null=True)
    after_digest = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)


class Judge(Model):
    class Meta(_Meta):
        logical = "judges"

    competition_id = UnicodeAttribute(hash_key=True)
    judge_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    mobile = UnicodeAttribute(null=True)
    affiliation = UnicodeAttribute()
    categories = _text_list(default=list)
    conflicts = _text_list(default=list)   # declared units to avoid (回避)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class Assignment(Model):
    """A judge's slot for one case in one stage: created when assigned, filled when scored.

    Because the slot exists only for assigned pairs, "only assigned judges score" and "one score per
    judge per case per stage" are conditions on this item, not lookups.
    """
    class Meta(_Meta):
        logical = "assignments"

    stage_judge = UnicodeAttribute(hash_key=True)          # "<competition>#<stage>#<judge id>" (store/keys.py)
    case_id = UnicodeAttribute(range_key=True)
    stage = UnicodeAttribute()
    judge_id = UnicodeAttribute()
    category = UnicodeAttribute()
    title = UnicodeAttribute(null=True)
    stage_category = UnicodeAttribute()
    case_judge = UnicodeAttribute()
    criteria: MapAttribute[str, int] = MapAttribute(null=True)  # criterion id -> tenths of a point
    total = NumberAttribute(null=True)                     # tenths of a point
    comment = UnicodeAttribute(null=True)
    feedback = _text_list(null=True)
    scored = BooleanAttribute(default=False)
    scored_at = NumberAttribute(null=True)
    recused = BooleanAttribute(default=False)
    recusal_reason = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="plan")              # "plan" | "organiser"
    created_at = NumberAttribute()
    by_stage_category = _index(stage_category=UnicodeAttribute(hash_key=True),    # "<competition>#<stage>#<category>"
                               case_judge=UnicodeAttribute(range_key=True))       # "<case id>#<judge id>"


class Link(Model):
    """The current scoring link of a judge for a stage and its state (sent, opened, revoked).

    `link_id` is the seed of the link's secret id ("<key tag>:<random>"; the id is an HMAC of it under the
    signing key, services/judging.py), so the row alone opens nothing, while the server can show the link in
    force again (the QR sheet, 显示链接). `link_hash` (SHA-256 of the id) is what sessions are bound to.
    Re-issuing overwrites the row; revoking removes seed and hash and keeps the row as 已撤销; sessions
    opened from a link die with it."""
    class Meta(_Meta):
        logical = "links"

    judge_stage = UnicodeAttribute(hash_key=True)          # "<competition>#<judge id>#<stage>" (store/keys.py)
    link_hash = UnicodeAttribute(null=True)                # absent once revoked
    link_id = UnicodeAttribute(null=True)                  # the seed; absent once revoked (and in older rows)
    issued_at = NumberAttribute()
    opened_at = NumberAttribute(null=True)                 # the first session opened from this link
    revoked_at = NumberAttribute(null=True)


class MailRecord(Model):
    """One row per (kind, object, recipient): the idempotency key of every mail, and the mail log."""
    class Meta(_Meta):
        logical = "mail_log"

    mail_key = UnicodeAttribute(hash_key=True)             # "<kind>#<competition>#<object>#<recipient>"
    competition_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    recipient = UnicodeAttribute()
    subject = UnicodeAttribute()
    status = UnicodeAttribute()        # "queued" | "sending" | "sent" | "failed" | "bounced" | "dropped"
    message_id = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)                 # send calls made (once-only mail; capped)
    created_at = NumberAttribute()
    sent_at = NumberAttribute(null=True)
    bounced_at = NumberAttribute(null=True)
    queued_for = UnicodeAttribute(null=True)              # the competition, while the queued sender owes it
    ref = UnicodeAttribute(null=True)                      # what a queued mail is about ("<judge>#<stage>")
    claimed_at = NumberAttribute(null=True)                # a queued mail's last claim by the sender
    by_competition = _index(competition_id=UnicodeAttribute(hash_key=True), created_at=NumberAttribute(range_key=True))
    # sparse: only sent mail has a message id; an SES bounce names the mail by it
    by_message = _index(message_id=UnicodeAttribute(hash_key=True))
    # sparse: only mail waiting for the sender (queued, or failed with attempts left) has `queued_for`
    by_queue = _index(queued_for=UnicodeAttribute(hash_key=True), created_at=NumberAttribute(range_key=True))


class Ranking(Model):
    """A category's ranking of a stage as computed at close: the results, the method, and the digest
    of the inputs; the full inputs (every score) are in S3 under `record_key` for re-derivation."""
    class Meta(_Meta):
        logical = "rankings"

    competition_id = UnicodeAttribute(hash_key=True)
    stage_category = UnicodeAttribute(range_key=True)      # "<stage>#<category>"
    method = UnicodeAttribute()
    digest = UnicodeAttribute()
    record_key = UnicodeAttribute()
    results = UnicodeAttribute()                           # JSON list, best first
    computed_at = NumberAttribute()
    notified = BooleanAttribute(default=False)             # every unit told its result (text_review)


class ExportJob(Model):
    """An export (xlsx, pdf, docx) requested by an organiser, run by the `exports` function.

    The queue is the `by_status` index: the local runner Queries status "queued" (never a Scan); a run
    claims the job with a condition on its status, so a retried or doubled invocation builds it once.
    """
    class Meta(_Meta):
        logical = "export_jobs"

    id = UnicodeAttribute(hash_key=True)
    competition_id = UnicodeAttribute()
    kind = UnicodeAttribute()                  # results_xlsx | scores_xlsx | registrations_xlsx | ...
    category = UnicodeAttribute(null=True)     # the category of a per-category kind (presentations_zip)
    status = UnicodeAttribute()                # "queued" | "running" | "done" | "failed"
    percent = NumberAttribute(default=0)
    key = UnicodeAttribute(null=True)          # exports/<id>/<file> once done
    filename = UnicodeAttribute(null=True)     # the Chinese download name
    error = UnicodeAttribute(null=True)
    requested_by = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    started_at = NumberAttribute(null=True)
    finished_at = NumberAttribute(null=True)
    attempts = NumberAttribute(default=0)
    by_status = _index(status=UnicodeAttribute(hash_key=True), created_at=NumberAttribute(range_key=True))


class Certificate(Model):
    """An issued 荣誉证书's verification code -> what it certifies (the public /verify/<code> page reads it).

    The code is an HMAC of case id and prize; rows stay when signing keys rotate, so printed codes keep
    verifying."""
    class Meta(_Meta):
        logical = "certificates"

    code = UnicodeAttribute(hash_key=True)
    competition_id = UnicodeAttribute()
    case_id = UnicodeAttribute()
    prize = UnicodeAttribute()
    title = UnicodeAttribute()
    unit = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    issued_at = NumberAttribute()


class ArchiveCase(Model):
    """An earlier year's case, imported by the organiser as the corpus of the originality check.

    The id is a digest of the year and the text, so importing the same case again overwrites it."""
    class Meta(_Meta):
        logical = "archive_cases"

    corpus = UnicodeAttribute(hash_key=True)               # "archive": one corpus for every competition
    id = UnicodeAttribute(range_key=True)                  # "arc-<digest>"
    year = NumberAttribute()
    unit = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    body = UnicodeAttribute()                              # JSON {"background","innovations","results"}
    imported_at = NumberAttribute()
    imported_by = UnicodeAttribute()


class CompetitionRecord(Model):
    """A competition (竞赛届次): its definition as JSON (the keys of chalicelib/competitions/<id>.json), its state,
    the version a save is conditional on, who created and last changed it. The `by_created` index lists every
    competition newest first (one constant partition, `listing`: a Query, never a Scan).

    One more item, id "~current" (store/competitions.CURRENT), points to the current competition: it has only
    `current` (that competition's id), `updated_at` and `updated_by`, no `listing`, so the index never lists it."""
    class Meta(_Meta):
        logical = "competitions"

    class ByCreated(GlobalSecondaryIndex):
        class Meta:
            index_name = "by_created"
            projection = AllProjection()
        listing = UnicodeAttribute(hash_key=True)          # always store/competitions.LISTING
        created_at = NumberAttribute(range_key=True)

    id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute()
    definition = UnicodeAttribute()                        # JSON (validated by domain/competition_edit)
    state = UnicodeAttribute()                             # "draft" | "running" | "finished"
    version = NumberAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    updated_at = NumberAttribute()
    updated_by = UnicodeAttribute()
    current = UnicodeAttribute(null=True)                  # on the "~current" pointer item only
    by_created = ByCreated()



MODELS: tuple[type[Model], ...] = (Account, Guard, Session, Case, CaseVersion, Stage, AuditEntry, Judge,
                                   Assignment, Link, MailRecord, Ranking, ExportJob, Certificate, ArchiveCase,
                                   CompetitionRecord)
TTL_ATTRIBUTES = {"sessions": "expires_at", "guards": "expires_at"}


def bind(table_name_for, region: str, host: str | None) -> None:
    """Point every model at its physical table and endpoint (store/db.py `bind` then gives them one connection)."""
    for model in MODELS:
        model.Meta.table_name = table_name_for(logical_name(model))
        model.Meta.region = region
        model.Meta.host = host
