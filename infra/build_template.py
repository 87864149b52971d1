"""Builds what `chalice package --merge-template` merges into Chalice's SAM output, and the IAM policy
file of every function.

    python -m infra.build_template --stage dev --out build/merge-template.json --check-policies  # make package
    python -m infra.build_template --write-policies                                             # make policies

The template is infra/base.json (parameters, bucket, secret, SES, the functions' environment through
SAM Globals, outputs) plus, generated here so that a model added later gets its table without anyone
touching infra/:
  - one DynamoDB table per model of chalicelib.store.models.MODELS: `saiping-${Stage}-<Meta.logical>`
    (what TABLE_PREFIX says), on-demand, its keys and GSIs/LSIs as the model declares them, TTL where
    TTL_ATTRIBUTES says, point-in-time recovery, deletion protection, KMS encryption, Retain;
  - for every function the app declares: its name `saiping-${Stage}[-<function>]` (Chalice's own naming,
    so policies and logs can name it without a reference cycle) and its log group with retention.
  - the REST API's gateway responses (what API Gateway answers by itself: an unrouted path gets the app's
    Chinese 404, not `Missing Authentication Token`);
  - for every `@app.on_sns_message(topic="<t>")`: the subscription points at this template's topic
    `saiping-${Stage}-<t>` (its ARN; Chalice alone would build the ARN of a topic literally named <t>),
    and when that topic has a Condition (UseSes: aws-cn has no SES), the function, its role and its log group
    get the same one.
The policy files (.chalice/policy-<function>.json, named in .chalice/config.json) come from
infra/functions.json: only the actions and resources each function uses, ARNs with ${AWS::Partition}.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "infra" / "base.json"
ACCESS = ROOT / "infra" / "functions.json"
CHALICE_DIR = ROOT / ".chalice"
APP_NAME = "saiping"
API_HANDLER = "api_handler"
TABLE_PREFIX = APP_NAME + "-${Stage}-"          # the Fn::Sub form of TABLE_PREFIX
SMTP_SECRET = "secret:" + APP_NAME + "/${Stage}/smtp"   # the relay's secret (SMTP_SECRET, infra/base.json)
ARN = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"

TABLE_ACTIONS = {
    "read": ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:Query"],
    "write": ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    "update": ["dynamodb:UpdateItem"],
    "scan": ["dynamodb:Scan"],
}
OBJECT_ACTIONS = {"read": ["s3:GetObject"], "write": ["s3:PutObject"], "delete": ["s3:DeleteObject"]}


class ConfigError(Exception):
    """The app, infra/functions.json and .chalice/config.json disagree; the message says what to add."""


def _camel(name: str) -> str:
    """What Chalice's to_cfn_resource_name does: my_func -> MyFunc."""
    return re.sub(r"[^A-Za-z0-9]", "", "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_]", name) if p))


# -- tables ----------------------------------------------------------------------------------------
def _importable() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def models() -> tuple:
    _importable()
    from chalicelib.store import models as m
    return m.MODELS


def ttl_attributes() -> dict[str, str]:
    from chalicelib.store import models as m
    return dict(m.TTL_ATTRIBUTES)


def table_logical_id(logical: str) -> str:
    return "Table" + _camel(logical)


def table_name(logical: str) -> dict[str, str]:
    return {"Fn::Sub": TABLE_PREFIX + logical}


def _key_schema(entries: list[dict[str, str]]) -> list[dict[str, str]]:
    """HASH first, then RANGE (CloudFormation insists; PynamoDB lists them in attribute order)."""
    ordered = sorted(entries, key=lambda e: 0 if e["KeyType"] == "HASH" else 1)
    return [{"AttributeName": e["AttributeName"], "KeyType": e["KeyType"]} for e in ordered]


def _index(index: dict[str, Any]) -> dict[str, Any]:
    projection = {"ProjectionType": index["projection"]["ProjectionType"]}
    if index["projection"].get("NonKeyAttributes"):
        projection["NonKeyAttributes"] = sorted(index["projection"]["NonKeyAttributes"])
    return {"IndexName": index["index_name"], "KeySchema": _key_schema(index["key_schema"]),
            "Projection": projection}


