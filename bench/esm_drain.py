"""An SQS event source mapping drains 10,000 messages through a no-op function.

Starts a real `lamina serve` process, creates a queue and fills it with SendMessageBatch
(boto3, before the clock starts), creates a no-op function, then times from
CreateEventSourceMapping until the queue holds no message, visible or in flight (every
message was handed to the function in a batch and deleted). Repeats on fresh queues and
reports every run and the median.

    python bench/esm_drain.py [--messages 10000] [--runs 3] [--batch-size 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.support.functions import create, unique, zip_of  # noqa: E402
from tests.support.server import LiveServer  # noqa: E402

NO_OP = "def handler(event, context):\n    return None\n"


def fill(sqs: Any, url: str, count: int) -> None:
    def send(start: int) -> None:
        entries = [
            {"Id": str(i), "MessageBody": f"message {start + i}"}
            for i in range(min(10, count - start))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(0, count, 10)))


def remaining(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def run(server: LiveServer, messages: int, batch_size: int, window: int) -> float:
    client, sqs = server.client(), server.client("sqs")
    url = sqs.create_queue(QueueName=unique("drain"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    fill(sqs, url, messages)
    assert remaining(sqs, url) == messages
    name = str(create(client, Code={"ZipFile": zip_of({"handler.py": NO_OP})})["FunctionName"])
    started = time.monotonic()
    mapping = client.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        BatchSize=batch_size,
        MaximumBatchingWindowInSeconds=window,
    )
    while remaining(sqs, url) > 0:
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    client.delete_event_source_mapping(UUID=mapping["UUID"])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--window", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "data").start()
        try:
            times = [
                run(server, args.messages, args.batch_size, args.window) for _ in range(args.runs)
            ]
        finally:
            server.stop()
    for index, seconds in enumerate(times, 1):
        print(f"run {index}: {args.messages} messages drained in {seconds:.2f} s")
    median = statistics.median(times)
    print(
        f"median: {median:.2f} s ({args.messages / median:,.0f} messages/s,"
        f" batch size {args.batch_size}, window {args.window} s)"
    )


if __name__ == "__main__":
    main()
