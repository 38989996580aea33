"""Reading log events: GetLogEvents (forward/backward tokens) and FilterLogEvents.

Tokens are AWS-shaped: ``f/<56 digits>/s`` and ``b/<56 digits>/s`` carry the id of the event
a page ended at; a page with nothing new hands back the token it was given. FilterLogEvents
pages by (timestamp, id), in an opaque base64 token.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
from dataclasses import dataclass

from lamina.services.logs.catalog import cutoff, group_retention, now_ms, require_stream
from lamina.services.logs.errors import invalid_token
from lamina.services.logs.filter_pattern import Predicate
from lamina.storage import SqliteStorage

_TOKEN = re.compile(r"([fb])/(\d{56})/s")
SCAN_CHUNK = 1000
FAR_FUTURE = 2**62


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    stream: str
    timestamp: int
    ingestion: int
    message: str

    @property
    def event_id(self) -> str:
        return f"{self.id:056d}"


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[StoredEvent]
    forward_token: str
    backward_token: str


@dataclass(frozen=True, slots=True)
class FilterPage:
    events: list[StoredEvent]
    streams: list[str]
    next_token: str | None


def token(direction: str, event_id: int) -> str:
    return f"{direction}/{event_id:056d}/s"


def parse_token(raw: str) -> tuple[str, int]:
    found = _TOKEN.fullmatch(raw)
    if found is None:
        raise invalid_token()
    return found[1], int(found[2])


class LogEventReader:
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    async def get(
        self,
        scope: str,
        group: str,
        stream: str,
        *,
        start: int | None,
        end: int | None,
        limit: int,
        from_head: bool,
        next_token: str | None,
    ) -> EventPage:
        direction, position = parse_token(next_token) if next_token else ("", 0)

        def query(db: sqlite3.Connection) -> EventPage:
            oldest = max(cutoff(group_retention(db, scope, group), now_ms()), start or 0)
            require_stream(db, scope, group, stream)
            where = (
                "scope = ? AND log_group = ? AND log_stream = ? AND timestamp >= ?"
                " AND timestamp < ?"
            )
            args: list[object] = [scope, group, stream, oldest, end if end else FAR_FUTURE]
            forward = direction == "f" or (not direction and from_head)
            if direction == "f":
                where += " AND id > ?"
                args.append(position)
            elif direction == "b":
                where += " AND id < ?"
                args.append(position)
            order = "ASC" if forward else "DESC"
            rows = db.execute(
                "SELECT id, log_stream, timestamp, ingestion, message FROM log_events"
                f" WHERE {where} ORDER BY id {order} LIMIT ?",
                [*args, limit],
            ).fetchall()
            events = [StoredEvent(*row) for row in rows]
            if not forward:
                events.reverse()
            if events:
                return EventPage(events, token("f", events[-1].id), token("b", events[0].id))
            if direction == "f":
                return EventPage([], next_token or "", token("b", position + 1))
            if direction == "b":
                return EventPage([], token("f", max(position - 1, 0)), next_token or "")
            return EventPage([], token("f", 0), token("b", 0))

        return await self._storage.transact(query)

    async def filter(
        self,
        scope: str,
        group: str,
        *,
        streams: list[str] | None,
        stream_prefix: str | None,
        start: int | None,
        end: int | None,
        match: Predicate,
        limit: int,
        next_token: str | None,
    ) -> FilterPage:
        after = _read_filter_token(next_token) if next_token else (-1, 0)

        def query(db: sqlite3.Connection) -> FilterPage:
            oldest = max(cutoff(group_retention(db, scope, group), now_ms()), start or 0)
            where = "scope = ? AND log_group = ? AND timestamp >= ? AND timestamp <= ?"
            base: list[object] = [scope, group, oldest, end if end is not None else FAR_FUTURE]
            if streams:
                where += f" AND log_stream IN ({','.join('?' * len(streams))})"
                base += streams
            if stream_prefix:
                where += " AND substr(log_stream, 1, ?) = ?"
                base += [len(stream_prefix), stream_prefix]
            searched = [
                name
                for (name,) in db.execute(
                    "SELECT log_stream FROM log_streams WHERE scope = ? AND log_group = ?"
                    " ORDER BY log_stream",
                    (scope, group),
                )
                if (not streams or name in streams)
                and (not stream_prefix or name.startswith(stream_prefix))
            ]
            found: list[StoredEvent] = []
            position = after
            while True:
                rows = db.execute(
                    "SELECT id, log_stream, timestamp, ingestion, message FROM log_events"
                    f" WHERE {where} AND (timestamp, id) > (?, ?)"
                    " ORDER BY timestamp, id LIMIT ?",
                    [*base, *position, SCAN_CHUNK],
                ).fetchall()
                for row in rows:
                    event = StoredEvent(*row)
                    position = (event.timestamp, event.id)
                    if match(event.message):
                        found.append(event)
                        if len(found) == limit:
                            more = _has_more(db, where, base, position)
                            return FilterPage(
                                found, searched, _filter_token(position) if more else None
                            )
                if len(rows) < SCAN_CHUNK:
                    return FilterPage(found, searched, None)

        return await self._storage.transact(query)


def _has_more(
    db: sqlite3.Connection, where: str, base: list[object], position: tuple[int, int]
) -> bool:
    row = db.execute(
        f"SELECT 1 FROM log_events WHERE {where} AND (timestamp, id) > (?, ?) LIMIT 1",
        [*base, *position],
    ).fetchone()
    return row is not None


def _filter_token(position: tuple[int, int]) -> str:
    raw = f"{position[0]}:{position[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _read_filter_token(raw: str) -> tuple[int, int]:
    try:
        timestamp, _, event_id = base64.urlsafe_b64decode(raw.encode()).decode().partition(":")
        return int(timestamp), int(event_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_token() from None
