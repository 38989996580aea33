"""The values that cross the sandbox boundary: what to run, what to invoke, what came back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FunctionImage:
    """Everything needed to boot an environment for one function version."""

    key: str
    function_name: str
    function_version: str
    function_arn: str
    runtime: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    memory_mb: int
    timeout_s: int
    ephemeral_storage_mb: int
    environment: Mapping[str, str]
    region: str
    account_id: str
    log_group: str
    log_format: str
    python_executable: Path | None
    runtime_warning: str | None
    endpoint_url: str

    @property
    def is_custom_runtime(self) -> bool:
        return self.runtime.startswith("provided")


@dataclass(frozen=True, slots=True)
class Invocation:
    request_id: str
    payload: bytes
    invoked_function_arn: str
    trace_id: str
    client_context: str | None
    cognito_identity: str | None


@dataclass(frozen=True, slots=True)
class InvocationResult:
    payload: bytes
    function_error: str | None
    error_type: str | None
    log: str
    log_stream: str
    init_duration_ms: float | None
    duration_ms: float
    billed_duration_ms: int
    max_memory_used_mb: int
