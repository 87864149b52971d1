"""scripts/create_organiser.py: the first organiser of a deployed stage, from the environment."""
from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.store import accounts
from scripts import create_organiser


def _target(monkeypatch) -> None:
    monkeypatch.setenv("TABLE_PREFIX", bootstrap.config().table_prefix)
    monkeypatch.setenv("BUCKET_NAME", bootstrap.config().bucket)


def test_creates_the_organiser_then_logs_in(aws, monkeypatch, capsys):
    _target(monkeypatch)
    monkeypatch.setenv("ORGANISER_USERNAME", "chief")
    monkeypatch.setenv("ORGANISER_PASSWORD", "a-long-secret-1")
    assert create_organiser.main([]) == 0
    assert "organiser 'chief' is ready" in capsys.readouterr().out
    account = accounts.get("chief")
    assert (account.role, account.unit_name) == ("organiser", "主办单位")

    from chalicelib.services import accounts as service
    session = service.login(bootstrap.deps().accounts, "chief", "a-long-secret-1", bootstrap.config(), bootstrap.now())
    assert session.principal.role == "organiser"


def test_running_again_sets_a_new_password(aws, monkeypatch):
    _target(monkeypatch)
    monkeypatch.setenv("ORGANISER_USERNAME", "chief")
    monkeypatch.setenv("ORGANISER_PASSWORD", "a-long-secret-1")
    assert create_organiser.main([]) == 0
    first = accounts.get("chief")
    monkeypatch.setenv("ORGANISER_PASSWORD", "another-secret-2")
    assert create_organiser.main([]) == 0
    second = accounts.get("chief")
    assert second.id == first.id and second.password_hash != first.password_hash


def test_refuses_a_short_password_and_changes_nothing(aws, monkeypatch, capsys):
    _target(monkeypatch)
    monkeypatch.setenv("ORGANISER_USERNAME", "chief")
    monkeypatch.setenv("ORGANISER_PASSWORD", "short")
    assert create_organiser.main([]) == 2
    assert "at least 12" in capsys.readouterr().err
    assert accounts.get("chief") is None
