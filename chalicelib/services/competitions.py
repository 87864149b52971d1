"""Competitions (竞赛届次) stored as data, for the console's builder: list, read, 新建届次, 复制上一届, edit, start
(草稿 → 进行中) and finish (→ 已结束). Organisers only; a 只读成员 may read, not change.

The rules are domain/competition_edit.py's: this module reads the competition, computes its `Progress` from the
stage rows the handler passes in (the stages' windows and closes: a row overrides the definition's own window, as
services/stages.windows_from_rows does) and saves on the version as read. A refused edit raises Invalid (a field
to fix), StageClosed (a part whose stage has begun or closed: locked), or Conflict (已结束 is read-only; a state
move not allowed yet), each with the errors by field (`as_fields`).

`activate` makes a competition the current one (the one every request without a competition works on:
bootstrap.competition()). Only a 进行中 competition can be: a 草稿 must be started (开始) first, so that its
definition has passed `start`'s checks before units and judges see it; an 已结束 one is read-only and stays in the
archive (its exports still work by its id), so making it current again would only reopen nothing and hide the
running one. Both are refused with Conflict naming the field `state`; the current one again is answered as it is.

`seed` puts the deployment's JSON competition (chalicelib/competitions/<id>.json) into the table as 进行中 when
it is not there yet (the local stack's seeding; idempotent). Until a competition is activated the deployment's
own (`COMPETITION_ID`) is the current one (bootstrap.competition()).
"""
from __future__ import annotations

import copy
import re
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from ..domain.clock import epoch
from .. import competitions as configs
from ..domain.competition import (
    CHINA, STAGE_NAMES, STAGE_ORDER, Competition, StageWindow, competition_from_config, format_time, parse_time,
)
from ..domain.competition_edit import (
    YEAR, CompetitionState, FieldError, Progress, as_fields, blank_competition, changed_paths, copy_for_next_year,
    edit as edit_definition, feed_cycle, first_year, lock_of, merge,
)
from ..domain.competition_record import CompetitionRecord, definition_json, new_record, value_at
from ..domain.honors import RANK_LEVEL_NAMES
from ..domain.errors import Conflict, Duplicate, Forbidden, Invalid, NotFound, StageClosed, VersionConflict
from ..domain.text import single_line
from . import stages
from .accounts import Principal
from .repositories import CompetitionRepository, JudgingRepository, StageRepository

NEW_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")
NEW_ID_MESSAGE = "竞赛编号应为 3～40 个字符，只用小写英文字母、数字和连字符“-”，以字母或数字开头（如 shenzhen-2024）"
YEARS = (2000, 2100)
SEED_ACTOR = "system:seed"
STALE = "竞赛设置已在别处被修改（版本已变化），请刷新后再修改"
START_FIRST = "草稿还不能设为当前届次，请先“开始”这个竞赛届次（检查设置并转为进行中）"
# The codes of a part locked by the competition's progress, and of a refusal by its state.
LOCKED_CODES = frozenset({"locked_field"})
STATE_CODES = frozenset({"read_only", "invalid_transition"})


def _require_organiser(principal: Principal, write: bool = False) -> None:
    if principal.role != "organiser":
        raise Forbidden("只有主办单位可以管理竞赛届次")
    if write and principal.organiser_role == "viewer":
        raise Forbidden("只读成员只能查看，不能修改（如需修改请联系管理员）")


def _found(record: CompetitionRecord | None) -> CompetitionRecord:
    if record is None:
        raise NotFound("没有找到这个竞赛届次")
    return record


def _check_new_id(new_id: Any) -> str:
    if not (isinstance(new_id, str) and NEW_ID.match(new_id)):
        raise Invalid(NEW_ID_MESSAGE, {"id": NEW_ID_MESSAGE})
    return new_id


# -- reads -----------------------------------------------------------------------------------------

def list_competitions(repo: CompetitionRepository, principal: Principal) -> list[CompetitionRecord]:
    """Every competition (drafts too: only organisers see this), newest first."""
    _require_organiser(principal)
    return repo.list_all()


def get(repo: CompetitionRepository, principal: Principal, competition_id: str) -> CompetitionRecord:
    _require_organiser(principal)
    return _found(repo.get(competition_id))


def competition_view(record: CompetitionRecord) -> dict[str, Any]:
    """What the builder shows of a competition: its definition, state (with its Chinese name) and version."""
    return {"id": record.id, "name": record.name, "state": record.state.value,
            "state_name": record.state.chinese_name, "version": record.version, "definition": record.definition}


def listing(repo: CompetitionRepository, principal: Principal | None) -> list[dict[str, Any]]:
    """The contract's list (GET /api/v1/competitions): every competition with its status and whether it is the
    current one; 草稿 only for organisers. The current one first, then newest first."""
    organiser = principal is not None and principal.role == "organiser"
    current = repo.current_id()
    shown = [r for r in repo.list_all() if organiser or r.state != CompetitionState.DRAFT]
    shown.sort(key=lambda r: r.id != current)
    return [{"id": r.id, "name": r.name, "year": first_year(r.definition), "status": r.state.value,
             "current": r.id == current} for r in shown]


