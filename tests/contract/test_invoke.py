"""Synchronous Invoke through boto3 against a live server, with real sandboxes."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.test_functions import error_of
from tests.support.functions import create, unique, zip_of

CONTEXT_HANDLER = """
import json, os
COUNT = 0

def handler(event, context):
    global COUNT
    COUNT += 1
    print("event", json.dumps(event))
    return {
        "event": event,
        "count": COUNT,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context": None if context.client_context is None else {
            "custom": context.client_context.custom, "env": context.client_context.env},
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "env": {k: os.environ.get(k) for k in (
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "LAMBDA_TASK_ROOT", "STAGE",
            "AWS_LAMBDA_RUNTIME_API", "AWS_ENDPOINT_URL", "TZ", "AWS_EXECUTION_ENV")},
    }
"""


def function(client: Any, source: str, **overrides: Any) -> str:
    params: dict[str, Any] = {"Code": {"ZipFile": zip_of({"handler.py": source})}}
    params.update(overrides)
    return str(create(client, **params)["FunctionName"])


def invoke(client: Any, name: str, payload: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    body = json.dumps(payload if payload is not None else {}).encode()
    response = client.invoke(FunctionName=name, Payload=body, **kwargs)
    raw = response["Payload"].read()
    return response, json.loads(raw) if raw else None


def test_invoke_runs_the_handler_with_context(lambda_client: Any) -> None:
    name = function(
        lambda_client, CONTEXT_HANDLER, MemorySize=256, Environment={"Variables": {"STAGE": "test"}}
    )
    response, body = invoke(lambda_client, name, {"key": "value"}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert body["event"] == {"key": "value"}
    assert body["request_id"] == response["ResponseMetadata"]["RequestId"]
    assert body["function_name"] == name and body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert body["memory_limit_in_mb"] == "256"
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert body["log_stream_name"].startswith(body["log_stream_name"][:11])
    assert "[$LATEST]" in body["log_stream_name"]
    assert 0 < body["remaining_ms"] <= 3000
    assert body["env"]["STAGE"] == "test" and body["env"]["AWS_REGION"] == "us-east-1"
    assert body["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert body["env"]["LAMBDA_TASK_ROOT"] == "/var/task"
    assert body["env"]["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert body["env"]["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert body["trace"].startswith("Root=1-")
    tail = base64.b64decode(response["LogResult"]).decode()
    request_id = body["request_id"]
    assert f"START RequestId: {request_id} Version: $LATEST" in tail
    assert 'event {"key": "value"}' in tail
    assert f"END RequestId: {request_id}" in tail
    report = next(line for line in tail.splitlines() if line.startswith("REPORT"))
    assert report.startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "\tMemory Size: 256 MB\tMax Memory Used: " in report and report.endswith("\t")
    assert "Init Duration: " in report  # first invoke: a cold start
    warm, warm_body = invoke(lambda_client, name, LogType="Tail")
    assert warm_body["count"] == 2  # the same environment, module state kept
    assert "Init Duration" not in base64.b64decode(warm["LogResult"]).decode()


def test_trace_id_and_client_context_reach_the_function(lambda_client: Any) -> None:
    name = function(lambda_client, CONTEXT_HANDLER)
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    def add_trace(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = trace

    lambda_client.meta.events.register("before-send.lambda.Invoke", add_trace)
    try:
        context = {"custom": {"user": "me"}, "env": {"locale": "en"}, "client": {}}
        _, body = invoke(
            lambda_client,
            name,
            ClientContext=base64.b64encode(json.dumps(context).encode()).decode(),
        )
    finally:
        lambda_client.meta.events.unregister("before-send.lambda.Invoke", add_trace)
    assert body["trace"] == trace
    assert body["client_context"] == {"custom": {"user": "me"}, "env": {"locale": "en"}}


def test_versions_and_aliases_report_the_executed_version(lambda_client: Any) -> None:
    name = function(lambda_client, CONTEXT_HANDLER, Publish=True)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    response, body = invoke(lambda_client, name, Qualifier="live")
    assert response["ExecutedVersion"] == "1"
    assert body["function_version"] == "1"
    assert body["invoked_function_arn"].endswith(f":{name}:live")
    response, body = invoke(lambda_client, f"{name}:1")
    assert response["ExecutedVersion"] == "1"
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"STAGE": "two"}}
    )
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    lambda_client.publish_version(FunctionName=name)
    lambda_client.update_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    seen = {invoke(lambda_client, name, Qualifier="live")[0]["ExecutedVersion"] for _ in range(40)}
    assert seen == {"1", "2"}


def test_invoke_errors(lambda_client: Any) -> None:
    name = function(lambda_client, CONTEXT_HANDLER)
    with pytest.raises(ClientError) as missing:
        lambda_client.invoke(FunctionName="missing-fn")
    assert error_of(missing) == (
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing-fn:$LATEST",
        404,
    )
    with pytest.raises(ClientError) as bad_version:
        lambda_client.invoke(FunctionName=name, Qualifier="7")
    assert error_of(bad_version)[1].endswith(f"function:{name}:7")
    with pytest.raises(ClientError) as not_json:
        lambda_client.invoke(FunctionName=name, Payload=b"{not json")
    code, message, status = error_of(not_json)
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert message.startswith(
        "Could not parse request body into json: Could not parse payload into json: "
    )
    with pytest.raises(ClientError) as too_big:
        lambda_client.invoke(FunctionName=name, Payload=b'"' + b"x" * 6_291_456 + b'"')
    assert error_of(too_big) == (
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        413,
    )
    dry = lambda_client.invoke(FunctionName=name, InvocationType="DryRun")
    assert dry["StatusCode"] == 204 and dry["Payload"].read() == b""


def test_function_errors_are_200_with_unhandled(lambda_client: Any) -> None:
    name = function(lambda_client, "def handler(e, c):\n    raise ValueError('bad ' + str(e))\n")
    response, body = invoke(lambda_client, name, 1)
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "bad 1"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert any("raise ValueError" in frame for frame in body["stackTrace"])


def test_runtime_failures_match_aws(lambda_client: Any) -> None:
    cases = {
        "import": (
            "import not_a_module\ndef handler(e, c):\n    return 1\n",
            "Runtime.ImportModuleError",
            "Unable to import module 'handler': No module named 'not_a_module'",
        ),
        "missing": (
            "def other(e, c):\n    return 1\n",
            "Runtime.HandlerNotFound",
            "Handler 'handler' missing on module 'handler'",
        ),
        "syntax": ("def handler(e, c)\n    return 1\n", "Runtime.UserCodeSyntaxError", None),
    }
    for source, error_type, message in cases.values():
        name = function(lambda_client, source)
        response, body = invoke(lambda_client, name)
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == error_type
        if message:
            assert body["errorMessage"] == message


def test_timeout_exit_and_oversized_response(lambda_client: Any) -> None:
    slow = function(
        lambda_client, "import time\ndef handler(e, c):\n    time.sleep(5)\n", Timeout=1
    )
    response, body = invoke(lambda_client, slow, LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }
    assert "Task timed out after 1.00 seconds" in base64.b64decode(response["LogResult"]).decode()
    exits = function(lambda_client, "import sys\ndef handler(e, c):\n    sys.exit(1)\n")
    response, body = invoke(lambda_client, exits)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 1",
    }
    big = function(lambda_client, "def handler(e, c):\n    return 'x' * 7_000_000\n")
    response, body = invoke(lambda_client, big)
    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size"
        " (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


def test_warm_reuse_keeps_tmp_and_concurrency_uses_separate_environments(
    lambda_client: Any,
) -> None:
    source = """
