"""Compiles the page templates at package time, so that a cold start imports them instead of compiling them.

    python -m infra.templates chalicelib/templates_compiled     # make package (removed again afterwards)

Jinja2 compiles each template to Python the first time it is rendered: lexing, parsing, code generation and
Python's own compile, on every cold start (Lambda keeps nothing between instances). `compile_templates` does
it once here, with the pages' own environment (chalicelib/web/templating.py: the same options, so the code is
what the running environment would generate); the loader then is Jinja2's ModuleLoader over this folder, and
infra/bytecode.py adds the modules' bytecode to the zip like any other module. The set compiled is derived
from the folder: every file under templates/<folder>/ for the folders the pages' environment renders
(templating.PAGE_FOLDERS), nothing else (tests/integration/test_package.py checks the zip against templates/).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "templates"


def page_templates(sources: Path = SOURCES) -> list[str]:
    """The template names (as the pages ask for them: "pages/…") of every file of the page folders."""
    from chalicelib.web import templating
    return sorted(p.relative_to(sources).as_posix() for folder in templating.PAGE_FOLDERS
                  for p in (sources / folder).rglob("*") if p.is_file())


def source_environment(sources: Path = SOURCES) -> Any:
    """The pages' environment (a fresh one, not the cached one) reading the sources in `sources`."""
    from jinja2 import FileSystemLoader

    from chalicelib.web import templating
    env = templating.environment.__wrapped__()
    env.loader = FileSystemLoader(str(sources))
    return env


def module_name(template: str) -> str:
    """The module ModuleLoader imports for a template (tmpl_<sha1 of the name>)."""
    from jinja2 import ModuleLoader
    return ModuleLoader.get_module_filename(template)


def compile_pages(target: Path, sources: Path = SOURCES) -> list[str]:
    """Writes one module per page template into `target` (emptied first); the names compiled."""
    names = page_templates(sources)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    source_environment(sources).compile_templates(str(target), zip=None, filter_func=set(names).__contains__,
                                                  ignore_errors=False, log_function=None)
    written = sorted(p.name for p in target.iterdir())
    if written != sorted(module_name(n) for n in names):
        raise SystemExit(f"compiled {len(written)} modules for {len(names)} templates in {target}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    names = compile_pages(args.target)
    print(f"{args.target}: {len(names)} page templates compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
