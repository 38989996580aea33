"""kill -9 while asynchronous events are queued and running: after a restart every accepted
event settles exactly once and its record is delivered; none is lost."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support.functions import create, zip_of
from tests.support.server import LiveServer

HANDLER = """
import os, time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if os.environ["MODE"] == "fail":
        raise Exception("always failing")
    return {"done": event["n"]}
"""


def outcomes(server: LiveServer) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{server.url}/_lamina/async-events") as response:
        return {e["requestId"]: e for e in json.loads(response.read())["events"]}


def test_nothing_accepted_is_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = LiveServer(data, args=["--time-scale", "0.01"]).start()
    client, sqs = first.client(), first.client("sqs")
    url = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:000000000000:outcomes"
    for mode in ("ok", "fail"):
        create(
            client,
            f"crash-{mode}",
            Code={"ZipFile": zip_of({"handler.py": HANDLER})},
            Environment={"Variables": {"MODE": mode}},
            Timeout=30,
        )
        client.put_function_event_invoke_config(
            FunctionName=f"crash-{mode}",
            MaximumRetryAttempts=2,
            DestinationConfig={
                "OnSuccess": {"Destination": arn},
                "OnFailure": {"Destination": arn},
            },
        )
    accepted: list[str] = []
    lock = threading.Lock()

    def send(mode: str, start: int) -> None:
        own = first.client()
        for n in range(start, start + 20):
            response = own.invoke(
                FunctionName=f"crash-{mode}",
                InvocationType="Event",
                Payload=json.dumps({"n": n, "sleep": 0.2}).encode(),
            )
            assert response["StatusCode"] == 202
            with lock:
                accepted.append(response["ResponseMetadata"]["RequestId"])

    senders = [
        threading.Thread(target=send, args=(m, i * 20)) for i, m in enumerate(("ok", "fail", "ok"))
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    time.sleep(0.4)  # some events are running, some retrying, most still queued
    before = outcomes(first)
    assert any(e["outcome"] is None for e in before.values()), "killed too late to matter"
    first.stop(signal.SIGKILL)

    second = LiveServer(data, port=first.port, args=["--time-scale", "0.01"]).start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        settled = outcomes(second)
        if len(settled) == len(accepted) and all(e["delivered"] for e in settled.values()):
            break
        time.sleep(0.25)
    assert set(settled) == set(accepted)
    assert Counter(e["outcome"] for e in settled.values()) == {
        "Success": 40,
        "RetriesExhausted": 20,
    }
    sqs = second.client("sqs")
    records: Counter[str] = Counter()
    empty = 0
    while empty < 2:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        empty = 0 if batch else empty + 1
        for message in batch:
            record = json.loads(message["Body"])
            records[record["requestContext"]["requestId"]] += 1
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert set(records) == set(accepted)  # every event's record arrived
    # A record is sent again only if the kill fell between its send and its bookkeeping.
    assert sum(records.values()) - len(records) <= 3
    second.stop()
