"""The engine's one metrics facade: AWS/Lambda datapoints and Prometheus series.

Every recording call is a single list append (the invoke hot path); once a second, and before
any read, the records are drained into per-minute samples with AWS/Lambda's dimension sets and
into the Prometheus registry. Dimension sets, as AWS/Lambda publishes them: none (the account),
``FunctionName``, ``FunctionName`` + ``Resource`` (``<fn>:<qualifier>``, for qualified invokes)
and ``FunctionName`` + ``ExecutedVersion`` (for qualified invokes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from lamina.services.metrics.prometheus import ASYNC_COUNTERS, PrometheusRegistry
from lamina.services.metrics.store import Dimensions, MetricStore, Sample

log = logging.getLogger("lamina.metrics")

NAMESPACE = "AWS/Lambda"
SAMPLE_INTERVAL = 1.0  # seconds between concurrency samples and drains
Snapshot = Callable[[], dict[str, dict[str, int]]]


def dimension_sets(function: str, qualifier: str | None, executed: str | None) -> list[Dimensions]:
    sets: list[Dimensions] = [(), (("FunctionName", function),)]
    if qualifier is not None:
        sets.append((("FunctionName", function), ("Resource", f"{function}:{qualifier}")))
        if executed is not None:
            sets.append((("ExecutedVersion", executed), ("FunctionName", function)))
    return sets


class LambdaMetrics:
    def __init__(self, store: MetricStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.registry = PrometheusRegistry()
        self._clock = clock
        self._records: list[tuple[Any, ...]] = []
        self._snapshots: list[Snapshot] = []
        self._task: asyncio.Task[None] | None = None

    # --- recording (hot path: one append each) ------------------------------------------

    def invocation(
        self,
        *,
        scope: str,
        function: str,
        qualifier: str | None,
        executed_version: str,
        duration_ms: float,
        error: bool,
    ) -> None:
        self._records.append(
            ("i", scope, function, qualifier, executed_version, duration_ms, error, self._clock())
        )

    def throttle(self, *, scope: str, function: str, qualifier: str | None) -> None:
        self._records.append(("t", scope, function, qualifier, self._clock()))

    def async_metric(
        self, *, scope: str, function: str, name: str, value: float, unit: str
    ) -> None:
        self._records.append(("a", scope, function, name, value, unit, self._clock()))

    def sample_concurrency(self, snapshot: Snapshot) -> None:
        self._snapshots.append(snapshot)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.drain()
        await self.store.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_INTERVAL)
            try:
                self.sample()
                self.drain()
                await self.store.flush()
            except Exception:
                log.exception("recording metrics failed")

    # --- reading ------------------------------------------------------------------------

    def prometheus_text(self) -> str:
        self.drain()
        return self.registry.text()

    def sample(self) -> None:
        """Record ConcurrentExecutions from every registered snapshot, now."""
        now = self._clock()
        samples = []
        for snapshot in self._snapshots:
            for scope, functions in snapshot().items():
                account, _, region = scope.partition("/")
                total = 0
                for function, in_use in functions.items():
                    total += in_use
                    samples.append(
                        _sample(
                            scope,
                            "ConcurrentExecutions",
                            (("FunctionName", function),),
                            "Count",
                            in_use,
                            now,
                        )
                    )
                    self.registry.gauge(
                        "lamina_lambda_concurrent_executions",
                        (("account", account), ("region", region), ("function", function)),
                        in_use,
                    )
                samples.append(_sample(scope, "ConcurrentExecutions", (), "Count", total, now))
                self.registry.gauge(
                    "lamina_lambda_account_concurrent_executions",
                    (("account", account), ("region", region)),
                    total,
                )
        self.store.add_all(samples)

    def drain(self) -> None:
        """Turn the recorded calls into samples and Prometheus series."""
        records, self._records = self._records, []
        for record in records:
            kind = record[0]
            if kind == "i":
                self._invocation(*record[1:])
            elif kind == "t":
                self._throttle(*record[1:])
            else:
                self._async(*record[1:])

    def _invocation(
        self,
        scope: str,
        function: str,
        qualifier: str | None,
        executed: str,
        duration_ms: float,
        error: bool,
        at: float,
    ) -> None:
        samples = []
        for dims in dimension_sets(function, qualifier, executed):
            samples.append(_sample(scope, "Invocations", dims, "Count", 1.0, at))
            samples.append(_sample(scope, "Errors", dims, "Count", 1.0 if error else 0.0, at))
            samples.append(_sample(scope, "Duration", dims, "Milliseconds", duration_ms, at))
        self.store.add_all(samples)
        labels = (*_labels(scope, function, qualifier), ("executed_version", executed))
        self.registry.count("lamina_lambda_invocations_total", labels)
        if error:
            self.registry.count("lamina_lambda_errors_total", labels)
        self.registry.observe("lamina_lambda_duration_milliseconds", labels, duration_ms)

    def _throttle(self, scope: str, function: str, qualifier: str | None, at: float) -> None:
        self.store.add_all(
            _sample(scope, "Throttles", dims, "Count", 1.0, at)
            for dims in dimension_sets(function, qualifier, None)
        )
        self.registry.count("lamina_lambda_throttles_total", _labels(scope, function, qualifier))

    def _async(
        self, scope: str, function: str, name: str, value: float, unit: str, at: float
    ) -> None:
        self.store.add_all(
            _sample(scope, name, dims, unit, value, at)
            for dims in dimension_sets(function, None, None)
        )
        labels = _labels(scope, function, None)[:-1]
        counter = ASYNC_COUNTERS.get(name)
        if counter is not None:
            self.registry.count(counter, labels, value)
        elif name == "AsyncEventAge":
            self.registry.observe("lamina_lambda_async_event_age_milliseconds", labels, value)


def _sample(
    scope: str, metric: str, dims: Dimensions, unit: str, value: float, at: float
) -> Sample:
    return Sample(scope, NAMESPACE, metric, dims, unit, float(value), at)


def _labels(scope: str, function: str, qualifier: str | None) -> tuple[tuple[str, str], ...]:
    account, _, region = scope.partition("/")
    resource = f"{function}:{qualifier}" if qualifier else function
    return (
        ("account", account),
        ("region", region),
        ("function", function),
        ("resource", resource),
    )
