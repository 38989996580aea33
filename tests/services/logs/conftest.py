from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support.server import LiveServer


class LogsServer(LiveServer):
    def start(self) -> LogsServer:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.services.logs.live_app",
                    str(self.port),
                    str(self.data_dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.logs()}")
            try:
                if self.health()["status"] == "ok":
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.logs()}")


@pytest.fixture(scope="module")
def logs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LogsServer]:
    server = LogsServer(tmp_path_factory.mktemp("logs") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def logs(logs_server: LogsServer) -> Any:
    client = boto3.client(
        "logs",
        endpoint_url=logs_server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    yield client
    client.close()
