"""Runs the gateway under uvicorn (uvloop + httptools); SIGTERM/SIGINT stop it cleanly."""

from __future__ import annotations

from typing import Any

import uvicorn

from lamina.app import Lamina
from lamina.config import Config


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: Any) -> None:
        # uvicorn re-raises the signal after its graceful shutdown, which would make a
        # clean stop exit with -15; a stop we asked for is a success.
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def run(config: Config) -> int:
    lamina = Lamina(config)
    server = _Server(
        uvicorn.Config(
            lamina.gateway,
            host=config.host,
            port=config.port,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_level=config.log_level,
            log_config=None,  # keep Lamina's structured log lines
            access_log=False,
            server_header=False,
            proxy_headers=False,  # no proxy in front; its middleware costs every request
            date_header=False,
            timeout_graceful_shutdown=10,
        )
    )
    server.run()
    return 0 if server.started else 1
