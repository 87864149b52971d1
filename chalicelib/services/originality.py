"""Use cases of the originality check (原创性检测): importing earlier years' cases, and the flags.

The corpus of a competition is the imported archive (the stored index) and, by themselves, the submitted and
not withdrawn cases of every competition on the deployment before it (by year, then by creation; drafts have
none; whatever the state of the earlier one: services/competition_archive.py). Their matches say source
"archive" with that competition's year; a later competition is never in an earlier one's corpus.

Nothing runs on submit: the flags are computed when the organiser asks (GET), from the stored archive index,
the earlier competitions' cases and the current cases as they are at that moment, so a case submitted a second
ago is already checked. Reads: the competitions' list (one Query), one Query per earlier competition (its
cases, Case.by_competition), the competition's cases (one Query) and the index (S3). The result is kept in S3
under a digest of its inputs (the index's ETag, the settings, every checked case's id and version, every
earlier competition's case id, version and year), so asking again without a change costs one S3 read. The
check is computed again when any of them changes: an archive import (it rebuilds the index), a case of this
competition or of an earlier one submitted, edited or withdrawn, a new earlier competition — so a new
competition's first check already includes every earlier one.
"""
from __future__ import annotations

from datetime import datetime
import hashlib
import json
from typing import TYPE_CHECKING, Any

from ..domain.clock import epoch
from ..domain import originality as domain
from ..domain.cases import SUBMITTED_ONCE
from ..domain.competition import CHINA, Competition, StageId
from ..domain.errors import Invalid
from ..domain.archive_record import ArchiveCase
from ..domain.case_record import Case
from . import competition_archive
from .accounts import Principal

if TYPE_CHECKING:
    from .repositories import ArchiveRepository, CaseRepository, CompetitionRepository, OriginalityObjects

# Submitted and not withdrawn, whatever came of it: a case returned or rejected at 审核 is compared too (its
# flags stay visible to the organiser; it is never ranked).
CHECKED_STATUSES = SUBMITTED_ONCE
MAX_CASES = 5000
MAX_ITEMS = 20
MAX_TITLE = 200
MAX_FIELD = 20_000
MAX_NAME = 200


def settings_for(comp: Competition) -> domain.Settings:
    return domain.settings_from_config((comp.raw or {}).get("originality"))


def competition_year(comp: Competition) -> int:
    """The competition's year (competition_archive.year_of: its own, the originality block's, else the year
    its submission opens)."""
    year = competition_archive.year_of(comp.raw or {})
    if year is not None:
        return year
    submission = next(w for w in comp.default_windows if w.id == StageId.SUBMISSION)
    return submission.opens_at.astimezone(CHINA).year


# -- import ----------------------------------------------------------------------------------------
def _text_field(value: Any, path: str, errors: dict[str, str], required: bool, limit: int) -> str | None:
    if value is None:
        if required:
            errors[path] = "必填"
        return None
    if not isinstance(value, str):
        errors[path] = "应为字符串"
        return None
    if required and not value.strip():
        errors[path] = "不能为空"
        return None
    if len(value) > limit:
        errors[path] = f"过长（{len(value)} 字，最多 {limit} 字）"
        return None
    return value


