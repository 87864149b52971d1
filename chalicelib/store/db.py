"""Connections and transactions over the bound models, and the mapping of refused conditions."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from ..config import Settings
from . import models

_state: dict[str, object] = {}


def bind(settings: Settings) -> None:
    models.bind(settings.table_name, settings.region, settings.endpoint_url)
    _state["connection"] = Connection(region=settings.region, host=settings.endpoint_url)


def connection() -> Connection:
    return _state["connection"]  # type: ignore[return-value]


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    with TransactWrite(connection=connection()) as writer:
        yield writer


@contextmanager
def read_together() -> Iterator[TransactGet]:
    """Several items from several tables in one consistent call (TransactGetItems)."""
    with TransactGet(connection=connection()) as reader:
        yield reader


def refused_items(error: TransactWriteError) -> list[int]:
    """Positions of the transaction's items whose condition failed."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"]


def future_or_none(future):
    try:
        return future.get()
    except Exception as exc:  # DoesNotExist of the future's model
        if exc.__class__.__name__ == "DoesNotExist":
            return None
        raise
