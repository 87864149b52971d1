"""One contract for the issued certificate codes: the same tests against DynamoDB (moto) and the in-memory
twin (store/memory_certificates.py). Written in one batch, found by code; writing a code again rewrites it."""
from __future__ import annotations


import pytest

from chalicelib.domain.certificate_record import Certificate
from chalicelib.services.repositories import CertificateRepository
from chalicelib.store.memory_certificates import InMemoryCertificateRepository
from tests.integration.backends import BACKENDS, backend

T = 1_700_000_000.0


def _dynamodb() -> CertificateRepository:
    from chalicelib.store.certificates import CertificateRepository as DynamoCertificates
    return DynamoCertificates()


@pytest.fixture(params=BACKENDS)
def certificates(request) -> CertificateRepository:
    return backend(request, _dynamodb, InMemoryCertificateRepository)


def issued(code: str, case_id: str, prize: str = "first") -> Certificate:
    return Certificate(code, "shenzhen-2023", case_id, prize, "党建引领数字政府建设", "深圳市某某局", "development", T)


def test_certificates_are_written_in_one_batch_and_found_by_code(certificates) -> None:
    assert certificates.record([issued("AAAABBBBCCCC", "case1"), issued("DDDDEEEEFFFF", "case2", "second")]) == 2
    assert certificates.get("AAAABBBBCCCC") == issued("AAAABBBBCCCC", "case1")
    assert certificates.get("DDDDEEEEFFFF") == issued("DDDDEEEEFFFF", "case2", "second")
    assert certificates.get("ZZZZZZZZZZZZ") is None
    assert certificates.record([]) == 0


def test_writing_a_code_again_rewrites_it(certificates) -> None:
    certificates.record([issued("AAAABBBBCCCC", "case1")])
    certificates.record([Certificate("AAAABBBBCCCC", "shenzhen-2023", "case1", "first", "新标题", "深圳市某某局",
                                     None, T + 1)])
    found = certificates.get("AAAABBBBCCCC")
    assert found is not None and (found.title, found.category, found.issued_at) == ("新标题", None, T + 1)
