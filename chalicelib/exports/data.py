"""What the export builders take: plain rows, no database, no heavy import.

The services (chalicelib/services/exports.py) fill these from the tables; the builders (workbooks.py,
certificates_pdf.py, award_list_docx.py: openpyxl, fpdf2 and python-docx are imported only there) turn
them into files; the benchmarks fill them with made-up rows. A row is a tuple for speed (10,000 cases).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

Progress = Callable[[float], None]   # fraction done, 0.0 .. 1.0


def no_progress(_: float) -> None:
    return None


class ResultRow(NamedTuple):
    rank: int | None
    title: str
    unit: str
    leader: str
    score: float | None
    prize: str          # 一等奖 … or ""
    advanced: str       # 是 / 否 / ""
    provincial: str     # 是 / 否 / ""
    basis: str          # 综合评选 / 文本评审


@dataclass(frozen=True)
class ResultsBook:
    competition: str
    subtitle: str                                   # e.g. 综合评选排名 / 文本评审排名（暂定）
    sheets: list[tuple[str, list[ResultRow]]]       # (category name, rows best first)


@dataclass(frozen=True)
class CriterionColumn:
    ids: tuple[str, ...]     # the criterion id (several categories may share one, e.g. effectiveness)
    header: str              # 前瞻性（满分30）


class ScoreRow(NamedTuple):
    category: str
    case_id: str
    title: str
    unit: str
    judge_id: str
    judge: str
    criteria: dict          # criterion id -> points (float, one decimal)
    total: float | None
    state: str              # 已评 / 未评 / 回避
    counted: str            # 是 / 否 (whether the ranking uses it)
    comment: str


class SummaryRow(NamedTuple):
    stage: str
    category: str
    rank: int | None
    case_id: str
    title: str
    scores_count: int
    score: float | None
    plain_mean: float | None
    tie_break_mean: float | None
    tie: str
    outcome: str


@dataclass(frozen=True)
class ScoresBook:
    competition: str
    columns: list[CriterionColumn]
    stages: list[tuple[str, list[ScoreRow]]]        # (stage name, rows)
    summary: list[SummaryRow]
    rules: list[tuple[str, str]]                    # 说明 sheet: (item, explanation)


class AccountRow(NamedTuple):
    username: str
    unit: str
    unit_system: str
    district: str
    contact: str
    email: str
    mobile: str
    registered: str
    cases: int
    entered: int


class CaseRow(NamedTuple):
    unit: str
    username: str
    case_id: str
    title: str
    category: str
    recommending_unit: str
    status: str
    prize: str
    submitted: str
    leader: str
    leader_mobile: str
    contact: str
    contact_mobile: str
    chars: int


@dataclass(frozen=True)
class RegistrationsBook:
    competition: str
    accounts: list[AccountRow]
    cases: list[CaseRow]


@dataclass(frozen=True)
class CertificateItem:
    unit: str
    title: str
    category: str
    prize: str
    code: str            # XXXX-XXXX-XXXX
    verify_url: str


@dataclass(frozen=True)
class CertificateBook:
    competition: str
    hosts: tuple[str, ...]
    date: str            # 2023年7月10日
    items: list[CertificateItem]


@dataclass(frozen=True)
class AwardEntry:
    rank: int | None
    title: str
    unit: str


@dataclass(frozen=True)
class AwardList:
    competition: str
    hosts: tuple[str, ...]
    date: str
    groups: list[tuple[str, list[tuple[str, list[AwardEntry]]]]] = field(default_factory=list)
    # [(category name, [(prize name, entries in rank order)])]
    organisation_units: list[str] | None = None     # 优秀组织奖: the organisers' chosen units; None: not chosen yet


class NominationRow(NamedTuple):
    honor: str
    leader: str
    title: str
    category: str
    rank: int | None
    unit: str
    mobile: str


class HonorRow(NamedTuple):
    nominated: str       # 是 / 否
    category: str
    rank: int | None
    title: str
    unit: str
    leader: str
    position: str
    gender: str          # 女 / 男
    rank_level: str      # 科级及以下 / 处级及以上
    birth_date: str      # 1990年1月1日
    mobile: str
    eligible: str        # 是 / 否 (meets the honor's rules on its own)
    reason: str


@dataclass(frozen=True)
class HonorsBook:
    competition: str
    nominations: list[NominationRow]             # every honor's nominees, honor by honor
    honors: list[tuple[str, list[HonorRow]]]     # (honor name, every case considered for it, nominees first)


class OrganisationRow(NamedTuple):
    rank: int
    unit: str
    cases: int
    submitted: int
    advanced: int
    first: int
    second: int
    third: int
    score: int
    suggested: str       # 是 / ""
    chosen: str          # 是 / 否 / "" (no final list saved yet)


@dataclass(frozen=True)
class OrganisationAwardsBook:
    competition: str
    rows: list[OrganisationRow]                  # best first
    chosen: list[str] | None                     # the saved final list in tally order; None: not saved yet
    rules: list[tuple[str, str]]                 # 说明 sheet: (item, explanation)


class PresentationEntry(NamedTuple):
    position: int            # in the drawn order, from 1
    title: str
    unit: str
    key: str | None          # the stored file (None: the unit has not uploaded one)
    filename: str | None     # the unit's own file name (its extension names the file in the zip)
    size: int


@dataclass(frozen=True)
class PresentationFiles:
    competition: str
    category: str            # the category's Chinese name
    entries: list[PresentationEntry]


class ProvincialRow(NamedTuple):
    number: int              # 序号 over the whole list
    category: str            # the category's Chinese name
    rank: int | None         # in the final
    prize: str               # 一等奖 …
    title: str
    unit: str
    leader: str
    leader_position: str
    leader_mobile: str
    reason: str              # the organisers' 推荐理由


@dataclass(frozen=True)
class ProvincialList:
    competition: str
    hosts: tuple[str, ...]
    date: str                # 2023年7月12日
    rows: list[ProvincialRow]
