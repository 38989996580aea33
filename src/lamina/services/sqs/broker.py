"""Moving messages: group-committed sends, long-polled receives, deletes and visibility.

Sends arriving while a write is in flight (or in the same loop tick) are stored together in one
transaction, so throughput is bounded by transactions per second times the batch, not by one
fsync per message. A receiver with nothing to take waits on its queue's signal, which a send
or a change of visibility sets; it also wakes when the next hidden message is due.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence

from lamina.clock import Clock
from lamina.services.sqs.catalog import QueueCatalog
from lamina.services.sqs.models import (
    Accepted,
    OutgoingMessage,
    Queue,
    QueueCounts,
    ReceivedMessage,
)
from lamina.services.sqs.receipts import MessageIds, Receipt, parse_receipt
from lamina.services.sqs.store import DeadLetter, ReceiptState, ReceiveSpec, SqsStore

_Pending = tuple[OutgoingMessage, "asyncio.Future[Accepted]"]


class MessageBroker:
    def __init__(self, store: SqsStore, catalog: QueueCatalog, clock: Clock) -> None:
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._signals: dict[int, asyncio.Event] = {}
        self.ids = MessageIds()

    def now_ms(self) -> int:
        return int(self._clock.now() * 1000)

    # --- sending ------------------------------------------------------------------------

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[Accepted]:
        """Store messages durably (one group commit with other concurrent sends)."""
        loop = asyncio.get_running_loop()
        futures = []
        for message in messages:
            future: asyncio.Future[Accepted] = loop.create_future()
            self._pending.append((message, future))
            futures.append(future)
        if self._writer is None:
            self._writer = loop.create_task(self._write())
        if len(futures) == 1:
            return [await futures[0]]
        return list(await asyncio.gather(*futures))

    async def _write(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    accepted = await self._store.append([m for m, _ in batch], self.now_ms())
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, accepted, strict=True):
                    if not future.done():
                        future.set_result(result)
                for queue_id in {m.queue_id for m, _ in batch}:
                    self._signal(queue_id)
        finally:
            self._writer = None

    def _signal(self, queue_id: int) -> None:
        event = self._signals.pop(queue_id, None)
        if event is not None:
            event.set()

    def _waiter(self, queue_id: int) -> asyncio.Event:
        event = self._signals.get(queue_id)
        if event is None:
            event = self._signals[queue_id] = asyncio.Event()
        return event

    # --- receiving ----------------------------------------------------------------------

    async def receive(
        self,
        queue: Queue,
        max_messages: int,
        visibility_timeout: int,
        wait_seconds: float,
    ) -> list[ReceivedMessage]:
        """Up to max_messages, waiting up to wait_seconds for the first (redrive and FIFO
        rules applied)."""
        deadline = self._clock.monotonic() + wait_seconds
        while True:
            waiter = self._waiter(queue.id)  # taken before reading: a send in between sets it
            spec = ReceiveSpec(
                queue_id=queue.id,
                fifo=queue.fifo,
                max_messages=max_messages,
                visibility_ms=visibility_timeout * 1000,
                now_ms=self.now_ms(),
                retention_ms=queue.retention_seconds * 1000,
                dead_letter=self._dead_letter(queue),
            )
            outcome = await self._store.receive(spec)
            if outcome.moved_to_dead_letter and spec.dead_letter is not None:
                self._signal(spec.dead_letter.queue_id)
            remaining = deadline - self._clock.monotonic()
            if outcome.messages or remaining <= 0:
                return outcome.messages
            if outcome.next_visible_ms is not None:
                due = (outcome.next_visible_ms - self.now_ms()) / 1000
                remaining = min(remaining, max(due, 0.001))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), remaining)
            current = self._catalog.by_id(queue.id)
            if current is None:
                return []  # deleted while waiting
            queue = current

    def _dead_letter(self, queue: Queue) -> DeadLetter | None:
        policy = queue.redrive_policy
        if policy is None:
            return None
        target = self._catalog.find_arn(policy.dead_letter_target_arn)
        if target is None:
            return None
        return DeadLetter(target.id, policy.max_receive_count, queue.arn)

    # --- settling -----------------------------------------------------------------------

    async def delete(self, queue: Queue, handles: Sequence[str]) -> list[ReceiptState | None]:
        """Each handle's outcome; None for a handle that is not a receipt handle at all."""
        receipts = [parse_receipt(h) for h in handles]
        valid = [r for r in receipts if r is not None and r.queue_id == queue.id]
        states = iter(await self._store.delete(queue.id, queue.fifo, valid, self.now_ms()))
        return [_state(r, queue, states) for r in receipts]

    async def change_visibility(
        self, queue: Queue, changes: Sequence[tuple[str, int]]
    ) -> list[ReceiptState | None]:
        now = self.now_ms()
        receipts = [parse_receipt(h) for h, _ in changes]
        valid = [
            (r, now + timeout * 1000)
            for r, (_, timeout) in zip(receipts, changes, strict=True)
            if r is not None and r.queue_id == queue.id
        ]
        states = iter(await self._store.change_visibility(queue.id, valid, now))
        self._signal(queue.id)
        return [_state(r, queue, states) for r in receipts]

    async def counts(self, queue: Queue) -> QueueCounts:
        return await self._store.counts(queue.id, self.now_ms(), queue.retention_seconds * 1000)

    async def purge(self, queue: Queue) -> None:
        await self._store.purge(queue.id)

    def forget(self, queue: Queue) -> None:
        """Wake receivers of a deleted queue."""
        self._signal(queue.id)


def _state(
    receipt: Receipt | None, queue: Queue, states: Iterator[ReceiptState]
) -> ReceiptState | None:
    if receipt is None:
        return None
    if receipt.queue_id != queue.id:
        return ReceiptState.GONE
    return next(states)