def shape(comp: Competition, stage_windows: Mapping[str, StageWindow], now: datetime) -> dict[str, Any]:
    """The contract's competition shape (GET /api/v1/competition, GET /api/v1/competitions/{id})."""
    return {
        "id": comp.id, "name": comp.name, "theme": comp.theme, "hosts": list(comp.hosts),
        "categories": [{"id": c.id, "name": c.name,
                        "criteria": [{"id": k.id, "name": k.name, "max": k.max} for k in c.criteria]}
                       for c in comp.categories],
        "stages": [stages.stage_view(w, now) for w in stage_windows.values()],
        "limits": {"max_chars": comp.max_chars, "max_points": comp.max_points},
        "quotas": {"advance_per_category": comp.advance_per_category},
    }


def record_shape(record: CompetitionRecord, stage_repo: StageRepository, now: datetime) -> dict[str, Any]:
    """`shape` of a stored competition, its windows from its own stage rows over its definition's."""
    try:
        comp = competition_from_config(record.definition)
    except (KeyError, TypeError, ValueError, AttributeError) as error:     # a 草稿 still being written
        raise Conflict("这个竞赛届次的设置还不完整，请先在管理台补全") from error
    return shape(comp, stages.windows(comp, stage_repo), now)


def readable(repo: CompetitionRepository, principal: Principal | None, competition_id: str) -> CompetitionRecord:
    """A competition anyone may read (GET /api/v1/competitions/{id}); a 草稿 only for organisers."""
    record = _found(repo.get(competition_id))
    if record.state == CompetitionState.DRAFT and (principal is None or principal.role != "organiser"):
        raise NotFound("没有找到这个竞赛届次")
    return record


def edit_inputs(record: CompetitionRecord, stages: StageRepository, judging: JudgingRepository,
                now: datetime) -> tuple[CompetitionRecord, list[Any], list[str]]:
    """What `edit` needs to know of the competition's progress, from its own rows: the record as it runs (its
    windows the stage rows', `as_run`: what the builder shows), its stage rows and the scoring stages in which a
    judge has scored (read only for a stage that has opened: none can be scored before). A 草稿 has begun
    nothing: no reads."""
    if record.state == CompetitionState.DRAFT:
        return record, [], []
    rows = list(stages.all_for(record.id))
    found = windows(record.definition, rows)
    categories = [c["id"] for c in record.definition.get("categories") or []
                  if isinstance(c, Mapping) and isinstance(c.get("id"), str)]
    ranking = record.definition.get("ranking") or {}
    scored: list[str] = []
    for stage_id, window in found.items():
        if stage_id in ranking and window.status(now) != "pending" and any(
                slot.scored for slot in judging.slots_of_stage(record.id, stage_id, categories, attributes=["scored"])):
            scored.append(stage_id)
    return as_run(record, rows), rows, scored


def as_run(record: CompetitionRecord, stage_rows: Sequence[Any]) -> CompetitionRecord:
    """The record with each stage's window as its stage row has it. Once a competition has stage rows they are
    what its stages run on (a window moved on the 阶段 page, a stage closed early), so the builder shows and
    edits those; a window saved in the builder moves the row too (`edit`) and is written to the definition."""
    rows = {row.stage_id: row for row in stage_rows}
    definition = record.definition
    for stage in definition.get("stages") or []:
        row = rows.get(stage.get("id")) if isinstance(stage, dict) else None
        if row is not None:
            stage["opens_at"], stage["closes_at"] = format_time(_dt(row.opens_at)), format_time(_dt(row.closes_at))
    return replace(record, stored_definition=definition_json(definition))


def update(repo: CompetitionRepository, principal: Principal, competition_id: str, body: Any,
           stage_rows: Sequence[Any], now: datetime, scoring_started: Iterable[str] = (),
           moves: StageRepository | None = None) -> CompetitionRecord:
    """The contract's PUT: `body` holds configuration fields of the competition shape (plain keys or paths, as
    `edit` takes them) and may give the `version` as read (else the stored one). A list of items with ids that
    names the same items in the same order (the categories and their criteria as GET shows them) changes them
    item by item, keeping what the shape does not show; `advance_per_category` is the quota's."""
    _require_organiser(principal, write=True)
    if not isinstance(body, Mapping):
        raise Invalid("请求体应为 JSON 对象", {"body": "应为 JSON 对象"})
    record = _found(repo.get(competition_id))
    changes = {k: v for k, v in body.items() if k != "version"}
    if "advance_per_category" in changes:
        changes["quotas.advance_per_category"] = changes.pop("advance_per_category")
    definition = record.definition
    changes = {k: _by_id(_at(definition, k), v) for k, v in changes.items()}
    return _apply(repo, principal, record, changes, body.get("version", record.version), stage_rows, now,
                  scoring_started, moves)


