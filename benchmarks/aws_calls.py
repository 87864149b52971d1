"""Counts the AWS calls the app makes, by service and operation, with botocore events — and estimates what
DynamoDB bills for them (on-demand read / write request units) and the bytes S3 stores and serves.

A handler on `before-call` / `after-call` of each client the app uses: the store's one shared botocore client
(chalicelib/store/db.py; PynamoDB calls `client._make_api_call`, so the events fire) and the boto3 clients of
chalicelib/bootstrap.py (S3, SES, Lambda, DynamoDB). `Meter.attach_app()` attaches them all; call it again after
`bootstrap.reset()` (the clients are rebuilt then). A call of a client that is not attached is not counted:
`Meter.unattached()` (a BaseClient guard) reports them, so a new client cannot hide.

Request units, as DynamoDB on-demand bills them (docs: "Read/write capacity mode"):
- a read: one unit per 4 KB read (rounded up, per item for GetItem/BatchGetItem, per call for Query on the total
  size read); half of that when eventually consistent; a transactional read twice.
- a write: one unit per 1 KB of the item (the larger of before/after; we know the item after), two for a
  transactional write, and one more write per global secondary index the item is in (all the app's GSIs
  project ALL attributes, so the index copy is as large as the item).
Item sizes are computed from the DynamoDB-typed attributes (name bytes + value bytes) of requests and
responses. An UpdateItem or a transactional update/delete/condition check does not carry the whole item:
its size is the last size this meter saw for that key (a Put, a Get, a Query), else the running average of
its table. These are estimates within some per cent, good for a bill, not for an invoice.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

CALL_SERVICES = ("dynamodb", "s3", "ses", "sesv2", "lambda", "secretsmanager", "scheduler", "events")


def _value_size(v: dict[str, Any]) -> int:
    (kind, value), = v.items()
    if kind == "S":
        return len(value.encode("utf-8"))
    if kind == "N":
        digits = len(str(value).lstrip("-").replace(".", "").lstrip("0")) or 1
        return 1 + math.ceil(digits / 2)
    if kind == "B":
        return len(value)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode("utf-8")) for x in value)
    if kind == "NS":
        return sum(_value_size({"N": x}) for x in value)
    if kind == "BS":
        return sum(len(x) for x in value)
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in value)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + _value_size(x) for k, x in value.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of a DynamoDB item (attribute names + values), as DynamoDB sizes it for billing."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _body_size(body: Any) -> int:
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    if hasattr(body, "getbuffer"):
        return body.getbuffer().nbytes
    if hasattr(body, "seek") and hasattr(body, "tell"):
        here = body.tell()
        end = body.seek(0, 2)
        body.seek(here)
        return end - here
    return 0


def _rru(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _wru(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass(eq=False)
class Tally:
    """What a stretch of work cost: calls by (service, operation), request units, bytes."""
    calls: Counter = field(default_factory=Counter)
    rru: float = 0.0                 # DynamoDB read request units
    wru: float = 0.0                 # DynamoDB write request units (GSI copies included)
    s3_put_bytes: int = 0
    s3_get_bytes: int = 0
    ses_messages: int = 0
    ses_bytes: int = 0
    aws_seconds: float = 0.0         # wall time spent inside AWS calls (the emulator's share)

    def add(self, other: "Tally") -> None:
        self.calls.update(other.calls)
        self.rru += other.rru
        self.wru += other.wru
        self.s3_put_bytes += other.s3_put_bytes
        self.s3_get_bytes += other.s3_get_bytes
        self.ses_messages += other.ses_messages
        self.ses_bytes += other.ses_bytes
        self.aws_seconds += other.aws_seconds

    def by_service(self, service: str) -> Counter:
        return Counter({op: n for (svc, op), n in self.calls.items() if svc == service})

    def total(self) -> int:
        return sum(self.calls.values())

    def as_dict(self) -> dict[str, Any]:
        return {"calls": {f"{s}.{o}": n for (s, o), n in sorted(self.calls.items())}, "rru": self.rru,
                "wru": self.wru, "s3_put_bytes": self.s3_put_bytes, "s3_get_bytes": self.s3_get_bytes,
                "ses_messages": self.ses_messages, "ses_bytes": self.ses_bytes,
                "aws_seconds": round(self.aws_seconds, 3)}


class Meter:
    def __init__(self) -> None:
        self.tally = Tally()
        self._stack: list[Tally] = []
        self._tables: dict[str, tuple[list[str], list[list[str]]]] = {}   # table -> (key attrs, GSI key attrs)
        self._sizes: dict[tuple[str, str], tuple[int, frozenset]] = {}   # (table, key) -> (size, attribute names)
        self._table_sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # table -> [sum, count]
        self._attached: set[int] = set()
        self._seen_clients: set[int] = set()
        self.unattached_calls: Counter = Counter()

    # -- wiring ----------------------------------------------------------------------------------------
    def attach(self, client: Any) -> None:
        if id(client) in self._attached:
            return
        events = client.meta.events
        events.register("before-parameter-build", self._params, unique_id=f"meter-params-{id(self)}")
        events.register("before-call", self._before_call, unique_id=f"meter-before-{id(self)}")
        events.register("after-call", self._after_call, unique_id=f"meter-after-{id(self)}")
        self._attached.add(id(client))

    def attach_app(self) -> None:
        """The clients of the app (store + bootstrap); builds them if needed (no AWS call)."""
        from chalicelib import bootstrap
        from chalicelib.store import db, models
        bootstrap.config()
        self.attach(db.connection().client)
        for model in models.MODELS:
            self.attach(model._get_connection().connection.client)
        self.attach(bootstrap.s3())
        for service in ("dynamodb", "ses", "lambda"):
            self.attach(bootstrap.client(service))
        self._learn_tables()

    def guard_unattached(self) -> None:
        """Counts calls of clients this meter is not attached to (they would be missing from the figures)."""
        import botocore.client
        original = botocore.client.BaseClient._make_api_call
        meter = self

        def guarded(client, operation, params):
            if id(client) not in meter._attached and meter._stack and not getattr(client, "meter_ignore", False):
                meter.unattached_calls[(client.meta.service_model.service_name, operation)] += 1
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = guarded

    def _learn_tables(self) -> None:
        from chalicelib.store import models
        for model in models.MODELS:
            keys = [model._hash_key_attribute().attr_name]
            if model._range_key_attribute() is not None:
                keys.append(model._range_key_attribute().attr_name)
            gsis = []
            for index in model._indexes.values():
                schema = index._get_schema()["key_schema"]   # a GSI's copy exists when its HASH key is set
                gsis.append([k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH")])
            self._tables[model.Meta.table_name] = (keys, gsis)

    # -- measuring --------------------------------------------------------------------------------------
    @contextmanager
    def measure(self) -> Iterator[Tally]:
        """The calls made inside the block (nested blocks count in every enclosing one)."""
        tally = Tally()
        self._stack.append(tally)
        try:
            yield tally
        finally:
            self._stack[:] = [t for t in self._stack if t is not tally]

    def _targets(self) -> list[Tally]:
        return [self.tally, *self._stack]

    def _params(self, params: dict[str, Any], context: Any = None, **_: Any) -> None:
        if isinstance(context, dict):
            context["meter_params"] = params

    def _before_call(self, model: Any, context: Any = None, **_: Any) -> None:
        service, op = model.service_model.service_name, model.name
        params = (context or {}).get("meter_params") or {}
        if isinstance(context, dict):
            context["meter_start"] = time.perf_counter()
        if service == "email":
            service = "ses"
        wru = 0.0
        put_bytes = ses = ses_bytes = 0
        if service == "dynamodb":
            wru = self._write_units(op, params)
        elif service == "s3" and op in ("PutObject", "UploadPart"):
            put_bytes = _body_size(params.get("Body", b""))
        elif service == "ses" and op in ("SendRawEmail", "SendEmail"):
            ses = 1
            raw = (params.get("RawMessage") or {}).get("Data", b"")
            ses_bytes = len(raw)
        for t in self._targets():
            t.calls[(service, op)] += 1
            t.wru += wru
            t.s3_put_bytes += put_bytes
            t.ses_messages += ses
            t.ses_bytes += ses_bytes

    def _after_call(self, model: Any, parsed: dict[str, Any], context: Any = None, **_: Any) -> None:
        service, op = model.service_model.service_name, model.name
        rru = 0.0
        get_bytes = 0
        started = (context or {}).get("meter_start")
        spent = time.perf_counter() - started if started else 0.0
        if service == "dynamodb":
            rru = self._read_units(op, parsed, (context or {}).get("meter_params") or {})
        elif service == "s3" and op == "GetObject":
            get_bytes = int(parsed.get("ContentLength") or 0)
        for t in self._targets():
            t.rru += rru
            t.s3_get_bytes += get_bytes
            t.aws_seconds += spent

    # -- DynamoDB units --------------------------------------------------------------------------------
    def _key(self, table: str, item: dict[str, Any]) -> str:
        keys = self._tables.get(table, ([], []))[0]
        return json.dumps([item.get(k) for k in keys], sort_keys=True, ensure_ascii=False)

    def _remember(self, table: str, item: dict[str, Any]) -> int:
        size = item_size(item)
        self._sizes[(table, self._key(table, item))] = (size, frozenset(item))
        total = self._table_sizes[table]
        total[0] += size
        total[1] += 1
        return size

    def _known(self, table: str, key: dict[str, Any]) -> tuple[int, frozenset]:
        found = self._sizes.get((table, self._key(table, key)))
        if found:
            return found
        total = self._table_sizes.get(table)
        average = int(total[0] / total[1]) if total and total[1] else 1024
        return average, frozenset()

    def _gsi_copies(self, table: str, names: frozenset) -> int:
        return sum(1 for keys in self._tables.get(table, ([], []))[1] if keys and keys[0] in names)

    def _put_units(self, table: str, item: dict[str, Any], factor: int) -> float:
        size = self._remember(table, item)
        return factor * _wru(size) * (1 + self._gsi_copies(table, frozenset(item)))

    def _keyed_units(self, table: str, key: dict[str, Any], factor: int, touched: set[str] | None = None) -> float:
        size, names = self._known(table, key)
        names = names | frozenset(touched or ())
        return factor * _wru(size) * (1 + self._gsi_copies(table, names))

    def _write_units(self, op: str, params: dict[str, Any]) -> float:
        if op == "PutItem":
            return self._put_units(params["TableName"], params["Item"], 1)
        if op == "UpdateItem":
            touched = set((params.get("ExpressionAttributeNames") or {}).values())
            return self._keyed_units(params["TableName"], params["Key"], 1, touched)
        if op == "DeleteItem":
            return self._keyed_units(params["TableName"], params["Key"], 1)
        if op == "BatchWriteItem":
            units = 0.0
            for table, requests in params.get("RequestItems", {}).items():
                for r in requests:
                    if "PutRequest" in r:
                        units += self._put_units(table, r["PutRequest"]["Item"], 1)
                    else:
                        units += self._keyed_units(table, r["DeleteRequest"]["Key"], 1)
            return units
        if op == "TransactWriteItems":
            units = 0.0
            for entry in params.get("TransactItems", []):
                (kind, body), = entry.items()
                if kind == "Put":
                    units += self._put_units(body["TableName"], body["Item"], 2)
                elif kind == "Update":
                    touched = set((body.get("ExpressionAttributeNames") or {}).values())
                    units += self._keyed_units(body["TableName"], body["Key"], 2, touched)
                elif kind == "Delete":
                    units += self._keyed_units(body["TableName"], body["Key"], 2)
                else:   # ConditionCheck: a read of the item, billed as a write unit pair
                    size, _ = self._known(body["TableName"], body["Key"])
                    units += 2 * _wru(size)
            return units
        return 0.0

    def _read_units(self, op: str, parsed: dict[str, Any], params: dict[str, Any]) -> float:
        consistent = bool(params.get("ConsistentRead"))
        if op == "GetItem":
            item = parsed.get("Item")
            if item and params.get("TableName"):
                self._remember(params["TableName"], item)
            return _rru(item_size(item), consistent)
        if op in ("Query", "Scan"):
            items = parsed.get("Items") or []
            if params.get("TableName") and not params.get("IndexName") and not params.get("ProjectionExpression"):
                for i in items:
                    self._remember(params["TableName"], i)
            size = sum(item_size(i) for i in items)
            count, scanned = parsed.get("Count") or 0, parsed.get("ScannedCount") or 0
            if count and scanned > count:
                size = int(size * scanned / count)
            return _rru(size, consistent)
        if op == "BatchGetItem":
            return sum(_rru(item_size(i), False) for items in (parsed.get("Responses") or {}).values()
                       for i in items)
        if op == "TransactGetItems":
            return sum(2 * _rru(item_size(r.get("Item")), True) for r in parsed.get("Responses") or [])
        return 0.0
