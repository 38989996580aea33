from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lamina.sandbox import FunctionImage
from tests.sandbox.harness import INTERPRETERS, body, invocation, make_image, open_pool, run

HELLO = {
    "handler.py": """
        import os
        COUNT = 0
        print("init says hi")

        def handler(event, context):
            global COUNT
            COUNT += 1
            print("event", event)
            with open("/tmp/seen", "a") as f:
                f.write("x")
            with open("/tmp/seen") as f:
                seen = len(f.read())
            return {"event": event, "count": COUNT, "seen": seen}
    """
}

REPORT = re.compile(
    r"REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\t(?P<init>Init Duration: \d+\.\d\d ms\t)?\n$"
)


def test_cold_then_warm_logs_and_state(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(code(HELLO))
    sunk: list[tuple[FunctionImage, str, str]] = []

    async def scenario() -> None:
        async with open_pool(tmp_path / "w", log_sink=lambda *a: sunk.append(a)) as pool:
            first_inv = invocation({"n": 1})
            first = await pool.invoke(image, first_inv)
            second = await pool.invoke(image, invocation({"n": 2}))
            assert body(first) == {"event": {"n": 1}, "count": 1, "seen": 1}
            assert body(second) == {"event": {"n": 2}, "count": 2, "seen": 2}
            assert first.function_error is None and first.error_type is None
            assert first.log_stream == second.log_stream
            assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", first.log_stream)
            lines = first.log.splitlines(keepends=True)
            assert re.fullmatch(
                r"INIT_START Runtime Version: python:3\.12\.v\d+\tRuntime Version ARN: "
                r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}\n",
                lines[0],
            )
            assert lines[1:5] == [
                "init says hi\n",
                f"START RequestId: {first_inv.request_id} Version: $LATEST\n",
                "event {'n': 1}\n",
                f"END RequestId: {first_inv.request_id}\n",
            ]
            match = REPORT.match(lines[5])
            assert match and match["init"] and len(lines) == 6
            assert first.init_duration_ms is not None and first.init_duration_ms > 0
            assert second.init_duration_ms is None
            assert not second.log.startswith("INIT_START")
            warm = REPORT.search(second.log)
            assert warm and warm["init"] is None
            assert second.billed_duration_ms >= 1 and second.max_memory_used_mb > 0
            assert [s[2] for s in sunk] == [first.log, second.log]
            assert pool.stats()["environments"] == {image.key: {"idle": 1, "busy": 0}}

    run(scenario())


def test_payload_kinds(tmp_path: Path, code: Callable[..., Path]) -> None:
    directory = code(
        {
            "handler.py": """
                import decimal
                def raw(event, context):
                    return b"\\x00\\xffbinary"
                def none(event, context):
                    return None
                def text(event, context):
                    return "caf\\u00e9"
                def number(event, context):
                    return decimal.Decimal("1.5")
                def bad(event, context):
                    return object()
                def echo(event, context):
                    return event
            """
        }
    )

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:

            async def call(handler: str, **kw: Any) -> bytes:
                image = make_image(directory, handler=f"handler.{handler}")
                return (await pool.invoke(image, invocation(**kw))).payload

            assert await call("raw") == b"\x00\xffbinary"
            assert await call("none") == b"null"
            assert await call("text") == b'"caf\\u00e9"'
            assert await call("number") == b"1.5"
            assert await call("echo", payload=[1, {"a": None}]) == b'[1, {"a": null}]'
            image = make_image(directory, handler="handler.bad")
            result = await pool.invoke(image, invocation())
            assert result.function_error == "Unhandled"
            assert result.error_type == "Runtime.MarshalError"
            assert body(result)["errorMessage"].startswith("Unable to marshal response: ")
            image = make_image(directory, handler="handler.echo")
            result = await pool.invoke(image, invocation(raw=b"{not json"))
            assert result.error_type == "Runtime.UnmarshalError"
            assert body(result)["errorMessage"].startswith("Unable to unmarshal input: ")

    run(scenario())


