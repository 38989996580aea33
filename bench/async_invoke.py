"""Asynchronous invoke benchmark: durable acceptance rate, and 202 → handler start latency.

Runs a real `lamina serve` and measures, in one run:
- accepted Event invocations per second from several keep-alive clients (separate
  processes), every 202 answered only after the event is committed to SQLite; once with the
  dispatcher running the no-op function as events arrive, once with the function's reserved
  concurrency at 0 (events settle without running, so acceptance is measured nearly alone);
- the time from the 202 to the handler starting, one event at a time with idle capacity
  (the handler reports its start time over a loopback UDP socket);
- as a baseline in the same run, the rate of synchronous no-op invokes from the same clients.

Usage: python bench/async_invoke.py [--quick]   (prints Markdown for docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import LiveServer  # noqa: E402

from bench.invoke import _wrk, create, percentile  # noqa: E402

CONNECTIONS = 32  # concurrent clients: acceptances arriving together share one commit

REPORTING = """
import socket, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

def handler(event, context):
    started = time.time()
    if "port" in event:
        sock.sendto(f"{event['id']} {started}".encode(), ("127.0.0.1", event["port"]))
    return None
"""


def _sender(port: int, path: str, seconds: float, event: bool, out: Any) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"X-Amz-Invocation-Type": "Event"} if event else {}
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("POST", path, body=b'{"n": 1}', headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == (202 if event else 200), response.status
        done += 1
    out.put(done)


def rate(port: int, path: str, clients: int, seconds: float, event: bool) -> float:
    """Requests per second from `clients` keep-alive connections: wrk when installed (it
    takes little of the two cores), else Python processes."""
    if shutil.which("wrk"):
        headers = {"X-Amz-Invocation-Type": "Event"} if event else None
        return _wrk(port, path, clients, seconds, headers)
    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_sender, args=(port, path, seconds, event, queue))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def start_latency(port: int, count: int) -> list[float]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(10)
    udp_port = listener.getsockname()[1]
    connection = http.client.HTTPConnection("127.0.0.1", port)
    samples = []
    for index in range(count):
        body = json.dumps({"id": index, "port": udp_port}).encode()
        connection.request(
            "POST",
            "/2015-03-31/functions/reporting/invocations",
            body=body,
            headers={"X-Amz-Invocation-Type": "Event"},
        )
        response = connection.getresponse()
        response.read()
        accepted = time.time()
        message, _ = listener.recvfrom(256)
        ident, started = message.decode().split()
        assert int(ident) == index
        samples.append(float(started) - accepted)
        time.sleep(0.02)
    listener.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds, samples = (3.0, 50) if args.quick else (8.0, 300)
    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "data", env={"LAMINA_LOG_LEVEL": "warning"}).start()
        try:
            client = server.client()
            create(client, "reporting", REPORTING)
            create(client, "parked", "def handler(e, c):\n    return None\n")
            client.put_function_concurrency(FunctionName="parked", ReservedConcurrentExecutions=0)
            latency = start_latency(server.port, samples)
            running = "/2015-03-31/functions/reporting/invocations"
            parked = "/2015-03-31/functions/parked/invocations"
            results = {
                "sync invokes of the no-op function (baseline)": rate(
                    server.port, running, CONNECTIONS, seconds, event=False
                ),
                "Event invokes, dispatcher running them": rate(
                    server.port, running, CONNECTIONS, seconds, event=True
                ),
                "Event invokes, reserved concurrency 0 (acceptance alone)": rate(
                    server.port, parked, CONNECTIONS, seconds, event=True
                ),
            }
        finally:
            server.stop(timeout=60)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, {time.strftime('%Y-%m-%d')}",
        "",
        f"| {CONNECTIONS} keep-alive connections ({'wrk' if shutil.which('wrk') else 'Python'})"
        " | per second |",
        "| --- | --- |",
        *[f"| {label} | {value:,.0f} |" for label, value in results.items()],
        "",
        "| 202 → handler start, idle capacity | p50 | p99 |",
        "| --- | --- | --- |",
        f"| {len(latency)} events, one at a time | {percentile(latency, 0.5) * 1000:.2f} ms"
        f" | {percentile(latency, 0.99) * 1000:.2f} ms |",
    ]
    print("\n".join(lines))
    print(json.dumps({"median_ms": statistics.median(latency) * 1000}), file=sys.stderr)


if __name__ == "__main__":
    main()