def _text_list(value: Any, path: str, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors[path] = "应为字符串列表"
        return []
    if len(value) > MAX_ITEMS:
        errors[path] = f"最多 {MAX_ITEMS} 项"
        return []
    out = []
    for n, item in enumerate(value):
        text = _text_field(item, f"{path}[{n}]", errors, required=False, limit=MAX_FIELD)
        if text is not None:
            out.append(text)
    return out


def year_problem(year: Any, before: int | None) -> str | None:
    """Why `year` cannot be an archive's year (None when it can): an integer, and earlier than the
    competition's own year, whose cases are compared as current ones."""
    if isinstance(year, bool) or not isinstance(year, int):
        return "应为整数年份，例如 2022"
    if not 2000 <= year <= 2100:
        return "年份应在 2000 至 2100 之间"
    if before is not None and year >= before:
        return f"往年案例的年份应早于本届比赛（{before} 年）；本届案例已自动参与比对"
    return None


def parse_import(raw: Any, before: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """The year and the cases of an archive import; Invalid naming every bad field (cases[3].title).
    `before`: the competition's year, which an archive's year must precede."""
    if not isinstance(raw, dict):
        raise Invalid("请求体应为 JSON 对象：{\"year\": 2022, \"cases\": [...]}", {"body": "应为 JSON 对象"})
    errors: dict[str, str] = {}
    given = raw.get("year")
    year = given if isinstance(given, int) else 0      # returned only when year_problem finds none
    problem = year_problem(given, before)
    if problem:
        errors["year"] = problem
    cases = raw.get("cases")
    parsed: list[dict[str, Any]] = []
    if not isinstance(cases, list):
        errors["cases"] = "应为案例列表"
    elif not 1 <= len(cases) <= MAX_CASES:
        errors["cases"] = f"一次导入 1 至 {MAX_CASES} 个案例（本次 {len(cases)} 个）"
    else:
        for n, item in enumerate(cases):
            path = f"cases[{n}]"
            if not isinstance(item, dict):
                errors[path] = "应为对象"
                continue
            case = {
                "title": _text_field(item.get("title"), f"{path}.title", errors, True, MAX_TITLE),
                "unit": _text_field(item.get("unit"), f"{path}.unit", errors, False, MAX_NAME),
                "category": _text_field(item.get("category"), f"{path}.category", errors, False, MAX_NAME),
                "background": _text_field(item.get("background"), f"{path}.background", errors, False,
                                          MAX_FIELD) or "",
                "innovations": _text_list(item.get("innovations"), f"{path}.innovations", errors),
                "results": _text_list(item.get("results"), f"{path}.results", errors),
            }
            parsed.append(case)
    if errors:
        first = next(iter(errors))
        raise Invalid(f"归档案例导入有 {len(errors)} 处需要修改（例如 {first}：{errors[first]}）", errors)
    return year, parsed


def archive_id(year: int, case: dict[str, Any]) -> str:
    data = json.dumps([year, case["unit"], case["category"], case["title"], case["background"],
                       case["innovations"], case["results"]], ensure_ascii=False, sort_keys=True)
    return "arc-" + hashlib.sha256(data.encode("utf-8")).hexdigest()[:20]


def _entry(row: ArchiveCase) -> domain.Entry:
    return domain.Entry(row.id, row.title, int(row.year),
                        domain.case_text(row.title, row.background, row.innovations, row.results))


def import_archive(comp: Competition, archive: ArchiveRepository, objects: OriginalityObjects,
                   principal: Principal, raw: Any, now: datetime) -> int:
    """Store the cases of an earlier year and rebuild the archive index. Returns how many were imported."""
    year, cases = parse_import(raw, competition_year(comp))
    return store_archive(comp, archive, objects, principal, [(year, case) for case in cases], now, "api")


def store_archive(comp: Competition, archive: ArchiveRepository, objects: OriginalityObjects, principal: Principal,
                  cases: list[tuple[int, dict[str, Any]]], now: datetime, source: str) -> int:
    """Write checked archive cases (each with its year) and rebuild the index; every import, from the API or
    from the console's workbook, ends here. Returns how many were imported."""
    rows = {}
    for year, case in cases:
        row = ArchiveCase(archive_id(year, case), year, case["title"].strip(), unit=case["unit"],
                          category=case["category"], background=case["background"],
                          innovations=tuple(case["innovations"]), results=tuple(case["results"]),
                          imported_at=epoch(now), imported_by=principal.actor)
        rows[row.id] = row
    years = sorted({year for year, _ in cases})
    archive.put_cases(list(rows.values()), principal.actor, epoch(now),
                      {"year": years[0] if len(years) == 1 else years, "cases": len(cases), "distinct": len(rows),
                       "source": source})
    rebuild_index(settings_for(comp), archive, objects, [_entry(r) for r in rows.values()])
    return len(cases)


def rebuild_index(s: domain.Settings, archive: ArchiveRepository, objects: OriginalityObjects,
                  added: list[domain.Entry] | None = None) -> tuple[domain.ArchiveIndex, str]:
    """Build and store the index: the stored index's documents plus `added` when they account for the
    whole archive table, else every archived case read back from the table."""
    entries: dict[str, domain.Entry] = {}
    loaded = objects.load_index()
    if loaded is not None:
        entries = {e.id: e for e in loaded[0].entries}
    for e in added or ():
        entries[e.id] = e
    if loaded is None or len(entries) != archive.count_cases():
        entries = {row.id: _entry(row) for row in archive.list_cases()}
    index = domain.build_index(list(entries.values()), s)
    return index, objects.save_index(index)


def archive_index(s: domain.Settings, archive: ArchiveRepository,
                  objects: OriginalityObjects) -> tuple[domain.ArchiveIndex, str]:
    """The stored index when it is usable; rebuilt (and stored) when missing or built with other settings."""
    loaded = objects.load_index()
    if loaded is not None and loaded[0].params == s.index_params():
        return loaded
    if loaded is None and archive.count_cases() == 0:
        return domain.empty_index(s), "empty"
    if loaded is not None:
        index = domain.build_index(loaded[0].entries, s)
        return index, objects.save_index(index)
    return rebuild_index(s, archive, objects)


# -- the check -------------------------------------------------------------------------------------
def checked_cases(year: int, cases: list[Case]) -> list[tuple[domain.Entry, int]]:
    """Every case of `cases` (the competition's) submitted and not withdrawn, whatever its later status, with
    its version."""
    out = []
    for case in cases:
        if case.status not in CHECKED_STATUSES:
            continue
        body = case.body
        title = body.get("title") or ""
        out.append((domain.Entry(case.id, title, year,
                                 domain.case_text(title, body.get("background"), body.get("innovations"),
                                                  body.get("results"))), case.version))
    return out


def earlier_cases(comp: Competition, year: int, competitions: CompetitionRepository,
                  cases: CaseRepository) -> list[tuple[domain.Entry, int]]:
    """The checked cases of every competition before `comp` on the deployment, each with that competition's
    year (one Query for the list, one per earlier competition)."""
    out: list[tuple[domain.Entry, int]] = []
    for before in competition_archive.earlier(competitions, comp, year):
        out.extend(checked_cases(before.year, cases.list_for_competition(before.id)))
    return out


def report(comp: Competition, archive: ArchiveRepository, objects: OriginalityObjects, cases: CaseRepository,
           competitions: CompetitionRepository, read: list[Case] | None = None) -> dict[str, Any]:
    """The flags of the contract, with the threshold and how many cases were compared (`read`: the
    competition's cases, when the caller has read them already); the corpus is the archive and the earlier
    competitions' cases (`archived` counts both)."""
    s = settings_for(comp)
    year = competition_year(comp)
    index, version = archive_index(s, archive, objects)
    checked = checked_cases(year, cases.list_for_competition(comp.id) if read is None else read)
    earlier = earlier_cases(comp, year, competitions, cases)
    digest = hashlib.sha256(json.dumps({
        "index": version, "settings": s.as_dict(), "year": year, "competition": comp.id,
        "cases": sorted([e.id, v] for e, v in checked),
        "earlier": sorted([e.id, v, e.year] for e, v in earlier),
    }, sort_keys=True).encode()).hexdigest()
    cached = objects.cached_flags(comp.id, digest)
    if cached is not None:
        return cached
    flags = domain.find_flags(index, [e for e, _ in checked], s, earlier=[e for e, _ in earlier])
    result = {"flags": domain.flags_view(flags), "threshold": s.threshold, "checked": len(checked),
              "archived": index.size + len(earlier), "measure": "overlap"}
    objects.save_flags(comp.id, digest, result)
    return result


def flag_pairs(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flags as the organiser reads them: one entry per pair, most similar first. A pair of current
    cases is flagged on both sides in the API; here it appears once (from the side listed first)."""
    seen: set[tuple[str, str]] = set()
    pairs = []
    for flag in flags:
        for match in flag["matches"]:
            if match["source"] == "current":
                key = (min(flag["case_id"], match["other_id"]), max(flag["case_id"], match["other_id"]))
                if key in seen:
                    continue
                seen.add(key)
            pairs.append({"case_id": flag["case_id"], "title": flag["title"], **match})
    pairs.sort(key=lambda p: (-p["similarity"], p["case_id"], p["other_id"]))
    return pairs
