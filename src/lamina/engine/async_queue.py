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
    lease_until = NULL, settled_at = ?
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
        self._waiting: list[tuple[AsyncEvent, float, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.arrived = asyncio.Event()  # set whenever a new event is committed

    async def accept(self, event: AsyncEvent, due_at: float) -> None:
        """Return once the event is durable; concurrent acceptances share one commit."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, due_at, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_batches())
        await done

    async def _write_batches(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # let this loop tick's acceptances join the batch
            batch, self._waiting = self._waiting, []
            rows = [
                (
                    e.request_id,
                    e.scope,
                    e.function_name,
                    e.qualifier,
                    e.payload,
                    e.trace_id,
                    e.enqueued_at,
                    due,
                )
                for e, due, _ in batch
            ]
            try:
                await self._storage.transact(_inserter(rows))
            except Exception as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)
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
        await self._storage.transact(lambda db: db.execute(RESCHEDULE, params))

    async def settle(self, event: AsyncEvent, outcome: str, reason: str, now: float) -> bool:
        """Record the outcome; False when the event had already settled."""
        params = (outcome, reason, event.attempts, _dump(event.last_result), now, event.request_id)

        def write(db: sqlite3.Connection) -> bool:
            return db.execute(SETTLE, params).rowcount == 1

        return await self._storage.transact(write)

    async def mark_delivered(self, request_id: str) -> None:
        await self._storage.transact(lambda db: db.execute(MARK_DELIVERED, (request_id,)))

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


def _inserter(rows: list[tuple[Any, ...]]) -> Callable[[sqlite3.Connection], None]:
    def insert(db: sqlite3.Connection) -> None:
        db.executemany(INSERT, rows)

    return insert


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