import os, time
def handler(event, context):
    path = "/tmp/marker"
    existed = os.path.exists(path)
    open(path, "w").write("x")
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "existed": existed, "stream": context.log_stream_name}
"""
    name = function(lambda_client, source)
    _, first = invoke(lambda_client, name)
    _, second = invoke(lambda_client, name)
    assert (first["existed"], second["existed"]) == (False, True)
    assert first["stream"] == second["stream"]
    results: list[Any] = []

    def call() -> None:
        results.append(invoke(lambda_client, name, {"sleep": 1})[1])

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r["stream"] for r in results}) == 3


def test_a_crash_affects_no_other_environment(lambda_client: Any) -> None:
    source = """
import os, time
def handler(event, context):
    if event.get("crash"):
        os._exit(3)
    time.sleep(event.get("sleep", 0))
    return {"ok": True}
"""
    name = function(lambda_client, source)
    outcomes: dict[str, Any] = {}

    def steady() -> None:
        outcomes["steady"] = invoke(lambda_client, name, {"sleep": 1})

    thread = threading.Thread(target=steady)
    thread.start()
    crash_response, crash_body = invoke(lambda_client, name, {"crash": True})
    thread.join()
    assert crash_response["FunctionError"] == "Unhandled"
    assert crash_body["errorType"] == "Runtime.ExitError"
    assert outcomes["steady"][1] == {"ok": True}
    assert invoke(lambda_client, name)[1] == {"ok": True}


def test_pending_function_cannot_be_invoked(tmp_path: Any) -> None:
    from tests.support.server import LiveServer

    slow = LiveServer(tmp_path / "data", env={"LAMINA_STATE_TRANSITION_DELAY": "30"}).start()
    try:
        client = slow.client()
        name = unique()
        create(client, name, wait=False)
        with pytest.raises(ClientError) as pending:
            client.invoke(FunctionName=name)
        assert error_of(pending) == (
            "ResourceConflictException",
            "The operation cannot be performed at this time. The function is currently in the"
            " following state: Pending",
            409,
        )
    finally:
        slow.stop()


def test_logs_are_stored_per_function_and_stream(fresh_server: Any) -> None:
    import re
    import sqlite3

    fresh_server.start()
    client = fresh_server.client()
    name = function(client, "def handler(e, c):\n    print('hello from the function')\n")
    response, _ = invoke(client, name)
    request_id = response["ResponseMetadata"]["RequestId"]
    fresh_server.stop()
    with sqlite3.connect(fresh_server.data_dir / "lamina.db") as db:
        rows = db.execute(
            "SELECT log_stream, message FROM log_events WHERE scope = ? AND log_group = ?"
            " ORDER BY id",
            ("000000000000/us-east-1", f"/aws/lambda/{name}"),
        ).fetchall()
    streams = {stream for stream, _ in rows}
    assert len(streams) == 1
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", streams.pop())
    messages = [message for _, message in rows]
    assert messages[0].startswith("INIT_START Runtime Version: python:3.12")
    assert f"START RequestId: {request_id} Version: $LATEST" in messages
    assert "hello from the function" in messages
    assert f"END RequestId: {request_id}" in messages
    assert messages[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