def _at(definition: Mapping[str, Any], key: str) -> Any:
    return definition.get(key) if "." not in key and "[" not in key else None


def _by_id(current: Any, value: Any) -> Any:
    """`value` as a merge by id when it lists the same items (by id, in order) as `current`; else as it is."""
    if not (isinstance(current, list) and isinstance(value, list) and len(current) == len(value)):
        return value
    ids = [item.get("id") if isinstance(item, Mapping) else None for item in current]
    if None in ids or len(set(ids)) != len(ids):
        return value
    if [item.get("id") if isinstance(item, Mapping) else None for item in value] != ids:
        return value
    return {str(i): {k: _by_id(current[i].get(k), v) for k, v in item.items() if k != "id"}
            for i, item in enumerate(value)}


# -- 新建届次 and 复制上一届 -------------------------------------------------------------------------

def create_blank(repo: CompetitionRepository, principal: Principal, new_id: Any, name: Any, year: Any,
                 now: datetime) -> CompetitionRecord:
    """新建届次: a minimal definition (competition_edit.blank_competition) as a 草稿."""
    _require_organiser(principal, write=True)
    errors: dict[str, str] = {}
    if not (isinstance(new_id, str) and NEW_ID.match(new_id)):
        errors["id"] = NEW_ID_MESSAGE
    name_error = _name_error(name)
    if name_error:
        errors["name"] = name_error
    if not (isinstance(year, int) and not isinstance(year, bool) and YEARS[0] <= year <= YEARS[1]):
        errors["year"] = f"年份应为 {YEARS[0]}～{YEARS[1]} 之间的整数"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return _create(repo, blank_competition(new_id, name, year), principal.actor, now)


def copy_from(repo: CompetitionRepository, principal: Principal, source_id: str, new_id: Any, now: datetime,
              years: int = 1) -> CompetitionRecord:
    """复制上一届: the source's rules under `new_id`, `years` later, as a 草稿 (competition_edit.copy_for_next_year)."""
    _require_organiser(principal, write=True)
    new_id = _check_new_id(new_id)
    source = _found(repo.get(source_id))
    return _create(repo, copy_for_next_year(source.definition, new_id, years), principal.actor, now)


def create(repo: CompetitionRepository, principal: Principal, copy_from: Any, name: Any, year: Any,
           now: datetime) -> CompetitionRecord:
    """新建届次 (`copy_from` None) or 复制上一届 (`copy_from` a competition's id) as the contract's POST wants: the
    server picks the id (the source's id with its year replaced, shenzhen-2023 → shenzhen-2024; else
    `c<year>-<n>`; -2, -3, … when taken). A copy takes the source's whole configuration `year − its year` later
    (competition_edit.copy_for_next_year) under the given name; never its cases, judges or scores. Errors by field
    (copy_from, name, year)."""
    _require_organiser(principal, write=True)
    errors: dict[str, str] = {}
    source: CompetitionRecord | None = None
    if copy_from is not None:
        if not isinstance(copy_from, str) or not copy_from:
            errors["copy_from"] = "请选择要复制的竞赛届次"
        else:
            source = repo.get(copy_from)
            if source is None:
                errors["copy_from"] = "没有找到要复制的竞赛届次"
    name_error = _name_error(name)
    if name_error:
        errors["name"] = name_error
    if not (isinstance(year, int) and not isinstance(year, bool) and YEARS[0] <= year <= YEARS[1]):
        errors["year"] = f"年份应为 {YEARS[0]}～{YEARS[1]} 之间的整数"
    elif source is not None:
        source_year = first_year(source.definition)
        if source_year is not None and year <= source_year:
            errors["year"] = f"复制上一届时，年份应晚于被复制的届次（{source_year} 年）"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    assert isinstance(name, str) and isinstance(year, int)
    if source is None:
        return _create_unique(repo, lambda new_id: blank_competition(new_id, name, year),
                              _candidates(f"c{year}", year, blank=True), principal.actor, now)
    source_year = first_year(source.definition) or year - 1

    def copied(new_id: str) -> dict[str, Any]:
        definition = copy_for_next_year(source.definition, new_id, year - source_year)
        definition["name"] = name
        return definition

    base = YEAR.sub(lambda m: str(year) if int(m[1]) == source_year else m[0], source.id)
    if base == source.id:
        base = f"{source.id}-{year}"
    return _create_unique(repo, copied, _candidates(base, year), principal.actor, now)


CREATE_TRIES = 50


def _candidates(base: str, year: int, blank: bool = False) -> list[str]:
    """The ids to try in order: the base (c<year>-1 for a blank one), then -2, -3, …"""
    base = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")[:34] or f"c{year}"
    if blank:
        return [f"{base}-{n}" for n in range(1, CREATE_TRIES + 1)]
    return [base] + [f"{base}-{n}" for n in range(2, CREATE_TRIES + 1)]