def table_properties(model: type) -> dict[str, Any]:
    """The key schema, attribute definitions and indexes of a model, as CloudFormation spells them."""
    schema = model._get_schema()
    definitions: dict[str, str] = {}
    for d in schema["attribute_definitions"] + [d for i in schema["global_secondary_indexes"]
                                                + schema["local_secondary_indexes"]
                                                for d in i["attribute_definitions"]]:
        definitions[d["AttributeName"]] = d["AttributeType"]
    props: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": v} for k, v in sorted(definitions.items())],
        "KeySchema": _key_schema(schema["key_schema"]),
    }
    gsis = sorted((_index(i) for i in schema["global_secondary_indexes"]), key=lambda i: i["IndexName"])
    lsis = sorted((_index(i) for i in schema["local_secondary_indexes"]), key=lambda i: i["IndexName"])
    if gsis:
        props["GlobalSecondaryIndexes"] = gsis
    if lsis:
        props["LocalSecondaryIndexes"] = lsis
    return props


def table_resource(model: type) -> dict[str, Any]:
    logical = model.Meta.logical
    props: dict[str, Any] = {"TableName": table_name(logical), "BillingMode": "PAY_PER_REQUEST"}
    props.update(table_properties(model))
    props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    props["DeletionProtectionEnabled"] = True
    props["SSESpecification"] = {"SSEEnabled": True}
    ttl = ttl_attributes().get(logical)
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    props["Tags"] = [{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": {"Ref": "Stage"}},
                     {"Key": "table", "Value": logical}]
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": props}


def tables() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for model in models():
        logical = getattr(model.Meta, "logical", None)
        if not logical:
            raise ConfigError(f"model {model.__name__} has no Meta.logical (its table's name)")
        resource_id = table_logical_id(logical)
        if resource_id in found:
            raise ConfigError(f"two models map to the table {logical!r}")
        found[resource_id] = table_resource(model)
    return found


# -- functions -------------------------------------------------------------------------------------
def app_functions() -> dict[str, str]:
    """Every Lambda function the app declares -> its resource id in Chalice's SAM output."""
    _importable()
    import app as app_module
    from chalice.app import (CloudWatchEventConfig, DynamoDBEventConfig, KinesisEventConfig,
                             S3EventConfig, ScheduledEventConfig, SNSEventConfig, SQSEventConfig)

    app = app_module.app
    found: dict[str, str] = {}
    if app.routes:
        found[API_HANDLER] = "APIHandler"
    for function in app.pure_lambda_functions:
        found[function.name] = _camel(function.name)
    for source in app.event_sources:
        if isinstance(source, (ScheduledEventConfig, CloudWatchEventConfig, SNSEventConfig, SQSEventConfig,
                               KinesisEventConfig, DynamoDBEventConfig, S3EventConfig)):
            found[source.name] = _camel(source.name)
    if app.websocket_handlers or app.builtin_auth_handlers:
        raise ConfigError("websocket handlers and built-in authorizers are not covered by infra/: "
                          "extend infra/build_template.py:app_functions first")
    return found


def app_topics() -> dict[str, tuple[str, str]]:
    """Every SNS subscription the app declares: function -> (its event's name in Chalice's SAM output, topic)."""
    _importable()
    import app as app_module
    from chalice.app import SNSEventConfig
    return {source.name: (_camel(source.name + "-sns-subscription"), source.topic)
            for source in app_module.app.event_sources if isinstance(source, SNSEventConfig)}


def function_name(function: str) -> dict[str, str]:
    """Chalice's naming (saiping-<stage> for the API, saiping-<stage>-<name> for the others)."""
    suffix = "" if function == API_HANDLER else f"-{function}"
    return {"Fn::Sub": f"{APP_NAME}-${{Stage}}{suffix}"}


def _function_name_text(function: str) -> str:
    return function_name(function)["Fn::Sub"]


def function_resources(functions: dict[str, str], base_resources: dict[str, Any] | None = None,
                       topics: dict[str, tuple[str, str]] | None = None) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = {}
    for function, resource_id in sorted(functions.items()):
        resources[resource_id] = {"Properties": {"FunctionName": function_name(function)}}
        resources[resource_id + "Logs"] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",            # logs are not the record (the audit table is)
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/" + _function_name_text(function)},
                           "RetentionInDays": {"Ref": "LogRetentionDays"}},
        }
    for function, (event_id, topic) in sorted((topics or {}).items()):
        if function not in functions or re.match(r"^arn:", topic):
            continue                                # an ARN stays as the app wrote it
        topic_id = topic_resource(base_resources or {}, topic)
        resource_id = functions[function]
        # Fn::Sub, not Ref: Chalice's `chalice package --merge-template` merges dictionaries key by key, so
        # {"Ref": ...} would sit beside Chalice's own {"Fn::Sub": "arn:...:<topic>"}; replacing the Fn::Sub's
        # text replaces the ARN (and keeps the dependency on the topic).
        topic_arn = {"Fn::Sub": "${%s}" % topic_id}
        resources[resource_id]["Properties"]["Events"] = {event_id: {"Properties": {"Topic": topic_arn}}}
        condition = (base_resources or {})[topic_id].get("Condition")
        if condition:
            # The function exists only where its topic does: the function, Chalice's role for it
            # (<Function>Role) and its log group. SAM passes the condition on to the subscription and the
            # invoke permission it makes from the event.
            for conditioned in (resource_id, resource_id + "Role", resource_id + "Logs"):
                resources.setdefault(conditioned, {})["Condition"] = condition
    return resources


