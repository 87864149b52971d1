"""The merge template (infra/) and the IAM policy files (.chalice/), built without `chalice package`."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from chalicelib.store.models import MODELS, TTL_ATTRIBUTES
from infra import build_template as infra

ROOT = Path(__file__).resolve().parents[2]
POLICY_FILES = sorted((ROOT / ".chalice").glob("policy-*.json"))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return infra.build("dev")


@pytest.fixture(scope="module")
def functions() -> dict[str, str]:
    return infra.app_functions()


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy's statements, with Fn::If branches taken as statements too."""
    found = []
    for s in document["Statement"]:
        if "Fn::If" in s:
            found.extend(b for b in s["Fn::If"][1:] if "Effect" in b)
        else:
            found.append(s)
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def table_of(template: dict[str, Any], logical: str) -> dict[str, Any]:
    return template["Resources"][infra.table_logical_id(logical)]


def test_every_model_has_a_table_named_by_the_table_prefix(template):
    prefix = template["Globals"]["Function"]["Environment"]["Variables"]["TABLE_PREFIX"]
    assert prefix == {"Fn::Sub": "saiping-${Stage}-"}
    tables = {r["Properties"]["TableName"]["Fn::Sub"] for r in template["Resources"].values()
              if r.get("Type") == "AWS::DynamoDB::Table"}
    assert tables == {prefix["Fn::Sub"] + m.Meta.logical for m in MODELS}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.Meta.logical)
def test_table_is_protected_on_demand_and_encrypted(template, model):
    table = table_of(template, model.Meta.logical)
    props = table["Properties"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "ProvisionedThroughput" not in props


def _model_keys(entries: list[dict[str, str]]) -> dict[str, str]:
    return {e["KeyType"]: e["AttributeName"] for e in entries}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.Meta.logical)
