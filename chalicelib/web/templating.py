"""Jinja2 for the pages: autoescaped, loading from chalicelib/templates first (what `make package` ships
to Lambda, aws/chalice#469), then from the checkout's top-level templates/ (development and tests).
In the package the page templates come compiled (chalicelib/templates_compiled, infra/templates.py): a
cold start imports their Python modules instead of lexing, parsing and compiling each template it renders.

Static files (CSS, JS) live beside the templates in `static/` and are found the same way.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.readable import day, when

if TYPE_CHECKING:
    from jinja2 import Environment

PACKAGED = Path(__file__).resolve().parents[1] / "templates"
CHECKOUT = Path(__file__).resolve().parents[2] / "templates"
ROOTS = (PACKAGED, CHECKOUT)
COMPILED = Path(__file__).resolve().parents[1] / "templates_compiled"   # only in the package
PAGE_FOLDERS = ("pages",)         # what this environment renders (mail/ has its own, chalicelib/mail/render.py)


def loader() -> Any:
    """The compiled templates where `make package` put them, else the template sources."""
    from jinja2 import FileSystemLoader, ModuleLoader
    if COMPILED.is_dir():
        return ModuleLoader(str(COMPILED))
    return FileSystemLoader([str(root) for root in ROOTS])


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment  # on the first page, not on `import app`

    env = Environment(
        loader=loader(),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.globals["static_url"] = static_url
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["filesize"] = filesize
    return env


def filesize(value: int | float | None) -> str:
    size = float(value or 0)
    for unit in ("字节", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{int(size)} {unit}" if unit == "字节" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def find_static(name: str) -> Path | None:
    """The file `static/<name>` from the first root that has it. Callers pass whitelisted names only."""
    for root in ROOTS:
        path = root / "static" / name
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=32)
def static_digest(name: str) -> str:
    path = find_static(name)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path else "0"


def static_url(name: str) -> str:
    """`/static/<name>?v=<content hash>`: a deploy changes the URL, so browsers may cache the file."""
    return f"/static/{name}?v={static_digest(name)}"


def static_response(name: str, kinds: dict[str, str], version: str | None, headers: dict[str, str]) -> Any:
    """A whitelisted file of static/ (`kinds`: name -> media type), cached for good when the request names
    its current content hash (`?v=`, see static_url), else revalidated; anything else is a 404."""
    from chalice import Response

    kind = kinds.get(name)
    if not kind or (path := find_static(name)) is None:
        return Response(body="没有这个文件", status_code=404,
                        headers={"Content-Type": "text/plain; charset=utf-8", **headers})
    fresh = version == static_digest(name)
    return Response(body=path.read_text("utf-8"), status_code=200, headers={
        **headers, "Content-Type": kind,
        "Cache-Control": "public, max-age=31536000, immutable" if fresh else "no-cache"})
