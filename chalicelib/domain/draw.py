"""The presentation-order draw (抽签) of the live final, one per category.

Reproducible from its seed: the case ids are sorted first (so the order they were read in never
matters), then shuffled by `random.Random(seed)` (a `str` seed is hashed with SHA-512 into the
Mersenne Twister's state). Python keeps str seeding stable across versions; `shuffle` itself is not
promised to stay the same forever, so the stored draw keeps the order and the Python version with the
seed, and anyone can re-run `draw_order(case_ids, seed)` to check it.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Iterable

SEED_PATTERN = re.compile(r"[0-9A-Za-z_\-]{4,64}")


class DrawError(ValueError):
    """A seed that cannot be used (empty, too long, odd characters)."""


@dataclass(frozen=True)
class Draw:
    category: str
    seed: str
    order: tuple[str, ...]          # case ids, first to present first


def check_seed(seed: object) -> str:
    """A seed is 4-64 letters, digits, '_' or '-': easy to read out in the hall and to type again."""
    if not isinstance(seed, str) or not SEED_PATTERN.fullmatch(seed):
        raise DrawError("抽签种子 seed 应为 4～64 位字母、数字、下划线或连字符")
    return seed


def draw_order(case_ids: Iterable[str], seed: str) -> tuple[str, ...]:
    """The presentation order of `case_ids` for `seed` (a pure function: same input, same order)."""
    ids = sorted(set(case_ids))
    random.Random(check_seed(seed)).shuffle(ids)
    return tuple(ids)


def draw(category: str, case_ids: Iterable[str], seed: str) -> Draw:
    return Draw(category, seed, draw_order(case_ids, seed))
