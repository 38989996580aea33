"""The durable queue of asynchronous events, in the platform's own database.

An event is accepted (202) only once its row is committed; acceptances arriving together
are committed together. The dispatcher claims due events under a lease, records each
attempt, and settles every event exactly once: its outcome is written in the same
statement that ends its life in the queue, and the deliveries that outcome calls for
(destination, dead-letter queue) are marked done afterwards, so a crash in between
delivers again rather than never.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lamina.storage import SqliteStorage

INSERT = """
INSERT INTO async_events
    (request_id, scope, function_name, qualifier, payload, trace_id, enqueued_at, due_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""
CLAIM = """
UPDATE async_events SET lease_until = :lease
WHERE request_id IN (
    SELECT request_id FROM async_events
    WHERE outcome IS NULL AND due_at <= :now AND (lease_until IS NULL OR lease_until < :now)
    ORDER BY due_at LIMIT :limit
)
RETURNING request_id, scope, function_name, qualifier, payload, trace_id, enqueued_at,
          attempts, throttles, last_result
"""
NEXT_DUE = "SELECT MIN(due_at) FROM async_events WHERE outcome IS NULL AND lease_until IS NULL"
RESCHEDULE = """
UPDATE async_events SET due_at = ?, lease_until = NULL, attempts = ?, throttles = ?,
    last_result = ?
WHERE request_id = ?
"""
SETTLE = """
UPDATE async_events SET outcome = ?, reason = ?, attempts = ?, last_result = ?,
    lease_until = NULL, settled_at = ?, delivered = ?
WHERE request_id = ? AND outcome IS NULL
"""
MARK_DELIVERED = "UPDATE async_events SET delivered = 1 WHERE request_id = ?"
UNDELIVERED = """
SELECT request_id, scope, function_name, qualifier, payload, trace_id, enqueued_at,
       attempts, throttles, last_result, outcome
FROM async_events WHERE outcome IS NOT NULL AND delivered = 0
"""
RELEASE_LEASES = "UPDATE async_events SET lease_until = NULL WHERE outcome IS NULL"
OUTCOMES = """
SELECT request_id, function_name, outcome, reason, attempts, delivered
FROM async_events WHERE scope = ? ORDER BY enqueued_at
"""


@dataclass(frozen=True, slots=True)
class AsyncEvent:
    request_id: str
    scope: str
    function_name: str
    qualifier: str | None
    payload: bytes
    trace_id: str
    enqueued_at: float
    attempts: int = 0
    throttles: int = 0
    last_result: dict[str, Any] | None = None  # the last attempt's response, for records
    outcome: str | None = None


class AsyncEventQueue:
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage
        self._writes = _WriteBatcher(storage)
        self.arrived = asyncio.Event()  # set whenever a new event is committed

    async def accept(self, event: AsyncEvent, due_at: float) -> None:
        """Return once the event is durable; concurrent acceptances share one commit."""
        await self._writes.run(
            INSERT,
            (
                event.request_id,
                event.scope,
                event.function_name,
                event.qualifier,
                event.payload,
                event.trace_id,
                event.enqueued_at,
                due_at,
            ),
        )
        self.arrived.set()

    async def release_leases(self) -> None:
        """At start-up (one node): claims of a stopped process are void."""
        await self._storage.transact(lambda db: db.execute(RELEASE_LEASES))

    async def claim(self, now: float, lease_seconds: float, limit: int) -> list[AsyncEvent]:
        params = {"lease": now + lease_seconds, "now": now, "limit": limit}
        rows = await self._storage.transact(lambda db: list(db.execute(CLAIM, params)))
        return [_event(row) for row in rows]

    async def next_due(self) -> float | None:
        row = await self._storage.transact(lambda db: db.execute(NEXT_DUE).fetchone())
        return None if row is None or row[0] is None else float(row[0])

    async def reschedule(self, event: AsyncEvent, due_at: float) -> None:
        params = (
            due_at,
            event.attempts,
            event.throttles,
            _dump(event.last_result),
            event.request_id,
        )
        await self._writes.run(RESCHEDULE, params)

    async def settle(
        self, event: AsyncEvent, outcome: str, reason: str, now: float, *, deliveries: bool
    ) -> bool:
        """Record the outcome (and, with nothing to deliver, that delivery is done);
        False when the event had already settled."""
        result = _dump(event.last_result)
        params = (
            outcome,
            reason,
            event.attempts,
            result,
            now,
            0 if deliveries else 1,
            event.request_id,
        )
        return await self._writes.run(SETTLE, params) == 1

    async def mark_delivered(self, request_id: str) -> None:
        await self._writes.run(MARK_DELIVERED, (request_id,))

    async def undelivered(self) -> list[AsyncEvent]:
        rows = await self._storage.transact(lambda db: list(db.execute(UNDELIVERED)))
        return [_event(row[:10], outcome=row[10]) for row in rows]

    async def outcomes(self, scope: str) -> list[dict[str, Any]]:
        rows = await self._storage.transact(lambda db: list(db.execute(OUTCOMES, (scope,))))
        return [
            {
                "requestId": r[0],
                "functionName": r[1],
                "outcome": r[2],
                "reason": r[3],
                "attempts": r[4],
                "delivered": bool(r[5]),
            }
            for r in rows
        ]


class _WriteBatcher:
    """Statements issued in the same loop tick (or while a write is running) share one
    transaction; each caller gets its own row count once that transaction committed."""

    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage
        self._pending: list[tuple[str, tuple[Any, ...], asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, sql: str, params: tuple[Any, ...]) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((sql, params, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return await done

    async def _write(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let this tick's writes join the batch
            batch, self._pending = self._pending, []
            try:
                counts = await self._storage.transact(_executor(batch))
            except Exception as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, _, done), count in zip(batch, counts, strict=True):
                if not done.done():
                    done.set_result(count)


def _executor(
    batch: list[tuple[str, tuple[Any, ...], asyncio.Future[int]]],
) -> Callable[[sqlite3.Connection], list[int]]:
    def execute(db: sqlite3.Connection) -> list[int]:
        return [db.execute(sql, params).rowcount for sql, params, _ in batch]

    return execute


def _event(row: Sequence[Any], outcome: str | None = None) -> AsyncEvent:
    return AsyncEvent(
        request_id=row[0],
        scope=row[1],
        function_name=row[2],
        qualifier=row[3],
        payload=bytes(row[4]),
        trace_id=row[5],
        enqueued_at=row[6],
        attempts=row[7],
        throttles=row[8],
        last_result=None if row[9] is None else json.loads(row[9]),
        outcome=outcome,
    )


def _dump(result: dict[str, Any] | None) -> str | None:
    return None if result is None else json.dumps(result)
