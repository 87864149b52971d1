"""Cold start as a user meets it: process start -> first response of a fresh process, for five requests,
against the floor (benchmarks/floor_app: a one-route Chalice app making one GetItem on the same emulator).

    .venv/bin/python benchmarks/bench_cold_start_requests.py [--runs 9] [--code package|source] [--json FILE]

Each measurement is a new Python process that does what Lambda's runtime does on a cold start: import the
handler module (app.py), then call the app with one API Gateway proxy event, and print the response's status.
The time is from starting the process to reading that line. The requests (the issue's five):
  GET /api/v1/competition (anyone), a unit's GET /api/v1/cases (bearer), a judge's score save
  PUT /api/v1/judge/cases/{id}/score (bearer), a unit's page /cases (cookie), the organiser's /admin (cookie).
Every round runs the five, each right after a run of the floor, in an order that alternates between rounds;
the figure of a request is the median over the rounds of (its time / the floor's time just before it),
which the machine's load moves far less than either time. Every response must be 200.

--code package (the default after `make package`): the code Lambda runs, unzipped from build/ (`make package`): build/deployment.zip
(app.py, chalicelib with its bytecode and the precompiled templates) and the API function's layers as
build/sam.json lists them (the dependencies and their bytecode), nothing else on sys.path (python -S -E);
the floor runs on Chalice's dependencies layer.
--code source: the checkout and the venv (their __pycache__ as they are).
The emulator is moto's server (benchmarks/moto_server.py) on a free port, seeded in this process through the
app itself: two units with a submitted case each, three judges, the text-review stage with assignments and
links; the children get the environment a function of the stack gets (UPLOAD_ORIGIN the emulator's origin,
SIGNING_KEYS instead of the secret: no Secrets Manager here); their clock is fixed inside the text review (2023-06-12 09:00) through
chalicelib.bootstrap.set_clock, the one line a child runs before `import app`.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FLOOR_APP = ROOT / "benchmarks" / "floor_app"
REQUESTS = ("competition", "unit_cases_api", "judge_score", "unit_cases_page", "organiser_admin")
LABELS = {"competition": "GET /api/v1/competition", "unit_cases_api": "unit: GET /api/v1/cases",
          "judge_score": "judge: PUT /api/v1/judge/cases/{id}/score", "unit_cases_page": "unit: page /cases",
          "organiser_admin": "organiser: page /admin"}

CHILD = r"""
import json, os, sys
for path in reversed(os.environ["BENCH_PATH"].split(os.pathsep)):
    sys.path.insert(0, path)
event = json.loads(os.environ["BENCH_EVENT"])
if os.environ.get("BENCH_CLOCK"):
    from chalicelib import bootstrap
    from datetime import datetime, timezone
    _at = datetime.fromtimestamp(float(os.environ["BENCH_CLOCK"]), tz=timezone.utc)
    bootstrap.set_clock(lambda: _at)
if os.environ.get("BENCH_PROFILE"):
    import cProfile
    _profile = cProfile.Profile()
    _profile.enable()
import app
class Context:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 1024, "cold-start"
    invoked_function_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self):
        return 30000
response = app.app(event, Context())
if os.environ.get("BENCH_PROFILE"):
    _profile.disable()
    _profile.dump_stats(os.environ["BENCH_PROFILE"])
sys.stdout.write(f"{response['statusCode']}\n")
sys.stdout.flush()
os._exit(0)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "moto_server.py"), "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the emulator did not start")


