"""Fault injection through botocore's event system, in front of the in-process moto.

moto answers every request from a `before-send` handler that every botocore session gets (botocore's
BUILTIN_HANDLERS). botocore emits `before-send` to *all* handlers and takes the first answer, so a fault
handler merely registered next to moto's would let moto carry out the request and only hide its answer.
`Faults.install` therefore takes moto's handler off the client's event system and puts one handler in its
place that either answers with a fault (moto never sees the request: the service refused it) or passes the
request on to moto. botocore then parses the fault as the real service's error, and its retry handler
(`needs-retry`) decides whether to try again: throttles and 5xx are retried, up to the client's budget.

Faults are planned per AWS call (one botocore operation, all its attempts), counted from `arm()`:
  - `transient(call, n)`: the first n attempts of that call fail, the next one reaches moto;
  - `persistent_from(call, services)`: every attempt of that call and of every later call (of `services`,
    default all) fails.
Which error each attempt gets is drawn from a seeded random.Random, so a run is repeatable.

Retry back-off sleeps are recorded instead of slept (botocore.endpoint's `time` is replaced), so no test
waits for a back-off and none depends on time.
"""
from __future__ import annotations

import io
import json
import random
import types
from dataclasses import dataclass, field
from typing import Any, Iterable

from botocore.awsrequest import AWSResponse

DYNAMODB_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class _Raw(io.BytesIO):
    def stream(self, **_: Any):
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _dynamodb(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": DYNAMODB_PREFIX + code, "message": message}).encode()
    return status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}, body


