"""Synchronous invocation: resolve the target, hand the event to an environment, report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from lamina.arns import LATEST
from lamina.engine.admission import Admission
from lamina.engine.metrics import MetricsSink
from lamina.engine.resolver import FunctionResolver, Target
from lamina.errors import TooManyRequestsException
from lamina.lambda_.code_store import CodeStore
from lamina.lambda_.models import FunctionConfig
from lamina.lambda_.runtimes import RuntimeCatalog
from lamina.lambda_.scope import Scope
from lamina.sandbox import EnvironmentPool, FunctionImage, Invocation, InvocationResult

log = logging.getLogger("lamina.invoke")


@dataclass(frozen=True, slots=True)
class InvokeRequest:
    scope: Scope
    function_name: str
    qualifier: str | None
    payload: bytes
    request_id: str
    trace_id: str
    client_context: str | None = None


@dataclass(frozen=True, slots=True)
class InvokeOutcome:
    target: Target
    result: InvocationResult


class Invoker:
    def __init__(
        self,
        resolver: FunctionResolver,
        pool: EnvironmentPool,
        code: CodeStore,
        runtimes: RuntimeCatalog,
        admission: Admission,
        endpoint_url: Callable[[], str],
        metrics: MetricsSink,
    ) -> None:
        self._metrics = metrics
        self.resolver = resolver
        self._pool = pool
        self._admission = admission
        self._code = code
        self._runtimes = runtimes
        self._endpoint_url = endpoint_url
        self._images: dict[str, FunctionImage] = {}
        self._keys_by_function: dict[tuple[str, str], set[str]] = {}
        self._provisioned: dict[str, int] = {}  # image key -> provisioned environments
        self._system_log_levels: dict[str, str] = {}  # image key -> SystemLogLevel (JSON)

    def forget(self, scope: Scope, name: str) -> None:
        """$LATEST changed: its environments are recycled after their current work.
        Published versions never change, so their environments stay."""
        keys = self._keys_by_function.get((scope.key, name), set())
        for key in [k for k in keys if self._images[k].function_version == LATEST]:
            self._retire(keys, key)

    def forget_all(self, scope: Scope, name: str) -> None:
        """The function was deleted: every environment of it goes."""
        keys = self._keys_by_function.pop((scope.key, name), set())
        for key in list(keys):
            self._retire(keys, key)

    def _retire(self, keys: set[str], key: str) -> None:
        keys.discard(key)
        self._images.pop(key, None)
        self._provisioned.pop(key, None)
        self._pool.retire(key)

    async def resolve(self, request: InvokeRequest) -> Target:
        return await self.resolver.resolve(request.scope, request.function_name, request.qualifier)

    async def run(self, request: InvokeRequest, target: Target) -> InvokeOutcome:
        """Take a concurrency lease (or raise the 429), run, and always give the lease back."""
        image = self._image(request.scope, target.config)
        scope_key, name = request.scope.key, target.config.name
        try:
            lease = self._admission.acquire(
                scope_key,
                name,
                cold=not self._pool.has_idle(image.key),
                provisioned=self._pool.has_idle_provisioned(image.key),
            )
        except TooManyRequestsException:
            self._metrics.throttle(scope=scope_key, function=name, qualifier=request.qualifier)
            raise
        try:
            result = await self._pool.invoke(
                image,
                Invocation(
                    request_id=request.request_id,
                    payload=request.payload,
                    invoked_function_arn=target.invoked_arn,
                    trace_id=request.trace_id,
                    client_context=request.client_context,
                    cognito_identity=None,
                ),
            )
        finally:
            lease.release()
        self._metrics.invocation(
            scope=scope_key,
            function=name,
            qualifier=request.qualifier,
            executed_version=target.executed_version,
            duration_ms=result.duration_ms,
            error=result.function_error is not None,
        )
        return InvokeOutcome(target, result)

    async def provision(self, scope: Scope, config: FunctionConfig, count: int) -> bool:
        """Keep `count` initialised environments of a version (provisioned concurrency)."""
        image = self._image(scope, config)
        self._provisioned[image.key] = count
        return await self._pool.provision(image, count)

    async def keep_provisioned(self, scope: Scope, name: str, wanted: set[str]) -> None:
        """Release the provisioned environments of this function's versions not in `wanted`."""
        for key in self._keys_by_function.get((scope.key, name), set()):
            if key in self._provisioned and key not in wanted:
                del self._provisioned[key]
                await self._pool.provision(self._images[key], 0)

    def platform_lines_kept(self, key: str) -> bool:
        """Platform records (platform.start, platform.report, ...) are INFO: a JSON-format
        function whose SystemLogLevel is WARN does not get them in its log group."""
        return self._system_log_levels.get(key, "INFO") in ("DEBUG", "INFO")

    def image_key(self, scope: Scope, config: FunctionConfig) -> str:
        return f"{scope.key}/{config.name}/{config.version}/{config.revision_id}"

    def _image(self, scope: Scope, config: FunctionConfig) -> FunctionImage:
        key = self.image_key(scope, config)
        image = self._images.get(key)
        if image is not None:
            return image
        choice = self._runtimes.check(config.runtime)
        if choice.warning:
            log.warning("function %s: %s", config.name, choice.warning)
        image = FunctionImage(
            key=key,
            function_name=config.name,
            function_version=config.version,
            function_arn=scope.function_arn(config.name),
            runtime=config.runtime,
            handler=config.handler,
            code_dir=self._code.code_dir(config.code_key),
            layer_dirs=(),
            memory_mb=config.memory_size,
            timeout_s=config.timeout,
            ephemeral_storage_mb=config.ephemeral_storage,
            environment=_environment(config),
            region=scope.region,
            account_id=scope.account_id,
            log_group=config.logging.log_group,
            log_format=config.logging.log_format,
            python_executable=choice.interpreter,
            runtime_warning=choice.warning,
            endpoint_url=self._endpoint_url(),
        )
        self._images[key] = image
        if config.logging.log_format == "JSON" and config.logging.system_log_level:
            self._system_log_levels[key] = config.logging.system_log_level
        self._keys_by_function.setdefault((scope.key, config.name), set()).add(key)
        return image


def _environment(config: FunctionConfig) -> dict[str, str]:
    """The function's own variables, plus the application log level the runtime filters by
    when the JSON log format is on (AWS sets AWS_LAMBDA_LOG_LEVEL the same way)."""
    variables = dict(config.environment or {})
    level = config.logging.application_log_level
    if config.logging.log_format == "JSON" and level:
        variables["AWS_LAMBDA_LOG_LEVEL"] = level
    return variables