def seed(environment: dict[str, str]) -> tuple[dict[str, dict[str, Any]], float]:
    """The competition the five requests need, made through the app; (events by request, the children's clock)."""
    import tests.conftest  # noqa: F401  (test settings: cheap argon2; it also drops AWS_ENDPOINT_URL, set below)
    os.environ.update(environment)
    from chalice.local import LambdaEventConverter, RouteMatcher
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap
    from tests.conftest import CHINA, Api, create_aws_resources, start_competition
    from tests.integration.test_judging_api import judges, organiser, submitted_cases

    create_aws_resources()
    clock = start_competition()
    with Client(app) as client:
        api = Api(client)
        submitted_cases(api, clock, units=2, per_unit=1)
        clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
        unit_token = api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"]
        org = organiser(api)
        judges(org, 3)
        assert org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 1})[0] == 200
        status, issued = org.call("POST", "/admin/stages/text_review/links")
        assert status == 200, issued
        link = issued["links"][0]["url"].rsplit("/j/", 1)[1]
        status, session = api.call("POST", "/judge/sessions", {"link": link})
        assert status == 200, session
        judge = api.as_(session["token"])
        case_id = judge.call("GET", "/judge/cases")[1]["cases"][0]["id"]
        score = {"criteria": {"foresight": 27.5, "practicality": 20, "effectiveness": 35.5}, "comment": "好"}
        assert judge.call("PUT", f"/judge/cases/{case_id}/score", score)[0] == 200
    converter = LambdaEventConverter(RouteMatcher(list(app.routes)))

    def event(method: str, path: str, headers: dict[str, str], body: Any = None) -> dict[str, Any]:
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        made = converter.create_lambda_event(method, path, {"host": "bench.example.org", **headers}, raw)
        if isinstance(made.get("body"), bytes):        # as API Gateway sends it: text
            made["body"] = made["body"].decode("utf-8")
        return made

    json_header = {"content-type": "application/json"}
    events = {
        "competition": event("GET", "/api/v1/competition", {}),
        "unit_cases_api": event("GET", "/api/v1/cases", {"authorization": f"Bearer {unit_token}"}),
        "judge_score": event("PUT", f"/api/v1/judge/cases/{case_id}/score",
                             {**json_header, "authorization": f"Bearer {session['token']}"}, score),
        "unit_cases_page": event("GET", "/cases", {"cookie": f"sp_session={unit_token}"}),
        "organiser_admin": event("GET", "/admin", {"cookie": f"sp_session={org.token}"}),
    }
    bootstrap.reset()
    return events, clock()


def unpack(workdir: Path) -> tuple[list[str], list[str]]:
    """build/'s zips unpacked as Lambda lays them out for the API function (its code, then its layers as
    build/sam.json lists them), and for the floor (its app, Chalice's runtime, the dependencies layer):
    (app's sys.path, floor's sys.path)."""
    build = ROOT / "build"
    deployment = build / "deployment.zip"
    if not (deployment.is_file() and (build / "sam.json").is_file()):
        raise SystemExit("no build/deployment.zip and build/sam.json: run `make package` first (or use --code source)")
    resources = json.loads((build / "sam.json").read_text(encoding="utf-8"))["Resources"]
    task, opt, runtime = workdir / "task", workdir / "opt", workdir / "chalice-runtime"
    with zipfile.ZipFile(deployment) as z:
        z.extractall(task)
        z.extractall(runtime, [n for n in z.namelist() if n.startswith("chalice/")])

    def layer_path(ref: dict[str, str]) -> str:
        archive = build / resources[ref["Ref"]]["Properties"]["ContentUri"]
        with zipfile.ZipFile(archive) as z:
            z.extractall(opt / archive.stem)
        [site] = (opt / archive.stem).glob("python/lib/python3.*/site-packages")
        return str(site)

    api_layers = [layer_path(ref) for ref in resources["APIHandler"]["Properties"]["Layers"]]
    return [str(task), *api_layers], [str(FLOOR_APP), str(runtime), layer_path({"Ref": "ManagedLayer"})]


