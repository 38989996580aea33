"""Composition root: the only place that wires concrete parts together."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from lamina import __version__
from lamina.clock import Clock
from lamina.config import Config
from lamina.engine.admission import Limits, LocalAdmission
from lamina.engine.async_invoke import AsyncInvoker
from lamina.engine.async_queue import AsyncEventQueue
from lamina.engine.destinations import Deliveries
from lamina.engine.dispatcher import AsyncDispatcher
from lamina.engine.invoke import Invoker
from lamina.engine.metrics import MetricsSink
from lamina.engine.pollers.manager import PollerManager
from lamina.engine.resolver import FunctionResolver
from lamina.engine.retry import RetryPolicy
from lamina.gateway.app import Gateway
from lamina.gateway.http import Request, Response
from lamina.gateway.restjson import RestJsonProtocol
from lamina.gateway.restjson_service import Handler, RestJsonService
from lamina.lambda_.aliases import AliasService
from lamina.lambda_.api import LambdaControlPlane, RequestContext
from lamina.lambda_.code_store import CodeStore
from lamina.lambda_.concurrency import ConcurrencyService
from lamina.lambda_.concurrency_api import ConcurrencyApi
from lamina.lambda_.event_invoke_config import EventInvokeConfigService
from lamina.lambda_.event_invoke_config_api import EventInvokeConfigApi
from lamina.lambda_.event_source_mappings import EventSourceMappingService
from lamina.lambda_.event_source_mappings_api import EventSourceMappingApi
from lamina.lambda_.functions import FunctionService
from lamina.lambda_.invoke_api import InvokeApi
from lamina.lambda_.model import lambda_service_model
from lamina.lambda_.runtimes import RuntimeCatalog
from lamina.lambda_.scope import Scope
from lamina.sandbox import EnvironmentPool, FunctionImage
from lamina.services.logs.service import LogsService
from lamina.services.logs.store import LogStore
from lamina.services.metrics import CloudWatchService, LambdaMetrics, MetricStore
from lamina.services.sqs import build_sqs_service
from lamina.storage import SqliteStorage

log = logging.getLogger("lamina")

# Lambda's API paths all start with a date: /2015-03-31/functions, /2017-03-31/tags, ...
LAMBDA_PATHS = r"^/20\d\d-\d\d-\d\d/"


class Lamina:
    def __init__(self, config: Config) -> None:
        self.config = config
        data_dir = Path(config.data_dir).resolve()
        self.storage = SqliteStorage(data_dir / "lamina.db")
        self.code = CodeStore(data_dir / "code")
        self.clock = Clock()
        lambda_model = lambda_service_model()
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
        self.admission = LocalAdmission(
            Limits(
                account=config.account_concurrency,
                min_unreserved=config.min_unreserved_concurrency,
                scaling_burst=config.scaling_burst,
                scaling_window=config.scaling_window,
            ),
            time.monotonic,
        )
        self.concurrency = ConcurrencyService(
            self.storage, self.functions, self.aliases, self.admission, self.clock
        )
        self.functions.on_delete.append(self.concurrency.forget)
        self.control_plane = LambdaControlPlane(
            self.functions, self.aliases, self.concurrency, self.admission
        )
        self.logs = LogStore(self.storage)
        self.lambda_metrics = LambdaMetrics(MetricStore(self.storage))
        self.metrics: MetricsSink = self.lambda_metrics
        self.logs_service = LogsService(self.storage, self.logs)
        self.cloudwatch = CloudWatchService(self.lambda_metrics)
        self.pool = EnvironmentPool(
            work_dir=data_dir / "sandbox",
            idle_timeout_s=config.environment_idle_timeout,
            isolation=config.isolation,
            log_sink=self._store_log,
            hidden_paths=(data_dir,),
        )
        self.resolver = FunctionResolver(self.functions, self.aliases)
        self.invoker = Invoker(
            self.resolver,
            self.pool,
            self.code,
            self.runtimes,
            self.admission,
            lambda: config.endpoint_url,
            self.metrics,
        )
        self.concurrency.provisioner = self.invoker.provision
        self.concurrency.releaser = self.invoker.keep_provisioned
        self.concurrency.image_key = self.invoker.image_key
        self.functions.on_delete.append(self.invoker.forget_all)
        self.functions.on_change.append(self.invoker.forget)
        self.event_invoke_configs = EventInvokeConfigService(
            self.storage, self.functions, self.aliases, self.clock
        )
        self.event_source_mappings = EventSourceMappingService(
            self.storage,
            self.functions,
            self.aliases,
            lambda arn: self.sqs.attributes(arn),
            self.clock,
            settle_delay=config.state_transition_delay,
        )
        self.async_queue = AsyncEventQueue(self.storage)
        self.async_invoker = AsyncInvoker(self.async_queue, self.resolver, self.metrics)
        handlers = {
            **self.control_plane.handlers(),
            **ConcurrencyApi(self.concurrency).handlers(),
            **EventInvokeConfigApi(self.event_invoke_configs).handlers(),
            **EventSourceMappingApi(self.event_source_mappings).handlers(),
            **InvokeApi(self.invoker, self.async_invoker).handlers(),
        }
        self.lambda_service = RestJsonService(
            "lambda",
            RestJsonProtocol(lambda_model, self._check_lambda_request),
            {name: _bind(h) for name, h in handlers.items()},
            LAMBDA_PATHS,
        )
        self.sqs = build_sqs_service(
            self.storage,
            self.clock,
            default_region=config.region,
            default_account=config.account_id,
        )
        self.pollers = PollerManager(
            self.event_source_mappings, self.sqs, self.invoker, self.admission
        )
        self.dispatcher = AsyncDispatcher(
            self.async_queue,
            self.invoker,
            self.event_invoke_configs,
            Deliveries(self.sqs, self.async_invoker.invoke_function, self.metrics),
            self.admission,
            RetryPolicy(time_scale=config.time_scale),
            self.metrics,
        )
        self.gateway = Gateway(
            [self.lambda_service, self.logs_service, self.cloudwatch, self.sqs],
            {
                "health": self.health,
                "code": self.code_download,
                "async-events": self.async_events,
                "concurrency": self.concurrency_in_use,
                "metrics": self.cloudwatch.prometheus,
            },
            default_account=config.account_id,
            default_region=config.region,
            on_startup=self.startup,
            on_shutdown=self.shutdown,
        )

    def _check_lambda_request(self, operation: str, params: dict[str, Any]) -> None:
        runtime = params.get("Runtime")
        if runtime is not None and operation in ("CreateFunction", "UpdateFunctionConfiguration"):
            self.runtimes.check_known(runtime)

    def _store_log(self, image: FunctionImage, stream: str, text: str) -> None:
        if not self.invoker.platform_lines_kept(image.key):
            text = "\n".join(line for line in text.splitlines() if not _platform_record(line))
        self.logs.append(f"{image.account_id}/{image.region}", image.log_group, stream, text)

    async def startup(self) -> None:
        await self.storage.open()
        await self.logs.start()
        self.lambda_metrics.sample_concurrency(self.admission.snapshot)
        await self.lambda_metrics.start()
        await self.logs_service.start()
        await self.pool.start()
        if self.pool.isolation_mode != "strict":
            log.warning(
                "ISOLATION IS WEAKER THAN STRICT: running in %s mode (%s)",
                self.pool.isolation_mode,
                self.pool.isolation_reason,
            )
        await self.functions.settle_all()
        await self.concurrency.load()
        await self.dispatcher.start()
        await self.pollers.start()
        log.info(
            "Lamina %s ready: region %s, account %s, data in %s, interpreters %s",
            __version__,
            self.config.region,
            self.config.account_id,
            self.config.data_dir,
            ", ".join(f"{v[0]}.{v[1]}" for v in self.runtimes.interpreters),
        )

    async def shutdown(self) -> None:
        await self.pollers.close()
        await self.event_source_mappings.close()
        await self.dispatcher.close()
        await self.functions.close()
        await self.concurrency.close()
        await self.pool.aclose()
        await self.logs_service.close()
        await self.lambda_metrics.close()
        await self.logs.close()
        await self.storage.close()

    async def health(self, request: Request) -> Response:
        return Response.json(
            200,
            {
                "status": "ok" if self.gateway.ready else "starting",
                "version": __version__,
                "region": self.config.region,
                "accountId": self.config.account_id,
                "services": ["lambda", "sqs", "logs", "monitoring"],
                "isolation": {
                    "mode": self.pool.isolation_mode,
                    "reason": self.pool.isolation_reason,
                },
            },
        )

    async def async_events(self, request: Request) -> Response:
        """Every accepted asynchronous event of the caller's account and region, with its
        outcome (null while queued), why, and whether its deliveries are done."""
        scope = Scope(request.account_id, request.region).key
        return Response.json(200, {"events": await self.async_queue.outcomes(scope)})

    async def concurrency_in_use(self, request: Request) -> Response:
        """Concurrent executions per account/region and function, now."""
        return Response.json(200, {"concurrentExecutions": self.admission.snapshot()})

    async def code_download(self, request: Request) -> Response:
        match = re.fullmatch(r"/_lamina/code/([A-Za-z0-9_-]+)\.zip", request.raw_path)
        data = self.code.read_zip(match[1]) if match else None
        if data is None:
            return Response(
                404, [("Content-Type", "application/xml")], b"<Error><Code>NoSuchKey</Code></Error>"
            )
        return Response(200, [("Content-Type", "application/zip")], data)


def _platform_record(line: str) -> bool:
    return line.startswith('{"time"') and '"type":"platform.' in line.replace(" ", "")


def _bind(handler: Any) -> Handler:
    """Adapt a Lambda handler (RequestContext, params) to the gateway's (Request, params)."""

    async def call(request: Request, params: dict[str, Any]) -> dict[str, Any]:
        context = RequestContext(
            Scope(request.account_id, request.region),
            request.request_id,
            request.base_url,
            request.headers,
        )
        result: dict[str, Any] = await handler(context, params)
        return result

    return call
