"""The rules of editing a competition (竞赛届次) in the console's builder: 新建, 复制上一届, validation, edits.

Pure: a competition is its definition (the dict `competition_from_config` reads, the keys of
chalicelib/competitions/<id>.json); time comes in as an argument (`Progress.now`).

A definition's **state** is its `state` key (`CompetitionState`): 草稿 (`draft`, only organisers see it) →
进行中 (`running`) → 已结束 (`finished`, read-only; exports still work). A definition without `state` (the 2023
one, written before there were states) is 进行中 (`state_of`). `edit` takes the state from `Progress.state`, as the
services hold it beside the stages' progress.

**Field errors** (`FieldError`) name the field by a path in the JSON's own keys: `categories[0].criteria[2].max`
(a list by its index), except the stages, which are named by their id: `stages.text_review.closes_at`. Each has
a stable snake_case code and a Chinese message saying what to fix; `validate` collects every error, not the
first only.

`validate` checks that a definition is coherent:

* required: `id`, `name`, `theme` (may be empty in a draft), `hosts` (a list), `categories`, `stages`,
  `limits`, `quotas`, `honors`; a text has no hidden characters or surrounding blanks;
* categories: at least one, unique ids and names; each has criteria (评分细则) with unique ids and names, whose
  maxima (满分) are positive integers; the category's full score is their sum, and where a category fixes a
  `total` (满分合计) the maxima must add up to it;
  `ranking.tie_break_criterion` is a criterion of every category;
* stages: the notice's five (文本申报, 文本评审, 专家辅导, 综合评选, 省赛准备) in that order, each window opening
  before it closes and after the one before has closed (`check_windows_do_not_overlap`);
* the advance quota (晋级名额, `quotas.advance_per_category` and a `ranking.text_review.advance_quota`) is a
  positive integer (a category with fewer cases sends them all on);
* prize bands (奖项): ranks `[first, last]` with 1 <= first <= last, in order, not overlapping (a band beyond the
  finalists is only reached when a tie at the cut carries more cases through, as an honor's rank limit is);
* honors (荣誉): a `reference_date` (年龄计算基准日) from one year before submission opens until the final
  closes, age limits 14–70, positive rank limits, known genders and rank levels, unique ids, a
  `priority` naming each rule at most once;
* form limits (`limits.max_chars`, `limits.max_points`), the presentation's file kinds and sizes
  (`presentation.max_mb`) and the live final's minutes are positive integers;
* `feeds` (省赛推荐去向: the id of the competition on the deployment where its 省赛准备 recommendations go, a
  feeder competition's province), when given, is a competition id other than its own. That the competition
  exists is the service's check (it reads the table); `feed_cycle` says whether the chain of `feeds` would come
  back to the competition (A feeds B feeds A), given what the others feed.

`edit(definition, changes, progress)` merges `changes` (a partial dict: each key a path as above, or a plain
key; a dict value merges into the dict or the list found there, by index or by id; any other value replaces)
and refuses, by field, what the competition's `Progress` locks. The rules:

1. 已结束 is read-only: every change is refused (`read_only`).
2. The `id` never changes (`immutable_field`): stored rows are keyed by it.
3. In 草稿 nothing has begun (no one sees it, no one can submit): everything else may change.
4. In 进行中 (`locked_field` when refused):
   * the name, short name, theme, notice number and text, hosts, contacts and the stages' names stay editable
     until 已结束;
   * the categories (adding, removing, their ids and names), the form limits (`limits`) and `unit_systems`
     lock when 文本申报 opens;
   * criteria and their maxima (each category's `criteria` and `total`) and `ranking.tie_break_criterion` lock
     when the first scoring stage opens (the first stage with a `ranking` block: 文本评审) or scoring has
     started in any stage; a stage's own `ranking` block locks when that stage opens;
   * a stage's window moves only while it has not opened; while it is open its closing time may still change,
     never into the past (not before `Progress.now`) nor before its opening; once closed it is fixed;
   * the advance quota (`quotas`, `ranking.text_review.advance_quota`) locks when 文本评审 (which it cuts)
     closes; the prize bands (`prizes`) when 综合评选 closes;
   * honors rules (`honors`) and `organisation_award` lock when the results are computed (综合评选 closed);
   * the presentation's file rules (`presentation`) lock when their uploads open (文本评审 closes); the live
     final (`final_live`) when 综合评选 opens; `originality` when 文本申报 closes;
   * `feeds` (where the recommendations go), `local_demo_windows_days` and `_doc` notes stay editable; the time
    zone and any other key lock at the start.
5. State moves, by `changes["state"]`: 草稿 → 进行中 only when `validate` is clean and the theme, hosts and
   contacts are filled in (`start_errors`); 进行中 → 已结束 only after the last stage (省赛准备) closed; no way
   back (`invalid_transition`).
6. The merged definition must validate: an error it has refuses the edit if the definition before it did not
   have it, or if it is on (or within, or holding) a field the edit changed; an error already there elsewhere
   is not blamed on an unrelated change.

The codes are `CODES` (required_field, invalid_field, duplicate_id, duplicate_name, criteria_sum, window_order,
window_overlap, prize_overlap, date_out_of_range, unknown_field,
locked_field, window_in_past, read_only, immutable_field, invalid_transition). Any error refuses the whole edit:
`edit` returns the definition as it was and the errors; else the new
definition (the argument is never modified) and no errors. `changed_paths` names what an edit changed (for
the audit row).
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Iterable, Iterator, Mapping, Sequence, TypeGuard

from .attachments import KINDS as FILE_KINDS
from .competition import (
    CHINA, STAGE_NAMES, STAGE_ORDER, StageId, StageWindow, check_windows_do_not_overlap, format_time, parse_time,
)
from .honors import GENDER_NAMES, RANK_LEVEL_NAMES
from .ranking import Method
from .text import single_line


class CompetitionState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    FINISHED = "finished"

    @property
    def chinese_name(self) -> str:
        return STATE_NAMES[self]


STATE_NAMES = {CompetitionState.DRAFT: "草稿", CompetitionState.RUNNING: "进行中", CompetitionState.FINISHED: "已结束"}
TIMEZONE = "Asia/Shanghai"
AGE_RANGE = (14, 70)
MAX_FILE_MB = 5 * 1024          # S3's largest single upload
COMPETITION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ITEM_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
# What a copy carries over with the year changed where it is written.
YEAR_TEXTS = ("name", "short_name", "theme", "notice_number", "notice_text")
# A stage row's state, not its rule (the organiser's close of a window): never copied.
STAGE_RUNTIME_KEYS = ("closed", "closed_at", "settled")
# A competition's data, never part of a definition to copy (the definition itself holds none of it).
DATA_KEYS = ("cases", "entries", "results", "rankings", "scores", "audit")

FIELD_NAMES = {
    "id": "竞赛编号", "name": "竞赛名称", "short_name": "简称", "theme": "大赛主题", "notice_number": "通知文号",
    "notice_text": "通知正文", "hosts": "主办单位", "contacts": "联系人", "timezone": "时区", "state": "状态",
    "categories": "类别", "criteria": "评分细则", "max": "满分", "total": "满分合计", "stages": "阶段",
    "opens_at": "开始时间", "closes_at": "截止时间", "limits": "填报限制", "max_chars": "字数上限",
    "max_points": "条数上限", "quotas": "晋级名额", "advance_per_category": "晋级名额", "prizes": "奖项",
    "ranks": "名次范围", "honors": "荣誉", "reference_date": "年龄计算基准日", "max_age": "年龄上限",
    "max_rank": "名次上限", "rank_levels": "职级", "genders": "性别", "priority": "授予顺序", "rules": "荣誉规则",
    "ranking": "排名规则", "presentation": "展示材料", "max_mb": "文件大小上限", "final_live": "现场展示",
    "originality": "原创性检查", "unit_systems": "单位系统", "organisation_award": "优秀组织奖",
    "local_demo_windows_days": "本地演示阶段天数", "method": "计分方法",
    "trim_min_scores": "去掉最高最低分的最少评分数",
    "tie_break_criterion": "同分比较的评分细则", "advance_quota": "晋级名额", "feeds": "省赛推荐去向",
}
# The stable codes of a FieldError, and what each means.
CODES = {
    "required_field": "missing or empty",
    "invalid_field": "of the wrong kind, format or range",
    "duplicate_id": "an id used twice where it names one thing",
    "duplicate_name": "a name used twice in one list",
    "criteria_sum": "a category's criteria maxima do not sum to its total",
    "window_order": "a stage window that does not open before it closes",
    "window_overlap": "a stage window that opens before the one before it has closed",
    "prize_overlap": "a prize band not after the band before it",
    "date_out_of_range": "the honors' reference date outside the competition's time",
    "unknown_field": "a change names a path the definition does not have",
    "locked_field": "the competition's progress locks it",
    "window_in_past": "an open stage's closing moved to now or before",
    "read_only": "the competition has ended",
    "immutable_field": "the competition's id",
    "invalid_transition": "a state move the rules do not allow (or not yet)",
}
METHOD_NAMES = {Method.MEAN.value: "平均分", Method.TRIMMED_MEAN.value: "去掉最高最低分后的平均分",
                Method.ZSCORE.value: "标准分"}


@dataclass(frozen=True)
class FieldError:
    """One thing to fix: `field` is the path in the definition, `code` stable, `message` in Chinese."""
    field: str
    code: str
    message: str


def as_fields(errors: Iterable[FieldError]) -> dict[str, str]:
    """The errors as a DomainError's `fields` (path → message; several on one field joined by "；")."""
    fields: dict[str, str] = {}
    for e in errors:
        fields[e.field] = f"{fields[e.field]}；{e.message}" if e.field in fields else e.message
    return fields