def _create_unique(repo: CompetitionRepository, build: Any, candidates: Sequence[str], actor: str,
                   now: datetime) -> CompetitionRecord:
    for new_id in candidates:
        if repo.get(new_id) is not None:
            continue
        try:
            return _create(repo, build(new_id), actor, now)
        except Duplicate:       # taken since the read: the next one
            continue
    raise Conflict("无法生成新的竞赛编号，请稍后重试")


def _name_error(name: Any) -> str | None:
    if not (isinstance(name, str) and name.strip()):
        return "请填写竞赛名称"
    if single_line(name) != name or len(name) > 200:
        return "竞赛名称不能超过 200 个字，首尾不能有空白，也不能含有不可见字符"
    return None


def _create(repo: CompetitionRepository, definition: Mapping[str, Any], actor: str, now: datetime
            ) -> CompetitionRecord:
    record = new_record(definition, actor, epoch(now))
    repo.create(record, actor, epoch(now))
    return record


# -- edits and state moves ---------------------------------------------------------------------------

def progress(record: CompetitionRecord, stage_rows: Iterable[Any], now: datetime,
             scoring_started: Iterable[str] = ()) -> Progress:
    """Where the competition stands: its state, and the stages opened and closed by their windows at `now` (the
    competition's stage rows, where it has them, else the definition's own windows)."""
    return Progress.from_windows(record.state, windows(record.definition, stage_rows).values(), now,
                                 scoring_started=[s for s in STAGE_ORDER if s in set(scoring_started)])


def windows(definition: Mapping[str, Any], stage_rows: Iterable[Any]) -> dict[str, StageWindow]:
    """The stage windows: each stage row (attributes stage_id, opens_at, closes_at in epoch seconds, closed,
    closed_at) over the definition's window of its stage; a window the definition does not yet give in full is
    left out (a 草稿's)."""
    found: dict[str, StageWindow] = {}
    for stage in definition.get("stages") or []:
        if not isinstance(stage, Mapping) or stage.get("id") not in STAGE_ORDER:
            continue
        try:
            found[stage["id"]] = StageWindow(stage["id"], STAGE_NAMES[stage["id"]], parse_time(stage["opens_at"]),
                                             parse_time(stage["closes_at"]))
        except (KeyError, TypeError, ValueError):
            continue
    for row in stage_rows:
        if row.stage_id not in STAGE_ORDER:
            continue
        found[row.stage_id] = StageWindow(row.stage_id, STAGE_NAMES[row.stage_id], _dt(row.opens_at),
                                          _dt(row.closes_at), bool(row.closed),
                                          _dt(row.closed_at) if getattr(row, "closed_at", None) else None,
                                          bool(getattr(row, "settled", False)))
    return {s: found[s] for s in STAGE_ORDER if s in found}


def _dt(epoch: Any) -> datetime:
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc)


def edit(repo: CompetitionRepository, principal: Principal, competition_id: str, changes: Any, version: Any,
         stage_rows: Sequence[Any], now: datetime, scoring_started: Iterable[str] = (),
         moves: StageRepository | None = None) -> CompetitionRecord:
    """Apply `changes` (paths or keys → values, competition_edit.edit) to the competition as read at `version`,
    under the locks its progress sets (`stage_rows`: the competition's stage rows; `scoring_started`: the stages
    in which a judge has scored). The windows edited are the rows' (`as_run`); a changed window of a stage that
    has a row moves the row first (`moves`: the stage repository, needed once there are rows), as the 阶段 page
    would, then the definition is saved. The audit row names the changed paths. A change of `state` is a start
    or a finish."""
    _require_organiser(principal, write=True)
    return _apply(repo, principal, _found(repo.get(competition_id)), changes, version, stage_rows, now,
                  scoring_started, moves)


def _apply(repo: CompetitionRepository, principal: Principal, record: CompetitionRecord, changes: Any,
           version: Any, stage_rows: Sequence[Any], now: datetime, scoring_started: Iterable[str] = (),
           moves: StageRepository | None = None) -> CompetitionRecord:
    if not isinstance(version, int) or isinstance(version, bool):
        raise Invalid("请提供竞赛设置的版本号（version）", {"version": "应为整数"})
    if record.version != version:
        raise VersionConflict(STALE)
    if not isinstance(changes, Mapping):
        raise Invalid("修改内容应为一个对象", {"changes": "应为 JSON 对象"})
    before = as_run(record, stage_rows).definition
    state = progress(record, stage_rows, now, scoring_started)
    after, errors = edit_definition(before, changes, state)
    if errors:
        raise _refusal(errors)
    if (after.get("feeds") or None) != (before.get("feeds") or None):
        _check_feeds(repo, record.id, after.get("feeds"))
    changed = changed_paths(before, after)
    if not changed:
        return record
    _move_rows(moves, record.id, stage_rows, before, after, principal.actor, now)
    saved = _unedited_windows_as_defined(record.definition, before, after)
    return repo.save(record, saved, changed, _action(record.state, after), principal.actor, epoch(now))


