"""A test-only composition: the gateway serving just the queue service, under uvicorn.

Run as ``python -m tests.services.sqs.harness --port N --data-dir D``; it answers
``/_lamina/health`` like ``lamina serve`` so tests and the benchmark can wait for it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from lamina.clock import Clock
from lamina.gateway.app import Gateway
from lamina.gateway.http import Request, Response
from lamina.services.sqs import SqsService, build_sqs_service
from lamina.storage import SqliteStorage

ACCOUNT = "000000000000"
REGION = "us-east-1"


def build(data_dir: Path) -> tuple[Gateway, SqsService]:
    storage = SqliteStorage(data_dir / "lamina.db")
    sqs = build_sqs_service(storage, Clock(), default_region=REGION, default_account=ACCOUNT)
    gateway: Gateway

    async def health(request: Request) -> Response:
        return Response.json(200, {"status": "ok" if gateway.ready else "starting"})

    gateway = Gateway(
        [sqs],
        {"health": health},
        default_account=ACCOUNT,
        default_region=REGION,
        on_startup=storage.open,
        on_shutdown=storage.close,
    )
    return gateway, sqs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    gateway, _ = build(args.data_dir)
    uvicorn.run(
        gateway,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
