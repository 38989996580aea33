"""Queue operations through boto3 (AWS JSON 1.0) against a real server process."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.sqs.conftest import SqsServer


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_create_get_url_and_delete(sqs: Any, sqs_server: SqsServer, queue_name: str) -> None:
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    assert url == f"{sqs_server.url}/000000000000/{queue_name}"
    assert sqs.get_queue_url(QueueName=queue_name)["QueueUrl"] == url
    assert sqs.create_queue(QueueName=queue_name)["QueueUrl"] == url  # idempotent
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=queue_name)


def test_missing_queue_error_is_awss(sqs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl="http://example.com/000000000000/absent", MessageBody="x")
    response = excinfo.value.response
    assert response["Error"] == {
        "Code": "AWS.SimpleQueueService.NonExistentQueue",
        "Message": "The specified queue does not exist.",
        "QueryErrorCode": "QueueDoesNotExist",
        "Type": "Sender",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert isinstance(excinfo.value, sqs.exceptions.QueueDoesNotExist)


def test_queue_url_with_any_host_is_accepted(sqs: Any, queue_name: str) -> None:
    sqs.create_queue(QueueName=queue_name)
    foreign = f"https://sqs.us-east-1.amazonaws.com/000000000000/{queue_name}"
    assert "MessageId" in sqs.send_message(QueueUrl=foreign, MessageBody="x")


def test_create_with_different_attributes_conflicts(sqs: Any, queue_name: str) -> None:
    sqs.create_queue(QueueName=queue_name, Attributes={"DelaySeconds": "1"})
    sqs.create_queue(QueueName=queue_name, Attributes={"DelaySeconds": "1"})
    with pytest.raises(sqs.exceptions.QueueNameExists) as excinfo:
        sqs.create_queue(QueueName=queue_name, Attributes={"DelaySeconds": "2"})
    assert error_of(excinfo) == (
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute"
        " DelaySeconds",
    )


def test_list_queues_prefix_and_pages(sqs: Any, queue_name: str) -> None:
    urls = [sqs.create_queue(QueueName=f"{queue_name}-{i}")["QueueUrl"] for i in range(5)]
    assert sqs.list_queues(QueueNamePrefix=queue_name)["QueueUrls"] == urls
    first = sqs.list_queues(QueueNamePrefix=queue_name, MaxResults=2)
    assert first["QueueUrls"] == urls[:2]
    rest = sqs.list_queues(QueueNamePrefix=queue_name, MaxResults=10, NextToken=first["NextToken"])
    assert rest["QueueUrls"] == urls[2:]
    assert "NextToken" not in rest
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="no-such-prefix")


def test_attributes_all_and_by_name(sqs: Any, queue_name: str) -> None:
    url = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "20"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{queue_name}"
    assert attributes["VisibilityTimeout"] == "20"
    for name, value in {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
    }.items():
        assert attributes[name] == value
    assert abs(int(attributes["CreatedTimestamp"]) - time.time()) < 60
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "3"})
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])
    assert only["Attributes"] == {"DelaySeconds": "3"}
    with pytest.raises(ClientError) as excinfo:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    assert error_of(excinfo) == ("InvalidAttributeName", "Unknown Attribute Bogus.")
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "99999"})
    assert error_of(excinfo) == (
        "InvalidAttributeValue",
        "Invalid value for the parameter VisibilityTimeout.",
    )


def test_fifo_queue_names(sqs: Any, queue_name: str) -> None:
    url = sqs.create_queue(QueueName=f"{queue_name}.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=queue_name, Attributes={"FifoQueue": "true"})
    assert error_of(excinfo)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName="bad name!")
    assert error_of(excinfo) == (
        "InvalidParameterValue",
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    )


def test_tags(sqs: Any, queue_name: str) -> None:
    url = sqs.create_queue(QueueName=queue_name, tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}


def test_purge(sqs: Any, queue_name: str) -> None:
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert counts["Attributes"] == {"ApproximateNumberOfMessages": "0"}
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as excinfo:
        sqs.purge_queue(QueueUrl=url)
    assert error_of(excinfo) == (
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        f"Only one PurgeQueue operation on {queue_name} is allowed every 60 seconds.",
    )


def test_redrive_policy_validation(sqs: Any, queue_name: str) -> None:
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    policy = '{"deadLetterTargetArn": "dummy", "maxReceiveCount": 42}'
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
    assert error_of(excinfo) == (
        "InvalidParameterValue",
        f"Value {policy} for parameter RedrivePolicy is invalid. Reason: Invalid value for"
        " deadLetterTargetArn.",
    )
