"""The 参赛案例说明书 (case body): its shape, the character limit and the rules checked on submit.

Every save checks shape and limits (types, choices, list lengths, the 3,000-character limit); drafts
may be incomplete. Submitting checks completeness and formats too (mobiles, phones, the birth date,
the originality pledge).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Mapping

from .errors import Invalid

STATUSES = ("draft", "submitted", "withdrawn", "advanced", "not_advanced", "awarded", "not_awarded",
            "returned", "rejected")
STATUS_NAMES = {
    "draft": "草稿", "submitted": "已提交", "withdrawn": "已撤回", "advanced": "进入综合评选",
    "not_advanced": "未入围", "awarded": "获奖", "not_awarded": "未获奖",
    "returned": "退回修改", "rejected": "不予受理",
}
# Statuses of a case that takes part (submitted, not withdrawn, not out after 审核): what is assigned,
# ranked, counted and exported as an entry. `returned` and `rejected` cases are not in it.
ENTERED = ("submitted", "advanced", "not_advanced", "awarded", "not_awarded")
# Every case that was submitted and not withdrawn, whatever came of it (the originality check compares these).
SUBMITTED_ONCE = (*ENTERED, "returned", "rejected")
GENDERS = {"female": "女", "male": "男"}
RANK_LEVELS = {"section_or_below": "科级及以下", "above_section": "处级及以上"}

MOBILE = re.compile(r"^1[3-9]\d{9}$")
OFFICE_PHONE = re.compile(r"^(0\d{2,3}-)?\d{7,8}$")
WHITESPACE = re.compile(r"\s+")

SHORT_MAX = 100   # names, positions, units: generous but bounded
TITLE_MAX = 100

PERSON_FIELDS = ("name", "position", "office_phone", "mobile")
LEADER_FIELDS = PERSON_FIELDS + ("gender", "rank_level", "birth_date")
FIELD_LABELS = {
    "category": "案例类别", "recommending_unit": "推荐单位", "title": "案例名称",
    "leader.name": "牵头人姓名", "leader.position": "牵头人职务", "leader.office_phone": "牵头人办公电话",
    "leader.mobile": "牵头人手机", "leader.gender": "牵头人性别", "leader.rank_level": "牵头人职级",
    "leader.birth_date": "牵头人出生日期", "contact.name": "联系人姓名", "contact.position": "联系人职务",
    "contact.office_phone": "联系人办公电话", "contact.mobile": "联系人手机", "background": "案例背景",
    "innovations": "案例创新点", "results": "案例取得的成果", "originality_pledge": "坚持原创承诺",
    "showcase_consent": "同意在成果展示中公开",
}
# The notice's 坚持原创 (八、申报事项（三）) as the unit pledges it: the case form's box and the 说明书 template.
ORIGINALITY_PLEDGE = "本单位承诺：案例坚持原创，不抄袭、不复制往年案例，所填内容真实。"


@dataclass
class Person:
    name: str = ""
    position: str = ""
    office_phone: str = ""
    mobile: str = ""


@dataclass
class Leader(Person):
    gender: str = ""
    rank_level: str = ""
    birth_date: str = ""


@dataclass
class CaseBody:
    category: str = ""
    recommending_unit: str = ""
    title: str = ""
    leader: Leader = field(default_factory=Leader)
    contact: Person = field(default_factory=Person)
    background: str = ""
    innovations: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    originality_pledge: bool = False
    showcase_consent: bool = False     # 优秀案例展示: the unit agrees that an awarded case is shown publicly

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def counted_texts(self) -> list[str]:
        return [self.title, self.background, *self.innovations, *self.results]


def count_chars(texts: list[str]) -> int:
    """Characters after removing all whitespace; a 汉字, letter, digit or punctuation mark counts one."""
    return sum(len(WHITESPACE.sub("", t)) for t in texts)


def _label(path: str) -> str:
    base = re.sub(r"\[\d+\]$", "", path)
    return FIELD_LABELS.get(base, path)


def _text(raw: Mapping[str, Any], key: str, path: str, errors: dict[str, str], limit: int | None) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[path] = f"{_label(path)}应为文字"
        return ""
    if "\x00" in value:
        errors[path] = f"{_label(path)}含有无效字符，请删除后重试"
        return ""
    if limit is not None and len(value.strip()) > limit:
        errors[path] = f"{_label(path)}不能超过{limit}个字符（现有{len(value.strip())}个）"
    return value.strip() if limit is not None else value


def _choice(raw: Mapping[str, Any], key: str, path: str, allowed: Mapping[str, str] | tuple[str, ...],
            errors: dict[str, str]) -> str:
    value = _text(raw, key, path, errors, SHORT_MAX)
    if value and value not in allowed:
        names = "、".join(allowed.values()) if isinstance(allowed, Mapping) else "、".join(allowed)
        errors[path] = f"{_label(path)}只能选择：{names}"
        return ""
    return value


def _flag(raw: Mapping[str, Any], key: str, errors: dict[str, str]) -> bool:
    """A yes/no field: true or false (absent or null: false)."""
    value = raw.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors[key] = f"{_label(key)}应为 true 或 false"
        return False
    return value


def _points(raw: Mapping[str, Any], key: str, max_points: int, errors: dict[str, str]) -> list[str]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errors[key] = f"{_label(key)}应为列表（1至{max_points}条）"
        return []
    if len(value) > max_points:
        errors[key] = f"{_label(key)}最多{max_points}条（现有{len(value)}条）"
    points = []
    for i, item in enumerate(value[:max_points]):
        if not isinstance(item, str) or "\x00" in item:
            errors[f"{key}[{i}]"] = f"{_label(key)}第{i + 1}条应为文字"
            points.append("")
        else:
            points.append(item)
    return points


def _person(raw: Any, prefix: str, cls: type, errors: dict[str, str], categories: tuple[str, ...]) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        errors[prefix] = f"{_label(prefix + '.name')[:3]}信息应为对象"
        return cls()
    values = {k: _text(raw, k, f"{prefix}.{k}", errors, SHORT_MAX) for k in PERSON_FIELDS}
    if cls is Leader:
        values["gender"] = _choice(raw, "gender", f"{prefix}.gender", GENDERS, errors)
        values["rank_level"] = _choice(raw, "rank_level", f"{prefix}.rank_level", RANK_LEVELS, errors)
        values["birth_date"] = _text(raw, "birth_date", f"{prefix}.birth_date", errors, 10)
    return cls(**values)


def parse_case_body(raw: Any, category_ids: tuple[str, ...], max_chars: int, max_points: int) -> CaseBody:
    """Shape and limits, checked on every save. Raises Invalid with field errors."""
    if not isinstance(raw, Mapping):
        raise Invalid("请求体应为 JSON 对象（参赛案例说明书的各字段）", {"body": "应为 JSON 对象"})
    errors: dict[str, str] = {}
    category_names = dict.fromkeys(category_ids, "")
    body = CaseBody(
        category=_choice(raw, "category", "category", category_names, errors),
        recommending_unit=_text(raw, "recommending_unit", "recommending_unit", errors, SHORT_MAX),
        title=_text(raw, "title", "title", errors, TITLE_MAX),
        leader=_person(raw.get("leader"), "leader", Leader, errors, category_ids),
        contact=_person(raw.get("contact"), "contact", Person, errors, category_ids),
        background=_text(raw, "background", "background", errors, None),
        innovations=_points(raw, "innovations", max_points, errors),
        results=_points(raw, "results", max_points, errors),
        originality_pledge=_flag(raw, "originality_pledge", errors),
        showcase_consent=_flag(raw, "showcase_consent", errors),
    )
    if "category" in errors:
        errors["category"] = "案例类别只能选择：发展提质（development）、服务增效（service）、党建赋能（empowerment）"
    used = count_chars(body.counted_texts)
    if used > max_chars:
        errors["text"] = (f"案例名称、背景、创新点和成果合计不能超过{max_chars}字"
                          f"（现有{used}/{max_chars}字，不计空白），请删减")
    if errors:
        raise Invalid(_summary(errors), errors)
    return body


def submit_errors(body: CaseBody, today: date) -> dict[str, str]:
    """Completeness and formats, checked when a case is submitted (and when a submitted case is edited)."""
    errors: dict[str, str] = {}
    for path in ("category", "recommending_unit", "title", "background"):
        if not getattr(body, path).strip():
            errors[path] = f"请填写{_label(path)}"
    for who, person in (("leader", body.leader), ("contact", body.contact)):
        if not person.name.strip():
            errors[f"{who}.name"] = f"请填写{_label(who + '.name')}"
        _check_mobile(person.mobile, f"{who}.mobile", errors)
        if person.office_phone and not OFFICE_PHONE.match(person.office_phone):
            errors[f"{who}.office_phone"] = (
                f"{_label(who + '.office_phone')}格式不正确，应为区号-号码（如 0755-88134324）或 7～8 位号码"
            )
    if not body.leader.position.strip():
        errors["leader.position"] = "请填写牵头人职务"
    if not body.leader.gender:
        errors["leader.gender"] = "请选择牵头人性别"
    if not body.leader.rank_level:
        errors["leader.rank_level"] = "请选择牵头人职级"
    _check_birth_date(body.leader.birth_date, today, errors)
    for key in ("innovations", "results"):
        points = getattr(body, key)
        if not any(p.strip() for p in points):
            errors[key] = f"请至少填写1条{_label(key)}"
        for i, point in enumerate(points):
            if not point.strip() and any(p.strip() for p in points):
                errors[f"{key}[{i}]"] = f"{_label(key)}第{i + 1}条为空，请填写或删除该条"
    if not body.originality_pledge:
        errors["originality_pledge"] = "提交前请勾选坚持原创承诺（不得抄袭、复制往年案例）"
    return errors


def _check_mobile(value: str, path: str, errors: dict[str, str]) -> None:
    if not value:
        errors[path] = f"请填写{_label(path)}"
    elif not MOBILE.match(value):
        errors[path] = f"{_label(path)}应为以 1 开头的 11 位手机号码（第二位为 3～9），请检查"


def _check_birth_date(value: str, today: date, errors: dict[str, str]) -> None:
    path = "leader.birth_date"
    if not value:
        errors[path] = "请填写牵头人出生日期"
        return
    try:
        born = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        born = None
    if born is None:
        errors[path] = "牵头人出生日期应为有效日期，格式 YYYY-MM-DD（如 1988-05-04）"
    elif not date(1900, 1, 1) <= born < today:
        errors[path] = "牵头人出生日期应早于今天且晚于 1900-01-01"


def validate_for_submit(body: CaseBody, today: date) -> None:
    errors = submit_errors(body, today)
    if errors:
        raise Invalid(_summary(errors), errors)


def _summary(errors: dict[str, str]) -> str:
    first = next(iter(errors.values()))
    more = f"（共{len(errors)}处需要修改）" if len(errors) > 1 else ""
    return f"{first}{more}"


def body_from_stored(data: Mapping[str, Any]) -> CaseBody:
    """Rebuild a body from what the store saved (already validated when it was written)."""
    return CaseBody(
        category=data.get("category", ""), recommending_unit=data.get("recommending_unit", ""),
        title=data.get("title", ""), leader=Leader(**data.get("leader", {})),
        contact=Person(**data.get("contact", {})), background=data.get("background", ""),
        innovations=list(data.get("innovations", [])), results=list(data.get("results", [])),
        originality_pledge=bool(data.get("originality_pledge", False)),
        showcase_consent=bool(data.get("showcase_consent", False)),
    )
