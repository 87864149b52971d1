"""Originality (原创性检测): which current cases overlap an archived case or another current case.

Pure Python, standard library only (no numpy), deterministic across processes. docs/ORIGINALITY.md
explains the method to organisers; in short:

1. **Text.** A case's text is its title, background, innovations and results, one per line.
2. **Sentences.** The text is split after 。！？；!?; (and their full-, half-width and small forms) and at
   line breaks. Each sentence is *normalised*: NFKC (full-width letters, digits and punctuation fold to
   their half-width forms), case-folded, and everything but letters and digits removed (whitespace, Chinese
   and Western punctuation, symbols). Empty sentences are dropped.
3. **Boilerplate discount.** A normalised sentence found in at least
   ``max(boilerplate_min_docs, ceil(boilerplate_fraction * documents))`` documents of the corpus (the
   archive plus the current cases compared) is boilerplate — the standard opening every case repeats —
   and is removed before shingling, so it never makes two cases look alike. The floor (5 documents by
   default) is deliberately above the size of a copy cluster (an archived case, the copy, a copy of the
   copy), so copied sentences are not mistaken for boilerplate.
4. **Shingles.** The remaining normalised sentences, joined, give their character k-grams (k =
   ``shingle``, 5 by default: in Chinese, 5 characters rarely repeat by chance between unrelated texts,
   and one edited character destroys at most 5 shingles). A moved sentence or paragraph keeps all its
   shingles but the k-1 at each of its ends. A shingle is the CRC-32 of its UTF-8 bytes.
5. **Similarity** (exact, on the shingle sets A and B): the overlap coefficient
   ``|A ∩ B| / max(min(|A|, |B|), min_shingles)`` = max(|A∩B|/|A|, |A∩B|/|B|) with a floor of
   ``min_shingles`` on the denominator so that a case with almost no text of its own cannot reach a high
   score by chance. It is in [0, 1], symmetric, 1 for a copy and for a copy of a part; a pair is flagged
   when it is > ``threshold`` (0.5). It is more forgiving of edits than Jaccard: a copy with 40 % of its
   shingles changed keeps 0.6, where Jaccard falls to 0.43.
6. **Candidates** (so that 1,000 cases are not compared with 20,000 one by one): MinHash by one-permutation
   hashing (``num_perm`` bins, a power of two; empty bins filled by rotation) and LSH banding
   (``num_perm / rows`` bands of ``rows`` values). A pair is a candidate when at least ``min_band_hits``
   bands agree; only candidates are verified exactly. With 128 bins and bands of 2, a pair of Jaccard
   0.33 (overlap 0.5 between equal sizes) becomes a candidate with probability 0.9995. When the number of
   pairs is small (``exact_pairs_max``), every pair is verified exactly and the result has no
   approximation at all.
7. **Passages.** For a flagged pair, each non-boilerplate sentence of the case is aligned with the other
   document's sentence sharing the most shingles (overlap >= ``sentence_overlap``); runs of consecutive
   aligned sentences are joined into one passage, shown in the original (not normalised) text.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
import struct
import sys
import unicodedata
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import and_, eq, ge, lshift, mul, or_, rshift, xor
from typing import Any, Callable, Iterable, Mapping, Sequence

ALGORITHM = "oph-rotation-lsh/overlap/2"
_SENTENCE = re.compile(r"[^。｡．！!？?；;\n\r\u2028\u2029﹒﹔﹖﹗︒︔︕︖]+[。｡．！!？?；;﹒﹔﹖﹗︒︔︕︖]*")
_NOT_WORD = re.compile(r"[\W_]+")
_NOT_WORD_KEEP_LF = re.compile(r"[^\w\n]+|_+")
_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_FOLD = 0xC2B2AE3D27D4EB4F         # folds the values of a band into one 64-bit key
_ROTATE = 0x9E3779B1               # offset of a value borrowed by an empty bin, per bin of distance


_OTHER_KEYS = {"year"}            # read by the service (the year shown for this year's cases)


class SettingsError(ValueError):
    """The competition config's "originality" block is malformed; the message names the key."""


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.5               # flagged when similarity > threshold
    shingle: int = 5                     # k, characters per shingle
    num_perm: int = 128                  # MinHash bins (power of two)
    rows: int = 2                        # values per LSH band; bands = num_perm // rows
    min_band_hits: int = 1               # bands that must agree for a pair to be a candidate
    boilerplate_min_docs: int = 5        # a sentence in at least this many documents ...
    boilerplate_fraction: float = 0.01   # ... and in at least this share of them is boilerplate
    min_shingles: int = 30               # floor of the similarity's denominator
    sentence_overlap: float = 0.5        # two sentences align when this share of the smaller one's shingles match
    max_passages: int = 20               # passages listed per match
    exact_pairs_max: int = 20_000        # up to this many pairs, verify every pair (no LSH)

    @property
    def bands(self) -> int:
        return self.num_perm // self.rows

    def index_params(self) -> dict[str, Any]:
        """What the stored archive index depends on: a different value means the index is rebuilt."""
        return {"algorithm": ALGORITHM, "shingle": self.shingle, "num_perm": self.num_perm, "rows": self.rows,
                "boilerplate_min_docs": self.boilerplate_min_docs,
                "boilerplate_fraction": self.boilerplate_fraction}

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def settings_from_config(raw: Mapping[str, Any] | None) -> Settings:
    """The competition config's "originality" block (every key optional) as Settings."""
    raw = dict(raw or {})
    defaults = Settings()
    values: dict[str, Any] = {}
    for name, default in defaults.as_dict().items():
        if name not in raw:
            continue
        value = raw.pop(name)
        if isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SettingsError(f"originality.{name} must be a number")
            value = float(value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"originality.{name} must be an integer")
        values[name] = value
    unknown = [k for k in raw if not k.startswith("_") and k not in _OTHER_KEYS]
    if unknown:
        raise SettingsError(f"originality: unknown keys {sorted(unknown)}")
    s = replace(defaults, **values)
    if not 0 <= s.threshold < 1:
        raise SettingsError("originality.threshold must be in [0, 1)")
    if not 2 <= s.shingle <= 20:
        raise SettingsError("originality.shingle must be between 2 and 20")
    if s.num_perm < 8 or s.num_perm > 1024 or s.num_perm & (s.num_perm - 1):
        raise SettingsError("originality.num_perm must be a power of two between 8 and 1024")
    if s.rows < 1 or s.num_perm % s.rows:
        raise SettingsError("originality.rows must divide num_perm")
    if not 1 <= s.min_band_hits <= s.bands:
        raise SettingsError("originality.min_band_hits must be between 1 and num_perm / rows")
    if s.boilerplate_min_docs < 2 or not 0 <= s.boilerplate_fraction <= 1:
        raise SettingsError("originality.boilerplate_min_docs must be >= 2 and boilerplate_fraction in [0, 1]")
    if s.min_shingles < 1 or not 0 < s.sentence_overlap <= 1 or s.max_passages < 1 or s.exact_pairs_max < 0:
        raise SettingsError("originality.min_shingles, sentence_overlap, max_passages or exact_pairs_max out of range")
    return s


