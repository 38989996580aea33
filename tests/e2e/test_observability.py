"""What users look at: logs and metrics after real invocations, through boto3 and `lamina logs`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.functions import create, zip_of
from tests.support.server import LiveServer

HANDLER = """
import json, logging, time
logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    print("handling", event["mode"])
    if event["mode"] == "error":
        raise ValueError("the error path")
    if event["mode"] == "timeout":
        time.sleep(5)
    logging.info("finished %s", event["mode"])
    return event["mode"]
"""


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = LiveServer(tmp_path_factory.mktemp("obs") / "data").start()
    client = server.client()
    name = create(client, Code={"ZipFile": zip_of({"handler.py": HANDLER})}, Timeout=1)[
        "FunctionName"
    ]
    request_ids = []
    for mode in ("success", "error", "timeout"):
        response = client.invoke(FunctionName=name, Payload=json.dumps({"mode": mode}).encode())
        request_ids.append(response["ResponseMetadata"]["RequestId"])
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError):
        client.invoke(FunctionName=name, Payload=b'{"mode": "success"}')
    client.delete_function_concurrency(FunctionName=name)
    yield server, name, request_ids
    server.stop()


def test_log_events_show_each_invocation_in_order(observed: Any) -> None:
    server, name, request_ids = observed
    logs = server.client("logs")
    group = f"/aws/lambda/{name}"
    deadline = time.monotonic() + 10
    messages: list[str] = []
    while time.monotonic() < deadline:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        messages = [
            e["message"]
            for s in sorted(streams, key=lambda s: s["firstEventTimestamp"])
            for e in logs.get_log_events(
                logGroupName=group, logStreamName=s["logStreamName"], startFromHead=True
            )["events"]
        ]
        if sum(m.startswith("REPORT") for m in messages) == 3:
            break
        time.sleep(0.2)
    for request_id in request_ids:
        start = messages.index(
            next(m for m in messages if m.startswith(f"START RequestId: {request_id}"))
        )
        end = messages.index(f"END RequestId: {request_id}")
        report = next(
            i for i, m in enumerate(messages) if m.startswith(f"REPORT RequestId: {request_id}")
        )
        assert start < end < report
    joined = "\n".join(messages)
    assert "handling success" in joined and "handling error" in joined
    assert f"{request_ids[2]} Task timed out after 1.00 seconds" in joined
    found = logs.filter_log_events(logGroupName=group, filterPattern='"the error path"')["events"]
    assert found and all("the error path" in e["message"] for e in found)


def test_metrics_match_what_happened(observed: Any) -> None:
    server, name, _ = observed
    cloudwatch = server.client("cloudwatch")
    now = dt.datetime.now(dt.UTC)
    totals: dict[str, float] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for metric in ("Invocations", "Errors", "Throttles"):
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=[{"Name": "FunctionName", "Value": name}],
                StartTime=now - dt.timedelta(minutes=10),
                EndTime=now + dt.timedelta(minutes=2),
                Period=60,
                Statistics=["Sum"],
            )["Datapoints"]
            totals[metric] = sum(p["Sum"] for p in points)
        if totals == {"Invocations": 3, "Errors": 2, "Throttles": 1}:
            break
        time.sleep(0.3)
    assert totals == {"Invocations": 3, "Errors": 2, "Throttles": 1}
    with urllib.request.urlopen(f"{server.url}/metrics") as response:
        text = response.read().decode()
    invocations = [
        line
        for line in text.splitlines()
        if line.startswith("lamina_lambda_invocations_total{") and f'function="{name}"' in line
    ]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in invocations) == 3


def test_lamina_logs_follow_shows_a_new_invocation(observed: Any) -> None:
    server, name, _ = observed
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    follower = subprocess.Popen(
        [sys.executable, "-m", "lamina", "logs", name, "--follow", "--endpoint-url", server.url],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(1.5)
        client = server.client()
        request_id = client.invoke(FunctionName=name, Payload=b'{"mode": "success"}')[
            "ResponseMetadata"
        ]["RequestId"]
        invoked = time.monotonic()
        assert follower.stdout is not None
        while True:
            line = follower.stdout.readline()
            if f"START RequestId: {request_id}" in line:
                break
            assert time.monotonic() - invoked < 5, "no START line"
        assert time.monotonic() - invoked < 1.5
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        if follower.stdout:
            follower.stdout.close()