def transaction_cancelled(reason: str) -> Any:
    """A TransactWriteItems answer DynamoDB gives and moto never does: cancelled for `reason` (e.g.
    TransactionConflict, ThrottlingError) on the first item."""
    def respond(request: Any) -> tuple[int, dict[str, str], bytes]:
        items = json.loads(request.body)["TransactItems"]
        reasons = [{"Code": reason, "Message": reason}] + [{"Code": "None"}] * (len(items) - 1)
        status, headers, _ = _dynamodb(400, "TransactionCanceledException", "")
        body = {"__type": DYNAMODB_PREFIX + "TransactionCanceledException", "CancellationReasons": reasons,
                "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                           f"[{', '.join(r['Code'] for r in reasons)}]"}
        return status, headers, json.dumps(body).encode()
    return respond


def _s3(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>fault</RequestId></Error>").encode()
    return status, {"Content-Type": "application/xml", "x-amz-request-id": "fault"}, body


def _ses(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    kind = "Receiver" if status >= 500 else "Sender"
    body = (f"<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\"><Error><Type>{kind}</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId>"
            f"</ErrorResponse>").encode()
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": "fault"}, body


# service (botocore's hyphenized service id) -> the retryable errors a real endpoint answers with
ERRORS: dict[str, list[tuple[int, str, str, Any]]] = {
    "dynamodb": [
        (400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the "
                                                        "table was exceeded.", _dynamodb),
        (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.", _dynamodb),
        (500, "InternalServerError", "Internal server error", _dynamodb),
    ],
    "s3": [
        (503, "SlowDown", "Please reduce your request rate.", _s3),
        (500, "InternalError", "We encountered an internal error. Please try again.", _s3),
    ],
    "ses": [
        (400, "Throttling", "Maximum sending rate exceeded.", _ses),
        (500, "InternalFailure", "The request processing has failed because of an unknown error.", _ses),
    ],
}


@dataclass
class Call:
    service: str
    operation: str
    attempts: int = 0
    faults: list[str] = field(default_factory=list)     # the error code of each failed attempt
    reached: bool = False                               # an attempt got through to moto


class Faults:
    """Plans and injects faults on the clients given to `install`; records every call and attempt."""

    def __init__(self, seed: int, services: Iterable[str] = ("dynamodb", "s3", "ses")):
        self.rng = random.Random(seed)
        self.services = set(services)
        self.calls: list[Call] = []
        self.sleeps: list[float] = []
        self._armed = False
        self._transient: dict[int, int] = {}
        self._persistent_from: int | None = None
        self._persistent_services: set[str] = set()
        self._lost: set[int] = set()
        self._canned: dict[int, Any] = {}

    # -- wiring ----------------------------------------------------------------------------------
    def install(self, clients: Iterable[Any]) -> None:
        from moto.core.models import botocore_stubber
        for client in clients:
            events = client.meta.events
            events.unregister("before-send", botocore_stubber)
            events.register("before-send", self._before_send, unique_id="saiping-fault-injection")

    @staticmethod
    def app_clients() -> list[Any]:
        """The clients the app makes calls with: the store's shared PynamoDB client, S3, SES, and the DynamoDB
        client of bootstrap (built now, so that they exist before `install`)."""
        from chalicelib import bootstrap
        from chalicelib.store import db
        bootstrap.config()
        ses = bootstrap.mail_transport().transport
        clients = [db.connection().client, bootstrap.s3(), bootstrap.client("dynamodb"), bootstrap.client("ses")]
        inner = getattr(ses, "ses", None)
        if inner is not None and all(inner is not c for c in clients):
            clients.append(inner)
        return clients

    def no_sleep(self, monkeypatch: Any) -> None:
        import botocore.endpoint
        import time
        fake = types.SimpleNamespace(**{n: getattr(time, n) for n in dir(time) if not n.startswith("_")})
        fake.sleep = self.sleeps.append
        monkeypatch.setattr(botocore.endpoint, "time", fake)

    # -- plans -----------------------------------------------------------------------------------
    def arm(self) -> "Faults":
        """Start counting calls from 0 with no faults planned."""
        self.calls, self._transient, self._persistent_from, self._lost, self._canned = [], {}, None, set(), {}
        self._armed = True
        return self

    def transient(self, call: int, failures: int) -> "Faults":
        self._transient[call] = failures
        return self

    def persistent_from(self, call: int, services: Iterable[str] | None = None) -> "Faults":
        self._persistent_from = call
        self._persistent_services = set(services or self.services)
        return self

    def lost_response(self, call: int) -> "Faults":
        """The call reaches moto (the service does the work), then its answer is replaced by a 500."""
        self._lost.add(call)
        return self

    def answer(self, call: int, respond: Any) -> "Faults":
        """Every attempt of that call gets `respond(request)` -> (status, headers, body) instead of moto's."""
        self._canned[call] = respond
        return self

    def disarm(self) -> list[Call]:
        self._armed = False
        return self.calls

    # -- the handler -----------------------------------------------------------------------------
    def _before_send(self, request: Any, event_name: str, **kwargs: Any) -> Any:
        from moto.core.models import botocore_stubber
        _, service, operation = event_name.split(".", 2)
        if not self._armed or service not in self.services:
            return botocore_stubber(event_name=event_name, request=request, **kwargs)
        attempt = request.context.get("retries", {}).get("attempt", 1)
        if attempt == 1 or not self.calls:  # a new call (retries carry the same context)
            self.calls.append(Call(service, operation))
        index = len(self.calls) - 1
        call = self.calls[index]
        call.attempts += 1
        failing = (self._persistent_from is not None and index >= self._persistent_from
                   and service in self._persistent_services) or call.attempts <= self._transient.get(index, 0)
        if index in self._canned:
            status_code, headers, body = self._canned[index](request)
            call.faults.append(str(status_code))
            return AWSResponse(request.url, status_code, headers, _Raw(body))
        if failing:
            return self._fault(request, call)
        answer = botocore_stubber(event_name=event_name, request=request, **kwargs)
        call.reached = True
        if index in self._lost:
            self._lost.discard(index)
            return self._fault(request, call, status=500)
        return answer

    def _fault(self, request: Any, call: Call, status: int | None = None) -> AWSResponse:
        choices = [e for e in ERRORS[call.service] if status is None or e[0] == status]
        code_status, code, message, render = self.rng.choice(choices)
        call.faults.append(code)
        status_code, headers, body = render(code_status, code, message)
        return AWSResponse(request.url, status_code, headers, _Raw(body))