def topic_resource(base_resources: dict[str, Any], topic: str) -> str:
    """The resource id of the AWS::SNS::Topic named saiping-${Stage}-<topic> in infra/base.json."""
    wanted = {"Fn::Sub": f"{APP_NAME}-${{Stage}}-{topic}"}
    found = [resource_id for resource_id, resource in base_resources.items()
             if resource.get("Type") == "AWS::SNS::Topic" and resource.get("Properties", {}).get("TopicName") == wanted]
    if len(found) != 1:
        raise ConfigError(f"app.py subscribes to the SNS topic {topic!r}: infra/base.json needs exactly one "
                          f'AWS::SNS::Topic with "TopicName": {json.dumps(wanted)} (found {len(found)})')
    return found[0]


# -- policies --------------------------------------------------------------------------------------
def access() -> dict[str, dict[str, Any]]:
    return json.loads(ACCESS.read_text(encoding="utf-8"))["functions"]


def policy_filename(function: str) -> str:
    return f"policy-{function}.json"


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def policy_document(function: str, spec: dict[str, Any], functions: dict[str, str]) -> dict[str, Any]:
    """The least-privilege policy of one function, from its entry in infra/functions.json.

    Always: its own log group, and reading the signing-key secret (chalicelib/config.py reads it at cold
    start in every function). Then what the entry lists: tables (and their indexes), bucket objects, mail
    (an Fn::If on UseSes: SES as the sender, or else reading the SMTP relay's secret), invoking other functions
    of the app.
    """
    unknown_keys = set(spec) - {"purpose", "tables", "bucket", "mail", "invoke"}
    if unknown_keys:
        raise ConfigError(f"infra/functions.json: {function}: unknown keys {sorted(unknown_keys)}")
    name = _function_name_text(function)
    statements: list[Any] = [{
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [_sub(ARN % ("logs", f"log-group:/aws/lambda/{name}:*"))],
    }]

    by_model = {m.Meta.logical: m for m in models()}
    wanted: dict[str, set[str]] = {}
    for table, kinds in spec.get("tables", {}).items():
        names = sorted(by_model) if table == "*" else [table]
        for logical in names:
            if logical not in by_model:
                raise ConfigError(f"infra/functions.json: {function} names the table {logical!r}, "
                                  f"which no model in chalicelib/store/models.py declares")
            unknown = set(kinds) - set(TABLE_ACTIONS)
            if unknown:
                raise ConfigError(f"infra/functions.json: {function}: unknown table access {sorted(unknown)}")
            wanted.setdefault(logical, set()).update(kinds)
    for kind in ("read", "write", "update", "scan"):
        logicals = sorted(t for t, kinds in wanted.items() if kind in kinds)
        if not logicals:
            continue
        statements.append({
            "Sid": "Tables" + kind.capitalize(),
            "Effect": "Allow",
            "Action": TABLE_ACTIONS[kind],
            "Resource": [_sub(ARN % ("dynamodb", f"table/{TABLE_PREFIX}{t}")) for t in logicals],
        })
        indexes = [_sub(ARN % ("dynamodb", f"table/{TABLE_PREFIX}{t}/index/{i['IndexName']}"))
                   for t in logicals
                   for i in (table_properties(by_model[t]).get("GlobalSecondaryIndexes", [])
                             + table_properties(by_model[t]).get("LocalSecondaryIndexes", []))]
        if indexes and kind in ("read", "scan"):
            statements.append({
                "Sid": "Indexes" + kind.capitalize(),
                "Effect": "Allow",
                "Action": ["dynamodb:Query"] if kind == "read" else ["dynamodb:Scan"],
                "Resource": indexes,
            })

    bucket = spec.get("bucket", {})
    objects: dict[str, set[str]] = {}
    for pattern, kinds in bucket.items():
        unknown = set(kinds) - set(OBJECT_ACTIONS)
        if unknown:
            raise ConfigError(f"infra/functions.json: {function}: unknown bucket access {sorted(unknown)}")
        for kind in kinds:
            objects.setdefault(kind, set()).add(pattern)
    patterns = sorted({p for ps in objects.values() for p in ps})
    for pattern in patterns:
        actions = sorted(a for kind, ps in objects.items() if pattern in ps for a in OBJECT_ACTIONS[kind])
        statements.append({
            "Sid": "BucketObjects" + ("" if pattern == "*" else _camel(re.sub(r"[^A-Za-z0-9]", "_", pattern))),
            "Effect": "Allow",
            "Action": actions,
            "Resource": [_sub("arn:${AWS::Partition}:s3:::${FilesBucket}/" + pattern)],
        })
    if "read" in objects:
        statements.append({
            "Sid": "BucketList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [_sub("arn:${AWS::Partition}:s3:::${FilesBucket}")],
        })

    # Every function: chalicelib/config.py reads the key list at cold start, whatever the function does.
    statements.append({
        "Sid": "SigningKeys",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [{"Ref": "SigningKeys"}],
    })

    if spec.get("mail"):
        domain = {"Domain": {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "Sender"}]}]}}
        statements.append({"Fn::If": ["UseSes", {
            "Sid": "Mail",
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": [
                {"Fn::Sub": [ARN % ("ses", "identity/${Domain}"), domain]},
                _sub(ARN % ("ses", "identity/${Sender}")),
                _sub(ARN % ("ses", f"configuration-set/{APP_NAME}-${{Stage}}")),
            ],
            "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "Sender"}}},
        }, {
            "Sid": "MailRelay",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [_sub(ARN % ("secretsmanager", SMTP_SECRET + "-??????"))],   # the name's random suffix
        }]})

    targets = sorted(t for t in spec.get("invoke", []) if t in functions)
    if targets:
        statements.append({
            "Sid": "Invoke",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [_sub(ARN % ("lambda", "function:" + _function_name_text(t))) for t in targets],
        })
    return {"Version": "2012-10-17", "Statement": statements}


