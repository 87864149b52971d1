"""The AWS bill of one competition, line by line, from the calls the full simulation counted.

    .venv/bin/python benchmarks/cost_model.py [benchmarks/results/simulation-600.json] [--cases 300]
        [--attachment-mb 20 --attachments 2 --downloads-per-attachment 6] [--months 4]

Reads what benchmarks/bench_simulation.py wrote (requests, AWS calls by operation, DynamoDB request units, S3 and
SES volume, measured durations, idle schedule runs) and scales it linearly to --cases (the simulation's 30
judges kept; scores, mails and rows grow with the cases). Prices: on-demand list prices of ap-southeast-1
(Singapore), USD, as published on the AWS price pages and remembered — this machine has no internet beyond
PyPI, so they could not be re-checked; "prices as published, checked 2026-11" means: take them as the order of
magnitude and check the region's page before relying on a cent. Free tiers are NOT deducted (an account's free
tier is shared with whatever else runs in it), except where a line says so.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ap-southeast-1, USD (list prices, see the module docstring)
PRICES = {
    "apigw_rest_per_million": 4.25,          # REST API requests, first 333 M a month
    "lambda_request_per_million": 0.20,
    "lambda_gb_second": 0.0000166667,        # x86
    "ddb_wru_per_million": 0.7116,           # on-demand write request unit (after the Nov 2024 halving)
    "ddb_rru_per_million": 0.1423,           # on-demand read request unit
    "ddb_storage_gb_month": 0.285,
    "ddb_pitr_gb_month": 0.228,              # continuous backups (infra/ turns PITR on)
    "s3_storage_gb_month": 0.025,            # S3 Standard
    "s3_put_per_1000": 0.005,                # PUT, COPY, POST, LIST
    "s3_get_per_1000": 0.0004,               # GET, HEAD and the rest
    "transfer_out_gb": 0.12,                 # to the internet, after the account's first 100 GB a month
    "ses_per_1000": 0.10,                    # outbound mail from Lambda (no EC2 free tier)
    "ses_attachment_gb": 0.12,
    "logs_ingest_gb": 0.70,                  # CloudWatch Logs ingestion
    "secret_month": 0.40,                    # Secrets Manager, per secret
    "secret_per_10000_calls": 0.05,
    "eventbridge_rule": 0.0,                 # scheduled rules (Chalice's @app.schedule) invoke Lambda free
}
MEMORY_GB = {"api_handler": 1.0, "schedules": 0.5, "exports": 1.5}   # .chalice/config.json
LAMBDA_VCPU_1GB = 0.6            # a 1,024 MB function gets about 0.6 of a vCPU: CPU-bound time / 0.6
LATENCY = {"dynamodb": 0.006, "s3": 0.02, "ses": 0.05, "lambda": 0.02}   # seconds per call, in-region (assumed)
LOG_BYTES_PER_INVOCATION = 600   # START/END/REPORT lines (~350 B) + the app's one request line
COLD_START_SHARE = 0.02          # one request in 50 lands on a new instance
COLD_START_SECONDS = 0.9         # INIT (imports, PERFORMANCE.md) + the first clients and connections; billed since 2025-08


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def calls_of(stage: dict, service: str) -> int:
    return sum(n for name, n in stage["calls"].items() if name.startswith(service + "."))


def aws_latency(stage: dict) -> float:
    return sum(n * LATENCY.get(name.split(".")[0], 0.01) for name, n in stage["calls"].items())


def idle_seconds(run: dict) -> float:
    """One schedule run with nothing due, as billed in AWS: its own time (CPU-bound, / vCPU share of 0.5 GB)
    + its calls at in-region latency."""
    own = max(0.0, run["seconds"] - run["aws_seconds"]) / (LAMBDA_VCPU_1GB / 2)
    return own + sum(n * LATENCY.get(name.split(".")[0], 0.01) for name, n in run["calls"].items())


def bill(sim: dict, cases: int, attachment_mb: float, attachments: int, downloads: int, months: float) -> list[tuple]:
    k = cases / sim["cases"]
    p = PRICES
    lines: list[tuple[str, str, float]] = []

    requests = sum(s["requests"] for s in sim["stages"]) * k
    app_seconds = sum(s["request_app_seconds"] for s in sim["stages"]) * k
    export_seconds = sum(e["seconds"] - e["aws_seconds"] for s in sim["stages"] for e in s["exports"].values()) * k
    schedule_seconds = sum(s["schedule_seconds"] for s in sim["stages"]) * k
    stage_calls = {name: 0.0 for name in ("dynamodb", "s3", "ses")}
    for s in sim["stages"]:
        for service in stage_calls:
            stage_calls[service] += calls_of(s, service) * k
    latency = sum(aws_latency(s) for s in sim["stages"]) * k
    rru = sum(s["rru"] for s in sim["stages"]) * k
    wru = sum(s["wru"] for s in sim["stages"]) * k
    mails = sum(s["ses_messages"] for s in sim["stages"]) * k
    mail_bytes = sum(s["ses_bytes"] for s in sim["stages"]) * k
    s3_puts = sum(n for s in sim["stages"] for name, n in s["calls"].items()
                  if name in ("s3.PutObject", "s3.CopyObject", "s3.UploadPart")) * k
    s3_gets = sum(n for s in sim["stages"] for name, n in s["calls"].items()
                  if name.startswith("s3.") and name not in ("s3.PutObject", "s3.CopyObject", "s3.UploadPart")) * k
    exports_bytes = sum(s["s3_put_bytes"] for s in sim["stages"]) * k

    # -- the API: API Gateway + the api_handler function --------------------------------------------------
    lines.append(("API Gateway REST requests", f"{requests:,.0f} × ${p['apigw_rest_per_million']}/M",
                  requests * p["apigw_rest_per_million"] / 1e6))
    invocations = requests
    lines.append(("Lambda requests (api_handler)", f"{invocations:,.0f} × ${p['lambda_request_per_million']}/M",
                  invocations * p["lambda_request_per_million"] / 1e6))
    api_seconds = app_seconds / LAMBDA_VCPU_1GB + latency + requests * COLD_START_SHARE * COLD_START_SECONDS
    gbs = api_seconds * MEMORY_GB["api_handler"]
    lines.append(("Lambda compute (api_handler, 1 GB)",
                  f"{api_seconds:,.0f} s = {app_seconds:,.0f} s app / {LAMBDA_VCPU_1GB} vCPU + {latency:,.0f} s "
                  f"waiting on AWS + cold starts → {gbs:,.0f} GB-s", gbs * p["lambda_gb_second"]))

    # -- schedules and the exports function during the competition ----------------------------------------
    idle = sim["idle_schedules"]
    per_month = {"close_due_stages": 30 * 24 * 12, "send_reminders": 30 * 24}     # every 5 min / every hour
    runs = months * sum(per_month.values())
    idle_run = {name: idle_seconds(idle[name]) for name in per_month}
    busy = schedule_seconds / LAMBDA_VCPU_1GB      # the runs that sent mail or closed a stage (emulator time: high)
    sched_seconds = busy + months * sum(per_month[n] * idle_run[n] for n in per_month)
    sched_gbs = sched_seconds * MEMORY_GB["schedules"]
    lines.append(("Lambda schedules (close_due_stages 5 min, send_reminders 1 h, 0.5 GB)",
                  f"{runs:,.0f} runs over {months:g} months ({idle_run['close_due_stages'] * 1000:.0f} / "
                  f"{idle_run['send_reminders'] * 1000:.0f} ms when nothing is due) + {busy:,.0f} s of work "
                  f"→ {sched_gbs:,.0f} GB-s", runs * p["lambda_request_per_million"] / 1e6 + sched_gbs * p["lambda_gb_second"]))
    idle_rru = months * sum(per_month[n] * idle[n]["rru"] for n in per_month)
    exp_gbs = (export_seconds / 1.0) * MEMORY_GB["exports"]
    lines.append(("Lambda exports (5 kinds, 1.5 GB ≈ 1 vCPU)", f"{export_seconds:,.1f} s → {exp_gbs:,.1f} GB-s",
                  5 * p["lambda_request_per_million"] / 1e6 + exp_gbs * p["lambda_gb_second"]))
    lines.append(("EventBridge scheduled rules", "scheduled rules → Lambda are not billed", 0.0))

    # -- DynamoDB -----------------------------------------------------------------------------------------
    lines.append(("DynamoDB write request units", f"{wru:,.0f} WRU × ${p['ddb_wru_per_million']}/M",
                  wru * p["ddb_wru_per_million"] / 1e6))
    lines.append(("DynamoDB read request units", f"{rru + idle_rru:,.0f} RRU ({idle_rru:,.0f} by idle schedule runs) "
                  f"× ${p['ddb_rru_per_million']}/M", (rru + idle_rru) * p["ddb_rru_per_million"] / 1e6))
    table_gb = sim.get("table_bytes", 0) * k / 1e9 or cases * 60e3 / 1e9     # ≈ 60 KB per case with its rows
    lines.append(("DynamoDB storage + PITR", f"{table_gb:.3f} GB × (${p['ddb_storage_gb_month']} + "
                  f"${p['ddb_pitr_gb_month']}) × {months:g} months",
                  table_gb * (p["ddb_storage_gb_month"] + p["ddb_pitr_gb_month"]) * months))

    # -- S3 -----------------------------------------------------------------------------------------------
    uploads = cases * attachments
    stored_gb = uploads * attachment_mb / 1024 + exports_bytes / 1e9
    lines.append(("S3 requests", f"{uploads + s3_puts:,.0f} PUT/POST (uploads + records + exports), "
                  f"{s3_gets + uploads * downloads:,.0f} GET/HEAD (confirm + downloads)",
                  (uploads + s3_puts) * p["s3_put_per_1000"] / 1000
                  + (s3_gets + uploads * downloads) * p["s3_get_per_1000"] / 1000))
    lines.append(("S3 storage", f"{stored_gb:.1f} GB ({uploads:,} attachments × {attachment_mb:g} MB) × "
                  f"{months / 2:g} months on average", stored_gb * p["s3_storage_gb_month"] * months / 2))
    out_gb = uploads * downloads * attachment_mb / 1024
    lines.append(("Data transfer out (attachment downloads)",
                  f"{out_gb:,.0f} GB × ${p['transfer_out_gb']} — 0 within the account's 100 GB/month free",
                  out_gb * p["transfer_out_gb"]))

    # -- SES, logs, secret --------------------------------------------------------------------------------
    lines.append(("SES mail", f"{mails:,.0f} mails ({mail_bytes / 1e6:.1f} MB) × ${p['ses_per_1000']}/1000",
                  mails * p["ses_per_1000"] / 1000))
    log_gb = (invocations + runs) * LOG_BYTES_PER_INVOCATION / 1e9
    lines.append(("CloudWatch Logs ingestion", f"{log_gb:.3f} GB × ${p['logs_ingest_gb']}", log_gb * p["logs_ingest_gb"]))
    cold = invocations * COLD_START_SHARE + runs / 12
    lines.append(("Secrets Manager (signing keys)", f"1 secret × {months:g} months × ${p['secret_month']} + "
                  f"{cold:,.0f} reads (one per cold start; a schedule's instance lives ~an hour)",
                  months * p["secret_month"] + cold * p["secret_per_10000_calls"] / 10000))
    return lines


def idle_month(sim: dict, stored_gb: float, table_gb: float) -> list[tuple]:
    p = PRICES
    idle = sim["idle_schedules"]
    per_month = {"close_due_stages": 30 * 24 * 12, "send_reminders": 30 * 24}
    runs = sum(per_month.values())
    seconds = sum(per_month[n] * idle_seconds(idle[n]) for n in per_month)
    rru = sum(per_month[n] * idle[n]["rru"] for n in per_month)
    return [
        ("Schedules with nothing due", f"{runs:,} runs, {seconds:,.0f} s at 0.5 GB, {rru:,.0f} RRU, their log lines",
         runs * p["lambda_request_per_million"] / 1e6 + seconds * 0.5 * p["lambda_gb_second"]
         + rru * p["ddb_rru_per_million"] / 1e6 + runs * LOG_BYTES_PER_INVOCATION / 1e9 * p["logs_ingest_gb"]),
        ("Secrets Manager secret", "1 secret-month + one read per cold start of a schedule (~1 an hour)",
         p["secret_month"] + runs / 12 * p["secret_per_10000_calls"] / 10000),
        ("DynamoDB storage + PITR", f"{table_gb:.3f} GB", table_gb * (p["ddb_storage_gb_month"] + p["ddb_pitr_gb_month"])),
        ("S3 storage (attachments, exports, records)", f"{stored_gb:.1f} GB", stored_gb * p["s3_storage_gb_month"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("json", nargs="?", type=Path, default=ROOT / "benchmarks/results/simulation-600.json")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--attachment-mb", type=float, default=20.0)
    parser.add_argument("--attachments", type=int, default=2, help="attachments per case")
    parser.add_argument("--downloads-per-attachment", type=int, default=6)
    parser.add_argument("--months", type=float, default=4.0, help="months the stage is live for the competition")
    args = parser.parse_args()
    sim = load(args.json)
    print(f"One competition of {args.cases} cases, {sim['judges']} judges, {args.months:g} months live; scaled from "
          f"the simulation of {sim['cases']} cases ({args.json.name}, {sim['where']}).")
    print("Prices: ap-southeast-1, USD, on-demand list prices as published (checked 2026-11 from memory: no "
          "internet here), free tiers not deducted.\n")
    lines = bill(sim, args.cases, args.attachment_mb, args.attachments, args.downloads_per_attachment, args.months)
    width = max(len(name) for name, _, _ in lines)
    for name, how, usd in lines:
        print(f"{name:{width}s}  {usd:9.4f}  {how}")
    total = sum(usd for _, _, usd in lines)
    transfer = next(usd for name, _, usd in lines if name.startswith("Data transfer"))
    storage = sum(usd for name, _, usd in lines if name.startswith(("S3 storage", "DynamoDB storage", "Secrets")))
    print(f"{'TOTAL':{width}s}  {total:9.4f}")
    print(f"{'  of which attachment downloads':{width}s}  {transfer:9.4f}  (0 inside the 100 GB/month free tier)")
    print(f"{'  of which storage + secret':{width}s}  {storage:9.4f}")
    print(f"{'  the rest (requests, compute, mail)':{width}s}  {total - transfer - storage:9.4f}")
    stored_gb = args.cases * args.attachments * args.attachment_mb / 1024
    print("\nA month with nothing going on (after the competition):")
    table_gb = sim.get("table_bytes", 0) * args.cases / sim["cases"] / 1e9 or args.cases * 60e3 / 1e9
    idle = idle_month(sim, stored_gb, table_gb)
    for name, how, usd in idle:
        print(f"{name:{width}s}  {usd:9.4f}  {how}")
    print(f"{'TOTAL per idle month':{width}s}  {sum(u for _, _, u in idle):9.4f}")


if __name__ == "__main__":
    main()
