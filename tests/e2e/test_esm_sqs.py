"""SQS event source mappings end to end: a real server polls its own queues and invokes
functions that report every event they get to another queue through Lamina's SQS endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.test_async import drain
from tests.contract.test_event_source_mappings import new_queue, wait_state
from tests.support.functions import create, zip_of
from tests.support.server import LiveServer

REPORTER = """
import json, os, boto3
sqs = boto3.client("sqs")

def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["OUT"], MessageBody=json.dumps(
        {"event": event, "trace": os.environ.get("_X_AMZN_TRACE_ID")}))
    mode = os.environ["MODE"]
    if mode == "fail":
        raise Exception("Test exception (this is intentional)")
    if mode == "partial":
        return {"batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r in event["Records"]
            if r["body"].startswith("fail")]}
    if mode == "bogus":
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-of-this-batch"}]}
    if mode == "empty":
        return {}
    return None
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("esm") / "data")
    yield server.start()
    server.stop()


def reporter(client: Any, out_url: str, mode: str, **overrides: Any) -> str:
    return str(
        create(
            client,
            Code={"ZipFile": zip_of({"handler.py": REPORTER})},
            Environment={"Variables": {"OUT": out_url, "MODE": mode}},
            **overrides,
        )["FunctionName"]
    )


def records_of(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for run in runs for r in json.loads(run["Body"])["event"]["Records"]]


