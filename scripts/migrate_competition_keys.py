"""Move a stack's rows written before keys carried the competition (issue 17) into the keys of store/keys.py.

    python -m scripts.migrate_competition_keys [--stack <name>] [--competition <id>] [--dry-run]

Which rows move (old key -> new key; the competition is --competition, default the stack's COMPETITION_ID, the
one competition such a stack ran, except for mail rows, which name their own):
  assignments  "<stage>#<judge>" -> "<competition>#<stage>#<judge>"; stage_category likewise
  links        "<judge>#<stage>" -> "<competition>#<judge>#<stage>"
  mail_log     "<kind>#<object>#<recipient>" -> "<kind>#<competition>#<object>#<recipient>"
  audit        "stage#<id>", "assignments#<stage>", "links#<stage>", "judge#<id>" -> "<prefix>#<competition>#<id>"
Every other key already names its competition or an object unique across competitions (cases, accounts, export
jobs, certificates; S3 keys by case, job or competition; a ranking's record keeps the S3 key it names).

In order: read every row in an old shape (a Scan: an operator's tool, never a request path), write each row under
its new key, read every written row back and compare it with the old one, and only when all of them match delete
the old rows. A second run finds no old rows and changes nothing. --dry-run prints what would move and writes
nothing. Judge sessions opened before the migration name no competition and stop working (their judges open
their link again); a finished competition has none.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from scripts import operator_env

AUDIT_PREFIXES = ("stage", "assignments", "links", "judge")


def _s(item: dict[str, Any], name: str) -> str:
    value = item.get(name, {}).get("S")
    return value if isinstance(value, str) else ""


def _with(item: dict[str, Any], **strings: str) -> dict[str, Any]:
    return {**item, **{name: {"S": value} for name, value in strings.items()}}


# -- one function per table: the row in its new shape, or None when it is not in an old shape ---------------
def assignment(item: dict[str, Any], competition_id: str) -> dict[str, Any] | None:
    stage_judge, stage_category = _s(item, "stage_judge"), _s(item, "stage_category")
    if stage_judge.count("#") != 1:
        return None
    stage, judge_id = stage_judge.split("#")
    new = _with(item, stage_judge=f"{competition_id}#{stage}#{judge_id}")
    if stage_category.count("#") == 1:
        new = _with(new, stage_category=f"{competition_id}#{stage_category}")
    return new


def link(item: dict[str, Any], competition_id: str) -> dict[str, Any] | None:
    judge_stage = _s(item, "judge_stage")
    if judge_stage.count("#") != 1:
        return None
    return _with(item, judge_stage=f"{competition_id}#{judge_stage}")


def mail(item: dict[str, Any], competition_id: str) -> dict[str, Any] | None:
    key, kind, own = _s(item, "mail_key"), _s(item, "kind"), _s(item, "competition_id") or competition_id
    if not kind or key.startswith(f"{kind}#{own}#") or not key.startswith(f"{kind}#"):
        return None
    return _with(item, mail_key=f"{kind}#{own}#{key.removeprefix(kind + '#')}")


def audit(item: dict[str, Any], competition_id: str) -> dict[str, Any] | None:
    prefix, _, rest = _s(item, "object_key").partition("#")
    if prefix not in AUDIT_PREFIXES or not rest or "#" in rest:
        return None
    return _with(item, object_key=f"{prefix}#{competition_id}#{rest}")


@dataclass(frozen=True)
class Table:
    logical: str
    keys: tuple[str, ...]              # hash key, then range key
    new_shape: Callable[[dict[str, Any], str], dict[str, Any] | None]


TABLES = (Table("assignments", ("stage_judge", "case_id"), assignment),
          Table("links", ("judge_stage",), link),
          Table("mail_log", ("mail_key",), mail),
          Table("audit", ("object_key", "entry_key"), audit))


@dataclass
class Report:
    moved: dict[str, int] = field(default_factory=dict)       # table -> rows written under new keys
    deleted: dict[str, int] = field(default_factory=dict)     # table -> old rows deleted
    examples: dict[str, list[tuple[str, str]]] = field(default_factory=dict)   # table -> (old key, new key)
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would move" if self.dry_run else "moved"
        out = [f"{table}: {verb} {count} rows" + ("" if self.dry_run else f", deleted {self.deleted.get(table, 0)}")
               for table, count in self.moved.items()]
        for table, pairs in self.examples.items():
            out += [f"  {table}: {old} -> {new}" for old, new in pairs]
        return out


def _scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _key(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in names}


def plan(dynamodb: Any, tables: dict[str, str], competition_id: str) -> dict[str, list[tuple[dict, dict]]]:
    """(old row, new row) of every row in an old shape, by logical table."""
    moves: dict[str, list[tuple[dict, dict]]] = {}
    for table in TABLES:
        moves[table.logical] = [(item, new) for item in _scan(dynamodb, tables[table.logical])
                                if (new := table.new_shape(item, competition_id)) is not None]
    return moves


class VerificationFailed(Exception):
    pass


def migrate(dynamodb: Any, tables: dict[str, str], competition_id: str, dry_run: bool = False) -> Report:
    """Write, verify, then delete (see the module's docstring); VerificationFailed deletes nothing."""
    moves = plan(dynamodb, tables, competition_id)
    report = Report(dry_run=dry_run)
    by_name = {t.logical: t for t in TABLES}
    for logical, pairs in moves.items():
        report.moved[logical] = len(pairs)
        report.examples[logical] = [(json.dumps(_key(old, by_name[logical].keys), ensure_ascii=False),
                                     json.dumps(_key(new, by_name[logical].keys), ensure_ascii=False))
                                    for old, new in pairs[:3]]
    if dry_run:
        return report
    for logical, pairs in moves.items():      # 1. the new rows (a row already there from a broken run: rewritten)
        for _, new in pairs:
            dynamodb.put_item(TableName=tables[logical], Item=new)
    wrong = []
    for logical, pairs in moves.items():      # 2. every new row read back equal to the old one but for its key
        names = by_name[logical].keys
        for _, new in pairs:
            stored = dynamodb.get_item(TableName=tables[logical], Key=_key(new, names), ConsistentRead=True)
            if stored.get("Item") != new:
                wrong.append((logical, _key(new, names)))
    if wrong:
        raise VerificationFailed(f"{len(wrong)} rows did not read back as written (nothing deleted): {wrong[:5]}")
    for logical, pairs in moves.items():      # 3. only now the old rows
        names = by_name[logical].keys
        for old, new in pairs:
            if _key(old, names) != _key(new, names):
                dynamodb.delete_item(TableName=tables[logical], Key=_key(old, names))
                report.deleted[logical] = report.deleted.get(logical, 0) + 1
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.migrate_competition_keys",
                                     description="Move rows written before keys carried the competition.")
    operator_env.add_arguments(parser)
    parser.add_argument("--competition", help="the competition the stack ran (default: its COMPETITION_ID)")
    parser.add_argument("--dry-run", action="store_true", help="print what would move; write nothing")
    args = parser.parse_args(argv)
    try:
        target = operator_env.apply(args)
    except operator_env.TargetError as exc:
        print(exc, file=sys.stderr)
        return 2
    from chalicelib import bootstrap
    from chalicelib.store import schema
    competition_id = args.competition or bootstrap.config().competition_id
    print(f"{target}: competition {competition_id}{' (dry run)' if args.dry_run else ''}")
    try:
        report = migrate(bootstrap.client("dynamodb"), schema.table_names(), competition_id, args.dry_run)
    except VerificationFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
