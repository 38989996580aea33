"""kill -9 in the middle of a drain: after a restart every message is processed or in the
queue's DLQ; none is lost or stuck invisible."""

from __future__ import annotations

import json
import signal
import time

from tests.contract.test_async import drain
from tests.e2e.test_esm_sqs import counts, with_dlq
from tests.support.functions import create, zip_of
from tests.support.server import LiveServer

HANDLER = """
import os, time, boto3
sqs = boto3.client("sqs")

def handler(event, context):
    for record in event["Records"]:
        if record["body"].startswith("poison"):
            raise Exception("poison message")
    time.sleep(0.02)
    sqs.send_message_batch(QueueUrl=os.environ["OUT"], Entries=[
        {"Id": str(i), "MessageBody": r["body"]} for i, r in enumerate(event["Records"])])
"""


def test_kill_9_mid_drain_loses_nothing(fresh_server: LiveServer) -> None:
    live = fresh_server.start()
    c, sqs = live.client(), live.client("sqs")
    out_url = sqs.create_queue(QueueName="processed")["QueueUrl"]
    url, arn, dlq_url = with_dlq(sqs)
    bodies = [f"poison-{i:03d}" if i % 25 == 0 else f"message-{i:03d}" for i in range(200)]
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
        )
    name = str(
        create(
            c,
            Code={"ZipFile": zip_of({"handler.py": HANDLER})},
            Environment={"Variables": {"OUT": out_url}},
            Timeout=2,
        )["FunctionName"]
    )
    c.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=1, ScalingConfig={"MaximumConcurrency": 4}
    )
    deadline = time.monotonic() + 20
    while counts(sqs, out_url)[0] < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    remaining = sum(counts(sqs, url))
    assert remaining > 0, "the drain should still be running when the server dies"
    live.stop(signal.SIGKILL)
    live.start()
    sqs = live.client("sqs")
    deadline = time.monotonic() + 40
    while counts(sqs, url) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert counts(sqs, url) == (0, 0), "messages stuck in the source queue"
    processed = {m["Body"] for m in drain(sqs, out_url, counts(sqs, out_url)[0])}
    dead = {m["Body"] for m in drain(sqs, dlq_url, counts(sqs, dlq_url)[0])}
    assert dead >= {b for b in bodies if b.startswith("poison")}
    assert processed | dead == set(bodies), json.dumps(sorted(set(bodies) - processed - dead))
