"""Create the organiser account of a stage, or set its password (organisers never register themselves).

    python -m scripts.create_organiser --stack saiping-prod
    ORGANISER_USERNAME=organiser ORGANISER_PASSWORD=... python -m scripts.create_organiser --stack saiping-prod

The username and password come from ORGANISER_USERNAME / ORGANISER_PASSWORD, else from a prompt. Which stage:
--stack, or TABLE_PREFIX and BUCKET_NAME, or AWS_ENDPOINT_URL (scripts/operator_env.py). Safe to run again.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from scripts import operator_env


def credentials() -> tuple[str, str]:
    username = os.environ.get("ORGANISER_USERNAME") or ""
    password = os.environ.get("ORGANISER_PASSWORD") or ""
    interactive = sys.stdin.isatty()
    if not username and interactive:
        username = input("组织者用户名 (organiser username): ").strip()
    if not password and interactive:
        password = getpass.getpass("密码 (password, at least 12 characters): ")
        if password != getpass.getpass("再次输入密码 (again): "):
            raise SystemExit("create_organiser: the two passwords differ; nothing changed")
    if not username or not password:
        raise SystemExit("create_organiser: set ORGANISER_USERNAME and ORGANISER_PASSWORD, or run it in a terminal")
    return username, password


def main(argv: list[str] | None = None) -> int:
    from chalicelib.domain.accounts import PASSWORD_MIN

    parser = argparse.ArgumentParser(prog="python -m scripts.create_organiser", description=__doc__.split("\n\n")[0])
    operator_env.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        target = operator_env.apply(args)
    except operator_env.TargetError as exc:
        print(f"create_organiser: {exc}", file=sys.stderr)
        return 2
    username, password = credentials()
    if len(password) < PASSWORD_MIN:
        print(f"create_organiser: the password needs at least {PASSWORD_MIN} characters", file=sys.stderr)
        return 2

    from chalicelib import bootstrap
    from chalicelib.services import accounts
    try:
        account = accounts.ensure_organiser(bootstrap.deps().accounts,
                                            username, password, bootstrap.config(), bootstrap.now())
    except ValueError as exc:
        print(f"create_organiser: {exc}", file=sys.stderr)
        return 2
    print(f"organiser {account.username!r} is ready in {target}; log in at <site>/login")
    return 0


if __name__ == "__main__":
    sys.exit(main())
