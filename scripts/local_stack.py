"""Provisions the emulated AWS for the local stack: tables, the bucket (with CORS), the SES sender,
the competition (its definition in the competitions table, 进行中, and its stage windows) and the organiser
account. Safe to run again on existing data."""
from __future__ import annotations

from datetime import datetime

from chalicelib import bootstrap
from chalicelib.domain.competition import CHINA
from chalicelib.services import accounts, competitions, stages
from chalicelib.store import schema


def create_resources(site_origin: str) -> None:
    cfg = bootstrap.config()
    schema.create_tables(bootstrap.client("dynamodb"))
    s3 = bootstrap.s3()
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if cfg.bucket not in existing:
        s3.create_bucket(Bucket=cfg.bucket, CreateBucketConfiguration={"LocationConstraint": cfg.region})
    s3.put_bucket_cors(Bucket=cfg.bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [site_origin], "AllowedMethods": ["GET", "POST", "HEAD"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000,
    }]})
    bootstrap.client("ses").verify_email_identity(EmailAddress=cfg.mail_sender)


def seed_competition(now: datetime) -> int:
    """The deployment's competition in the competitions table (as 进行中, when absent) and demo windows for a fresh
    local competition: submission open from today for 30 days, then the rest. Returns how many items it put."""
    comp = bootstrap.competition()
    put = competitions.seed(bootstrap.deps().competitions, comp.id, now)
    return int(put) + stages.seed(bootstrap.deps().stages, comp, comp.demo_windows(now.astimezone(CHINA).date()))


def ensure_organiser(username: str, password: str) -> None:
    accounts.ensure_organiser(bootstrap.deps().accounts, username, password, bootstrap.config(), bootstrap.now())
