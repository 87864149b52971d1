"""Judges and their scores: the judge's record, and a score sheet checked against the category's rubric."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from .accounts import EMAIL
from .cases import MOBILE
from .competition import Category
from .errors import Invalid
from .text import single_line


@dataclass(frozen=True)
class JudgeInput:
    name: str
    email: str
    mobile: str | None
    affiliation: str
    categories: tuple[str, ...]
    conflicts: tuple[str, ...]


def parse_judge(raw: Any, category_ids: tuple[str, ...]) -> JudgeInput:
    if not isinstance(raw, Mapping):
        raise Invalid("请求体应为 JSON 对象", {"body": "应为 JSON 对象"})
    errors: dict[str, str] = {}

    def text(key: str, label: str, required: bool, limit: int = 100) -> str:
        value = raw.get(key)
        if isinstance(value, str):
            value = single_line(value)
        if value is None or value == "":
            if required:
                errors[key] = f"请填写{label}"
            return ""
        if not isinstance(value, str) or len(value) > limit:
            errors[key] = f"{label}应为不超过{limit}个字符的文字"
            return ""
        return value

    name = text("name", "评委姓名", True, 50)
    email = text("email", "电子邮箱", True, 254)
    if email and not EMAIL.match(email):
        errors["email"] = "电子邮箱格式不正确（如 expert@example.org）"
    mobile = text("mobile", "手机", False, 20) or None
    if mobile and not MOBILE.match(mobile):
        errors["mobile"] = "手机应为以 1 开头的 11 位号码（第二位为 3～9）"
    affiliation = text("affiliation", "工作单位", True)
    categories = raw.get("categories")
    if not isinstance(categories, list) or not categories or not all(isinstance(c, str) for c in categories):
        errors["categories"] = "请至少选择一个评审类别"
        categories = []
    elif any(c not in category_ids for c in categories):
        errors["categories"] = "没有这个评审类别，请从发展提质、服务增效、党建赋能中选择"
    conflicts = raw.get("conflicts", [])
    if conflicts is None:
        conflicts = []
    if not isinstance(conflicts, list) or not all(isinstance(c, str) and len(c) <= 100 for c in conflicts):
        errors["conflicts"] = "回避单位应为单位名称的列表"
        conflicts = []
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    ordered = tuple(c for c in category_ids if c in categories)
    return JudgeInput(name, email, mobile, affiliation, ordered, tuple(c.strip() for c in conflicts if c.strip()))


def parse_score_sheet(raw: Any, category: Category) -> tuple[dict[str, int], str | None]:
    """Criterion values in tenths of a point (exact), and the optional comment.

    Every criterion of the category is required, 0 <= value <= max, at most one decimal place;
    unknown criteria are refused so a typo never silently scores zero.
    """
    if not isinstance(raw, Mapping):
        raise Invalid("请求体应为 JSON 对象", {"body": "应为 JSON 对象"})
    sheet = raw.get("criteria")
    if not isinstance(sheet, Mapping):
        raise Invalid("请按评分标准逐项打分（criteria）", {"criteria": "应为对象：评分项 → 分数"})
    errors: dict[str, str] = {}
    tenths: dict[str, int] = {}
    for criterion in category.criteria:
        path = f"criteria.{criterion.id}"
        value = sheet.get(criterion.id)
        if value is None:
            errors[path] = f"请为“{criterion.name}”打分（0～{criterion.max} 分）"
            continue
        parsed = _tenths(value)
        if parsed is None:
            errors[path] = f"“{criterion.name}”的分数应为数字，最多一位小数"
        elif not 0 <= parsed <= criterion.max * 10:
            errors[path] = f"“{criterion.name}”的分数应在 0～{criterion.max} 分之间"
        else:
            tenths[criterion.id] = parsed
    for key in sheet:
        if category.criterion(str(key)) is None:
            errors[f"criteria.{key}"] = f"“{key}”不是{category.name}类别的评分项"
    comment = raw.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        errors["comment"] = "评语应为不超过 2000 字的文字"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return tenths, (comment.strip() or None) if isinstance(comment, str) else None


def _tenths(value: Any) -> int | None:
    """A JSON number with at most one decimal place, as an exact count of tenths."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        scaled = Decimal(str(value)) * 10
    except InvalidOperation:
        return None
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def tenths_to_points(value: int) -> float:
    return float(Decimal(value) / 10)


def parse_points(raw: Any, key: str, label: str, max_points: int = 10, limit: int = 1000) -> list[str]:
    """Numbered points (coaching feedback, a unit's replies): 1 to max_points non-empty texts."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get(key), list):
        raise Invalid(f"请逐条填写{label}（{key} 为文字列表）", {key: "应为文字列表"})
    points = raw[key]
    errors: dict[str, str] = {}
    if not 1 <= len(points) <= max_points:
        errors[key] = f"{label}应为 1～{max_points} 条"
    for i, p in enumerate(points):
        if not isinstance(p, str) or not p.strip() or len(p) > limit:
            errors[f"{key}[{i}]"] = f"第{i + 1}条{label}应为 1～{limit} 字的文字"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return [p.strip() for p in points]
