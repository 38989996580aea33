"""Function log lines written in batches: invocations never wait for the database."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import dataclass

from lamina.storage import SqliteStorage

log = logging.getLogger("lamina.logs")

FLUSH_INTERVAL = 0.05  # seconds between batched writes

INSERT_STREAM = """
INSERT INTO log_streams (scope, log_group, log_stream, created, first_event, last_event)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, log_group, log_stream) DO UPDATE SET
    first_event = MIN(COALESCE(log_streams.first_event, excluded.first_event),
                      excluded.first_event),
    last_event = MAX(COALESCE(log_streams.last_event, excluded.last_event), excluded.last_event)
"""
INSERT_GROUP = """
INSERT INTO log_groups (scope, log_group, created) VALUES (?, ?, ?)
ON CONFLICT (scope, log_group) DO NOTHING
"""
INSERT_EVENT = """
INSERT INTO log_events (scope, log_group, log_stream, timestamp, ingestion, message)
VALUES (?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True, slots=True)
class LogEvent:
    scope: str
    group: str
    stream: str
    timestamp: int  # epoch milliseconds
    message: str


class LogStore:
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage
        self._pending: list[LogEvent] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._flush_loop())

    async def close(self) -> None:
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    def append_events(self, events: list[LogEvent]) -> None:
        """Queue events with their own timestamps (PutLogEvents)."""
        self._pending.extend(events)
        self._wakeup.set()

    def append(self, scope: str, group: str, stream: str, text: str) -> None:
        """Queue an invocation's text, one event per line, stamped now."""
        now = int(time.time() * 1000)
        for line in text.splitlines():
            self._pending.append(LogEvent(scope, group, stream, now, line))
        self._wakeup.set()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            await self._storage.transact(lambda db: _write(db, batch))

    async def _flush_loop(self) -> None:
        while not self._closing:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                await self.flush()
            except Exception:
                log.exception("writing function logs failed")
        await self.flush()


def _write(db: sqlite3.Connection, batch: list[LogEvent]) -> None:
    ingestion = int(time.time() * 1000)
    streams: dict[tuple[str, str, str], tuple[int, int]] = {}
    for event in batch:
        key = (event.scope, event.group, event.stream)
        first, last = streams.get(key, (event.timestamp, event.timestamp))
        streams[key] = (min(first, event.timestamp), max(last, event.timestamp))
    for (scope, group, stream), (first, last) in streams.items():
        db.execute(INSERT_GROUP, (scope, group, ingestion))
        db.execute(INSERT_STREAM, (scope, group, stream, ingestion, first, last))
    db.executemany(
        INSERT_EVENT,
        [(e.scope, e.group, e.stream, e.timestamp, ingestion, e.message) for e in batch],
    )
