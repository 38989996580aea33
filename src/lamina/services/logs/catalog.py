"""Log groups and streams: creation, listing, retention and deletion (the SQLite tables of
``0003_logs.sql`` and ``0004_log_groups.sql``)."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from lamina.services.logs.errors import (
    InvalidParameterException,
    ResourceAlreadyExistsException,
    group_not_found,
    stream_not_found,
)
from lamina.storage import SqliteStorage

DAY_MS = 86_400_000
# The values PutRetentionPolicy accepts (the model documents them; anything else is refused).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LogGroup:
    name: str
    created: int
    retention_days: int | None
    stored_bytes: int


@dataclass(frozen=True, slots=True)
class LogStream:
    name: str
    created: int
    first_event: int | None
    last_event: int | None


def now_ms() -> int:
    return int(time.time() * 1000)


def cutoff(retention_days: int | None, now: int) -> int:
    """The oldest timestamp a group with this retention still keeps."""
    return 0 if retention_days is None else now - retention_days * DAY_MS


def group_retention(db: sqlite3.Connection, scope: str, group: str) -> int | None:
    """The group's retention in days (None: forever); ResourceNotFound if it does not exist."""
    row = db.execute(
        "SELECT retention_days FROM log_groups WHERE scope = ? AND log_group = ?", (scope, group)
    ).fetchone()
    if row is None:
        raise group_not_found()
    retention: int | None = row[0]
    return retention


def require_stream(db: sqlite3.Connection, scope: str, group: str, stream: str) -> None:
    row = db.execute(
        "SELECT 1 FROM log_streams WHERE scope = ? AND log_group = ? AND log_stream = ?",
        (scope, group, stream),
    ).fetchone()
    if row is None:
        raise stream_not_found()


class LogCatalog:
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    async def create_group(self, scope: str, group: str) -> None:
        def create(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO log_groups (scope, log_group, created) VALUES (?, ?, ?)",
                    (scope, group, now_ms()),
                )
            except sqlite3.IntegrityError:
                raise ResourceAlreadyExistsException(
                    "The specified log group already exists"
                ) from None

        await self._storage.transact(create)

    async def create_stream(self, scope: str, group: str, stream: str) -> None:
        def create(db: sqlite3.Connection) -> None:
            group_retention(db, scope, group)
            try:
                db.execute(
                    "INSERT INTO log_streams (scope, log_group, log_stream, created)"
                    " VALUES (?, ?, ?, ?)",
                    (scope, group, stream, now_ms()),
                )
            except sqlite3.IntegrityError:
                raise ResourceAlreadyExistsException(
                    "The specified log stream already exists"
                ) from None

        await self._storage.transact(create)

    async def put_retention(self, scope: str, group: str, days: int | None) -> None:
        if days is not None and days not in RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in RETENTION_DAYS)
            raise InvalidParameterException(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to"
                f" satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )

        def put(db: sqlite3.Connection) -> None:
            group_retention(db, scope, group)
            db.execute(
                "UPDATE log_groups SET retention_days = ? WHERE scope = ? AND log_group = ?",
                (days, scope, group),
            )

        await self._storage.transact(put)

    async def delete_group(self, scope: str, group: str) -> None:
        def delete(db: sqlite3.Connection) -> None:
            group_retention(db, scope, group)
            for table in ("log_events", "log_streams", "log_groups"):
                db.execute(f"DELETE FROM {table} WHERE scope = ? AND log_group = ?", (scope, group))

        await self._storage.transact(delete)

    async def delete_stream(self, scope: str, group: str, stream: str) -> None:
        def delete(db: sqlite3.Connection) -> None:
            group_retention(db, scope, group)
            require_stream(db, scope, group, stream)
            for table in ("log_events", "log_streams"):
                db.execute(
                    f"DELETE FROM {table} WHERE scope = ? AND log_group = ? AND log_stream = ?",
                    (scope, group, stream),
                )

        await self._storage.transact(delete)

    async def groups(self, scope: str, prefix: str = "", pattern: str = "") -> list[LogGroup]:
        def query(db: sqlite3.Connection) -> list[LogGroup]:
            rows = db.execute(
                "SELECT g.log_group, g.created, g.retention_days,"
                " (SELECT COALESCE(SUM(length(CAST(e.message AS BLOB))), 0) FROM log_events e"
                "  WHERE e.scope = g.scope AND e.log_group = g.log_group)"
                " FROM log_groups g WHERE g.scope = ? AND substr(g.log_group, 1, ?) = ?"
                " ORDER BY g.log_group",
                (scope, len(prefix), prefix),
            )
            return [
                LogGroup(name, created, retention, stored)
                for name, created, retention, stored in rows
                if pattern.lower() in name.lower()
            ]

        return await self._storage.transact(query)

    async def streams(
        self, scope: str, group: str, prefix: str, by_last_event: bool, descending: bool
    ) -> list[LogStream]:
        order = "COALESCE(last_event, 0)" if by_last_event else "log_stream"
        direction = "DESC" if descending else "ASC"

        def query(db: sqlite3.Connection) -> list[LogStream]:
            group_retention(db, scope, group)
            rows = db.execute(
                "SELECT log_stream, created, first_event, last_event FROM log_streams"
                " WHERE scope = ? AND log_group = ? AND substr(log_stream, 1, ?) = ?"
                f" ORDER BY {order} {direction}, log_stream {direction}",
                (scope, group, len(prefix), prefix),
            )
            return [LogStream(*row) for row in rows]

        return await self._storage.transact(query)

    async def expire(self) -> int:
        """Delete every event older than its group's retention; the number deleted."""

        def purge(db: sqlite3.Connection) -> int:
            now = now_ms()
            deleted = 0
            groups = list(
                db.execute(
                    "SELECT scope, log_group, retention_days FROM log_groups"
                    " WHERE retention_days IS NOT NULL"
                )
            )
            for scope, group, days in groups:
                deleted += db.execute(
                    "DELETE FROM log_events WHERE scope = ? AND log_group = ? AND timestamp < ?",
                    (scope, group, cutoff(days, now)),
                ).rowcount
            return deleted

        return await self._storage.transact(purge)
