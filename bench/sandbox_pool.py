"""Micro-benchmark of the sandbox layer: warm p50/p99, cold p50, USS per idle environment.

python bench/sandbox_pool.py [--isolation auto|strict|none] [--uvloop] [--cold N]
python bench/sandbox_pool.py --compare REF [--rounds R] [--isolation ...]

``--compare`` measures two variants in one run: the sandbox layer of git revision REF
(``git archive``, nothing is checked out; or REF is a directory holding a ``lamina``
package) against the working tree, alternating rounds in
fresh processes so machine noise falls on both alike, then reports medians.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
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


def environment_uss_kib(pids: list[int]) -> list[int]:
    """USS of each runtime plus the other processes of its own pid namespace (in strict
    mode, the namespace's init)."""
    ours = os.stat("/proc/self/ns/pid").st_ino
    members: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                members.setdefault(os.stat(entry / "ns/pid").st_ino, []).append(int(entry.name))
            except OSError:
                continue
    totals = []
    for pid in pids:
        ns = os.stat(f"/proc/{pid}/ns/pid").st_ino
        group = members.get(ns, [pid]) if ns != ours else [pid]
        totals.append(sum(uss_kib(member) for member in group))
    return totals


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(isolation: str, cold_count: int, gap_ms: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        (code_dir / "handler.py").write_text("def handler(event, context):\n    return event\n")
        pool = EnvironmentPool(work_dir=Path(tmp) / "work", isolation=isolation)
        await pool.start()
        try:
            img = image(code_dir, "warm")
            await pool.invoke(img, invocation())
            for _ in range(300):
                await pool.invoke(img, invocation())
            warm = []
            for _ in range(3000):
                t = time.perf_counter()
                await pool.invoke(img, invocation())
                warm.append((time.perf_counter() - t) * 1000)
            cold, init = [], []
            for i in range(cold_count):
                if gap_ms:
                    await asyncio.sleep(gap_ms / 1000)
                t = time.perf_counter()
                result = await pool.invoke(image(code_dir, f"cold{i}"), invocation())
                cold.append((time.perf_counter() - t) * 1000)
                init.append(result.init_duration_ms or 0.0)
            envs = [e for e in pool._all if e.running]
            uss = [kib / 1024 for kib in environment_uss_kib([e._pid for e in envs if e._pid])]
            return {
                "mode": pool.isolation_mode,
                "reason": pool.isolation_reason,
                "warm": warm,
                "cold": cold,
                "init": init,
                "uss": uss,
            }
        finally:
            await pool.aclose()


def report(m: dict[str, list[float]], label: str = "") -> None:
    warm, cold, init, uss = m["warm"], m["cold"], m["init"], m["uss"]
    print(f"{label}warm invoke: p50 {pct(warm, 0.5):.3f} ms  p99 {pct(warm, 0.99):.3f} ms")
    print(
        f"{label}cold start (invoke incl. env setup): p50 {statistics.median(cold):.2f} ms"
        f"  p90 {pct(cold, 0.9):.2f} ms  p99 {pct(cold, 0.99):.2f} ms;"
        f"  Init Duration p50 {statistics.median(init):.2f} ms"
    )
    print(
        f"{label}idle environments: {len(uss)}, USS p50 {statistics.median(uss):.2f} MiB"
        f" max {max(uss):.2f} MiB"
    )


def compare(ref: str, rounds: int, isolation: str, cold_count: int, gap_ms: float) -> None:
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        if (Path(ref) / "lamina").is_dir():  # a source tree (the directory holding lamina/)
            baseline = str(Path(ref).resolve())
        else:
            archive = subprocess.run(
                ["git", "-C", str(root), "archive", ref, "src/lamina"],
                check=True,
                capture_output=True,
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
            baseline = str(Path(tmp) / "src")
        variants = {ref: baseline, "working tree": str(root / "src")}
        runs: dict[str, list[dict[str, list[float]]]] = {name: [] for name in variants}
        for n in range(rounds):
            order = list(variants) if n % 2 == 0 else list(reversed(variants))
            for name in order:
                env = dict(os.environ, PYTHONPATH=variants[name])
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--json",
                        "--isolation",
                        isolation,
                        "--cold",
                        str(cold_count),
                        "--gap-ms",
                        str(gap_ms),
                    ],
                    check=True,
                    capture_output=True,
                    env=env,
                    cwd=tmp,
                ).stdout
                runs[name].append(json.loads(out))
                last = runs[name][-1]
                print(
                    f"round {n + 1} {name:>12}: {last['mode']}: cold p50"
                    f" {statistics.median(last['cold']):.2f} ms, warm p50"
                    f" {pct(last['warm'], 0.5):.3f} ms",
                    flush=True,
                )
        for name, results in runs.items():
            print(f"== {name} ({rounds} rounds; p50 = median of the rounds' p50s)")
            cold_p50 = statistics.median(statistics.median(r["cold"]) for r in results)
            cold_p99 = statistics.median(pct(r["cold"], 0.99) for r in results)
            warm_p50 = statistics.median(pct(r["warm"], 0.5) for r in results)
            warm_p99 = statistics.median(pct(r["warm"], 0.99) for r in results)
            init_p50 = statistics.median(statistics.median(r["init"]) for r in results)
            uss_p50 = statistics.median(statistics.median(r["uss"]) for r in results)
            print(
                f"   cold p50 {cold_p50:.2f} ms  p99 {cold_p99:.2f} ms  (Init Duration p50"
                f" {init_p50:.2f} ms); warm p50 {warm_p50:.3f} ms  p99 {warm_p99:.3f} ms;"
                f" idle USS p50 {uss_p50:.2f} MiB"
            )


def main(args: argparse.Namespace) -> None:
    if args.compare:
        compare(args.compare, args.rounds, args.isolation, args.cold, args.gap_ms)
        return
    run = measure(args.isolation, args.cold, args.gap_ms)
    if args.uvloop:
        import uvloop

        m = uvloop.run(run)
    else:
        m = asyncio.run(run)
    if args.json:
        print(json.dumps(m))
        return
    print(f"isolation: {m['mode']} ({m['reason']})")
    report(m)  # type: ignore[arg-type]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--isolation", default="auto")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--cold", type=int, default=40, help="cold starts to measure")
    parser.add_argument(
        "--gap-ms", type=float, default=0.0, help="idle time before each cold start"
    )
    parser.add_argument("--json", action="store_true", help="print raw samples as JSON")
    parser.add_argument("--compare", metavar="REF", help="also measure git revision REF")
    parser.add_argument("--rounds", type=int, default=5)
    main(parser.parse_args())
