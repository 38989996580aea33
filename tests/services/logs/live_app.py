"""A Lamina server with the Logs service added to its gateway, run as its own process
(``python -m tests.services.logs.live_app PORT DATA_DIR``) until app.py wires it in."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from lamina.app import Lamina
from lamina.config import Config
from lamina.services.logs.service import LogsService


def build(port: int, data_dir: Path) -> Lamina:
    lamina = Lamina(Config(port=port, data_dir=data_dir))
    logs = LogsService(lamina.storage, lamina.logs)
    gateway = lamina.gateway
    gateway._services.insert(0, logs)
    gateway._by_signing_name[logs.signing_name] = logs
    startup, shutdown = gateway._on_startup, gateway._on_shutdown

    async def start() -> None:
        assert startup is not None
        await startup()
        await logs.start()

    async def stop() -> None:
        await logs.close()
        assert shutdown is not None
        await shutdown()

    gateway._on_startup, gateway._on_shutdown = start, stop
    return lamina


if __name__ == "__main__":
    app = build(int(sys.argv[1]), Path(sys.argv[2]))
    uvicorn.run(
        app.gateway, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", lifespan="on"
    )
