"""provided.* runtimes: a hand-written bootstrap probing the Runtime API, and awslambdaric."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sandbox.harness import body, invocation, make_image, open_pool, run
from tests.support.packages import pip_install

PROBE_BOOTSTRAP = f"""#!{sys.executable} -I
import http.client, json, os
conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
def call(method, path, body=None, headers=None):
    conn.request(method, "/2018-06-01/runtime/" + path, body=body, headers=headers or {{}})
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), resp.read()
status, headers, event = call("GET", "invocation/next")
rid = headers["Lambda-Runtime-Aws-Request-Id"]
seen = {{
    "next": [status, headers.get("Content-Type"), json.loads(event)],
    "headers": sorted(k for k in headers if k.startswith("Lambda-Runtime-")),
    "wrong_id": list(call("POST", "invocation/nope/response", b"{{}}")[::2]),
    "late_init_error": list(call("POST", "init/error", b"{{}}")[::2]),
    "unknown": call("GET", "nowhere")[0],
    "env": sorted(k for k in os.environ if k == "AWS_EXECUTION_ENV"),
}}
for key in ("wrong_id", "late_init_error"):
    seen[key][1] = json.loads(seen[key][1])
status, _, reply = call("POST", "invocation/" + rid + "/response", json.dumps(seen).encode())
status, headers, event = call("GET", "invocation/next")
rid = headers["Lambda-Runtime-Aws-Request-Id"]
call("POST", "invocation/" + rid + "/error", b'{{"errorType": "Custom", "errorMessage": "no"}}',
     {{"Lambda-Runtime-Function-Error-Type": "Runtime.Custom"}})
status, headers, event = call("GET", "invocation/next")
"""


def _write_bootstrap(directory: Path, text: str) -> None:
    path = directory / "bootstrap"
    path.write_text(text)
    path.chmod(0o755)


def test_runtime_api_status_codes(tmp_path: Path, code: Callable[..., Path]) -> None:
    directory = code({})
    _write_bootstrap(directory, PROBE_BOOTSTRAP)
    image = make_image(directory, runtime="provided.al2023", handler="unused")

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            inv = invocation({"a": 1}, client_context='{"custom": {}}', cognito_identity='{"x": 1}')
            result = await pool.invoke(image, inv)
            seen = body(result)
            assert seen["next"] == [200, "application/json", {"a": 1}]
            assert seen["headers"] == [
                "Lambda-Runtime-Aws-Request-Id",
                "Lambda-Runtime-Client-Context",
                "Lambda-Runtime-Cognito-Identity",
                "Lambda-Runtime-Deadline-Ms",
                "Lambda-Runtime-Invoked-Function-Arn",
                "Lambda-Runtime-Trace-Id",
            ]
            assert seen["wrong_id"] == [
                400,
                {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
            ]
            assert seen["late_init_error"][0] == 403
            assert seen["late_init_error"][1]["errorType"] == "InvalidStateTransition"
            assert seen["unknown"] == 404 and seen["env"] == []
            assert result.log.startswith("INIT_START Runtime Version: provided:al2023.v")
            failed = await pool.invoke(image, invocation())
            assert failed.function_error == "Unhandled" and failed.error_type == "Custom"
            assert body(failed) == {"errorType": "Custom", "errorMessage": "no"}

    run(scenario())


def test_missing_bootstrap_exits_127(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(code({"readme.txt": ""}), runtime="provided.al2", handler="x")

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            result = await pool.invoke(image, invocation())
            assert result.error_type == "Runtime.ExitError"
            assert body(result)["errorMessage"].endswith(
                "Runtime exited with error: exit status 127"
            )

    run(scenario())


@pytest.fixture(scope="session")
def awslambdaric_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(tmp_path_factory.mktemp("ric"), "awslambdaric")


def test_awslambdaric_as_bootstrap(
    tmp_path: Path, code: Callable[..., Path], awslambdaric_dir: Path
) -> None:
    # Build a deployment zip the way a user would, then unpack it as the code store does.
    bundle = tmp_path / "bundle"
    shutil.copytree(awslambdaric_dir, bundle)
    (bundle / "app.py").write_text(
        textwrap.dedent("""
        import logging
        logging.getLogger().setLevel(logging.INFO)
        def fn(event, context):
            logging.info("from ric")
            print("printed")
            if event.get("fail"):
                raise RuntimeError("ric failure")
            return {"got": event, "fn": context.function_name,
                    "mem": context.memory_limit_in_mb}
    """)
    )
    _write_bootstrap(bundle, f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.fn\n")
    archive = tmp_path / "fn.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(bundle.rglob("*")):
            info = zipfile.ZipInfo.from_file(path, path.relative_to(bundle))
            if path.is_file():
                zf.writestr(info, path.read_bytes())
    code_dir = tmp_path / "unzipped"
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, code_dir))
            os.chmod(extracted, (info.external_attr >> 16) | 0o444 or 0o644)
    for directory in [code_dir, *(p for p in code_dir.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)
    image = make_image(code_dir, runtime="provided.al2023", handler="app.fn")

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            inv = invocation({"k": "v"})
            result = await pool.invoke(image, inv)
            assert body(result) == {"got": {"k": "v"}, "fn": "fn", "mem": "128"}, result.log
            assert "printed" in result.log and "from ric" in result.log
            warm = await pool.invoke(image, invocation({"fail": True}))
            assert warm.init_duration_ms is None
            assert warm.function_error == "Unhandled"
            err = body(warm)
            assert err["errorType"] == "RuntimeError" and err["errorMessage"] == "ric failure"

    run(scenario())
