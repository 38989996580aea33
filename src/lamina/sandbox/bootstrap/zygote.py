"""Fork server for execution environments (runs under the function's interpreter).

Started once per interpreter with ``python -I -S zygote.py <config-json>`` and a
SOCK_SEQPACKET control socket (fd number in the config). It preloads the runtime, optionally builds
a private mount namespace that hides the host (strict mode), then forks one child
per ``spawn`` request. In strict mode each child is pid 2 of a pid namespace whose
init (a minimal reaper, see :class:`Inits`) was forked ahead of demand, and the child
itself was forked ahead of demand too, already inside its own memory cgroup (see
:class:`Spares`). Children finish their own sandbox (mount/ipc namespaces, /tmp, /proc,
rlimits, uid) and either run the preloaded runtime or exec a custom bootstrap. Standard
library only, Python 3.8-3.13, never imports lamina.
"""

from __future__ import annotations

import array
import ctypes
import gc
import importlib.util
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
SYS_MOVE_MOUNT = 429  # same number on every architecture (new syscall table)
MOVE_MOUNT_F_EMPTY_PATH = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
SLOTS = "/var/.slots"
LAYERS = "/var/.layers"
MAX_LAYERS = 5

_libc: Any = None


def _sys(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))
    return result


def _mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    _sys(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        "mount %s" % target,
    )


