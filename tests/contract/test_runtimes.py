"""Runtimes this host lacks, waiters, memory limits and the scaling rate, on live servers."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.test_functions import error_of
from tests.support.functions import create, unique, zip_of
from tests.support.server import LiveServer

VERSION = "import sys\ndef handler(e, c):\n    return list(sys.version_info[:2])\n"


def test_missing_interpreter_runs_on_the_nearest_with_a_warning(server: LiveServer) -> None:
    client = server.client()
    name = create(client, Runtime="python3.14", Code={"ZipFile": zip_of({"handler.py": VERSION})})[
        "FunctionName"
    ]
    response = client.invoke(FunctionName=name, LogType="Tail")
    assert json.loads(response["Payload"].read()) == [3, 13]
    init = base64.b64decode(response["LogResult"]).decode().splitlines()[0]
    assert init.startswith("INIT_START Runtime Version: python:3.14")
    assert "python3.14 is not installed on this host; running on Python 3.13 instead" in init
    assert "running on Python 3.13 instead" in server.logs()


def test_strict_runtimes_refuse_a_missing_interpreter(tmp_path: Path) -> None:
    strict = LiveServer(tmp_path / "data", args=["--strict-runtimes"]).start()
    try:
        with pytest.raises(ClientError) as refused:
            create(strict.client(), Runtime="python3.14", wait=False)
        code, message, _ = error_of(refused)
        assert code == "InvalidParameterValueException"
        assert "no Python 3.14 interpreter is installed and strict runtimes are enabled" in message
    finally:
        strict.stop()


def test_function_exists_waiter(lambda_client: Any) -> None:
    name = unique()
    create(lambda_client, name, wait=False)
    lambda_client.get_waiter("function_exists").wait(FunctionName=name)


def test_memory_size_is_enforced(lambda_client: Any) -> None:
    hog = (
        "def handler(e, c):\n"
        "    blocks = [bytearray(16 * 2**20) for _ in range(40)]\n"
        "    return len(blocks)\n"
    )
    name = create(
        lambda_client, MemorySize=128, Timeout=10, Code={"ZipFile": zip_of({"handler.py": hog})}
    )["FunctionName"]
    response = lambda_client.invoke(FunctionName=name, LogType="Tail")
    body = json.loads(response["Payload"].read())
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
    }
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "Status: error\tError Type: Runtime.OutOfMemory" in tail
    assert (
        json.loads(lambda_client.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())[
            "errorType"
        ]
        == "Runtime.OutOfMemory"
    )


def test_scaling_rate_limit(tmp_path: Path) -> None:
    limited = LiveServer(
        tmp_path / "data", env={"LAMINA_SCALING_BURST": "2", "LAMINA_SCALING_WINDOW": "600"}
    ).start()
    try:
        client = limited.client()
        name = create(
            client,
            Code={
                "ZipFile": zip_of(
                    {"handler.py": ("import time\ndef handler(e, c):\n    time.sleep(1)\n")}
                )
            },
            Timeout=5,
        )["FunctionName"]
        outcomes: list[Any] = []

        def call() -> None:
            own = limited.client()
            try:
                outcomes.append(own.invoke(FunctionName=name)["StatusCode"])
            except ClientError as error:
                outcomes.append(error.response.get("Reason"))

        threads = [threading.Thread(target=call) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(map(str, outcomes)) == ["200", "200", "FunctionInvocationRateLimitExceeded"]
    finally:
        limited.stop()
