"""Make the CJK font the certificates use: a subset of Noto Sans CJK SC shipped in chalicelib/fonts/.

    .venv/bin/python -m scripts.make_font_subset            # writes chalicelib/fonts/NotoSansSC-subset.otf
    .venv/bin/python -m scripts.make_font_subset --extra-chars "堃珺"   # add characters a unit name needs

Why a subset: everything in chalicelib/ rides in every function's zip, and Debian's collection
(fonts-noto-cjk, /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc, collection index 2 = SC) is
19 MB. The subset keeps GB2312 (levels 1 and 2: 6,763 hanzi, plus its punctuation, symbols, kana and
full-width forms), ASCII and Latin-1, general and CJK punctuation, and the full-width forms; it drops
vertical metrics, OpenType layout features and hinting the certificates do not use.

The font is under the SIL Open Font License 1.1 (Reserved Font Name "Source"; the subset keeps the Noto
name, which the licence does not reserve). The licence text is copied beside the font from Debian's
copyright file of the same package, with the font's own copyright line first. The output is deterministic
for a given source font and fontTools version, so re-running it changes nothing in git.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SC_INDEX = 2
DEBIAN_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
OUT_DIR = ROOT / "chalicelib" / "fonts"
OUT_FONT = OUT_DIR / "NotoSansSC-subset.otf"
OUT_LICENCE = OUT_DIR / "LICENSE-OFL.txt"
FAMILY = "Noto Sans SC Subset"
POSTSCRIPT = "NotoSansSCSubset-Regular"

RANGES = (
    (0x0020, 0x007E),   # ASCII
    (0x00A0, 0x00FF),   # Latin-1 (×, ·, é in a name)
    (0x2010, 0x2027),   # dashes, quotes “”‘’, …
    (0x2030, 0x203B),   # ‰ ′ ″ ※
    (0x2460, 0x2473),   # ①–⑳
    (0x3000, 0x303F),   # CJK symbols and punctuation 、。〈〉《》「」『』【】〔〕
    (0xFF01, 0xFF5E),   # full-width forms （），：；
    (0xFFE0, 0xFFE5),   # full-width ￥ etc.
)


def gb2312_characters() -> list[str]:
    """Every character GB2312 encodes: rows 0xA1–0xA9 (symbols) and 0xB0–0xF7 (levels 1 and 2 hanzi)."""
    chars = []
    for row in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def wanted_codepoints(extra: str = "") -> set[int]:
    points = {ord(c) for c in gb2312_characters()}
    for first, last in RANGES:
        points.update(range(first, last + 1))
    points.update(ord(c) for c in extra if not c.isspace())
    return points


def licence_text(copyright_line: str) -> str:
    """The SIL OFL 1.1 text from Debian's machine-readable copyright file, with the font's copyright."""
    raw = DEBIAN_COPYRIGHT.read_text(encoding="utf-8")
    match = re.search(r"^License: SIL-1\.1\n((?: .*\n?)+)", raw, re.M)
    if not match:
        raise SystemExit(f"no SIL-1.1 licence text in {DEBIAN_COPYRIGHT}")
    lines = [line[1:] if line.startswith(" ") else line for line in match.group(1).splitlines()]
    body = "\n".join("" if line == "." else line for line in lines).strip() + "\n"
    return (f"{FAMILY} ({OUT_FONT.name}) is a subset of Noto Sans CJK SC made by scripts/make_font_subset.py.\n"
            f"Copyright {copyright_line.lstrip('© ').strip().rstrip('.')}, with Reserved Font Name 'Source'.\n"
            "Noto is a trademark of Google Inc.\n\n"
            "This Font Software is licensed under the SIL Open Font License, Version 1.1.\n\n" + body)


def make_subset(source: Path = SOURCE, out: Path = OUT_FONT, extra: str = "") -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=SC_INDEX, lazy=False, recalcTimestamp=False)
    copyright_line = font["name"].getDebugName(0) or "2014-2021 Adobe (http://www.adobe.com/)."
    cmap = font.getBestCmap()
    points = sorted(p for p in wanted_codepoints(extra) if p in cmap)
    options = subset.Options()
    options.layout_features = []          # no GSUB/GPOS features: certificates set plain horizontal text
    options.hinting = False
    options.desubroutinize = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 13, 14]
    options.name_languages = [0x0409]
    options.notdef_outline = True
    options.drop_tables += ["VORG", "vhea", "vmtx", "BASE", "GSUB", "GPOS", "GDEF", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=points)
    subsetter.subset(font)
    _rename(font)
    font["head"].modified = font["head"].created   # deterministic output
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    OUT_LICENCE.write_text(licence_text(copyright_line), encoding="utf-8")
    return out


def _rename(font) -> None:
    """A modified version carries its own name (OFL §3), so it never poses as the full font."""
    names = {1: FAMILY, 3: f"2.004;{POSTSCRIPT}", 4: f"{FAMILY} Regular", 6: POSTSCRIPT}
    for record in font["name"].names:
        if record.nameID in names:
            record.string = names[record.nameID]
    if "CFF " in font:
        cff = font["CFF "].cff
        old = cff.fontNames[0]
        cff.fontNames[0] = POSTSCRIPT
        top = cff[old] if old in cff.keys() else cff.topDictIndex[0]
        top.FullName = f"{FAMILY} Regular"
        top.FamilyName = FAMILY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="Noto Sans CJK .ttc (apt: fonts-noto-cjk)")
    parser.add_argument("--out", type=Path, default=OUT_FONT)
    parser.add_argument("--extra-chars", default="", help="characters to keep beyond GB2312")
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"{args.source} is missing: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 1
    out = make_subset(args.source, args.out, args.extra_chars)
    from fontTools.ttLib import TTFont
    glyphs = len(TTFont(str(out)).getGlyphOrder())
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {out.stat().st_size:,} bytes, "
          f"{glyphs} glyphs; licence in {OUT_LICENCE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
