"""Runs queued asynchronous events through the synchronous path and settles each one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from lamina.engine.admission import LocalAdmission
from lamina.engine.async_queue import AsyncEvent, AsyncEventQueue
from lamina.engine.destinations import Deliveries
from lamina.engine.invoke import Invoker, InvokeRequest
from lamina.engine.metrics import MetricsSink
from lamina.engine.resolver import Target
from lamina.engine.retry import (
    DEFAULT_MAX_EVENT_AGE,
    DEFAULT_MAX_RETRIES,
    Condition,
    Decision,
    Retry,
    RetryPolicy,
    Settle,
)
from lamina.errors import AwsError, ResourceNotFoundException
from lamina.lambda_.event_invoke_config import EventInvokeConfig, EventInvokeConfigService
from lamina.lambda_.scope import Scope

log = logging.getLogger("lamina.async")

LEASE_SECONDS = 900 + 60  # longer than any function timeout plus init
MAX_IN_FLIGHT = 128
IDLE_WAKEUP = 1.0  # seconds between checks for due events when nothing else wakes us


class AsyncDispatcher:
    def __init__(
        self,
        queue: AsyncEventQueue,
        invoker: Invoker,
        configs: EventInvokeConfigService,
        deliveries: Deliveries,
        admission: LocalAdmission,
        policy: RetryPolicy,
        metrics: MetricsSink,
    ) -> None:
        self._queue = queue
        self._invoker = invoker
        self._configs = configs
        self._deliveries = deliveries
        self._admission = admission
        self._policy = policy
        self._metrics = metrics
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        await self._queue.release_leases()
        for event in await self._queue.undelivered():
            # Settled before a stop, not yet delivered: deliver now.
            self._spawn(self._redeliver(event))
        self._loop_task = asyncio.get_running_loop().create_task(self._dispatch_loop())

    async def close(self) -> None:
        """Stop; events in flight stay queued and run again after the next start."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _dispatch_loop(self) -> None:
        while True:
            free = MAX_IN_FLIGHT - len(self._running)
            events = await self._queue.claim(time.time(), LEASE_SECONDS, free) if free else []
            for event in events:
                self._spawn(self._attempt(event))
            if events and len(events) == free:
                await self._changed.wait()
                self._changed.clear()
                continue
            if events:
                continue
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        due = await self._queue.next_due()
        timeout = IDLE_WAKEUP if due is None else max(0.0, min(IDLE_WAKEUP, due - time.time()))
        if timeout <= 0:
            return
        arrived = asyncio.ensure_future(self._queue.arrived.wait())
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait(
                {arrived, changed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            arrived.cancel()
            changed.cancel()
        self._queue.arrived.clear()
        self._changed.clear()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._changed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("asynchronous event handling failed", exc_info=task.exception())

    # --- one attempt -----------------------------------------------------------------------

    async def _attempt(self, event: AsyncEvent) -> None:
        scope = Scope(*event.scope.split("/", 1))
        try:
            target = await self._invoker.resolver.resolve(
                scope, event.function_name, event.qualifier
            )
        except ResourceNotFoundException:
            await self._queue.settle(
                event, "Dropped", "the function no longer exists", time.time(), deliveries=False
            )
            self._count(event, "AsyncEventsDropped")
            return
        except AwsError as error:  # e.g. an update in progress: a system error, back off
            event, decision = self._throttled(event, error, DEFAULT_MAX_EVENT_AGE)
            await self._decide(event, None, decision)
            return
        config = await self._configs.find(scope, event.function_name, event.qualifier)
        max_age = _max_age(config)
        age = time.time() - event.enqueued_at
        if self._policy.expired(age, max_age):
            await self._decide(event, target, Settle(Condition.EVENT_AGE_EXCEEDED), config)
            return
        if self._admission.reserved(event.scope, event.function_name) == 0:
            await self._decide(event, target, Settle(Condition.ZERO_RESERVED_CONCURRENCY), config)
            return
        self._metrics.async_metric(
            scope=event.scope,
            function=event.function_name,
            name="AsyncEventAge",
            value=age * 1000,
            unit="Milliseconds",
        )
        request = InvokeRequest(
            scope,
            event.function_name,
            event.qualifier,
            event.payload,
            event.request_id,
            event.trace_id,
        )
        try:
            outcome = await self._invoker.run(request, target)
        except AwsError as error:  # throttled, or a system error before the function ran
            event, decision = self._throttled(event, error, max_age)
            await self._decide(event, target, decision, config)
            return
        result = outcome.result
        event = replace(
            event,
            attempts=event.attempts + 1,
            last_result={
                "statusCode": 200,
                "executedVersion": target.executed_version,
                "functionError": result.function_error,
                "payload": result.payload.decode(errors="replace"),
            },
        )
        if result.function_error is None:
            decision = self._policy.after_success()
        else:
            decision = self._policy.after_function_error(
                event.attempts, _max_retries(config), time.time() - event.enqueued_at, max_age
            )
        await self._decide(event, target, decision, config)

    def _throttled(
        self, event: AsyncEvent, error: AwsError, max_age: int
    ) -> tuple[AsyncEvent, Decision]:
        log.debug("event %s not run: %s", event.request_id, error.code)
        event = replace(event, throttles=event.throttles + 1)
        age = time.time() - event.enqueued_at
        return event, self._policy.after_throttle(event.throttles, age, max_age)

    async def _decide(
        self,
        event: AsyncEvent,
        target: Target | None,
        decision: Decision,
        config: EventInvokeConfig | None = None,
    ) -> None:
        if isinstance(decision, Retry):
            await self._queue.reschedule(event, time.time() + decision.delay)
            return
        condition = decision.condition
        destination, dead_letter = _targets(condition, target, config)
        deliveries = bool(destination or dead_letter)
        settled = await self._queue.settle(
            event, condition.value, _reason(condition), time.time(), deliveries=deliveries
        )
        if not settled:
            return  # settled elsewhere already
        if condition is not Condition.SUCCESS:
            self._count(event, "AsyncEventsDropped")
        if deliveries:
            await self._deliver(event, condition, target, config)

    async def _deliver(
        self,
        event: AsyncEvent,
        condition: Condition,
        target: Target | None,
        config: EventInvokeConfig | None,
    ) -> None:
        destination, dead_letter = _targets(condition, target, config)
        await self._deliveries.deliver(event, condition, destination, dead_letter)
        await self._queue.mark_delivered(event.request_id)

    async def _redeliver(self, event: AsyncEvent) -> None:
        scope = Scope(*event.scope.split("/", 1))
        try:
            target = await self._invoker.resolver.resolve(
                scope, event.function_name, event.qualifier
            )
        except AwsError:
            target = None
        config = await self._configs.find(scope, event.function_name, event.qualifier)
        if event.outcome in {c.value for c in Condition}:
            await self._deliver(event, Condition(event.outcome), target, config)
        else:
            await self._queue.mark_delivered(event.request_id)

    def _count(self, event: AsyncEvent, name: str) -> None:
        self._metrics.async_metric(
            scope=event.scope, function=event.function_name, name=name, value=1.0, unit="Count"
        )


def _targets(
    condition: Condition, target: Target | None, config: EventInvokeConfig | None
) -> tuple[str | None, str | None]:
    """The destination and the dead-letter target an outcome is delivered to."""
    destination = None
    if config is not None:
        destination = config.on_success if condition is Condition.SUCCESS else config.on_failure
    dead_letter = None
    if condition is not Condition.SUCCESS and target is not None:
        dead_letter = target.config.dead_letter_target
    return destination, dead_letter


def _max_age(config: EventInvokeConfig | None) -> int:
    if config is None or config.maximum_event_age is None:
        return DEFAULT_MAX_EVENT_AGE
    return config.maximum_event_age


def _max_retries(config: EventInvokeConfig | None) -> int:
    if config is None or config.maximum_retry_attempts is None:
        return DEFAULT_MAX_RETRIES
    return config.maximum_retry_attempts


def _reason(condition: Condition) -> str:
    return {
        Condition.SUCCESS: "the function ran successfully",
        Condition.RETRIES_EXHAUSTED: "the function failed on every attempt",
        Condition.EVENT_AGE_EXCEEDED: "the event outlived MaximumEventAgeInSeconds",
        Condition.ZERO_RESERVED_CONCURRENCY: "the function's reserved concurrency is 0",
    }[condition]
