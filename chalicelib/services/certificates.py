"""荣誉证书: who gets one (every awarded case), its verification code, and the public check of a code.

The code is the first 12 base32 characters (60 bits) of HMAC-SHA256(signing key, "certificate:<case id>:
<prize>"): short enough to type from paper, impossible to guess, and the same every time the certificate is
printed. Each issued code is stored (model Certificate), so `/verify/<code>` is one GetItem, and codes
printed before a signing-key rotation keep verifying.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from ..domain.competition import CHINA, Competition
from ..domain.readable import day
from ..store import cases as case_store
from ..store.models import Case, Certificate

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
    body = json.loads(case.body)
    category = body.get("category", "")
    cat = comp.category(category)
    prize = case.prize or ""
    return Award(case.id, code_for(signing_key, case.id, prize), body.get("recommending_unit", ""),
                 body.get("title", ""), category, cat.name if cat else "", prize, prize_names(comp).get(prize, prize))


def awards(comp: Competition, signing_key: str, cases: Iterable[Case] | None = None,
           ranks: dict[str, int] | None = None) -> list[Award]:
    """Every awarded case, in category order, then prize order (first, second, third), then final rank
    (when `ranks` gives it), then title."""
    cases = case_store.list_for_competition(comp.id) if cases is None else cases
    found = [award_of(comp, signing_key, c) for c in cases if c.status == "awarded" and c.prize]
    category_order = {c: i for i, c in enumerate(comp.category_ids)}
    prize_order = {p["id"]: i for i, p in enumerate(comp.raw.get("prizes", []))}
    ranks = ranks or {}
    return sorted(found, key=lambda a: (category_order.get(a.category, 99), prize_order.get(a.prize, 99),
                                        ranks.get(a.case_id, 10**9), a.title, a.case_id))


def record(comp: Competition, issued: Iterable[Award], now: float) -> int:
    """Store the codes so the public page can confirm them (a re-run rewrites the same rows)."""
    count = 0
    with Certificate.batch_write() as batch:
        for award in issued:
            batch.save(Certificate(award.code, competition_id=comp.id, case_id=award.case_id, prize=award.prize,
                                   title=award.title, unit=award.unit, category=award.category, issued_at=now))
            count += 1
    return count


def verify(code: str) -> Certificate | None:
    canonical = normalise(code)
    if canonical is None:
        return None
    try:
        return Certificate.get(canonical)
    except Certificate.DoesNotExist:
        return None


def award_date(comp: Competition, closed_at: datetime | None, now: datetime) -> date:
    """The date printed on certificates: the day the final closed (in China), else today."""
    return (closed_at or now).astimezone(CHINA).date()


def chinese_date(value: date) -> str:
    return day(value)
