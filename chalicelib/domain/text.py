"""Names as people see them.

A name, a unit or a file name is shown to others (judges, the organiser, certificates). Format
characters (Unicode category Cf: bidirectional overrides and isolates U+202A–U+202E / U+2066–U+2069,
zero-width spaces and joiners) can reorder or hide what a reader sees: 「报告」 + U+202E + 「fdp.exe」
reads as 「报告exe.pdf」. Control characters (Cc) have no place in one line of text. Both are dropped
before such a value is checked and stored. Long texts (the 说明书) keep their line breaks and are not passed
through here.
"""
from __future__ import annotations

import unicodedata

HIDDEN = ("Cc", "Cf")


def single_line(value: str) -> str:
    """`value` without control and format characters, trimmed."""
    return "".join(ch for ch in value if unicodedata.category(ch) not in HIDDEN).strip()
