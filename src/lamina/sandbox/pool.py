"""The environment pool: warm reuse per image key, cold starts from zygotes, idle reaping."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lamina.errors import SandboxError
from lamina.sandbox.environment import Environment, HostContext
from lamina.sandbox.isolation import (
    HIDDEN_PATHS,
    IsolationPolicy,
    MountTrees,
    build_runtime_dir,
)
from lamina.sandbox.records import FunctionImage, Invocation, InvocationResult
from lamina.sandbox.zygote import Zygote

LogSink = Callable[[FunctionImage, str, str], None]
logger = logging.getLogger(__name__)


class EnvironmentPool:
    """Owns every execution environment and zygote of one Lamina process."""

    def __init__(
        self,
        *,
        work_dir: Path,
        idle_timeout_s: float = 300.0,
        isolation: str = "auto",
        log_sink: LogSink | None = None,
        hidden_paths: Sequence[Path] = (),
        init_timeout_s: float = 10.0,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.idle_timeout_s = idle_timeout_s
        self.isolation_mode = "not started"
        self.isolation_reason = ""
        self._requested_isolation = isolation
        self._log_sink = log_sink
        self._hidden = tuple(str(Path(p).resolve()) for p in hidden_paths)
        self._init_timeout_s = init_timeout_s
        self._host: HostContext | None = None
        self._reveal: list[str] = []
        self._zygotes: dict[Path, Zygote] = {}
        self._zygote_starts: dict[Path, asyncio.Future[Zygote]] = {}
        self._idle: dict[str, list[Environment]] = {}
        self._all: set[Environment] = set()
        self._free_slots: list[int] = []
        self._next_slot = 0
        self._reaper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work_dir, 0o700)
        policy = await asyncio.to_thread(
            IsolationPolicy.decide, self._requested_isolation, f"lamina-{os.getpid()}"
        )
        self.isolation_mode, self.isolation_reason = policy.mode, policy.reason
        runtime_dir = self.work_dir / "runtime"
        shutil.rmtree(runtime_dir, ignore_errors=True)
        self._reveal = build_runtime_dir(runtime_dir)
        under_tmp = [path for path in self._reveal if path == "/tmp" or path.startswith("/tmp/")]
        if policy.namespaces and under_tmp:
            # Every environment gets a private /tmp, which covers anything installed there.
            logger.warning(
                "boto3 and its dependencies are installed under /tmp (%s); functions will not"
                " be able to import them. Install Lamina outside /tmp.", ", ".join(under_tmp)
            )
        self._host = HostContext(
            policy=policy,
            trees=MountTrees() if policy.namespaces else None,
            work_dir=self.work_dir,
            runtime_dir=runtime_dir,
            init_timeout_s=self._init_timeout_s,
        )
        self._reaper = asyncio.create_task(self._reap_idle())
        logger.info("sandbox isolation: %s (%s)", policy.mode, policy.reason)

    async def aclose(self) -> None:
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        envs = list(self._all)
        self._all.clear()
        self._idle.clear()
        await asyncio.gather(*(env.close() for env in envs), return_exceptions=True)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        for zygote in self._zygotes.values():
            zygote.close()
        self._zygotes.clear()
        if self._host is not None and self._host.policy.cgroups is not None:
            # Spare processes die with their zygote (asynchronously): wait for their cgroups.
            for _ in range(100):
                if self._host.policy.cgroups.remove():
                    break
                await asyncio.sleep(0.02)

    # -- invoke ----------------------------------------------------------------------------

    async def invoke(self, image: FunctionImage, invocation: Invocation) -> InvocationResult:
        if self._host is None or self._closed:
            raise SandboxError("environment pool is not running")
        idle = self._idle.get(image.key)
        env = self._pick(idle) if idle else await self._create(image)
        env.busy = True
        try:
            result = await env.invoke(invocation)
        except BaseException:
            env.retired = True
            raise
        finally:
            env.busy = False
            env.last_used = time.monotonic()
            if env.retired or self._closed:
                self._discard(env)
            else:
                self._idle.setdefault(image.key, []).append(env)
        if self._log_sink is not None:
            self._log_sink(image, result.log_stream, result.log)
        return result

    @staticmethod
    def _pick(idle: list[Environment]) -> Environment:
        """A provisioned environment first, then the most recently used warm one; a reset
        one only if none is warm."""
        for index in range(len(idle) - 1, -1, -1):
            if idle[index].pinned and idle[index].running:
                return idle.pop(index)
        for index in range(len(idle) - 1, -1, -1):
            if idle[index].running:
                return idle.pop(index)
        return idle.pop()

    def has_idle(self, key: str) -> bool:
        """Whether an invocation of this image would find a warm environment."""
        return bool(self._idle.get(key))

    def has_idle_provisioned(self, key: str) -> bool:
        """Whether an invocation of this image would run in a provisioned environment."""
        return any(env.pinned and env.running for env in self._idle.get(key, ()))

    async def provision(self, image: FunctionImage, count: int) -> bool:
        """Keep exactly `count` initialised, pinned environments of this image.

        Extra pinned environments are released to ordinary idle life; missing ones are created
        and initialised now. True when every one of them initialised."""
        pinned = [env for env in self._all if env.image.key == image.key and env.pinned]
        for env in pinned[count:]:
            env.pinned = False
        missing = count - len(pinned)
        if missing <= 0:
            return True
        results = await asyncio.gather(
            *(self._provision_one(image) for _ in range(missing)), return_exceptions=True
        )
        return all(result is True for result in results)

    async def _provision_one(self, image: FunctionImage) -> bool:
        env = await self._create(image, "provisioned-concurrency")
        ready, text = await env.initialise()
        if self._log_sink is not None:
            self._log_sink(image, env.log_stream, text)
        if not ready or self._closed:
            self._discard(env)
            return False
        env.pinned = True
        self._idle.setdefault(image.key, []).append(env)
        return True

    async def _create(
        self, image: FunctionImage, initialization_type: str = "on-demand"
    ) -> Environment:
        assert self._host is not None
        if image.is_custom_runtime:
            interpreter = Path(sys.executable)
        elif image.python_executable is None:
            raise SandboxError(f"no interpreter given for runtime {image.runtime}")
        else:
            interpreter = image.python_executable
        zygote = await self._zygote(interpreter)
        slot = heapq.heappop(self._free_slots) if self._free_slots else self._take_slot()
        env = Environment(image, slot, zygote, self._host, initialization_type)
        try:
            await env.open()
        except BaseException:
            await env.close()
            heapq.heappush(self._free_slots, slot)
            raise
        self._all.add(env)
        return env

    def _take_slot(self) -> int:
        self._next_slot += 1
        return self._next_slot

    async def _zygote(self, interpreter: Path) -> Zygote:
        zygote = self._zygotes.get(interpreter)
        if zygote is not None and zygote.alive:
            return zygote
        pending = self._zygote_starts.get(interpreter)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Zygote] = asyncio.get_running_loop().create_future()
        self._zygote_starts[interpreter] = future
        try:
            zygote = Zygote(interpreter, self._zygote_config())
            await zygote.start()
            self._zygotes[interpreter] = zygote
            future.set_result(zygote)
            return zygote
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._zygote_starts[interpreter]

    def _zygote_config(self) -> dict[str, Any]:
        assert self._host is not None
        return {
            "strict": self._host.policy.namespaces,
            "hide": [*HIDDEN_PATHS, str(self.work_dir.resolve()), *self._hidden],
            "reveal": self._reveal,
            "runtime_dir": str(self._host.runtime_dir),
            "cgroup": cgroups.zygote_config() if (cgroups := self._host.policy.cgroups) else None,
        }

    # -- retirement and reaping ---------------------------------------------------------------

    def retire(self, key: str) -> None:
        for env in self._idle.pop(key, []):
            self._discard(env)
        for env in self._all:
            if env.image.key == key:
                env.retired = True

    def _discard(self, env: Environment) -> None:
        self._all.discard(env)
        idle = self._idle.get(env.image.key)
        if idle is not None and env in idle:
            idle.remove(env)
        task = asyncio.get_running_loop().create_task(self._close_env(env))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close_env(self, env: Environment) -> None:
        try:
            await env.close()
        finally:
            if not self._closed:
                heapq.heappush(self._free_slots, env.slot)

    async def _reap_idle(self) -> None:
        interval = max(0.05, min(self.idle_timeout_s / 4, 10.0))
        while True:
            await asyncio.sleep(interval)
            cutoff = time.monotonic() - self.idle_timeout_s
            for envs in list(self._idle.values()):
                for env in [e for e in envs if e.last_used < cutoff and not e.pinned]:
                    self._discard(env)

    def stats(self) -> dict[str, Any]:
        per_key: dict[str, dict[str, int]] = {}
        for env in self._all:
            counts = per_key.setdefault(env.image.key, {"idle": 0, "busy": 0})
            counts["busy" if env.busy else "idle"] += 1
        return {
            "isolation_mode": self.isolation_mode,
            "isolation_reason": self.isolation_reason,
            "environments": per_key,
            "total": len(self._all),
            "busy": sum(c["busy"] for c in per_key.values()),
            "zygotes": sorted(str(p) for p, z in self._zygotes.items() if z.alive),
        }
