"""The organisers' command line: exports, award mail, closing a stage — straight against a stage's tables,
bucket and mail (no HTTP, no login: whoever runs it holds the stage's AWS credentials).

    python -m scripts.organiser --local export results_xlsx [--out 结果.xlsx]
    python -m scripts.organiser --local send-award-mail
    python -m scripts.organiser --local close-stage final
    python -m scripts.organiser --stack saiping-prod export certificates_pdf

    make export KIND=results_xlsx [OUT=file]       (against the local stack of `make run`)

Which stage: --local (the emulator of `make run`, at AWS_EMULATOR_PORT, default 5000), --stack <name>, or
TABLE_PREFIX and BUCKET_NAME, or AWS_ENDPOINT_URL (scripts/operator_env.py).

An export is the same job the console starts: a queued row, then the `exports` function builds it. With
ASYNC_MODE=poll (local) this command runs the function itself in a thread (the local runner may pick the
job first; the claim makes that harmless); with ASYNC_MODE=lambda it invokes the deployed function. Either
way it follows the job's percent with a progress bar and downloads the file when it is done.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from scripts import operator_env

STAGES = ("submission", "text_review", "coaching", "final", "provincial")
ACTOR = "organiser:cli"


def progress_bar(percent: int, status: str, width: int = 30) -> str:
    """[##########--------------------]  33% 导出中"""
    percent = max(0, min(100, int(percent)))
    filled = width * percent // 100
    label = {"queued": "排队中", "running": "导出中", "done": "完成", "failed": "失败"}.get(status, status)
    return f"[{'#' * filled}{'-' * (width - filled)}] {percent:3d}% {label}"


def _local_environment() -> None:
    """What `make run` gives the app (scripts/run_local.py): the emulator's endpoint, poll mode."""
    from scripts import run_local
    os.environ.update(run_local._env())


# -- export -----------------------------------------------------------------------------------------
def export(kind: str, out: Path | None, timeout: float, stream: TextIO = sys.stderr,
           poll_seconds: float = 0.2, category: str | None = None) -> Path:
    from chalicelib import bootstrap
    from chalicelib.services import exports
    from chalicelib.web.api_exports import dispatch

    cfg = bootstrap.config()
    comp = bootstrap.competition()
    jobs = bootstrap.deps().exports
    # in poll mode the job is run here, in a thread (the local runner may pick it first)
    job = exports.start(jobs, comp, {"kind": kind, "category": category}, ACTOR, bootstrap.now(),
                        dispatch if cfg.async_mode == "lambda" else lambda _: None)
    worker: threading.Thread | None = None
    failure: list[BaseException] = []
    if cfg.async_mode != "lambda":
        worker = threading.Thread(target=_run_job, args=(job.id, failure), daemon=True)
        worker.start()
    deadline = time.monotonic() + timeout
    shown = ""
    while True:
        current = jobs.get(job.id)
        status, percent = (current.status, int(current.percent or 0)) if current else ("queued", 0)
        line = progress_bar(percent, status)
        if line != shown:
            stream.write("\r" + line)
            stream.flush()
            shown = line
        if status in ("done", "failed"):
            break
        if failure:
            raise failure[0]
        if time.monotonic() > deadline:
            stream.write("\n")
            raise TimeoutError(f"export {job.id} not done after {timeout:.0f} s (status {status}, {percent}%)")
        time.sleep(poll_seconds)
    stream.write("\n")
    if worker is not None:
        worker.join(timeout=5)
    if current.status == "failed":
        raise RuntimeError(f"导出失败：{current.error or '未知原因'}")
    target = out or Path(current.filename or exports.KINDS[kind].file)
    body = bootstrap.s3().get_object(Bucket=cfg.bucket, Key=current.key)["Body"].read()
    target.write_bytes(body)
    return target


def _run_job(job_id: str, failure: list[BaseException]) -> None:
    """The app's own `exports` function with the event Lambda would pass it."""
    try:
        import importlib
        importlib.import_module("app").exports({"id": job_id}, None)
    except BaseException as exc:  # reported by the polling loop
        failure.append(exc)


# -- mail and stages ---------------------------------------------------------------------------------
def send_award_mail() -> dict[str, int]:
    from chalicelib import bootstrap
    from chalicelib.services import results
    return results.send_award_mail(bootstrap.deps().cases, bootstrap.competition(), bootstrap.deps().ports(),
                                   bootstrap.now(), codes=bootstrap.deps().certificates, mail=bootstrap.deps().mail)


def close_stage(stage: str) -> dict[str, Any]:
    from chalicelib import bootstrap
    from chalicelib.services import results
    deps = bootstrap.deps()
    return results.close_stage(deps.judging, deps.cases, deps.stages, deps.results, bootstrap.competition(),
                               deps.ports(), stage, ACTOR, bootstrap.now())


# -- command line -----------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scripts.organiser", description=__doc__.split("\n\n")[0])
    operator_env.add_arguments(p)
    p.add_argument("--local", action="store_true", help="the local stack of `make run` (AWS_EMULATOR_PORT)")
    commands = p.add_subparsers(dest="command", required=True)
    e = commands.add_parser("export", help="build an export and download it")
    e.add_argument("kind", help="the export kind, as the API names it (results_xlsx, scores_xlsx, …: docs/EXPORTS.md)")
    e.add_argument("--out", type=Path, help="where to write the file (default: its Chinese name, here)")
    e.add_argument("--category", choices=("development", "service", "empowerment"),
                   help="the category of presentations_zip (its presentations in the drawn order)")
    e.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the job (900)")
    commands.add_parser("send-award-mail", help="one mail per awarded case (repeating it sends nothing twice)")
    c = commands.add_parser("close-stage", help="close a stage now (text_review: advancement; final: prizes)")
    c.add_argument("stage", choices=STAGES)
    return p


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = parser().parse_args(argv)
    if args.local:
        _local_environment()
    try:
        target = operator_env.apply(args)
    except operator_env.TargetError as exc:
        print(f"organiser: {exc}", file=err)
        return 2
    print(f"organiser: {target}", file=err)
    from chalicelib.domain.errors import DomainError
    try:
        if args.command == "export":
            path = export(args.kind, args.out, args.timeout, stream=err, category=args.category)
            print(f"{path} ({path.stat().st_size:,} bytes)", file=out)
        elif args.command == "send-award-mail":
            counts = send_award_mail()
            print(f"award mail: sent {counts['sent']}, skipped {counts['skipped']} (already sent or no address)",
                  file=out)
        elif args.command == "close-stage":
            result = close_stage(args.stage)
            print(f"stage {result['stage']}: {result['status']}", file=out)
    except DomainError as exc:
        print(f"organiser: {exc.message}", file=err)
        return 1
    except (RuntimeError, TimeoutError) as exc:
        print(f"organiser: {exc}", file=err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
