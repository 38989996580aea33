from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import LiveServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server shared by the contract tests of a session."""
    live = LiveServer(tmp_path_factory.mktemp("lamina") / "data").start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def lambda_client(server: LiveServer) -> Any:
    return server.client()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of the test's own, for restarts and crashes."""
    live = LiveServer(tmp_path / "data")
    yield live
    if live.process is not None and live.process.poll() is None:
        live.stop()
