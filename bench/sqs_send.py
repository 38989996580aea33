"""SendMessage throughput through HTTP against a real server process.

Starts the queue service (tests/services/sqs/harness.py: the gateway + SQS under uvicorn with
uvloop/httptools, SQLite WAL in a temporary directory), creates a queue with boto3, then runs
several concurrent keep-alive HTTP/1.1 clients in a separate process, each sending the exact
request boto3 sends (AWS JSON 1.0, X-Amz-Target, SigV4-shaped Authorization header) one at a
time and reading each response. Every 200 means the message was committed to SQLite.

    python bench/sqs_send.py [--clients 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.services.sqs.conftest import SqsServer  # noqa: E402


def _request(port: int, queue_url: str, index: int) -> bytes:
    body = json.dumps({"QueueUrl": queue_url, "MessageBody": f"message {index:08d} " + "x" * 64})
    headers = [
        "POST / HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept-Encoding: identity",
        "X-Amz-Target: AmazonSQS.SendMessage",
        "Content-Type: application/x-amz-json-1.0",
        "x-amz-query-mode: true",
        "User-Agent: Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux lang/python#3.11",
        "X-Amz-Date: 20260101T000000Z",
        "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request,"
        " SignedHeaders=content-type;host;x-amz-date;x-amz-target,"
        " Signature=" + "0" * 64,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


async def _client(port: int, queue_url: str, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(6, 1, 1)  # TCP_NODELAY
    sent = 0
    try:
        while time.monotonic() < stop_at:
            writer.write(_request(port, queue_url, sent))
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode())
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            sent += 1
    finally:
        counts.append(sent)
        writer.close()
        await writer.wait_closed()


def _load(port: int, queue_url: str, clients: int, seconds: float, result: object) -> None:
    async def run() -> int:
        counts: list[int] = []
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(_client(port, queue_url, stop_at, counts) for _ in range(clients)))
        return sum(counts)

    import uvloop

    result.value = uvloop.run(run())  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = SqsServer(Path(tmp) / "data").start()
        try:
            client = server.client()
            url = client.create_queue(QueueName="bench")["QueueUrl"]
            client.close()
            total = multiprocessing.Value("q", 0)
            warm = multiprocessing.Process(
                target=_load, args=(server.port, url, args.clients, 1.0, multiprocessing.Value("q"))
            )
            warm.start()
            warm.join()
            started = time.monotonic()
            load = multiprocessing.Process(
                target=_load, args=(server.port, url, args.clients, args.seconds, total)
            )
            load.start()
            load.join()
            elapsed = time.monotonic() - started
        finally:
            server.stop()
        with sqlite3.connect(Path(tmp) / "data" / "lamina.db") as db:
            stored = db.execute("SELECT count(*) FROM sqs_messages").fetchone()[0]
    rate = total.value / args.seconds
    print(
        f"SendMessage: {total.value} in {elapsed:.1f}s with {args.clients} keep-alive clients"
        f" -> {rate:,.0f}/s ({stored} rows stored, cpus={os.cpu_count()})"
    )


if __name__ == "__main__":
    main()
