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
    smtp_secret: str                  # the relay's secret (AWS, MailTransport=smtp); "" = the SMTP_* variables
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_tls: bool                    # False only for a local relay (tests, `make run`); refused inside Lambda
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
    mail_function_name: str           # the queued mail sender, started after a request queued mail (lambda mode)
    upload_origin: str                # where browsers post attachments (the page's CSP); "" = ask botocore
    local_mode: bool
    aws_timeouts: AwsTimeouts         # every AWS client's connect/read timeouts and attempts (then 503 unavailable)
    # How long a process serves the competitions it read (the current one's pointer and definitions) before it reads
    # them again: another process's activate or edit shows here at most this late; this process's own writes
    # clear its cache at once (bootstrap.competition()).
    competition_cache_seconds: float = 10.0

    def table_name(self, logical: str) -> str:
        return f"{self.table_prefix}{logical}"


@dataclass(frozen=True)
class AwsTimeouts:
    """How long a request waits for an AWS service before it answers 503 `unavailable` with Retry-After.

    The worst case of one call is attempts × (connect or read timeout) plus botocore's back-off between them
    (under 1 s before the second attempt): 1 s + 1 s + 1.5 s = 3.5 s with the defaults for a frozen store, which
    keeps every answer under 5 s. DynamoDB and S3 answer in milliseconds; the read timeout is per socket read,
    so a long download or export still streams.
    """
    connect_seconds: float = 1.0
    read_seconds: float = 1.5
    max_attempts: int = 2


def _aws_timeouts(env: os._Environ[str] | dict[str, str]) -> AwsTimeouts:
    default = AwsTimeouts()
    return AwsTimeouts(
        connect_seconds=float(env.get("AWS_CONNECT_TIMEOUT_SECONDS", default.connect_seconds)),
        read_seconds=float(env.get("AWS_READ_TIMEOUT_SECONDS", default.read_seconds)),
        max_attempts=int(env.get("AWS_CALL_MAX_ATTEMPTS", default.max_attempts)))


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpRelay:
    """Where MAIL_TRANSPORT=smtp sends (the aws-cn partition has no SES). With `tls` the connection is
    encrypted before anything is said: implicit TLS on port 465, STARTTLS (which the relay must offer) on any
    other port; the username and password travel only inside it."""
    host: str
    port: int
    username: str
    password: str
    tls: bool

    @property
    def implicit_tls(self) -> bool:
        return self.port == 465


def _secret_string(secret_id: str, region: str, endpoint_url: str | None, timeouts: AwsTimeouts) -> str:
    """A secret's text, read through the store's Secrets Manager client (store/aws.py builds every AWS client)."""
    from .store import aws
    return aws.secret_string(secret_id, region, endpoint_url, timeouts)


def _keys_from_secret(secret_id: str, region: str, endpoint_url: str | None,
                      timeouts: AwsTimeouts) -> tuple[str, ...]:
    """The signing-key list from Secrets Manager (in AWS; read once per cold start, infra/base.json).

    The secret holds {"keys": "<newest>,<older>,..."} (CloudFormation generates one key) or the bare list.
    """
    import json

    raw = _secret_string(secret_id, region, endpoint_url, timeouts)
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
    timeouts = _aws_timeouts(env)
    keys = tuple(k for k in env.get("SIGNING_KEYS", "").split(",") if k.strip())
    if not keys and env.get("SIGNING_KEYS_SECRET"):
        keys = _keys_from_secret(env["SIGNING_KEYS_SECRET"],
                                 env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "ap-southeast-1",
                                 env.get("AWS_ENDPOINT_URL") or None, timeouts)
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
        smtp_secret=env.get("SMTP_SECRET", ""),
        smtp_host=env.get("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(env.get("SMTP_PORT", "25")),
        smtp_username=env.get("SMTP_USERNAME", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        smtp_tls=_bool(env.get("SMTP_TLS"), True),
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
        upload_url_seconds=int(env.get("UPLOAD_URL_SECONDS", "300")),
        download_url_seconds=int(env.get("DOWNLOAD_URL_SECONDS", "300")),
        async_mode=env.get("ASYNC_MODE", "poll" if local_mode else "lambda"),
        export_function_name=env.get("EXPORT_FUNCTION_NAME", ""),
        mail_function_name=env.get("MAIL_FUNCTION_NAME", ""),
        upload_origin=env.get("UPLOAD_ORIGIN", "").rstrip("/"),
        local_mode=local_mode,
        aws_timeouts=timeouts,
        competition_cache_seconds=float(env.get("COMPETITION_CACHE_SECONDS", "10")),
    )


def smtp_relay(s: Settings) -> SmtpRelay:
    """The SMTP relay: from the secret SMTP_SECRET when set (in AWS, read on the first mail of an instance:
    {"host": ..., "port": 465, "username": ..., "password": ...}, TLS always), else from SMTP_HOST, SMTP_PORT,
    SMTP_USERNAME, SMTP_PASSWORD and SMTP_TLS (a local relay may go without TLS; a function may not)."""
    if not s.smtp_secret:
        if not s.smtp_tls and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            raise RuntimeError("SMTP_TLS=false is for a local relay only: the functions send through TLS")
        return SmtpRelay(s.smtp_host, s.smtp_port, s.smtp_username, s.smtp_password, s.smtp_tls)
    import json

    try:
        value = json.loads(_secret_string(s.smtp_secret, s.region, s.endpoint_url, s.aws_timeouts))
        relay = SmtpRelay(str(value["host"]).strip(), int(value["port"]), str(value.get("username", "")),
                          str(value.get("password", "")), True)
    except (ValueError, TypeError, KeyError) as exc:
        raise RuntimeError(f"the secret {s.smtp_secret} must hold {{\"host\": ..., \"port\": 465, "
                           f"\"username\": ..., \"password\": ...}} ({type(exc).__name__})") from None
    if not relay.host or not 0 < relay.port < 65536 or bool(relay.username) != bool(relay.password):
        raise RuntimeError(f"the secret {s.smtp_secret} needs a host, a port from 1 to 65535, and a username "
                           "with its password (or neither)")
    return relay


def reset() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    settings.cache_clear()
