"""The SQS event exactly as Lambda delivers it, and the view filter patterns match against."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from lamina.services.sqs import ReceivedMessage
from lamina.services.sqs.models import MessageAttribute

EVENT_SOURCE = "aws:sqs"
# The system attributes Lambda copies into a record, in the order AWS prints them.
_SYSTEM = (
    "ApproximateReceiveCount",
    "AWSTraceHeader",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
)


def record(message: ReceivedMessage, queue_arn: str, region: str) -> dict[str, Any]:
    """One entry of the event's Records list."""
    system = message.system_attributes
    out: dict[str, Any] = {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": {name: system[name] for name in _SYSTEM if name in system},
        "messageAttributes": {
            name: _attribute(value) for name, value in message.attributes.items()
        },
    }
    if message.md5_of_attributes:
        out["md5OfMessageAttributes"] = message.md5_of_attributes
    out.update(
        md5OfBody=message.md5_of_body,
        eventSource=EVENT_SOURCE,
        eventSourceARN=queue_arn,
        awsRegion=region,
    )
    return out


def event_payload(records: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps({"Records": list(records)}, separators=(",", ":")).encode()


def filter_view(entry: dict[str, Any]) -> dict[str, Any]:
    """The record as patterns see it: a JSON body is matched as JSON, anything else as the
    string it is."""
    body = entry["body"]
    try:
        parsed = json.loads(body)
    except ValueError:
        return entry
    if not isinstance(parsed, dict):
        return entry
    return {**entry, "body": parsed}


def trace_header(message: ReceivedMessage) -> str | None:
    return message.system_attributes.get("AWSTraceHeader")


def _attribute(value: MessageAttribute) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if value.string_value is not None:
        out["stringValue"] = value.string_value
    if value.binary_value is not None:
        out["binaryValue"] = base64.b64encode(value.binary_value).decode()
    out["stringListValues"] = list(value.string_list_values)
    out["binaryListValues"] = [base64.b64encode(v).decode() for v in value.binary_list_values]
    out["dataType"] = value.data_type
    return out
