"""Modules imported on first use.

`import app` is the API function's cold start: it must register the routes and nothing more. The web
modules therefore bind the services, the domain rules and the bootstrap through `lazy`, and a request
imports what its handler touches (benchmarks/bench_cold_start.py measures it). One style everywhere, so
readers, IDEs and mypy see every arrow:

    if TYPE_CHECKING:
        from .. import bootstrap
        from ..services import accounts, cases
    else:
        bootstrap, accounts, cases = lazy(__name__, "..bootstrap", "..services.accounts", "..services.cases")

tests/unit/test_lazy_imports.py checks that the two lists name the same modules in the same order.
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


def lazy(importer: str, *names: str) -> tuple[Any, ...]:
    """One stand-in per name; relative names (`"..services.cases"`) resolve against the module `importer`."""
    return tuple(LazyModule(absolute(name, importer)) for name in names)


def absolute(name: str, importer: str) -> str:
    """`name` as `from <name> import …` in the module `importer` means it (importlib.util.resolve_name, which
    the cold start need not import)."""
    level = len(name) - len(name.lstrip("."))
    if not level:
        return name
    base = importer.rsplit(".", level)[0]
    return f"{base}.{name[level:]}" if name[level:] else base
