"""The door for what a request carries: JSON bodies, urlencoded forms, query strings and path parameters.

Each value is parsed once and walked once; the first value no field can hold is refused with `Invalid`
naming its field in the contract's style (`leader.mobile`, `innovations[1]`):
  - text that is not Unicode: a lone surrogate (`"\\ud800"` as a JSON escape) or bytes that are not UTF-8
    (read with `surrogateescape`, so they show up as lone surrogates in the field that carried them);
  - control characters (C0, DEL, C1) other than tab, line feed and carriage return, which long text keeps;
  - numbers no field holds: NaN / Infinity literals, 1e400 (not finite), integers of more than 15 digits;
  - nesting deeper than any request shape (MAX_DEPTH).
Nothing here echoes the value: messages name the field and say what to fix.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable
from urllib.parse import parse_qs

from ..domain.errors import Invalid

MAX_DEPTH = 12                # the deepest request shape (an archive's case's list of points) is 4
MAX_INT_DIGITS = 15           # no field counts further (versions, scores, sizes, years)
MAX_FORM_FIELDS = 200
# Lone surrogates, C0 controls but tab/LF/CR, DEL and the C1 controls.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile("[\t\n\r]")

NOT_UNICODE = "含有无法识别的字符（应为 UTF-8 编码的文本），请重新输入"
CONTROL = "含有不可见的控制字符，请删去后重新输入"
NUMBER = f"数值超出范围（应为有限的数，整数不超过 {MAX_INT_DIGITS} 位）"
TOO_DEEP = f"嵌套层次过深（不超过 {MAX_DEPTH} 层）"
BAD_NAME = "字段名含有无效字符"


class _RefusedNumber:
    """What the JSON parser leaves where a number no field holds was written; the walk names its field."""


REFUSED_NUMBER = _RefusedNumber()


def text_problem(value: str, line_breaks: bool = True) -> str | None:
    """Why `value` cannot be stored or shown (None if it can); tab / LF / CR only where `line_breaks`."""
    found = _REFUSED.search(value) or (None if line_breaks else _BREAKS.search(value))
    if found is None:
        return None
    return NOT_UNICODE if _SURROGATE.match(found.group()) else CONTROL


def refuse(field: str, reason: str) -> Invalid:
    return Invalid(f"“{field}”{reason}", {field: reason})


def _int(digits: str) -> Any:
    return REFUSED_NUMBER if len(digits.lstrip("-")) > MAX_INT_DIGITS else int(digits)


def _float(literal: str) -> Any:
    value = float(literal)
    return value if value - value == 0 else REFUSED_NUMBER      # inf - inf is nan


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body, walked (see `check`); Invalid naming `body` when it is not JSON."""
    text = raw.decode("utf-8", "surrogateescape")
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=lambda _: REFUSED_NUMBER)
    except (ValueError, RecursionError):
        if _SURROGATE.search(text):
            raise Invalid("请求体不是有效的 UTF-8 编码", {"body": "编码应为 UTF-8"}) from None
        raise Invalid("请求体不是有效的 JSON", {"body": "JSON 格式错误"}) from None
    check(value)
    return value


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check(value: Any, path: str = "") -> None:
    """Walk a parsed value once (iteratively: no recursion to exhaust) and refuse the first bad one."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise refuse(where or "body", problem)
        elif item is REFUSED_NUMBER:
            raise refuse(where or "body", NUMBER)
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise refuse(where or "body", TOO_DEEP)
            pairs: Iterable[tuple[str | int, Any]] = item.items() if isinstance(item, dict) else enumerate(item)
            children = []
            for key, child in pairs:
                if isinstance(key, str) and text_problem(key, line_breaks=False):
                    raise refuse(where or "body", BAD_NAME)
                children.append((child, _path(where, key), depth + 1))
            stack.extend(reversed(children))     # the first offending field in reading order


def parse_form(raw: bytes) -> dict[str, list[str]]:
    """An urlencoded form's fields, every name and value walked: bad UTF-8 (raw or percent-encoded) and
    control characters other than line breaks are refused naming the field. ValueError: too many fields."""
    fields = parse_qs(raw.decode("utf-8", "surrogateescape"), keep_blank_values=True, errors="surrogateescape",
                      max_num_fields=MAX_FORM_FIELDS)
    check_params(fields.keys(), "form")
    for name, values in fields.items():
        for value in values:
            problem = text_problem(value)
            if problem:
                raise refuse(name, problem)
    return fields


def check_params(names: Iterable[str], what: str) -> None:
    for name in names:
        if text_problem(name, line_breaks=False):
            raise Invalid(f"{what}{BAD_NAME}", {what: BAD_NAME})


def check_request_params(path_params: dict[str, str] | None, query: dict[str, list[str]] | None) -> None:
    """Path parameters and the query string: no line breaks either (no id or filter holds one)."""
    check_params((query or {}).keys(), "query")
    for name, values in [*((path_params or {}).items()), *((query or {}).items())]:
        for value in (values if isinstance(values, list) else [values]):
            problem = text_problem(value, line_breaks=False) if isinstance(value, str) else None
            if problem:
                raise refuse(name, problem)
