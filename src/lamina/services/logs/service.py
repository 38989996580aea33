"""The CloudWatch Logs API on the gateway (AWS JSON 1.1, ``X-Amz-Target: Logs_20140328.*``).

Wire names live here only; the catalog and the reader speak snake_case. Retention is honoured
twice: reads never return expired events, and a sweeper deletes them every minute.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import botocore.session

from lamina.errors import AwsError
from lamina.gateway.awsjson import AwsJsonProtocol
from lamina.gateway.http import Request, Response
from lamina.services.logs.catalog import LogCatalog, LogGroup, LogStream, now_ms
from lamina.services.logs.errors import (
    InvalidParameterException,
    ServiceUnavailableException,
    invalid_token,
)
from lamina.services.logs.events import LogEventReader, StoredEvent
from lamina.services.logs.filter_pattern import compile_pattern
from lamina.services.logs.store import LogEvent, LogStore
from lamina.storage import SqliteStorage

log = logging.getLogger("lamina.logs")

SWEEP_INTERVAL = 60.0  # seconds between deletions of expired events
Operation = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class LogsService:
    signing_name = "logs"

    def __init__(self, storage: SqliteStorage, store: LogStore) -> None:
        self.catalog = LogCatalog(storage)
        self.reader = LogEventReader(storage)
        self._store = store
        self.json = AwsJsonProtocol(botocore.session.get_session().get_service_model("logs"))
        self._sweeper: asyncio.Task[None] | None = None
        self._operations: dict[str, Operation] = {
            "CreateLogGroup": self._create_log_group,
            "CreateLogStream": self._create_log_stream,
            "DeleteLogGroup": self._delete_log_group,
            "DeleteLogStream": self._delete_log_stream,
            "PutRetentionPolicy": self._put_retention_policy,
            "DeleteRetentionPolicy": self._delete_retention_policy,
            "DescribeLogGroups": self._describe_log_groups,
            "DescribeLogStreams": self._describe_log_streams,
            "GetLogEvents": self._get_log_events,
            "FilterLogEvents": self._filter_log_events,
            "PutLogEvents": self._put_log_events,
        }

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)

    async def _sweep(self) -> None:
        while True:
            try:
                await self.catalog.expire()
            except Exception:
                log.exception("deleting expired log events failed")
            await asyncio.sleep(SWEEP_INTERVAL)

    # --- gateway ------------------------------------------------------------------------

    def claims(self, request: Request) -> bool:
        target = request.headers.get("x-amz-target", "")
        return target.startswith(f"{self.json.target_prefix}.") or (
            request.service == self.signing_name and not target
        )

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        try:
            operation = self.json.operation_for(target)
            handler = self._operations.get(operation.name)
            if handler is None:
                raise InvalidParameterException(f"{operation.name} is not supported by Lamina.")
            params = self.json.parse_request(operation, request.body)
            output = await handler(f"{request.account_id}/{request.region}", request.region, params)
            return self.json.serialize_response(operation, output)
        except AwsError as error:
            return self.json.serialize_error(error)
        except Exception:
            log.exception("Logs %s failed", target)
            return self.json.serialize_error(ServiceUnavailableException("Internal error."))

    # --- operations ---------------------------------------------------------------------

    async def _create_log_group(self, scope: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        await self.catalog.create_group(scope, p["logGroupName"])
        return {}

    async def _create_log_stream(
        self, scope: str, region: str, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self.catalog.create_stream(scope, p["logGroupName"], p["logStreamName"])
        return {}

    async def _delete_log_group(self, scope: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        await self._store.flush()
        await self.catalog.delete_group(scope, p["logGroupName"])
        return {}

    async def _delete_log_stream(
        self, scope: str, region: str, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._store.flush()
        await self.catalog.delete_stream(scope, p["logGroupName"], p["logStreamName"])
        return {}

    async def _put_retention_policy(
        self, scope: str, region: str, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self.catalog.put_retention(scope, p["logGroupName"], p["retentionInDays"])
        await self.catalog.expire()
        return {}

    async def _delete_retention_policy(
        self, scope: str, region: str, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self.catalog.put_retention(scope, p["logGroupName"], None)
        return {}

    async def _describe_log_groups(
        self, scope: str, region: str, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._store.flush()
        prefix = p.get("logGroupNamePrefix", "")
        pattern = p.get("logGroupNamePattern", "")
        if prefix and pattern:
            raise InvalidParameterException(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        groups = await self.catalog.groups(scope, prefix, pattern)
        wanted = p.get("logGroupIdentifiers")
        if wanted:
            names = {_group_name(w) for w in wanted}
            groups = [g for g in groups if g.name in names]
        page, token = _page(groups, p.get("nextToken"), p.get("limit", 50))
        account = scope.split("/")[0]
        return {"logGroups": [_group(g, region, account) for g in page], "nextToken": token}

    async def _describe_log_streams(
        self, scope: str, region: str, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._store.flush()
        group = _group_param(p)
        by_last_event = p.get("orderBy") == "LastEventTime"
        prefix = p.get("logStreamNamePrefix", "")
        if by_last_event and prefix:
            raise InvalidParameterException(
                "Cannot order by LastEventTime with a logStreamNamePrefix."
            )
        streams = await self.catalog.streams(
            scope, group, prefix, by_last_event, bool(p.get("descending"))
        )
        page, token = _page(streams, p.get("nextToken"), p.get("limit", 50))
        account = scope.split("/")[0]
        return {
            "logStreams": [_stream(s, group, region, account) for s in page],
            "nextToken": token,
        }

    async def _get_log_events(self, scope: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        await self._store.flush()
        result = await self.reader.get(
            scope,
            _group_param(p),
            p["logStreamName"],
            start=p.get("startTime"),
            end=p.get("endTime"),
            limit=p.get("limit", 10_000),
            from_head=bool(p.get("startFromHead")),
            next_token=p.get("nextToken"),
        )
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion}
                for e in result.events
            ],
            "nextForwardToken": result.forward_token,
            "nextBackwardToken": result.backward_token,
        }

    async def _filter_log_events(
        self, scope: str, region: str, p: dict[str, Any]
    ) -> dict[str, Any]:
        await self._store.flush()
        if p.get("logStreamNames") and p.get("logStreamNamePrefix"):
            raise InvalidParameterException(
                "logStreamNames and logStreamNamePrefix are mutually exclusive"
            )
        page = await self.reader.filter(
            scope,
            _group_param(p),
            streams=p.get("logStreamNames"),
            stream_prefix=p.get("logStreamNamePrefix"),
            start=p.get("startTime"),
            end=p.get("endTime"),
            match=compile_pattern(p.get("filterPattern")),
            limit=p.get("limit", 10_000),
            next_token=p.get("nextToken"),
        )
        return {
            "events": [_filtered(e) for e in page.events],
            "searchedLogStreams": [
                {"logStreamName": s, "searchedCompletely": True} for s in page.streams
            ],
            "nextToken": page.next_token,
        }

    async def _put_log_events(self, scope: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        group, stream = p["logGroupName"], p["logStreamName"]
        await self.reader.get(
            scope, group, stream, start=None, end=None, limit=1, from_head=True, next_token=None
        )  # raises ResourceNotFound for a missing group or stream
        now = now_ms()
        too_old = now - 14 * 86_400_000
        too_new = now + 2 * 3_600_000
        events = p["logEvents"]
        kept = [e for e in events if too_old <= e["timestamp"] <= too_new]
        self._store.append_events(
            [LogEvent(scope, group, stream, e["timestamp"], e["message"]) for e in kept]
        )
        await self._store.flush()
        rejected: dict[str, int] = {}
        old = [i for i, e in enumerate(events) if e["timestamp"] < too_old]
        new = [i for i, e in enumerate(events) if e["timestamp"] > too_new]
        if old:
            rejected["tooOldLogEventEndIndex"] = old[-1]
        if new:
            rejected["tooNewLogEventStartIndex"] = new[0]
        return {"rejectedLogEventsInfo": rejected or None}


def _group_name(identifier: str) -> str:
    """A log group name from a name or an ARN (``arn:aws:logs:r:a:log-group:NAME[:*]``)."""
    if identifier.startswith("arn:"):
        name = identifier.split(":log-group:", 1)[-1]
        return name[:-2] if name.endswith(":*") else name
    return identifier


def _group_param(p: dict[str, Any]) -> str:
    name, identifier = p.get("logGroupName"), p.get("logGroupIdentifier")
    if name and identifier:
        raise InvalidParameterException(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters."
        )
    if not (name or identifier):
        raise InvalidParameterException("Should provide either name or ARN of the log group.")
    return _group_name(name or identifier or "")


def _page(items: list[Any], raw_token: str | None, limit: int) -> tuple[list[Any], str | None]:
    start = 0
    if raw_token:
        try:
            start = int(base64.urlsafe_b64decode(raw_token.encode()).decode().removeprefix("o:"))
        except ValueError:
            raise invalid_token() from None
    end = start + limit
    token = base64.urlsafe_b64encode(f"o:{end}".encode()).decode() if end < len(items) else None
    return items[start:end], token


def _group(group: LogGroup, region: str, account: str) -> dict[str, Any]:
    arn = f"arn:aws:logs:{region}:{account}:log-group:{group.name}"
    return {
        "logGroupName": group.name,
        "creationTime": group.created,
        "retentionInDays": group.retention_days,
        "metricFilterCount": 0,
        "arn": f"{arn}:*",
        "storedBytes": group.stored_bytes,
        "logGroupClass": "STANDARD",
        "logGroupArn": arn,
        "deletionProtectionEnabled": False,
    }


def _stream(stream: LogStream, group: str, region: str, account: str) -> dict[str, Any]:
    return {
        "logStreamName": stream.name,
        "creationTime": stream.created,
        "firstEventTimestamp": stream.first_event,
        "lastEventTimestamp": stream.last_event,
        "lastIngestionTime": stream.last_event,
        "arn": f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream.name}",
        "storedBytes": 0,
    }


def _filtered(event: StoredEvent) -> dict[str, Any]:
    return {
        "logStreamName": event.stream,
        "timestamp": event.timestamp,
        "message": event.message,
        "ingestionTime": event.ingestion,
        "eventId": event.event_id,
    }
