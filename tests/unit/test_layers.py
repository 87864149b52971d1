"""The layers of ARCHITECTURE.md, read from the imports of chalicelib/ (every import statement, also those inside
functions and under TYPE_CHECKING): the AWS libraries stay in store/ and mail/, web/ never imports store/, and
the services reach the tables through the Protocols of services/repositories.py."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
AWS_LIBRARIES = {"boto3", "botocore", "pynamodb"}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return imports_of(path.read_text(encoding="utf-8"), package)


def imports_of(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of each import in a module of `package`; `from x import y` also names x.y
    (y may be a module: `from . import store`)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module or ""
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _sources(*under: str) -> list[Path]:
    return sorted(p for part in under for p in PACKAGE.joinpath(part).rglob("*.py")) if under \
        else sorted(PACKAGE.rglob("*.py"))


def _within(path: Path, *folders: str) -> bool:
    return path.relative_to(PACKAGE).parts[0] in folders


def _offending(paths: list[Path], refused) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}: {name}"
            for path in paths for line, name in _imports(path) if refused(name)]


def _names_store(name: str) -> bool:
    return name == "chalicelib.store" or name.startswith("chalicelib.store.")


def test_only_store_and_mail_import_the_aws_libraries():
    outside = [p for p in _sources() if not _within(p, "store", "mail")]
    assert outside, "no modules read"
    assert _offending(outside, lambda name: name.split(".")[0] in AWS_LIBRARIES) == []


def test_web_never_imports_store():
    assert _offending(_sources("web"), _names_store) == []


def test_services_never_import_store():
    """Services reach every table and the bucket through the Protocols of services/repositories.py."""
    assert _offending(_sources("services"), _names_store) == []


def test_the_outbox_never_imports_store():
    """The mail port builds the rows of mail that rides in another table's transaction as domain records; the
    store repository that runs the transaction writes them (store/mail.save_in), and the log is a MailRepository."""
    outbox = PACKAGE / "mail" / "outbox.py"
    assert _imports(outbox), "no imports read"
    assert _offending([outbox], _names_store) == []


def test_the_walk_sees_relative_and_nested_imports():
    """The check itself: `from ..store import db` inside a function of web/ counts as importing store."""
    source = "def f():\n    from ..store import db\n    from .. import store\n    import botocore.session\n"
    names = [name for _, name in imports_of(source, "chalicelib.web")]
    assert {"chalicelib.store", "chalicelib.store.db", "botocore.session"} <= set(names)
    assert _names_store("chalicelib.store") and not _names_store("chalicelib.storefront")


# -- one kind of now ---------------------------------------------------------------------------------
# The services, the mail port, the jobs and the doors take the current time as an aware datetime
# (`bootstrap.now()`); epoch seconds are what a row stores, converted by domain/clock.py `epoch`.
# The repository Protocols still take epoch seconds (their stores convert next), so they are left out here.
NOW_NOT_YET = {"chalicelib/services/repositories.py"}


def _float_nows(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                if arg.arg == "now" and arg.annotation is not None and "float" in ast.unparse(arg.annotation):
                    found.append((node.lineno, f"{node.name}(now: {ast.unparse(arg.annotation)})"))
    return found


def test_every_now_of_the_services_mail_jobs_and_doors_is_a_datetime():
    offending = [f"{path.relative_to(ROOT)}:{line}: {what}"
                 for path in _sources("services", "mail", "jobs", "web")
                 if str(path.relative_to(ROOT)) not in NOW_NOT_YET
                 for line, what in _float_nows(path.read_text(encoding="utf-8"))]
    assert offending == []


def test_the_now_walk_sees_a_float_now():
    source = "def f(a, now: float): ...\nclass C:\n    def g(self, *, now: 'Callable[[], float]'): ...\n"
    assert [line for line, _ in _float_nows(source)] == [1, 3]
    assert _float_nows("def f(now: datetime, at: float): ...") == []
