"""An issued 荣誉证书's verification code and what it certifies (the public /verify/<code> page reads it).
store/certificates.CertificateRepository and its in-memory twin keep these by code."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Certificate:
    code: str
    competition_id: str
    case_id: str
    prize: str
    title: str
    unit: str
    category: str | None = None
    issued_at: float = 0.0