def policies(functions: dict[str, str]) -> dict[str, dict[str, Any]]:
    """policy file name -> document, for every function the app declares."""
    specs = access()
    missing = sorted(set(functions) - set(specs))
    if missing:
        raise ConfigError("no entry in infra/functions.json for " + ", ".join(missing)
                          + ": add one per function (what it reads and writes), then run `make policies`"
                          " (docs/DEPLOY.md, 'Adding a function')")
    return {policy_filename(f): policy_document(f, specs[f], functions) for f in sorted(functions)}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def chalice_config() -> dict[str, Any]:
    return json.loads((CHALICE_DIR / "config.json").read_text(encoding="utf-8"))


def check_chalice_config(functions: dict[str, str]) -> list[str]:
    """Every function must name its own policy file in .chalice/config.json's lambda_functions."""
    config = chalice_config()
    problems = []
    for function in sorted(functions):
        declared = config.get("lambda_functions", {}).get(function, {}).get("iam_policy_file")
        if declared != policy_filename(function):
            problems.append(f'.chalice/config.json: add "lambda_functions": {{"{function}": '
                            f'{{"iam_policy_file": "{policy_filename(function)}"}}}} (found {declared!r})')
    return problems


def stale_policies(functions: dict[str, str]) -> list[str]:
    stale = []
    for filename, document in policies(functions).items():
        path = CHALICE_DIR / filename
        if not path.is_file() or path.read_text(encoding="utf-8") != render(document):
            stale.append(filename)
    return stale


def write_policies(functions: dict[str, str]) -> list[str]:
    written = []
    for filename, document in policies(functions).items():
        path = CHALICE_DIR / filename
        text = render(document)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(filename)
    return written


