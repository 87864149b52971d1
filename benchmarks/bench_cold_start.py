"""Cold start of the API function: `import app` against a bare `import chalice, boto3`.

Each import runs in a fresh interpreter (best of N wall times); also lists heavy modules that the API
path imports (none should be: openpyxl, fpdf, docx, fontTools, segno stay inside the jobs).

    .venv/bin/python benchmarks/bench_cold_start.py [runs]
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("openpyxl", "fpdf", "docx", "fontTools", "segno", "datasketch", "numpy", "PIL", "lxml")


def best_of(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    bare = best_of("import chalice, boto3", runs)
    full = best_of("import app", runs)
    loaded = subprocess.run([sys.executable, "-c", "import sys, app; print(' '.join(sorted(sys.modules)))"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    heavy = sorted({m.split(".")[0] for m in loaded if m.split(".")[0] in HEAVY})
    print(f"import chalice, boto3: {bare * 1000:.0f} ms (best of {runs})")
    print(f"import app:            {full * 1000:.0f} ms (best of {runs})")
    print(f"ratio:                 {full / bare:.2f} (goal <= 1.2)")
    print(f"heavy modules on the API path: {', '.join(heavy) or 'none'}")
    if heavy:
        raise SystemExit("a heavy module is imported on the API's cold path")


if __name__ == "__main__":
    main()
