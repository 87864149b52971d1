"""Audit rows: who did what to which object, when, with digests of before and after."""
from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from .models import AuditEntry


def digest(value: Any) -> str | None:
    if value is None:
        return None
    data = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:32]


def entry(object_key: str, actor: str, action: str, now: float, before: Any = None, after: Any = None,
          detail: dict[str, Any] | None = None) -> AuditEntry:
    return AuditEntry(
        object_key, f"{int(now * 1000):015d}#{secrets.token_hex(4)}", actor=actor, action=action, at=now,
        before_digest=digest(before), after_digest=digest(after),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
    )


def history(object_key: str) -> list[AuditEntry]:
    return list(AuditEntry.query(object_key))