def _unedited_windows_as_defined(definition: Mapping[str, Any], before: Mapping[str, Any],
                                 after: dict[str, Any]) -> dict[str, Any]:
    """`after` with each window time the edit left as the rows have it back as the definition has it: the edit
    is checked on the rows' windows (`as_run`), but only what it changed is written (a window moved on the 阶段
    page, or a local stack's demo windows, stay the rows' own)."""
    defined = {s.get("id"): s for s in definition.get("stages") or [] if isinstance(s, Mapping)}
    shown = {s.get("id"): s for s in before.get("stages") or [] if isinstance(s, Mapping)}
    for stage in after.get("stages") or []:
        if not isinstance(stage, dict) or stage.get("id") not in defined or stage.get("id") not in shown:
            continue
        for key in ("opens_at", "closes_at"):
            if key in defined[stage["id"]] and stage.get(key) == shown[stage["id"]].get(key):
                stage[key] = defined[stage["id"]][key]
    return after


def _move_rows(moves: StageRepository | None, competition_id: str, stage_rows: Sequence[Any],
               before: Mapping[str, Any], after: Mapping[str, Any], actor: str, now: datetime) -> None:
    """Move the row of each stage whose window the edit changed (audited as the 阶段 page's move is). The edit
    has passed the window rules on the whole definition (order, no overlap, locks), so the rows move one by one
    without the page's overlap check, which a shift of every window would trip on the way."""
    old, new = windows(before, ()), windows(after, ())
    for row in stage_rows:
        was, now_is = old.get(row.stage_id), new.get(row.stage_id)
        if was is None or now_is is None or (was.opens_at, was.closes_at) == (now_is.opens_at, now_is.closes_at):
            continue
        if moves is None:
            raise TypeError("a window of a stage that has a row is edited without the stage repository")
        moves.move_window(competition_id, row.stage_id, now_is.opens_at.timestamp(), now_is.closes_at.timestamp(),
                          actor, epoch(now), before={"opens_at": format_time(was.opens_at),
                                                     "closes_at": format_time(was.closes_at)})


def _check_feeds(repo: CompetitionRepository, competition_id: str, target: Any) -> None:
    """省赛推荐去向 names a competition of the deployment (validate checked its form and that it is not this one),
    and following what each competition feeds never comes back here (competition_edit.feed_cycle)."""
    if not target:
        return
    feeds_of = {r.id: r.definition.get("feeds") for r in repo.list_all() if r.id != competition_id}
    error = None
    if target not in feeds_of:
        error = FieldError("feeds", "invalid_field", "省赛推荐去向应为本平台上已有的另一个竞赛届次")
    else:
        error = feed_cycle(competition_id, target, feeds_of)
    if error is not None:
        raise Invalid(error.message, as_fields([error]))


def feed_choices(repo: CompetitionRepository, competition_id: str) -> list[tuple[str, str]]:
    """The competitions this one may send its 省赛推荐 to, as the builder's select shows them: (id, name)."""
    return [(r.id, f"{r.name}（{r.state.chinese_name}）") for r in repo.list_all() if r.id != competition_id]


def start(repo: CompetitionRepository, principal: Principal, competition_id: str, version: Any,
          stage_rows: Sequence[Any], now: datetime) -> CompetitionRecord:
    """草稿 → 进行中, only when the definition is valid and its theme, hosts and contacts are filled in."""
    return _move(repo, principal, competition_id, version, stage_rows, now, CompetitionState.RUNNING)


def finish(repo: CompetitionRepository, principal: Principal, competition_id: str, version: Any,
           stage_rows: Sequence[Any], now: datetime) -> CompetitionRecord:
    """进行中 → 已结束 (read-only from then on), only after the last stage (省赛准备) has closed."""
    return _move(repo, principal, competition_id, version, stage_rows, now, CompetitionState.FINISHED)


def _move(repo: CompetitionRepository, principal: Principal, competition_id: str, version: Any,
          stage_rows: Sequence[Any], now: datetime, target: CompetitionState) -> CompetitionRecord:
    _require_organiser(principal, write=True)
    record = _found(repo.get(competition_id))
    if record.state == target:
        raise Conflict(f"竞赛已是“{target.chinese_name}”", {"state": f"竞赛已是“{target.chinese_name}”"})
    return _apply(repo, principal, record, {"state": target.value}, version, stage_rows, now)


def activate(repo: CompetitionRepository, principal: Principal, competition_id: str, now: datetime
             ) -> CompetitionRecord:
    """设为当前届次: the competition becomes the current one (organisers with write rights; only 进行中)."""
    _require_organiser(principal, write=True)
    record = _found(repo.get(competition_id))
    if record.state == CompetitionState.DRAFT:
        raise Conflict(START_FIRST, {"state": START_FIRST})
    if record.state != CompetitionState.RUNNING:
        message = f"“{record.state.chinese_name}”的竞赛届次是只读的，不能再设为当前届次"
        raise Conflict(message, {"state": message})
    if repo.current_id() != record.id:
        repo.make_current(record.id, principal.actor, epoch(now))
    return record


