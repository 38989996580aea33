"""Message operations through boto3 against a real server process."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.sqs.test_queues import error_of

# MD5s AWS returned for these messages (recorded against real SQS).
RECORDED_BODY_MD5 = {
    "msg": "6e2baaf3b97dbeef01c0043275f9a0e7",
    "test": "098f6bcd4621d373cade4e832627b4f6",
}
THREE = {
    "Hello": {"DataType": "String", "StringValue": "There"},
    "General": {"DataType": "String", "StringValue": "Kenobi"},
    "Help.Me": {"DataType": "String", "StringValue": "Me"},
}


def new_queue(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def test_send_receive_md5s_match_aws(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="msg",
        MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}},
    )
    assert sent["MD5OfMessageBody"] == RECORDED_BODY_MD5["msg"]
    assert sent["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    sent = sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes=THREE)
    assert sent["MD5OfMessageAttributes"] == "4c360f3fdafd970e05fae2f149d997f5"
    first = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert first["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    assert first["MessageAttributes"] == {"Foo": {"DataType": "String", "StringValue": "Bar"}}


@pytest.mark.parametrize(
    ("names", "expected", "md5"),
    [
        (["All"], ["General", "Hello", "Help.Me"], "4c360f3fdafd970e05fae2f149d997f5"),
        ([".*"], ["General", "Hello", "Help.Me"], "4c360f3fdafd970e05fae2f149d997f5"),
        (["Hello", "General"], ["General", "Hello"], "fca026605781cb4126a1e9044df24232"),
        (["Hello", "Nope"], ["Hello"], "a311262e065454b75da111d535b8dacd"),
        (["Hel.*"], ["Hello", "Help.Me"], "83fee93c1bcd8b9a5a923ffacdc636c7"),
        (["Nope"], [], None),
    ],
)
def test_message_attribute_filters(
    sqs: Any, queue_name: str, names: list[str], expected: list[str], md5: str | None
) -> None:
    url = new_queue(sqs, queue_name)
    sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes=THREE)
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=names)["Messages"][0]
    assert sorted(message.get("MessageAttributes", {})) == expected
    assert message.get("MD5OfMessageAttributes") == md5


def test_binary_and_system_attributes(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    sqs.send_message(
        QueueUrl=url,
        MessageBody="test",
        MessageAttributes={"b": {"DataType": "Binary", "BinaryValue": b"\x00\x01raw"}},
        MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}
        },
    )
    message = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"][0]
    assert message["MD5OfBody"] == RECORDED_BODY_MD5["test"]
    assert message["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\x01raw"
    system = message["Attributes"]
    assert system["AWSTraceHeader"] == "Root=1-abc"
    assert system["ApproximateReceiveCount"] == "1"
    assert system["SenderId"] == "000000000000"
    assert abs(int(system["SentTimestamp"]) / 1000 - time.time()) < 60
    assert int(system["ApproximateFirstReceiveTimestamp"]) >= int(system["SentTimestamp"])
    only = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, AttributeNames=["SenderId"])
    assert only.get("Messages") is None or set(only["Messages"][0]["Attributes"]) == {"SenderId"}


def test_long_poll_returns_when_a_message_arrives(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    timer = threading.Timer(0.5, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    started = time.monotonic()
    timer.start()
    try:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in messages] == ["late"]
    assert 0.4 < elapsed < 3


def test_long_poll_times_out_empty(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 < time.monotonic() - started < 3


def test_visibility_timeout_and_receipt_handles(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, AttributeNames=["All"])
    old = first["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    hidden = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert hidden["ApproximateNumberOfMessagesNotVisible"] == "1"
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3, AttributeNames=["All"])
    new = again["Messages"][0]
    assert new["MessageId"] == old["MessageId"]
    assert new["Attributes"]["ApproximateReceiveCount"] == "2"
    assert new["ReceiptHandle"] != old["ReceiptHandle"]
    # An outdated handle deletes nothing on a standard queue, and says nothing either.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=new["ReceiptHandle"], VisibilityTimeout=0
    )
    third = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])  # idempotent
    assert "Messages" not in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as excinfo:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert error_of(excinfo) == (
        "ReceiptHandleIsInvalid",
        'The input receipt handle "garbage" is not a valid receipt handle.',
    )


def test_delay_seconds(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)["Messages"][0]["Body"] == "later"


def test_receive_parameter_errors(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert error_of(excinfo) == (
        "InvalidParameterValue",
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and"
        " 10, if provided.",
    )
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1024, DelaySeconds=1000)
    assert error_of(excinfo)[0] == "InvalidParameterValue"


def test_oversized_message(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name, MaximumMessageSize="1024")
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert error_of(excinfo) == (
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
    )


def test_redrive_to_dead_letter_queue(sqs: Any, queue_name: str) -> None:
    dlq = new_queue(sqs, f"{queue_name}-dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url = new_queue(sqs, queue_name, RedrivePolicy=policy)
    source_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(2):
        assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    moved = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert moved["MessageId"] == sent["MessageId"]
    assert moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == source_arn
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    assert sources == [url]


def test_fifo_order_groups_and_deduplication(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, f"{queue_name}.fifo", FifoQueue="true")
    sequence = []
    for group, body in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2")]:
        sent = sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body
        )
        sequence.append(int(sent["SequenceNumber"]))
    assert sequence == sorted(sequence)
    duplicate = sqs.send_message(
        QueueUrl=url, MessageBody="other", MessageGroupId="a", MessageDeduplicationId="a1"
    )
    assert int(duplicate["SequenceNumber"]) == sequence[0]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])
    first = got["Messages"][0]
    assert first["Body"] == "a1"
    assert first["Attributes"]["MessageGroupId"] == "a"
    assert first["Attributes"]["MessageDeduplicationId"] == "a1"
    assert first["Attributes"]["SequenceNumber"] == str(sequence[0])
    # Group "a" is blocked while a1 is in flight: only group b comes out, in order.
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["b1", "b2"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["a2"]


def test_fifo_rules(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, f"{queue_name}.fifo", FifoQueue="true")
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error_of(excinfo) == (
        "MissingParameter",
        "The request must contain the parameter MessageGroupId.",
    )
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert error_of(excinfo) == (
        "InvalidParameterValue",
        "The queue should either have ContentBasedDeduplication enabled or"
        " MessageDeduplicationId provided explicitly",
    )
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageGroupId="g",
            MessageDeduplicationId="d",
            DelaySeconds=2,
        )
    assert error_of(excinfo) == (
        "InvalidParameterValue",
        "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter"
        " that is not valid for this queue type.",
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    one = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    two = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert one["MessageId"] == two["MessageId"]
    listed = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert len(listed["Messages"]) == 1
    # After the visibility timeout passes, a FIFO receipt handle has expired.
    got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=1)["Messages"]
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert error_of(excinfo)[1].endswith("Reason: The receipt handle has expired.")


def test_batches(sqs: Any, queue_name: str) -> None:
    url = new_queue(sqs, queue_name)
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok1", "MessageBody": "one"},
            {"Id": "bad", "MessageBody": "two", "DelaySeconds": 5000},
            {"Id": "ok2", "MessageBody": "msg", "MessageAttributes": THREE},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["ok1", "ok2"]
    assert result["Successful"][1]["MD5OfMessageAttributes"] == "4c360f3fdafd970e05fae2f149d997f5"
    assert result["Failed"][0]["Id"] == "bad"
    assert result["Failed"][0]["Code"] == "InvalidParameterValue"
    assert result["Failed"][0]["SenderFault"] is True
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in messages) == ["msg", "one"]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "b", "ReceiptHandle": "junk", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "x", "ReceiptHandle": messages[1]["ReceiptHandle"]},
            {"Id": "y", "ReceiptHandle": "junk"},
        ],
    )
    assert [e["Id"] for e in deleted["Successful"]] == ["x"]
    assert deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"


@pytest.mark.parametrize(
    ("entries", "code", "message"),
    [
        (
            [],
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one SendMessageBatchRequestEntry in the request.",
        ),
        (
            [{"Id": str(i), "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "Maximum number of entries per request are 10. You have sent 11.",
        ),
        (
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "Id a repeated.",
        ),
        (
            [{"Id": "bad:id", "MessageBody": "x"}],
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores."
            " It can be at most 80 letters long.",
        ),
    ],
)
def test_batch_request_errors(
    sqs: Any, queue_name: str, entries: list[dict[str, str]], code: str, message: str
) -> None:
    url = new_queue(sqs, queue_name)
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert error_of(excinfo) == (code, message)
