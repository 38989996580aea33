from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

from tests.sandbox.harness import body, invocation, make_image, open_pool, run

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

FAILING = {
    "handler.py": """
        import os, sys, time
        COUNT = 0
        def handler(event, context):
            global COUNT
            COUNT += 1
            action = event.get("do")
            if action == "write":
                with open("/tmp/keep", "w") as f:
                    f.write("kept")
            if action == "sleep":
                time.sleep(30)
            if action == "exit1":
                sys.exit(1)
            if action == "exit0":
                os._exit(0)
            if action == "abort":
                os.abort()
            if action == "segv":
                import ctypes
                ctypes.string_at(0)
            if action == "big":
                return "x" * (7 * 1024 * 1024)
            if action == "oom":
                blocks = []
                while True:
                    blocks.append(bytearray(16 * 1024 * 1024))
            tmp = open("/tmp/keep").read() if os.path.exists("/tmp/keep") else None
            return {"count": COUNT, "tmp": tmp}
    """
}


def test_timeout_resets_environment_but_keeps_tmp(
    tmp_path: Path, code: Callable[..., Path]
) -> None:
    image = make_image(code(FAILING), timeout_s=1)

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            await pool.invoke(image, invocation({"do": "write"}))
            assert body(await pool.invoke(image, invocation())) == {"count": 2, "tmp": "kept"}
            inv = invocation({"do": "sleep"})
            result = await pool.invoke(image, inv)
            assert result.payload == (
                b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: '
                + inv.request_id.encode()
                + b' Error: Task timed out after 1.00 seconds"}'
            )
            assert result.function_error == "Unhandled"
            assert result.error_type == "Sandbox.Timedout"
            lines = result.log.splitlines()
            assert lines[0] == f"START RequestId: {inv.request_id} Version: $LATEST"
            assert re.fullmatch(
                f"{TS} {inv.request_id} Task timed out after 1.00 seconds", lines[1]
            )
            assert lines[2] == f"END RequestId: {inv.request_id}"
            assert lines[3].startswith(
                f"REPORT RequestId: {inv.request_id}\tDuration: 1000.00 ms\t"
            )
            assert lines[3].endswith("\tStatus: timeout\t")
            after = await pool.invoke(image, invocation())
            assert after.init_duration_ms is not None and after.log.startswith("INIT_START")
            assert after.log_stream == result.log_stream
            assert body(after) == {"count": 1, "tmp": "kept"}  # globals reset, /tmp kept

    run(scenario())


