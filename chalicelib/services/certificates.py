"""荣誉证书: who gets one (every awarded case), its verification code, and the public check of a code.

The code is the first 12 base32 characters (60 bits) of HMAC-SHA256(signing key, "certificate:<case id>:
<prize>"): short enough to type from paper, impossible to guess, and the same every time the certificate is
printed. Each issued code is stored (services/repositories.CertificateRepository), so `/verify/<code>` is one
GetItem, and codes printed before a signing-key rotation keep verifying.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Iterable

from ..domain.competition import CHINA, Competition, StageId, StageWindow
from ..domain.errors import NotFound
from ..domain.readable import day
from ..exports import data
from ..media import PDF
from ..domain.case_record import Case
from ..domain.clock import epoch
from ..domain.certificate_record import Certificate
from . import stages as stage_service
from .cases import CompetitionOf, competition_of_case

if TYPE_CHECKING:
    from .repositories import Files
    from .accounts import Principal
    from .repositories import CaseRepository, CertificateRepository, StageRepository

CODE_LENGTH = 12
CODE_PATTERN = re.compile(r"^[A-Z2-7]{%d}$" % CODE_LENGTH)


@dataclass(frozen=True)
class Award:
    """What one certificate says."""
    case_id: str
    code: str
    unit: str
    title: str
    category: str          # category id
    category_name: str
    prize: str             # prize id
    prize_name: str


def code_for(signing_key: str, case_id: str, prize: str) -> str:
    mac = hmac.new(signing_key.encode("utf-8"), f"certificate:{case_id}:{prize}".encode("utf-8"),
                   hashlib.sha256).digest()
    return base64.b32encode(mac).decode("ascii")[:CODE_LENGTH]


def normalise(code: str) -> str | None:
    """A code as typed (lower case, with spaces or hyphens) -> its canonical form, or None if malformed."""
    cleaned = re.sub(r"[\s-]", "", code or "").upper()
    return cleaned if CODE_PATTERN.match(cleaned) else None


def display(code: str) -> str:
    """XXXX-XXXX-XXXX, as printed on the certificate."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def prize_names(comp: Competition) -> dict[str, str]:
    return {p["id"]: p["name"] for p in comp.raw.get("prizes", [])}


def award_of(comp: Competition, signing_key: str, case: Case) -> Award:
    """The award as it was given: a 赛前辅导 revision after the final changes the text, not what was awarded."""
    body = case.awarded_body or case.body
    category = case.category
    cat = comp.category(category)
    prize = case.prize or ""
    return Award(case.id, code_for(signing_key, case.id, prize), body.get("recommending_unit", ""),
                 body.get("title", ""), category, cat.name if cat else "", prize, prize_names(comp).get(prize, prize))


def awards(comp: Competition, signing_key: str, cases: Iterable[Case],
           ranks: dict[str, int] | None = None) -> list[Award]:
    """Every awarded case of `cases` (the competition's), in category order, then prize order (first, second,
    third), then final rank (when `ranks` gives it), then title."""
    found = [award_of(comp, signing_key, c) for c in cases if c.status == "awarded" and c.prize]
    category_order = {c: i for i, c in enumerate(comp.category_ids)}
    prize_order = {p["id"]: i for i, p in enumerate(comp.raw.get("prizes", []))}
    ranks = ranks or {}
    return sorted(found, key=lambda a: (category_order.get(a.category, 99), prize_order.get(a.prize, 99),
                                        ranks.get(a.case_id, 10**9), a.title, a.case_id))


def record(comp: Competition, issued: Iterable[Award], now: datetime,
           repository: CertificateRepository) -> int:
    """Store the codes so the public page can confirm them (a re-run rewrites the same rows, in one batch)."""
    return repository.record(Certificate(a.code, comp.id, a.case_id, a.prize, a.title, a.unit, a.category, epoch(now))
                             for a in issued)