def test_context_fields(tmp_path: Path, code: Callable[..., Path]) -> None:
    directory = code(
        {
            "handler.py": """
                import os
                def handler(event, context):
                    cc = context.client_context
                    return {
                        "aws_request_id": context.aws_request_id,
                        "function_name": context.function_name,
                        "function_version": context.function_version,
                        "invoked_function_arn": context.invoked_function_arn,
                        "memory_limit_in_mb": context.memory_limit_in_mb,
                        "log_group_name": context.log_group_name,
                        "log_stream_name": context.log_stream_name,
                        "remaining": context.get_remaining_time_in_millis(),
                        "identity": [context.identity.cognito_identity_id,
                                     context.identity.cognito_identity_pool_id],
                        "client": cc and [cc.client.installation_id, cc.custom, cc.env],
                        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
                    }
            """
        }
    )
    image = make_image(directory, timeout_s=7)
    arn = image.function_arn + ":live"

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            inv = invocation(
                invoked_function_arn=arn,
                client_context=(
                    '{"client": {"installation_id": "i-1"},\n "custom": {"k": "v"}, '
                    '"env": {"e": 1}}'
                ),
                cognito_identity='{"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}',
            )
            result = await pool.invoke(image, inv)
            data = body(result)
            assert 6000 < data.pop("remaining") <= 7000
            assert data == {
                "aws_request_id": inv.request_id,
                "function_name": "fn",
                "function_version": "$LATEST",
                "invoked_function_arn": arn,
                "memory_limit_in_mb": "128",
                "log_group_name": "/aws/lambda/fn",
                "log_stream_name": result.log_stream,
                "identity": ["id-1", "pool-1"],
                "client": ["i-1", {"k": "v"}, {"e": 1}],
                "trace": inv.trace_id,
            }
            plain = body(await pool.invoke(image, invocation(trace_id="")))
            assert plain["identity"] == [None, None] and plain["client"] is None
            assert plain["trace"] is None

    run(scenario())