def test_runtime_exits(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(code(FAILING))

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            for action, reason in [
                ("exit1", "Runtime exited with error: exit status 1"),
                ("exit0", "Runtime exited without providing a reason"),
                ("segv", "Runtime exited with error: signal: segmentation fault"),
            ]:
                inv = invocation({"do": action})
                result = await pool.invoke(image, inv)
                message = f"RequestId: {inv.request_id} Error: {reason}"
                assert json.loads(result.payload) == {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": message,
                }, result.log
                assert result.error_type == "Runtime.ExitError"
                assert (
                    f"{message}\nRuntime.ExitError\nEND RequestId: {inv.request_id}\n" in result.log
                )
                assert "\tStatus: error\tError Type: Runtime.ExitError\t\n" in result.log
                recovered = await pool.invoke(image, invocation())
                assert body(recovered)["count"] == 1 and recovered.init_duration_ms is not None

    run(scenario())


def test_crash_of_one_environment_spares_the_others(
    tmp_path: Path, code: Callable[..., Path]
) -> None:
    image = make_image(code(FAILING))

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:

            async def slow_then_count() -> int:
                await pool.invoke(image, invocation({"do": "write"}))
                return int(body(await pool.invoke(image, invocation()))["count"])

            # Two environments exist; kill one, the other keeps its state.
            await asyncio.gather(pool.invoke(image, invocation()), pool.invoke(image, invocation()))
            assert pool.stats()["environments"][image.key]["idle"] == 2
            crashed = await pool.invoke(image, invocation({"do": "segv"}))
            assert crashed.error_type == "Runtime.ExitError"
            survivor = await pool.invoke(image, invocation())
            assert survivor.init_duration_ms is None and body(survivor)["count"] == 2
            assert await slow_then_count() >= 3

    run(scenario())


def test_out_of_memory(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(code(FAILING), memory_mb=128)

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            inv = invocation({"do": "oom"})
            result = await pool.invoke(image, inv)
            assert result.function_error == "Unhandled"
            if pool.isolation_mode == "strict":
                assert json.loads(result.payload) == {
                    "errorType": "Runtime.OutOfMemory",
                    "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited with "
                    "error: "
                    "signal: killed",
                }
                assert "\tStatus: error\tError Type: Runtime.OutOfMemory\t\n" in result.log
                assert 100 <= result.max_memory_used_mb <= 129
            else:  # RLIMIT_DATA: the allocation fails inside Python
                assert result.error_type == "MemoryError"
            assert body(await pool.invoke(image, invocation()))["count"] == 1

    run(scenario())


def test_response_too_large(tmp_path: Path, code: Callable[..., Path]) -> None:
    image = make_image(code(FAILING), memory_mb=256)

    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            result = await pool.invoke(image, invocation({"do": "big"}))
            assert result.payload == (
                b'{"errorMessage":"Response payload size exceeded maximum allowed payload size '
                b'(6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}'
            )
            assert result.function_error == "Unhandled"
            assert result.error_type == "Function.ResponseSizeTooLarge"
            after = await pool.invoke(image, invocation())
            assert body(after)["count"] == 2  # the environment survives

    run(scenario())


INIT_CASES = [
    (
        {"handler.py": "import missing_dep\n"},
        "handler.handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'handler': No module named 'missing_dep'",
    ),
    (
        {},
        "nothere.handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'nothere': No module named 'nothere'",
    ),
    (
        {"handler.py": "x = 1\n"},
        "handler.handler",
        "Runtime.HandlerNotFound",
        "Handler 'handler' missing on module 'handler'",
    ),
    (
        {"handler.py": "x = 1\n"},
        "nodot",
        "Runtime.MalformedHandlerName",
        "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
    ),
    (
        {"handler.py": "def handler(:\n"},
        "handler.handler",
        "Runtime.UserCodeSyntaxError",
        "Syntax error in module 'handler': invalid syntax (handler.py, line 1)",
    ),
    ({"handler.py": "raise KeyError('boom')\n"}, "handler.handler", "KeyError", "'boom'"),
]


def test_init_errors(tmp_path: Path, code: Callable[..., Path]) -> None:
    async def scenario() -> None:
        async with open_pool(tmp_path / "w") as pool:
            for files, handler, error_type, message in INIT_CASES:
                image = make_image(code(files or {"other.py": ""}), handler=handler)
                inv = invocation()
                result = await pool.invoke(image, inv)
                err = body(result)
                assert result.function_error == "Unhandled"
                assert (err["errorType"], err["errorMessage"]) == (error_type, message)
                assert result.error_type == error_type
                assert err["requestId"] == "" and isinstance(err["stackTrace"], list)
                log = result.log
                assert log.startswith("INIT_START ")
                assert f"[ERROR] {error_type}: {message}" in log
                assert re.search(
                    r"\nINIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\t"
                    f"Error Type: {re.escape(error_type)}\nSTART RequestId: {inv.request_id} ",
                    log,
                ), log
                assert log.endswith(f"\tStatus: error\tError Type: {error_type}\t\n")
                assert pool.stats()["environments"][image.key] == {"idle": 1, "busy": 0}

    run(scenario())


def test_slow_init_is_retried_within_the_invoke(tmp_path: Path, code: Callable[..., Path]) -> None:
    directory = code(
        {"handler.py": "import time\ntime.sleep(0.6)\ndef handler(e, c):\n    return 'ok'\n"}
    )
    image = make_image(directory, timeout_s=3)

    async def scenario() -> None:
        async with open_pool(tmp_path / "w", init_timeout_s=0.3) as pool:
            result = await pool.invoke(image, invocation())
            assert result.payload == b'"ok"', result.log
            assert re.search(
                r"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: timeout\n",
                result.log,
            )

    run(scenario())
