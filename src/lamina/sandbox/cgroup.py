"""Memory cgroups for environments, cgroup v1 and v2 behind one small interface."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MemoryCgroup:
    """One environment slot's memory cgroup."""

    path: Path
    version: int

    def peak_mb(self) -> int:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return -(-int((self.path / name).read_text()) // _MIB)
        except (OSError, ValueError):
            return 0

    def oom_kills(self) -> int:
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.path / name).read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> bool:
        try:
            os.rmdir(self.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True


@dataclass(frozen=True, slots=True)
class CgroupRoot:
    """The directory under which Lamina creates one memory cgroup per environment."""

    path: Path
    version: int

    @staticmethod
    def detect(name: str) -> tuple[CgroupRoot | None, str]:
        """Find a writable memory hierarchy below our own cgroup; say why when there is none."""
        try:
            own = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError as exc:
            return None, f"cannot read /proc/self/cgroup: {exc}"
        v1 = Path("/sys/fs/cgroup/memory")
        for line in own:
            _, names, rel = line.split(":", 2)
            if "memory" in names.split(",") and (v1 / "memory.limit_in_bytes").exists():
                return CgroupRoot._make(v1 / rel.lstrip("/") / name, 1)
        v2 = Path("/sys/fs/cgroup")
        for line in own:
            if line.startswith("0::") and (v2 / "cgroup.controllers").exists():
                parent = v2 / line[3:].lstrip("/")
                controllers = (parent / "cgroup.controllers").read_text().split()
                if "memory" not in controllers:
                    return None, "cgroup v2 memory controller not delegated to our cgroup"
                return CgroupRoot._make(parent / name, 2)
        return None, "no memory cgroup hierarchy mounted"

    @staticmethod
    def _make(path: Path, version: int) -> tuple[CgroupRoot | None, str]:
        try:
            path.mkdir(exist_ok=True)
            if version == 2:
                (path / "cgroup.subtree_control").write_text("+memory")
        except OSError as exc:
            return None, f"cannot create memory cgroup {path}: {exc.strerror}"
        return CgroupRoot(path, version), f"memory cgroup v{version} at {path}"

    def group(self, name: str) -> MemoryCgroup:
        """A cgroup the zygote created below this root (its processes start inside it)."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"bad cgroup name {name!r}")
        return MemoryCgroup(self.path / name, self.version)

    def zygote_config(self) -> dict[str, object]:
        return {"root": str(self.path), "version": self.version}

    def remove(self) -> bool:
        """Remove every empty cgroup below the root and then the root; True when gone."""
        for child in self.path.iterdir() if self.path.exists() else ():
            if child.is_dir():
                MemoryCgroup(child, self.version).remove()
        try:
            os.rmdir(self.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True
