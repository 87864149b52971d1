"""Connections and transactions over the bound models, and the mapping of refused conditions."""
from __future__ import annotations

import time
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator, Mapping, TypeVar

import botocore.session
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from ..config import Settings
from . import models

_state: dict[str, Connection] = {}
_M = TypeVar("_M", bound=Model)


@lru_cache(maxsize=1)
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


class _ProcessConnection(Connection):
    """PynamoDB's Connection on the process's one botocore session (its public `session` property, overridden):
    each new session parses the DynamoDB service description again (0.1 to 0.3 s), so rebinding (tests, a new
    endpoint) parses nothing again."""

    @property
    def session(self) -> botocore.session.Session:
        return _botocore_session()


def bind(settings: Settings) -> None:
    """Point the models at their tables and make them share ONE connection, so ONE botocore client.

    The connection is PynamoDB's own, made with its public arguments: the settings' region and endpoint, the
    timeouts and attempts of `settings.aws_timeouts` (PynamoDB's retries are botocore's standard mode with
    1 + max_retry_attempts attempts in all). PynamoDB would otherwise make a botocore session and client per
    model, and each new session parses the DynamoDB service description again (a second or more of a cold start
    over the fifteen tables).
    """
    models.bind(settings.table_name, settings.region, settings.endpoint_url)
    timeouts = settings.aws_timeouts
    shared = _ProcessConnection(region=settings.region, host=settings.endpoint_url,
                                connect_timeout_seconds=timeouts.connect_seconds,
                                read_timeout_seconds=timeouts.read_seconds,
                                max_retry_attempts=timeouts.max_attempts - 1)
    shared.client       # made now, once: botocore does not make clients thread-safely (the console reads in threads)
    for model in models.MODELS:
        _send_through(model, shared)
    _state["connection"] = shared


def _send_through(model: type[Model], shared: Connection) -> None:
    """Make `model` send its calls through `shared`: the one private PynamoDB use of the store.

    PynamoDB (6.1) builds each model's connection itself, from its Meta, and has no setting, Meta field or argument
    that hands a model a connection, a botocore session or a client (asked for upstream: pynamodb/PynamoDB#1245 and
    #876, both open). So this calls the private `Model._get_connection()`, which builds (or, for the same table
    name, keeps) the model's TableConnection from Meta without making a session or a client; the rest is public:
    the table's key schema goes to the shared connection (`add_meta_table`), and TableConnection's `connection`
    attribute is set to it. No private field is written.
    """
    table = model._get_connection()
    shared.add_meta_table(table.get_meta_table())
    table.connection = shared


def connection() -> Connection:
    return _state["connection"]


class LabelledWrite(TransactWrite):
    """A TransactWrite whose items may carry a label, so a refused condition can be named.

    PynamoDB sends condition checks, then deletes, then puts, then updates, whatever order they were
    added in; the cancellation reasons follow that order, and so does `labels`.
    """

    def __init__(self, **kwargs: Any) -> None:        # TransactWrite's own arguments, passed on
        super().__init__(**kwargs)
        self._labels: dict[str, list[str | None]] = {"check": [], "delete": [], "put": [], "update": []}

    def condition_check(self, model_cls, hash_key, range_key=None, condition=None, label: str | None = None):
        self._labels["check"].append(label)
        return super().condition_check(model_cls, hash_key, range_key, condition)

    def delete(self, model, condition=None, *, add_version_condition: bool = True, label: str | None = None):
        self._labels["delete"].append(label)
        return super().delete(model, condition, add_version_condition=add_version_condition)

    def save(self, model, condition=None, return_values=None, label: str | None = None):
        self._labels["put"].append(label)
        return super().save(model, condition, return_values)

    def update(self, model, actions, condition=None, return_values=None, *, add_version_condition: bool = True,
               label: str | None = None):
        self._labels["update"].append(label)
        return super().update(model, actions, condition, return_values, add_version_condition=add_version_condition)

    @property
    def labels(self) -> list[str | None]:
        return [*self._labels["check"], *self._labels["delete"], *self._labels["put"], *self._labels["update"]]


