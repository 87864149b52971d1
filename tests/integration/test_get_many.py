"""store/db.get_many: items of several tables by key in BatchGetItem calls of up to 100 keys, in the keys' order,
None where there is none, and what DynamoDB leaves unprocessed asked for again."""
from __future__ import annotations


def test_items_of_two_tables_come_back_in_the_keys_order_with_none_for_missing_ones(aws, monkeypatch):
    from chalicelib.store import db
    from chalicelib.store.models import Link, Stage

    for n in range(130):
        Link(f"judge{n}#text_review", link_hash=f"h{n}", link_id=f"s{n}", issued_at=1.0).save()
    Stage("shenzhen-2023", "final", opens_at=1.0, closes_at=2.0).save()
    keys = [(Stage, "shenzhen-2023", "final"), (Stage, "shenzhen-2023", "coaching"),
            *((Link, f"judge{n}#text_review", None) for n in range(130)), (Link, "nobody#text_review", None)]
    client = db.connection().client
    original, calls = client.batch_get_item, []

    def stingy(**request):      # the first answer leaves one key of each table unprocessed, as DynamoDB may
        answer = original(**request)
        calls.append(sum(len(v["Keys"]) for v in request["RequestItems"].values()))
        if len(calls) == 1:
            answer["UnprocessedKeys"] = {}
            for table, asked in request["RequestItems"].items():
                kept = answer["Responses"][table][1:]
                dropped = [i for i in answer["Responses"][table] if i not in kept]
                answer["Responses"][table] = kept
                key_names = [k for k in asked["Keys"][0]]
                answer["UnprocessedKeys"][table] = {"Keys": [{k: i[k] for k in key_names} for i in dropped]}
        return answer

    monkeypatch.setattr(client, "batch_get_item", stingy)
    found = db.get_many(keys)
    assert calls == [100, 2, 33]
    assert [getattr(f, "stage_id", None) for f in found[:2]] == ["final", None]
    assert [f.link_hash for f in found[2:132]] == [f"h{n}" for n in range(130)]
    assert found[132] is None
