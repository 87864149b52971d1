"""Time to rank one category of 10,000 cases x 7 judges (best of 5).

Run: python benchmarks/bench_ranking.py [cases] [judges]
The scores are built once, outside the timing (a JudgeScore sums its criteria
when it is made); the timing covers ``rank_category`` with the advance quota
and the prize bands, for the default method (trimmed mean) and the plain mean.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib.domain.ranking import JudgeScore, PrizeBand, rank_category  # noqa: E402

CRITERIA = (("foresight", 300), ("practicality", 300), ("effectiveness", 400))
BANDS = (PrizeBand("first", 1, 5), PrizeBand("second", 6, 10), PrizeBand("third", 11, 15))


def build_scores(cases: int, judges: int, seed: int = 2023) -> dict[str, list[JudgeScore]]:
    rng = random.Random(seed)
    return {
        f"c{c:05d}": [JudgeScore(f"j{j}", f"c{c:05d}", {name: rng.randint(max_ // 2, max_) for name, max_ in CRITERIA})
                      for j in range(judges)]
        for c in range(cases)
    }


def best_of(runs: int, scores: dict[str, list[JudgeScore]], method: str) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        rank_category(scores, scores.keys(), method, advance_quota=15, prize_bands=BANDS)
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    judges = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    scores = build_scores(cases, judges)
    for method in ("trimmed_mean", "mean"):
        print(f"rank_category {method}: {cases} cases x {judges} judges: "
              f"{best_of(5, scores, method) * 1000:.1f} ms (best of 5)")
    # zscore is exact Fraction arithmetic, not the fast path: shown once, for information
    print(f"rank_category zscore: {cases} cases x {judges} judges: "
          f"{best_of(1, scores, 'zscore') * 1000:.1f} ms (one run)")


if __name__ == "__main__":
    main()