class Refused(Exception):
    """A transaction whose conditions failed; `labels` names the items that failed (None: unlabelled)."""

    def __init__(self, labels: set[str | None], cause: TransactWriteError):
        super().__init__(f"conditions failed: {sorted(map(str, labels))}")
        self.labels = labels
        self.cause = cause


@contextmanager
def refused_as(otherwise: Exception | None, by_label: Mapping[str, Exception] | None = None) -> Iterator[None]:
    """A refused condition inside becomes a domain error: the error of the first label in `by_label` among the
    failed items', else `otherwise` (None: the Refused itself goes on)."""
    try:
        yield
    except Refused as exc:
        for label, error in (by_label or {}).items():
            if label in exc.labels:
                raise error from exc
        if otherwise is None:
            raise
        raise otherwise from exc


# DynamoDB cancels a transaction that meets another one on the same item (TransactionConflict) or is
# throttled on an item (ThrottlingError); botocore does not retry a cancelled transaction, so the store does,
# after these pauses (seconds). Conditions are evaluated afresh each time; still cancelled, it raises (503).
TRANSIENT_CANCELLATIONS = {"TransactionConflict", "ThrottlingError"}
RETRY_PAUSES = (0.05, 0.1, 0.2)


@contextmanager
def transaction() -> Iterator[LabelledWrite]:
    """A write transaction; a failed condition raises Refused with the failing items' labels."""
    writer = LabelledWrite(connection=connection())
    yield writer
    for pause in (*RETRY_PAUSES, None):
        try:
            writer._commit()
            return
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) for r in getattr(exc, "cancellation_reasons", None) or []]
            failed = {writer.labels[i] for i, code in enumerate(reasons)
                      if code == "ConditionalCheckFailed" and i < len(writer.labels)}
            if failed:
                raise Refused(failed, exc) from exc
            if pause is None or not TRANSIENT_CANCELLATIONS & set(reasons):
                raise
            time.sleep(pause)


@contextmanager
def read_together() -> Iterator[TransactGet]:
    """Several items from several tables in one consistent call (TransactGetItems)."""
    with TransactGet(connection=connection()) as reader:
        yield reader


def _key(model: type[Model], hash_key: str, range_key: str | None) -> dict[str, dict[str, str]]:
    key = {model._hash_key_attribute().attr_name: {"S": hash_key}}
    if range_key is not None:
        key[model._range_key_attribute().attr_name] = {"S": range_key}
    return key


def get_many(keys: list[tuple[type[Model], str, str | None]]) -> list[Model | None]:
    """Items of several models (tables; string keys) in BatchGetItem calls of up to 100 keys, in the keys'
    order, None where there is none; what DynamoDB leaves unprocessed is asked for again, after a pause.
    `one_of` gives an answer back its model's type."""
    models_of = {model.Meta.table_name: model for model, _, _ in keys}
    found: dict[tuple[str, str], Model] = {}
    for start in range(0, len(keys), 100):
        request: dict[str, dict[str, list]] = {}
        for model, hash_key, range_key in keys[start:start + 100]:
            request.setdefault(model.Meta.table_name, {"Keys": []})["Keys"].append(_key(model, hash_key, range_key))
        for pause in (0.0, *RETRY_PAUSES, *RETRY_PAUSES[-1:] * 5):
            if pause:
                time.sleep(pause)
            answer = connection().client.batch_get_item(RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                model = models_of[table]
                names = list(_key(model, "", "" if model._range_key_attribute() else None))
                for item in items:
                    found[(table, "\x00".join(item[n]["S"] for n in names))] = model.from_raw_data(item)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RuntimeError("BatchGetItem: keys still unprocessed after retries")
    return [found.get((model.Meta.table_name, "\x00".join(k for k in (h, r) if k is not None)))
            for model, h, r in keys]


def one_of(model: type[_M], item: Model | None) -> _M | None:
    """An answer of `get_many` as the model its key named (get_many answers each key with that model or None)."""
    if item is not None and not isinstance(item, model):
        raise TypeError(f"get_many answered a {type(item).__name__} for a {model.__name__} key")
    return item


def future_or_none(future):
    try:
        return future.get()
    except Exception as exc:  # DoesNotExist of the future's model
        if exc.__class__.__name__ == "DoesNotExist":
            return None
        raise
