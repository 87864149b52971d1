"""bootstrap builds every repository of `Deps` from one table (`_STORE`): each field a row, no row left over."""
from __future__ import annotations

import importlib
from dataclasses import fields

from chalicelib import bootstrap


def test_every_repository_of_deps_has_one_row():
    built_otherwise = {"clock", "ports"}
    assert set(bootstrap._STORE) == {f.name for f in fields(bootstrap.Deps)} - built_otherwise


def test_each_row_names_a_class_of_the_store():
    for module, name, _on_bucket in bootstrap._STORE.values():
        assert isinstance(getattr(importlib.import_module(module, "chalicelib"), name), type)
