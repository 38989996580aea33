"""One enabled SQS mapping's poller: receive, batch, filter, invoke, commit.

Each *slot* is a task that gathers a batch (long polling; up to BatchSize messages or until
MaximumBatchingWindowInSeconds passed), invokes the function synchronously and settles the
batch: deleted on success, left to reappear after the visibility timeout on failure, only the
successes deleted under ReportBatchItemFailures. Messages no filter matches are deleted without
an invocation. The poller starts with AWS's five concurrent batches and adds one slot at a time
(at most AWS's 300 a minute) while full batches keep arriving, up to
ScalingConfig.MaximumConcurrency; idle slots beyond the first five go away. FIFO order holds
because the queue service hands out no message of a group that has one in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

from lamina.engine.admission import LocalAdmission
from lamina.engine.invoke import Invoker, InvokeRequest
from lamina.engine.pollers.batch_result import partial_result
from lamina.engine.pollers.filter_patterns import FilterSet
from lamina.engine.pollers.sqs_records import event_payload, filter_view, record, trace_header
from lamina.engine.trace import trace_header as accept_trace_header
from lamina.errors import AwsError, ResourceNotFoundException, TooManyRequestsException
from lamina.lambda_.event_source_mappings import EventSourceMapping
from lamina.services.sqs import ReceivedMessage, SqsService

log = logging.getLogger("lamina.pollers")

INITIAL_SLOTS = 5  # AWS starts with five concurrent batches
DEFAULT_MAXIMUM_CONCURRENCY = 1000  # AWS's ceiling without ScalingConfig
SCALE_INTERVAL = 0.2  # seconds between added slots: 300 a minute
LONG_POLL_SECONDS = 20
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
PAYLOAD_HEADROOM = 512 * 1024  # room for record metadata around the bodies
THROTTLE_BACKOFF = (0.05, 2.0)  # first and longest pause after a throttle
ERROR_BACKOFF = 1.0  # pause after a missing function, queue or a system error
ZERO_CONCURRENCY_PAUSE = 1.0
VISIBILITY_CHECK = 5.0  # seconds between looks at the queue's and the function's timeouts

OK = "OK"
FUNCTION_FAILED = "PROBLEM: Function call failed"
THROTTLED = "PROBLEM: Function call throttled"  # UNVERIFIED wording
FUNCTION_MISSING = "PROBLEM: Function not found"  # UNVERIFIED wording
SOURCE_FAILED = "PROBLEM: Cannot read from the event source"  # UNVERIFIED wording

ResultSink = Callable[[EventSourceMapping, str], Awaitable[None]]


class SqsPoller:
    def __init__(
        self,
        mapping: EventSourceMapping,
        sqs: SqsService,
        invoker: Invoker,
        admission: LocalAdmission,
        report: ResultSink,
    ) -> None:
        self.mapping = mapping
        self._sqs = sqs
        self._invoker = invoker
        self._admission = admission
        self._report = report
        self._filters = FilterSet.parse(mapping.filters)
        self._scope = mapping.owner
        self._limit = mapping.maximum_concurrency or DEFAULT_MAXIMUM_CONCURRENCY
        self._slots: dict[asyncio.Task[None], bool] = {}  # task -> processing a batch
        self._stopping = False
        self._last_growth = 0.0
        self._throttles = 0
        self._visibility_checked = 0.0
        self._visibility_look: asyncio.Future[int | None] | None = None

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        for _ in range(min(INITIAL_SLOTS, self._limit)):
            self._add_slot()

    async def stop(self) -> None:
        """Stop receiving; batches being processed finish and are settled first."""
        self._stopping = True
        for task, busy in list(self._slots.items()):
            if not busy:
                task.cancel()
        await asyncio.gather(*self._slots, return_exceptions=True)

    async def close(self) -> None:
        """Stop now (server shutdown): whatever was received reappears after its timeout."""
        self._stopping = True
        for task in self._slots:
            task.cancel()
        await asyncio.gather(*self._slots, return_exceptions=True)

    def _add_slot(self) -> None:
        # A context of its own: not the request id of the call that enabled the mapping.
        task = asyncio.get_running_loop().create_task(self._slot(), context=contextvars.Context())
        self._slots[task] = False
        task.add_done_callback(self._slot_done)

    def _slot_done(self, task: asyncio.Task[None]) -> None:
        self._slots.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("poller of mapping %s failed", self.mapping.uuid, exc_info=task.exception())

    def _maybe_grow(self) -> None:
        now = time.monotonic()
        if (
            not self._stopping
            and len(self._slots) < self._limit
            and now - self._last_growth >= SCALE_INTERVAL
            and sum(self._slots.values()) >= len(self._slots) - 1  # all others are busy
        ):
            self._last_growth = now
            self._add_slot()

    # --- one slot ---------------------------------------------------------------------

    async def _slot(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while not self._stopping:
            if self._admission.reserved(self.mapping.scope, self.mapping.function_name) == 0:
                await asyncio.sleep(ZERO_CONCURRENCY_PAUSE)  # nothing runs; leave the queue
                continue
            try:
                messages = await self._gather()
            except AwsError as error:  # the queue went away
                log.debug("mapping %s cannot receive: %s", self.mapping.uuid, error.code)
                await self._report(self.mapping, SOURCE_FAILED)
                await asyncio.sleep(ERROR_BACKOFF)
                continue
            if not messages:
                if len(self._slots) > INITIAL_SLOTS:
                    return  # traffic fell: give the slot back
                continue
            self._slots[task] = True
            try:
                pause = await self._process(messages)
            finally:
                self._slots[task] = False
            if pause:
                await asyncio.sleep(pause)

    async def _visibility(self) -> int | None:
        """AWS stretches a batch's visibility timeout to window + function timeout + 30 s when
        the queue's own timeout is shorter than window + function timeout (looked up at most
        every VISIBILITY_CHECK seconds; concurrent slots share one look)."""
        now = time.monotonic()
        if self._visibility_look is None or now - self._visibility_checked >= VISIBILITY_CHECK:
            self._visibility_checked = now
            self._visibility_look = asyncio.ensure_future(self._look_up_visibility())
        return await asyncio.shield(self._visibility_look)

    async def _look_up_visibility(self) -> int | None:
        try:
            target = await self._invoker.resolver.resolve(
                self._scope, self.mapping.function_name, self.mapping.qualifier
            )
            attributes = await self._sqs.attributes(self.mapping.event_source_arn)
        except AwsError:
            return None
        needed = (self.mapping.maximum_batching_window or 0) + target.config.timeout
        queue_visibility = int(attributes.get("VisibilityTimeout", "30"))
        return needed + 30 if needed > queue_visibility else None

    async def _gather(self) -> list[ReceivedMessage]:
        wanted = self.mapping.batch_size
        visibility = await self._visibility()
        messages = await self._sqs.receive(
            self.mapping.event_source_arn,
            min(wanted, 10),
            visibility_timeout=visibility,
            wait_seconds=LONG_POLL_SECONDS,
        )
        window = self.mapping.maximum_batching_window
        if not messages or not window:
            if len(messages) >= min(wanted, 10):
                self._maybe_grow()
            return messages
        deadline = time.monotonic() + window
        size = sum(len(m.body) for m in messages)
        while len(messages) < wanted and size < MAX_PAYLOAD_BYTES - PAYLOAD_HEADROOM:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = await self._sqs.receive(
                self.mapping.event_source_arn,
                min(wanted - len(messages), 10),
                visibility_timeout=visibility,
                wait_seconds=remaining,
            )
            messages += more
            size += sum(len(m.body) for m in more)
        if len(messages) >= wanted:
            self._maybe_grow()
        return messages

    async def _process(self, messages: list[ReceivedMessage]) -> float:
        """Invoke and settle one batch; how long the slot should pause afterwards."""
        mapping = self.mapping
        entries = [record(m, mapping.event_source_arn, self._scope.region) for m in messages]
        if self._filters.patterns:
            keep = [self._filters.matches(filter_view(e)) for e in entries]
            await self._delete([m for m, k in zip(messages, keep, strict=True) if not k])
            messages = [m for m, k in zip(messages, keep, strict=True) if k]
            entries = [e for e, k in zip(entries, keep, strict=True) if k]
            if not messages:
                return 0.0
        request = InvokeRequest(
            self._scope,
            mapping.function_name,
            mapping.qualifier,
            event_payload(entries),
            str(uuid.uuid4()),
            accept_trace_header(trace_header(messages[0])),
        )
        try:
            target = await self._invoker.resolve(request)
            outcome = await self._invoker.run(request, target)
        except TooManyRequestsException:
            self._throttles += 1
            await self._report(mapping, THROTTLED)
            low, high = THROTTLE_BACKOFF
            return float(min(high, low * 2 ** min(self._throttles, 10)))
        except ResourceNotFoundException:
            await self._report(mapping, FUNCTION_MISSING)
            return ERROR_BACKOFF
        except AwsError as error:  # e.g. the function is Pending or failed to start
            log.debug("mapping %s: invoke failed: %s", mapping.uuid, error.code)
            await self._report(mapping, FUNCTION_FAILED)
            return ERROR_BACKOFF
        self._throttles = 0
        result = outcome.result
        if result.function_error is not None:
            await self._report(mapping, FUNCTION_FAILED)
            return 0.0  # the batch reappears after its visibility timeout
        if mapping.reports_item_failures:
            verdict = partial_result(result.payload, {m.message_id for m in messages})
            if verdict.failed is None:
                await self._report(mapping, FUNCTION_FAILED)
                return 0.0
            messages = [m for m in messages if m.message_id not in verdict.failed]
        await self._delete(messages)
        await self._report(mapping, OK)
        return 0.0

    async def _delete(self, messages: Sequence[ReceivedMessage]) -> None:
        if not messages:
            return
        with contextlib.suppress(AwsError):  # the queue went away: nothing left to delete
            failed = await self._sqs.delete(
                self.mapping.event_source_arn, [m.receipt_handle for m in messages]
            )
            if failed:
                log.debug("mapping %s: %d receipts had expired", self.mapping.uuid, len(failed))
