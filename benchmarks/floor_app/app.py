"""The floor of the cold-start benchmark (benchmarks/bench_cold_start_requests.py): a one-route Chalice app
that makes one GetItem (a stage row of the benchmark's competition) on the same emulator. What any Chalice
function that reads DynamoDB pays for its first request: the interpreter, chalice, boto3, one call."""
import os

import boto3
from chalice import Chalice

app = Chalice(app_name="floor")


@app.route("/")
def index() -> dict:
    client = boto3.client("dynamodb", region_name=os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-1"),
                          endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    item = client.get_item(TableName=os.environ["TABLE_PREFIX"] + "stages",
                           Key={"competition_id": {"S": "shenzhen-2023"}, "stage_id": {"S": "text_review"}})
    return {"found": "Item" in item}
