"""The originality check over the API: archive import, flags for copies of archived and current cases."""
from __future__ import annotations

from tests.conftest import case_body, register_unit
from tests.integration.test_judging_api import organiser
from tests.originality_corpus import Texts


def archive_payload(texts: Texts, count: int = 8, year: int = 2022) -> dict:
    cases = []
    for n in range(count):
        case = texts.case()
        cases.append({"title": case["title"], "unit": f"往年单位{n}", "category": "development",
                      "background": case["background"], "innovations": case["innovations"],
                      "results": case["results"]})
    return {"year": year, "cases": cases}


def submit(api, n: int, text: dict, status: str = "submitted") -> str:
    """Unit n files a case with this text and submits it (or leaves it a draft, or withdraws it)."""
    unit = api.as_(register_unit(api, n, unit_name=f"单位{n}"))
    body = case_body(title=text["title"], background=text["background"], innovations=text["innovations"],
                     results=text["results"], recommending_unit=f"单位{n}")
    code, case = unit.call("POST", "/cases", body)
    assert code == 201, case
    if status in ("submitted", "withdrawn"):
        assert unit.call("POST", f"/cases/{case['id']}/submit")[0] == 200
    if status == "withdrawn":
        assert unit.call("POST", f"/cases/{case['id']}/withdraw")[0] == 200
    return case["id"]


def flags_by_case(org) -> dict[str, list[tuple[str, str, int | None]]]:
    code, body = org.call("GET", "/admin/originality")
    assert code == 200, body
    return {f["case_id"]: [(m["source"], m["other_title"], m["year"]) for m in f["matches"]] for f in body["flags"]}


def test_archive_import_and_flags_name_the_copied_cases_only(api, clock):
    texts = Texts(21)
    org = organiser(api)
    archive = archive_payload(texts)
    code, body = org.call("POST", "/admin/archive", archive)
    assert (code, body) == (201, {"imported": 8})
    copied = archive["cases"][3]
    base = texts.case()
    ids = {
        "copy": submit(api, 1, texts.near_copy(copied)),
        "pair1": submit(api, 2, base),
        "pair2": submit(api, 3, texts.near_copy(base)),
        "unrelated": submit(api, 4, texts.case()),
        "draft_copy": submit(api, 5, texts.near_copy(archive["cases"][5]), status="draft"),
        "withdrawn_copy": submit(api, 6, texts.near_copy(archive["cases"][6]), status="withdrawn"),
    }
    code, report = org.call("GET", "/admin/originality")
    assert code == 200, report
    flags = {f["case_id"]: f for f in report["flags"]}
    assert set(flags) == {ids["copy"], ids["pair1"], ids["pair2"]}
    [match] = flags[ids["copy"]]["matches"]
    assert (match["source"], match["other_title"], match["year"]) == ("archive", copied["title"], 2022)
    assert match["other_id"].startswith("arc-")
    assert 0.5 < match["similarity"] <= 1 and round(match["similarity"], 3) == match["similarity"]
    assert match["passages"] and all(set(p) == {"case_text", "other_text"} for p in match["passages"])
    assert any(p["case_text"] == p["other_text"] for p in match["passages"])
    [one], [two] = flags[ids["pair1"]]["matches"], flags[ids["pair2"]]["matches"]
    assert (one["source"], one["other_id"], one["year"]) == ("current", ids["pair2"], 2023)
    assert (two["source"], two["other_id"]) == ("current", ids["pair1"])
    assert one["similarity"] == two["similarity"]
    assert flags[ids["pair1"]]["title"] == base["title"]
    sims = [f["matches"][0]["similarity"] for f in report["flags"]]
    assert sims == sorted(sims, reverse=True)
    assert report["threshold"] == 0.5 and report["checked"] == 4 and report["archived"] == 8
    # asked again: the same answer (from the cache keyed by the inputs)
    assert org.call("GET", "/admin/originality") == (200, report)


def test_flags_follow_a_submit_at_once_and_an_import_rechecks_every_case(api, clock):
    texts = Texts(22)
    org = organiser(api)
    archive = archive_payload(texts, count=6, year=2021)
    copy_id = submit(api, 1, texts.near_copy(archive["cases"][2]))
    assert flags_by_case(org) == {}
    assert org.call("POST", "/admin/archive", archive) == (201, {"imported": 6})
    assert flags_by_case(org) == {copy_id: [("archive", archive["cases"][2]["title"], 2021)]}
    # importing the same cases again changes nothing (the id is a digest of the case)
    assert org.call("POST", "/admin/archive", archive) == (201, {"imported": 6})
    assert flags_by_case(org) == {copy_id: [("archive", archive["cases"][2]["title"], 2021)]}
    # a case submitted now is checked on the next GET, against the archive and the current cases
    second = submit(api, 2, texts.near_copy(archive["cases"][2]))
    flags = flags_by_case(org)
    assert sorted(flags) == sorted([copy_id, second])
    assert sorted(flags[second]) == sorted([("archive", archive["cases"][2]["title"], 2021),
                                            ("current", flags_title(org, copy_id), 2023)])


