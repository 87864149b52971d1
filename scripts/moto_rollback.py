"""moto's TransactWriteItems with an item-level rollback: the same outcome for the app, without copying tables.

moto deep-copies every table a transaction touches before it starts, to restore it if the transaction is
cancelled. The audit table grows with every change, so a competition of hundreds of cases spends most of
its time (and, in long runs, more than 20 GB of memory) copying it. Here the rollback keeps a copy of just
the items the transaction names and puts them back (or deletes those that did not exist). Importing this
module installs it. It assumes one transaction at a time: the local emulator (scripts/local_emulator.py)
serialises every request; the long benchmarks' emulator (benchmarks/moto_server.py) uses it too.
"""
from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    table_name = op.get("TableName")
    if not table_name or table_name not in backend.tables:
        return None
    if op_type != "Put":
        return table_name, op["Key"]
    table = backend.get_table(table_name)
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return table_name, key


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        found = _key_of(self, op_type, op) if isinstance(op, dict) else None
        if found is not None and op_type != "ConditionCheck":
            table_name, key = found
            current = self.get_item(table_name, key)
            saved.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    tables, self.tables = self.tables, _NoCopy(self.tables)
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        for table_name, key, attributes in reversed(saved):
            if attributes is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, attributes)
        raise
    finally:
        self.tables = tables


class _NoCopy(dict):
    """The backend's tables as moto's transaction sees them: `deepcopy` of a table returns the table itself
    (so the backup costs nothing) and a rollback's reassignment is ignored (the items are restored above)."""

    def __getitem__(self, name: str) -> Any:
        return _Shared(super().__getitem__(name))

    def __setitem__(self, name: str, value: Any) -> None:
        pass


class _Shared:
    def __init__(self, table: Any):
        object.__setattr__(self, "_table", table)

    def __deepcopy__(self, memo: dict[int, Any]) -> "_Shared":
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


DynamoDBBackend.transact_write_items = transact_write_items