@dataclass(frozen=True)
class Progress:
    """Where the competition stands, as the services read it: its state, the stages that have opened and closed
    (a closed stage has opened), the stages in which scoring has started and `now`."""
    state: CompetitionState
    now: datetime
    opened: frozenset[StageId] = frozenset()
    closed: frozenset[StageId] = frozenset()
    scoring_started: frozenset[StageId] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "opened", frozenset(self.opened) | self.closed | self.scoring_started)

    @classmethod
    def from_windows(cls, state: CompetitionState, windows: Iterable[StageWindow], now: datetime,
                     scoring_started: Iterable[StageId] = ()) -> Progress:
        """From the stage windows (their `status(now)`): a window that is not pending has opened."""
        listed = list(windows)
        return cls(state, now,
                   opened=frozenset(StageId(w.id) for w in listed if w.status(now) != "pending"),
                   closed=frozenset(StageId(w.id) for w in listed if w.status(now) == "closed"),
                   scoring_started=frozenset(scoring_started))


def state_of(definition: Mapping[str, Any]) -> CompetitionState:
    """The definition's state; none written is 进行中 (a definition from before there were states)."""
    value = definition.get("state")
    return CompetitionState(value) if _is_state(value) else CompetitionState.RUNNING


def _is_state(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value in tuple(CompetitionState)


def _is_stage(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value in STAGE_ORDER


# --------------------------------------------------------------------------- 复制上一届 and 新建

def copy_for_next_year(definition: Mapping[str, Any], new_id: str, years: int = 1) -> dict[str, Any]:
    """复制上一届: the same rules under `new_id`, `years` later, as a 草稿.

    The name, short name, theme and notice fields keep their words with the competition's year(s) changed where
    written (2023年 → 2024年, 〔2023〕 → 〔2024〕); every stage window and the honors' reference date move by
    whole years, keeping the Beijing wall-clock time. A 29 February that the new year lacks becomes 28 February
    for a closing time and a date, 1 March for an opening time (so no window starts before the one before it
    ends). A stage's close by the organiser, the old competition's data and where its recommendations went
    (`feeds`) are not copied."""
    if years < 1:
        raise ValueError("years must be at least 1")
    result: dict[str, Any] = {k: copy.deepcopy(v) for k, v in definition.items() if k not in DATA_KEYS}
    written = _competition_years(definition)

    def new_year(match: re.Match[str]) -> str:
        year = int(match[1])
        return str(year + years) if year in written else match[0]

    for key in YEAR_TEXTS:
        if isinstance(result.get(key), str):
            result[key] = YEAR.sub(new_year, result[key])
    stages = []
    for stage in result.get("stages") or []:
        moved = {k: v for k, v in stage.items() if k not in STAGE_RUNTIME_KEYS}
        for key, opening in (("opens_at", True), ("closes_at", False)):
            if isinstance(moved.get(key), str):
                moved[key] = format_time(shift_time(parse_time(moved[key]), years, opening=opening))
        stages.append(moved)
    result["stages"] = stages
    honors = result.get("honors")
    if isinstance(honors, dict) and isinstance(honors.get("reference_date"), str):
        honors["reference_date"] = shift_date(date.fromisoformat(honors["reference_date"]), years).isoformat()
    originality = result.get("originality")
    if isinstance(originality, dict) and isinstance(originality.get("year"), int):
        originality["year"] += years
    result.pop("feeds", None)     # last year's province is not next year's: the organiser names it again
    result["id"] = new_id
    result["state"] = CompetitionState.DRAFT.value
    return result


def shift_time(moment: datetime, years: int, opening: bool) -> datetime:
    """`moment` `years` later at the same Beijing wall-clock time (29 Feb: see `copy_for_next_year`)."""
    local = moment.astimezone(CHINA)
    year = local.year + years
    try:
        return local.replace(year=year)
    except ValueError:                       # 29 February, and the new year has none
        return local.replace(year=year, month=3, day=1) if opening else local.replace(year=year, day=28)


def shift_date(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def first_year(definition: Mapping[str, Any]) -> int | None:
    """The competition's year: the Beijing year its first stage window is in (None without a readable window)."""
    years = _competition_years(definition)
    return min(years) if years else None


def _competition_years(definition: Mapping[str, Any]) -> set[int]:
    years = set()
    for stage in definition.get("stages") or []:
        for key in ("opens_at", "closes_at"):
            try:
                years.add(parse_time(stage[key]).astimezone(CHINA).year)
            except (KeyError, TypeError, ValueError):
                pass
    return years


def blank_competition(new_id: str, name: str, year: int) -> dict[str, Any]:
    """新建届次: a minimal valid definition in `year`, as a 草稿: one category whose three criteria sum to 100, the
    notice's five stages in order with the 2023 notice's windows in `year`, its limits, quota and prize bands,
    honors with a reference date (五四, 4 May) and no rules yet. The theme, hosts and contacts are left to fill in
    (starting the competition needs them)."""
    windows = (("05-19", "06-09"), ("06-10", "06-16"), ("06-17", "06-23"), ("06-24", "07-10"), ("07-11", "07-31"))
    stages = [{"id": stage.value, "name": STAGE_NAMES[stage],
               "opens_at": f"{year:04d}-{opens}T00:00:00+08:00", "closes_at": f"{year:04d}-{closes}T23:59:59+08:00"}
              for stage, (opens, closes) in zip(STAGE_ORDER, windows)]
    return {
        "id": new_id, "name": name, "short_name": name, "theme": "", "notice_number": "",
        "hosts": [], "contacts": [], "timezone": TIMEZONE, "state": CompetitionState.DRAFT.value,
        "categories": [{"id": "category_1", "name": "类别一", "criteria": [
            {"id": "innovation", "name": "创新性", "max": 30},
            {"id": "effectiveness", "name": "实效性", "max": 40},
            {"id": "replicability", "name": "推广性", "max": 30},
        ]}],
        "stages": stages,
        "local_demo_windows_days": {StageId.SUBMISSION.value: 30, StageId.TEXT_REVIEW.value: 7,
                                    StageId.COACHING.value: 7, StageId.FINAL.value: 14,
                                    StageId.PROVINCIAL.value: 14},
        "limits": {"max_chars": 3000, "max_points": 3},
        "quotas": {"advance_per_category": 15},
        "ranking": {StageId.TEXT_REVIEW.value: {"method": Method.TRIMMED_MEAN.value, "trim_min_scores": 5},
                    StageId.FINAL.value: {"method": Method.TRIMMED_MEAN.value, "trim_min_scores": 5},
                    "tie_break_criterion": "effectiveness"},
        "presentation": {"max_mb": {"pptx": 100, "ppt": 100, "pdf": 100, "mp4": 500}},
        "final_live": {"presentation_minutes": 8, "warning_seconds": 60, "slot_minutes": 10},
        "prizes": [{"id": "first", "name": "一等奖", "ranks": [1, 5]},
                   {"id": "second", "name": "二等奖", "ranks": [6, 10]},
                   {"id": "third", "name": "三等奖", "ranks": [11, 15]}],
        "honors": {"reference_date": f"{year:04d}-05-04", "priority": [], "rules": []},
    }


# --------------------------------------------------------------------------- validation

def validate(definition: Mapping[str, Any]) -> list[FieldError]:
    """Every field error of `definition` (see the module docstring)."""
    if not isinstance(definition, Mapping):
        return [FieldError("", "invalid_field", "竞赛设置应为一个对象")]
    v = _Validator(definition)
    v.run()
    return v.errors


def start_errors(definition: Mapping[str, Any]) -> list[FieldError]:
    """What a definition needs beyond `validate` before it may start (进行中): its theme, hosts and contacts."""
    errors = []
    if not (isinstance(definition.get("theme"), str) and definition["theme"].strip()):
        errors.append(FieldError("theme", "required_field", "竞赛开始前须填写大赛主题"))
    if not definition.get("hosts"):
        errors.append(FieldError("hosts", "required_field", "竞赛开始前须填写至少一个主办单位"))
    if not definition.get("contacts"):
        errors.append(FieldError("contacts", "required_field", "竞赛开始前须填写至少一位联系人"))
    return errors


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class _Validator:
    def __init__(self, definition: Mapping[str, Any]):
        self.d = definition
        self.errors: list[FieldError] = []
        self.windows: dict[StageId, StageWindow] = {}

    def add(self, path: str, code: str, message: str) -> None:
        self.errors.append(FieldError(path, code, message))

    def run(self) -> None:
        self.identity()
        self.categories()
        self.stages()
        self.limits()
        self.quotas()
        self.ranking()
        self.prizes()
        self.honors()
        self.presentation()
        self.final_live()
        self.feeds()

    # -- helpers
    def text(self, container: Mapping[str, Any], key: str, path: str, label: str, required: bool = True,
             limit: int = 200) -> str | None:
        value = container.get(key)
        if value is None or (required and value == ""):
            if required:
                self.add(path, "required_field", f"请填写{label}")
            return None
        if not isinstance(value, str):
            self.add(path, "invalid_field", f"{label}应为文字")
            return None
        if value and single_line(value) != value:
            self.add(path, "invalid_field", f"{label}的首尾不能有空白，也不能含有不可见字符")
        elif len(value) > limit:
            self.add(path, "invalid_field", f"{label}不能超过 {limit} 个字")
        return value

    def section(self, key: str, required: bool = True) -> Mapping[str, Any] | None:
        value = self.d.get(key)
        if value is None:
            if required:
                self.add(key, "required_field", f"请填写{FIELD_NAMES[key]}")
            return None
        if not isinstance(value, Mapping):
            self.add(key, "invalid_field", f"{FIELD_NAMES[key]}的格式不对")
            return None
        return value

    def items(self, value: Any, path: str, label: str, required: bool = True) -> list[Mapping[str, Any]]:
        """The list at `path` with only its objects (each other entry is an error)."""
        if value is None:
            if required:
                self.add(path, "required_field", f"请填写{label}")
            return []
        if not isinstance(value, list):
            self.add(path, "invalid_field", f"{label}应为一个列表")
            return []
        if required and not value:
            self.add(path, "required_field", f"至少要有一个{label}")
        good = []
        for i, item in enumerate(value):
            if isinstance(item, Mapping):
                good.append(item)
            else:
                self.add(f"{path}[{i}]", "invalid_field", f"第 {i + 1} 个{label}的格式不对")
        return good

    def ids_and_names(self, items: Sequence[Mapping[str, Any]], path: str, label: str,
                      name_limit: int = 100) -> None:
        seen_ids: set[str] = set()
        seen_names: set[str] = set()
        for i, item in enumerate(items):
            here = f"{path}[{i}]"
            item_id = item.get("id")
            if item_id in (None, ""):
                self.add(f"{here}.id", "required_field", f"请填写第 {i + 1} 个{label}的编号")
            elif not (isinstance(item_id, str) and ITEM_ID.match(item_id)):
                self.add(f"{here}.id", "invalid_field",
                         f"第 {i + 1} 个{label}的编号只能用小写英文字母、数字和下划线，以字母开头")
            elif item_id in seen_ids:
                self.add(f"{here}.id", "duplicate_id", f"{label}的编号“{item_id}”重复了")
            else:
                seen_ids.add(item_id)
            name = self.text(item, "name", f"{here}.name", f"第 {i + 1} 个{label}的名称", limit=name_limit)
            if name:
                if name in seen_names:
                    self.add(f"{here}.name", "duplicate_name", f"{label}的名称“{name}”重复了")
                seen_names.add(name)

    def category_names(self) -> list[str]:
        return [str(c.get("name") or c.get("id") or f"第 {i + 1} 个")
                for i, c in enumerate(self.d.get("categories") or []) if isinstance(c, Mapping)]

    # -- the parts
    def identity(self) -> None:
        competition_id = self.d.get("id")
        if competition_id in (None, ""):
            self.add("id", "required_field", "请填写竞赛编号")
        elif not (isinstance(competition_id, str) and COMPETITION_ID.match(competition_id)):
            self.add("id", "invalid_field", "竞赛编号只能用小写英文字母、数字和连字符（如 shenzhen-2024）")
        self.text(self.d, "name", "name", "竞赛名称")
        for key in ("short_name", "notice_number", "notice_text"):
            self.text(self.d, key, key, FIELD_NAMES[key], required=False)
        if "theme" not in self.d:
            self.add("theme", "required_field", "请填写大赛主题")
        else:
            self.text(self.d, "theme", "theme", "大赛主题", required=False)
        hosts = self.d.get("hosts")
        if hosts is None:
            self.add("hosts", "required_field", "请填写主办单位")
        elif not isinstance(hosts, list):
            self.add("hosts", "invalid_field", "主办单位应为一个列表")
        else:
            seen: set[str] = set()
            for i, host in enumerate(hosts):
                label = f"第 {i + 1} 个主办单位"
                if self.text({"h": host}, "h", f"hosts[{i}]", label) and host in seen:
                    self.add(f"hosts[{i}]", "duplicate_name", f"主办单位“{host}”重复了")
                seen.add(str(host))
        for i, contact in enumerate(self.items(self.d.get("contacts"), "contacts", "联系人", required=False)):
            self.text(contact, "name", f"contacts[{i}].name", f"第 {i + 1} 位联系人的姓名", limit=50)
            phone = self.text(contact, "phone", f"contacts[{i}].phone", f"第 {i + 1} 位联系人的电话", limit=30)
            if phone and not re.fullmatch(r"[0-9+\-() ]{5,30}", phone):
                self.add(f"contacts[{i}].phone", "invalid_field", f"第 {i + 1} 位联系人的电话只能含数字、+、- 和括号")
        zone = self.d.get("timezone")
        if zone is not None and zone != TIMEZONE:
            self.add("timezone", "invalid_field", f"时区只能是北京时间（{TIMEZONE}）")
        state = self.d.get("state")
        if state is not None and not _is_state(state):
            self.add("state", "invalid_field", "状态只能是草稿、进行中或已结束")

    def categories(self) -> None:
        categories = self.items(self.d.get("categories"), "categories", "类别")
        self.ids_and_names(categories, "categories", "类别")
        for i, category in enumerate(categories):
            here = f"categories[{i}]"
            title = f"类别“{category.get('name') or i + 1}”"
            criteria = self.items(category.get("criteria"), f"{here}.criteria", f"{title}的评分细则")
            self.ids_and_names(criteria, f"{here}.criteria", f"{title}的评分细则")
            total = category.get("total")
            if total is not None and not _positive_int(total):
                self.add(f"{here}.total", "invalid_field", f"{title}的满分合计应为正整数")
                total = None
            maxima = []
            for j, criterion in enumerate(criteria):
                value = criterion.get("max")
                if value is None:
                    self.add(f"{here}.criteria[{j}].max", "required_field",
                             f"请填写{title}第 {j + 1} 项评分细则的满分")
                elif not _positive_int(value):
                    self.add(f"{here}.criteria[{j}].max", "invalid_field",
                             f"{title}评分细则“{criterion.get('name') or j + 1}”的满分应为正整数")
                else:
                    maxima.append(value)
            if criteria and total is not None and len(maxima) == len(criteria) and sum(maxima) != total:
                self.add(f"{here}.criteria", "criteria_sum",
                         f"{title}各项评分细则的满分合计应为 {total}（现为 {sum(maxima)}）")

    def stages(self) -> None:
        stages = self.items(self.d.get("stages"), "stages", "阶段")
        ids = tuple(s.get("id") for s in stages)
        if stages and ids != STAGE_ORDER:
            self.add("stages", "invalid_field",
                     f"阶段应为{'、'.join(STAGE_NAMES[s] for s in STAGE_ORDER)}五个，按通知的顺序排列")
        windows: list[StageWindow] = []
        for stage in stages:
            stage_id = stage.get("id")
            if not _is_stage(stage_id):
                continue
            here = f"stages.{stage_id}"
            known = StageId(stage_id)
            name = self.text(stage, "name", f"{here}.name", f"{STAGE_NAMES[known]}阶段的名称", limit=50)
            label = name or STAGE_NAMES[known]
            times: list[datetime] = []
            for key, word in (("opens_at", "开始时间"), ("closes_at", "截止时间")):
                value = stage.get(key)
                if value in (None, ""):
                    self.add(f"{here}.{key}", "required_field", f"请填写{label}的{word}")
                    continue
                try:
                    if not isinstance(value, str):
                        raise ValueError(value)
                    times.append(parse_time(value))
                except ValueError:
                    self.add(f"{here}.{key}", "invalid_field", f"{label}的{word}不是有效的时间")
            if len(times) == 2:
                window = StageWindow(known, label, times[0], times[1])
                windows.append(window)
                self.windows[known] = window
        for key, message in check_windows_do_not_overlap(windows).items():
            code = "window_order" if key.endswith(".closes_at") else "window_overlap"
            self.add(f"stages.{key}", code, message)

    def limits(self) -> None:
        limits = self.section("limits")
        if limits is None:
            return
        for key, word in (("max_chars", "案例字数上限"), ("max_points", "创新点和成果的条数上限")):
            if key not in limits:
                self.add(f"limits.{key}", "required_field", f"请填写{word}")
            elif not _positive_int(limits[key]):
                self.add(f"limits.{key}", "invalid_field", f"{word}应为正整数")

    def quota(self, value: Any, path: str) -> None:
        if not _positive_int(value):
            self.add(path, "invalid_field", "晋级名额应为正整数")

    def quotas(self) -> None:
        quotas = self.section("quotas")
        if quotas is not None:
            if "advance_per_category" not in quotas:
                self.add("quotas.advance_per_category", "required_field", "请填写每个类别的晋级名额")
            else:
                self.quota(quotas["advance_per_category"], "quotas.advance_per_category")
        ranking = self.d.get("ranking")
        block = ranking.get(StageId.TEXT_REVIEW) if isinstance(ranking, Mapping) else None
        if isinstance(block, Mapping) and block.get("advance_quota") is not None:
            self.quota(block["advance_quota"], f"ranking.{StageId.TEXT_REVIEW}.advance_quota")

    def ranking(self) -> None:
        ranking = self.section("ranking", required=False)
        if ranking is None:
            return
        criteria_of = [(str(c.get("name")), [k.get("id") for k in c.get("criteria") or [] if isinstance(k, Mapping)])
                       for c in self.d.get("categories") or [] if isinstance(c, Mapping)]
        ties = [("ranking.tie_break_criterion", ranking.get("tie_break_criterion"))]
        for key, block in ranking.items():
            if not _is_stage(key):
                continue
            stage_name = STAGE_NAMES[StageId(key)]
            if not isinstance(block, Mapping):
                self.add(f"ranking.{key}", "invalid_field", f"{stage_name}的排名规则格式不对")
                continue
            method = block.get("method", Method.TRIMMED_MEAN.value)
            if method not in METHOD_NAMES:
                self.add(f"ranking.{key}.method", "invalid_field",
                         f"{stage_name}的计分方法只能是{'、'.join(METHOD_NAMES.values())}")
            if "trim_min_scores" in block and not _positive_int(block["trim_min_scores"]):
                self.add(f"ranking.{key}.trim_min_scores", "invalid_field",
                         f"{stage_name}去掉最高最低分的最少评分数应为正整数")
            if "tie_break_criterion" in block:
                ties.append((f"ranking.{key}.tie_break_criterion", block["tie_break_criterion"]))
        for path, tie in ties:
            if tie is None:
                continue
            missing = [name for name, ids in criteria_of if tie not in ids]
            if missing:
                self.add(path, "invalid_field",
                         f"同分比较的评分细则“{tie}”须是每个类别都有的评分细则（{'、'.join(missing)}没有）")

    def prizes(self) -> None:
        prizes = self.items(self.d.get("prizes"), "prizes", "奖项", required=False)
        self.ids_and_names(prizes, "prizes", "奖项", name_limit=50)
        last = 0
        for i, prize in enumerate(prizes):
            here = f"prizes[{i}].ranks"
            label = f"奖项“{prize.get('name') or i + 1}”"
            ranks = prize.get("ranks")
            if not (isinstance(ranks, list) and len(ranks) == 2 and all(_positive_int(r) for r in ranks)
                    and ranks[0] <= ranks[1]):
                self.add(here, "invalid_field", f"{label}的名次范围应为“第几名至第几名”（从第 1 名起，前不大于后）")
                continue
            if ranks[0] <= last:
                self.add(here, "prize_overlap", f"{label}的名次范围须在上一个奖项（到第 {last} 名）之后，不能重叠")
            last = max(last, ranks[1])

    def honors(self) -> None:
        honors = self.section("honors")
        if honors is None:
            return
        reference = honors.get("reference_date")
        if reference in (None, ""):
            self.add("honors.reference_date", "required_field", "请填写荣誉推荐的年龄计算基准日")
        else:
            try:
                day = date.fromisoformat(reference) if isinstance(reference, str) and len(reference) == 10 else None
            except ValueError:
                day = None
            if day is None:
                self.add("honors.reference_date", "invalid_field", "年龄计算基准日应为日期（如 2024-05-04）")
            else:
                self.reference_in_range(day)
        rules = self.items(honors.get("rules"), "honors.rules", "荣誉规则", required=False)
        self.ids_and_names(rules, "honors.rules", "荣誉", name_limit=50)
        for i, rule in enumerate(rules):
            here = f"honors.rules[{i}]"
            label = f"荣誉“{rule.get('name') or i + 1}”"
            max_rank = rule.get("max_rank")
            if max_rank is None:
                self.add(f"{here}.max_rank", "required_field", f"请填写{label}的名次上限")
            elif not _positive_int(max_rank):
                self.add(f"{here}.max_rank", "invalid_field", f"{label}的名次上限应为正整数")
            age = rule.get("max_age")
            if age is not None and not (_positive_int(age) and AGE_RANGE[0] <= age <= AGE_RANGE[1]):
                self.add(f"{here}.max_age", "invalid_field",
                         f"{label}的年龄上限应为 {AGE_RANGE[0]}～{AGE_RANGE[1]} 之间的整数（周岁）")
            for key, known, word in (("genders", GENDER_NAMES, "性别"), ("rank_levels", RANK_LEVEL_NAMES, "职级")):
                value = rule.get(key)
                if value is None:
                    continue
                if not (isinstance(value, list) and value and all(isinstance(v, str) and v in known for v in value)):
                    self.add(f"{here}.{key}", "invalid_field",
                             f"{label}的{word}只能从{'、'.join(known.values())}中选（至少一个）")
        rule_ids = [r.get("id") for r in rules]
        priority = honors.get("priority")
        if priority is not None:
            if not isinstance(priority, list):
                self.add("honors.priority", "invalid_field", "荣誉的授予顺序应为一个列表")
            else:
                for i, rule_id in enumerate(priority):
                    if rule_id not in rule_ids:
                        self.add(f"honors.priority[{i}]", "invalid_field", f"授予顺序中的“{rule_id}”不是一项荣誉")
                    elif rule_id in priority[:i]:
                        self.add(f"honors.priority[{i}]", "duplicate_id", f"授予顺序中的“{rule_id}”重复了")

    def reference_in_range(self, day: date) -> None:
        submission, final = self.windows.get(StageId.SUBMISSION), self.windows.get(StageId.FINAL)
        if submission is not None:
            opens = submission.opens_at.astimezone(CHINA).date()
            if day < shift_date(opens, -1):
                self.add("honors.reference_date", "date_out_of_range",
                         f"年龄计算基准日不能早于文本申报开始前一年（{shift_date(opens, -1).isoformat()}）")
        if final is not None:
            closes = final.closes_at.astimezone(CHINA).date()
            if day > closes:
                self.add("honors.reference_date", "date_out_of_range",
                         f"年龄计算基准日不能晚于综合评选的截止日期（{closes.isoformat()}）")

    def presentation(self) -> None:
        presentation = self.section("presentation", required=False)
        if presentation is None or presentation.get("max_mb") is None:
            return
        limits = presentation["max_mb"]
        if not (isinstance(limits, Mapping) and limits):
            self.add("presentation.max_mb", "invalid_field", "请填写展示材料可用的文件类型及大小上限")
            return
        for ext, mb in limits.items():
            if str(ext).lower() not in FILE_KINDS:
                self.add(f"presentation.max_mb.{ext}", "invalid_field",
                         f"展示材料不支持“{ext}”文件（可用 {'、'.join(FILE_KINDS)}）")
            elif not (_positive_int(mb) and mb <= MAX_FILE_MB):
                self.add(f"presentation.max_mb.{ext}", "invalid_field",
                         f"{ext} 文件的大小上限应为 1～{MAX_FILE_MB} 之间的整数（MB）")

    def final_live(self) -> None:
        live = self.section("final_live", required=False)
        if live is None:
            return
        words = {"presentation_minutes": "现场展示时长（分钟）", "warning_seconds": "结束前提醒（秒）",
                 "slot_minutes": "每个案例的时段（分钟）"}
        good = {}
        for key, word in words.items():
            if key in live:
                if _positive_int(live[key]):
                    good[key] = live[key]
                else:
                    self.add(f"final_live.{key}", "invalid_field", f"{word}应为正整数")
        if "presentation_minutes" in good and "slot_minutes" in good \
                and good["slot_minutes"] < good["presentation_minutes"]:
            self.add("final_live.slot_minutes", "invalid_field", "每个案例的时段不能短于现场展示时长")
        if "presentation_minutes" in good and "warning_seconds" in good \
                and good["warning_seconds"] >= good["presentation_minutes"] * 60:
            self.add("final_live.warning_seconds", "invalid_field", "结束前提醒须短于现场展示时长")

    def feeds(self) -> None:
        target = self.d.get("feeds")
        if target is None or target == "":
            return
        if not (isinstance(target, str) and COMPETITION_ID.match(target)):
            self.add("feeds", "invalid_field", "省赛推荐去向应为本平台上另一个竞赛届次的编号")
        elif target == self.d.get("id"):
            self.add("feeds", "invalid_field", "省赛推荐去向不能是本届竞赛自身，请选择另一个竞赛届次")


def feed_cycle(competition_id: str, target: str | None, feeds_of: Mapping[str, str | None]) -> FieldError | None:
    """The error when `competition_id` feeding `target` would close a loop: following what each competition feeds
    (`feeds_of`: the others' `feeds`, by id) from `target` comes back to `competition_id`. None: no loop."""
    seen: set[str] = set()
    at = target or None
    while at is not None and at not in seen:
        if at == competition_id:
            return FieldError("feeds", "invalid_field",
                              "省赛推荐去向不能形成循环（所选竞赛届次的推荐最终又会回到本届），请选择另一个竞赛届次")
        seen.add(at)
        at = feeds_of.get(at) or None
    return None


# --------------------------------------------------------------------------- paths, merging, differences

Segment = str | int


def parse_path(path: str) -> list[Segment]:
    """`categories[0].criteria[2].max` → ["categories", 0, "criteria", 2, "max"]; `stages.final.opens_at` →
    ["stages", "final", "opens_at"]."""
    segments: list[Segment] = []
    for part in path.split("."):
        match = re.fullmatch(r"([^\[\]]*)((?:\[\d+\])*)", part)
        if match is None or (not match[1] and not match[2]):
            raise ValueError(path)
        if match[1]:
            segments.append(match[1])
        segments += [int(i) for i in re.findall(r"\[(\d+)\]", match[2])]
    return segments


def format_path(segments: Sequence[Segment]) -> str:
    text = ""
    for s in segments:
        text += f"[{s}]" if isinstance(s, int) else (f".{s}" if text else s)
    return text


class _BadPath(Exception):
    pass


def _child_key(node: Any, segment: Segment, creating: bool) -> Segment:
    """Where `segment` is in `node`: a dict's key, a list's index (by its number, or the item whose id it is)."""
    if isinstance(node, dict):
        if isinstance(segment, int):
            raise _BadPath
        return segment
    if isinstance(node, list):
        if isinstance(segment, str):
            if segment.isdigit():
                segment = int(segment)
            else:
                found = [i for i, item in enumerate(node) if isinstance(item, dict) and item.get("id") == segment]
                if not found:
                    raise _BadPath
                return found[0]
        if 0 <= segment < len(node) or (creating and segment == len(node)):
            return segment
    raise _BadPath


def _merge(node: Any, key: str, value: Any) -> None:
    segments = parse_path(key)
    for segment in segments[:-1]:
        k = _child_key(node, segment, creating=False)
        if isinstance(node, dict) and node.get(k) is None:
            node[k] = {}
        node = node[k]
    last = _child_key(node, segments[-1], creating=True)
    if isinstance(node, list) and last == len(node):
        node.append(copy.deepcopy(value))
        return
    current = node.get(last) if isinstance(node, dict) else node[last]
    if isinstance(value, Mapping) and isinstance(current, (dict, list)):
        for sub_key, sub_value in value.items():
            _merge(current, str(sub_key), sub_value)
    else:
        node[last] = copy.deepcopy(value)


def merge(definition: Mapping[str, Any], changes: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """`definition` with `changes` merged (a new dict), and an `unknown_field` error for each path not found."""
    result = copy.deepcopy(dict(definition))
    errors = []
    for key, value in changes.items():
        try:
            _merge(result, str(key), value)
        except (_BadPath, ValueError, TypeError, IndexError, KeyError):
            errors.append(FieldError(str(key), "unknown_field", f"没有这一项：{key}"))
    return result, errors


def changed_paths(before: Any, after: Any) -> list[str]:
    """The paths where `after` differs from `before`, as deep as both have the same shape (a list that grew or
    shrank, or a list of plain values such as a prize's ranks, is named itself; the stages by their ids)."""
    return [format_path(p) for p in _differences(before, after, [])]


def _changed_segments(before: Any, after: Any) -> list[list[Segment]]:
    return list(_differences(before, after, []))


_MISSING = object()


def _differences(before: Any, after: Any, path: list[Segment]) -> Iterator[list[Segment]]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in list(before) + [k for k in after if k not in before]:
            yield from _differences(before.get(key, _MISSING), after.get(key, _MISSING), [*path, key])
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        if path == ["stages"] and all(isinstance(s, Mapping) for s in before + after):
            if [s.get("id") for s in before] == [s.get("id") for s in after]:
                for b, a in zip(before, after):
                    yield from _differences(b, a, [*path, str(b.get("id"))])
                return
            yield path
            return
        if all(isinstance(item, (Mapping, list)) for item in before + after):
            for i, (b, a) in enumerate(zip(before, after)):
                yield from _differences(b, a, [*path, i])
            return
    if before is _MISSING and after is None or after is _MISSING and before is None:
        return            # null and absent read the same
    if before != after or type(before) is not type(after):
        yield path


# --------------------------------------------------------------------------- edit

FREE_KEYS = frozenset({"name", "short_name", "theme", "notice_number", "notice_text", "hosts", "contacts",
                       "local_demo_windows_days", "feeds"})


def edit(definition: Mapping[str, Any], changes: Mapping[str, Any], progress: Progress
         ) -> tuple[dict[str, Any], list[FieldError]]:
    """Apply `changes` under the rules of the module docstring: the new definition and no errors, or the
    definition as it was and every error."""
    before = copy.deepcopy(dict(definition))
    if not isinstance(changes, Mapping):
        return before, [FieldError("", "invalid_field", "修改内容应为一个对象")]
    after, errors = merge(before, changes)
    if errors:
        return before, errors
    state = progress.state
    changed_segments = _changed_segments(before, after)
    changed = [format_path(segments) for segments in changed_segments]
    for segments in changed_segments:
        if segments[:1] == ["state"]:
            continue
        refusal = _refusal(segments, before, after, state, progress)
        if refusal is not None:
            errors.append(refusal)
    errors += _transition(before, after, state, progress)
    old = {(e.field, e.code) for e in validate(before)}
    errors += [e for e in validate(after)
               if (e.field, e.code) not in old or any(_related(e.field, path) for path in changed)]
    if errors:
        return before, list(dict.fromkeys(errors))
    return after, []


def lock_of(definition: Mapping[str, Any], path: str, progress: Progress) -> str | None:
    """Why the field at `path` cannot be changed now (the message an edit of it would be refused with), or None
    when it may: what the builder's page shows read-only, with the reason."""
    try:
        segments = parse_path(path)
    except ValueError:
        return None
    refusal = _refusal(segments, definition, definition, progress.state, progress)
    return refusal.message if refusal is not None else None


def _related(field: str, path: str) -> bool:
    """One of `field` and `path` is the other or holds it."""
    def within(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith(f"{outer}.") or inner.startswith(f"{outer}[")
    return within(field, path) or within(path, field)


def _transition(before: Mapping[str, Any], after: Mapping[str, Any], state: CompetitionState,
                progress: Progress) -> list[FieldError]:
    if after.get("state") == before.get("state"):
        return []
    wanted = after.get("state")
    if not _is_state(wanted):
        return [FieldError("state", "invalid_field", "状态只能是草稿、进行中或已结束")]
    target = CompetitionState(wanted)
    if target == state:
        return []
    if state == CompetitionState.DRAFT and target == CompetitionState.RUNNING:
        missing = validate(after) + start_errors(after)
        if missing:
            return [*missing,
                    FieldError("state", "invalid_transition",
                               f"还有 {len(missing)} 处设置需要修改或填写，竞赛不能开始")]
        return []
    if state == CompetitionState.RUNNING and target == CompetitionState.FINISHED:
        last = STAGE_ORDER[-1]
        if last not in progress.closed:
            return [FieldError("state", "invalid_transition", f"{STAGE_NAMES[last]}阶段结束后，竞赛才能结束")]
        return []
    return [FieldError("state", "invalid_transition",
                       f"竞赛不能从“{state.chinese_name}”改为“{target.chinese_name}”（只能由草稿到进行中，再到已结束）")]


def _first_scored(definition: Mapping[str, Any]) -> StageId:
    ranking = definition.get("ranking")
    scored = [s for s in STAGE_ORDER if isinstance(ranking, Mapping) and s in ranking]
    return scored[0] if scored else StageId.TEXT_REVIEW


def _refusal(segments: list[Segment], before: Mapping[str, Any], after: Mapping[str, Any],
             state: CompetitionState, progress: Progress) -> FieldError | None:
    path = format_path(segments)
    top = str(segments[0]) if segments else ""
    if top == "id":
        return FieldError(path, "immutable_field", "竞赛编号创建后不能修改")
    if state == CompetitionState.FINISHED:
        return FieldError(path, "read_only", "竞赛已结束，只能查看和导出，不能修改")
    if state == CompetitionState.DRAFT or top in FREE_KEYS or top.startswith("_") or \
            (len(segments) > 1 and str(segments[-1]).startswith("_")):
        return None
    label = _label(segments)

    def locked_when(stage: StageId, closed: bool, what: str = "") -> FieldError | None:
        done = progress.closed if closed else progress.opened
        if stage not in done:
            return None
        return FieldError(path, "locked_field",
                          f"{STAGE_NAMES[stage]}已{'结束' if closed else '开始'}，{what or label}不能再修改")

    def criteria_lock() -> FieldError | None:
        first = _first_scored(before)
        if first in progress.opened or progress.scoring_started:
            started = first if first in progress.opened else min(progress.scoring_started, key=STAGE_ORDER.index)
            return FieldError(path, "locked_field", f"{STAGE_NAMES[started]}已开始，评分细则和满分不能再修改")
        return None

    if top == "categories":
        if len(segments) >= 3 and segments[2] in ("criteria", "total"):
            return criteria_lock()
        return locked_when(StageId.SUBMISSION, closed=False, what="类别")
    if top in ("limits", "unit_systems"):
        return locked_when(StageId.SUBMISSION, closed=False)
    if top == "stages":
        return _stage_refusal(segments, path, after, progress)
    if top == "quotas":
        return locked_when(StageId.TEXT_REVIEW, closed=True, what="晋级名额")
    if top == "ranking":
        key = segments[1] if len(segments) > 1 else None
        if key == "tie_break_criterion" or key is None:
            return criteria_lock()
        if _is_stage(key):
            if len(segments) > 2 and segments[2] == "advance_quota":
                return locked_when(StageId.TEXT_REVIEW, closed=True, what="晋级名额")
            stage = StageId(str(key))
            if stage in progress.scoring_started:
                return FieldError(path, "locked_field", f"{STAGE_NAMES[stage]}已开始评分，排名规则不能再修改")
            return locked_when(stage, closed=False, what=f"{STAGE_NAMES[stage]}的排名规则")
        return criteria_lock()
    if top == "prizes":
        return locked_when(StageId.FINAL, closed=True, what="奖项")
    if top in ("honors", "organisation_award"):
        return locked_when(StageId.FINAL, closed=True, what=f"{FIELD_NAMES[top]}规则")
    if top == "presentation":
        return locked_when(StageId.TEXT_REVIEW, closed=True, what="展示材料的文件规则")
    if top == "final_live":
        return locked_when(StageId.FINAL, closed=False, what="现场展示的设置")
    if top == "originality":
        return locked_when(StageId.SUBMISSION, closed=True, what="原创性检查的设置")
    return FieldError(path, "locked_field", f"竞赛已开始，{label}不能再修改")


def _stage_refusal(segments: list[Segment], path: str, after: Mapping[str, Any], progress: Progress
                   ) -> FieldError | None:
    if len(segments) < 3 or not _is_stage(segments[1]):
        return FieldError(path, "locked_field", "竞赛已开始，阶段不能增减或调换")
    stage, key = StageId(str(segments[1])), segments[2]
    name = STAGE_NAMES[stage]
    if key == "name":
        return None
    if stage in progress.closed:
        return FieldError(path, "locked_field", f"{name}已结束，时间不能再修改")
    if stage not in progress.opened:
        return None
    if key != "closes_at" or len(segments) > 3:
        return FieldError(path, "locked_field", f"{name}已开始，{_label(segments)}不能再修改")
    new = next((s.get("closes_at") for s in after.get("stages") or [] if s.get("id") == stage), None)
    try:
        closes = parse_time(new) if isinstance(new, str) else None
    except ValueError:
        closes = None
    if closes is not None and closes <= progress.now:
        return FieldError(path, "window_in_past", f"{name}正在进行，截止时间只能改到现在之后")
    return None                         # before its opening: validate's window_order


def _label(segments: Sequence[Segment]) -> str:
    names = [FIELD_NAMES[s] for s in segments if isinstance(s, str) and s in FIELD_NAMES]
    return names[-1] if names else "这一项"
