"""Issued 荣誉证书 codes (table certificates): `CertificateRepository` is the services' way in
(services/repositories.CertificateRepository), reading and writing domain/certificate_record.Certificate.

Access patterns: BatchWriteItem of the issued codes (a re-run rewrites the same rows); GetItem by code (the
public /verify/<code> page).
"""
from __future__ import annotations

from typing import Iterable

from ..domain import certificate_record
from .models import Certificate


def _domain(row: Certificate) -> certificate_record.Certificate:
    return certificate_record.Certificate(row.code, row.competition_id, row.case_id, row.prize, row.title, row.unit,
                                          row.category, float(row.issued_at or 0))


class CertificateRepository:
    def record(self, issued: Iterable[certificate_record.Certificate]) -> int:
        """Store the codes (one batch); returns how many."""
        count = 0
        with Certificate.batch_write() as batch:
            for c in issued:
                batch.save(Certificate(c.code, competition_id=c.competition_id, case_id=c.case_id, prize=c.prize,
                                       title=c.title, unit=c.unit, category=c.category, issued_at=c.issued_at))
                count += 1
        return count

    def get(self, code: str) -> certificate_record.Certificate | None:
        try:
            return _domain(Certificate.get(code))
        except Certificate.DoesNotExist:
            return None
