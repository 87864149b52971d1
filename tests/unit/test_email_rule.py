"""One address rule: what registration and the judges' list accept is what the mail can be sent to."""
import pytest

from chalicelib.domain.accounts import EMAIL, parse_registration
from chalicelib.domain.errors import Invalid
from chalicelib.domain.judges import parse_judge

GOOD = ("dangjian@example.gov.cn", "li.ming+case@sz.gov.cn", "a_b-c@mail.example-host.org")
BAD = ('"x"@example.org', "a<b@example.org", "x@example.org>", "a,b@example.org", "a;b@example.org",
       "o'neil@example.org", "a b@example.org", "no-at.example.org", "x@localhost")


def registration(email: str) -> dict:
    return {"username": "dwjg01", "password": "S3cure-pass-2023", "unit_name": "深圳市某局机关党委",
            "unit_system": "municipal", "contact_name": "李明", "email": email, "mobile": "13800138000"}


@pytest.mark.parametrize("email", GOOD)
def test_ordinary_addresses_are_accepted(email):
    assert EMAIL.match(email)
    assert parse_registration(registration(email)).email == email


@pytest.mark.parametrize("email", BAD)
def test_addresses_a_mail_header_would_misread_are_refused_at_registration_and_for_judges(email):
    assert not EMAIL.match(email)
    with pytest.raises(Invalid) as refused:
        parse_registration(registration(email))
    assert "email" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        parse_judge({"name": "王专家", "email": email, "categories": ["a"]}, ("a",))
    assert "email" in refused.value.fields
