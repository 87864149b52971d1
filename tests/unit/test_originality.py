"""The originality check (chalicelib/domain/originality.py): copies found, boilerplate discounted, variants folded."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.domain import originality as o
from tests.originality_corpus import BOILERPLATE, Texts

ROOT = Path(__file__).resolve().parents[2]
S = o.Settings()


def entry(id_: str, case: dict, year: int | None = 2023) -> o.Entry:
    return o.Entry(id_, case["title"], year, o.case_text(case["title"], case["background"], case["innovations"],
                                                       case["results"]))


def corpus(seed: int = 7, archived: int = 12):
    texts = Texts(seed)
    archive_cases = [texts.case() for _ in range(archived)]
    archive = [entry(f"a{i:02d}", c, 2022) for i, c in enumerate(archive_cases)]
    return texts, archive_cases, archive


def found(flags: list[o.Flag]) -> dict[str, list[str]]:
    return {f.case_id: [m.other_id for m in f.matches] for f in flags}


# -- text ------------------------------------------------------------------------------------------
def test_normalise_folds_width_and_case_and_drops_punctuation_and_whitespace():
    assert o.normalise("ＡＢＣ　ａｂｃ １２３，。！？；：“党建”（引领）《发展》、……—— \t\n") == "abcabc123党建引领发展"
    assert o.normalise("Party-Building_2023!") == "partybuilding2023"


def test_split_sentences_on_chinese_and_western_terminators_and_line_breaks():
    text = "第一句。第二句！第三句？第四句；第五句;第六句!第七句?\n第八句\r\n第九句．第十句｡末尾"
    assert o.split_sentences(text) == ["第一句。", "第二句！", "第三句？", "第四句；", "第五句;", "第六句!", "第七句?",
                                       "第八句", "第九句．", "第十句｡", "末尾"]
    assert o.split_sentences("  \n \n") == []


def test_punctuation_and_width_variants_of_a_text_are_the_same_document():
    texts = Texts(3)
    case = texts.case(boilerplate=0)
    original = o.case_text(case["title"], case["background"], case["innovations"], case["results"])
    table = str.maketrans({"，": ",", "。": ".", "；": ";", "！": "!"})
    variant = " ".join(original.translate(table)) + "　"   # half-width punctuation, spaces between characters
    a = o.parse(original).shingle_set(lambda k: False, 5)
    b = o.parse(variant).shingle_set(lambda k: False, 5)
    assert a == b
    wide = "ＡＩ赋能基层治理，效率提升３０％。"
    narrow = "AI赋能基层治理,效率提升30%."
    assert o.parse(wide).keys == o.parse(narrow).keys


def test_similarity_is_the_overlap_coefficient_with_a_floor():
    a, b = set(range(100)), set(range(60, 260))
    assert o.similarity(a, b, 30) == 40 / 100
    assert o.similarity(b, a, 30) == 40 / 100
    assert o.similarity(set(range(10)), set(range(200)), 30) == 10 / 30
    assert o.similarity(set(), b, 30) == 0.0


# -- finding copies --------------------------------------------------------------------------------
def test_planted_near_copy_with_edited_sentences_and_reordered_paragraphs_is_found():
    texts, archive_cases, archive = corpus()
    copy = texts.near_copy(archive_cases[5])
    current = [entry("c-copy", copy)] + [entry(f"c{i}", texts.case()) for i in range(6)]
    flags = o.find_flags(o.build_index(archive, S), current, S)
    assert found(flags) == {"c-copy": ["a05"]}
    match = flags[0].matches[0]
    assert (match.source, match.other_title, match.year) == ("archive", archive_cases[5]["title"], 2022)
    assert 0.5 < match.similarity <= 1
    # passages: the original text on both sides, in the copy's order, never the boilerplate
    assert match.passages
    for p in match.passages:
        assert p.case_text in o.case_text(**copy).replace("\n", "")
        assert p.other_text in archive[5].text.replace("\n", "")
        assert not any(b in p.case_text for b in BOILERPLATE)
    assert any("，" in p.case_text and p.case_text == p.other_text for p in match.passages)


def test_unrelated_cases_sharing_boilerplate_are_not_flagged():
    texts = Texts(11)
    # the standard opening is about half of each case: without the discount they would look alike
    cases = [{"title": texts.sentence()[:8], "background": "".join(BOILERPLATE) + texts.paragraph(2),
              "innovations": [texts.sentence()], "results": []} for _ in range(16)]
    archive = [entry(f"a{i}", c, 2021) for i, c in enumerate(cases[:8])]
    current = [entry(f"c{i}", c) for i, c in enumerate(cases[8:])]
    raw = [o.parse(e.text).shingle_set(lambda k: False, 5) for e in archive + current]
    assert max(o.similarity(raw[i], raw[j], 30) for i in range(16) for j in range(i + 1, 16)) > 0.5
    assert o.find_flags(o.build_index(archive, S), current, S) == []


def test_two_current_cases_copying_each_other_are_flagged_on_both_sides():
    texts, _, archive = corpus()
    base = texts.case()
    current = [entry("c1", base), entry("c2", texts.near_copy(base)), entry("c3", texts.case())]
    flags = o.find_flags(o.build_index(archive, S), current, S)
    assert found(flags) == {"c1": ["c2"], "c2": ["c1"]}
    assert {m.source for f in flags for m in f.matches} == {"current"}
    assert flags[0].matches[0].similarity == flags[1].matches[0].similarity
    text = {e.id: e.text.replace("\n", "") for e in current}
    for flag in flags:
        match = flag.matches[0]
        assert match.passages
        assert all(p.case_text in text[flag.case_id] and p.other_text in text[match.other_id] for p in match.passages)


def test_a_copy_cluster_is_not_mistaken_for_boilerplate():
    """An archived case copied twice this year (3 documents) and also archived twice: still copies."""
    texts, archive_cases, archive = corpus()
    archive.append(entry("a-again", archive_cases[2], 2021))
    current = [entry("c1", texts.near_copy(archive_cases[2])), entry("c2", texts.near_copy(archive_cases[2])),
               entry("c3", texts.case())]
    flags = o.find_flags(o.build_index(archive, S), current, S)
    assert {k: sorted(v) for k, v in found(flags).items()} == {"c1": ["a-again", "a02", "c2"],
                                                               "c2": ["a-again", "a02", "c1"]}


def test_matches_most_similar_first_and_threshold_is_strict():
    texts, archive_cases, archive = corpus()
    exact = entry("c-exact", archive_cases[1])
    edited = entry("c-edited", texts.near_copy(archive_cases[4]))
    flags = o.find_flags(o.build_index(archive, S), [edited, exact], S)
    assert [f.case_id for f in flags] == ["c-exact", "c-edited"]
    assert flags[0].matches[0].similarity == 1.0
    s = flags[1].matches[0].similarity
    assert found(o.find_flags(o.build_index(archive, S), [edited], replace(S, threshold=s))) == {}


def test_contract_view_rounds_similarity_to_three_decimals():
    flag = o.Flag("c1", "标题", (o.Match("archive", "a1", "旧标题", 2022, 2 / 3, (o.Passage("甲。", "乙。"),)),))
    assert o.flags_view([flag]) == [{"case_id": "c1", "title": "标题", "matches": [
        {"source": "archive", "other_id": "a1", "other_title": "旧标题", "year": 2022, "similarity": 0.667,
         "passages": [{"case_text": "甲。", "other_text": "乙。"}]}]}]


# -- LSH against exact, the stored index, determinism ----------------------------------------------
def test_lsh_candidates_give_the_same_flags_as_checking_every_pair():
    texts, archive_cases, archive = corpus(seed=5, archived=60)
    current = [entry(f"copy{i}", texts.near_copy(archive_cases[i * 7])) for i in range(8)]
    base = texts.case()
    current += [entry("p1", base), entry("p2", texts.near_copy(base))]
    current += [entry(f"u{i}", texts.case()) for i in range(20)]
    index = o.build_index(archive, S)
    exact_stats, lsh_stats = o.Stats(), o.Stats()
    exact = o.find_flags(index, current, replace(S, exact_pairs_max=10**9), exact_stats)
    lsh = o.find_flags(index, current, replace(S, exact_pairs_max=0), lsh_stats)
    assert (exact_stats.mode, lsh_stats.mode) == ("exact", "lsh")
    assert lsh == exact
    assert len(exact) == 10
    assert lsh_stats.candidates_archive + lsh_stats.candidates_current < 20


def test_stored_index_round_trips_and_finds_the_same():
    texts, archive_cases, archive = corpus()
    index = o.build_index(archive, S)
    loaded = o.load_index(o.dump_index(index))
    assert loaded.entries == index.entries and loaded.params == index.params
    assert [getattr(loaded, n) for n in o._ARRAYS] == [getattr(index, n) for n in o._ARRAYS]
    current = [entry("c", texts.near_copy(archive_cases[0]))]
    assert o.find_flags(loaded, current, S) == o.find_flags(index, current, S)
    with pytest.raises(ValueError):
        o.load_index(b"\x80\x04pickle")
    blob = o.dump_index(index)
    for damaged in (blob[:len(blob) // 2], blob[:20], blob[:12] + b"\xff" * 40):
        with pytest.raises(ValueError):
            o.load_index(damaged)


def test_index_bytes_do_not_depend_on_the_process_hash_seed():
    code = ("import hashlib, sys; sys.path.insert(0, %r); from tests.unit.test_originality import corpus, S; "
            "from chalicelib.domain import originality as o; "
            "print(hashlib.sha256(o.dump_index(o.build_index(corpus()[2], S))).hexdigest())") % str(ROOT)
    digests = set()
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        digests.add(out.stdout.strip())
    assert digests == {hashlib.sha256(o.dump_index(o.build_index(corpus()[2], S))).hexdigest()}


def test_same_inputs_same_flags_in_any_order():
    texts, archive_cases, archive = corpus()
    base = texts.case()
    current = [entry("c1", texts.near_copy(archive_cases[3])), entry("c2", base), entry("c3", texts.near_copy(base))]
    first = o.find_flags(o.build_index(archive, S), current, S)
    second = o.find_flags(o.build_index(list(reversed(archive)), S), list(reversed(current)), S)
    assert first == second and len(first) == 3


def test_signature_estimates_jaccard_and_fills_empty_bins():
    a, b = set(range(0, 3000)), set(range(1000, 4000))
    sa, sb = o.signature({x * 2654435761 % 2**32 for x in a}, 128), o.signature({x * 2654435761 % 2**32 for x in b}, 128)
    assert abs(o.estimated_jaccard(sa, sb) - 0.5) < 0.15
    small = o.signature({12345, 4000000000}, 128)
    assert small is not None and len(small) == 128 and None not in small
    assert o.signature(set(), 128) is None


# -- settings --------------------------------------------------------------------------------------
def test_settings_from_the_competition_config():
    config = json.loads((ROOT / "chalicelib/competitions/shenzhen-2023.json").read_text("utf-8"))
    s = o.settings_from_config(config["originality"])
    assert (s.threshold, s.shingle, s.num_perm, s.bands) == (0.5, 5, 128, 64)
    assert o.settings_from_config(None) == o.Settings()


@pytest.mark.parametrize("raw", [{"threshold": 1.5}, {"threshold": "0.5"}, {"shingle": 1}, {"num_perm": 100},
                                 {"rows": 3}, {"boilerplate_min_docs": 1}, {"thresold": 0.4}, {"shingle": True}])
def test_bad_settings_are_refused_with_the_key(raw):
    with pytest.raises(o.SettingsError) as error:
        o.settings_from_config(raw)
    assert "originality" in str(error.value)


def test_boilerplate_threshold_is_a_floor_or_a_share_of_the_corpus():
    assert o.boilerplate_threshold(30, S) == 5
    assert o.boilerplate_threshold(21000, S) == 210


def test_plausible_keeps_real_overlaps_and_drops_impossible_ones():
    texts, archive_cases, _ = corpus()
    a = o.parse(o.case_text(**archive_cases[0])).shingle_set(lambda k: False, 5)
    b = o.parse(o.case_text(**texts.near_copy(archive_cases[0]))).shingle_set(lambda k: False, 5)
    c = o.parse(o.case_text(**texts.case(boilerplate=0))).shingle_set(lambda k: False, 5)
    sig = {name: o.signature(x, 128) for name, x in (("a", a), ("b", b), ("c", c))}
    assert o.plausible(sig["a"], len(a), sig["b"], len(b), S)
    assert not o.plausible(sig["a"], len(a), sig["c"], len(c), S)
    tiny = {1, 2, 3, 4, 5}
    assert not o.plausible(o.signature(tiny, 128), 5, o.signature(tiny, 128), 5, S)   # 5/30 can never exceed 0.5
    assert not o.plausible(None, 0, sig["a"], len(a), S)


def test_earlier_documents_are_corpus_outside_the_index_in_exact_and_lsh_mode():
    """`earlier` (an earlier competition's cases): their matches say archive with their year; they are never
    flagged themselves, nor compared with one another; the result is the same as having them in the index."""
    texts, archive_cases, archive = corpus(seed=6, archived=20)
    before = [texts.case() for _ in range(10)]
    earlier = [entry(f"e{i:02d}", c, 2023) for i, c in enumerate(before)]
    earlier.append(entry("e-copy", texts.near_copy(before[0]), 2023))      # copies within the earlier one
    current = [entry("c1", texts.near_copy(before[3]), 2024), entry("c2", texts.near_copy(archive_cases[2]), 2024)]
    current += [entry(f"u{i}", texts.case(), 2024) for i in range(10)]
    index = o.build_index(archive, S)
    exact_stats, lsh_stats = o.Stats(), o.Stats()
    exact = o.find_flags(index, current, replace(S, exact_pairs_max=10**9), exact_stats, earlier=earlier)
    lsh = o.find_flags(index, current, replace(S, exact_pairs_max=0), lsh_stats, earlier=earlier)
    assert (exact_stats.mode, lsh_stats.mode) == ("exact", "lsh")
    assert lsh == exact
    assert found(exact) == {"c1": ["e03"], "c2": ["a02"]}
    assert [(m.source, m.year) for f in exact for m in f.matches] in ([("archive", 2023), ("archive", 2022)],
                                                                      [("archive", 2022), ("archive", 2023)])
    assert exact == o.find_flags(o.build_index([*archive, *earlier], S), current, S)