def run_once(python: list[str], path: list[str], event: dict[str, Any], clock: float | None,
             environment: dict[str, str], profile: Path | None = None) -> float:
    env = {**environment, **({"BENCH_PROFILE": str(profile)} if profile else {}), "BENCH_PATH": os.pathsep.join(path), "BENCH_EVENT": json.dumps(event),
           "PYTHONDONTWRITEBYTECODE": "1"}
    if clock is not None:
        env["BENCH_CLOCK"] = repr(clock)
    start = time.perf_counter()
    child = subprocess.Popen([*python, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             cwd=tempfile.gettempdir())
    line = child.stdout.readline()
    elapsed = time.perf_counter() - start
    _, errors = child.communicate()
    if line.strip() != b"200":
        raise SystemExit(f"{event['requestContext']['httpMethod']} {event['requestContext']['resourcePath']}: status {line!r}\n"
                         f"{errors.decode('utf-8', 'replace')[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="rounds (each: the five requests, each after the floor)")
    parser.add_argument("--code", choices=("package", "source"),
                        help="package (the default when build/ has one) or source (the default without)")
    parser.add_argument("--json", type=Path, help="also write the raw times here")
    parser.add_argument("--profile", choices=REQUESTS, help="instead: one cold run of this request under cProfile "
                                                             "(import app + the request), its top functions")
    args = parser.parse_args()
    if args.code is None:
        args.code = "package" if (ROOT / "build" / "deployment.zip").is_file() else "source"
        if args.code == "source":
            print("no build/ (`make package`): measuring the checkout instead (--code source)")
    port = free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ap-southeast-1",
        "TABLE_PREFIX": "saiping-bench-", "BUCKET_NAME": "saiping-bench-files", "SIGNING_KEYS": "bench-signing-key",
        "MAIL_RATE_PER_SECOND": "0", "SITE_URL": "https://bench.example.org",
        "UPLOAD_ORIGIN": f"http://127.0.0.1:{port}",    # as the stack sets it (infra/base.json): the bucket's origin
    }
    server = start_emulator(port)
    try:
        events, clock = seed(environment)
        with tempfile.TemporaryDirectory() as scratch:
            if args.code == "package":
                python = [sys.executable, "-S", "-E"]
                app_path, floor_path = unpack(Path(scratch))
            else:
                python = [sys.executable]
                app_path, floor_path = [str(ROOT)], [str(FLOOR_APP)]
            floor_event = events["competition"] | {"path": "/", "resource": "/",
                                                   "requestContext": {**events["competition"]["requestContext"],
                                                                      "resourcePath": "/", "path": "/"}}
            run = {"floor": lambda: run_once(python, floor_path, floor_event, None, environment)}
            for name in REQUESTS:
                run[name] = (lambda n: lambda: run_once(python, app_path, events[n], clock, environment))(name)
            if args.profile:
                stats_file = Path(scratch) / "profile.out"
                run_once(python, app_path, events[args.profile], clock, environment, stats_file)
                import pstats
                pstats.Stats(str(stats_file)).sort_stats("cumulative").print_stats(45)
                return
            for name in ("floor", *REQUESTS):      # a round not counted: the emulator's and the disk's first time
                run[name]()
            times: dict[str, list[float]] = {name: [] for name in ("floor", *REQUESTS)}
            ratios: dict[str, list[float]] = {name: [] for name in REQUESTS}
            for round_number in range(args.runs):
                order = REQUESTS if round_number % 2 == 0 else tuple(reversed(REQUESTS))
                for name in order:
                    floor = run["floor"]()
                    elapsed = run[name]()
                    times["floor"].append(floor)
                    times[name].append(elapsed)
                    ratios[name].append(elapsed / floor)
    finally:
        server.terminate()
        server.wait()
    load = os.getloadavg()
    print(f"-- cold start, process start -> first response ({args.code}); {args.runs} rounds; "
          f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"{'floor: one-route Chalice app, one GetItem':48} {statistics.median(times['floor']) * 1000:6.0f} ms")
    for name in REQUESTS:
        ratio = statistics.median(ratios[name])
        print(f"{LABELS[name]:48} {statistics.median(times[name]) * 1000:6.0f} ms   ratio {ratio:.2f}"
              f"  ({min(ratios[name]):.2f}-{max(ratios[name]):.2f}){'' if ratio <= 1.5 else '   above 1.5'}")
    if args.json:
        args.json.write_text(json.dumps({"code": args.code, "runs": args.runs, "load": load, "times": times,
                                         "ratios": ratios}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
