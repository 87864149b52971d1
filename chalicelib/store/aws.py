"""The AWS clients, built from the settings with their short timeouts (config.AwsTimeouts), and what a failing
AWS dependency raises.

With the models (store/db.py) and the mail port, the only code that imports boto3 or botocore; both are imported
when a client is first made, never when this module is (the API's cold start loads neither for a page that needs
no AWS call: tests/integration/test_cold_path.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config

    from ..config import AwsTimeouts, Settings


def botocore_config(timeouts: AwsTimeouts, **extra: Any) -> Config:
    """A botocore Config with these timeouts and attempts (then 503 `unavailable`)."""
    from botocore.config import Config
    return Config(connect_timeout=timeouts.connect_seconds, read_timeout=timeouts.read_seconds,
                  retries={"total_max_attempts": timeouts.max_attempts, "mode": "standard"}, **extra)


def client(settings: Settings, service: str) -> Any:
    """A boto3 client of `service` at the settings' region and endpoint."""
    import boto3
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url,
                        config=botocore_config(settings.aws_timeouts))


def s3(settings: Settings) -> Any:
    """The S3 client: SigV4 and virtual-hosted addressing (the presigned posts name the bucket's own origin)."""
    import boto3
    return boto3.client(
        "s3", region_name=settings.region, endpoint_url=settings.endpoint_url,
        config=botocore_config(settings.aws_timeouts, signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


def secret_string(secret_id: str, region: str, endpoint_url: str | None, timeouts: AwsTimeouts) -> str:
    """A Secrets Manager secret's text (config.py reads the signing keys and the SMTP relay with it, before
    there are Settings)."""
    import boto3
    answer = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url,
                          config=botocore_config(timeouts)).get_secret_value(SecretId=secret_id)
    return str(answer["SecretString"])


def unavailable_errors() -> tuple[type[Exception], ...]:
    """What a failing AWS dependency raises (botocore, PynamoDB): a 503 to retry, not a 500."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException
    return ClientError, BotoCoreError, PynamoDBException