# -- partitions ------------------------------------------------------------------------------------
# The conditions of infra/base.json that cannot hold in a partition. aws-cn (Beijing cn-north-1, Ningxia
# cn-northwest-1) has no SES, and CloudFormation refuses a resource type the region lacks even under a false
# condition, so the packaged template of such a region leaves out what they guard.
IMPOSSIBLE_CONDITIONS = {"aws-cn": frozenset({"UseSes", "CreateIdentity", "S3GlobalEndpoint"})}   # (us-east-1)
# Parameters that only those conditions read, and what the mail transport may be there.
SES_ONLY_PARAMETERS = ("CreateSenderIdentity",)


def partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws"


def _references(value: Any) -> set[str]:
    """The logical ids a piece of template names: Ref, Fn::GetAtt, ${X} / ${X.Attr} in Fn::Sub, DependsOn."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {name.split(".", 1)[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if not isinstance(inner, str):
                    found |= _references(inner[1])
            elif key == "DependsOn":
                found |= set(inner if isinstance(inner, list) else [inner])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _take_branches(value: Any, impossible: frozenset[str]) -> Any:
    """Every {"Fn::If": [<impossible condition>, a, b]} replaced by b; AWS::NoValue entries dropped."""
    if isinstance(value, dict):
        branch = value.get("Fn::If")
        if len(value) == 1 and isinstance(branch, list) and branch[0] in impossible:
            return _take_branches(branch[2], impossible)
        kept = {k: _take_branches(v, impossible) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(value, list):
        kept = [_take_branches(v, impossible) for v in value]
        return [v for v in kept if v != {"Ref": "AWS::NoValue"}]
    return value


def for_region(template: dict[str, Any], region: str) -> dict[str, Any]:
    """The packaged template (Chalice's SAM output merged with infra/) made right for the region's partition.

    ARNs are partition-safe already (${AWS::Partition} everywhere, ${AWS::URLSuffix} in the endpoint; the
    service principals lambda, apigateway and events are the same in aws-cn). In aws the template is
    unchanged. In aws-cn: MailTransport can only be smtp; every resource and output under a condition that
    cannot hold there is left out (the SES configuration set, identity and event destination, the bounce topic,
    the function record_bounces and its role), each Fn::If on such a condition becomes its else branch, and a
    reference left pointing at something removed stops the build. Metadata.saiping names the region.
    """
    partition = partition_of(region)
    impossible = IMPOSSIBLE_CONDITIONS.get(partition, frozenset())
    result = json.loads(json.dumps(template))
    result.setdefault("Metadata", {})["saiping"] = {"region": region, "partition": partition}
    if not impossible:
        return result
    removed = {rid for rid, r in result["Resources"].items() if r.get("Condition") in impossible}
    result["Resources"] = {rid: r for rid, r in result["Resources"].items() if rid not in removed}
    result["Outputs"] = {oid: o for oid, o in result.get("Outputs", {}).items() if o.get("Condition") not in impossible}
    result["Conditions"] = {c: v for c, v in result.get("Conditions", {}).items() if c not in impossible}
    if not result["Conditions"]:
        del result["Conditions"]
    for name in SES_ONLY_PARAMETERS:
        result["Parameters"].pop(name, None)
    transport = result["Parameters"]["MailTransport"]
    transport.update({"Default": "smtp", "AllowedValues": ["smtp"],
                      "Description": f"smtp: {region} ({partition}) has no SES; mail goes through the SMTP "
                                     "relay of the secret saiping/<stage>/smtp (docs/DEPLOY.md; TLS required)."})
    result = _take_branches(result, impossible)
    left = _references({k: v for k, v in result.items() if k != "Metadata"})
    dangling = sorted(left & (removed | impossible | set(SES_ONLY_PARAMETERS)))
    if dangling:
        raise ConfigError(f"{region}: the template still names {', '.join(dangling)}, which {partition} cannot "
                          "have: put what names them under the same condition (infra/base.json)")
    return result


def finish(sam: Path, region: str) -> None:
    """Rewrites the packaged template `sam` for `region` (for_region)."""
    document = json.loads(sam.read_text(encoding="utf-8"))
    sam.write_text(json.dumps(for_region(document, region), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# -- the merge template ----------------------------------------------------------------------------
def build(stage: str = "dev", functions: dict[str, str] | None = None,
          topics: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    functions = app_functions() if functions is None else functions
    topics = app_topics() if topics is None else topics
    template = json.loads(BASE.read_text(encoding="utf-8"))
    template["Parameters"]["Stage"]["Default"] = stage
    resources = template["Resources"]
    for resource_id, resource in {**tables(), **function_resources(functions, resources, topics),
                                  **rest_api(functions)}.items():
        if resource_id in resources:
            raise ConfigError(f"{resource_id} is both in infra/base.json and generated")
        resources[resource_id] = resource
    return template


# -- the REST API ----------------------------------------------------------------------------------
REST_API = "RestAPI"        # Chalice's AWS::Serverless::Api in its SAM output


# The doors a password is tried at (the API's sessions and the login page, and both ways to ask for a reset
# mail): API Gateway throttles each before any Lambda runs, in front of the app's own per-account and
# per-client back-off (services/accounts.py), so a flood of guesses costs neither invocations nor mail.
PASSWORD_DOORS = (("/api/v1/sessions", "POST"), ("/login", "POST"), ("/api/v1/password-resets", "POST"),
                  ("/password-reset", "POST"))
PASSWORD_DOOR_RATE = 10      # requests a second, steady, for each door across all clients
PASSWORD_DOOR_BURST = 20


def method_settings() -> list[dict[str, Any]]:
    """The stage's MethodSettings: every door of PASSWORD_DOORS throttled (ResourcePath with / as ~1)."""
    return [{"ResourcePath": path.replace("/", "~1"), "HttpMethod": method,
             "ThrottlingRateLimit": PASSWORD_DOOR_RATE, "ThrottlingBurstLimit": PASSWORD_DOOR_BURST}
            for path, method in PASSWORD_DOORS]


def rest_api(functions: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What API Gateway answers by itself, merged into Chalice's RestAPI: SAM's GatewayResponses (they go into
    its definition, so the deployment that SAM makes carries them). An unrouted path or method gets the app's
    Chinese 404 instead of `Missing Authentication Token` (chalicelib/web/not_found.py says what and why).
    And the stage's throttles on the doors a password is tried at (method_settings)."""
    if API_HANDLER not in functions:
        return {}
    _importable()
    from chalicelib.web.not_found import gateway_responses
    return {REST_API: {"Properties": {"GatewayResponses": gateway_responses(), "MethodSettings": method_settings()}}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="dev", help="the Chalice stage packaged (the Stage parameter's default)")
    parser.add_argument("--out", type=Path, help="write the merge template here")
    parser.add_argument("--check-policies", action="store_true",
                        help="fail when a .chalice/policy-*.json file is not what infra/functions.json and the models say")
    parser.add_argument("--write-policies", action="store_true", help="(re)write the .chalice/policy-*.json files")
    parser.add_argument("--finish", type=Path, metavar="SAM",
                        help="make Chalice's packaged template right for --region's partition (after `chalice package`)")
    parser.add_argument("--region", help="the region the package is for (with --finish)")
    args = parser.parse_args(argv)
    if args.finish:
        if not args.region:
            parser.error("--finish needs --region")
        try:
            finish(args.finish, args.region)
        except ConfigError as exc:
            print(f"infra: {exc}", file=sys.stderr)
            return 1
        print(f"wrote {args.finish} for {args.region} ({partition_of(args.region)})")
        return 0
    try:
        functions = app_functions()
        problems = check_chalice_config(functions)
        stage = chalice_config().get("stages", {}).get(args.stage)
        if args.out and (args.stage == "local" or not isinstance(stage, dict)):
            problems.append(f"no deployable stage {args.stage!r} in .chalice/config.json (dev, prod, ...)")
        elif args.out and stage.get("autogen_policy") is not False:
            problems.append(f'.chalice/config.json: stage {args.stage!r} needs "autogen_policy": false '
                            f"(the policy files are the functions' permissions)")
        if args.write_policies:
            for filename in write_policies(functions):
                print(f"wrote .chalice/{filename}")
        if args.check_policies:
            stale = stale_policies(functions)
            if stale:
                problems.append("out of date: " + ", ".join(f".chalice/{s}" for s in stale)
                                + " (the models or infra/functions.json changed): run `make policies` and commit them")
        if problems:
            raise ConfigError("\n".join(problems))
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(build(args.stage, functions), indent=1, ensure_ascii=False) + "\n",
                                encoding="utf-8")
            print(f"wrote {args.out} ({len(tables())} tables, functions: {', '.join(sorted(functions))})")
    except ConfigError as exc:
        print(f"infra: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