# -- text ------------------------------------------------------------------------------------------
def case_text(title: str | None, background: str | None, innovations: Iterable[str] | None,
              results: Iterable[str] | None) -> str:
    """The compared text of a case: title, background, innovations, results, one per line."""
    parts = [title or "", background or "", *(innovations or ()), *(results or ())]
    return "\n".join(p for p in (str(x).strip() for x in parts) if p)


def normalise(text: str) -> str:
    """NFKC (full-/half-width fold), case-fold, keep only letters and digits."""
    return _clean(text, _NOT_WORD)


def _clean(text: str, strip: re.Pattern) -> str:
    """Punctuation out, then NFKC only when something is left to fold (most Chinese text has nothing,
    and the check is far cheaper than the normalisation), then out again what NFKC turned into punctuation."""
    text = strip.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = strip.sub("", unicodedata.normalize("NFKC", text))
    return text.casefold()


def split_sentences(text: str) -> list[str]:
    """The sentences of the original text, each with its closing punctuation, stripped."""
    return [s for s in (m.group().strip() for m in _SENTENCE.finditer(text or "")) if s]


def sentence_key(norm: str) -> int:
    """A 64-bit key of a normalised sentence (the boilerplate counts are kept by key)."""
    return int.from_bytes(hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest(), "little")