def verify(repository: CertificateRepository, code: str) -> Certificate | None:
    canonical = normalise(code)
    return repository.get(canonical) if canonical is not None else None


def award_date(comp: Competition, closed_at: datetime | None, now: datetime) -> date:
    """The date printed on certificates: the day the final closed (in China), else today."""
    return (closed_at or now).astimezone(CHINA).date()


def chinese_date(value: date) -> str:
    return day(value)


def book(comp: Competition, issued: Iterable[Award], closed_at: datetime | None, now: datetime,
         site_url: str) -> data.CertificateBook:
    """What the PDF prints for these awards: the same for the whole set (export) and for one unit's case."""
    awarded_on = award_date(comp, closed_at, now)
    items = [data.CertificateItem(a.unit, a.title, a.category_name, a.prize_name, display(a.code),
                                  f"{site_url}/verify/{a.code}") for a in issued]
    return data.CertificateBook(comp.name, tuple(comp.hosts), chinese_date(awarded_on), items)


NO_CERTIFICATE = "没有找到这个案例的荣誉证书：综合评选结束后，获奖案例的推报单位可在案例页面下载"


def available(comp: Competition, case: Case, final: StageWindow | None = None, *, stages: StageRepository) -> bool:
    """Whether the case's unit may download its certificate now: awarded with a prize, the final closed
    (the final's window is read only for an awarded case, unless the caller has it)."""
    if case.competition_id != comp.id or case.status != "awarded" or not case.prize:
        return False
    return (final or stage_service.windows(comp, stages)[StageId.FINAL]).closed


def own_certificate_url(comp: Competition, cases: CaseRepository, issued: CertificateRepository,
                        principal: Principal, case_id: str, files: Files, signing_key: str, site_url: str,
                        expires_in: int, now: datetime, *, stages: StageRepository,
                        competition_of: CompetitionOf) -> str:
    """A short-lived presigned download of one awarded case's certificate (the look of the certificates_pdf
    export), under its Chinese file name.

    Only the unit that owns the case (and organisers) get it, once the final is closed and the case has a
    prize; anyone else, and every other case, gets NotFound (existence does not leak). The PDF is made once
    per content (its S3 key carries a digest of what it prints: certificates/<competition>/<case id>-<digest>.pdf),
    and its code is recorded then, so the printed /verify link confirms at once; a later click is a HEAD.
    fpdf2 and the font load only when a PDF is made, never on a cold start. The browser gets the file from
    S3, not as a binary body through API Gateway (which would need the request's Accept header to name a
    binary type). An earlier competition's case gets its own competition's certificate."""
    case = cases.get(case_id) if case_id and len(case_id) <= 64 else None
    owner = case is not None and (principal.role == "organiser"
                                  or (principal.role == "unit" and case.owner_id == principal.account_id))
    if case is None or not owner:
        raise NotFound(NO_CERTIFICATE)
    comp = competition_of_case(comp, competition_of, case)      # an earlier year's case: its own competition
    final = stage_service.windows(comp, stages)[StageId.FINAL]
    if not available(comp, case, final, stages=stages):
        raise NotFound(NO_CERTIFICATE)
    award = award_of(comp, signing_key, case)
    printed = book(comp, [award], final.closed_at, now, site_url)
    digest = hashlib.sha256(json.dumps(asdict(printed), ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    key = f"certificates/{comp.id}/{case.id}-{digest[:16]}.pdf"
    if files.head(key) is None:
        from ..exports.certificates_pdf import certificates_pdf
        record(comp, [award], now, issued)
        files.put(key, certificates_pdf(printed), PDF)
    return files.download_url(key, f"{comp.short_name}-荣誉证书-{award.prize_name}-{_file_safe(award.title)}.pdf",
                              expires_in)


def _file_safe(title: str) -> str:
    """A case title as part of a file name: no path or reserved characters, at most 40 characters."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "", title).strip() or "案例"
    return cleaned[:40]
