"""The server process: health, restarts, shutdown, and errors for requests it cannot serve."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.test_functions import error_of
from tests.support.functions import create
from tests.support.server import LiveServer


def raw(
    server: LiveServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(
        server.url + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_health(server: LiveServer) -> None:
    health = server.health()
    assert health["status"] == "ok"
    assert health["region"] == "us-east-1" and health["accountId"] == "000000000000"


def test_state_survives_restart_and_sigterm_is_clean(fresh_server: LiveServer) -> None:
    fresh_server.start()
    client = fresh_server.client()
    name = create(client, Tags={"k": "v"}, Publish=True)["FunctionName"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    before = client.get_function(FunctionName=name)
    assert fresh_server.stop(signal.SIGTERM) == 0
    fresh_server.start()
    client = fresh_server.client()
    after = client.get_function(FunctionName=name)
    assert after["Configuration"] == before["Configuration"]
    assert after["Tags"] == {"k": "v"}
    assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    assert [
        v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]
    ] == ["$LATEST", "1"]
    assert fresh_server.stop(signal.SIGINT) == 0


def test_pending_work_finishes_after_kill(tmp_path: Path) -> None:
    slow = LiveServer(tmp_path / "data", env={"LAMINA_STATE_TRANSITION_DELAY": "30"}).start()
    client = slow.client()
    name = create(client, wait=False)["FunctionName"]
    assert client.get_function(FunctionName=name)["Configuration"]["State"] == "Pending"
    with pytest.raises(ClientError) as pending:
        client.update_function_configuration(FunctionName=name, Description="x")
    assert error_of(pending)[:2] == (
        "ResourceConflictException",
        "The operation cannot be performed at this time. The function is currently in the"
        " following state: Pending",
    )
    slow.stop(signal.SIGKILL)
    restarted = LiveServer(tmp_path / "data", port=slow.port).start()
    client = restarted.client()
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    restarted.stop()


def test_update_conflicts_while_in_progress(tmp_path: Path) -> None:
    slow = LiveServer(tmp_path / "data", env={"LAMINA_STATE_TRANSITION_DELAY": "1"}).start()
    client = slow.client()
    name = create(client, wait=False)["FunctionName"]
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    client.update_function_configuration(FunctionName=name, Description="1")
    with pytest.raises(ClientError) as busy:
        client.update_function_configuration(FunctionName=name, Description="2")
    assert error_of(busy) == (
        "ResourceConflictException",
        "The operation cannot be performed at this time. An update is in progress for"
        f" resource: arn:aws:lambda:us-east-1:000000000000:function:{name}",
        409,
    )
    before = client.get_function_configuration(FunctionName=name)
    assert before["LastUpdateStatus"] == "InProgress"
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    slow.stop()


def test_unknown_paths_and_bad_bodies_get_aws_errors(server: LiveServer) -> None:
    status, headers, body = raw(server, "GET", "/2015-03-31/nothing-here")
    assert status == 404 and headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "x-amzn-RequestId" in headers
    status, headers, body = raw(server, "GET", "/no/service/here")
    assert status == 404 and json.loads(body)["Type"] == "User"
    status, headers, body = raw(
        server, "POST", "/2015-03-31/functions", b"{not json", {"Content-Type": "application/json"}
    )
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert "Traceback" not in body.decode()


def test_unimplemented_operation_is_clear(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.list_layers()
    code, message, status = error_of(excinfo)
    assert (code, status) == ("NotImplementedException", 501)
    assert "ListLayers" in message
