"""Create the tables (the local runner and tests; in AWS CloudFormation in infra/ creates them)."""
from __future__ import annotations

from typing import Any

from . import models


def create_tables(client: Any | None = None) -> list[str]:
    """Create every missing table with on-demand billing and its TTL attribute. Returns created names."""
    created = []
    for model in models.MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
            ttl = models.TTL_ATTRIBUTES.get(models.logical_name(model))
            if ttl and client is not None:
                client.update_time_to_live(TableName=model.Meta.table_name,
                                           TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})
    return created


def table_names() -> dict[str, str]:
    return {models.logical_name(m): m.Meta.table_name for m in models.MODELS}
