"""Per-minute metric aggregates in SQLite: SampleCount, Sum, Minimum and Maximum per metric,
dimension set and minute. Writers append samples in memory; a loop folds them into minute
buckets and writes them in one transaction a second, so recording never waits on the disk."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from lamina.storage import SqliteStorage

log = logging.getLogger("lamina.metrics")

FLUSH_INTERVAL = 1.0  # seconds between batched writes
RETENTION_S = 15 * 86_400  # one-minute data is kept 15 days, as CloudWatch does

Dimensions = tuple[tuple[str, str], ...]  # sorted (name, value) pairs

UPSERT = """
INSERT INTO metric_data (scope, namespace, metric, dimensions, minute, unit,
                         sample_count, total, minimum, maximum)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, namespace, metric, dimensions, minute) DO UPDATE SET
    sample_count = sample_count + excluded.sample_count,
    total = total + excluded.total,
    minimum = MIN(minimum, excluded.minimum),
    maximum = MAX(maximum, excluded.maximum)
"""


@dataclass(frozen=True, slots=True)
class Sample:
    scope: str
    namespace: str
    metric: str
    dimensions: Dimensions
    unit: str
    value: float
    at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One minute (or a sum of minutes) of a metric."""

    start: int  # epoch seconds
    unit: str
    sample_count: float
    total: float
    minimum: float
    maximum: float

    def merged(self, other: Aggregate) -> Aggregate:
        return Aggregate(
            min(self.start, other.start),
            self.unit,
            self.sample_count + other.sample_count,
            self.total + other.total,
            min(self.minimum, other.minimum),
            max(self.maximum, other.maximum),
        )


@dataclass(frozen=True, slots=True)
class MetricKey:
    namespace: str
    metric: str
    dimensions: Dimensions


def dimension_key(dimensions: Dimensions) -> str:
    return json.dumps([list(pair) for pair in sorted(dimensions)], separators=(",", ":"))


def _dimensions(raw: str) -> Dimensions:
    return tuple((name, value) for name, value in json.loads(raw))


class MetricStore:
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage
        self._pending: list[Sample] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def add(self, sample: Sample) -> None:
        self._pending.append(sample)

    def add_all(self, samples: Iterable[Sample]) -> None:
        self._pending.extend(samples)

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self._flush_loop())

    async def close(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        folded: dict[tuple[str, str, str, Dimensions, int], list[float | str]] = {}
        for s in batch:
            key = (s.scope, s.namespace, s.metric, s.dimensions, int(s.at // 60) * 60)
            row = folded.get(key)
            if row is None:
                folded[key] = [s.unit, 1.0, s.value, s.value, s.value]
            else:
                row[1] = float(row[1]) + 1
                row[2] = float(row[2]) + s.value
                row[3] = min(float(row[3]), s.value)
                row[4] = max(float(row[4]), s.value)
        # The dimensions' text form is made once per folded row, not once per sample.
        rows = [
            (scope, namespace, metric, dimension_key(dims), minute, *values)
            for (scope, namespace, metric, dims, minute), values in folded.items()
        ]
        await self._storage.transact(lambda db: db.executemany(UPSERT, rows))

    async def aggregates(
        self, scope: str, key: MetricKey, start: float, end: float
    ) -> list[Aggregate]:
        """The minutes of one metric (exact dimension set) in [start, end), oldest first."""
        await self.flush()

        def query(db: sqlite3.Connection) -> list[Aggregate]:
            rows = db.execute(
                "SELECT minute, unit, sample_count, total, minimum, maximum FROM metric_data"
                " WHERE scope = ? AND namespace = ? AND metric = ? AND dimensions = ?"
                " AND minute >= ? AND minute < ? ORDER BY minute",
                (
                    scope,
                    key.namespace,
                    key.metric,
                    dimension_key(key.dimensions),
                    int(start // 60) * 60,
                    end,
                ),
            )
            return [Aggregate(*row) for row in rows]

        return await self._storage.transact(query)

    async def metrics(self, scope: str, namespace: str | None, since: float) -> list[MetricKey]:
        """Every metric with data since ``since``, ordered by namespace, name, dimensions."""
        await self.flush()

        def query(db: sqlite3.Connection) -> list[MetricKey]:
            rows = db.execute(
                "SELECT DISTINCT namespace, metric, dimensions FROM metric_data"
                " WHERE scope = ? AND (? IS NULL OR namespace = ?) AND minute >= ?"
                " ORDER BY namespace, metric, dimensions",
                (scope, namespace, namespace, since),
            )
            return [MetricKey(ns, name, _dimensions(dims)) for ns, name, dims in rows]

        return await self._storage.transact(query)

    async def expire(self) -> None:
        oldest = time.time() - RETENTION_S
        await self._storage.transact(
            lambda db: db.execute("DELETE FROM metric_data WHERE minute < ?", (oldest,))
        )

    async def _flush_loop(self) -> None:
        flushes = 0
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), FLUSH_INTERVAL)
            try:
                await self.flush()
                flushes += 1
                if flushes % 3600 == 1:
                    await self.expire()
            except Exception:
                log.exception("writing metrics failed")