def drain_records(sqs: Any, out_url: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The records of reported invocations, until `count` arrived or the time is up."""
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        records += records_of(drain(sqs, out_url, 1, timeout=1))
    return records


def counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def with_dlq(sqs: Any, max_receive_count: int = 2) -> tuple[str, str, str]:
    dlq_url, dlq_arn = new_queue(sqs)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
    url, arn = new_queue(sqs, VisibilityTimeout="2", RedrivePolicy=redrive)
    return url, arn, dlq_url


def test_event_shape_filters_and_trace_header(live: LiveServer) -> None:
    c, sqs = live.client(), live.client("sqs")
    out_url, _ = new_queue(sqs)
    url, arn = new_queue(sqs)
    name = reporter(c, out_url, "ok")
    patterns = [
        '{"body": {"kind": ["keep"]}}',
        '{"messageAttributes": {"Color": {"stringValue": [{"prefix": "bl"}]}}}',
    ]
    uuid = c.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        BatchSize=1,
        FilterCriteria={"Filters": [{"Pattern": p} for p in patterns]},
    )["UUID"]
    wait_state(c, uuid, "Enabled")
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"kind": "keep"}),
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "drop"}))
    sqs.send_message(
        QueueUrl=url,
        MessageBody="plain text",
        MessageAttributes={"Color": {"DataType": "String", "StringValue": "blue"}},
    )
    sqs.send_message(QueueUrl=url, MessageBody="plain, no attributes")
    runs = drain(sqs, out_url, 2)
    time.sleep(0.5)
    runs += drain(sqs, out_url, 1, timeout=0.5)
    assert len(runs) == 2, "non-matching messages are not delivered"
    assert counts(sqs, url) == (0, 0), "non-matching messages are deleted"
    by_body = {r["body"]: (r, json.loads(run["Body"])) for run in runs for r in records_of([run])}
    kept, report = by_body[json.dumps({"kind": "keep"})]
    assert report["trace"].startswith("Root=1-5759e988-bd862e3fe1be46a994272793;")
    assert list(kept) == [
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
        "eventSource", "eventSourceARN", "awsRegion",
    ]  # fmt: skip
    assert kept["attributes"]["AWSTraceHeader"] == trace
    assert set(kept["attributes"]) == {
        "ApproximateReceiveCount", "AWSTraceHeader", "SentTimestamp", "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }  # fmt: skip
    assert kept["attributes"]["ApproximateReceiveCount"] == "1"
    assert (kept["eventSource"], kept["eventSourceARN"], kept["awsRegion"]) == (
        "aws:sqs",
        arn,
        "us-east-1",
    )
    plain, _ = by_body["plain text"]
    assert plain["messageAttributes"] == {
        "Color": {
            "stringValue": "blue",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert len(plain["md5OfMessageAttributes"]) == 32
    mapping = c.get_event_source_mapping(UUID=uuid)
    assert mapping["LastProcessingResult"] == "OK"
    c.delete_event_source_mapping(UUID=uuid)


def test_partial_failures_return_only_the_failed_messages(live: LiveServer) -> None:
    c, sqs = live.client(), live.client("sqs")
    out_url, _ = new_queue(sqs)
    url, arn, dlq_url = with_dlq(sqs)
    name = reporter(c, out_url, "partial", Timeout=2)
    bodies = ["ok-1", "fail-1", "ok-2", "fail-2"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )
    uuid = c.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    dead = drain(sqs, dlq_url, 2, timeout=20)
    assert sorted(m["Body"] for m in dead) == ["fail-1", "fail-2"]
    delivered = [r["body"] for r in drain_records(sqs, out_url, 6, timeout=2)]
    assert sorted(delivered) == ["fail-1", "fail-1", "fail-2", "fail-2", "ok-1", "ok-2"]
    assert counts(sqs, url) == (0, 0)
    c.delete_event_source_mapping(UUID=uuid)


@pytest.mark.parametrize("mode", ["fail", "bogus"])
def test_failed_batches_come_back_then_go_to_the_dlq(live: LiveServer, mode: str) -> None:
    c, sqs = live.client(), live.client("sqs")
    out_url, _ = new_queue(sqs)
    url, arn, dlq_url = with_dlq(sqs)
    name = reporter(c, out_url, mode, Timeout=2)
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": b, "MessageBody": b} for b in ("m1", "m2")]
    )
    uuid = c.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    dead = drain(sqs, dlq_url, 2, timeout=20)
    assert sorted(m["Body"] for m in dead) == ["m1", "m2"]
    records = drain_records(sqs, out_url, 4, timeout=2)
    assert sorted((r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in records) == [
        ("m1", "1"),
        ("m1", "2"),
        ("m2", "1"),
        ("m2", "2"),
    ]
    assert c.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == (
        "PROBLEM: Function call failed"
    )
    c.delete_event_source_mapping(UUID=uuid)


def test_empty_response_succeeds_and_disabled_or_throttled_mappings_do_not_deliver(
    live: LiveServer,
) -> None:
    c, sqs = live.client(), live.client("sqs")
    out_url, _ = new_queue(sqs)
    url, arn = new_queue(sqs)
    name = reporter(c, out_url, "empty")
    uuid = c.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, FunctionResponseTypes=["ReportBatchItemFailures"]
    )["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="first")
    assert len(drain(sqs, out_url, 1)) == 1
    deadline = time.monotonic() + 5
    while counts(sqs, url) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counts(sqs, url) == (0, 0)
    c.update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_state(c, uuid, "Disabled")
    sqs.send_message(QueueUrl=url, MessageBody="while disabled")
    time.sleep(1.0)
    assert counts(sqs, url) == (1, 0)
    c.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    c.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_state(c, uuid, "Enabled")
    time.sleep(1.0)
    assert counts(sqs, url) == (1, 0), "reserved concurrency 0: nothing is received or invoked"
    c.delete_function_concurrency(FunctionName=name)
    runs = drain(sqs, out_url, 1, timeout=10)
    assert [r["body"] for r in records_of(runs)] == ["while disabled"]
    c.delete_event_source_mapping(UUID=uuid)


def test_fifo_order_is_kept_per_message_group(live: LiveServer) -> None:
    c, sqs = live.client(), live.client("sqs")
    out_url, _ = new_queue(sqs)
    url, arn = new_queue(sqs, FifoQueue="true", ContentBasedDeduplication="true")
    name = reporter(c, out_url, "ok")
    for batch in range(4):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": f"{'ab'[i % 2]}-{batch * 5 + i // 2:02d}",
                    "MessageGroupId": "ab"[i % 2],
                }
                for i in range(10)
            ],
        )
    uuid = c.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=3)["UUID"]
    records = drain_records(sqs, out_url, 40)
    assert len(records) == 40
    for group in "ab":
        seen = [r["body"] for r in records if r["attributes"]["MessageGroupId"] == group]
        assert seen == sorted(seen) and len(seen) == 20
    assert "SequenceNumber" in records[0]["attributes"]
    c.delete_event_source_mapping(UUID=uuid)


def test_batch_visibility_is_stretched_past_window_and_timeout(live: LiveServer) -> None:
    """Queue visibility 1 s, function timeout 1 s, window 2 s: AWS keeps a received batch
    invisible for window + timeout + 30 s, so a failed batch does not come straight back."""
    c, sqs = live.client(), live.client("sqs")
    out_url, _ = new_queue(sqs)
    source_url, source_arn = new_queue(sqs, VisibilityTimeout="1")
    name = reporter(c, out_url, "fail", Timeout=1)
    uuid = c.create_event_source_mapping(
        EventSourceArn=source_arn, FunctionName=name, BatchSize=10, MaximumBatchingWindowInSeconds=2
    )["UUID"]
    wait_state(c, uuid, "Enabled")
    sqs.send_message(QueueUrl=source_url, MessageBody="once")
    assert len(drain_records(sqs, out_url, 1)) == 1
    time.sleep(4)  # past the queue's own 1 s timeout several times over
    assert drain_records(sqs, out_url, 1, timeout=1) == []
    assert counts(sqs, source_url) == (0, 1)
    c.delete_event_source_mapping(UUID=uuid)
