"""Every module bound on first use (chalicelib/lazy.py) is also imported under TYPE_CHECKING, name for name, so
readers and mypy see the same arrows the running code follows; `lazy_module("…")` strings are gone."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.joinpath("chalicelib").rglob("*.py"), ROOT / "app.py"])


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _absolute(name: str, module: str) -> str:
    return importlib.util.resolve_name(name, module.rpartition(".")[0])


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _lazy_call(node: ast.AST) -> ast.Call | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "lazy":
        return node
    return None


def _typed_imports(body: list[ast.stmt], module: str) -> dict[str, str]:
    """name bound under TYPE_CHECKING -> the module it names (a module import, as `lazy` binds modules)."""
    bound = {}
    for statement in body:
        if isinstance(statement, ast.ImportFrom):
            package = _absolute("." * statement.level + (statement.module or ""), module)
            for alias in statement.names:
                bound[alias.asname or alias.name] = f"{package}.{alias.name}"
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                bound[alias.asname or alias.name] = alias.name
    return bound


def _lazy_binding(statement: ast.stmt, module: str, problems: list[str]) -> list[tuple[str, str]]:
    call = _lazy_call(statement.value) if isinstance(statement, ast.Assign) else None
    if call is None:
        return []
    target = statement.targets[0]
    names = [element.id for element in getattr(target, "elts", []) if isinstance(element, ast.Name)]
    first, *rest = call.args
    if not (isinstance(first, ast.Name) and first.id == "__name__"):
        problems.append(f"{module}:{call.lineno}: lazy() takes __name__ first")
    modules = [arg.value for arg in rest if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    if len(names) != len(call.args) - 1 or len(modules) != len(names):
        problems.append(f"{module}:{call.lineno}: lazy() binds {len(names)} names to {len(call.args) - 1} modules")
    return [(name, _absolute(target_module, module)) for name, target_module in zip(names, modules)]


def problems_of(source: str, module: str) -> list[str]:
    """What is wrong with the lazy bindings of one module's source (empty when nothing is)."""
    tree = ast.parse(source)
    problems: list[str] = []
    checked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "lazy_module":
            problems.append(f"{module}:{node.lineno}: lazy_module() hides an import; use lazy() under TYPE_CHECKING")
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        typed = _typed_imports(node.body, module)
        for statement in node.orelse:
            for name, target in _lazy_binding(statement, module, problems):
                checked.add(id(statement.value))  # type: ignore[attr-defined]
                if typed.get(name) != target:
                    problems.append(f"{module}: {name} = lazy {target} has no `import` of it under TYPE_CHECKING")
                elif importlib.util.find_spec(target) is None:
                    problems.append(f"{module}: {name} names {target}, which does not exist")
    for node in ast.walk(tree):
        if _lazy_call(node) is not None and id(node) not in checked:
            problems.append(f"{module}:{node.lineno}: lazy() outside the `else:` of `if TYPE_CHECKING:`")
    return problems


def test_every_lazy_binding_has_its_import_under_type_checking():
    problems = [p for path in SOURCES for p in problems_of(path.read_text(encoding="utf-8"), module_name(path))]
    assert problems == []


def test_the_web_layer_binds_its_services_lazily():
    lazy_users = [path for path in SOURCES if "= lazy(" in path.read_text(encoding="utf-8")]
    assert ROOT / "chalicelib/web/api.py" in lazy_users
    assert ROOT / "chalicelib/services/console.py" in lazy_users


GOOD = '''
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from .. import bootstrap
    from ..services import accounts, judge_portal as portal
else:
    bootstrap, accounts, portal = lazy(__name__, "..bootstrap", "..services.accounts", "..services.judge_portal")
'''


def test_a_matching_pair_passes():
    assert problems_of(GOOD, "chalicelib.web.example") == []


def test_a_lazy_name_missing_from_type_checking_fails():
    drifted = GOOD.replace("judge_portal as portal", "judge_portal")
    assert problems_of(drifted, "chalicelib.web.example") == [
        "chalicelib.web.example: portal = lazy chalicelib.services.judge_portal has no `import` of it under "
        "TYPE_CHECKING"]


def test_a_lazy_name_bound_to_another_module_fails():
    drifted = GOOD.replace('"..services.accounts"', '"..services.cases"')
    assert problems_of(drifted, "chalicelib.web.example") == [
        "chalicelib.web.example: accounts = lazy chalicelib.services.cases has no `import` of it under TYPE_CHECKING"]


def test_a_module_that_does_not_exist_fails():
    drifted = GOOD.replace("judge_portal", "judge_portals")
    assert problems_of(drifted, "chalicelib.web.example") == [
        "chalicelib.web.example: portal names chalicelib.services.judge_portals, which does not exist"]


def test_lazy_module_strings_and_stray_lazy_calls_fail():
    source = 'import x\nbootstrap = lazy_module("chalicelib.bootstrap")\nother, = lazy(__name__, "..bootstrap")\n'
    assert problems_of(source, "chalicelib.web.example") == [
        "chalicelib.web.example:2: lazy_module() hides an import; use lazy() under TYPE_CHECKING",
        "chalicelib.web.example:3: lazy() outside the `else:` of `if TYPE_CHECKING:`"]


def test_names_and_modules_counted_apart_fail():
    drifted = GOOD.replace("bootstrap, accounts, portal =", "bootstrap, accounts =")
    assert problems_of(drifted, "chalicelib.web.example")[0] == (
        "chalicelib.web.example:7: lazy() binds 2 names to 3 modules")


def test_relative_names_resolve_as_python_resolves_them():
    from chalicelib.lazy import absolute
    cases = [("..bootstrap", "chalicelib.web.api"), (".cases", "chalicelib.services.console"),
             ("..services.judge_portal", "chalicelib.web.html"), ("...media", "chalicelib.web.x.y"),
             ("chalicelib.bootstrap", "chalicelib.web.api")]
    for name, importer in cases:
        assert absolute(name, importer) == _absolute(name, importer)


def test_a_lazy_module_is_imported_on_its_first_attribute():
    import sys

    from chalicelib.lazy import lazy
    sys.modules.pop("colorsys", None)   # a module nothing here imports
    (colorsys,) = lazy("chalicelib.web.example", "colorsys")
    assert "colorsys" not in sys.modules
    assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules
