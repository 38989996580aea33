"""The lines Lambda itself writes to a function's log (INIT_START, START, END, REPORT, ...).

Text format follows spec 2.5; the JSON format uses the Telemetry API record shapes.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from lamina.sandbox.records import FunctionImage

# Runtime version numbers are opaque on AWS; a fixed one keeps logs stable.
RUNTIME_VERSION_NUMBER = 1


def iso_timestamp(epoch: float | None = None) -> str:
    now = time.time() if epoch is None else epoch
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def runtime_version(runtime: str) -> tuple[str, str]:
    """Return (``python:3.12.v1``, runtime version ARN hex) for a runtime identifier."""
    if runtime.startswith("python"):
        label = f"python:{runtime[len('python') :]}.v{RUNTIME_VERSION_NUMBER}"
    elif runtime.startswith("provided"):
        flavour = runtime.partition(".")[2] or "alami"
        label = f"provided:{flavour}.v{RUNTIME_VERSION_NUMBER}"
    else:
        label = f"{runtime}.v{RUNTIME_VERSION_NUMBER}"
    return label, hashlib.sha256(label.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_duration_ms: float | None = None
    status: str | None = None  # "timeout" | "error"
    error_type: str | None = None


def billed(duration_ms: float) -> int:
    return max(1, math.ceil(duration_ms))


class PlatformLog:
    """Formats platform lines for one function's log format."""

    __slots__ = ("_json", "_version")

    def __init__(self, image: FunctionImage) -> None:
        self._json = image.log_format == "JSON"
        self._version = image.function_version

    def _record(self, kind: str, record: dict[str, Any]) -> str:
        return json.dumps({"time": iso_timestamp(), "type": kind, "record": record}) + "\n"

    def init_start(self, image: FunctionImage) -> str:
        label, digest = runtime_version(image.runtime)
        arn = f"arn:aws:lambda:{image.region}::runtime:{digest}"
        if self._json:
            return self._record(
                "platform.initStart",
                {
                    "initializationType": "on-demand",
                    "phase": "init",
                    "runtimeVersion": label,
                    "runtimeVersionArn": arn,
                    "functionName": image.function_name,
                    "functionVersion": image.function_version,
                },
            )
        line = f"INIT_START Runtime Version: {label}\tRuntime Version ARN: {arn}"
        if image.runtime_warning:
            line += f"\t{image.runtime_warning}"
        return line + "\n"

    def init_report(self, duration_ms: float, phase: str, status: str, error: str | None) -> str:
        if self._json:
            record: dict[str, Any] = {
                "initializationType": "on-demand",
                "phase": phase,
                "status": status,
                "metrics": {"durationMs": round(duration_ms, 2)},
            }
            if error:
                record["errorType"] = error
            return self._record("platform.initReport", record)
        line = f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: {phase}\tStatus: {status}"
        if error:
            line += f"\tError Type: {error}"
        return line + "\n"

    def start(self, request_id: str) -> str:
        if self._json:
            return self._record(
                "platform.start", {"requestId": request_id, "version": self._version}
            )
        return f"START RequestId: {request_id} Version: {self._version}\n"

    def end(self, request_id: str, status: str, error: str | None) -> str:
        if self._json:
            record: dict[str, Any] = {"requestId": request_id, "status": status}
            if error:
                record["errorType"] = error
            return self._record("platform.runtimeDone", record)
        return f"END RequestId: {request_id}\n"

    def report(self, r: Report) -> str:
        if self._json:
            metrics: dict[str, Any] = {
                "durationMs": round(r.duration_ms, 2),
                "billedDurationMs": r.billed_ms,
                "memorySizeMB": r.memory_mb,
                "maxMemoryUsedMB": r.max_memory_mb,
            }
            if r.init_duration_ms is not None:
                metrics["initDurationMs"] = round(r.init_duration_ms, 2)
            record: dict[str, Any] = {
                "requestId": r.request_id,
                "metrics": metrics,
                "status": r.status or "success",
            }
            if r.error_type:
                record["errorType"] = r.error_type
            return self._record("platform.report", record)
        line = (
            f"REPORT RequestId: {r.request_id}\tDuration: {r.duration_ms:.2f} ms\t"
            f"Billed Duration: {r.billed_ms} ms\tMemory Size: {r.memory_mb} MB\t"
            f"Max Memory Used: {r.max_memory_mb} MB\t"
        )
        if r.init_duration_ms is not None:
            line += f"Init Duration: {r.init_duration_ms:.2f} ms\t"
        if r.status:
            line += f"Status: {r.status}\t"
        if r.error_type:
            line += f"Error Type: {r.error_type}\t"
        return line + "\n"

    def timed_out(self, request_id: str, timeout_s: float) -> str:
        return f"{iso_timestamp()} {request_id} Task timed out after {timeout_s:.2f} seconds\n"

    def runtime_exit(self, message: str, error_type: str) -> str:
        return f"{message}\n{error_type}\n"
