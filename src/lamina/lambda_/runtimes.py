"""Which runtimes exist, which AWS still accepts, and which this host can run."""

from __future__ import annotations

import glob
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import InvalidParameterValueException

log = logging.getLogger("lamina.runtimes")

# AWS's own list of runtimes accepted for create and update, in the order its
# enum error prints them (recorded Nov 2025).
ACCEPTED_RUNTIMES = (
    "nodejs20.x",
    "python3.14",
    "provided.al2023",
    "python3.12",
    "python3.13",
    "nodejs24.x",
    "nodejs22.x",
    "java25",
    "python3.10",
    "python3.11",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "ruby3.2",
    "python3.8",
    "python3.9",
    "java17",
    "nodejs16.x",
    "dotnet10",
    "dotnet8",
    "java11",
    "dotnet6",
    "nodejs18.x",
    "provided.al2",
    "java8.al2",
)
CUSTOM_RUNTIMES = ("provided.al2", "provided.al2023")

# Interpreters are searched here, newest layouts first; PATH shims are skipped on purpose
# because they cost tens of milliseconds per start.
_SEARCH_PATTERNS = (
    "/root/.pyenv/versions/*/bin/python3.*",
    os.path.expanduser("~/.pyenv/versions/*/bin/python3.*"),
    "/usr/local/bin/python3.*",
    "/usr/bin/python3.*",
    "/opt/python*/bin/python3.*",
)


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """How a function's runtime runs on this host."""

    runtime: str
    interpreter: Path | None  # for python3.x and for awslambdaric-style bootstraps
    warning: str | None  # set when the exact interpreter is missing


class RuntimeCatalog:
    def __init__(self, model_runtimes: tuple[str, ...], *, strict: bool) -> None:
        self._model_runtimes = model_runtimes
        self._strict = strict
        self.interpreters = discover_interpreters()

    def check_known(self, runtime: str) -> None:
        """AWS checks the Runtime value itself, before the model's enum check."""
        if runtime not in self._model_runtimes and not runtime.startswith("arn:"):
            raise InvalidParameterValueException(
                f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy"
                f" enum value set: [{', '.join(ACCEPTED_RUNTIMES)}] or be a valid ARN"
            )

    def check(self, runtime: str) -> RuntimeChoice:
        """Refuse a runtime as AWS would, or as Lamina must; else say how it runs."""
        self.check_known(runtime)
        if runtime not in ACCEPTED_RUNTIMES:
            raise InvalidParameterValueException(
                f"The runtime parameter of {runtime} is no longer supported for creating or"
                " updating AWS Lambda functions. We recommend you use a supported runtime while"
                " creating or updating functions."
            )
        if runtime in CUSTOM_RUNTIMES:
            return RuntimeChoice(runtime, self.host_interpreter(), None)
        version = _python_version(runtime)
        if version is None:
            raise InvalidParameterValueException(
                f"Lamina cannot run the {runtime} runtime yet. Runtimes that run here:"
                f" {', '.join(self.runnable())}."
            )
        exact = self.interpreters.get(version)
        if exact is not None:
            return RuntimeChoice(runtime, exact, None)
        if self._strict or not self.interpreters:
            raise InvalidParameterValueException(
                f"Lamina cannot run the {runtime} runtime on this host: no Python"
                f" {version[0]}.{version[1]} interpreter is installed"
                + (" and strict runtimes are enabled." if self.interpreters else ".")
            )
        nearest = min(self.interpreters, key=lambda v: (abs(v[1] - version[1]), -v[1]))
        warning = (
            f"{runtime} is not installed on this host; running on Python"
            f" {nearest[0]}.{nearest[1]} instead"
        )
        return RuntimeChoice(runtime, self.interpreters[nearest], warning)

    def runnable(self) -> list[str]:
        return [r for r in ACCEPTED_RUNTIMES if r.startswith("python") or r in CUSTOM_RUNTIMES]

    def host_interpreter(self) -> Path:
        return Path(sys.executable).resolve()


def _python_version(runtime: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"python(\d)\.(\d+)", runtime)
    return (int(match[1]), int(match[2])) if match else None


def discover_interpreters() -> dict[tuple[int, int], Path]:
    """Python 3.8+ interpreters on this host by (major, minor), as absolute real paths."""
    found: dict[tuple[int, int], Path] = {}
    current = (sys.version_info.major, sys.version_info.minor)
    found[current] = Path(sys.executable).resolve()
    for pattern in _SEARCH_PATTERNS:
        for candidate in sorted(glob.glob(pattern)):
            match = re.search(r"python(\d)\.(\d+)$", candidate)
            if not match or not os.access(candidate, os.X_OK):
                continue
            version = (int(match[1]), int(match[2]))
            if version >= (3, 8) and version not in found:
                found[version] = Path(candidate).resolve()
    return dict(sorted(found.items()))