def activate_with_stages(repo: CompetitionRepository, stage_repo: StageRepository, principal: Principal,
                         competition_id: str, now: datetime) -> CompetitionRecord:
    """`activate`, then the competition's stage rows where it has none yet, from its definition's windows (a
    copied 复制上一届 has none: without them no window of it would ever be open); rows that exist stay as they are."""
    record = activate(repo, principal, competition_id, now)
    comp = competition_from_config(record.definition)
    stages.seed(stage_repo, comp, comp.default_windows)
    return record


def current_id(repo: CompetitionRepository) -> str | None:
    """The current competition's id (None: none made current yet)."""
    return repo.current_id()


def _action(before: CompetitionState, after: Mapping[str, Any]) -> str:
    state = after.get("state")
    if state != before.value and state == CompetitionState.RUNNING.value:
        return "competition.start"
    if state != before.value and state == CompetitionState.FINISHED.value:
        return "competition.finish"
    return "competition.edit"


def _refusal(errors: Sequence[FieldError]) -> Exception:
    """The domain error of a refused edit: a field to fix (Invalid) before a lock (StageClosed) or the state's
    refusal (Conflict); every error by its field."""
    fields = as_fields(errors)
    message = errors[0].message if len(errors) == 1 else f"有 {len(errors)} 处需要修改：{errors[0].message}"
    codes = {e.code for e in errors}
    if codes - LOCKED_CODES - STATE_CODES:
        return Invalid(message, fields)
    if codes & STATE_CODES:
        return Conflict(message, fields)
    return StageClosed(message, fields)


# -- the deployment's competition ------------------------------------------------------------------

def seed(repo: CompetitionRepository, competition_id: str, now: datetime) -> bool:
    """Put the packaged JSON competition `competition_id` into the table as 进行中 when it is not there yet;
    True when it was put (idempotent: a competition already there, edited or not, stays as it is)."""
    if repo.get(competition_id) is not None:
        return False
    definition = copy.deepcopy(configs.load(competition_id))
    definition["state"] = CompetitionState.RUNNING.value
    record = new_record(definition, SEED_ACTOR, epoch(now))
    try:
        repo.create(record, SEED_ACTOR, epoch(now))
    except Duplicate:
        return False
    return True


# -- the console's builder form ------------------------------------------------------------------------
# The page (web/competition_pages.py) shows each editable field of a definition under its path (the path is the
# form field's name, so an error by field lands beside it); a field that the competition's progress locks is
# shown read-only with the reason. `form_changes` reads a posted form back into `edit`'s changes (only what
# differs from the stored definition, so an unchanged locked part never refuses a save).

CRITERIA_LOCK = "已开始评分，不能再改评分标准"
RANK_LEVEL_OPTIONS = tuple(RANK_LEVEL_NAMES.items())
REMOVE, NEW, NEW_INT = "remove", "new", "new_int"     # the builder's 删除 boxes and 新增 rows
LIST_KINDS = (REMOVE, NEW, NEW_INT)


