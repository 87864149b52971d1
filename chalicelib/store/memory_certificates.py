"""In-memory twin of the issued certificate codes (store/certificates.CertificateRepository), for service
tests without DynamoDB or moto. tests/integration/test_certificate_repository_contract.py holds both to it."""
from __future__ import annotations

from typing import Iterable

from ..domain.certificate_record import Certificate


class InMemoryCertificateRepository:
    def __init__(self) -> None:
        self.certificates: dict[str, Certificate] = {}

    def record(self, issued: Iterable[Certificate]) -> int:
        count = 0
        for c in issued:
            self.certificates[c.code] = c
            count += 1
        return count

    def get(self, code: str) -> Certificate | None:
        return self.certificates.get(code)
