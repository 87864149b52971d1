"""Cold start of the API function: `import app` against a bare `import chalice, boto3`.

Each import runs in a fresh interpreter (best of N wall times). `import app` registers the routes only:
the web modules name the services, the store, PynamoDB, boto3 and Jinja2 through `chalicelib.lazy`, so a
request imports what its handler touches. The third figure is `import app` plus every module a handler
can import (all lazy names of the web modules, Jinja2, argon2): the most a first request adds. Also lists
heavy modules on the API path (none may be: openpyxl, fpdf, docx, fontTools, segno stay inside the jobs).

Python compiles a module without a `__pycache__` entry on every import (and PYTHONDONTWRITEBYTECODE, or
Lambda's read-only file system, keeps it from writing one), so each figure is taken both ways.

    .venv/bin/python benchmarks/bench_cold_start.py [runs]
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("openpyxl", "fpdf", "docx", "fontTools", "segno", "datasketch", "numpy", "PIL", "lxml")
EVERYTHING = """
import app, sys, jinja2, argon2
from chalicelib.lazy import LazyModule
for name, module in list(sys.modules.items()):
    if name.startswith("chalicelib.web."):
        for value in vars(module).values():
            if isinstance(value, LazyModule):
                value.__name__  # an attribute read imports the module
"""


def best_of(code: str, runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=env)
        times.append(time.perf_counter() - start)
    return min(times)


def clear_bytecode() -> None:
    for folder in [*ROOT.glob("chalicelib/**/__pycache__"), ROOT / "__pycache__"]:
        shutil.rmtree(folder, ignore_errors=True)


def measure(runs: int, compiled: bool) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    clear_bytecode()
    if compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "app.py", "chalicelib"], cwd=ROOT, check=True)
    bare = best_of("import chalice, boto3", runs, env)
    full = best_of("import app", runs, env)
    every = best_of(EVERYTHING, runs, env)
    print(f"-- the project's modules {'with' if compiled else 'without'} bytecode in __pycache__")
    print(f"import chalice, boto3:              {bare * 1000:4.0f} ms (best of {runs})")
    print(f"import app:                         {full * 1000:4.0f} ms   ratio {full / bare:.2f} (goal <= 1.2)")
    print(f"import app + all a handler imports: {every * 1000:4.0f} ms   ratio {every / bare:.2f}")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    measure(runs, compiled=False)
    measure(runs, compiled=True)
    clear_bytecode()
    loaded = subprocess.run([sys.executable, "-c", "import sys, app; print(' '.join(sorted(sys.modules)))"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    heavy = sorted({m.split(".")[0] for m in loaded if m.split(".")[0] in HEAVY})
    on_path = [m for m in ("boto3", "pynamodb", "jinja2", "argon2") if m in loaded]
    print(f"heavy modules on the API path: {', '.join(heavy) or 'none'}")
    print(f"imported by `import app` of boto3, pynamodb, jinja2, argon2: {', '.join(on_path) or 'none'}")
    if heavy:
        raise SystemExit("a heavy module is imported on the API's cold path")


if __name__ == "__main__":
    main()
