"""Host-side handle on one fork server (``bootstrap/zygote.py``) per interpreter."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lamina.errors import SandboxError

BOOTSTRAP_DIR = Path(__file__).parent / "bootstrap"
START_TIMEOUT_S = 30.0

ExitCallback = Callable[[int, int], None]  # (pid, wait status)


class Zygote:
    """Starts the fork server, asks it for children, routes their exit statuses back."""

    def __init__(self, interpreter: Path, config: dict[str, Any]) -> None:
        self.interpreter = interpreter
        self.python_version = ""
        self._config = config
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._exits: dict[int, ExitCallback] = {}
        self._seq = 0
        self.alive = False

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = dict(self._config, control_fd=theirs.fileno())
        try:
            self._proc = subprocess.Popen(
                [
                    str(self.interpreter),
                    "-I",
                    "-S",
                    "-B",
                    str(BOOTSTRAP_DIR / "zygote.py"),
                    json.dumps(config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                env={"LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin"},
            )
        except OSError as exc:
            ours.close()
            raise SandboxError(f"cannot start zygote {self.interpreter}: {exc}") from exc
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._ready = loop.create_future()
        loop.add_reader(ours.fileno(), self._on_readable)
        self.alive = True
        try:
            hello = await asyncio.wait_for(self._ready, START_TIMEOUT_S)
        except (TimeoutError, SandboxError) as exc:
            self.close()
            raise SandboxError(f"zygote {self.interpreter} did not start: {exc}") from exc
        self.python_version = str(hello.get("python", ""))

    def _on_readable(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._on_eof()
                return
            msg = json.loads(data)
            op = msg.get("op")
            if op == "exit":
                callback = self._exits.pop(msg["pid"], None)
                if callback is not None:
                    callback(msg["pid"], msg["status"])
            elif op == "ready":
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(msg)
            else:
                waiter = self._replies.pop(msg.get("id", -1), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(msg)

    def _on_eof(self) -> None:
        self.alive = False
        if self._sock is not None:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
        error = SandboxError(f"zygote {self.interpreter} exited")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(error)
        for waiter in self._replies.values():
            if not waiter.done():
                waiter.set_exception(error)
        self._replies.clear()
        # Orphaned environments were killed (PDEATHSIG); report them as killed.
        exits, self._exits = self._exits, {}
        for pid, callback in exits.items():
            callback(pid, 9)

    async def request(self, msg: dict[str, Any], fds: Sequence[int] = ()) -> dict[str, Any]:
        if not self.alive or self._sock is None:
            raise SandboxError(f"zygote {self.interpreter} is not running")
        self._seq += 1
        msg = dict(msg, id=self._seq)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[self._seq] = waiter
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        try:
            self._sock.sendmsg([json.dumps(msg).encode()], ancillary)
        except OSError as exc:
            self._replies.pop(self._seq, None)
            raise SandboxError(f"zygote {self.interpreter}: {exc}") from exc
        reply = await waiter
        if "error" in reply:
            raise SandboxError(f"zygote {self.interpreter}: {reply['error']}")
        return reply

    async def spawn(
        self, msg: dict[str, Any], fds: list[int], on_exit: ExitCallback
    ) -> tuple[int, str | None]:
        """Start an environment process; return its pid and the name of the memory cgroup
        it already runs in (created by the zygote under the pool's cgroup root), if any."""
        reply = await self.request(dict(msg, op="spawn"), fds)
        pid = int(reply["pid"])
        self._exits[pid] = on_exit
        cgroup = reply.get("cgroup")
        return pid, str(cgroup) if cgroup else None

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)

    def close(self) -> None:
        self.alive = False
        if self._sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
