"""Sandbox test harness: real pools, real interpreters, real processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import textwrap
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

from lamina.sandbox import EnvironmentPool, FunctionImage, Invocation, InvocationResult

PYENV = Path("/root/.pyenv/versions")
INTERPRETERS = {
    "3.8": PYENV / "3.8.18/bin/python3.8",
    "3.9": PYENV / "3.9.18/bin/python3.9",
    "3.10": PYENV / "3.10.13/bin/python3.10",
    "3.11": PYENV / "3.11.7/bin/python3.11",
    "3.12": PYENV / "3.12.1/bin/python3.12",
    "3.13": PYENV / "3.13.0/bin/python3.13",
}
ACCOUNT = "123456789012"
T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def write_code(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return directory


def make_image(code_dir: Path, **overrides: Any) -> FunctionImage:
    name = overrides.pop("function_name", "fn")
    fields: dict[str, Any] = dict(
        function_name=name,
        function_version="$LATEST",
        function_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        runtime="python3.12",
        handler="handler.handler",
        code_dir=code_dir,
        layer_dirs=(),
        memory_mb=128,
        timeout_s=3,
        ephemeral_storage_mb=64,
        environment={},
        region="us-east-1",
        account_id=ACCOUNT,
        log_group=f"/aws/lambda/{name}",
        log_format="Text",
        python_executable=INTERPRETERS["3.12"],
        runtime_warning=None,
        endpoint_url="http://127.0.0.1:4566",
    )
    fields.update(overrides)
    fields.setdefault(
        "key", ":".join(str(v) for k, v in sorted(fields.items()) if k != "environment")
    )
    if fields["runtime"].startswith("provided"):
        fields["python_executable"] = None
    return FunctionImage(**fields)


def invocation(payload: Any = None, *, raw: bytes | None = None, **overrides: Any) -> Invocation:
    fields: dict[str, Any] = dict(
        request_id=str(uuid.uuid4()),
        payload=raw
        if raw is not None
        else json.dumps(payload if payload is not None else {}).encode(),
        invoked_function_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn",
        trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
        client_context=None,
        cognito_identity=None,
    )
    fields.update(overrides)
    return Invocation(**fields)


@contextlib.asynccontextmanager
async def open_pool(work_dir: Path, **kwargs: Any) -> AsyncIterator[EnvironmentPool]:
    pool = EnvironmentPool(work_dir=work_dir, **kwargs)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.aclose()


def body(result: InvocationResult) -> Any:
    return json.loads(result.payload)