def test_table_keys_and_indexes_equal_the_models(template, model):
    props = table_of(template, model.Meta.logical)["Properties"]
    schema = model._get_schema()
    assert _model_keys(props["KeySchema"]) == _model_keys(schema["key_schema"])
    assert props["KeySchema"][0]["KeyType"] == "HASH"
    expected_gsis = {i["index_name"]: (_model_keys(i["key_schema"]), i["projection"]["ProjectionType"])
                     for i in schema["global_secondary_indexes"]}
    gsis = {i["IndexName"]: (_model_keys(i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in props.get("GlobalSecondaryIndexes", [])}
    assert gsis == expected_gsis
    assert all(i["KeySchema"][0]["KeyType"] == "HASH" for i in props.get("GlobalSecondaryIndexes", []))
    assert {i["IndexName"] for i in props.get("LocalSecondaryIndexes", [])} == \
        {i["index_name"] for i in schema["local_secondary_indexes"]}
    used = {k["AttributeName"] for k in props["KeySchema"]} | {
        k["AttributeName"] for i in props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", [])
        for k in i["KeySchema"]}
    definitions = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    assert set(definitions) == used
    attributes = {a.attr_name: a.attr_type for a in model.get_attributes().values()}
    assert all(attributes[name] == kind for name, kind in definitions.items())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.Meta.logical)
def test_ttl_only_where_the_models_say(template, model):
    props = table_of(template, model.Meta.logical)["Properties"]
    ttl = TTL_ATTRIBUTES.get(model.Meta.logical)
    expected = {"AttributeName": ttl, "Enabled": True} if ttl else None
    assert props.get("TimeToLiveSpecification") == expected


def test_bucket_is_private_versioned_encrypted_and_expires_exports(template):
    bucket = template["Resources"]["FilesBucket"]
    props = bucket["Properties"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules] == ["AES256"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    exports = [r for r in props["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "exports/"]
    assert len(exports) == 1 and exports[0]["Status"] == "Enabled"
    assert exports[0]["ExpirationInDays"] == {"Ref": "ExportRetentionDays"}
    cors = props["CorsConfiguration"]["CorsRules"]
    assert [r["AllowedOrigins"] for r in cors] == [[{"Ref": "SiteOrigin"}]]
    assert set(cors[0]["AllowedMethods"]) == {"GET", "POST", "HEAD"}


def test_bucket_expires_unconfirmed_uploads_after_a_day(template):
    """Upload grants write only under uploads/ (confirm copies to cases/ and deletes the upload): whatever a
    grant posts later, or an upload never confirmed, is gone a day after, old versions included."""
    rules = template["Resources"]["FilesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    uploads = [r for r in rules if r.get("Prefix") == "uploads/"]
    assert uploads == [{"Id": "expire-uploads", "Status": "Enabled", "Prefix": "uploads/", "ExpirationInDays": 1,
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]
    assert not any(r.get("Prefix", "").startswith("cases") for r in rules)      # served files never expire


def test_bucket_refuses_plain_http(template):
    policy = template["Resources"]["FilesBucketPolicy"]["Properties"]["PolicyDocument"]
    [deny] = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_parameters_for_stage_site_and_sender(template):
    params = template["Parameters"]
    assert {"Stage", "SiteOrigin", "Sender", "MailTransport"} <= set(params)
    assert params["Stage"]["Default"] == "dev"
    assert infra.build("prod")["Parameters"]["Stage"]["Default"] == "prod"
    assert re.fullmatch(params["SiteOrigin"]["AllowedPattern"], "https://saiping.example.org")
    assert not re.fullmatch(params["SiteOrigin"]["AllowedPattern"], "https://saiping.example.org/")


def test_signing_keys_secret_is_generated_as_a_key_list_and_given_to_the_functions(template):
    secret = template["Resources"]["SigningKeys"]
    generated = secret["Properties"]["GenerateSecretString"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert generated["GenerateStringKey"] == "keys" and generated["ExcludePunctuation"] is True
    assert generated["PasswordLength"] >= 32
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SIGNING_KEYS_SECRET"] == {"Ref": "SigningKeys"}
    assert "SIGNING_KEYS" not in variables       # never the keys themselves in the function's configuration


def test_ses_resources_only_where_ses_exists(template):
    assert template["Resources"]["MailConfigurationSet"]["Condition"] == "UseSes"
    assert template["Resources"]["SenderIdentity"]["Condition"] == "CreateIdentity"
    identity = template["Resources"]["SenderIdentity"]["Properties"]
    assert identity["ConfigurationSetAttributes"] == {"ConfigurationSetName": {"Ref": "MailConfigurationSet"}}


def test_function_environment_names_settings_that_config_reads(template):
    source = (ROOT / "chalicelib" / "config.py").read_text(encoding="utf-8")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert {"TABLE_PREFIX", "BUCKET_NAME", "SITE_URL", "MAIL_SENDER", "MAIL_TRANSPORT", "SIGNING_KEYS_SECRET",
            "ASYNC_MODE", "EXPORT_FUNCTION_NAME"} <= set(variables)
    unread = [name for name in variables if f'"{name}"' not in source]
    assert unread == []
    assert "AWS_ENDPOINT_URL" not in variables and "SAIPING_LOCAL" not in variables


def test_every_function_is_named_logged_and_has_its_own_policy_file(template, functions):
    config = infra.chalice_config()
    assert "api_handler" in functions
    for function, resource_id in functions.items():
        assert template["Resources"][resource_id]["Properties"]["FunctionName"] == infra.function_name(function)
        logs = template["Resources"][resource_id + "Logs"]
        assert logs["Type"] == "AWS::Logs::LogGroup"
        assert logs["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + infra.function_name(function)["Fn::Sub"]}
        policy_file = config["lambda_functions"][function]["iam_policy_file"]
        assert (ROOT / ".chalice" / policy_file).is_file()
    assert infra.check_chalice_config(functions) == []


def test_policy_files_are_what_the_models_and_infra_functions_json_say(functions):
    """A model or function added without `make policies` leaves its function without access in AWS."""
    assert infra.stale_policies(functions) == [], "run `make policies` and commit .chalice/policy-*.json"
    assert {p.name for p in POLICY_FILES} == {infra.policy_filename(f) for f in functions}


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_policy_file_has_no_wildcard_action_and_partition_safe_arns(path):
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["Version"] == "2012-10-17"
    for statement in statements(document):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        actions = as_list(statement["Action"])
        assert actions and all("*" not in a for a in actions), statement["Sid"]
        assert "*" not in as_list(statement["Resource"]), statement["Sid"]
    texts = list(strings(document))
    assert not [t for t in texts if "arn:aws" in t]
    arns = [t for t in texts if "arn:" in t]
    assert arns and all(t.startswith("arn:${AWS::Partition}:") for t in arns)


def test_api_policy_reaches_every_table_and_index_and_nothing_else(template):
    document = json.loads((ROOT / ".chalice" / "policy-api_handler.json").read_text(encoding="utf-8"))
    by_sid = {s["Sid"]: s for s in statements(document)}
    resources = {r["Fn::Sub"] for r in by_sid["TablesRead"]["Resource"]}
    assert resources == {f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/saiping-${{Stage}}-{m.Meta.logical}"
                         for m in MODELS}
    assert {r["Fn::Sub"] for r in by_sid["TablesWrite"]["Resource"]} == resources
    indexes = {r["Fn::Sub"].rsplit(":table/", 1)[1] for r in by_sid["IndexesRead"]["Resource"]}
    assert indexes == {f"saiping-${{Stage}}-{m.Meta.logical}/index/{i['index_name']}"
                       for m in MODELS for i in m._get_schema()["global_secondary_indexes"]}
    assert "dynamodb:Scan" not in [a for s in by_sid.values() for a in as_list(s["Action"])]
    assert by_sid["SigningKeys"]["Resource"] == [{"Ref": "SigningKeys"}]
    assert by_sid["Mail"]["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "Sender"}}}
    assert by_sid["Logs"]["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                                                     ":log-group:/aws/lambda/saiping-${Stage}:*"}]
    # The references resolve inside the merged template.
    for ref in ("SigningKeys", "FilesBucket", "Sender"):
        assert ref in template["Resources"] or ref in template["Parameters"]
    assert "UseSes" in template["Conditions"]


def test_no_literal_partition_anywhere_in_the_template(template):
    assert not [t for t in strings(template) if "arn:aws" in t]


def test_chalice_stages(functions):
    config = infra.chalice_config()
    local = config["stages"]["local"]
    assert "environment_variables" not in local and "environment_variables" not in config
    for stage in ("dev", "prod"):
        settings = config["stages"][stage]
        assert settings["autogen_policy"] is False
        assert settings["automatic_layer"] is True
        assert settings["api_gateway_endpoint_type"] == "REGIONAL"   # aws-cn has no edge-optimised APIs
        assert "iam_role_arn" not in settings and settings.get("manage_iam_role", True) is True


def test_policy_document_for_a_new_scheduled_function_is_narrow():
    """How a schedule that only closes stages would be granted (infra/functions.json entry)."""
    spec = {"tables": {"stages": ["read", "write"], "cases": ["read"]}, "bucket": {"exports/*": ["write"]}}
    document = infra.policy_document("close_stages", spec, {"close_stages": "CloseStages"})
    by_sid = {s["Sid"]: s for s in statements(document)}
    assert set(by_sid) == {"Logs", "TablesRead", "IndexesRead", "TablesWrite", "BucketObjectsExports", "SigningKeys"}
    assert [r["Fn::Sub"].rsplit("/", 1)[1] for r in by_sid["TablesWrite"]["Resource"]] == ["saiping-${Stage}-stages"]
    assert by_sid["BucketObjectsExports"]["Action"] == ["s3:PutObject"]
    assert by_sid["BucketObjectsExports"]["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${FilesBucket}/exports/*"}]
    assert by_sid["Logs"]["Resource"][0]["Fn::Sub"].endswith("log-group:/aws/lambda/saiping-${Stage}-close_stages:*")


def test_unknown_table_in_infra_functions_json_is_refused():
    with pytest.raises(infra.ConfigError, match="no model"):
        infra.policy_document("api_handler", {"tables": {"nonexistent": ["read"]}}, {})


def test_the_api_may_invoke_the_functions_the_environment_names(template, functions):
    """EXPORT_FUNCTION_NAME and MAIL_FUNCTION_NAME must be the names the template gives the app's export
    function and its queued mail sender: the API invokes those two and nothing else."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    names = [variables["EXPORT_FUNCTION_NAME"], variables["MAIL_FUNCTION_NAME"]]
    assert [[f for f in functions if infra.function_name(f) == name] for name in names] == [
        ["exports"], ["send_queued_mail"]]
    document = json.loads((ROOT / ".chalice" / "policy-api_handler.json").read_text(encoding="utf-8"))
    [invoke] = [s for s in statements(document) if s["Sid"] == "Invoke"]
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert invoke["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                                               + name["Fn::Sub"]} for name in names]


# -- SES bounces and complaints: configuration set -> topic -> record_bounces ---------------------------
def references(value: Any) -> set[str]:
    """The logical ids a value names: Ref, Fn::GetAtt, and ${Name} in Fn::Sub text."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {n.split(".")[0] for n in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if isinstance(inner, list):
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def test_bounce_topic_exists_only_where_ses_does_and_only_ses_of_this_stage_may_publish(template):
    resources = template["Resources"]
    topic = resources["BounceTopic"]
    assert (topic["Type"], topic["Condition"]) == ("AWS::SNS::Topic", "UseSes")
    assert topic["Properties"]["TopicName"] == {"Fn::Sub": "saiping-${Stage}-bounces"}
    policy = resources["BounceTopicPolicy"]
    assert (policy["Type"], policy["Condition"]) == ("AWS::SNS::TopicPolicy", "UseSes")
    assert policy["Properties"]["Topics"] == [{"Ref": "BounceTopic"}]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "BounceTopic"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                                                 ":configuration-set/${MailConfigurationSet}"}},
    }


def test_configuration_set_sends_bounces_and_complaints_to_the_topic(template):
    destination = template["Resources"]["MailEventsToBounceTopic"]
    assert (destination["Type"], destination["Condition"]) == ("AWS::SES::ConfigurationSetEventDestination", "UseSes")
    assert destination["DependsOn"] == "BounceTopicPolicy"          # SES may publish before it is told to
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    event_destination = props["EventDestination"]
    assert event_destination["Enabled"] is True
    # lower case: what CloudFormation's SES resource has always accepted (its upper-case forms came later)
    assert sorted(event_destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert event_destination["SnsDestination"] == {"TopicARN": {"Ref": "BounceTopic"}}


def test_every_mail_names_the_configuration_set_the_functions_may_use(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    configuration_set = template["Resources"]["MailConfigurationSet"]["Properties"]["Name"]
    assert variables["MAIL_CONFIGURATION_SET"] == configuration_set == {"Fn::Sub": "saiping-${Stage}"}
    document = json.loads((ROOT / ".chalice" / "policy-api_handler.json").read_text(encoding="utf-8"))
    [mail] = [s for s in statements(document) if s["Sid"] == "Mail"]
    assert {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/saiping-${Stage}"} \
        in mail["Resource"]


def test_record_bounces_is_subscribed_to_the_stages_topic_under_its_condition(template, functions):
    assert functions["record_bounces"] == "RecordBounces"
    assert infra.app_topics() == {"record_bounces": ("RecordBouncesSnsSubscription", "bounces")}
    resources = template["Resources"]
    function = resources["RecordBounces"]
    assert function["Properties"]["Events"] == {
        "RecordBouncesSnsSubscription": {"Properties": {"Topic": {"Fn::Sub": "${BounceTopic}"}}}}
    # the function, Chalice's role for it and its log group exist only where the topic does
    for resource_id in ("RecordBounces", "RecordBouncesRole", "RecordBouncesLogs"):
        assert resources[resource_id]["Condition"] == "UseSes", resource_id
    for other in set(functions.values()) - {"RecordBounces"}:
        assert "Condition" not in resources[other] and "Events" not in resources[other]["Properties"]


def test_a_resource_naming_a_conditional_resource_has_its_condition(template):
    """aws-cn (MailTransport=smtp) must deploy: nothing may name a resource that is not created there."""
    resources = template["Resources"]
    conditional = {rid: r["Condition"] for rid, r in resources.items() if "Condition" in r}
    assert {"MailConfigurationSet", "BounceTopic", "BounceTopicPolicy", "MailEventsToBounceTopic"} <= set(conditional)
    for resource_id, resource in resources.items():
        named = references(resource.get("Properties", {})) | set(as_list(resource.get("DependsOn", [])))
        for target in named & set(conditional):
            assert resource.get("Condition") in (conditional[target], "CreateIdentity"), (resource_id, target)
    for name, output in template["Outputs"].items():
        for target in references(output["Value"]) & set(conditional):
            assert output.get("Condition") in (conditional[target], "CreateIdentity"), (name, target)


def test_a_subscription_to_a_topic_the_template_lacks_is_refused():
    with pytest.raises(infra.ConfigError, match="saiping-\\$\\{Stage\\}-complaints"):
        infra.function_resources({"f": "F"}, infra.build("dev")["Resources"], {"f": ("FSnsSubscription", "complaints")})
    # a topic given as an ARN stays as the app wrote it
    resources = infra.function_resources({"f": "F"}, {}, {"f": ("FSnsSubscription", "arn:aws:sns:r:1:t")})
    assert "Events" not in resources["F"]["Properties"]


def test_record_bounces_may_touch_the_mail_log_only():
    """It finds a row and marks it bounced: reads and UpdateItem on mail_log, nothing that creates or deletes."""
    document = json.loads((ROOT / ".chalice" / "policy-record_bounces.json").read_text(encoding="utf-8"))
    by_sid = {s["Sid"]: s for s in statements(document)}
    assert set(by_sid) == {"Logs", "TablesRead", "IndexesRead", "TablesUpdate", "SigningKeys"}
    tables = {r["Fn::Sub"].split(":table/", 1)[1] for sid in ("TablesRead", "IndexesRead", "TablesUpdate")
              for r in by_sid[sid]["Resource"]}
    assert {t.split("/", 1)[0] for t in tables} == {"saiping-${Stage}-mail_log"}
    assert by_sid["TablesUpdate"]["Action"] == ["dynamodb:UpdateItem"] and "dynamodb:Scan" not in json.dumps(document)
    assert by_sid["Logs"]["Resource"][0]["Fn::Sub"].endswith(":log-group:/aws/lambda/saiping-${Stage}-record_bounces:*")
    assert by_sid["SigningKeys"]["Resource"] == [{"Ref": "SigningKeys"}]   # every function reads it at cold start


# -- partitions: the global template and the aws-cn one (Beijing, Ningxia) ------------------------------
SES_TYPES = ("AWS::SES::",)
# The service principals the packaged template names: the same in aws and aws-cn (where a service's principal
# differs in aws-cn it ends in amazonaws.com.cn, e.g. ec2; none of these do).
PRINCIPALS = {"aws": {"lambda.amazonaws.com", "apigateway.amazonaws.com", "ses.amazonaws.com"},
              "aws-cn": {"lambda.amazonaws.com", "apigateway.amazonaws.com"}}


def packaged_like_chalice(functions: dict[str, str]) -> dict[str, Any]:
    """The merge template with what `chalice package` adds around it: each function as a SAM function with its
    role, whose policy is the function's .chalice/policy-<function>.json, the API's invoke permission."""
    template = infra.build("dev")
    resources = template["Resources"]
    for function, resource_id in functions.items():
        policy = json.loads((ROOT / ".chalice" / infra.policy_filename(function)).read_text(encoding="utf-8"))
        resources[resource_id + "Role"] = {
            **({"Condition": resources[resource_id]["Condition"]} if "Condition" in resources[resource_id] else {}),
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": resource_id + "RolePolicy", "PolicyDocument": policy}]}}
        resources[resource_id].update({"Type": "AWS::Serverless::Function"})
        resources[resource_id]["Properties"]["Role"] = {"Fn::GetAtt": [resource_id + "Role", "Arn"]}
    resources["APIHandlerInvokePermission"] = {"Type": "AWS::Lambda::Permission", "Properties": {
        "FunctionName": {"Ref": "APIHandler"}, "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestAPI}/*"}}}
    template["Outputs"]["EndpointURL"] = {
        "Value": {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"}}
    resources["RestAPI"] = {"Type": "AWS::Serverless::Api", "Properties": {"EndpointConfiguration": "REGIONAL"}}
    return template


@pytest.fixture(scope="module", params=["ap-southeast-1", "cn-north-1", "cn-northwest-1"])
def regional(request, functions) -> tuple[str, dict[str, Any]]:
    return request.param, infra.for_region(packaged_like_chalice(functions), request.param)


def test_partition_of_a_region():
    assert [infra.partition_of(r) for r in ("cn-north-1", "cn-northwest-1", "ap-southeast-1", "us-east-1")] \
        == ["aws-cn", "aws-cn", "aws", "aws"]


def test_the_global_template_is_unchanged_but_for_naming_its_region(functions):
    template = packaged_like_chalice(functions)
    finished = infra.for_region(template, "ap-southeast-1")
    assert finished.pop("Metadata") == {"saiping": {"region": "ap-southeast-1", "partition": "aws"}}
    assert finished == template


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
def test_china_template_has_no_ses_and_sends_mail_through_the_relays_secret(functions, region):
    template = infra.for_region(packaged_like_chalice(functions), region)
    resources = template["Resources"]
    assert template["Metadata"] == {"saiping": {"region": region, "partition": "aws-cn"}}
    assert [rid for rid, r in resources.items() if r["Type"].startswith(SES_TYPES)] == []
    gone = {"MailConfigurationSet", "SenderIdentity", "MailEventsToBounceTopic", "BounceTopic", "BounceTopicPolicy",
            "RecordBounces", "RecordBouncesRole", "RecordBouncesLogs"}
    assert gone & set(resources) == set()
    assert set(resources) == set(packaged_like_chalice(functions)["Resources"]) - gone
    assert not {"MailConfigurationSetName", "BounceTopicArn", "DkimRecord1"} & set(template["Outputs"])
    assert "Conditions" not in template and "CreateSenderIdentity" not in template["Parameters"]
    transport = template["Parameters"]["MailTransport"]
    assert (transport["Default"], transport["AllowedValues"]) == ("smtp", ["smtp"])
    assert template["Globals"]["Function"]["Environment"]["Variables"]["SMTP_SECRET"] == \
        {"Fn::Sub": "saiping/${Stage}/smtp"}
    text = json.dumps(template)
    assert "UseSes" not in text and "ses:" not in text and "Fn::If" not in text
    for function in ("api_handler", "close_due_stages", "send_reminders"):
        [policy] = resources[functions[function] + "Role"]["Properties"]["Policies"]
        by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
        assert by_sid["MailRelay"] == {"Sid": "MailRelay", "Effect": "Allow",
                                       "Action": ["secretsmanager:GetSecretValue"], "Resource": [{"Fn::Sub":
                                       "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                                       ":secret:saiping/${Stage}/smtp-??????"}]}
        assert "Mail" not in by_sid


def test_partition_safe_arns_principals_and_endpoints_in_every_region(regional):
    region, template = regional
    partition = infra.partition_of(region)
    texts = list(strings(template))
    assert [t for t in texts if "arn:aws" in t] == []
    arns = [t for t in texts if "arn:" in t and not t.startswith("^")]
    assert arns and all(t.startswith(("arn:${AWS::Partition}:", "https://")) or "arn:${AWS::Partition}:" in t
                        for t in arns), [t for t in arns if "arn:${AWS::Partition}:" not in t]
    principals = {t for t in texts if t.endswith((".amazonaws.com", ".amazonaws.com.cn"))}
    assert principals == PRINCIPALS[partition]
    endpoints = [t for t in texts if "amazonaws" in t and t not in principals]
    assert endpoints == []                   # hosts are ${AWS::URLSuffix} (amazonaws.com.cn in aws-cn)
    assert template["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"].endswith(".${AWS::URLSuffix}/api/")


def test_every_reference_resolves_in_every_region(regional):
    region, template = regional
    local = set(re.findall(r'"Fn::Sub": \[[^\[]*?, \{"([A-Za-z]+)"', json.dumps(template)))   # Fn::Sub's own names
    known = set(template["Resources"]) | set(template["Parameters"]) | local
    named = references({k: v for k, v in template.items() if k in ("Resources", "Outputs", "Globals")})
    assert sorted(n for n in named if n not in known and not n.startswith("AWS::")) == []
    for resource in template["Resources"].values():
        assert resource.get("Condition") in (None, *template.get("Conditions", {}))


def test_a_china_template_that_still_names_an_ses_resource_is_refused(functions):
    template = packaged_like_chalice(functions)
    template["Resources"]["Unguarded"] = {"Type": "AWS::SNS::Topic",
                                          "Properties": {"TopicName": {"Ref": "MailConfigurationSet"}}}
    with pytest.raises(infra.ConfigError, match="cn-north-1: the template still names MailConfigurationSet"):
        infra.for_region(template, "cn-north-1")
    assert "Unguarded" in infra.for_region(template, "ap-southeast-1")["Resources"]


def test_smtp_relay_is_a_secret_of_the_stage_not_a_parameter(template):
    """Host, port, username and password live in the secret saiping/<stage>/smtp (docs/DEPLOY.md): never in
    a parameter or the functions' environment, which CloudFormation and Lambda show in clear."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SMTP_SECRET"] == {"Fn::Sub": "saiping/${Stage}/smtp"}
    assert not [name for name in (*template["Parameters"], *variables) if "Smtp" in name and name != "SMTP_SECRET"
                or name.startswith("SMTP_") and name != "SMTP_SECRET"]


@pytest.mark.parametrize("region", ["ap-southeast-1", "us-east-1", "cn-north-1", "cn-northwest-1"])
def test_upload_origin_is_where_botocore_presigns_uploads(template, region, monkeypatch):
    """UPLOAD_ORIGIN (the pages' CSP connect-src) spares every page an S3 client; it must be the origin of
    the presigned POST that chalicelib/store/files.py makes, in every partition."""
    import boto3
    from botocore.config import Config
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"saiping-dev-files-123456789012-{region}"
    condition, global_form, regional_form = \
        template["Globals"]["Function"]["Environment"]["Variables"]["UPLOAD_ORIGIN"]["Fn::If"]
    assert template["Conditions"][condition] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    chosen = global_form if region == "us-east-1" else regional_form
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    origin = chosen["Fn::Sub"].replace("${FilesBucket}", bucket).replace("${AWS::Region}", region) \
        .replace("${AWS::URLSuffix}", suffix)
    s3 = boto3.client("s3", region_name=region,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    assert s3.generate_presigned_post(Bucket=bucket, Key="k")["url"] == origin + "/"


def test_api_gateway_answers_an_unrouted_path_with_the_apps_chinese_404(template):
    """API Gateway answers a path (or method) no route has before any Lambda runs: MISSING_AUTHENTICATION_TOKEN,
    403 `Missing Authentication Token` unless the REST API says otherwise (chalicelib/web/not_found.py)."""
    from chalicelib.web.not_found import API_MESSAGE
    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    unrouted = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert unrouted["StatusCode"] == "404"
    assert unrouted["ResponseParameters"]["Headers"]["Content-Type"] == "'application/json; charset=utf-8'"
    assert list(unrouted["ResponseTemplates"]) == ["application/json"]
    assert json.loads(unrouted["ResponseTemplates"]["application/json"]) == {
        "error": {"code": "not_found", "message": API_MESSAGE}}
    assert "RestAPI" not in json.loads(infra.BASE.read_text(encoding="utf-8"))["Resources"]   # generated, merged


def test_api_gateways_own_refusals_speak_chinese_in_the_error_shape(template):
    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    shapes = {kind: (r.get("StatusCode"), json.loads(r["ResponseTemplates"]["application/json"])["error"]["code"])
              for kind, r in responses.items()}
    assert shapes == {"MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"), "REQUEST_TOO_LARGE": ("413", "too_large"),
                      "THROTTLED": ("429", "rate_limited"), "DEFAULT_4XX": (None, "invalid"),
                      "DEFAULT_5XX": (None, "unavailable")}
    for kind, r in responses.items():
        message = json.loads(r["ResponseTemplates"]["application/json"])["error"]["message"]
        assert re.search(r"[\u4e00-\u9fff]", message) and not re.search(r"[A-Za-z]{3,}", message.replace("MB", "")), kind
        assert "$" not in r["ResponseTemplates"]["application/json"] and "#" not in r["ResponseTemplates"]["application/json"]


def test_no_rest_api_is_merged_where_the_app_has_no_routes():
    assert "RestAPI" not in infra.build("dev", functions={"exports": "Exports"}, topics={})["Resources"]


def test_api_gateway_throttles_every_door_a_password_is_tried_at(template):
    """Before any Lambda runs: POST /api/v1/sessions, /login and both reset requests, each a route of the app."""
    from app import app
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert settings == [{"ResourcePath": path.replace("/", "~1"), "HttpMethod": "POST", "ThrottlingRateLimit": 10,
                         "ThrottlingBurstLimit": 20}
                        for path in ("/api/v1/sessions", "/login", "/api/v1/password-resets", "/password-reset")]
    for path, method in infra.PASSWORD_DOORS:
        assert method in app.routes[path], path
