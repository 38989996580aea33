"""What isolation the host allows, decided once at start-up, and the host-side mount helpers.

Modes:
- ``strict``: per-environment uid/gid, pid + mount + ipc namespaces over a read-only,
  minimal view of the host, a memory cgroup, rlimits.
- ``strict-no-memory-cgroup``: the same, but memory is bounded by RLIMIT_DATA.
- ``unisolated``: plain processes with the environment allow-list and rlimits only
  (not root, or namespaces refused). Functions can read the host as Lamina's user.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import SandboxError
from lamina.sandbox.cgroup import CgroupRoot

STRICT = "strict"
STRICT_NO_CGROUP = "strict-no-memory-cgroup"
UNISOLATED = "unisolated"

UID_BASE = 200_000  # environment slot n runs as uid/gid uid_base() + n


def uid_base(pid: int | None = None) -> int:
    """This server's first environment uid. Each server process takes its own block of
    10,000 uids, so two servers on one host never share an environment uid (a shared uid
    would share RLIMIT_NPROC and let one server's functions signal the other's)."""
    return UID_BASE + ((os.getpid() if pid is None else pid) % 100_000) * 10_000


RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
# Host paths no function may see (tmpfs over them); /var and /tmp are replaced too.
HIDDEN_PATHS = ("/root", "/home", "/run", "/mnt", "/media", "/srv")

_SYS_OPEN_TREE = 428
_SYS_MOUNT_SETATTR = 442
_OPEN_TREE_CLONE = 1
_AT_RECURSIVE = 0x8000
_AT_EMPTY_PATH = 0x1000
_MOUNT_ATTR_RDONLY_NOSUID_NODEV = 0x1 | 0x2 | 0x4

_PROBE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def check(rc, what):
    if rc != 0:
        e = ctypes.get_errno(); print(what + ": " + os.strerror(e)); sys.exit(1)
check(libc.unshare(0x00020000 | 0x20000000 | 0x08000000), "unshare(mount|pid|ipc)")
check(libc.mount(None, b"/", None, 16384 | (1 << 18), None), "make / private")
check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, b"size=1m"), "mount tmpfs")
pid = os.fork()
if pid == 0:
    check(libc.mount(b"proc", b"/proc", b"proc", 0, None), "mount proc")
    os.setresgid(%(uid)d, %(uid)d, %(uid)d); os.setresuid(%(uid)d, %(uid)d, %(uid)d)
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(0 if status == 0 else 2)
"""


@dataclass(frozen=True, slots=True)
class IsolationPolicy:
    mode: str
    reason: str
    cgroups: CgroupRoot | None

    @property
    def namespaces(self) -> bool:
        return self.mode != UNISOLATED

    @staticmethod
    def decide(requested: str, cgroup_name: str) -> IsolationPolicy:
        if requested not in ("auto", STRICT, "none"):
            raise SandboxError(f"unknown isolation setting {requested!r}")
        if requested == "none":
            return IsolationPolicy(UNISOLATED, "isolation disabled by configuration", None)
        problem = _namespace_problem()
        if problem is None:
            cgroups, why = CgroupRoot.detect(cgroup_name)
            if cgroups is not None:
                return IsolationPolicy(STRICT, f"namespaces, per-environment uid, {why}", cgroups)
            policy = IsolationPolicy(STRICT_NO_CGROUP, f"namespaces, uid; {why}", None)
        else:
            policy = IsolationPolicy(UNISOLATED, problem, None)
        if requested == STRICT:
            raise SandboxError(f"strict isolation unavailable: {policy.reason}")
        return policy


def _namespace_problem() -> str | None:
    if os.geteuid() != 0:
        return "not running as root: no namespaces, uid switching or cgroups"
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _PROBE % {"uid": UID_BASE}],
            capture_output=True,
            timeout=10,
            env={},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"namespace probe failed: {exc}"
    if done.returncode != 0:
        return f"namespace probe failed: {done.stdout.decode().strip() or done.returncode}"
    try:
        MountTrees().close(MountTrees().detached("/"))
    except OSError as exc:
        return f"open_tree(2) unavailable: {exc.strerror}"
    return None


class MountTrees:
    """Detached read-only copies of host directories (open_tree + mount_setattr).

    A bind-mount source must live in the caller's mount namespace; a detached tree can
    be attached anywhere, so the host hands these to the zygote, whose namespace no
    longer shows the data directory.
    """

    __slots__ = ("_libc",)

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long

    def detached(self, path: str) -> int:
        flags = _OPEN_TREE_CLONE | _AT_RECURSIVE | os.O_CLOEXEC
        fd = int(self._libc.syscall(_SYS_OPEN_TREE, -100, path.encode(), flags))
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
        attr = struct.pack("QQQQ", _MOUNT_ATTR_RDONLY_NOSUID_NODEV, 0, 0, 0)
        rc = self._libc.syscall(
            _SYS_MOUNT_SETATTR, fd, b"", _AT_EMPTY_PATH | _AT_RECURSIVE, attr, len(attr)
        )
        if rc < 0:
            err = ctypes.get_errno()
            os.close(fd)
            raise OSError(err, os.strerror(err), path)
        return fd

    def close(self, fd: int) -> None:
        os.close(fd)


def build_runtime_dir(target: Path) -> list[str]:
    """Symlink the host's boto3 family into ``target``; return the real paths to reveal.

    Nothing is imported: functions import them lazily, so the zygote stays small.
    """
    target.mkdir(parents=True, exist_ok=True)
    reveal: list[str] = []
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            source = Path(next(iter(spec.submodule_search_locations)))
            link = target / name
        elif spec.origin:
            source = Path(spec.origin)
            link = target / source.name
        else:
            continue
        source = source.resolve()
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source)
        reveal.append(str(source))
    return reveal
