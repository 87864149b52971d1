"""The page templates compiled at package time (infra/templates.py, Jinja2's ModuleLoader in
chalicelib/web/templating.py) render what the sources render: the same pages, byte for byte."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import register_unit

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'(name="csrf_token" value=")[^"]+(")')


ORGANISER_PAGES = ("/admin", "/admin/cases", "/admin/judges", "/admin/stages", "/admin/links", "/admin/exports")


def _pages(client, cookie: str, organiser: str) -> dict[str, tuple[int, str]]:
    found = {}
    for path, headers in (("/", {}), ("/login", {}), ("/register", {}), ("/cases", {"Cookie": cookie}),
                          ("/cases/new", {"Cookie": cookie}), ("/cases/c-missing", {"Cookie": cookie}),
                          *((page, {"Cookie": organiser}) for page in ORGANISER_PAGES)):
        response = client.http.get(path, headers=headers)
        found[path] = (response.status_code, TOKEN.sub(r"\1…\2", response.body.decode("utf-8")))
    return found


def test_every_page_template_compiles_to_one_module(tmp_path):
    from infra import templates as precompile
    names = precompile.compile_pages(tmp_path)
    assert names == sorted(p.relative_to(ROOT / "templates").as_posix()
                           for p in (ROOT / "templates" / "pages").rglob("*") if p.is_file())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(precompile.module_name(n) for n in names)


def test_pages_from_compiled_templates_are_the_pages_from_the_sources(client, api, tmp_path, monkeypatch):
    from jinja2 import FileSystemLoader, ModuleLoader

    from chalicelib.web import templating
    from infra import templates as precompile
    from tests.integration.test_judging_api import organiser
    cookie = f"sp_session={register_unit(api, 1)}"
    organiser_cookie = f"sp_session={organiser(api).token}"
    templating.environment.cache_clear()
    assert isinstance(templating.environment().loader, FileSystemLoader)
    from_sources = _pages(client, cookie, organiser_cookie)
    precompile.compile_pages(tmp_path / "templates_compiled")
    monkeypatch.setattr(templating, "COMPILED", tmp_path / "templates_compiled")
    templating.environment.cache_clear()
    try:
        assert isinstance(templating.environment().loader, ModuleLoader)
        from_modules = _pages(client, cookie, organiser_cookie)
    finally:
        monkeypatch.undo()
        templating.environment.cache_clear()
    assert [status for status, _ in from_sources.values()] == [200, 200, 200, 200, 200, 404] + [200] * len(ORGANISER_PAGES)
    assert from_modules == from_sources


def test_a_template_missing_from_the_compiled_set_is_not_found(tmp_path, monkeypatch):
    from jinja2 import TemplateNotFound

    from chalicelib.web import templating
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(templating, "COMPILED", tmp_path / "empty")
    templating.environment.cache_clear()
    try:
        with pytest.raises(TemplateNotFound):
            templating.render("pages/login.html")
    finally:
        monkeypatch.undo()
        templating.environment.cache_clear()