def builder_form(record: CompetitionRecord, state: Progress,
                 feed_options: Sequence[tuple[str, str]] = ()) -> list[dict[str, Any]]:
    """The builder's sections, each {key, title, note, groups: [{title, key, layout, fields}]}; a field is {path,
    label, kind (text|int|datetime|date|lines|contacts|checks|select; remove: a 删除 box, new|new_int: a 新增 row),
    value (as the form shows it), options, locked (why, or None), wide (across the row)}. A group's layout
    "criteria" sets each criterion's fields in one row. `feed_options`: the competitions 省赛推荐去向 may name
    (`feed_choices`)."""
    d = record.definition

    def field(path: str, label: str, kind: str = "text", options: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        return {"path": path, "label": label, "kind": kind, "value": _form_value(value_at(d, path), kind),
                "options": list(options), "locked": lock_of(d, path, state)}

    def section(key: str, title: str, groups: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
        fields = [f for g in groups for f in g["fields"]]
        locked = [f["locked"] for f in fields if f["locked"]]
        why = locked[0] if fields and len(locked) == len(fields) else None
        if why and key == "categories" and state.state != CompetitionState.FINISHED:
            why = f"{CRITERIA_LOCK}（{why}）"
        return {"key": key, "title": title, "note": note, "groups": groups, "locked": why}

    def group(title: str, fields: list[dict[str, Any]], key: str = "", layout: str = "") -> dict[str, Any]:
        return {"title": title, "key": key, "fields": fields, "layout": layout}

    def wide(f: dict[str, Any]) -> dict[str, Any]:
        return {**f, "wide": True}

    sections = [section("basics", "基本信息", [group("", [
        field("name", "竞赛名称"), field("short_name", "简称"), field("theme", "大赛主题"),
        field("hosts", "主办单位（每行一个）", "lines"), field("contacts", "联系人（每行：姓名 电话）", "contacts")])])]
    categories = []
    listed = d.get("categories") or []
    for i, category in enumerate(listed):
        name = str(category.get("name") or f"类别 {i + 1}")
        fields = [wide(field(f"categories[{i}].name", "类别名称"))]
        criteria = category.get("criteria") or []
        for j, criterion in enumerate(criteria):
            fields += [field(f"categories[{i}].criteria[{j}].name", f"评分细则 {j + 1}"),
                       field(f"categories[{i}].criteria[{j}].max", f"“{criterion.get('name', '')}”满分", "int"),
                       field(f"categories[{i}].criteria[{j}]", f"删除评分细则“{criterion.get('name', '')}”", REMOVE)]
        fields += [field(f"categories[{i}].criteria[{len(criteria)}].name", "新增评分细则（名称）", NEW),
                   field(f"categories[{i}].criteria[{len(criteria)}].max", "新增评分细则的满分", NEW_INT)]
        if len(listed) > 1:
            fields.append(wide(field(f"categories[{i}]", f"删除类别“{name}”", REMOVE)))
        categories.append(group(name, _unlocked_list_fields(fields), f"categories[{i}]", "criteria"))
    adding = _unlocked_list_fields([field(f"categories[{len(listed)}].name", "新类别的名称", NEW)])
    if adding:
        categories.append(group("新增类别", adding, f"categories[{len(listed)}]"))
    sections.append(section("categories", "类别与评分细则", categories,
                            "每个类别的满分是其各项评分细则的满分之和（2023 年各类别均为 100 分），评委按各项满分打分。"
                            "新增的类别先沿用第一个类别的评分细则，可在保存后修改。"))
    stage_groups = []
    for stage in d.get("stages") or []:
        sid = stage.get("id")
        name = STAGE_NAMES.get(sid, str(sid))
        stage_groups.append(group(name, [field(f"stages.{sid}.opens_at", f"{name}开始时间", "datetime"),
                                         field(f"stages.{sid}.closes_at", f"{name}截止时间", "datetime")],
                                  f"stages.{sid}"))
    sections.append(section("stages", "阶段时间", stage_groups, "时间均为北京时间；相邻阶段的时间不能重叠。"))
    sections.append(section("quotas", "晋级名额", [group("", [
        field("quotas.advance_per_category", "每个类别进入综合评选的案例数", "int")], "quotas")]))
    prizes = [group(str(p.get("name") or f"奖项 {i + 1}"), [
        field(f"prizes[{i}].name", "奖项名称"), field(f"prizes[{i}].ranks[0]", "从第几名", "int"),
        field(f"prizes[{i}].ranks[1]", "到第几名", "int")], f"prizes[{i}]")
        for i, p in enumerate(d.get("prizes") or [])]
    sections.append(section("prizes", "奖项", prizes, "名次按综合评选的排名，各奖项不能重叠，也不能超过晋级名额。"))
    honors = d.get("honors") or {}
    rules = [group("", [field("honors.reference_date", "年龄计算基准日", "date")], "honors")]
    for k, rule in enumerate(honors.get("rules") or []):
        fields = [field(f"honors.rules[{k}].max_rank", "名次上限（前几名）", "int")]
        if "max_age" in rule:
            fields.append(field(f"honors.rules[{k}].max_age", "年龄上限（周岁）", "int"))
        fields.append(field(f"honors.rules[{k}].rank_levels", "职级", "checks", RANK_LEVEL_OPTIONS))
        rules.append(group(str(rule.get("name") or f"荣誉 {k + 1}"), fields, f"honors.rules[{k}]"))
    sections.append(section("honors", "荣誉规则", rules, "不勾选职级表示不限职级。"))
    sections.append(section("limits", "填报限制", [group("", [
        field("limits.max_chars", "正文字数上限", "int"), field("limits.max_points", "创新点、成果的条数上限", "int")],
        "limits")]))
    sizes = (d.get("presentation") or {}).get("max_mb") or {}
    sections.append(section("presentation", "附件规则", [group("展示材料的文件大小上限（MB）", [
        field(f"presentation.max_mb.{kind}", f"{kind.upper()} 文件", "int") for kind in sizes],
        "presentation")]))
    sections.append(section("feeds", "省赛推荐去向", [group("", [
        field("feeds", "本届省赛推荐案例发送到", "select", [("", "（不发送）"), *feed_options])])],
        "综合评选结束后，推荐参加省赛的案例可在“省赛推荐”页发送到所选竞赛届次，作为推荐单位的参赛案例。"))
    return sections


def _unlocked_list_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields but the 删除 boxes and 新增 rows of a list that is locked (nothing to show read-only)."""
    return [f for f in fields if not (f["kind"] in LIST_KINDS and f["locked"])]


def form_paths(sections: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each field's path → its kind, of the fields that may be changed now (the locked ones are not posted)."""
    return {f["path"]: f["kind"] for s in sections for g in s["groups"] for f in g["fields"] if not f["locked"]}


def form_changes(record: CompetitionRecord, kinds: Mapping[str, str], form: Mapping[str, list[str]]
                 ) -> dict[str, Any]:
    """The posted form as `edit`'s changes: each field whose value differs from the stored one, converted to the
    definition's kind (a number that is not one stays text, so the edit names the field). A category or criterion
    ticked 删除 or filled in on a 新增 row changes the whole list it is in (`_list_changes`)."""
    d = record.definition
    changes: dict[str, Any] = {}
    for path, kind in kinds.items():
        if kind in LIST_KINDS:
            continue
        if path not in form:          # a set of checkboxes posts its hidden empty value too
            continue
        values = form.get(path) or [""]
        current = value_at(d, path)
        new = _from_form(values, kind)
        if kind == "datetime" and isinstance(new, str) and isinstance(current, str):
            try:
                if parse_time(new) == parse_time(current):
                    continue
            except ValueError:
                pass
        if kind == "checks" and current is None and new == []:
            continue
        if new != current:
            changes[path] = new
    return _list_changes(d, kinds, form, changes)


def _list_changes(d: Mapping[str, Any], kinds: Mapping[str, str], form: Mapping[str, list[str]],
                  changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with the form's 删除 and 新增 applied: a list that loses or gains an item is given whole (with
    its items' other changes merged in), so that the paths of the other fields stay the stored ones."""
    def ticked(path: str) -> bool:
        return kinds.get(path) == REMOVE and bool("".join(form.get(path) or []).strip())

    def typed(path: str) -> str:
        return "".join(form.get(path) or []).strip() if kinds.get(path) in (NEW, NEW_INT) else ""

    listed = d.get("categories") or []
    lists: dict[str, list[Any]] = {}
    for i, category in enumerate(listed):
        criteria = category.get("criteria") or []
        here, new_at = f"categories[{i}].criteria", f"categories[{i}].criteria[{len(criteria)}]"
        removed = {j for j in range(len(criteria)) if ticked(f"{here}[{j}]")}
        name, top = typed(f"{new_at}.name"), typed(f"{new_at}.max")
        if removed or name or top:
            kept = [c for j, c in enumerate(_edited(d, changes, here)) if j not in removed]
            if name or top:
                kept.append({"id": _new_id("criterion", [c.get("id") for c in criteria]), "name": name,
                             "max": _from_form([top], "int")})
            lists[here] = kept
    removed = {i for i in range(len(listed)) if ticked(f"categories[{i}]")}
    name = typed(f"categories[{len(listed)}].name")
    if removed or name:
        kept = [c for i, c in enumerate(_edited(d, {**changes, **lists}, "categories")) if i not in removed]
        if name:
            kept.append({"id": _new_id("category", [c.get("id") for c in listed]), "name": name,
                         "criteria": copy.deepcopy((listed[0] if listed else {}).get("criteria") or [])})
        lists = {"categories": kept}
    if not lists:
        return changes
    return {**{k: v for k, v in changes.items() if not any(_within(k, at) for at in lists)}, **lists}


def _edited(d: Mapping[str, Any], changes: Mapping[str, Any], at: str) -> list[Any]:
    """The list at `at` with the changes inside it applied."""
    merged, _ = merge(d, {k: v for k, v in changes.items() if _within(k, at) and k != at})
    return list(value_at(merged, at) or [])


def _within(path: str, at: str) -> bool:
    return path == at or path.startswith((f"{at}.", f"{at}["))


def _new_id(prefix: str, taken: Sequence[Any]) -> str:
    n = len(taken) + 1
    while f"{prefix}_{n}" in taken:
        n += 1
    return f"{prefix}_{n}"


def _form_value(value: Any, kind: str) -> Any:
    if kind in LIST_KINDS:
        return ""                     # a 删除 box starts unticked, a 新增 row empty
    if kind == "lines":
        return "\n".join(str(v) for v in value or [])
    if kind == "contacts":
        return "\n".join(" ".join(str(c.get(k) or "") for k in ("name", "phone")).strip()
                         for c in value or [] if isinstance(c, Mapping))
    if kind == "datetime" and isinstance(value, str):
        try:
            return parse_time(value).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return value
    if kind == "checks":
        return list(value or [])
    return "" if value is None else str(value)      # a select's none is its empty choice


def _from_form(values: Sequence[str], kind: str) -> Any:
    text = values[0].replace("\r\n", "\n")
    if kind == "int":
        text = text.strip()
        return int(text) if text.isdigit() and len(text) < 10 else text
    if kind == "lines":
        return [line.strip() for line in text.split("\n") if line.strip()]
    if kind == "contacts":
        contacts = []
        for line in text.split("\n"):
            name, _, phone = line.strip().partition(" ")
            if name:
                contacts.append({"name": name, "phone": phone.strip()})
        return contacts
    if kind == "datetime":
        text = text.strip()
        try:
            return format_time(parse_time(text))      # the form's time is Beijing time
        except ValueError:
            return text
    if kind == "checks":
        return [v for v in values if v]
    if kind == "select":
        return text.strip() or None
    return text.strip() if kind == "date" else text
