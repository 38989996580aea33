"""Micro-benchmark of the sandbox layer: warm p50/p99, cold p50, USS per idle environment.

python bench/sandbox_pool.py [--isolation auto|strict|none] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from lamina.sandbox import EnvironmentPool, FunctionImage, Invocation

PYTHON = Path("/root/.pyenv/versions/3.12.1/bin/python3.12")


def image(code_dir: Path, key: str) -> FunctionImage:
    return FunctionImage(
        key=key,
        function_name="bench",
        function_version="$LATEST",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
        runtime="python3.12",
        handler="handler.handler",
        code_dir=code_dir,
        layer_dirs=(),
        memory_mb=128,
        timeout_s=10,
        ephemeral_storage_mb=64,
        environment={},
        region="us-east-1",
        account_id="123456789012",
        log_group="/aws/lambda/bench",
        log_format="Text",
        python_executable=PYTHON,
        runtime_warning=None,
        endpoint_url="http://127.0.0.1:4566",
    )


def invocation() -> Invocation:
    return Invocation(
        str(uuid.uuid4()),
        b'{"hello": "world"}',
        "arn:aws:lambda:us-east-1:123456789012:function:bench",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0",
        None,
        None,
    )


def uss_kib(pid: int) -> int:
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(isolation: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        (code_dir / "handler.py").write_text("def handler(event, context):\n    return event\n")
        pool = EnvironmentPool(work_dir=Path(tmp) / "work", isolation=isolation)
        await pool.start()
        try:
            print(f"isolation: {pool.isolation_mode} ({pool.isolation_reason})")
            img = image(code_dir, "warm")
            await pool.invoke(img, invocation())
            for _ in range(300):
                await pool.invoke(img, invocation())
            warm = []
            for _ in range(3000):
                t = time.perf_counter()
                await pool.invoke(img, invocation())
                warm.append((time.perf_counter() - t) * 1000)
            print(f"warm invoke: p50 {pct(warm, 0.5):.3f} ms  p99 {pct(warm, 0.99):.3f} ms")
            cold, init = [], []
            for i in range(40):
                t = time.perf_counter()
                result = await pool.invoke(image(code_dir, f"cold{i}"), invocation())
                cold.append((time.perf_counter() - t) * 1000)
                init.append(result.init_duration_ms or 0.0)
            print(
                f"cold start (invoke incl. env setup): p50 {statistics.median(cold):.2f} ms"
                f"  p90 {pct(cold, 0.9):.2f} ms;"
                f"  Init Duration p50 {statistics.median(init):.2f} ms"
            )
            envs = [e for e in pool._all if e.running]
            uss = [uss_kib(e._pid) for e in envs if e._pid]
            print(
                f"idle environments: {len(uss)}, USS p50 {statistics.median(uss) / 1024:.2f} MiB"
                f" max {max(uss) / 1024:.2f} MiB"
            )
        finally:
            await pool.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--isolation", default="auto")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(main(args.isolation))
    else:
        asyncio.run(main(args.isolation))