def flags_title(org, case_id: str) -> str:
    return org.call("GET", f"/cases/{case_id}")[1]["title"]


def test_archive_import_validation_names_the_fields(api, clock):
    org = organiser(api)
    good = {"title": "旧案例", "unit": "某局", "category": "service", "background": "背景。", "innovations": ["一"],
            "results": ["二"]}
    cases = [
        ({"year": "2022", "cases": [good]}, {"year"}),
        ({"year": 1999, "cases": [good]}, {"year"}),
        ({"year": 2101, "cases": [good]}, {"year"}),
        ({"year": True, "cases": [good]}, {"year"}),
        ({"year": 2022, "cases": []}, {"cases"}),
        ({"year": 2022}, {"cases"}),
        ({"year": 2022, "cases": [good] * 5001}, {"cases"}),
        ({"year": 2022, "cases": [good, good, good, {**good, "title": None}]}, {"cases[3].title"}),
        ({"year": 2022, "cases": [{**good, "title": "  "}]}, {"cases[0].title"}),
        ({"year": 2022, "cases": [good, "文本"]}, {"cases[1]"}),
        ({"year": 2022, "cases": [{**good, "innovations": "一"}]}, {"cases[0].innovations"}),
        ({"year": 2022, "cases": [{**good, "results": ["一", 2]}]}, {"cases[0].results[1]"}),
        ({"year": 2022, "cases": [{**good, "unit": 5, "category": ["x"], "background": {}}]},
         {"cases[0].unit", "cases[0].category", "cases[0].background"}),
    ]
    for payload, fields in cases:
        code, body = org.call("POST", "/admin/archive", payload)
        assert code == 400, (payload, body)
        assert body["error"]["code"] == "invalid"
        assert set(body["error"]["fields"]) == fields, body
    code, body = org.call("POST", "/admin/archive", raw=b"[1, 2")
    assert code == 400 and body["error"]["code"] == "invalid"
    assert org.call("POST", "/admin/archive", ["x"])[0] == 400
    assert flags_by_case(org) == {}
    assert org.call("GET", "/admin/originality")[1]["archived"] == 0


def test_only_organisers_import_or_see_flags(api, clock):
    unit = api.as_(register_unit(api, 1))
    payload = {"year": 2022, "cases": [{"title": "旧案例", "background": "背景。", "innovations": [], "results": []}]}
    for who, status in ((unit, 403), (api, 401)):
        code, body = who.call("POST", "/admin/archive", payload)
        assert code == status and body["error"]["code"] in ("forbidden", "unauthenticated")
        assert who.call("GET", "/admin/originality")[0] == status
    # a unit's 403 comes before the body is used (a body that is not JSON at all is refused at the door: 400)
    assert unit.call("POST", "/admin/archive", {"year": 2022, "cases": []})[0] == 403


def test_a_lost_or_damaged_index_is_rebuilt_from_the_archive_table(api, clock):
    from chalicelib import bootstrap
    from chalicelib.store.originality import INDEX_KEY
    texts = Texts(23)
    org = organiser(api)
    archive = archive_payload(texts, count=6, year=2020)
    assert org.call("POST", "/admin/archive", archive)[0] == 201
    copy_id = submit(api, 1, texts.near_copy(archive["cases"][1]))
    expected = {copy_id: [("archive", archive["cases"][1]["title"], 2020)]}
    assert flags_by_case(org) == expected
    s3, bucket = bootstrap.s3(), bootstrap.config().bucket
    s3.put_object(Bucket=bucket, Key=INDEX_KEY, Body=b"damaged")
    assert flags_by_case(org) == expected
    s3.delete_object(Bucket=bucket, Key=INDEX_KEY)
    assert flags_by_case(org) == expected
    # a second year imported while the index is missing: the index holds both years
    s3.delete_object(Bucket=bucket, Key=INDEX_KEY)
    later = archive_payload(texts, count=3, year=2021)
    assert org.call("POST", "/admin/archive", later) == (201, {"imported": 3})
    assert org.call("GET", "/admin/originality")[1]["archived"] == 9
