"""Time and peak memory of the export builders (what the `exports` function runs after reading the tables):
results_xlsx of 10,000 cases, and the certificates PDF of 45 winners. Goal: <= 1 s each.

Run: python benchmarks/bench_exports.py [cases] [winners]
For each: the first call in this process ("cold": it imports openpyxl / fpdf2 and loads the font, as a
fresh Lambda instance does), the best of 3 warm calls, and the peak of Python allocations (tracemalloc,
a separate call, since tracing slows the code down). The rows are made up beforehand, outside the timing.
"""
from __future__ import annotations

import os
import platform
import random
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib.exports import data  # noqa: E402

CATEGORIES = ("发展提质", "服务增效", "党建赋能")
WORDS = ("党建引领", "数字政府", "基层治理", "营商环境", "红色物业", "志愿服务", "先锋驿站", "一网统管", "机关作风",
         "服务群众", "创新创优", "融合发展")
HOSTS = ("中共深圳市直属机关工作委员会", "深圳市总工会", "共青团深圳市委员会", "深圳市妇女联合会")
COMPETITION = "2023年深圳市“党建杯”机关创新创优竞赛暨第十一届广东省市直机关“先锋杯”工作创新大赛深圳选拔赛"
PRIZES = ("一等奖", "二等奖", "三等奖")


def results_book(cases: int, seed: int = 2023) -> data.ResultsBook:
    rng = random.Random(seed)
    sheets = []
    for index, name in enumerate(CATEGORIES):
        count = cases // 3 + (1 if index < cases % 3 else 0)
        rows = []
        for rank in range(1, count + 1):
            title = "".join(rng.sample(WORDS, 3)) + f"的实践探索（{index}-{rank}）"
            prize = PRIZES[(rank - 1) // 5] if rank <= 15 else ""
            rows.append(data.ResultRow(rank, title, f"深圳市第{rng.randint(1, 300)}局", f"牵头人{rank}",
                                       round(95 - rank * 40 / count, 2), prize, "是" if rank <= 15 else "否",
                                       "是" if rank <= 2 else "否", "综合评选" if rank <= 15 else "文本评审"))
        sheets.append((name, rows))
    return data.ResultsBook("2023年深圳市“党建杯”机关创新创优竞赛", "综合评选结果", sheets)


def certificate_book(winners: int, seed: int = 2023) -> data.CertificateBook:
    rng = random.Random(seed)
    items = [data.CertificateItem(f"深圳市第{rng.randint(1, 300)}局", "".join(rng.sample(WORDS, 3)) + "的实践探索",
                                  CATEGORIES[i % 3], PRIZES[(i // 3) // 5 % 3], "ABCD-EFGH-IJKL",
                                  "https://saiping.example.org/verify/ABCDEFGHIJKL") for i in range(winners)]
    return data.CertificateBook(COMPETITION, HOSTS, "2023年7月10日", items)


def measure(build: Callable[[], bytes], runs: int = 3) -> dict[str, Any]:
    """Wall and CPU seconds (the CPU time of this process: on a shared, loaded machine the wall time
    includes waiting for a core)."""
    start, cpu = time.perf_counter(), time.process_time()
    size = len(build())
    cold, cold_cpu = time.perf_counter() - start, time.process_time() - cpu
    warm, warm_cpu = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        build()
        warm.append(time.perf_counter() - start)
        warm_cpu.append(time.process_time() - cpu)
    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"cold": cold, "cold_cpu": cold_cpu, "warm": min(warm), "warm_cpu": min(warm_cpu),
            "peak_mib": peak / 2**20, "bytes": size}


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    winners = int(sys.argv[2]) if len(sys.argv) > 2 else 45
    book = results_book(cases)
    certificates = certificate_book(winners)

    def results() -> bytes:
        from chalicelib.exports.workbooks import results_workbook
        return results_workbook(book)

    def pdf() -> bytes:
        from chalicelib.exports.certificates_pdf import certificates_pdf
        return certificates_pdf(certificates)

    figures = {f"results_xlsx, {cases:,} cases": measure(results),
               f"certificates_pdf, {winners} winners": measure(pdf)}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, {platform.machine()}, "
          f"load average {load:.2f} at start; {date.today().isoformat()}")
    print(f"{'export':34} {'cold s (CPU)':>15} {'warm s (CPU)':>15} {'peak MiB':>9} {'file KiB':>9}  goal <= 1 s")
    for name, f in figures.items():
        verdict = "ok" if f["warm"] <= 1.0 else ("ok in CPU time" if f["warm_cpu"] <= 1.0 else "over")
        print(f"{name:34} {f['cold']:6.3f} ({f['cold_cpu']:5.3f}) {f['warm']:6.3f} ({f['warm_cpu']:5.3f}) "
              f"{f['peak_mib']:9.1f} {f['bytes'] / 1024:9.0f}  {verdict}")
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {end_load:.2f} at the end; the whole process peaked at {rss:.0f} MiB RSS "
          "(interpreter, libraries, the made-up rows, C buffers tracemalloc does not see)")


if __name__ == "__main__":
    main()
