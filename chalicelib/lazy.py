"""Modules imported on first use.

`import app` is the API function's cold start: it must register the routes and nothing more. The web
modules therefore name the services, the store, the domain rules and Jinja2 through `lazy_module`, and
a request imports what its handler touches (benchmarks/bench_cold_start.py measures it).
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module `name`; the first attribute read imports it (under the import lock)."""

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    return LazyModule(name)
