"""A CloudWatch service on a real port, served from a thread of the test process, so that
tests record datapoints through LambdaMetrics and read them back with boto3 and the AWS CLI."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import uvicorn

from lamina.gateway.app import Gateway
from lamina.services.metrics import CloudWatchService, LambdaMetrics, MetricStore
from lamina.storage import SqliteStorage
from tests.support.server import free_port


class MetricsServer:
    def __init__(self, data: Path) -> None:
        self.storage = SqliteStorage(data / "lamina.db")
        self.metrics = LambdaMetrics(MetricStore(self.storage))
        self.service = CloudWatchService(self.metrics)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop: asyncio.AbstractEventLoop | None = None
        gateway = Gateway(
            [self.service],
            {"metrics": self.service.prometheus},
            default_account="000000000000",
            default_region="us-east-1",
            on_startup=self._startup,
            on_shutdown=self._shutdown,
        )
        self.server = uvicorn.Server(
            uvicorn.Config(
                gateway, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def _startup(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.storage.open()
        await self.metrics.start()

    async def _shutdown(self) -> None:
        await self.metrics.close()
        await self.storage.close()

    def call(self, fn: Any) -> None:
        """Run a recording call on the server's loop (the engine's calls come from there)."""
        assert self.loop is not None
        done = threading.Event()

        def run() -> None:
            fn()
            done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(5)

    def start(self) -> MetricsServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "metrics server did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def client(self) -> Any:
        return boto3.client(
            "cloudwatch",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricsServer]:
    server = MetricsServer(tmp_path_factory.mktemp("metrics")).start()
    yield server
    server.stop()
