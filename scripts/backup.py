"""Backup, restore and the yearly archive of one stage (an operator's tool: Scans are fine here).

    python -m scripts.backup dump <folder|file.zip>             every table and object of the stage
    python -m scripts.backup load <folder|file.zip> [--yes]     put them back (items and objects with the
                                                                same keys are overwritten; nothing is deleted)
    python -m scripts.backup archive --year 2023 <file.json>    the finished competition's submitted cases, as the
                                                                body of POST /api/v1/admin/archive for next year

Which stage: --stack <CloudFormation stack>, or TABLE_PREFIX and BUCKET_NAME, or AWS_ENDPOINT_URL (the local
emulator of `make run`); see scripts/operator_env.py. `make backup [DIR=...]` and `make restore DIR=...` wrap it.
The format (manifest.json, tables/<logical>.jsonl, objects/<key>) is chalicelib/store/backup.py's.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scripts import operator_env

# Every status a case can reach once it was submitted and not withdrawn.
ARCHIVED_STATUSES = ("submitted", "advanced", "not_advanced", "awarded", "not_awarded")
CASE_FIELDS = ("title", "unit", "category", "background", "innovations", "results")


def _stores() -> tuple[Any, Any, dict[str, str], str]:
    from chalicelib import bootstrap
    from chalicelib.store import schema
    cfg = bootstrap.config()
    return bootstrap.client("dynamodb"), bootstrap.s3(), schema.table_names(), cfg.bucket


def dump(target: Path) -> dict[str, Any]:
    from chalicelib.store import backup
    return backup.dump(Path(target), *_stores())


def load(source: Path, create: bool = False) -> dict[str, Any]:
    """Load a dump; with `create`, first make the tables and the bucket if missing (a fresh emulator)."""
    from chalicelib import bootstrap
    from chalicelib.store import backup, schema
    if not backup.exists(Path(source)):
        raise FileNotFoundError(f"{source} is not a backup (no manifest.json in it)")
    if create:
        cfg = bootstrap.config()
        schema.create_tables(bootstrap.client("dynamodb"))
        s3 = bootstrap.s3()
        if cfg.bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=cfg.bucket, CreateBucketConfiguration={"LocationConstraint": cfg.region})
    return backup.load(Path(source), *_stores())


def archived_case(body: dict[str, Any], unit_name: str | None) -> dict[str, Any]:
    """One archive entry: the unit is the submitting account's unit name (else the recommending unit)."""
    def text(value: Any) -> str:
        return value.strip() if isinstance(value, str) else ""

    def texts(value: Any) -> list[str]:
        return [text(v) for v in value if text(v)] if isinstance(value, list) else []

    return {"title": text(body.get("title")),
            "unit": text(unit_name) or text(body.get("recommending_unit")),
            "category": text(body.get("category")),
            "background": text(body.get("background")),
            "innovations": texts(body.get("innovations")),
            "results": texts(body.get("results"))}


def archive_body(year: int, competition_id: str | None = None) -> dict[str, Any]:
    """{"year": N, "cases": [...]}: every case of the competition that was submitted and not withdrawn."""
    from chalicelib import bootstrap
    from chalicelib.store import accounts, cases

    competition = competition_id or bootstrap.config().competition_id
    units: dict[str, str | None] = {}
    entries = []
    for case in cases.list_for_competition(competition):
        if case.status not in ARCHIVED_STATUSES:
            continue
        if case.owner_username not in units:
            account = accounts.get(case.owner_username)
            units[case.owner_username] = account.unit_name if account is not None else None
        entries.append((case.id, archived_case(json.loads(case.body), units[case.owner_username])))
    entries.sort(key=lambda e: (e[1]["category"], e[1]["title"], e[0]))
    return {"year": year, "cases": [entry for _, entry in entries]}


def _confirm(args: argparse.Namespace, target: str) -> None:
    if args.yes or operator_env.is_local():
        return
    if not sys.stdin.isatty():
        raise SystemExit(f"backup: refusing to load into {target} without --yes")
    answer = input(f"Load {args.source} into {target}? Items and objects with the same keys are overwritten. "
                   f"Type yes: ")
    if answer.strip().lower() != "yes":
        raise SystemExit("backup: nothing loaded")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.backup", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_dump = sub.add_parser("dump", help="save every table and object of the stage")
    p_dump.add_argument("target", type=Path, help="a folder, or a file ending in .zip")
    p_load = sub.add_parser("load", help="put a dump back")
    p_load.add_argument("source", type=Path, help="a folder or .zip written by dump")
    p_load.add_argument("--yes", action="store_true", help="do not ask (needed against AWS without a terminal)")
    p_load.add_argument("--create", action="store_true", help="create missing tables and the bucket first")
    p_archive = sub.add_parser("archive", help="export the finished competition's cases for next year's corpus")
    p_archive.add_argument("--year", type=int, required=True, help="the competition's year, e.g. 2023")
    p_archive.add_argument("--competition", help="competition id (default: COMPETITION_ID of the stage)")
    p_archive.add_argument("output", type=Path, help="the JSON file to write")
    for p in (p_dump, p_load, p_archive):
        operator_env.add_arguments(p)
    args = parser.parse_args(argv)

    try:
        target = operator_env.apply(args)
    except operator_env.TargetError as exc:
        print(f"backup: {exc}", file=sys.stderr)
        return 2
    if args.command == "dump":
        manifest = dump(args.target)
        print(f"saved {sum(manifest['tables'].values())} items of {len(manifest['tables'])} tables and "
              f"{len(manifest['objects'])} objects from {target} to {args.target}")
    elif args.command == "load":
        _confirm(args, target)
        manifest = load(args.source, create=args.create)
        print(f"loaded {sum(manifest['tables'].values())} items and {len(manifest['objects'])} objects "
              f"from {args.source} into {target}")
    else:
        body = archive_body(args.year, args.competition)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(body['cases'])} cases of {args.year} to {args.output} "
              f"(POST it to /api/v1/admin/archive next year)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
