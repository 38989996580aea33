"""Hostile functions against strict isolation (runs as root, like CI)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lamina.sandbox.isolation import uid_base
from tests.sandbox.harness import body, invocation, make_image, open_pool, run

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="strict isolation needs root")

SNOOP = {
    "handler.py": """
        import os
        def handler(event, context):
            out = {}
            for path in event["paths"]:
                try:
                    with open(path) as f:
                        out[path] = f.read()
                except OSError as exc:
                    out[path] = type(exc).__name__
            out["uid"] = os.getuid()
            out["pid"] = os.getpid()
            out["procs"] = sorted(p for p in os.listdir("/proc") if p.isdigit())
            out["task"] = sorted(os.listdir("/var/task"))
            for target in ("/var/task/new", "/etc/new", "/tmp/new"):
                try:
                    open(target, "w").close()
                    out[target] = "written"
                except OSError as exc:
                    out[target] = type(exc).__name__
            return out
    """
}


def test_cannot_read_other_code_or_data_dir(tmp_path: Path, code: Callable[..., Path]) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "lamina.db").write_text("secret rows")
    (data_dir / "lamina.db").chmod(0o644)
    victim = code({"handler.py": "SECRET = 'victim code'\n"})
    (victim / "handler.py").chmod(0o644)
    snoop = make_image(code(SNOOP), function_name="snoop")
    paths = [
        str(data_dir / "lamina.db"),
        str(victim / "handler.py"),
        "/root/.bashrc",
        str(tmp_path / "w" / "runtime" / "boto3" / "__init__.py"),
    ]

    async def scenario() -> None:
        async with open_pool(tmp_path / "w", hidden_paths=[data_dir], isolation="strict") as pool:
            assert pool.isolation_mode == "strict"
            out = body(await pool.invoke(snoop, invocation({"paths": paths})))
            for path in paths:
                assert out[path] in ("FileNotFoundError", "PermissionError"), path
            assert out["uid"] >= 200_000
            # Only its own pid namespace: the tiny init (1) and the runtime itself (2).
            assert out["pid"] == 2 and out["procs"] == ["1", "2"]
            assert out["task"] == ["handler.py"]
            assert out["/var/task/new"] in ("OSError", "PermissionError")
            assert out["/etc/new"] in ("OSError", "PermissionError")
            assert out["/tmp/new"] == "written"
            other = make_image(code(SNOOP), function_name="other")
            uid2 = body(await pool.invoke(other, invocation({"paths": []})))["uid"]
            assert uid2 != out["uid"]

    run(scenario())


def test_fork_bomb_is_contained(tmp_path: Path, code: Callable[..., Path]) -> None:
    bomb = make_image(
        code(
            {
                "handler.py": """
                    import os, time
                    def handler(event, context):
                        children = 0
                        try:
                            while children < 5000:
                                if os.fork() == 0:
                                    time.sleep(60)
                                    os._exit(0)
                                children += 1
                        except OSError as exc:
                            return [children, exc.errno]
                        return [children, 0]
                """
            }
        ),
        function_name="bomb",
        memory_mb=512,
        timeout_s=20,
    )
    calm = make_image(
        code({"handler.py": "def handler(e, c):\n    return 'calm'\n"}), function_name="calm"
    )

    async def scenario() -> None:
        async with open_pool(tmp_path / "w", isolation="strict") as pool:
            result = await pool.invoke(bomb, invocation())
            if result.error_type is None:
                children, errno = body(result)
                assert children < 1024 and errno == 11  # EAGAIN from RLIMIT_NPROC
            else:  # or the memory cgroup killed it first
                assert result.error_type in ("Runtime.OutOfMemory", "Runtime.ExitError")
            assert (await pool.invoke(calm, invocation())).payload == b'"calm"'
            pool.retire(bomb.key)
        # Killing a pid namespace's init kills the rest; under load the kernel may take a
        # moment to finish, so give it a few seconds before calling anything a leak.
        deadline = time.monotonic() + 5
        while True:
            uid_dirs = [
                p
                for p in Path("/proc").iterdir()
                if p.name.isdigit() and uid_base() <= (_uid(p) or 0) < uid_base() + 10_000
            ]
            if not uid_dirs or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert uid_dirs == []

    run(scenario())


def _uid(proc: Path) -> int | None:
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def test_memory_limit_and_tmp_size(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(
        code(
            {
                "handler.py": """
                    def handler(event, context):
                        try:
                            with open("/tmp/fill", "wb") as f:
                                f.write(b"x" * (40 * 1024 * 1024))
                        except OSError as exc:
                            return exc.errno
                        return 0
                """
            }
        ),
        ephemeral_storage_mb=16,
        memory_mb=256,
    )

    async def scenario() -> None:
        async with open_pool(tmp_path / "w", isolation="strict") as pool:
            assert body(await pool.invoke(image, invocation())) == 28  # ENOSPC

    run(scenario())


SIGNALS = {
    "handler.py": """
        import os, signal, time
        def handler(event, context):
            action = event.get("do")
            if action == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
                time.sleep(5)
            if action == "abort":
                os.abort()
            if action == "orphans":
                for _ in range(3):
                    child = os.fork()
                    if child == 0:
                        if os.fork() == 0:
                            time.sleep(0.05)
                            os._exit(0)  # an orphan by now: init's to reap
                        os._exit(0)
                    os.waitpid(child, 0)
                time.sleep(0.3)
            states = []
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    with open("/proc/%s/stat" % pid) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
            return {"pid": os.getpid(), "states": states}
    """
}


def test_runtime_is_not_pid_1(tmp_path: Path, code: Callable[..., Path]) -> None:
    """Signals a function sends itself work, orphans are reaped, exit statuses are the
    runtime's own."""
    image = make_image(code(SIGNALS), timeout_s=3)

    async def scenario() -> None:
        async with open_pool(tmp_path / "w", isolation="strict") as pool:
            for action, reason in [
                ("kill", "signal: killed"),
                ("abort", "signal: aborted"),
            ]:
                inv = invocation({"do": action})
                result = await pool.invoke(image, inv)
                assert result.error_type == "Runtime.ExitError", result.log
                assert body(result)["errorMessage"] == (
                    f"RequestId: {inv.request_id} Error: Runtime exited with error: {reason}"
                )
                assert result.duration_ms < 2000
            out = body(await pool.invoke(image, invocation({"do": "orphans"})))
            assert out["pid"] == 2
            assert "Z" not in out["states"], out
            assert sorted(out["states"]) == ["R", "S"]
            result = await pool.invoke(image, invocation())
            assert result.max_memory_used_mb > 5  # the runtime's peak, not the init's

    run(scenario())


