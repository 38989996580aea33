"""Event source mapping API: recorded AWS scenarios replayed, validation, states, durability."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.functions import create, unique
from tests.support.recorded import Replay
from tests.support.server import LiveServer


def new_queue(sqs: Any, **attributes: str) -> tuple[str, str]:
    name = unique("q") + (".fifo" if attributes.get("FifoQueue") == "true" else "")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def wait_state(client: Any, uuid: str, state: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            mapping: dict[str, Any] = client.get_event_source_mapping(UUID=uuid)
        except ClientError as error:
            if state == "gone" and error.response["Error"]["Code"] == "ResourceNotFoundException":
                return {}
            raise
        if mapping["State"] == state or time.monotonic() > deadline:
            assert mapping["State"] == state
            return mapping
        time.sleep(0.05)


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_function_name_variations_match_aws(server: LiveServer) -> None:
    c, sqs = server.client(), server.client("sqs")
    name = str(create(c)["FunctionName"])
    c.publish_version(FunctionName=name)
    c.create_alias(FunctionName=name, Name="myalias", FunctionVersion="1")
    _, queue_arn = new_queue(sqs)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    replay = Replay("TestLambdaEventSourceMappings::test_function_name_variations")
    for key, function_name in {
        "name_only_create_esm": name,
        "partial_arn_latest_create_esm": f"{name}:$LATEST",
        "partial_arn_version_create_esm": f"{name}:1",
        "partial_arn_alias_create_esm": f"{name}:myalias",
        "full_arn_latest_create_esm": arn,
        "full_arn_version_create_esm": f"{arn}:1",
        "full_arn_alias_create_esm": f"{arn}:myalias",
    }.items():
        created = replay.check(
            key,
            lambda fn=function_name: c.create_event_source_mapping(
                EventSourceArn=queue_arn, FunctionName=fn
            ),
        )
        wait_state(c, created["UUID"], "Enabled")
        c.delete_event_source_mapping(UUID=created["UUID"])
        wait_state(c, created["UUID"], "gone")
    replay.assert_complete()


def test_errors_match_aws(server: LiveServer) -> None:
    c, sqs = server.client(validate=False), server.client("sqs")
    name = str(create(c)["FunctionName"])
    _, queue_arn = new_queue(sqs)
    missing = "00000000-0000-0000-0000-000000000000"
    replay = Replay("TestLambdaEventSourceMappings::test_event_source_mapping_exceptions")
    replay.check("get_unknown_uuid", lambda: c.get_event_source_mapping(UUID=missing))
    replay.check("delete_unknown_uuid", lambda: c.delete_event_source_mapping(UUID=missing))
    replay.check(
        "update_unknown_uuid",
        lambda: c.update_event_source_mapping(UUID=missing, FunctionName=name),
    )
    replay.check(
        "create_no_event_source_arn", lambda: c.create_event_source_mapping(FunctionName=name)
    )
    replay.check(
        "create_unknown_params",
        lambda: c.create_event_source_mapping(
            FunctionName="doesnotexist", EventSourceArn=queue_arn
        ),
    )
    replay.check(
        "destination_config_failure",
        lambda: c.create_event_source_mapping(
            FunctionName=name,
            EventSourceArn=queue_arn,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        ),
    )
    replay.assert_complete()


def test_validation(server: LiveServer) -> None:
    c, sqs = server.client(validate=False), server.client("sqs")
    name = str(create(c, Timeout=60)["FunctionName"])
    short = str(create(c)["FunctionName"])
    _, arn = new_queue(sqs)
    _, long_visibility = new_queue(sqs, VisibilityTimeout="120")
    _, fifo = new_queue(sqs, FifoQueue="true", VisibilityTimeout="120")
    create_mapping = c.create_event_source_mapping
    assert error_of(lambda: create_mapping(EventSourceArn=arn, FunctionName=name)) == (
        "InvalidParameterValueException",
        "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds",
        400,
    )
    assert error_of(
        lambda: create_mapping(EventSourceArn=long_visibility, FunctionName=name, BatchSize=11)
    ) == (
        "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater"
        " than 10",
        400,
    )
    code, _, _ = error_of(
        lambda: create_mapping(
            EventSourceArn=fifo, FunctionName=name, BatchSize=11, MaximumBatchingWindowInSeconds=1
        )
    )
    assert code == "InvalidParameterValueException"
    gone = arn + "-missing"
    assert error_of(lambda: create_mapping(EventSourceArn=gone, FunctionName=short)) == (
        "InvalidParameterValueException",
        "Error occurred while ReceiveMessage. SQS Error Code:"
        " AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does"
        " not exist.",
        400,
    )
    kinesis = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    code, message, _ = error_of(lambda: create_mapping(EventSourceArn=kinesis, FunctionName=short))
    assert code == "InvalidParameterValueException" and "SQS event sources only" in message
    for pattern in ("not json", '{"body": "not-a-list"}', '{"a": [{"nope": 1}]}'):
        assert error_of(
            lambda p=pattern: create_mapping(
                EventSourceArn=arn, FunctionName=short, FilterCriteria={"Filters": [{"Pattern": p}]}
            )
        ) == ("InvalidParameterValueException", "Invalid filter pattern definition.", 400)
    code, message, _ = error_of(
        lambda: create_mapping(
            EventSourceArn=arn, FunctionName=short, ScalingConfig={"MaximumConcurrency": 1}
        )
    )
    assert code == "ValidationException" and "greater than or equal to 2" in message
    first = create_mapping(EventSourceArn=arn, FunctionName=short)
    assert error_of(lambda: create_mapping(EventSourceArn=arn, FunctionName=short)) == (
        "ResourceConflictException",
        f'An event source mapping with SQS arn (" {arn} ") and function (" {short} ") already'
        f" exists. Please update or delete the existing mapping with UUID {first['UUID']}",
        409,
    )
    c.delete_event_source_mapping(UUID=first["UUID"])


def test_states_updates_and_listing(server: LiveServer) -> None:
    c, sqs = server.client(), server.client("sqs")
    name = str(create(c)["FunctionName"])
    other = str(create(c)["FunctionName"])
    _, arn = new_queue(sqs)
    _, arn2 = new_queue(sqs)
    created = c.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        Enabled=False,
        BatchSize=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"kind": ["a"]}}'}]},
        ScalingConfig={"MaximumConcurrency": 3},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    uuid = created["UUID"]
    disabled = wait_state(c, uuid, "Disabled")
    assert disabled["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert disabled["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"kind": ["a"]}}'}]}
    assert disabled["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert disabled["StateTransitionReason"] == "USER_INITIATED"
    enabling = c.update_event_source_mapping(UUID=uuid, Enabled=True, BatchSize=7)
    assert enabling["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (enabling["State"], enabling["BatchSize"]) == ("Enabling", 7)
    wait_state(c, uuid, "Enabled")
    updating = c.update_event_source_mapping(UUID=uuid, FilterCriteria={"Filters": []})
    assert updating["State"] == "Updating" and "FilterCriteria" not in updating
    wait_state(c, uuid, "Enabled")
    second = c.create_event_source_mapping(EventSourceArn=arn2, FunctionName=name)
    third = c.create_event_source_mapping(EventSourceArn=arn, FunctionName=other)

    def uuids(**filters: Any) -> list[str]:
        return [m["UUID"] for m in c.list_event_source_mappings(**filters)["EventSourceMappings"]]

    assert uuids(FunctionName=name) == [uuid, second["UUID"]]
    assert uuids(EventSourceArn=arn) == [uuid, third["UUID"]]
    assert uuids(EventSourceArn=arn, FunctionName=other) == [third["UUID"]]
    page = c.list_event_source_mappings(FunctionName=name, MaxItems=1)
    assert [m["UUID"] for m in page["EventSourceMappings"]] == [uuid]
    rest = c.list_event_source_mappings(FunctionName=name, Marker=page["NextMarker"])
    assert [m["UUID"] for m in rest["EventSourceMappings"]] == [second["UUID"]]
    deleting = c.delete_event_source_mapping(UUID=uuid)
    assert deleting["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleting["State"] == "Deleting"
    wait_state(c, uuid, "gone")
    # Deleting the function leaves its mappings, as on AWS.
    c.delete_function(FunctionName=other)
    assert c.get_event_source_mapping(UUID=third["UUID"])["FunctionArn"].endswith(other)
    for leftover in (second["UUID"], third["UUID"]):
        c.delete_event_source_mapping(UUID=leftover)


def test_mappings_survive_a_restart(fresh_server: LiveServer) -> None:
    live = fresh_server.start()
    c, sqs = live.client(), live.client("sqs")
    name = str(create(c)["FunctionName"])
    url, arn = new_queue(sqs)
    uuid = c.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    wait_state(c, uuid, "Enabled")
    live.stop()
    live.start()
    c, sqs = live.client(), live.client("sqs")
    assert c.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    sqs.send_message(QueueUrl=url, MessageBody="after restart")
    mapping = wait_state(c, uuid, "Enabled")
    deadline = time.monotonic() + 10
    while mapping.get("LastProcessingResult") != "OK" and time.monotonic() < deadline:
        time.sleep(0.1)
        mapping = c.get_event_source_mapping(UUID=uuid)
    assert mapping["LastProcessingResult"] == "OK"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
