"""优秀案例展示 (the notice's 以赛促建, 可复制可推广): which awarded cases are shown publicly, what of them, and the
visitor's search.

A case is shown when it is awarded, its unit consents (the body's `showcase_consent`, or the unit's later word on
its case page) and the organiser has not taken it down. Only the case's own text is shown: title, unit, category,
prize, 案例背景, 案例创新点, 案例取得的成果; never the leader's or the contact's personal data.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable, Mapping

from .errors import Invalid

MAX_QUERY = 50
MAX_REASON = 500
SPACE = re.compile(r"\s+")


def consented(body_consent: bool, choice: bool | None) -> bool:
    """The unit's consent: its word given on the case page after the body when there is one, else the body's."""
    return bool(body_consent) if choice is None else bool(choice)


def on_show(status: str, body_consent: bool, choice: bool | None, hidden: bool | None) -> bool:
    return status == "awarded" and consented(body_consent, choice) and not hidden


def state_of(status: str, body_consent: bool, choice: bool | None, hidden: bool | None,
             reason: str | None) -> dict[str, Any]:
    """A case's showcase marks as its unit, the organiser and the API see them."""
    consent = consented(body_consent, choice)
    return {"consent": consent, "hidden": bool(hidden), "reason": reason if hidden else None,
            "shown": on_show(status, consent, None, hidden)}


def entry(case_id: str, body: Mapping[str, Any], prize: str | None, category_names: Mapping[str, str],
          prize_names: Mapping[str, str]) -> dict[str, Any]:
    """What the showcase tells of a case: its own text, nothing about the people behind it."""
    category = body.get("category", "")
    return {"id": case_id, "title": body.get("title", ""), "unit": body.get("recommending_unit", ""),
            "category": category, "category_name": category_names.get(category, ""),
            "prize": prize, "prize_name": prize_names.get(prize or "", ""),
            "background": body.get("background", ""), "innovations": list(body.get("innovations") or []),
            "results": list(body.get("results") or [])}


def _folded(text: str) -> str:
    return SPACE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def search_terms(raw_q: Any, raw_category: Any, category_ids: Iterable[str]) -> tuple[list[str], str | None]:
    """The visitor's 关键词 (words separated by spaces, all must occur) and 案例类别 (none: every category)."""
    errors: dict[str, str] = {}
    q = raw_q if isinstance(raw_q, str) else ""
    if len(q.strip()) > MAX_QUERY:
        errors["q"] = f"关键词不能超过{MAX_QUERY}个字（现有{len(q.strip())}个），请缩短后再搜索"
    category = raw_category.strip() if isinstance(raw_category, str) else ""
    if category and category not in tuple(category_ids):
        errors["category"] = "案例类别只能选择：发展提质（development）、服务增效（service）、党建赋能（empowerment）"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return [t for t in (_folded(w) for w in q.split()) if t], category or None


def matches(shown: Mapping[str, Any], terms: list[str], category: str | None) -> bool:
    if category and shown["category"] != category:
        return False
    text = _folded("\n".join([shown["title"], shown["unit"], shown["background"], *shown["innovations"],
                              *shown["results"]]))
    return all(term in text for term in terms)


def ordered(shown: list[dict[str, Any]], category_ids: tuple[str, ...], prize_ids: tuple[str, ...],
            ranks: Mapping[str, int]) -> list[dict[str, Any]]:
    """By category (the competition's order), then prize (一等奖 first), then the final's rank (`ranks`: case id ->
    rank), then title."""
    def key(e: dict[str, Any]) -> tuple[int, int, int, str]:
        return (_index(category_ids, e["category"]), _index(prize_ids, e["prize"] or ""),
                int(ranks.get(e["id"], 10 ** 6)), e["title"])
    return sorted(shown, key=key)


def grouped(shown: list[dict[str, Any]]) -> list[tuple[str, list[tuple[str, list[dict[str, Any]]]]]]:
    """[(category, [(prize, cases)])] of cases in the showcase's order (`ordered`), only groups that hold a case."""
    groups: list[tuple[str, list[tuple[str, list[dict[str, Any]]]]]] = []
    for case in shown:
        if not groups or groups[-1][0] != case["category"]:
            groups.append((case["category"], []))
        prizes = groups[-1][1]
        if not prizes or prizes[-1][0] != (case["prize"] or ""):
            prizes.append((case["prize"] or "", []))
        prizes[-1][1].append(case)
    return groups


def _index(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else len(order)


def hide_reason(raw: Any, shown: bool) -> str | None:
    """The organiser's reason for 从成果展示中撤下 (required then; none when putting a case back)."""
    if raw is not None and not isinstance(raw, str):
        raise Invalid("撤下原因应为文字", {"reason": "应为文字"})
    reason = (raw or "").strip().replace("\r\n", "\n") or None
    if shown:
        return None
    if reason is None:
        raise Invalid("请填写从成果展示中撤下的原因", {"reason": "请填写撤下原因"})
    if len(reason) > MAX_REASON:
        raise Invalid(f"撤下原因不能超过 {MAX_REASON} 字（现 {len(reason)} 字）",
                      {"reason": f"不能超过 {MAX_REASON} 字"})
    return reason


def flag(raw: Any, key: str, label: str) -> bool:
    """A request's yes/no field (`consent`, `shown`): true or false, nothing else."""
    value = raw.get(key) if isinstance(raw, Mapping) else None
    if not isinstance(value, bool):
        raise Invalid(f"请用 {key}: true 或 false 表示{label}", {key: "应为 true 或 false"})
    return value
