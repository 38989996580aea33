"""Durability across kill -9, the query protocol, and Debian's AWS CLI v2 (query-era botocore)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.services.sqs.conftest import SqsServer


def test_nothing_is_lost_after_sigkill(tmp_path: Path) -> None:
    server = SqsServer(tmp_path / "data").start()
    try:
        client = server.client()
        url = client.create_queue(QueueName="durable")["QueueUrl"]
        ids = {
            client.send_message(QueueUrl=url, MessageBody=f"m{i}")["MessageId"] for i in range(30)
        }
        taken = client.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=2)
        assert len(taken["Messages"]) == 5
        client.close()
    finally:
        server.stop(signal.SIGKILL)
    restarted = SqsServer(tmp_path / "data")
    restarted.port = server.port
    restarted.start()
    try:
        client = restarted.client()
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (
            int(attributes["ApproximateNumberOfMessages"])
            + int(attributes["ApproximateNumberOfMessagesNotVisible"])
            == 30
        )
        seen: set[str] = set()
        deadline = time.monotonic() + 10
        while len(seen) < 30 and time.monotonic() < deadline:
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in got.get("Messages", []):
                seen.add(message["MessageId"])
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert seen == ids
        client.close()
    finally:
        restarted.stop()


def test_query_protocol_error_shape(sqs_server: SqsServer) -> None:
    request = urllib.request.Request(
        sqs_server.url,
        data=b"Action=GetQueueUrl&QueueName=absent&Version=2012-11-05",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    with excinfo.value as response:
        body = response.read().decode()
    assert excinfo.value.code == 400
    assert "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in body
    assert "<Type>Sender</Type>" in body
    assert "The specified queue does not exist for this wsdl version." in body


AWS_CLI = "/usr/bin/aws"


@pytest.mark.skipif(shutil.which(AWS_CLI) is None, reason="apt-get install -y awscli")
def test_debian_aws_cli(sqs_server: SqsServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }

    def aws(*args: str) -> str:
        done = subprocess.run(
            [AWS_CLI, "--endpoint-url", sqs_server.url, "--output", "text", "sqs", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    url = aws("create-queue", "--queue-name", "cli-queue", "--attributes", "VisibilityTimeout=7")
    assert url == f"{sqs_server.url}/000000000000/cli-queue"
    aws(
        "send-message",
        "--queue-url",
        url,
        "--message-body",
        "hello from the cli",
        "--message-attributes",
        '{"k":{"DataType":"String","StringValue":"v"}}',
    )
    out = aws(
        "receive-message",
        "--queue-url",
        url,
        "--message-attribute-names",
        "All",
        "--attribute-names",
        "All",
        "--query",
        "Messages[0].[Body,MessageAttributes.k.StringValue,Attributes.ApproximateReceiveCount]",
    )
    assert out.split("\t") == ["hello from the cli", "v", "1"]
    assert (
        aws(
            "get-queue-attributes",
            "--queue-url",
            url,
            "--attribute-names",
            "VisibilityTimeout",
            "--query",
            "Attributes.VisibilityTimeout",
        )
        == "7"
    )
