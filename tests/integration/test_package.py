"""What `make package` produces: the deployment zip carries the templates (the page templates compiled too),
the competition configs and every other file of chalicelib/ but the font, stays small; the dependencies come
in a layer per need (infra/layers.py: the exports' libraries and the font only where the exports run); the
SAM template passes cfn-lint.

Runs against build/ as `make package` left it (CI: `make package` then `make test`), for the region it was
packaged for (Metadata.saiping: the AWS partition, or aws-cn without SES); with RUN_PACKAGE=1 it runs
`make package` itself first (for AWS_DEFAULT_REGION). Without a fresh build/ it is skipped, saying why.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SAM, ZIP, LAYER = BUILD / "sam.json", BUILD / "deployment.zip", BUILD / "layer-deployment.zip"
SPREADSHEETS, DOCUMENTS = BUILD / "layer-spreadsheets.zip", BUILD / "layer-documents.zip"
EXPORT_ONLY = ("fpdf/", "fontTools/", "PIL/", "docx/", "lxml/", "defusedxml/")
FONT = "chalicelib/fonts/"
MAX_FUNCTION_ZIP = 5 * 1024 * 1024
SKIPPED_PARTS = {"__pycache__"}


def _sources() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in ("chalicelib", "templates"):
        files += [p for p in (ROOT / folder).rglob("*")
                  if p.is_file() and not SKIPPED_PARTS & set(p.parts) and p.suffix != ".pyc"
                  and not p.relative_to(ROOT).parts[:2] == ("chalicelib", "templates")]
    return files


@pytest.fixture(scope="module")
def build() -> Path:
    if os.environ.get("RUN_PACKAGE") == "1":
        done = subprocess.run(["make", "package"], cwd=ROOT, capture_output=True, text=True, timeout=1500)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        return BUILD
    if not (SAM.is_file() and ZIP.is_file()):
        pytest.skip("no build/sam.json and build/deployment.zip: run `make package` first, or set RUN_PACKAGE=1")
    built = ZIP.stat().st_mtime
    newer = [p for p in _sources() + sorted((ROOT / "infra").glob("*.*")) if p.stat().st_mtime > built]
    if newer:
        pytest.skip(f"build/ is older than {newer[0].relative_to(ROOT)}: run `make package` again, or set RUN_PACKAGE=1")
    return BUILD


@pytest.fixture(scope="module")
def names(build) -> set[str]:
    with zipfile.ZipFile(ZIP) as archive:
        return set(archive.namelist())


@pytest.fixture(scope="module")
def sam(build) -> dict[str, Any]:
    return json.loads(SAM.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def region(sam) -> str:
    return sam["Metadata"]["saiping"]["region"]


@pytest.fixture(scope="module")
def global_sam(sam, region) -> dict[str, Any]:
    if region.startswith("cn-"):
        pytest.skip(f"build/ was packaged for {region} (aws-cn, no SES)")
    return sam


def test_zip_has_the_templates_under_chalicelib(names):
    templates = [p.relative_to(ROOT / "templates") for p in (ROOT / "templates").rglob("*") if p.is_file()]
    assert templates, "templates/ is empty"
    missing = [str(t) for t in templates if f"chalicelib/templates/{t.as_posix()}" not in names]
    assert missing == []


def test_zip_has_the_competition_configs_and_every_file_of_chalicelib(names):
    configs = sorted((ROOT / "chalicelib" / "competitions").glob("*.json"))
    assert configs and all(f"chalicelib/competitions/{c.name}" in names for c in configs)
    wanted = {p.relative_to(ROOT).as_posix() for p in _sources() if p.parts[len(ROOT.parts)] != "templates"}
    assert sorted(n for n in wanted - names if not n.startswith(FONT)) == []   # data files ride along with the code
    assert [n for n in names if n.startswith(FONT)] == []                     # the font is in the document layer
    assert "app.py" in names


def test_zip_has_no_dependencies_or_checkout_files(names):
    assert not [n for n in names if n.startswith(("boto3/", "botocore/", "pynamodb/", "jinja2/", "tests/",
                                                   "infra/", "scripts/", ".chalice/"))]


def test_function_zip_is_small_and_dependencies_are_in_the_layer(build):
    assert ZIP.stat().st_size <= MAX_FUNCTION_ZIP
    with zipfile.ZipFile(LAYER) as layer:
        contents = layer.namelist()
    prefix = "python/lib/"
    for package in ("pynamodb/", "jinja2/", "argon2/", "_argon2_cffi_bindings/", "segno/"):
        assert any(n.startswith(prefix) and f"/site-packages/{package}" in n for n in contents), package
    for package in (*EXPORT_ONLY, "openpyxl/"):
        assert not [n for n in contents if f"/site-packages/{package}" in n], package
    # Lambda's wheels (manylinux), not the ones of the machine that packaged.
    assert any(n.endswith("/_argon2_cffi_bindings/_ffi.abi3.so") for n in contents)
    assert any(re.search(r"/_cffi_backend\.cpython-3\d+-x86_64-linux-gnu\.so$", n) for n in contents)


def test_sam_template_has_the_merged_infrastructure(sam, region):
    resources = sam["Resources"]
    from chalicelib.store.models import MODELS
    from infra import build_template as infra
    for model in MODELS:
        assert resources[infra.table_logical_id(model.Meta.logical)]["Type"] == "AWS::DynamoDB::Table"
    for function, resource_id in infra.app_functions().items():
        if resource_id not in resources:        # SES's bounces: no SES in aws-cn
            assert (infra.partition_of(region), function) == ("aws-cn", "record_bounces")
            continue
        function_resource = resources[resource_id]
        assert function_resource["Type"] == "AWS::Serverless::Function", resource_id
        assert function_resource["Properties"]["FunctionName"] == infra.function_name(function)
        assert {"Ref": "ManagedLayer"} in function_resource["Properties"]["Layers"]
    assert resources["ManagedLayer"]["Type"] == "AWS::Serverless::LayerVersion"
    assert sam["Globals"]["Function"]["Environment"]["Variables"]["TABLE_PREFIX"] == {"Fn::Sub": "saiping-${Stage}-"}
    assert "arn:aws:" not in SAM.read_text(encoding="utf-8")


def test_sam_template_declares_every_schedule_of_the_app(sam):
    from chalice.app import ScheduledEventConfig

    from app import app
    from infra import build_template as infra
    schedules = [s for s in app.event_sources if isinstance(s, ScheduledEventConfig)]
    for schedule in schedules:
        events = sam["Resources"][infra.app_functions()[schedule.name]]["Properties"]["Events"]
        assert [e["Type"] for e in events.values()] == ["Schedule"]


def test_cfn_lint_finds_no_error(build, region):
    lint = ROOT / ".venv" / "bin" / "cfn-lint"
    if not lint.exists():
        pytest.skip("cfn-lint is not installed (requirements-dev.txt)")
    done = subprocess.run([str(lint), "--format", "parseable", "--regions", region, "--", str(SAM)],
                          capture_output=True, text=True, timeout=600)
    errors = [line for line in done.stdout.splitlines() if ":E" in line]
    assert errors == [] and done.returncode in (0, 4, 8, 12), done.stdout + done.stderr


def test_every_module_ships_with_bytecode_lambda_need_not_compile(build):
    """infra/bytecode.py: an unchecked-hash .pyc for the running Python beside every module of both zips."""
    import importlib.util
    from infra.bytecode import pyc_name
    for path in (ZIP, LAYER):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            sources = [n for n in names if n.endswith(".py")]
            assert sources
            compiled = [n for n in sources if pyc_name(n) in names]
            assert len(compiled) >= 0.99 * len(sources), path   # a few files of test data may not compile
            for name in ("app.py", "chalicelib/web/api.py") if path == ZIP else compiled[:50]:
                header = archive.read(pyc_name(name))[:16]
                assert header[:4] == importlib.util.MAGIC_NUMBER
                assert int.from_bytes(header[4:8], "little") == 0b01       # hash-based, source not checked
                assert header[8:16] == importlib.util.source_hash(archive.read(name))


def test_sns_subscriptions_point_at_the_stacks_own_topics(global_sam):
    """Chalice alone builds arn:...:<topic name as written in app.py>; the merge template replaces it with the
    stage's topic (infra/build_template.py), and the function exists only where that topic does."""
    from infra import build_template as infra
    resources = global_sam["Resources"]
    topics = infra.app_topics()
    assert topics, "app.py subscribes to no SNS topic (record_bounces?)"
    for function, (event_id, topic) in topics.items():
        resource_id = infra.app_functions()[function]
        [(name, event)] = resources[resource_id]["Properties"]["Events"].items()
        assert (name, event["Type"]) == (event_id, "SNS")
        [topic_id] = [rid for rid, r in resources.items() if r["Type"] == "AWS::SNS::Topic"
                      and r["Properties"]["TopicName"] == {"Fn::Sub": f"saiping-${{Stage}}-{topic}"}]
        assert event["Properties"]["Topic"] == {"Fn::Sub": "${%s}" % topic_id}
        condition = resources[topic_id].get("Condition")
        for conditioned in (resource_id, resource_id + "Role", resource_id + "Logs"):
            assert resources[conditioned].get("Condition") == condition, conditioned
        assert resources[resource_id + "Role"]["Type"] == "AWS::IAM::Role"
    assert ":sns:${AWS::Region}:${AWS::AccountId}:bounces" not in SAM.read_text(encoding="utf-8")
    destination = resources["MailEventsToBounceTopic"]["Properties"]["EventDestination"]
    assert destination["SnsDestination"] == {"TopicARN": {"Ref": "BounceTopic"}}


