"""The CloudWatch Logs read API against a live server: shapes, tokens, errors, filter
patterns, retention, Lambda-created groups, and Debian's AWS CLI v2."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.logs.conftest import LogsServer
from tests.support import functions


def _group(logs: Any, *streams: str) -> str:
    name = f"/test/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=name)
    for stream in streams:
        logs.create_log_stream(logGroupName=name, logStreamName=stream)
    return name


def _put(logs: Any, group: str, stream: str, messages: list[str], at: int | None = None) -> None:
    base = at if at is not None else int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": base + i, "message": m} for i, m in enumerate(messages)],
    )


def _code(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_groups_shapes_and_errors(logs: Any) -> None:
    group = _group(logs)
    with pytest.raises(ClientError) as caught:
        logs.create_log_group(logGroupName=group)
    assert _code(caught) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    )
    [listed] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert listed["logGroupName"] == group and listed["storedBytes"] == 0
    assert listed["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    assert listed["logGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    assert "retentionInDays" not in listed and listed["creationTime"] > 0
    others = [_group(logs) for _ in range(3)]
    first = logs.describe_log_groups(logGroupNamePrefix="/test/", limit=2)
    assert len(first["logGroups"]) == 2 and "nextToken" in first
    names = [g["logGroupName"] for g in first["logGroups"]]
    token: str | None = first["nextToken"]
    while token:
        page = logs.describe_log_groups(logGroupNamePrefix="/test/", limit=2, nextToken=token)
        names += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
    assert names == sorted(names) and {group, *others} <= set(names)
    with pytest.raises(ClientError) as caught:
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    assert _code(caught)[0] == "InvalidParameterException"
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    [listed] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert listed["retentionInDays"] == 7
    logs.delete_log_group(logGroupName=group)
    for call in (
        lambda: logs.delete_log_group(logGroupName=group),
        lambda: logs.get_log_events(logGroupName=group, logStreamName="s"),
        lambda: logs.describe_log_streams(logGroupName=group),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert _code(caught) == (
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        )


def test_streams_ordering_and_delete(logs: Any) -> None:
    group = _group(logs, "b-stream", "a-stream", "c-stream")
    _put(logs, group, "c-stream", ["old"], int(time.time() * 1000) - 5000)
    _put(logs, group, "a-stream", ["new"])
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["a-stream", "b-stream", "c-stream"]
    assert by_name[0]["arn"].endswith(f"log-group:{group}:log-stream:a-stream")
    latest = logs.describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True, limit=2
    )
    assert [s["logStreamName"] for s in latest["logStreams"]] == ["a-stream", "c-stream"]
    assert latest["nextToken"]
    with pytest.raises(ClientError) as caught:
        logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a"
        )
    assert _code(caught)[0] == "InvalidParameterException"
    logs.delete_log_stream(logGroupName=group, logStreamName="a-stream")
    with pytest.raises(ClientError) as caught:
        logs.delete_log_stream(logGroupName=group, logStreamName="a-stream")
    assert _code(caught) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


def test_get_log_events_tokens(logs: Any) -> None:
    group = _group(logs, "s")
    _put(logs, group, "s", [f"line {i}" for i in range(5)])
    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=2)
    assert [e["message"] for e in tail["events"]] == ["line 3", "line 4"]
    assert set(tail["events"][0]) == {"timestamp", "message", "ingestionTime"}
    assert tail["nextForwardToken"].startswith("f/") and tail["nextBackwardToken"].startswith("b/")
    back = logs.get_log_events(
        logGroupName=group, logStreamName="s", limit=2, nextToken=tail["nextBackwardToken"]
    )
    assert [e["message"] for e in back["events"]] == ["line 1", "line 2"]
    head = logs.get_log_events(logGroupName=group, logStreamName="s", limit=3, startFromHead=True)
    assert [e["message"] for e in head["events"]] == ["line 0", "line 1", "line 2"]
    rest = logs.get_log_events(
        logGroupName=group, logStreamName="s", nextToken=head["nextForwardToken"]
    )
    assert [e["message"] for e in rest["events"]] == ["line 3", "line 4"]
    end = logs.get_log_events(
        logGroupName=group, logStreamName="s", nextToken=rest["nextForwardToken"]
    )
    assert end["events"] == [] and end["nextForwardToken"] == rest["nextForwardToken"]
    _put(logs, group, "s", ["line 5"])
    more = logs.get_log_events(
        logGroupName=group, logStreamName="s", nextToken=end["nextForwardToken"]
    )
    assert [e["message"] for e in more["events"]] == ["line 5"]
    with pytest.raises(ClientError) as caught:
        logs.get_log_events(logGroupName=group, logStreamName="s", nextToken="nonsense")
    assert _code(caught)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        logs.get_log_events(logGroupName=group, logStreamName="missing")
    assert _code(caught) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


def test_filter_log_events_patterns(logs: Any) -> None:
    group = _group(logs, "one", "two")
    _put(logs, group, "one", ["[ERROR] boom happened", "[INFO] all good", "Task timed out"])
    _put(
        logs,
        group,
        "two",
        [
            json.dumps({"level": "ERROR", "n": 5}),
            json.dumps({"level": "INFO", "n": 1}),
            "[ERROR] ignored here",
        ],
    )

    def messages(pattern: str, **extra: Any) -> list[str]:
        result = logs.filter_log_events(logGroupName=group, filterPattern=pattern, **extra)
        return [e["message"] for e in result["events"]]

    assert messages("ERROR") == [
        "[ERROR] boom happened",
        '{"level": "ERROR", "n": 5}',
        "[ERROR] ignored here",
    ]
    assert messages('"timed out"') == ["Task timed out"]
    assert messages("ERROR -ignored -level") == ["[ERROR] boom happened"]
    assert messages("?good ?timed") == ["[INFO] all good", "Task timed out"]
    assert messages('{ $.level = "ERROR" }') == ['{"level": "ERROR", "n": 5}']
    assert messages("{ $.n > 2 || $.level = INF* }") == [
        '{"level": "ERROR", "n": 5}',
        '{"level": "INFO", "n": 1}',
    ]
    assert messages("ERROR", logStreamNames=["one"]) == ["[ERROR] boom happened"]
    full = logs.filter_log_events(logGroupName=group, limit=2)
    assert len(full["events"]) == 2 and full["nextToken"]
    event = full["events"][0]
    assert set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    page = logs.filter_log_events(logGroupName=group, limit=10, nextToken=full["nextToken"])
    assert len(page["events"]) == 4 and "nextToken" not in page
    with pytest.raises(ClientError) as caught:
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.level = }")
    assert _code(caught)[0] == "InvalidParameterException"


def test_retention_hides_and_deletes_expired_events(logs: Any) -> None:
    group = _group(logs, "s")
    now = int(time.time() * 1000)
    _put(logs, group, "s", ["three days old"], now - 3 * 86_400_000)
    _put(logs, group, "s", ["fresh"], now)
    assert len(logs.filter_log_events(logGroupName=group)["events"]) == 2
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    kept = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert [e["message"] for e in kept["events"]] == ["fresh"]
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]] == ["fresh"]
    logs.delete_retention_policy(logGroupName=group)
    assert len(logs.filter_log_events(logGroupName=group)["events"]) == 1  # deleted for good


def test_lambda_creates_its_group(logs_server: LogsServer, logs: Any) -> None:
    client = logs_server.client()
    name = functions.unique()
    functions.create(client, name)
    client.invoke(FunctionName=name, Payload=b'{"x": 1}')
    group = f"/aws/lambda/{name}"
    deadline = time.monotonic() + 5
    while not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [stream] = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert "/[$LATEST]" in stream["logStreamName"]
    events = logs.get_log_events(
        logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
    )["events"]
    texts = [e["message"] for e in events]
    assert any(t.startswith("START RequestId:") for t in texts)
    assert any(t.startswith("REPORT RequestId:") for t in texts)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    base = ["/usr/bin/aws", "--endpoint-url", logs_server.url, "logs"]
    if not os.path.exists(base[0]):
        pytest.skip("Debian's AWS CLI v2 missing")
    got = json.loads(
        subprocess.run(
            [
                *base,
                "get-log-events",
                "--log-group-name",
                group,
                "--log-stream-name",
                stream["logStreamName"],
                "--start-from-head",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        ).stdout
    )
    assert [e["message"] for e in got["events"]] == texts
    found = json.loads(
        subprocess.run(
            [*base, "filter-log-events", "--log-group-name", group, "--filter-pattern", "REPORT"],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        ).stdout
    )
    assert len(found["events"]) == 1 and found["events"][0]["message"].startswith("REPORT")
