"""One execution environment: a slot (uid, /tmp, cgroup, log stream, Runtime API port)
and the runtime process currently living in it.

A timeout or crash resets the slot: the process is killed, the next invoke re-runs
init in a fresh process, and /tmp survives, as on Lambda.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import SandboxError
from lamina.sandbox.cgroup import MemoryCgroup
from lamina.sandbox.isolation import STRICT, IsolationPolicy, MountTrees, uid_base
from lamina.sandbox.platform_log import PlatformLog, Report, billed
from lamina.sandbox.records import FunctionImage, Invocation, InvocationResult
from lamina.sandbox.runtime_api import READY, TIMEOUT, Outcome, RuntimeApi
from lamina.sandbox.variables import Layout, build_environment
from lamina.sandbox.zygote import Zygote

TOO_LARGE_PAYLOAD = (
    b'{"errorMessage":"Response payload size exceeded maximum allowed payload size '
    b'(6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}'
)
_SIGNALS: dict[int, str] = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
}
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class HostContext:
    """What every environment of a pool shares."""

    policy: IsolationPolicy
    trees: MountTrees | None
    work_dir: Path
    runtime_dir: Path
    init_timeout_s: float


def exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = _SIGNALS.get(sig, f"signal {sig}")
        core = " (core dumped)" if os.WCOREDUMP(status) else ""
        return f"signal: {name}{core}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _header_value(text: str) -> bytes:
    return text.encode().replace(b"\r", b" ").replace(b"\n", b" ")


class Environment:
    def __init__(
        self,
        image: FunctionImage,
        slot: int,
        zygote: Zygote,
        host: HostContext,
        initialization_type: str = "on-demand",
    ) -> None:
        self.image = image
        self.initialization_type = initialization_type
        self.pinned = False  # provisioned: kept initialised, never reaped for idleness
        self.slot = slot
        self.zygote = zygote
        self.host = host
        self.strict = host.policy.namespaces
        self.uid = uid_base() + slot if self.strict else None
        day = time.strftime("%Y/%m/%d", time.gmtime())
        self.log_stream = f"{day}/[{image.function_version}]{uuid.uuid4().hex}"
        self.api = RuntimeApi()
        self.busy = False
        self.retired = False
        self.last_used = time.monotonic()
        self._platform = PlatformLog(image)
        self._cgroup: MemoryCgroup | None = None  # the current (or last) process's
        self._stale_cgroups: list[MemoryCgroup] = []  # earlier processes', until empty
        self._tmp: Path | None = None
        self._env: dict[str, str] = {}
        self._pid: int | None = None
        self._pidfd: int | None = None
        self._status_fd: int | None = None
        self._out_fd: int | None = None
        self._output = bytearray()
        self._live: dict[int, asyncio.Future[int]] = {}
        self._oom_seen = 0
        self._peak_mb = 0
        self._arn = _header_value(image.function_arn)

    @property
    def running(self) -> bool:
        return self._pid is not None

    async def open(self) -> None:
        image = self.image
        await self.api.start()
        if self.strict:
            # The zygote mounts the slot's /tmp on the first spawn (no round trip here).
            self.api.expected_uid = self.uid
            layout = Layout("/var/task", "/var/runtime", None)
        else:
            self._tmp = self.host.work_dir / "slots" / str(self.slot)
            self._tmp.mkdir(parents=True, exist_ok=True)
            layout = Layout(str(image.code_dir), str(self.host.runtime_dir), str(self._tmp))
        self._env = build_environment(
            image,
            runtime_api=self.api.address,
            log_stream=self.log_stream,
            layout=layout,
            initialization_type=self.initialization_type,
        )

    async def initialise(self) -> tuple[bool, str]:
        """Run the init phase ahead of any invocation (provisioned concurrency).

        Returns whether the runtime became ready, and the init log text."""
        log = [self._platform.init_start(self.image)]
        outcome, init_ms = await self._boot(min(self.host.init_timeout_s, 10.0))
        log.append(self._take_output())
        if outcome is not READY:
            status = "timeout" if outcome is TIMEOUT else "error"
            error = (
                None
                if outcome is TIMEOUT
                else (_error_type(outcome.body, outcome.error_type) or "Runtime.ExitError")
            )
            log.append(self._platform.init_report(init_ms, "init", status, error))
            self._discard_process()
            return False, "".join(log)
        return True, "".join(log)

    # -- process lifecycle -----------------------------------------------------------------

    def _spawn_message(self) -> dict[str, object]:
        image = self.image
        rlimits: dict[str, int] = {"nofile": 1024, "core": 0}
        if self.strict:
            rlimits["nproc"] = 1024  # per uid, and every slot has its own uid
        if self.host.policy.cgroups is None:
            rlimits["data"] = image.memory_mb * _MIB
        argv: list[str] | None = None
        if image.is_custom_runtime:
            argv = [self._bootstrap_path()]
        version = self.zygote.python_version
        if self.strict:
            cwd = "/var/task"
            sys_path = [
                cwd,
                f"/opt/python/lib/python{version}/site-packages",
                "/opt/python",
                "/var/runtime",
            ]
        else:
            cwd = str(image.code_dir)
            sys_path = [cwd]
            for layer in reversed(image.layer_dirs):
                sys_path += [
                    str(layer / f"python/lib/python{version}/site-packages"),
                    str(layer / "python"),
                ]
            sys_path.append(str(self.host.runtime_dir))
        return {
            "slot": self.slot,
            "size_mb": image.ephemeral_storage_mb,
            "uid": self.uid,
            "gid": self.uid,
            "env": self._env,
            "cwd": cwd,
            "sys_path": sys_path,
            "argv": argv,
            "rlimits": rlimits,
            "memory_mb": image.memory_mb,  # the limit of the process's own memory cgroup
        }

    def _bootstrap_path(self) -> str:
        if (self.image.code_dir / "bootstrap").exists() or not any(
            (layer / "bootstrap").exists() for layer in self.image.layer_dirs
        ):
            return "/var/task/bootstrap" if self.strict else str(self.image.code_dir / "bootstrap")
        if self.strict:
            return "/opt/bootstrap"
        last = [layer for layer in self.image.layer_dirs if (layer / "bootstrap").exists()][-1]
        return str(last / "bootstrap")

    async def _spawn(self) -> None:
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        fds = [write_fd]
        try:
            if self.strict:
                assert self.host.trees is not None
                fds.append(self.host.trees.detached(str(self.image.code_dir)))
                fds.extend(self.host.trees.detached(str(layer)) for layer in self.image.layer_dirs)
            self.api.begin_init()
            pid, cgroup = await self.zygote.spawn(self._spawn_message(), fds, self._on_exit)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            for fd in fds:
                os.close(fd)
        self._pid = pid
        roots = self.host.policy.cgroups
        if cgroup is not None and roots is not None:
            # Each process starts inside a fresh cgroup of its own (moving it into one
            # would wait for an RCU grace period); the previous one goes once empty.
            if self._cgroup is not None:
                self._stale_cgroups.append(self._cgroup)
            self._cgroup = roots.group(cgroup)
            self._oom_seen = 0
            self._remove_stale_cgroups()
        self._live[pid] = loop.create_future()
        self._out_fd = read_fd
        loop.add_reader(read_fd, self._read_output)
        with contextlib.suppress(OSError):
            self._pidfd = os.pidfd_open(pid)
        with contextlib.suppress(OSError):
            self._status_fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)

    def _on_exit(self, pid: int, status: int) -> None:
        done = self._live.pop(pid, None)
        if done is not None and not done.done():
            done.set_result(status)
        if self._stale_cgroups:
            self._remove_stale_cgroups()
        if pid == self._pid:
            self._max_memory_mb()
            waiter = self.api.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(Outcome("exit", status=status))

    def _remove_stale_cgroups(self) -> None:
        self._stale_cgroups = [group for group in self._stale_cgroups if not group.remove()]

    def _read_output(self) -> None:
        fd = self._out_fd
        if fd is None:
            return
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                asyncio.get_running_loop().remove_reader(fd)
                os.close(fd)
                self._out_fd = None
                return
            self._output += chunk

    def _take_output(self) -> str:
        self._read_output()
        if not self._output:
            return ""
        text = self._output.decode("utf-8", "replace")
        self._output.clear()
        return text if text.endswith("\n") else text + "\n"

    def _max_memory_mb(self) -> int:
        """Peak RSS of the runtime process (VmHWM), remembered past its death."""
        if self._status_fd is not None:
            try:
                status = os.pread(self._status_fd, 4096, 0)
            except OSError:
                status = b""
            at = status.find(b"VmHWM:")
            if at >= 0:
                kib = int(status[at + 6 : status.index(b"k", at)])
                self._peak_mb = max(self._peak_mb, -(-kib // 1024))
        return self._peak_mb

    def _discard_process(self) -> None:
        """Kill the current runtime process (and, via its pid namespace, everything it forked)."""
        pid = self._pid
        if pid is not None:
            self._max_memory_mb()
        self._pid = None
        if pid is not None:
            if self._pidfd is not None:
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            if not self.strict:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
        for fd in (self._pidfd, self._status_fd):
            if fd is not None:
                os.close(fd)
        self._pidfd = self._status_fd = None
        self.api.reset()

    async def _boot(self, limit_s: float) -> tuple[Outcome, float]:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        waiter = self.api.waiter = loop.create_future()
        timer = loop.call_later(limit_s, _settle, waiter, TIMEOUT)
        try:
            await self._spawn()
            outcome = await waiter
        finally:
            timer.cancel()
        return outcome, (time.perf_counter() - started) * 1000

    # -- invoke ----------------------------------------------------------------------------

    async def invoke(self, inv: Invocation) -> InvocationResult:
        image = self.image
        log: list[str] = []
        init_ms: float | None = None
        budget_s = float(image.timeout_s)
        if self._pid is None:
            log.append(self._platform.init_start(image))
            outcome, init_ms = await self._boot(min(self.host.init_timeout_s, 10.0))
            log.append(self._take_output())
            if outcome is TIMEOUT:
                # Lambda retries a timed-out init inside the invoke, bounded by the timeout.
                log.append(self._platform.init_report(init_ms, "init", "timeout", None))
                self._discard_process()
                started = time.perf_counter()
                outcome, _ = await self._boot(budget_s)
                log.append(self._take_output())
                budget_s -= time.perf_counter() - started
                init_ms = None
                if outcome is TIMEOUT:
                    log.append(self._platform.start(inv.request_id))
                    return self._timed_out(inv, log, image.timeout_s * 1000.0, None)
            if outcome is not READY:
                return self._init_failed(inv, outcome, init_ms or 0.0, log)
        log.append(self._platform.start(inv.request_id))
        loop = asyncio.get_running_loop()
        waiter = self.api.waiter = loop.create_future()
        deadline_ms = int((time.time() + budget_s) * 1000)
        started = time.perf_counter()
        self.api.deliver(inv.request_id, self._event(inv, deadline_ms))
        timer = loop.call_later(budget_s, _settle, waiter, TIMEOUT)
        outcome = await waiter
        timer.cancel()
        duration = (time.perf_counter() - started) * 1000
        kind = outcome.kind
        if kind == "response":
            return self._finish(inv, log, outcome.body, None, None, duration, init_ms)
        if kind == "error":
            error_type = _error_type(outcome.body, outcome.error_type)
            return self._finish(inv, log, outcome.body, error_type, None, duration, init_ms)
        if kind == "too_large":
            return self._finish(
                inv,
                log,
                TOO_LARGE_PAYLOAD,
                "Function.ResponseSizeTooLarge",
                None,
                duration,
                init_ms,
            )
        if kind == "timeout":
            return self._timed_out(inv, log, image.timeout_s * 1000.0, init_ms)
        return self._exited(inv, log, outcome.status, duration, init_ms)

    def _event(self, inv: Invocation, deadline_ms: int) -> bytes:
        parts = [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: ",
            inv.request_id.encode(),
            b"\r\nLambda-Runtime-Deadline-Ms: ",
            str(deadline_ms).encode(),
            b"\r\nLambda-Runtime-Invoked-Function-Arn: ",
            _header_value(inv.invoked_function_arn) if inv.invoked_function_arn else self._arn,
        ]
        if inv.trace_id:
            parts += (b"\r\nLambda-Runtime-Trace-Id: ", _header_value(inv.trace_id))
        if inv.client_context:
            parts += (b"\r\nLambda-Runtime-Client-Context: ", _header_value(inv.client_context))
        if inv.cognito_identity:
            parts += (b"\r\nLambda-Runtime-Cognito-Identity: ", _header_value(inv.cognito_identity))
        parts += (b"\r\nContent-Length: ", str(len(inv.payload)).encode(), b"\r\n\r\n", inv.payload)
        return b"".join(parts)

    def _finish(
        self,
        inv: Invocation,
        log: list[str],
        payload: bytes,
        error_type: str | None,
        status: str | None,
        duration: float,
        init_ms: float | None,
        report_error: str | None = None,
    ) -> InvocationResult:
        billed_ms = billed(duration)
        memory = self._max_memory_mb()
        log.append(self._take_output())
        log.append(self._platform.end(inv.request_id, status or "success", report_error))
        log.append(
            self._platform.report(
                Report(
                    inv.request_id,
                    duration,
                    billed_ms,
                    self.image.memory_mb,
                    memory,
                    init_ms,
                    status,
                    report_error,
                )
            )
        )
        return InvocationResult(
            payload=payload,
            function_error="Unhandled" if error_type is not None else None,
            error_type=error_type,
            log="".join(log),
            log_stream=self.log_stream,
            init_duration_ms=init_ms,
            duration_ms=duration,
            billed_duration_ms=billed_ms,
            max_memory_used_mb=memory,
        )

    def _timed_out(
        self, inv: Invocation, log: list[str], duration: float, init_ms: float | None
    ) -> InvocationResult:
        self._discard_process()
        log.append(self._take_output())
        log.append(self._platform.timed_out(inv.request_id, self.image.timeout_s))
        limit = f"{self.image.timeout_s:.2f}"
        message = f"RequestId: {inv.request_id} Error: Task timed out after {limit} seconds"
        payload = json.dumps(
            {"errorType": "Sandbox.Timedout", "errorMessage": message}, separators=(",", ":")
        ).encode()
        return self._finish(inv, log, payload, "Sandbox.Timedout", "timeout", duration, init_ms)

    def _exited(
        self, inv: Invocation, log: list[str], status: int, duration: float, init_ms: float | None
    ) -> InvocationResult:
        self._discard_process()
        error_type = "Runtime.ExitError"
        if self._cgroup is not None:
            kills = self._cgroup.oom_kills()
            if kills > self._oom_seen:
                self._oom_seen = kills
                error_type = "Runtime.OutOfMemory"
                # The process is gone with its VmHWM; the cgroup remembers the peak.
                self._peak_mb = max(
                    self._peak_mb, min(self._cgroup.peak_mb(), self.image.memory_mb)
                )
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            message = (
                f"RequestId: {inv.request_id} Error: Runtime exited without providing a reason"
            )
        else:
            reason = exit_reason(status)
            message = f"RequestId: {inv.request_id} Error: Runtime exited with error: {reason}"
        log.append(self._take_output())
        log.append(self._platform.runtime_exit(message, error_type))
        payload = json.dumps(
            {"errorType": error_type, "errorMessage": message}, separators=(",", ":")
        ).encode()
        return self._finish(inv, log, payload, error_type, "error", duration, init_ms, error_type)

    def _init_failed(
        self, inv: Invocation, outcome: Outcome, init_ms: float, log: list[str]
    ) -> InvocationResult:
        if outcome.kind == "exit":
            log.append(self._platform.init_report(init_ms, "init", "error", "Runtime.ExitError"))
            log.append(self._platform.start(inv.request_id))
            return self._exited(inv, log, outcome.status, init_ms, None)
        error_type = _error_type(outcome.body, outcome.error_type) or "Runtime.Unknown"
        self._discard_process()
        log.append(self._platform.init_report(init_ms, "init", "error", error_type))
        log.append(self._platform.start(inv.request_id))
        return self._finish(inv, log, outcome.body, error_type, "error", init_ms, None, error_type)

    # -- teardown --------------------------------------------------------------------------

    async def close(self) -> None:
        self.retired = True
        self._discard_process()
        live = list(self._live.values())
        if live:
            await asyncio.wait(live, timeout=5.0)
        for pid in self._live:
            self.zygote.forget(pid)
        self._live.clear()
        if self._out_fd is not None:
            asyncio.get_running_loop().remove_reader(self._out_fd)
            os.close(self._out_fd)
            self._out_fd = None
        await self.api.aclose()
        if self.strict and self.zygote.alive:
            with contextlib.suppress(SandboxError):
                await self.zygote.request({"op": "drop_slot", "slot": self.slot})
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        if self._cgroup is not None:
            self._stale_cgroups.append(self._cgroup)
            self._cgroup = None
        for _ in range(50):
            self._remove_stale_cgroups()
            if not self._stale_cgroups:
                break
            await asyncio.sleep(0.02)


def _settle(waiter: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not waiter.done():
        waiter.set_result(outcome)


def _error_type(body: bytes, header: str | None) -> str | None:
    """The errorType the runtime reported (body first), else the sanitised header."""
    try:
        value = json.loads(body).get("errorType")
        if isinstance(value, str) and value:
            return value
    except (ValueError, AttributeError):
        pass
    if header and (header.startswith("Runtime.") or header.startswith("Function.")):
        return header
    return (
        "Function.Unknown" if header is None or header.startswith("Function") else "Runtime.Unknown"
    )


__all__ = ["STRICT", "Environment", "HostContext", "exit_reason"]
