"""Scheduled work: thin wrappers that take the time and call one service."""
from __future__ import annotations

from .. import bootstrap
from ..services import results


def close_due_stages() -> list[str]:
    """Every 5 minutes: close the ranked stages whose windows have passed (idempotent)."""
    bootstrap.config()
    deps = bootstrap.deps()
    return results.close_due_stages(deps.judging, deps.cases, deps.stages, deps.results, bootstrap.competition(),
                                    deps.ports(), bootstrap.now(), mail=deps.mail)