def _read_only(target: str) -> None:
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def _attach(tree_fd: int, target: str) -> None:
    _sys(
        _libc.syscall(SYS_MOVE_MOUNT, tree_fd, b"", -100, target.encode(), MOVE_MOUNT_F_EMPTY_PATH),
        "move_mount %s" % target,
    )


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def build_host_view(config: dict[str, Any]) -> None:
    """Make this process's mount namespace the template every child copies."""
    _sys(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    reveal = [sys.base_prefix, sys.prefix, *config.get("reveal", [])]
    # Open everything still needed before the tmpfs layers hide it.
    held = [(p, os.open(p, os.O_PATH)) for p in dict.fromkeys(reveal) if os.path.exists(p)]
    runtime_dir = os.open(config["runtime_dir"], os.O_PATH)
    hidden: list[str] = []
    for path in sorted(set(config.get("hide", [])) | {"/var", "/tmp"}, key=len):
        if os.path.isdir(path) and not _under(path, hidden):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
            hidden.append(path)
    revealed: list[str] = []
    for path, fd in sorted(held, key=lambda item: len(item[0])):
        if not _under(path, hidden) or _under(path, revealed):
            os.close(fd)
            continue
        revealed.append(path)
        if os.path.isdir("/proc/self/fd/%d" % fd):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _mount("/proc/self/fd/%d" % fd, path, None, MS_BIND | MS_REC, None)
        _read_only(path)
        os.close(fd)
    for sub in (
        "task",
        "runtime",
        ".slots",
        *("%s/%d" % (LAYERS[5:], i) for i in range(MAX_LAYERS)),
    ):
        os.makedirs("/var/" + sub, exist_ok=True)
    _mount("/proc/self/fd/%d" % runtime_dir, "/var/runtime", None, MS_BIND, None)
    _read_only("/var/runtime")
    os.close(runtime_dir)
    _mount("tmpfs", SLOTS, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700")
    for path in hidden:
        _read_only(path)
    _read_only("/")


def make_slot(msg: dict[str, Any]) -> None:
    path = "%s/%d" % (SLOTS, msg["slot"])
    if os.path.ismount(path):
        return
    os.makedirs(path, exist_ok=True)
    _mount(
        "tmpfs",
        path,
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        "size=%dm,mode=700,uid=%d,gid=%d" % (msg["size_mb"], msg["uid"], msg["gid"]),
    )


def drop_slot(msg: dict[str, Any]) -> None:
    path = "%s/%d" % (SLOTS, msg["slot"])
    if os.path.ismount(path):
        _libc.umount2(path.encode(), MNT_DETACH)
    if os.path.isdir(path):
        os.rmdir(path)


def _enter_sandbox(msg: dict[str, Any], fds: list[int]) -> None:
    """Runs in the child, as root, before the uid drop."""
    _sys(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare(CLONE_NEWNS)")
    _attach(fds[1], "/var/task")
    layers = fds[2:]
    if len(layers) == 1:
        _attach(layers[0], "/opt")
    elif layers:
        points = ["%s/%d" % (LAYERS, i) for i in range(len(layers))]
        for fd, point in zip(layers, points):
            _attach(fd, point)
        # Later layers win, and overlayfs gives priority to the leftmost lowerdir.
        lower = ":".join(reversed(points))
        _mount("overlay", "/opt", "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, "lowerdir=" + lower)
        for point in points:
            _libc.umount2(point.encode(), MNT_DETACH)
    _mount("%s/%d" % (SLOTS, msg["slot"]), "/tmp", None, MS_BIND, None)
    _libc.umount2(SLOTS.encode(), MNT_DETACH)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def _reap_forever() -> None:
    """Be pid 1 of a fresh pid namespace: reap whatever is reparented here, do nothing else.

    pid 1 ignores every signal it has no handler for, so a runtime running as pid 1 could
    not kill or abort itself, and orphans would pile up as zombies. The runtime therefore
    runs as pid 2 (a child of the zygote, which receives its exit status directly) and
    this process, forked ahead of demand, is the namespace's init. It holds no fds and
    lives until the zygote kills it, which kills everything left in the namespace.
    """
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()
    os.chdir("/")
    for name in os.listdir("/proc/self/fd"):
        try:
            os.close(int(name))
        except OSError:
            pass
    while True:
        signal.sigwaitinfo({signal.SIGCHLD})
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break


def _child(msg: dict[str, Any], fds: list[int], runtime: Any) -> None:
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log_fd = fds[0]
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.setsid()
    if msg.get("strict"):
        _enter_sandbox(msg, fds)
    for name, value in msg.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, "RLIMIT_" + name.upper()), (value, value))
    if msg.get("uid") is not None:
        _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.setgroups([])
        os.setresgid(msg["gid"], msg["gid"], msg["gid"])
        os.setresuid(msg["uid"], msg["uid"], msg["uid"])
    # Set after the uid change (which clears it): the environment dies with its zygote.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.chdir(msg["cwd"])
    for name in os.listdir("/proc/self/fd"):
        if int(name) > 2:
            try:
                os.close(int(name))
            except OSError:
                pass
    env = msg["env"]
    argv = msg.get("argv")
    if argv:
        try:
            os.execve(argv[0], argv, env)
        except OSError as exc:
            os.write(2, ("exec %s: %s\n" % (argv[0], exc.strerror)).encode())
            os._exit(127)
    os.environ.clear()
    os.environ.update(env)
    sys.path[:] = msg["sys_path"] + [p for p in sys.path if p]
    sys.argv = [msg["cwd"]]
    gc.unfreeze()
    runtime.main()


def _recv(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    data, ancdata, _flags, _addr = sock.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
    fds: list[int] = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds.extend(struct.unpack("%di" % (usable // 4), payload[:usable]))
    if not data:
        return None, fds
    return json.loads(data), fds


def _send(sock: socket.socket, msg: dict[str, Any]) -> None:
    sock.send(json.dumps(msg).encode())


class Inits:
    """Namespace inits: one spare forked ahead of demand, and the one of each environment.

    An environment's runtime is forked straight into the spare init's pid namespace, so it
    is pid 2 there and still the zygote's own child (its wait status needs no relaying).
    When the runtime is reaped the zygote kills its init, which takes down whatever the
    runtime left in the namespace, and reports the runtime's exit once the init is reaped
    too, so a slot is never reused while anything of its previous runtime survives.
    """

    def __init__(self, own_ns: int) -> None:
        self.own_ns = own_ns
        self.spare: tuple[int, int] | None = None  # (init pid, its pid namespace fd)
        self.init_of: dict[int, int] = {}  # live runtime pid -> its init pid
        self.runtime_of: dict[int, int] = {}  # live init pid -> its runtime pid (0: none)
        self.status: dict[int, int] = {}  # reaped runtime pid -> wait status

    def prepare(self) -> None:
        if self.spare is not None:
            return
        _sys(_libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
        try:
            pid = os.fork()
        except BaseException:
            _sys(_libc.setns(self.own_ns, CLONE_NEWPID), "setns")
            raise
        if pid == 0:
            try:
                _reap_forever()
            finally:
                os._exit(70)
        # Later children must not join this namespace unless asked to.
        _sys(_libc.setns(self.own_ns, CLONE_NEWPID), "setns")
        try:
            ns = os.open("/proc/%d/ns/pid" % pid, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            os.kill(pid, signal.SIGKILL)
            self.runtime_of[pid] = 0
            raise
        self.spare = (pid, ns)

    def fork_into_spare(self) -> int:
        """fork(); the child is pid 2 of the spare init's pid namespace."""
        self.prepare()
        assert self.spare is not None
        init, ns = self.spare
        self.spare = None
        try:
            _sys(_libc.setns(ns, CLONE_NEWPID), "setns")
            pid = os.fork()
        except BaseException:
            _libc.setns(self.own_ns, CLONE_NEWPID)
            os.close(ns)
            os.kill(init, signal.SIGKILL)
            self.runtime_of[init] = 0
            raise
        if pid == 0:
            return 0
        _sys(_libc.setns(self.own_ns, CLONE_NEWPID), "setns")
        os.close(ns)
        self.init_of[pid] = init
        self.runtime_of[init] = pid
        return pid

    def reaped(self, pid: int, status: int) -> tuple[int, int] | None:
        """Account for a reaped child; return (runtime pid, status) once one is over."""
        init = self.init_of.get(pid)
        if init is not None:  # a runtime: its init goes next, and with it the namespace
            if init in self.runtime_of:
                self.status[pid] = status
                os.kill(init, signal.SIGKILL)  # not reaped yet, so the pid is still its
                return None
            del self.init_of[pid]
            return pid, status
        if pid in self.runtime_of:  # an init
            runtime = self.runtime_of.pop(pid)
            if runtime in self.status:
                del self.init_of[runtime]
                return runtime, self.status.pop(runtime)
            return None  # its runtime, killed with the namespace, is reaped next
        if self.spare is not None and self.spare[0] == pid:
            os.close(self.spare[1])
            self.spare = None
            return None
        return pid, status


def _enter_cgroup(cgroup: dict[str, Any], name: str) -> None:
    """Create this process's memory cgroup and move into it (off the hot path).

    Under cgroup v1 a single-threaded process moves itself through ``tasks``, which skips
    the global threadgroup lock whose writers wait for an RCU grace period."""
    path = os.path.join(cgroup["root"], name)
    os.mkdir(path, 0o755)
    with open(os.path.join(path, "tasks" if cgroup["version"] == 1 else "cgroup.procs"), "w") as f:
        f.write("0")


def _limit_cgroup(cgroup: dict[str, Any], name: str, memory_mb: int) -> None:
    path = os.path.join(cgroup["root"], name)
    limit = str(memory_mb * 1024 * 1024)
    if cgroup["version"] == 1:
        files = [
            ("memory.limit_in_bytes", limit, True),
            ("memory.memsw.limit_in_bytes", limit, False),
        ]
    else:
        files = [("memory.max", limit, True), ("memory.swap.max", "0", False)]
    for file, value, required in files:
        try:
            with open(os.path.join(path, file), "w") as f:
                f.write(value)
        except OSError:
            if required:
                raise  # the swap files are absent without swap accounting


def _run_spare(sock: socket.socket, cgroup: dict[str, Any] | None, name: str, runtime: Any) -> None:
    """A spare environment process: join a fresh memory cgroup, then wait to become a runtime."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    keep = sock.fileno()
    for fd_name in os.listdir("/proc/self/fd"):
        fd = int(fd_name)
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass
    problem = None
    if cgroup is not None:
        try:
            _enter_cgroup(cgroup, name)
        except OSError as exc:
            problem = "cannot enter memory cgroup %s: %s" % (name, exc)
    msg, fds = _recv(sock)
    sock.close()
    if msg is None:
        os._exit(0)
    if problem is None and cgroup is not None:
        try:
            _limit_cgroup(cgroup, name, int(msg["memory_mb"]))
        except (OSError, KeyError, ValueError) as exc:
            problem = "cannot limit memory cgroup %s: %s" % (name, exc)
    if problem is not None:
        os.write(fds[0] if fds else 2, ("lamina: %s\n" % problem).encode())
        os._exit(70)
    _child(msg, fds, runtime)


class Spares:
    """One environment process forked ahead of demand into the spare pid namespace.

    Moving a process into a cgroup can wait for an RCU grace period (milliseconds when
    the host has been idle), so the spare enters its own fresh memory cgroup as soon as
    it is forked, after the previous spawn. A ``spawn`` then only hands it the message
    and descriptors over a socket pair; the runtime starts inside its cgroup, and the
    reply names that cgroup for the host to account and remove."""

    def __init__(self, inits: Inits, cgroup: dict[str, Any] | None, runtime: Any) -> None:
        self.inits = inits
        self.cgroup = cgroup
        self.runtime = runtime
        self.seq = 0
        self.spare: tuple[int, socket.socket, str] | None = None

    def prepare(self) -> None:
        if self.spare is not None:
            return
        self.seq += 1
        name = "spare-%d-%d" % (os.getpid(), self.seq)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = self.inits.fork_into_spare()
        except BaseException:
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            ours.close()
            _child_main(lambda: _run_spare(theirs, self.cgroup, name, self.runtime))
        theirs.close()
        self.spare = (pid, ours, name)

    def hand_off(self, msg: dict[str, Any], fds: list[int]) -> tuple[int, str | None]:
        for attempt in (1, 2):
            self.prepare()
            assert self.spare is not None
            pid, sock, name = self.spare
            self.spare = None
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            try:
                sock.sendmsg([json.dumps(msg).encode()], ancillary if fds else [])
            except OSError:
                if attempt == 2:
                    raise
                continue  # the spare died; it is reaped as usual, and a fresh one is made
            finally:
                sock.close()
            return pid, (name if self.cgroup is not None else None)
        raise AssertionError("unreachable")


def _spawn(
    msg: dict[str, Any], fds: list[int], runtime: Any, spares: Spares | None
) -> tuple[int, str | None]:
    if spares is not None:
        if msg.get("size_mb"):
            make_slot(msg)
        return spares.hand_off(msg, fds)
    pid = os.fork()
    if pid == 0:
        _child_main(lambda: _child(msg, fds, runtime))
    return pid, None


def _child_main(work: Any) -> None:
    """Run a forked child's work and leave with its exit code, never returning into the
    zygote's own loop (70 when it failed before choosing one)."""
    code = 70
    try:
        work()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(config: dict[str, Any], runtime: Any) -> None:
    control = socket.socket(fileno=int(config["control_fd"]))
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    strict = bool(config.get("strict"))
    inits = Inits(os.open("/proc/self/ns/pid", os.O_RDONLY)) if strict else None
    spares = Spares(inits, config.get("cgroup"), runtime) if inits is not None else None
    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()  # keeps the GC from dirtying shared pages in children
    if spares is not None:
        spares.prepare()
    _send(control, {"op": "ready", "pid": os.getpid(), "python": "%d.%d" % sys.version_info[:2]})
    while True:
        ready, _, _ = select.select([control.fileno(), wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 512)
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                over = inits.reaped(pid, status) if inits is not None else (pid, status)
                if over is not None:
                    _send(control, {"op": "exit", "pid": over[0], "status": over[1]})
        if control.fileno() not in ready:
            continue
        msg, fds = _recv(control)
        if msg is None:
            return
        reply: dict[str, Any] = {"op": "done", "id": msg.get("id")}
        try:
            if msg["op"] == "spawn":
                reply["pid"], reply["cgroup"] = _spawn(
                    dict(msg, strict=strict), fds, runtime, spares
                )
            elif msg["op"] == "slot" and strict:
                make_slot(msg)
            elif msg["op"] == "drop_slot" and strict:
                drop_slot(msg)
        except Exception as exc:
            reply["error"] = "%s: %s" % (type(exc).__name__, exc)
        finally:
            for fd in fds:
                os.close(fd)
        _send(control, reply)
        if spares is not None and spares.spare is None:
            try:
                spares.prepare()  # the next spawn's process, while this one's runtime boots
            except OSError:
                pass  # the next spawn tries again and reports the error


def preload() -> None:
    """Import, before any fork, what every environment would otherwise import on its own."""
    try:
        # socket.getaddrinfo() with a str host goes through the idna codec; importing it
        # in each environment costs ~2 ms of the first network call of every cold start.
        import encodings.idna  # noqa: F401
    except ImportError:
        pass


def load_runtime() -> Any:
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "_lamina_bootstrap_runtime", os.path.join(here, "runtime.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    global _libc
    config = json.loads(sys.argv[1])
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = ctypes.c_long
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    runtime = load_runtime()
    preload()
    if config.get("strict"):
        build_host_view(config)
    serve(config, runtime)


if __name__ == "__main__":
    main()
