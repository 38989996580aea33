"""Where a settled asynchronous event goes: invocation records and dead-letter messages.

OnSuccess / OnFailure destinations receive the invocation record; a version's dead-letter
queue receives the original event with RequestID, ErrorCode and ErrorMessage attributes.
A failed delivery is counted and logged, never retried into the function.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from lamina.arns import LATEST, parse_function_ref
from lamina.engine.async_queue import AsyncEvent
from lamina.engine.metrics import MetricsSink
from lamina.engine.retry import Condition
from lamina.lambda_.scope import Scope
from lamina.services.sqs.service import SqsService

log = logging.getLogger("lamina.destinations")

ERROR_MESSAGE_LIMIT = 1024
_SERVICE = re.compile(r"arn:[^:]+:([^:]+):")
# What an event that never reached the function reports as its error (UNVERIFIED wording).
NOT_RUN: dict[str, Any] = {"statusCode": 429, "errorMessage": "Rate Exceeded."}

# Enqueues an asynchronous invocation of another function: (scope, function name or ARN,
# payload, trace header) -> request id.
AsyncInvoke = Callable[[Scope, str, bytes, str], Awaitable[str]]


class DeliveryError(Exception):
    """A destination or dead-letter target could not be written to."""


def invocation_record(event: AsyncEvent, function_arn: str, condition: Condition) -> dict[str, Any]:
    """The record destinations receive, in AWS's shape."""
    now = datetime.now(UTC)
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": function_arn,
            "condition": condition.value,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": _json_or_text(event.payload),
    }
    result = event.last_result
    if result is not None and condition is not Condition.ZERO_RESERVED_CONCURRENCY:
        context: dict[str, Any] = {
            "statusCode": result["statusCode"],
            "executedVersion": result["executedVersion"],
        }
        if result.get("functionError"):
            context["functionError"] = result["functionError"]
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(result["payload"].encode())
    return record


class Deliveries:
    def __init__(self, sqs: SqsService, async_invoke: AsyncInvoke, metrics: MetricsSink) -> None:
        self._sqs = sqs
        self._async_invoke = async_invoke
        self._metrics = metrics

    async def deliver(
        self,
        event: AsyncEvent,
        condition: Condition,
        destination: str | None,
        dead_letter_target: str | None,
    ) -> None:
        """Send the record to the destination, and a failed event to the DLQ as well."""
        scope = Scope(*event.scope.split("/", 1))
        function_arn = scope.function_arn(event.function_name, event.qualifier or LATEST)
        if destination:
            record = invocation_record(event, function_arn, condition)
            try:
                await self._send_record(scope, destination, record, event.trace_id)
            except Exception as exc:
                log.warning("delivery of %s to %s failed: %s", event.request_id, destination, exc)
                self._count(event, "DestinationDeliveryFailures")
        if condition is not Condition.SUCCESS and dead_letter_target:
            try:
                await self._send_dead_letter(event, dead_letter_target)
            except Exception as exc:
                log.warning(
                    "dead-letter send of %s to %s failed: %s",
                    event.request_id,
                    dead_letter_target,
                    exc,
                )
                self._count(event, "DeadLetterErrors")

    async def _send_record(
        self, scope: Scope, destination: str, record: dict[str, Any], trace_id: str
    ) -> None:
        service = _service(destination)
        body = json.dumps(record, separators=(",", ":"))
        if service == "sqs":
            await self._sqs.send(destination, body, None, {"AWSTraceHeader": trace_id})
        elif service == "lambda":
            ref = parse_function_ref(destination)
            if ref is None:
                raise DeliveryError(f"not a function ARN: {destination}")
            owner = Scope(ref.account_id or scope.account_id, ref.region or scope.region)
            await self._async_invoke(owner, destination, body.encode(), trace_id)
        else:
            raise DeliveryError(f"Lamina has no {service} service to deliver to yet")

    async def _send_dead_letter(self, event: AsyncEvent, target: str) -> None:
        if _service(target) != "sqs":
            raise DeliveryError(f"Lamina has no {_service(target)} service to deliver to yet")
        result = event.last_result or NOT_RUN
        message = result.get("errorMessage") or _error_message(result.get("payload"))
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": str(result["statusCode"])},
            "ErrorMessage": {
                "DataType": "String",
                "StringValue": (message or "")[:ERROR_MESSAGE_LIMIT] or " ",
            },
        }
        await self._sqs.send(
            target,
            event.payload.decode(errors="replace"),
            attributes,
            {"AWSTraceHeader": event.trace_id},
        )

    def _count(self, event: AsyncEvent, name: str) -> None:
        self._metrics.async_metric(
            scope=event.scope, function=event.function_name, name=name, value=1.0, unit="Count"
        )


def _service(arn: str) -> str:
    match = _SERVICE.match(arn)
    return match[1] if match else ""


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


def _error_message(payload: str | None) -> str:
    if not payload:
        return ""
    try:
        parsed = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return payload
