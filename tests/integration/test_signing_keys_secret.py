"""In AWS the signing keys come from Secrets Manager (infra/base.json's SigningKeys), read at cold start."""
from __future__ import annotations

import json

import pytest

from chalicelib import config


@pytest.fixture
def secrets(monkeypatch):
    from moto import mock_aws
    import boto3

    monkeypatch.delenv("SIGNING_KEYS", raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="ap-southeast-1")
    config.reset()


def _settings_with(monkeypatch, secret_arn: str) -> config.Settings:
    monkeypatch.setenv("SIGNING_KEYS_SECRET", secret_arn)
    config.reset()
    return config.settings()


def test_keys_from_the_generated_secret_newest_first(secrets, monkeypatch):
    arn = secrets.create_secret(Name="saiping/dev/signing-keys",
                                SecretString=json.dumps({"keys": "newest-key, older-key"}))["ARN"]
    assert _settings_with(monkeypatch, arn).signing_keys == ("newest-key", "older-key")


def test_keys_as_a_list_or_a_bare_comma_list(secrets, monkeypatch):
    listed = secrets.create_secret(Name="listed", SecretString=json.dumps({"keys": ["k1", "k2"]}))["ARN"]
    bare = secrets.create_secret(Name="bare", SecretString="k3,k4")["ARN"]
    assert _settings_with(monkeypatch, listed).signing_keys == ("k1", "k2")
    assert _settings_with(monkeypatch, bare).signing_keys == ("k3", "k4")


def test_an_empty_secret_stops_the_function_instead_of_using_the_development_key(secrets, monkeypatch):
    arn = secrets.create_secret(Name="empty", SecretString=json.dumps({"keys": ""}))["ARN"]
    with pytest.raises(RuntimeError, match="no signing key"):
        _settings_with(monkeypatch, arn)


def test_signing_keys_in_the_environment_win_and_need_no_secret(monkeypatch):
    monkeypatch.setenv("SIGNING_KEYS", "a,b")
    monkeypatch.setenv("SIGNING_KEYS_SECRET", "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:unused")
    config.reset()
    try:
        assert config.settings().signing_keys == ("a", "b")
    finally:
        config.reset()
