"""Points the operator scripts (backup, create_organiser) at one stage before chalicelib reads the environment.

Three ways, first match wins:
  --stack <name>      read TABLE_PREFIX, BUCKET_NAME and COMPETITION_ID from the CloudFormation stack's outputs;
  TABLE_PREFIX and BUCKET_NAME set by hand (AWS: the stack's outputs TablePrefix and FilesBucketName);
  AWS_ENDPOINT_URL    the local emulator (`make run`): the local defaults apply.
Against AWS without either of the first two, the scripts stop instead of guessing a table prefix.
"""
from __future__ import annotations

import argparse
import os

OUTPUTS = {"TablePrefix": "TABLE_PREFIX", "FilesBucketName": "BUCKET_NAME", "CompetitionId": "COMPETITION_ID"}


class TargetError(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="CloudFormation stack of the stage (e.g. saiping-prod): reads its outputs")


def stack_outputs(stack: str) -> dict[str, str]:
    import boto3
    answer = boto3.client("cloudformation").describe_stacks(StackName=stack)
    return {o["OutputKey"]: o["OutputValue"] for o in answer["Stacks"][0].get("Outputs", [])}


def apply(args: argparse.Namespace) -> str:
    """Set the environment for the chosen stage; returns a one-line description of the target."""
    if getattr(args, "stack", None):
        outputs = stack_outputs(args.stack)
        missing = [key for key in ("TablePrefix", "FilesBucketName") if key not in outputs]
        if missing:
            raise TargetError(f"stack {args.stack} has no output {', '.join(missing)}: is it a saiping stack?")
        for output, variable in OUTPUTS.items():
            if output in outputs:
                os.environ[variable] = outputs[output]
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        # The emulator accepts any credentials; the local runner uses these.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    elif not (os.environ.get("TABLE_PREFIX") and os.environ.get("BUCKET_NAME")):
        raise TargetError("which stage? give --stack <stack name>, or set TABLE_PREFIX and BUCKET_NAME "
                          "(AWS), or AWS_ENDPOINT_URL (the local emulator, e.g. http://127.0.0.1:5000)")
    from chalicelib import bootstrap
    bootstrap.reset()
    cfg = bootstrap.config()
    where = cfg.endpoint_url or f"AWS {cfg.region}"
    return f"tables {cfg.table_prefix}*, bucket {cfg.bucket} ({where})"


def is_local() -> bool:
    return bool(os.environ.get("AWS_ENDPOINT_URL"))