def shingles(norm: str, k: int) -> set[int]:
    """The CRC-32 of every k-character substring (the whole string when it is shorter than k)."""
    if len(norm) <= k:
        return {zlib.crc32(norm.encode("utf-8"))} if norm else set()
    return set(map(zlib.crc32, map(str.encode, [norm[i:i + k] for i in range(len(norm) - k + 1)])))


@dataclass
class Parsed:
    """A document split into sentences: the originals (for passages), normalised, and their keys."""
    originals: list[str]
    norms: list[str]
    keys: list[int]

    _sentence_sets: list[set[int]] | None = field(default=None, repr=False, compare=False)

    def distinct_keys(self) -> set[int]:
        return set(self.keys)

    def sentence_sets(self, k: int) -> list[set[int]]:
        """Each sentence's own shingles (for aligning passages), computed once."""
        if self._sentence_sets is None:
            self._sentence_sets = [shingles(n, k) for n in self.norms]
        return self._sentence_sets

    def shingle_set(self, boilerplate: Callable[[int], bool], k: int) -> set[int]:
        """Shingles of the text left when the boilerplate sentences are taken out (point 3-4)."""
        return shingles("".join(n for n, key in zip(self.norms, self.keys) if not boilerplate(key)), k)


def parse(text: str, k: int = 5) -> Parsed:
    originals = split_sentences(text)
    # one pass per document, not per sentence (no sentence holds a line break, and NFKC makes none)
    norms = _clean("\n".join(originals), _NOT_WORD_KEEP_LF).split("\n")
    if len(norms) != len(originals):                    # defensive: never expected
        norms = [normalise(x) for x in originals]
    kept = [(o, n) for o, n in zip(originals, norms) if n]
    return Parsed([o for o, _ in kept], [n for _, n in kept], [sentence_key(n) for _, n in kept])


def boilerplate_threshold(documents: int, s: Settings) -> int:
    """How many documents a sentence must be in to be boilerplate."""
    return max(s.boilerplate_min_docs, math.ceil(s.boilerplate_fraction * documents))


def similarity(a: set[int], b: set[int], min_shingles: int) -> float:
    """The overlap coefficient with a floored denominator (module docstring, point 5)."""
    if not a or not b:
        return 0.0
    return len(a & b) / max(min(len(a), len(b)), min_shingles)


# -- MinHash (one-permutation hashing with rotation densification) and LSH bands -------------------
def signature(shingle_set: set[int], num_perm: int) -> list[int] | None:
    """num_perm 32-bit minima, one per bin; None for an empty set.

    A shingle's CRC-32 is its random permutation: the top log2(num_perm) bits pick the bin, and a bin keeps
    its smallest hash. All of it runs in C (sorted/zip/dict/map), which is what makes a pure-Python MinHash
    fast enough. An empty bin borrows the value of the next non-empty bin to the right (circularly),
    offset by the distance (rotation densification, Shrivastava & Li 2014).
    """
    if not shingle_set:
        return None
    ordered = sorted(shingle_set, reverse=True)
    shift = 32 - (num_perm.bit_length() - 1)
    minima = dict(zip(map(rshift, ordered, repeat(shift)), ordered))   # the last (smallest) wins per bin
    values = list(map(minima.get, range(num_perm)))
    if len(minima) < num_perm:
        filled = sorted(minima)
        for b in set(range(num_perm)).difference(minima):
            i = bisect.bisect_right(filled, b)
            nxt = filled[i] if i < len(filled) else filled[0]
            values[b] = (minima[nxt] + ((nxt - b) % num_perm) * _ROTATE) & _M32
    return values  # type: ignore[return-value]


@lru_cache(maxsize=8)
def _salts(bands: int) -> tuple[int, ...]:
    """A fixed 64-bit salt per band, so that the keys of all bands can share one sorted table."""
    out, x = [], 0x243F6A8885A308D3
    for _ in range(bands):
        x = (x * 6364136223846793005 + 1442695040888963407) & _M64
        out.append(x)
    return tuple(out)


