"""The only reader of os.environ: everything configurable ends up in one frozen Settings.

Importing this module reads nothing; `settings()` reads the environment on first use and
caches the result (tests call `reset()` after changing the environment).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

@dataclass(frozen=True)
class Settings:
    region: str
    endpoint_url: str | None          # set locally (the emulator); unset in AWS
    table_prefix: str
    bucket: str
    competition_id: str
    site_url: str                     # public base URL of the pages, for links in mail
    mail_sender: str
    mail_transport: str               # "ses" | "smtp"
    mail_configuration_set: str       # SES configuration set every mail names ("" = none: the local emulator)
    smtp_host: str
    smtp_port: int
    mail_rate_per_second: float       # throttle of the mail port (SES sandbox allows 1/s, production more)
    signing_keys: tuple[str, ...]     # newest first; older keys still verify during rotation
    secure_cookies: bool
    session_hours: int
    argon2_time_cost: int
    argon2_memory_kib: int
    login_max_failures: int           # failed logins of one username before the back-off starts
    login_cooldown_seconds: int       # the longest back-off between attempts (the delays double up to it)
    login_client_max_failures: int    # failed logins from one address (any usernames) before its back-off
    organiser_idle_minutes: int       # an organiser's session ends after this long unused
    totp_required_for_organisers: bool
    upload_url_seconds: int
    download_url_seconds: int
    async_mode: str                   # "lambda" (AWS) | "poll" (the local runner polls the jobs table)
    export_function_name: str
    local_mode: bool

    def table_name(self, logical: str) -> str:
        return f"{self.table_prefix}{logical}"


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _keys_from_secret(secret_id: str, region: str, endpoint_url: str | None) -> tuple[str, ...]:
    """The signing-key list from Secrets Manager (in AWS; read once per cold start, infra/base.json).

    The secret holds {"keys": "<newest>,<older>,..."} (CloudFormation generates one key) or the bare list.
    """
    import json

    import boto3
    raw = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url).get_secret_value(
        SecretId=secret_id)["SecretString"]
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    if isinstance(value, dict):
        value = value.get("keys", "")
    items = value if isinstance(value, list) else str(value).split(",")
    keys = tuple(str(k).strip() for k in items if str(k).strip())
    if not keys:
        raise RuntimeError(f"the secret {secret_id} holds no signing key")
    return keys


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    keys = tuple(k for k in env.get("SIGNING_KEYS", "").split(",") if k.strip())
    if not keys and env.get("SIGNING_KEYS_SECRET"):
        keys = _keys_from_secret(env["SIGNING_KEYS_SECRET"],
                                 env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "ap-southeast-1",
                                 env.get("AWS_ENDPOINT_URL") or None)
    local_mode = _bool(env.get("SAIPING_LOCAL"), False)
    if not keys:
        if env.get("AWS_LAMBDA_FUNCTION_NAME"):
            raise RuntimeError("no signing keys: set SIGNING_KEYS_SECRET (or SIGNING_KEYS) for the functions")
        # Only a local stack or a test may run on the built-in development key.
        keys = ("local-development-signing-key-not-for-production",)
    return Settings(
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "ap-southeast-1",
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        table_prefix=env.get("TABLE_PREFIX", "saiping-local-"),
        bucket=env.get("BUCKET_NAME", "saiping-local-files"),
        competition_id=env.get("COMPETITION_ID", "shenzhen-2023"),
        site_url=env.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/"),
        mail_sender=env.get("MAIL_SENDER", "saiping@example.org"),
        mail_transport=env.get("MAIL_TRANSPORT", "ses"),
        mail_configuration_set=env.get("MAIL_CONFIGURATION_SET", ""),
        smtp_host=env.get("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(env.get("SMTP_PORT", "25")),
        mail_rate_per_second=float(env.get("MAIL_RATE_PER_SECOND", "10")),
        signing_keys=keys,
        secure_cookies=_bool(env.get("SECURE_COOKIES"), not local_mode),
        session_hours=int(env.get("SESSION_HOURS", "12")),
        argon2_time_cost=int(env.get("ARGON2_TIME_COST", "2")),
        argon2_memory_kib=int(env.get("ARGON2_MEMORY_KIB", "19456")),
        login_max_failures=int(env.get("LOGIN_MAX_FAILURES", "5")),
        login_cooldown_seconds=int(env.get("LOGIN_COOLDOWN_SECONDS", "900")),
        login_client_max_failures=int(env.get("LOGIN_CLIENT_MAX_FAILURES", "10")),
        organiser_idle_minutes=int(env.get("ORGANISER_IDLE_MINUTES", "30")),
        totp_required_for_organisers=_bool(env.get("TOTP_REQUIRED_FOR_ORGANISERS"), False),
        upload_url_seconds=int(env.get("UPLOAD_URL_SECONDS", "900")),
        download_url_seconds=int(env.get("DOWNLOAD_URL_SECONDS", "300")),
        async_mode=env.get("ASYNC_MODE", "poll" if local_mode else "lambda"),
        export_function_name=env.get("EXPORT_FUNCTION_NAME", ""),
        local_mode=local_mode,
    )


def reset() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    settings.cache_clear()