CGROUP = {
    "handler.py": """
        import os
        def handler(event, context):
            if event.get("die"):
                os._exit(3)
            with open("/proc/self/cgroup") as f:
                return f.read()
    """
}


def _memory_cgroup(proc_cgroup: str) -> Path:
    for line in proc_cgroup.splitlines():
        _, names, rel = line.split(":", 2)
        if "memory" in names.split(","):
            return Path("/sys/fs/cgroup/memory") / rel.lstrip("/")
    rel = next(line[3:] for line in proc_cgroup.splitlines() if line.startswith("0::"))
    return Path("/sys/fs/cgroup") / rel.lstrip("/")


def test_runtime_starts_in_its_own_memory_cgroup(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(code(CGROUP), memory_mb=192)

    async def scenario() -> Path | None:
        async with open_pool(tmp_path / "w", isolation="strict") as pool:
            if pool.isolation_mode != "strict":
                return None
            first = _memory_cgroup(body(await pool.invoke(image, invocation())))
            v1 = (first / "memory.limit_in_bytes").exists()
            limit = first / ("memory.limit_in_bytes" if v1 else "memory.max")
            assert int(limit.read_text()) == 192 * 1024 * 1024
            assert first.parent.name.startswith("lamina-")
            # A crash resets the environment: the next process starts in a fresh cgroup
            # and the previous one is removed.
            crashed = await pool.invoke(image, invocation({"die": True}))
            assert crashed.error_type == "Runtime.ExitError"
            second = _memory_cgroup(body(await pool.invoke(image, invocation())))
            assert second != first and second.parent == first.parent
            deadline = time.monotonic() + 2
            while first.exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert not first.exists()
            return first.parent

    root = run(scenario())
    if root is None:
        pytest.skip("no memory cgroup on this host")
    assert not root.exists()  # closing the pool leaves no cgroup behind
