"""Backup and restore of a stage's tables and objects, to a folder or a zip and back, exactly.

Layout: `manifest.json` (tables, object keys with content types, when), `tables/<logical>.jsonl`
(one item per line in DynamoDB's typed JSON) and `objects/<key>` (the bytes). The local runner
keeps its data between runs with this; operators use it through `scripts/backup.py`.
Scans are fine here: this is an operator's tool, never a request path.

A dump is crash-safe: it is written beside the target (`<name>.saving`), every file fsynced, and only then
swapped in (the old copy is moved to `<name>.old` for the instant of the swap). A crash at any point keeps
a whole copy: `.saving` is discarded, and an `.old` left without its target is the one loaded.
"""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any, Iterator

FORMAT = 1


class _FolderSink:
    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


class _ZipSink:
    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive

    def write(self, name: str, data: bytes) -> None:
        self.archive.writestr(name, data)


def _scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _objects(s3: Any, bucket: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            yield obj["Key"]


def _typed(value: dict[str, Any], convert) -> dict[str, Any]:
    """Apply `convert` to the binary values of one typed DynamoDB value ({"B": …}, {"M": {…}}, …)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {kind: convert(inner)}
    if kind == "BS":
        return {kind: [convert(b) for b in inner]}
    if kind == "M":
        return {kind: {k: _typed(v, convert) for k, v in inner.items()}}
    if kind == "L":
        return {kind: [_typed(v, convert) for v in inner]}
    return value


def _to_json(item: dict[str, Any]) -> dict[str, Any]:
    """An item as plain JSON: binary values (B, BS) become base64 text."""
    return {k: _typed(v, lambda b: base64.b64encode(b).decode()) for k, v in item.items()}


def _from_json(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _typed(v, base64.b64decode) for k, v in item.items()}


def _dump_into(sink: Any, dynamodb: Any, s3: Any, tables: dict[str, str], bucket: str,
               extra: dict[str, Any]) -> dict[str, Any]:
    manifest: dict[str, Any] = {"format": FORMAT, "saved_at": time.time(), **extra, "tables": {}, "objects": {}}
    for logical, physical in sorted(tables.items()):
        lines = [json.dumps(_to_json(item), ensure_ascii=False, sort_keys=True) for item in _scan(dynamodb, physical)]
        sink.write(f"tables/{logical}.jsonl", ("\n".join(lines) + ("\n" if lines else "")).encode())
        manifest["tables"][logical] = len(lines)
    for key in _objects(s3, bucket):
        obj = s3.get_object(Bucket=bucket, Key=key)
        sink.write(f"objects/{key}", obj["Body"].read())
        manifest["objects"][key] = {"content_type": obj.get("ContentType", "binary/octet-stream"),
                                    "metadata": obj.get("Metadata", {})}
    sink.write("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    return manifest


def dump(target: Path, dynamodb: Any, s3: Any, tables: dict[str, str], bucket: str,
         extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write everything to `target` (a folder, or a .zip); `extra` goes into the manifest. The old copy is
    replaced only when the new one is whole and on disk."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    staging = target.with_name(target.name + ".saving")
    _remove(staging)
    if target.suffix == ".zip":
        with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as archive:
            manifest = _dump_into(_ZipSink(archive), dynamodb, s3, tables, bucket, extra or {})
        _fsync(staging)
    else:
        staging.mkdir()
        manifest = _dump_into(_FolderSink(staging), dynamodb, s3, tables, bucket, extra or {})
        for folder in [*(p for p in staging.rglob("*") if p.is_dir()), staging]:
            _fsync(folder)
    old = _old(target)
    _remove(old)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    _fsync(target.parent)
    _remove(old)
    return manifest


def recover(target: Path) -> None:
    """After a crash between the two renames of `dump`: the previous copy (`.old`) becomes the target again."""
    target, old = Path(target), _old(Path(target))
    if not target.exists() and old.exists():
        old.rename(target)
        _fsync(target.parent)


def _old(target: Path) -> Path:
    return target.with_name(target.name + ".old")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


class _Source:
    def __init__(self, source: Path):
        self.source = source
        self.archive = zipfile.ZipFile(source) if source.suffix == ".zip" else None

    def read(self, name: str) -> bytes:
        if self.archive is not None:
            return self.archive.read(name)
        return (self.source / name).read_bytes()

    def exists(self) -> bool:
        if self.archive is not None:
            return "manifest.json" in self.archive.namelist()
        return (self.source / "manifest.json").is_file()


def exists(source: Path) -> bool:
    source = Path(source)
    recover(source)
    return source.exists() and _Source(source).exists()


def load(source: Path, dynamodb: Any, s3: Any, tables: dict[str, str], bucket: str) -> dict[str, Any]:
    """Put every saved item and object back (overwriting same keys). Returns the manifest."""
    recover(Path(source))
    src = _Source(Path(source))
    manifest = json.loads(src.read("manifest.json"))
    for logical in manifest["tables"]:
        if logical not in tables:
            continue
        items = [_from_json(json.loads(line)) for line in src.read(f"tables/{logical}.jsonl").decode().splitlines()
                 if line]
        for start in range(0, len(items), 25):
            _batch_put(dynamodb, tables[logical], items[start:start + 25])
    for key, meta in manifest["objects"].items():
        s3.put_object(Bucket=bucket, Key=key, Body=io.BytesIO(src.read(f"objects/{key}")),
                      ContentType=meta["content_type"], Metadata=meta.get("metadata", {}))
    return manifest


def _batch_put(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    request = {table: [{"PutRequest": {"Item": item}} for item in items]}
    for attempt in range(8):
        unprocessed = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if not unprocessed:
            return
        request = unprocessed
        time.sleep(0.05 * 2 ** attempt)
    raise RuntimeError(f"could not restore every item of {table}")
