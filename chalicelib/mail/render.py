"""Mail bodies from Jinja2 templates (templates/mail/<kind>.txt and .html; zh-CN).

Text templates are not HTML-escaped; HTML templates are. User text goes only into bodies, never into
headers (the subject comes from the template's first line and is stripped of line breaks).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..domain.readable import day, when

ROOTS = (Path(__file__).resolve().parents[1] / "templates", Path(__file__).resolve().parents[2] / "templates")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader([str(r) for r in ROOTS]), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), keep_trailing_newline=True)
    env.filters["when"] = when      # the pages' filters: 2023年6月9日 18:00 (chalicelib/domain/readable.py)
    env.filters["day"] = day
    return env


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of a mail kind. The text template's first line is 'Subject: …'."""
    env = _environment()
    text = env.get_template(f"mail/{kind}.txt").render(**context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"mail/{kind}.txt must start with a 'Subject:' line")
    subject = " ".join(first[len("Subject:"):].split())
    html = env.get_template(f"mail/{kind}.html").render(subject=subject, **context)
    return subject, body.lstrip("\n"), html


def render_subject(kind: str, context: dict[str, Any]) -> str:
    """The subject alone (a queued mail's log row names it; the body is composed when it is sent)."""
    first = _environment().get_template(f"mail/{kind}.txt").render(**context).partition("\n")[0]
    if not first.startswith("Subject:"):
        raise ValueError(f"mail/{kind}.txt must start with a 'Subject:' line")
    return " ".join(first[len("Subject:"):].split())
