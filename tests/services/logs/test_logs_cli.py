"""`lamina logs` as a subprocess against a live server."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from tests.services.logs.conftest import LogsServer
from tests.support import functions


def _lamina_logs(server: LogsServer, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    return subprocess.Popen(
        [sys.executable, "-m", "lamina", "logs", *args, "--endpoint-url", server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_logs_prints_a_function_group(logs_server: LogsServer, logs: Any) -> None:
    name = f"fn-{uuid.uuid4().hex[:8]}"
    group = f"/aws/lambda/{name}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2024/01/01/[$LATEST]abc")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2024/01/01/[$LATEST]abc",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello"}],
    )
    with _lamina_logs(logs_server, name, "--since", "5m") as done:
        out, err = done.communicate(timeout=30)
    assert done.returncode == 0, err
    assert out.endswith(" 2024/01/01/[$LATEST]abc hello\n")
    assert "\033[" not in out  # not a terminal: no colour
    with _lamina_logs(logs_server, "no-such-function") as missing:
        _, err = missing.communicate(timeout=30)
    assert missing.returncode == 1 and "does not exist" in err


def test_follow_shows_a_new_invocation_within_a_second(logs_server: LogsServer) -> None:
    client = logs_server.client()
    name = functions.unique()
    functions.create(client, name)
    client.invoke(FunctionName=name, Payload=b"{}")  # warm: the next one is the measured one
    with _lamina_logs(logs_server, name, "--follow", "--since", "1m") as follower:
        _follow(client, name, follower)


def _follow(client: Any, name: str, follower: subprocess.Popen[str]) -> None:
    lines: queue.Queue[str] = queue.Queue()
    assert follower.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in follower.stdout], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while "REPORT" not in lines.get(timeout=max(0.1, deadline - time.monotonic())):
            pass
        while not lines.empty():
            lines.get_nowait()
        request_id = client.invoke(FunctionName=name, Payload=b"{}")["ResponseMetadata"][
            "HTTPHeaders"
        ]["x-amzn-requestid"]
        invoked = time.monotonic()
        while f"START RequestId: {request_id}" not in lines.get(timeout=2):
            pass
        assert time.monotonic() - invoked < 1.0
    finally:
        follower.send_signal(2)  # Ctrl-C
        assert follower.wait(timeout=10) == 0
        assert follower.stderr is not None
        assert "Traceback" not in follower.stderr.read()