def band_keys(sig: Sequence[int], rows: int) -> list[int]:
    """One 64-bit key per band: its `rows` values folded together, xor the band's salt."""
    if rows == 1:
        keys: Iterable[int] = sig
    elif rows == 2:
        keys = map(or_, map(lshift, sig[0::2], repeat(32)), sig[1::2])
    else:
        keys = sig[0::rows]
        for t in range(1, rows):
            keys = map(xor, map(and_, map(mul, keys, repeat(_FOLD)), repeat(_M64)), sig[t::rows])
    return list(map(xor, keys, _salts(len(sig) // rows)))


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    return sum(x == y for x, y in zip(a, b)) / len(a)


# -- the archive index -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """A document of the corpus: an archived case or a current one."""
    id: str
    title: str
    year: int | None
    text: str


@dataclass
class ArchiveIndex:
    """The archive, ready to be searched: its documents, sentence counts and the LSH band table.

    ``sentence_keys``/``sentence_df``: every distinct sentence key of the archive (sorted) and the number
    of archived documents holding it. ``band_keys``/``band_docs``: the (salted) band keys of every archived
    document, sorted, and the document each belongs to. ``signatures``: num_perm values per document (all
    zero for a document without text of its own); ``sizes``: its number of shingles. ``band_filter``: a
    one-hash Bloom filter of the band keys (a bit per key's top bits, about 8 bits per key), so that a band
    key no archived document has — nearly all of them — costs no search.
    """
    params: dict[str, Any]
    entries: list[Entry]
    sentence_keys: array
    sentence_df: array
    band_keys: array
    band_docs: array
    signatures: array
    sizes: array
    band_filter: array
    _parsed: dict[int, Parsed] = field(default_factory=dict, repr=False, compare=False, kw_only=True)

    @property
    def size(self) -> int:
        return len(self.entries)

    def df(self, key: int) -> int:
        i = bisect.bisect_left(self.sentence_keys, key)
        return self.sentence_df[i] if i < len(self.sentence_keys) and self.sentence_keys[i] == key else 0

    def frequent(self, limit: int) -> set[int]:
        """The archive's sentence keys held by at least `limit` archived documents."""
        return set(compress(self.sentence_keys, map(ge, self.sentence_df, repeat(limit))))

    def parsed(self, doc: int, k: int) -> Parsed:
        found = self._parsed.get(doc)
        if found is None:
            found = self._parsed[doc] = parse(self.entries[doc].text, k)
        return found

    def signature_of(self, doc: int) -> list[int]:
        p = self.params["num_perm"]
        return self.signatures[doc * p:(doc + 1) * p].tolist()

    def candidates(self, keys: Sequence[int], min_hits: int) -> list[int]:
        """Archived documents sharing at least min_hits band keys."""
        bk, bd, size = self.band_keys, self.band_docs, len(self.band_keys)
        hits: Counter[int] = Counter()
        for key in compress(keys, _filter_bits(self.band_filter, keys)):      # the usual miss costs nothing
            i = bisect.bisect_left(bk, key)
            while i < size and bk[i] == key:
                hits[bd[i]] += 1
                i += 1
        return sorted(d for d, n in hits.items() if n >= min_hits)


def empty_index(s: Settings) -> ArchiveIndex:
    return build_index([], s)


def build_index(entries: Sequence[Entry], s: Settings) -> ArchiveIndex:
    """Index the archive: sentence counts over the archive, then signatures without its boilerplate."""
    entries = sorted({e.id: e for e in entries}.values(), key=lambda e: e.id)
    if len(entries) >= 1 << 24:
        raise ValueError("the archive index holds at most 16,777,215 documents")
    parsed = [parse(e.text, s.shingle) for e in entries]
    df: Counter[int] = Counter()
    for p in parsed:
        df.update(p.distinct_keys())
    limit = boilerplate_threshold(len(entries), s)
    boilerplate = {key for key, n in df.items() if n >= limit}.__contains__
    packed: list[int] = []
    signatures, sizes, nothing = array("I"), array("I"), [0] * s.num_perm
    for doc, p in enumerate(parsed):
        shingle_set = p.shingle_set(boilerplate, s.shingle)
        sig = signature(shingle_set, s.num_perm)
        sizes.append(len(shingle_set))
        signatures.extend(sig or nothing)
        if sig is not None:
            packed.extend(map(or_, map(lshift, band_keys(sig, s.rows), repeat(24)), repeat(doc)))
    packed.sort()                                  # key and document packed in one int: one C-level sort
    band_filter = array("B", bytes(max(1024, 1 << (len(packed) * 8 - 1).bit_length()) // 8))
    shift = 64 - (len(band_filter) * 8).bit_length() + 1
    for h in set(map(rshift, packed, repeat(24 + shift))):
        band_filter[h >> 3] |= 1 << (h & 7)
    sorted_keys = sorted(df)
    return ArchiveIndex(s.index_params(), list(entries), array("Q", sorted_keys),
                        array("I", map(df.__getitem__, sorted_keys)),
                        array("Q", map(rshift, packed, repeat(24))), array("I", map(and_, packed, repeat(0xFFFFFF))),
                        signatures, sizes, band_filter,
                        _parsed=dict(enumerate(parsed)) if len(entries) <= 5000 else {})


_MAGIC = b"SPORIG4\n"
_ARRAYS = ("sentence_keys", "sentence_df", "band_keys", "band_docs", "signatures", "sizes", "band_filter")


def _filter_bits(band_filter: array, keys: Sequence[int]) -> Iterable[int]:
    """1 where the filter may hold the key, 0 where it certainly does not (all in C)."""
    shift = 64 - (len(band_filter) * 8).bit_length() + 1
    tops = list(map(rshift, keys, repeat(shift)))
    return map(and_, map(rshift, map(band_filter.__getitem__, map(rshift, tops, repeat(3))),
                         map(and_, tops, repeat(7))),
               repeat(1))


def dump_index(index: ArchiveIndex) -> bytes:
    """A self-describing binary: magic, zlib(JSON header with the documents), then the raw arrays (LE).

    No pickle: reading an index never runs code, whoever wrote the object.
    """
    header: dict[str, Any] = {"params": index.params,
                              "entries": [[e.id, e.title, e.year, e.text] for e in index.entries], "arrays": []}
    blobs = []
    for name in _ARRAYS:
        arr = getattr(index, name)
        if sys.byteorder != "little":
            arr = array(arr.typecode, arr)
            arr.byteswap()
        blobs.append(arr.tobytes())
        header["arrays"].append([name, arr.typecode, len(arr)])
    head = zlib.compress(json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)
    return b"".join([_MAGIC, struct.pack("<Q", len(head)), head, *blobs])


def load_index(data: bytes) -> ArchiveIndex:
    """The index dump_index wrote; ValueError for anything else (another format, truncated, damaged)."""
    if not data.startswith(_MAGIC):
        raise ValueError("not an originality index (or an older format)")
    try:
        return _load(data)
    except (struct.error, zlib.error, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"damaged originality index: {exc}") from exc


def _load(data: bytes) -> ArchiveIndex:
    pos = len(_MAGIC)
    (head_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    header = json.loads(zlib.decompress(data[pos:pos + head_len]).decode("utf-8"))
    pos += head_len
    arrays: dict[str, array] = {}
    for name, typecode, length in header["arrays"]:
        arr = array(typecode)
        size = arr.itemsize * length
        arr.frombytes(data[pos:pos + size])
        if len(arr) != length:
            raise ValueError(f"truncated originality index ({name})")
        if sys.byteorder != "little":
            arr.byteswap()
        pos += size
        arrays[name] = arr
    entries = [Entry(i, t, y, x) for i, t, y, x in header["entries"]]
    if arrays.keys() != set(_ARRAYS):
        raise ValueError(f"damaged originality index: arrays {sorted(arrays)}")
    return ArchiveIndex(header["params"], entries, *(arrays[name] for name in _ARRAYS))


# -- checking --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Passage:
    case_text: str
    other_text: str


@dataclass(frozen=True)
class Match:
    source: str                 # "archive" | "current"
    other_id: str
    other_title: str
    year: int | None
    similarity: float
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Flag:
    case_id: str
    title: str
    matches: tuple[Match, ...]

    @property
    def top(self) -> float:
        return self.matches[0].similarity if self.matches else 0.0


@dataclass
class Stats:
    """What a check did (the benchmark prints it)."""
    mode: str = ""
    pairs_total: int = 0
    lsh_archive: int = 0            # pairs sharing a band, before the signature check
    lsh_current: int = 0
    candidates_archive: int = 0     # pairs verified exactly
    candidates_current: int = 0
    boilerplate_limit: int = 0


def find_flags(index: ArchiveIndex, current: Sequence[Entry], s: Settings,
               stats: Stats | None = None, earlier: Sequence[Entry] = ()) -> list[Flag]:
    """Every current document whose similarity with an archived or another current one is > threshold.

    A pair of current documents is flagged on both sides. `earlier`: documents of the corpus that are not in
    the index (the cases of the earlier competitions on the deployment): compared with the current ones as
    the index's are (their matches say source "archive" and their year), counted in the corpus for the
    boilerplate discount, never flagged themselves nor compared with one another. Matches are most similar
    first (then by id); flags by their most similar match, then by case id.
    """
    stats = stats if stats is not None else Stats()
    k = s.shingle
    current = sorted({e.id: e for e in current}.values(), key=lambda e: e.id)
    mine = {e.id for e in current}
    earlier = sorted({e.id: e for e in earlier if e.id not in mine}.values(), key=lambda e: e.id)
    docs = [*current, *earlier]
    n, m, extra = len(current), index.size, len(earlier)
    cur = [parse(e.text, k) for e in docs]
    cur_df: Counter[int] = Counter()
    for p in cur:
        cur_df.update(p.distinct_keys())
    limit = boilerplate_threshold(index.size + len(cur), s)
    stats.boilerplate_limit = limit
    # boilerplate <=> archive count + current count >= limit: the archive's own frequent sentences, and
    # those of the current cases whose counts together reach it (a set, so the test is one C call)
    frequent = index.frequent(limit)
    frequent.update(key for key, c in cur_df.items() if c + index.df(key) >= limit)
    boilerplate = frequent.__contains__

    cur_sets = [p.shingle_set(boilerplate, k) for p in cur]
    stats.pairs_total = n * m + n * extra + n * (n - 1) // 2
    if stats.pairs_total <= s.exact_pairs_max:
        stats.mode = "exact"
        archive_pairs = [(i, j) for i in range(n) for j in range(m)]
        current_pairs = [(i, j) for i in range(n) for j in range(i + 1, n + extra)]
    else:
        stats.mode = "lsh"
        archive_pairs, current_pairs = _lsh_candidates(index, cur_sets, s, stats, n)
    stats.candidates_archive, stats.candidates_current = len(archive_pairs), len(current_pairs)

    archive_sets: dict[int, set[int]] = {}
    matches: dict[int, list[Match]] = {}
    for i, j in archive_pairs:
        if not cur_sets[i]:
            continue
        other_set = archive_sets.get(j)
        if other_set is None:
            other_set = archive_sets[j] = index.parsed(j, k).shingle_set(boilerplate, k)
        sim = similarity(cur_sets[i], other_set, s.min_shingles)
        if sim > s.threshold:
            other = index.entries[j]
            passages = align(cur[i], index.parsed(j, k), boilerplate, s)
            matches.setdefault(i, []).append(Match("archive", other.id, other.title, other.year, sim, passages))
    for i, j in current_pairs:
        sim = similarity(cur_sets[i], cur_sets[j], s.min_shingles)
        if sim > s.threshold:
            if j >= n:                  # an earlier competition's case: a match of the current side only
                other = docs[j]
                passages = align(cur[i], cur[j], boilerplate, s)
                matches.setdefault(i, []).append(Match("archive", other.id, other.title, other.year, sim, passages))
                continue
            for a, b in ((i, j), (j, i)):
                other = docs[b]
                passages = align(cur[a], cur[b], boilerplate, s)
                matches.setdefault(a, []).append(Match("current", other.id, other.title, other.year, sim, passages))
    flags = [Flag(current[i].id, current[i].title,
                  tuple(sorted(found, key=lambda x: (-x.similarity, x.source, x.other_id))))
             for i, found in matches.items()]
    return sorted(flags, key=lambda f: (-f.top, f.case_id))


def _lsh_candidates(index: ArchiveIndex, cur_sets: list[set[int]], s: Settings, stats: Stats,
                    checked: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Pairs sharing a band (LSH), kept when their signatures make an overlap > threshold plausible.
    `checked`: the documents before it are checked; those after (earlier competitions' cases) are only
    compared with them (each pair (i, j) has i < j and i < checked)."""
    checked = len(cur_sets) if checked is None else checked
    archive_pairs: list[tuple[int, int]] = []
    sigs: list[list[int] | None] = []
    all_keys: list[int] = []          # the band keys of the current cases, `bands` per case with text
    owners: list[int] = []
    for i, shingle_set in enumerate(cur_sets):
        sig = signature(shingle_set, s.num_perm)
        sigs.append(sig)
        if sig is None:
            continue
        keys = band_keys(sig, s.rows)
        for j in index.candidates(keys, s.min_band_hits) if i < checked else ():
            stats.lsh_archive += 1
            if plausible(sig, len(shingle_set), index.signature_of(j), index.sizes[j], s):
                archive_pairs.append((i, j))
        all_keys.extend(keys)
        owners.append(i)
    shared = {key for key, n in Counter(all_keys).items() if n > 1}
    buckets: dict[int, list[int]] = {}
    for pos in compress(range(len(all_keys)), map(shared.__contains__, all_keys)):
        buckets.setdefault(all_keys[pos], []).append(owners[pos // s.bands])
    hits: Counter[tuple[int, int]] = Counter()
    for members in buckets.values():
        hits.update((a, b) for x, a in enumerate(members) for b in members[x + 1:] if a != b)
    banded = [(min(p), max(p)) for p, c in hits.items() if c >= s.min_band_hits and min(p) < checked]
    stats.lsh_current = len(banded)
    current_pairs = sorted((a, b) for a, b in banded
                           if plausible(sigs[a], len(cur_sets[a]), sigs[b], len(cur_sets[b]), s))
    return archive_pairs, current_pairs


def plausible(sig_a: Sequence[int] | None, size_a: int, sig_b: Sequence[int] | None, size_b: int,
              s: Settings) -> bool:
    """Whether the signatures leave room for an overlap > threshold (then the pair is verified exactly).

    Overlap t between sets of sizes a and b means Jaccard t*m / (a + b - t*m), m = max(min(a, b),
    min_shingles). The MinHash estimate of the Jaccard has a standard deviation sqrt(J(1-J)/num_perm);
    a pair is dropped only when its estimate is more than 4 of them (plus 0.02) below that Jaccard.
    """
    if sig_a is None or sig_b is None or not size_a or not size_b:
        return False
    m = max(min(size_a, size_b), s.min_shingles)
    if min(size_a, size_b) <= s.threshold * m:
        return False                    # even a full overlap would not exceed the threshold
    needed = s.threshold * m / (size_a + size_b - s.threshold * m)
    margin = 4 * math.sqrt(needed * (1 - needed) / s.num_perm) + 0.02
    estimate = sum(map(eq, sig_a, sig_b)) / s.num_perm
    return estimate >= needed - margin


def align(case: Parsed, other: Parsed, boilerplate: Callable[[int], bool], s: Settings) -> tuple[Passage, ...]:
    """Matching passages side by side, in the case's order (module docstring, point 7)."""
    k = s.shingle
    other_sets = other.sentence_sets(k)
    where: dict[int, list[int]] = {}
    for j, (key, sh) in enumerate(zip(other.keys, other_sets)):
        if not boilerplate(key):
            for h in sh:
                found = where.get(h)
                if found is None:
                    where[h] = [j]
                else:
                    found.append(j)
    pairs: list[tuple[int, int]] = []
    for i, (key, mine) in enumerate(zip(case.keys, case.sentence_sets(k))):
        if not mine or boilerplate(key):
            continue
        counts = Counter(chain.from_iterable(filter(None, map(where.get, mine))))
        best, best_score = -1, 0.0
        for j, c in sorted(counts.items()):
            score = c / min(len(mine), len(other_sets[j]))
            if score > best_score:
                best, best_score = j, score
        if best >= 0 and best_score >= s.sentence_overlap:
            pairs.append((i, best))
    runs: list[tuple[list[int], list[int]]] = []
    for i, j in pairs:
        if runs and runs[-1][0][-1] == i - 1 and runs[-1][1][-1] == j - 1:
            runs[-1][0].append(i)
            runs[-1][1].append(j)
        else:
            runs.append(([i], [j]))
    return tuple(Passage("".join(case.originals[i] for i in mine), "".join(other.originals[j] for j in theirs))
                 for mine, theirs in runs[:s.max_passages])


def flags_view(flags: Sequence[Flag]) -> list[dict[str, Any]]:
    """The API's shape (docs/openapi.yaml): similarity rounded to 3 decimals."""
    return [{"case_id": f.case_id, "title": f.title,
             "matches": [{"source": m.source, "other_id": m.other_id, "other_title": m.other_title,
                          "year": m.year, "similarity": round(m.similarity, 3),
                          "passages": [{"case_text": p.case_text, "other_text": p.other_text} for p in m.passages]}
                         for m in f.matches]}
            for f in flags]
