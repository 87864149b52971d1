"""Backup -> wipe -> restore gives back exactly what was there (every table, every object), through the
operator CLI (scripts/backup.py) as well; the yearly archive exports the body of POST /api/v1/admin/archive."""
from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.store import backup, models, schema
from scripts import backup as cli

SAMPLES = {"S": lambda n: {"S": f"值-{n}"}, "N": lambda n: {"N": str(1_690_000_000 + n)}}


def _key_item(model: type, n: int) -> dict[str, Any]:
    """An item of any model's table: its keys (and index keys) plus values of every DynamoDB type."""
    schema_ = model._get_schema()
    item: dict[str, Any] = {}
    definitions = schema_["attribute_definitions"] + [d for i in schema_["global_secondary_indexes"]
                                                       for d in i["attribute_definitions"]]
    for d in definitions:
        item[d["AttributeName"]] = SAMPLES[d["AttributeType"]](n)
    item.update({
        "text": {"S": "案例背景：党建引领。\n第二行 🙂"},
        "number": {"N": "3.5"},
        "flag": {"BOOL": n % 2 == 0},
        "nothing": {"NULL": True},
        "list": {"L": [{"S": "一"}, {"N": "2"}, {"M": {"k": {"S": "v"}}}]},
        "map": {"M": {"criteria": {"M": {"foresight": {"N": "275"}}}, "empty": {"M": {}}}},
        "strings": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
    })
    return item


OBJECTS = {
    "cases/c1/a1": (b"%PDF-1.7\n" + bytes(range(256)) * 40, "application/pdf", {"filename": "report.pdf"}),
    "cases/c1/a2": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png", {}),
    "exports/2023/结果.xlsx": (b"PK\x03\x04 not really a workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {}),
    "empty": (b"", "binary/octet-stream", {}),
}


def _seed() -> None:
    dynamodb = bootstrap.client("dynamodb")
    for model in models.MODELS:
        for n in range(3):
            dynamodb.put_item(TableName=model.Meta.table_name, Item=_key_item(model, n))
    s3, bucket = bootstrap.s3(), bootstrap.config().bucket
    for key, (data, content_type, metadata) in OBJECTS.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type, Metadata=metadata)


def _state() -> dict[str, Any]:
    """Everything of the stage: each table's items (sorted) and each object's bytes, type and metadata."""
    dynamodb, s3, bucket = bootstrap.client("dynamodb"), bootstrap.s3(), bootstrap.config().bucket
    tables = {}
    for logical, table in schema.table_names().items():
        items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
        tables[logical] = sorted(items, key=lambda i: repr(sorted(i.items())))
    objects = {}
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        got = s3.get_object(Bucket=bucket, Key=obj["Key"])
        objects[obj["Key"]] = (got["Body"].read(), got["ContentType"], got.get("Metadata", {}))
    return {"tables": tables, "objects": objects}


def _wipe() -> None:
    dynamodb, s3, bucket = bootstrap.client("dynamodb"), bootstrap.s3(), bootstrap.config().bucket
    for model in models.MODELS:
        keys = [k["AttributeName"] for k in model._get_schema()["key_schema"]]
        for item in dynamodb.scan(TableName=model.Meta.table_name)["Items"]:
            dynamodb.delete_item(TableName=model.Meta.table_name, Key={k: item[k] for k in keys})
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    assert _state() == {"tables": {m.Meta.logical: [] for m in models.MODELS}, "objects": {}}


@pytest.fixture
def seeded(aws, monkeypatch) -> dict[str, Any]:
    # The CLI runs against "whatever the environment says": here the in-process moto with local names.
    monkeypatch.setenv("TABLE_PREFIX", bootstrap.config().table_prefix)
    monkeypatch.setenv("BUCKET_NAME", bootstrap.config().bucket)
    _seed()
    state = _state()
    assert all(len(items) == 3 for items in state["tables"].values())
    assert len(state["objects"]) == len(OBJECTS)
    return state


@pytest.mark.parametrize("name", ["backup", "backup.zip"])
def test_dump_wipe_load_gives_back_every_item_and_object(seeded, tmp_path, name):
    target = tmp_path / name
    manifest = cli.dump(target)
    assert manifest["tables"] == {m.Meta.logical: 3 for m in models.MODELS}
    assert set(manifest["objects"]) == set(OBJECTS)
    if name.endswith(".zip"):
        assert zipfile.is_zipfile(target) and "manifest.json" in zipfile.ZipFile(target).namelist()
    else:
        assert (target / "manifest.json").is_file() and (target / "objects" / "cases" / "c1" / "a1").is_file()
    _wipe()
    cli.load(target)
    assert _state() == seeded


def test_cli_round_trip_through_folder_and_zip(seeded, tmp_path, capsys):
    folder, archive = tmp_path / "dump", tmp_path / "dump.zip"
    assert cli.main(["dump", str(folder)]) == 0
    assert cli.main(["dump", str(archive)]) == 0
    _wipe()
    assert cli.main(["load", "--yes", str(archive)]) == 0
    assert _state() == seeded
    _wipe()
    assert cli.main(["load", "--yes", str(folder)]) == 0
    assert _state() == seeded
    assert f"loaded {3 * len(models.MODELS)} items and {len(OBJECTS)} objects" in capsys.readouterr().out