def test_template_is_for_the_partition_of_its_region(sam, region):
    """The global template keeps SES (under UseSes); the aws-cn one has no SES type at all (CloudFormation
    refuses a type its region lacks even under a false condition), sends through the relay's secret only,
    and has neither the bounce topic nor the function subscribed to it."""
    from infra import build_template as infra
    resources, text = sam["Resources"], SAM.read_text(encoding="utf-8")
    ses = sorted(rid for rid, r in resources.items() if r["Type"].startswith("AWS::SES::"))
    arns = re.findall(r'"(arn:[^"]*)"', text) + re.findall(r'"Fn::Sub": "([^"]*arn:[^"]*)"', text)
    assert arns and [a for a in arns if "arn:${AWS::Partition}:" not in a] == []
    assert sam["Outputs"]["EndpointURL"]["Value"] == {
        "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"}
    principals = set(re.findall(r'"([a-z-]+\.amazonaws\.com(?:\.cn)?)"', text))
    if infra.partition_of(region) == "aws":
        assert ses == ["MailConfigurationSet", "MailEventsToBounceTopic", "SenderIdentity"]
        assert principals == {"lambda.amazonaws.com", "apigateway.amazonaws.com", "ses.amazonaws.com"}
        return
    assert ses == [] and "ses:" not in text and "UseSes" not in text
    assert principals == {"lambda.amazonaws.com", "apigateway.amazonaws.com"}
    assert not {"RecordBounces", "RecordBouncesRole", "BounceTopic"} & set(resources)
    assert sam["Parameters"]["MailTransport"]["AllowedValues"] == ["smtp"]
    api_policy = resources["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [relay] = [s for s in api_policy["Statement"] if s.get("Sid") == "MailRelay"]
    assert relay["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                                             ":secret:saiping/${Stage}/smtp-??????"}]


def _layers_of(sam: dict[str, Any], resource_id: str) -> list[str]:
    return [ref["Ref"] for ref in sam["Resources"][resource_id]["Properties"]["Layers"]]


def test_a_layer_per_need_the_exports_libraries_and_the_font_only_where_exports_run(sam):
    """infra/layers.py: the API gets the dependencies and the spreadsheet layer (judges' xlsx import), the
    exports function the document layer too (fpdf2, fontTools, Pillow, python-docx, lxml and the font), the
    schedules the dependencies only."""
    from infra import build_template as infra
    functions = infra.app_functions()
    assert _layers_of(sam, functions["api_handler"]) == ["ManagedLayer", "SpreadsheetLayer"]
    assert _layers_of(sam, functions["exports"]) == ["ManagedLayer", "SpreadsheetLayer", "DocumentLayer"]
    for schedule in ("close_due_stages", "send_reminders"):
        assert _layers_of(sam, functions[schedule]) == ["ManagedLayer"]
    for resource_id, archive in (("SpreadsheetLayer", SPREADSHEETS), ("DocumentLayer", DOCUMENTS)):
        layer = sam["Resources"][resource_id]
        assert layer["Type"] == "AWS::Serverless::LayerVersion"
        assert layer["Properties"]["ContentUri"] == f"./{archive.name}"
    with zipfile.ZipFile(SPREADSHEETS) as z:
        spreadsheets = z.namelist()
    with zipfile.ZipFile(DOCUMENTS) as z:
        documents = z.namelist()
    site = "python/lib/python3.11/site-packages/"
    assert {n[len(site):].split("/")[0] for n in spreadsheets if not n.endswith(".dist-info/RECORD")} >= {
        "openpyxl", "et_xmlfile"}
    assert all(n.startswith((site + "openpyxl", site + "et_xmlfile")) for n in spreadsheets)
    for package in EXPORT_ONLY:
        assert any(n.startswith(site + package) for n in documents), package
    fonts = sorted(n for n in documents if n.startswith("saiping-fonts/"))
    assert fonts == ["saiping-fonts/LICENSE-OFL.txt", "saiping-fonts/NotoSansSC-subset.otf"]
    with zipfile.ZipFile(DOCUMENTS) as z:
        assert z.read("saiping-fonts/NotoSansSC-subset.otf") == (ROOT / FONT / "NotoSansSC-subset.otf").read_bytes()
    from chalicelib.exports import certificates_pdf
    assert certificates_pdf.LAYER_FONT_DIR.as_posix() == "/opt/saiping-fonts"   # where the layer unpacks


def test_zip_has_exactly_the_page_templates_compiled_from_templates(names, tmp_path):
    """The compiled set is what infra/templates.py makes of templates/ now: one module per page template,
    nothing more, nothing stale."""
    from infra import templates as precompile
    expected = precompile.compile_pages(tmp_path / "compiled")
    assert expected == sorted(p.relative_to(ROOT / "templates").as_posix()
                              for p in (ROOT / "templates" / "pages").rglob("*") if p.is_file())
    folder = "chalicelib/templates_compiled/"
    shipped = sorted(n[len(folder):] for n in names if n.startswith(folder) and n.endswith(".py"))
    assert shipped == sorted(p.name for p in (tmp_path / "compiled").iterdir())
    assert len(shipped) == len(expected)
    with zipfile.ZipFile(ZIP) as archive:
        for module in shipped:
            assert archive.read(folder + module) == (tmp_path / "compiled" / module).read_bytes(), module