def test_environment_variables_are_an_allow_list(
    tmp_path: Path, code: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMINA_HOST_SECRET", "do-not-leak")
    directory = code({"handler.py": "import os\ndef handler(e, c):\n    return dict(os.environ)\n"})
    image = make_image(directory, environment={"MY_VAR": "mine", "TZ": ":UTC"})

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            inv = invocation()
            result = await pool.invoke(image, inv)
            env = body(result)
            strict = pool.isolation_mode.startswith("strict")
            assert env.pop("AWS_LAMBDA_RUNTIME_API").startswith("127.0.0.1:")
            assert env.pop("_X_AMZN_TRACE_ID") == inv.trace_id
            if not strict:
                env.pop("TMPDIR")
            expected = {
                "_HANDLER": "handler.handler",
                "AWS_LAMBDA_FUNCTION_NAME": "fn",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
                "AWS_LAMBDA_LOG_STREAM_NAME": result.log_stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
                "LAMBDA_TASK_ROOT": "/var/task" if strict else str(directory),
                "LAMBDA_RUNTIME_DIR": "/var/runtime" if strict else str(tmp_path / "w/runtime"),
                "PYTHONPATH": "/var/runtime" if strict else str(tmp_path / "w/runtime"),
                "TZ": ":UTC",
                "LANG": "en_US.UTF-8",
                "LC_CTYPE": "C.UTF-8",
                "MY_VAR": "mine",
            }
            for name, value in expected.items():
                assert env.pop(name) == value, name
            assert env.pop("PATH").startswith("/var/lang/bin:")
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                assert env.pop(name)
            allowed = {
                "LD_LIBRARY_PATH",
                "AWS_ACCESS_KEY",
                "AWS_XRAY_CONTEXT_MISSING",
                "AWS_XRAY_DAEMON_ADDRESS",
                "_AWS_XRAY_DAEMON_ADDRESS",
                "_AWS_XRAY_DAEMON_PORT",
            }
            assert set(env) <= allowed, set(env) - allowed

    run(scenario())


def test_logging_module_and_handler_exception(tmp_path: Path, code: Callable[..., Path]) -> None:
    directory = code(
        {
            "handler.py": """
                import logging
                logger = logging.getLogger()
                logger.setLevel(logging.INFO)

                def handler(event, context):
                    logger.info("hello %s", "log")
                    raise ValueError("Failed: some_error_msg")
            """
        }
    )
    image = make_image(directory)

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            inv = invocation()
            result = await pool.invoke(image, inv)
            assert result.function_error == "Unhandled"
            assert result.error_type == "ValueError"
            err = body(result)
            assert list(err) == ["errorMessage", "errorType", "requestId", "stackTrace"]
            assert err["errorMessage"] == "Failed: some_error_msg"
            assert err["requestId"] == inv.request_id
            assert err["stackTrace"][0].startswith('  File "/var/task/handler.py"') or err[
                "stackTrace"
            ][0].startswith(f'  File "{directory}/handler.py"')
            assert re.search(
                r"^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t"
                + inv.request_id
                + r"\thello log\n",
                result.log,
                re.M,
            )
            assert (
                "[ERROR] ValueError: Failed: some_error_msg\rTraceback (most recent call last):"
                "\r\u00a0\u00a0File" in result.log
            )
            again = await pool.invoke(image, invocation())
            assert again.init_duration_ms is None  # a handled error keeps the environment

    run(scenario())


def test_concurrent_invokes_get_separate_environments(
    tmp_path: Path, code: Callable[..., Path]
) -> None:
    directory = code(
        {
            "handler.py": (
                "import os, time\ndef handler(e, c):\n    time.sleep(0.3)\n    return os.getpid()\n"
            )
        }
    )
    image = make_image(directory)

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            results = await asyncio.gather(*(pool.invoke(image, invocation()) for _ in range(3)))
            assert len({r.log_stream for r in results}) == 3
            assert all(r.init_duration_ms is not None for r in results)
            assert pool.stats()["environments"][image.key] == {"idle": 3, "busy": 0}
            again = await pool.invoke(image, invocation())
            assert again.init_duration_ms is None

    run(scenario())


def test_retire_and_idle_reaping(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(code(HELLO))

    async def scenario() -> None:
        async with open_pool(tmp_path / "w", idle_timeout_s=0.3) as pool:
            first = await pool.invoke(image, invocation())
            pool.retire(image.key)
            second = await pool.invoke(image, invocation())
            assert second.log_stream != first.log_stream
            assert second.init_duration_ms is not None
            assert pool.stats()["total"] == 1
            await asyncio.sleep(0.8)
            assert pool.stats()["total"] == 0

    run(scenario())


def test_every_interpreter_and_boto3(tmp_path: Path, code: Callable[..., Path]) -> None:
    directory = code(
        {
            "handler.py": """
                import sys
                def handler(event, context):
                    version = "%d.%d" % sys.version_info[:2]
                    if event.get("boto3"):
                        import boto3
                        client = boto3.client("s3")
                        return [version, client.meta.endpoint_url]
                    return [version, "json" in sys.modules]
            """
        }
    )

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            for version, python in INTERPRETERS.items():
                image = make_image(directory, runtime=f"python{version}", python_executable=python)
                result = await pool.invoke(image, invocation())
                assert body(result) == [version, True], result.log
            image = make_image(directory)
            result = await pool.invoke(image, invocation({"boto3": True}))
            assert body(result) == ["3.12", "http://127.0.0.1:4566"], result.log

    run(scenario())


def test_json_log_format(tmp_path: Path, code: Callable[..., Path]) -> None:
    directory = code(
        {
            "handler.py": """
                import logging
                def handler(event, context):
                    logging.getLogger("app").info("structured")
                    return 1
            """
        }
    )
    image = make_image(directory, log_format="JSON", runtime_warning="python3.9 requested")

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            inv = invocation()
            result = await pool.invoke(image, inv)
            records = [json.loads(line) for line in result.log.splitlines()]
            kinds = [r.get("type") or r.get("level") for r in records]
            assert kinds == [
                "platform.initStart",
                "platform.start",
                "INFO",
                "platform.runtimeDone",
                "platform.report",
            ]
            assert (
                records[2]["message"] == "structured" and records[2]["requestId"] == inv.request_id
            )
            assert records[4]["record"]["metrics"]["initDurationMs"] > 0

    run(scenario())


def test_runs_under_uvloop(tmp_path: Path, code: Callable[..., Path]) -> None:
    uvloop = pytest.importorskip("uvloop")
    image = make_image(code(HELLO))

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            assert body(await pool.invoke(image, invocation()))["count"] == 1
            assert body(await pool.invoke(image, invocation()))["count"] == 2

    uvloop.run(scenario())