def test_dump_again_replaces_the_old_copy_whole(seeded, tmp_path):
    target = tmp_path / "dump.zip"
    cli.dump(target)
    bootstrap.s3().delete_object(Bucket=bootstrap.config().bucket, Key="empty")
    manifest = cli.dump(target)
    assert "empty" not in manifest["objects"]
    assert not (tmp_path / "dump.zip.saving").exists() and not (tmp_path / "dump.zip.old").exists()


def test_load_into_a_fresh_emulator_creates_tables_and_bucket(seeded, tmp_path):
    target = tmp_path / "dump"
    cli.dump(target)
    dynamodb, s3, bucket = bootstrap.client("dynamodb"), bootstrap.s3(), bootstrap.config().bucket
    for model in models.MODELS:
        dynamodb.delete_table(TableName=model.Meta.table_name)
    _delete_bucket(s3, bucket)
    cli.load(target, create=True)
    assert _state() == seeded


def _delete_bucket(s3: Any, bucket: str) -> None:
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=bucket)


def test_binary_attributes_survive_a_round_trip(aws, tmp_path):
    table = models.Guard.Meta.table_name
    item = {"key": {"S": "b"}, "blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"\x01", b"\x02"]},
            "nested": {"M": {"B": {"S": "not binary"}, "inner": {"L": [{"B": b"\x03"}]}}}}
    bootstrap.client("dynamodb").put_item(TableName=table, Item=item)
    cli.dump(tmp_path / "dump")
    _wipe()
    cli.load(tmp_path / "dump")
    assert bootstrap.client("dynamodb").scan(TableName=table)["Items"] == [item]


def test_load_refuses_a_folder_that_is_not_a_backup(aws, tmp_path):
    with pytest.raises(FileNotFoundError):
        cli.load(tmp_path)


def test_cli_against_aws_needs_a_named_stage(monkeypatch, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("TABLE_PREFIX", raising=False)
    monkeypatch.delenv("BUCKET_NAME", raising=False)
    assert cli.main(["dump", "somewhere.zip"]) == 2
    assert "--stack" in capsys.readouterr().err


def _case(n: int, status: str, owner: str, **body: Any) -> models.Case:
    cfg = bootstrap.config()
    text = {"category": "development", "recommending_unit": f"推荐单位{n}", "title": f"案例{n}",
            "leader": {"name": "李四"}, "contact": {"name": "王五"}, "background": f"背景{n}",
            "innovations": [f"创新{n}a", f"创新{n}b"], "results": [f"成果{n}"], "originality_pledge": True, **body}
    return models.Case(f"case{n}", competition_id=cfg.competition_id,
                       category_key=f"{text['category']}#case{n}", owner_id=f"id-{owner}", owner_username=owner,
                       status=status, version=1, body=json.dumps(text, ensure_ascii=False), char_count=10,
                       created_at=1_690_000_000 + n, updated_at=1_690_000_000 + n)


def test_archive_exports_every_submitted_case_as_the_archive_import_body(aws, tmp_path, monkeypatch):
    monkeypatch.setenv("TABLE_PREFIX", bootstrap.config().table_prefix)
    monkeypatch.setenv("BUCKET_NAME", bootstrap.config().bucket)
    models.Account("unit1", id="id-unit1", role="unit", password_hash="x", unit_name="深圳市第1局",
                   created_at=1).save()
    statuses = ["draft", "submitted", "withdrawn", "advanced", "not_advanced", "awarded", "not_awarded"]
    for n, status in enumerate(statuses):
        _case(n, status, "unit1" if n != 6 else "gone", **({"category": "service"} if n == 5 else {})).save()
    models.Case("other", competition_id="another-2022", category_key="development#other", owner_id="x",
                owner_username="unit1", status="submitted", version=1, body="{}", char_count=0,
                created_at=1, updated_at=1).save()

    output = tmp_path / "archive-2023.json"
    assert cli.main(["archive", "--year", "2023", str(output)]) == 0
    body = json.loads(output.read_text(encoding="utf-8"))

    def entry(n: int, unit: str, category: str = "development") -> dict[str, Any]:
        return {"title": f"案例{n}", "unit": unit, "category": category, "background": f"背景{n}",
                "innovations": [f"创新{n}a", f"创新{n}b"], "results": [f"成果{n}"]}

    assert body == {"year": 2023, "cases": [
        entry(1, "深圳市第1局"), entry(3, "深圳市第1局"), entry(4, "深圳市第1局"), entry(6, "推荐单位6"),
        entry(5, "深圳市第1局", "service"),
    ]}
    assert all(list(c) == list(cli.CASE_FIELDS) for c in body["cases"])


def test_a_crash_between_the_renames_of_a_dump_keeps_the_previous_copy_and_loads_it(seeded, tmp_path):
    target = tmp_path / "snapshot"
    cli.dump(target)
    # The next dump died after moving the old copy aside, with its new copy half written:
    target.rename(tmp_path / "snapshot.old")
    (tmp_path / "snapshot.saving" / "tables").mkdir(parents=True)
    (tmp_path / "snapshot.saving" / "tables" / "accounts.jsonl").write_text('{"username": {"S": "ha')
    _wipe()
    assert backup.exists(target)
    backup.load(target, *_stores())
    assert _state() == seeded
    backup.dump(target, *_stores(), extra={"journal_seq": 7})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot"]
    assert json.loads((target / "manifest.json").read_text())["journal_seq"] == 7


def _stores() -> tuple[Any, Any, dict[str, str], str]:
    return bootstrap.client("dynamodb"), bootstrap.s3(), schema.table_names(), bootstrap.config().bucket
