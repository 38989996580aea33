"""Composition root: the only place that wires concrete parts together."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import botocore.session

from lamina import __version__
from lamina.clock import Clock
from lamina.config import Config
from lamina.gateway.app import Gateway
from lamina.gateway.http import Request, Response
from lamina.gateway.restjson import RestJsonProtocol
from lamina.gateway.restjson_service import Handler, RestJsonService
from lamina.lambda_.aliases import AliasService
from lamina.lambda_.api import LambdaControlPlane, RequestContext
from lamina.lambda_.code_store import CodeStore
from lamina.lambda_.functions import FunctionService
from lamina.lambda_.runtimes import RuntimeCatalog
from lamina.lambda_.scope import Scope
from lamina.storage import SqliteStorage

log = logging.getLogger("lamina")

ACCOUNT_CONCURRENCY_LIMIT = 1000
# Lambda's API paths all start with a date: /2015-03-31/functions, /2017-03-31/tags, ...
LAMBDA_PATHS = r"^/20\d\d-\d\d-\d\d/"


class Lamina:
    def __init__(self, config: Config) -> None:
        self.config = config
        data_dir = Path(config.data_dir).resolve()
        self.storage = SqliteStorage(data_dir / "lamina.db")
        self.code = CodeStore(data_dir / "code")
        self.clock = Clock()
        lambda_model = botocore.session.get_session().get_service_model("lambda")
        self.runtimes = RuntimeCatalog(
            tuple(lambda_model.shape_for("Runtime").enum), strict=config.strict_runtimes
        )
        self.functions = FunctionService(
            self.storage,
            self.code,
            self.runtimes,
            self.clock,
            settle_delay=config.state_transition_delay,
        )
        self.aliases = AliasService(self.storage, self.functions)
        self.control_plane = LambdaControlPlane(
            self.functions, self.aliases, ACCOUNT_CONCURRENCY_LIMIT
        )
        self.lambda_service = RestJsonService(
            "lambda",
            RestJsonProtocol(lambda_model, self._check_lambda_request),
            {name: _bind(h) for name, h in self.control_plane.handlers().items()},
            LAMBDA_PATHS,
        )
        self.gateway = Gateway(
            [self.lambda_service],
            {"health": self.health, "code": self.code_download},
            default_account=config.account_id,
            default_region=config.region,
            on_startup=self.startup,
            on_shutdown=self.shutdown,
        )

    def _check_lambda_request(self, operation: str, params: dict[str, Any]) -> None:
        runtime = params.get("Runtime")
        if runtime is not None and operation in ("CreateFunction", "UpdateFunctionConfiguration"):
            self.runtimes.check_known(runtime)

    async def startup(self) -> None:
        await self.storage.open()
        await self.functions.settle_all()
        log.info(
            "Lamina %s ready: region %s, account %s, data in %s, interpreters %s",
            __version__,
            self.config.region,
            self.config.account_id,
            self.config.data_dir,
            ", ".join(f"{v[0]}.{v[1]}" for v in self.runtimes.interpreters),
        )

    async def shutdown(self) -> None:
        await self.functions.drain()
        await self.storage.close()

    async def health(self, request: Request) -> Response:
        return Response.json(
            200,
            {
                "status": "ok" if self.gateway.ready else "starting",
                "version": __version__,
                "region": self.config.region,
                "accountId": self.config.account_id,
                "services": ["lambda"],
            },
        )

    async def code_download(self, request: Request) -> Response:
        match = re.fullmatch(r"/_lamina/code/([A-Za-z0-9_-]+)\.zip", request.raw_path)
        data = self.code.read_zip(match[1]) if match else None
        if data is None:
            return Response(
                404, [("Content-Type", "application/xml")], b"<Error><Code>NoSuchKey</Code></Error>"
            )
        return Response(200, [("Content-Type", "application/zip")], data)


def _bind(handler: Any) -> Handler:
    """Adapt a Lambda handler (RequestContext, params) to the gateway's (Request, params)."""

    async def call(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        context = RequestContext(
            Scope(request.account_id, request.region), request.request_id, request.base_url
        )
        result: dict[str, Any] = await handler(context, params)
        return result

    return call
