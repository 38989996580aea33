"""Invoke benchmark: warm latency, cold start, throughput and idle memory, with baselines.

Runs a real `lamina serve` on a free port and measures, in one run:
- the loopback HTTP round trip to Lamina's health endpoint (the floor any invoke pays);
- warm sync invoke latency of a no-op handler through a keep-alive HTTP client and boto3;
- cold start: the first invoke of a freshly created function;
- throughput with several concurrent keep-alive clients (separate processes);
- private memory (USS) per idle execution environment;
- baselines: a fresh interpreter per invoke, and python-lambda-local (PyPI).

Usage: python bench/invoke.py [--quick]   (prints Markdown for docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import LiveServer  # noqa: E402

from lamina.lambda_.runtimes import discover_interpreters  # noqa: E402

NOOP = "def handler(event, context):\n    return None\n"
HELLO = "def handler(event, context):\n    return {'hello': 'world'}\n"


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def create(client: Any, name: str, source: str) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="handler.handler",
        Code={"ZipFile": package(source)},
        MemorySize=128,
    )
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 400}
    )


def timed_http(port: int, path: str, count: int, body: bytes = b"{}") -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    samples = []
    method = "POST" if "invocations" in path else "GET"
    for _ in range(count):
        start = time.perf_counter()
        connection.request(method, path, body=body if method == "POST" else None)
        response = connection.getresponse()
        response.read()
        samples.append(time.perf_counter() - start)
        assert response.status in (200, 204), response.status
    connection.close()
    return samples


def _throughput_worker(port: int, path: str, seconds: float, out: Any) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("POST", path, body=b"{}")
        response = connection.getresponse()
        response.read()
        done += 1
    out.put(done)


def throughput(port: int, path: str, clients: int, seconds: float) -> float:
    """Invokes per second from `clients` keep-alive connections. wrk (a C load generator)
    when installed, so the load generator takes little of the two cores; else Python."""
    if shutil.which("wrk"):
        return _wrk(port, path, clients, seconds)
    return _python_clients(port, path, clients, seconds)


def _wrk(
    port: int, path: str, connections: int, seconds: float, headers: dict[str, str] | None = None
) -> float:
    lua = 'wrk.method = "POST"\nwrk.body = "{}"\n' + "".join(
        f'wrk.headers["{k}"] = "{v}"\n' for k, v in (headers or {}).items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


def _python_clients(port: int, path: str, clients: int, seconds: float) -> float:
    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_throughput_worker, args=(port, path, seconds, queue))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def uss_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    fields = dict(line.split(":", 1) for line in text.splitlines()[1:])
    return sum(int(fields[k].split()[0]) for k in ("Private_Clean", "Private_Dirty"))


def children(parent: int) -> list[int]:
    return [pid for pid in descendants(parent) if _ppid(pid) == parent]


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return -1


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        for child in children.get(pid, []):
            found.append(child)
            stack.append(child)
    return found


def fresh_interpreter_invokes(source: str, count: int) -> list[float]:
    """A new python3.12 process per invoke: import the handler, call it, print the result."""
    real = str(discover_interpreters().get((3, 12), Path(sys.executable)))
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "handler.py").write_text(source)
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            subprocess.run(
                [real, "-c", "import handler, json; print(json.dumps(handler.handler({}, None)))"],
                cwd=folder,
                check=True,
                capture_output=True,
            )
            samples.append(time.perf_counter() - start)
        return samples


def python_lambda_local_invokes(source: str, count: int) -> list[float] | None:
    tool = shutil.which("python-lambda-local")
    if tool is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "handler.py").write_text(source)
        Path(folder, "event.json").write_text("{}")
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            subprocess.run(
                [tool, "-f", "handler", "-t", "3", "handler.py", "event.json"],
                cwd=folder,
                check=True,
                capture_output=True,
            )
            samples.append(time.perf_counter() - start)
        return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warm_n, cold_n, base_n = (500, 10, 5) if args.quick else (3000, 30, 20)
    seconds = 3.0 if args.quick else 8.0
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "data", env={"LAMINA_LOG_LEVEL": "warning"}).start()
        try:
            client = server.client()
            create(client, "noop", NOOP)
            path = "/2015-03-31/functions/noop/invocations"
            timed_http(server.port, path, 50)  # warm up
            health = timed_http(server.port, "/_lamina/health", warm_n)
            warm = timed_http(server.port, path, warm_n)
            boto = []
            for _ in range(min(warm_n, 1000)):
                start = time.perf_counter()
                client.invoke(FunctionName="noop", Payload=b"{}")["Payload"].read()
                boto.append(time.perf_counter() - start)
            cold = []
            for index in range(cold_n):
                name = f"cold-{index}"
                create(client, name, HELLO)
                cold += timed_http(server.port, f"/2015-03-31/functions/{name}/invocations", 1)
            rate = {n: throughput(server.port, path, n, seconds) for n in (1, 2, 4, 8)}
            assert server.process is not None
            # Environments are the zygotes' children: two levels below the server.
            zygotes = [p for p in children(server.process.pid)]
            environments = [pid for z in zygotes for pid in children(z)]
            memory = [uss_kib(pid) for pid in environments if Path(f"/proc/{pid}").exists()]
        finally:
            server.stop()
    fresh = fresh_interpreter_invokes(HELLO, base_n)
    peer = python_lambda_local_invokes(HELLO, base_n)
    overhead = [w - statistics.median(health) for w in warm]
    lines += [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, {time.strftime('%Y-%m-%d')}",
        "",
        "| measure | p50 | p99 |",
        "| --- | --- | --- |",
        f"| loopback HTTP round trip (health endpoint, the floor) | {ms(percentile(health, 0.5))}"
        f" | {ms(percentile(health, 0.99))} |",
        f"| warm invoke, no-op handler, keep-alive HTTP | {ms(percentile(warm, 0.5))}"
        f" | {ms(percentile(warm, 0.99))} |",
        f"| warm invoke minus the loopback floor (platform overhead) |"
        f" {ms(percentile(overhead, 0.5))} | {ms(percentile(overhead, 0.99))} |",
        f"| warm invoke through boto3 | {ms(percentile(boto, 0.5))}"
        f" | {ms(percentile(boto, 0.99))} |",
        f"| cold start: first invoke of a new function | {ms(percentile(cold, 0.5))}"
        f" | {ms(percentile(cold, 0.99))} |",
        f"| baseline: fresh interpreter per invoke | {ms(percentile(fresh, 0.5))}"
        f" | {ms(percentile(fresh, 0.99))} |",
    ]
    if peer:
        lines.append(
            f"| baseline: python-lambda-local per invoke | {ms(percentile(peer, 0.5))}"
            f" | {ms(percentile(peer, 0.99))} |"
        )
    generator = "wrk" if shutil.which("wrk") else "Python http.client processes"
    lines += ["", f"| keep-alive connections ({generator}) | invokes/s |", "| --- | --- |"]
    lines += [f"| {n} | {r:,.0f} |" for n, r in rate.items()]
    if memory:
        lines += [
            "",
            f"Idle environments: {len(memory)}; private memory (USS) per environment:"
            f" median {statistics.median(memory) / 1024:.2f} MiB,"
            f" max {max(memory) / 1024:.2f} MiB.",
        ]
    print("\n".join(lines))
    print(
        json.dumps(
            {
                "warm_p50_ms": percentile(warm, 0.5) * 1000,
                "overhead_p50_ms": percentile(overhead, 0.5) * 1000,
            }
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
