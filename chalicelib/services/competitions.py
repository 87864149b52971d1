"""Competitions (竞赛届次) stored as data, for the console's builder: list, read, 新建届次, 复制上一届, edit, start
(草稿 → 进行中) and finish (→ 已结束). Organisers only; a 只读成员 may read, not change.

The rules are domain/competition_edit.py's: this module reads the competition, computes its `Progress` from the
stage rows the handler passes in (the stages' windows and closes: a row overrides the definition's own window, as
services/stages.windows_from_rows does) and saves on the version as read. A refused edit raises Invalid (a field
to fix), StageClosed (a part whose stage has begun or closed: locked), or Conflict (已结束 is read-only; a state
move not allowed yet), each with the errors by field (`as_fields`).

`seed` puts the deployment's JSON competition (chalicelib/competitions/<id>.json) into the table as 进行中 when
it is not there yet (the local stack's seeding; idempotent).
"""
from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from ..domain.clock import epoch
from .. import competitions as configs
from ..domain.competition import STAGE_NAMES, STAGE_ORDER, StageWindow, parse_time
from ..domain.competition_edit import (
    CompetitionState, FieldError, Progress, as_fields, blank_competition, changed_paths, copy_for_next_year, edit as
    edit_definition,
)
from ..domain.competition_record import CompetitionRecord, new_record
from ..domain.errors import Conflict, Duplicate, Forbidden, Invalid, NotFound, StageClosed, VersionConflict
from ..domain.text import single_line
from .accounts import Principal
from .repositories import CompetitionRepository

NEW_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")
NEW_ID_MESSAGE = "竞赛编号应为 3～40 个字符，只用小写英文字母、数字和连字符“-”，以字母或数字开头（如 shenzhen-2024）"
YEARS = (2000, 2100)
SEED_ACTOR = "system:seed"
STALE = "竞赛设置已在别处被修改（版本已变化），请刷新后再修改"
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


# -- 新建届次 and 复制上一届 -------------------------------------------------------------------------

def create_blank(repo: CompetitionRepository, principal: Principal, new_id: Any, name: Any, year: Any,
                 now: datetime) -> CompetitionRecord:
    """新建届次: a minimal definition (competition_edit.blank_competition) as a 草稿."""
    _require_organiser(principal, write=True)
    errors: dict[str, str] = {}
    if not (isinstance(new_id, str) and NEW_ID.match(new_id)):
        errors["id"] = NEW_ID_MESSAGE
    if not (isinstance(name, str) and name.strip()):
        errors["name"] = "请填写竞赛名称"
    elif single_line(name) != name or len(name) > 200:
        errors["name"] = "竞赛名称不能超过 200 个字，首尾不能有空白，也不能含有不可见字符"
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


def _create(repo: CompetitionRepository, definition: Mapping[str, Any], actor: str, now: datetime
            ) -> CompetitionRecord:
    record = new_record(definition, actor, epoch(now))
    repo.create(record, actor, epoch(now))
    return record


# -- edits and state moves ---------------------------------------------------------------------------

def progress(record: CompetitionRecord, stage_rows: Iterable[Any], now: datetime,
             scoring_started: Iterable[str] = (), entries: Mapping[str, int] | None = None) -> Progress:
    """Where the competition stands: its state, and the stages opened and closed by their windows at `now` (the
    competition's stage rows, where it has them, else the definition's own windows)."""
    return Progress.from_windows(record.state, windows(record.definition, stage_rows).values(), now,
                                 scoring_started=[s for s in STAGE_ORDER if s in set(scoring_started)],
                                 entries=entries)


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
         entries: Mapping[str, int] | None = None) -> CompetitionRecord:
    """Apply `changes` (paths or keys → values, competition_edit.edit) to the competition as read at `version`,
    under the locks its progress sets (`stage_rows`: the competition's stage rows; `scoring_started`: the stages
    in which a judge has scored; `entries`: the cases per category once submission closed). The audit row names
    the changed paths. A change of `state` is a start or a finish."""
    _require_organiser(principal, write=True)
    return _apply(repo, principal, _found(repo.get(competition_id)), changes, version, stage_rows, now,
                  scoring_started, entries)


def _apply(repo: CompetitionRepository, principal: Principal, record: CompetitionRecord, changes: Any,
           version: Any, stage_rows: Sequence[Any], now: datetime, scoring_started: Iterable[str] = (),
           entries: Mapping[str, int] | None = None) -> CompetitionRecord:
    if not isinstance(version, int) or isinstance(version, bool):
        raise Invalid("请提供竞赛设置的版本号（version）", {"version": "应为整数"})
    if record.version != version:
        raise VersionConflict(STALE)
    if not isinstance(changes, Mapping):
        raise Invalid("修改内容应为一个对象", {"changes": "应为 JSON 对象"})
    before = record.definition
    state = progress(record, stage_rows, now, scoring_started, entries)
    after, errors = edit_definition(before, changes, state)
    if errors:
        raise _refusal(errors)
    changed = changed_paths(before, after)
    if not changed:
        return record
    return repo.save(record, after, changed, _action(record.state, after), principal.actor, epoch(now))


def start(repo: CompetitionRepository, principal: Principal, competition_id: str, version: Any,
          stage_rows: Sequence[Any], now: datetime) -> CompetitionRecord:
    """草稿 → 进行中, only when the definition is valid and its theme, hosts and contacts are filled in."""
    return _move(repo, principal, competition_id, version, stage_rows, now, CompetitionState.RUNNING)


def finish(repo: CompetitionRepository, principal: Principal, competition_id: str, version: Any,
           stage_rows: Sequence[Any], now: datetime) -> CompetitionRecord:
    """进行中 → 已结束 (read-only from then on), only after the last stage (省赛准备) has closed."""
    return _move(repo, principal, competition_id, version, stage_rows, now, CompetitionState.ENDED)


def _move(repo: CompetitionRepository, principal: Principal, competition_id: str, version: Any,
          stage_rows: Sequence[Any], now: datetime, target: CompetitionState) -> CompetitionRecord:
    _require_organiser(principal, write=True)
    record = _found(repo.get(competition_id))
    if record.state == target:
        raise Conflict(f"竞赛已是“{target.chinese_name}”", {"state": f"竞赛已是“{target.chinese_name}”"})
    return _apply(repo, principal, record, {"state": target.value}, version, stage_rows, now)


def _action(before: CompetitionState, after: Mapping[str, Any]) -> str:
    state = after.get("state")
    if state != before.value and state == CompetitionState.RUNNING.value:
        return "competition.start"
    if state != before.value and state == CompetitionState.ENDED.value:
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
