"""Asynchronous invocation end to end: queue, retries, event age, destinations, DLQs.

The server runs with --time-scale 0.01, so AWS's one- and two-minute retry delays take
0.6 s and 1.2 s, and a 60 s maximum event age lasts 0.6 s.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.test_functions import error_of
from tests.support.functions import create, unique, zip_of
from tests.support.server import LiveServer

# Each run reports itself to a queue through Lamina's own SQS endpoint, then behaves as told.
REPORTER = """
import json, os, boto3
sqs = boto3.client("sqs")

def handler(event, context):
    runs = os.environ.get("RUNS_QUEUE")
    if runs:
        sqs.send_message(QueueUrl=runs, MessageBody=json.dumps(
            {"request_id": context.aws_request_id, "event": event}))
    if os.environ.get("MODE") == "fail":
        raise Exception("Test exception (this is intentional)")
    return {"echo": event}
"""


@pytest.fixture(scope="module")
def async_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("async") / "data", args=["--time-scale", "0.01"])
    yield live.start()
    live.stop()


def queue(sqs: Any, name: str | None = None) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name or unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(sqs: Any, url: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """Receive (and delete) until `count` messages arrived or the time is up."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found += batch
    return found


def reporter(client: Any, mode: str, runs_url: str | None = None, **overrides: Any) -> str:
    variables = {"MODE": mode}
    if runs_url:
        variables["RUNS_QUEUE"] = runs_url
    return str(
        create(
            client,
            Code={"ZipFile": zip_of({"handler.py": REPORTER})},
            Environment={"Variables": variables},
            Timeout=30,
            **overrides,
        )["FunctionName"]
    )


def invoke_event(client: Any, name: str, payload: Any, **kwargs: Any) -> str:
    response = client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode(), **kwargs
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    return str(response["ResponseMetadata"]["RequestId"])


def test_failing_function_runs_three_times_then_on_failure(async_server: LiveServer) -> None:
    client, sqs = async_server.client(), async_server.client("sqs")
    runs_url, _ = queue(sqs)
    dest_url, dest_arn = queue(sqs)
    name = reporter(client, "fail", runs_url)
    client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    request_id = invoke_event(client, name, {"key": "value"})
    records = drain(sqs, dest_url, 1)
    assert len(records) == 1
    record = json.loads(records[0]["Body"])
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestPayload"] == {"key": "value"}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorMessage"] == "Test exception (this is intentional)"
    assert records[0]["Attributes"]["AWSTraceHeader"].startswith("Root=1-")
    runs = [json.loads(m["Body"]) for m in drain(sqs, runs_url, 4, timeout=3)]
    assert [r["request_id"] for r in runs] == [request_id] * 3


def test_success_goes_to_on_success(async_server: LiveServer) -> None:
    client, sqs = async_server.client(), async_server.client("sqs")
    dest_url, dest_arn = queue(sqs)
    name = reporter(client, "ok")
    client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": dest_arn}}
    )
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    def add_trace(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = trace

    client.meta.events.register("before-send.lambda.Invoke", add_trace)
    request_id = invoke_event(client, name, {"n": 1})
    record_message = drain(sqs, dest_url, 1)[0]
    record = json.loads(record_message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"echo": {"n": 1}}
    assert record_message["Attributes"]["AWSTraceHeader"] == trace


def test_event_age_exceeded(async_server: LiveServer) -> None:
    client, sqs = async_server.client(), async_server.client("sqs")
    dest_url, dest_arn = queue(sqs)
    name = reporter(client, "fail")
    client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumEventAgeInSeconds=60,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    invoke_event(client, name, {})
    record = json.loads(drain(sqs, dest_url, 1)[0]["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_dead_letter_queue_gets_the_original_event(async_server: LiveServer) -> None:
    client, sqs = async_server.client(), async_server.client("sqs")
    dlq_url, dlq_arn = queue(sqs)
    name = reporter(client, "fail")
    client.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": dlq_arn})
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    request_id = invoke_event(client, name, {"key": "value"})
    message = drain(sqs, dlq_url, 1)[0]
    assert json.loads(message["Body"]) == {"key": "value"}
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"] == {"StringValue": request_id, "DataType": "String"}
    assert attributes["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attributes["ErrorMessage"] == {
        "StringValue": "Test exception (this is intentional)",
        "DataType": "String",
    }


def test_zero_reserved_concurrency_fails_without_running(async_server: LiveServer) -> None:
    client, sqs = async_server.client(), async_server.client("sqs")
    runs_url, _ = queue(sqs)
    dest_url, dest_arn = queue(sqs)
    name = reporter(client, "ok", runs_url)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": dest_arn}}
    )
    request_id = invoke_event(client, name, {"a": 1})
    record = json.loads(drain(sqs, dest_url, 1)[0]["Body"])
    assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestContext"]["requestId"] == request_id
    assert "responseContext" not in record and "responsePayload" not in record
    assert drain(sqs, runs_url, 1, timeout=1) == []


def test_lambda_destination_receives_the_record(async_server: LiveServer) -> None:
    client, sqs = async_server.client(), async_server.client("sqs")
    runs_url, _ = queue(sqs)
    target = reporter(client, "ok", runs_url)
    source = reporter(client, "ok")
    target_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{target}"
    client.put_function_event_invoke_config(
        FunctionName=source, DestinationConfig={"OnSuccess": {"Destination": target_arn}}
    )
    request_id = invoke_event(client, source, {"hop": 1})
    run = json.loads(drain(sqs, runs_url, 1)[0]["Body"])
    assert run["event"]["requestContext"]["requestId"] == request_id
    assert run["event"]["responsePayload"] == {"echo": {"hop": 1}}


def test_acceptance_errors(async_server: LiveServer) -> None:
    client = async_server.client()
    name = reporter(client, "ok")
    with pytest.raises(ClientError) as too_big:
        client.invoke(
            FunctionName=name, InvocationType="Event", Payload=b'"' + b"x" * 1_048_600 + b'"'
        )
    assert error_of(too_big) == (
        "RequestEntityTooLargeException",
        "1048602 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
        413,
    )
    with pytest.raises(ClientError) as not_json:
        client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{nope")
    assert error_of(not_json)[0] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="nothing-here", InvocationType="Event", Payload=b"{}")
    assert error_of(missing)[0::2] == ("ResourceNotFoundException", 404)


def test_legacy_invoke_async(async_server: LiveServer) -> None:
    client, sqs = async_server.client(), async_server.client("sqs")
    runs_url, _ = queue(sqs)
    name = reporter(client, "ok", runs_url)
    response = client.invoke_async(FunctionName=name, InvokeArgs=b'{"legacy": true}')
    assert response["Status"] == 202
    run = json.loads(drain(sqs, runs_url, 1)[0]["Body"])
    assert run["event"] == {"legacy": True}


def test_outcomes_are_recorded(async_server: LiveServer) -> None:
    client = async_server.client()
    name = reporter(client, "ok")
    request_id = invoke_event(client, name, {})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{async_server.url}/_lamina/async-events") as response:
            events = {e["requestId"]: e for e in json.loads(response.read())["events"]}
        if events.get(request_id, {}).get("delivered"):
            break
        time.sleep(0.1)
    assert events[request_id]["outcome"] == "Success" and events[request_id]["attempts"] == 1
