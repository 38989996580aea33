"""Turning a send request into an :class:`OutgoingMessage`, with the checks SQS applies."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from lamina.services.sqs.checksums import md5_of_attributes, md5_of_body
from lamina.services.sqs.errors import (
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    invalid_value,
)
from lamina.services.sqs.models import (
    DeduplicationScope,
    MessageAttribute,
    OutgoingMessage,
    Queue,
)

MAX_ATTRIBUTES = 10
_INVALID_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\..+)?")


def check_body(body: str) -> None:
    if body == "":
        raise MissingParameter("MessageBody")
    if _INVALID_CHARACTERS.search(body):
        raise InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to"
            " #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
        )


def check_attributes(attributes: Mapping[str, MessageAttribute]) -> int:
    """Validate message attributes; their size in bytes (names, types and values)."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum"
            f" [{MAX_ATTRIBUTES}]."
        )
    size = 0
    for name, attribute in attributes.items():
        match = _DATA_TYPE.fullmatch(attribute.data_type)
        if match is None:
            raise InvalidParameterValue(
                f"The type of message (user) attribute '{name}' is invalid. You must use only"
                " the following supported type prefixes: Binary, Number, String."
            )
        kind = match[1]
        value_size = 0
        if kind == "Binary":
            if attribute.binary_value is None and not attribute.binary_list_values:
                raise _empty(name, attribute.data_type)
            value_size = len(attribute.binary_value or b"")
        else:
            if not attribute.string_value and not attribute.string_list_values:
                raise _empty(name, attribute.data_type)
            value_size = len((attribute.string_value or "").encode())
        size += len(name.encode()) + len(attribute.data_type.encode()) + value_size
    return size


def _empty(name: str, data_type: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"The message attribute '{name}' must contain non-empty message attribute value for"
        f" message attribute type '{data_type}'."
    )


def prepare(
    queue: Queue,
    body: str,
    attributes: Mapping[str, MessageAttribute],
    *,
    message_id: str,
    now_ms: int,
    sender_id: str,
    trace_header: str | None = None,
    delay_seconds: int | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
) -> OutgoingMessage:
    check_body(body)
    size = len(body.encode()) + check_attributes(attributes)
    if size > queue.maximum_message_size:
        raise InvalidParameterValue(
            "One or more parameters are invalid. Reason: Message must be shorter than"
            f" {queue.maximum_message_size} bytes."
        )
    if delay_seconds is not None:
        if queue.fifo:
            raise invalid_value(
                "DelaySeconds",
                delay_seconds,
                "The request include parameter that is not valid for this queue type.",
            )
        if not 0 <= delay_seconds <= 900:
            raise invalid_value(
                "DelaySeconds", delay_seconds, "DelaySeconds must be >= 0 and <= 900."
            )
    delay = queue.delay_seconds if delay_seconds is None else delay_seconds
    scope = ""
    if queue.fifo:
        if not group_id:
            raise MissingParameter("MessageGroupId")
        if deduplication_id is None:
            if not queue.content_based_deduplication:
                raise InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or"
                    " MessageDeduplicationId provided explicitly"
                )
            deduplication_id = hashlib.sha256(body.encode()).hexdigest()
        if queue.deduplication_scope is DeduplicationScope.MESSAGE_GROUP:
            scope = group_id
    else:
        group_id = None
        deduplication_id = None
    return OutgoingMessage(
        queue_id=queue.id,
        message_id=message_id,
        body=body,
        attributes=dict(attributes),
        md5_of_body=md5_of_body(body),
        md5_of_attributes=md5_of_attributes(attributes),
        sent_ms=now_ms,
        visible_ms=now_ms + delay * 1000,
        sender_id=sender_id,
        trace_header=trace_header,
        group_id=group_id,
        deduplication_id=deduplication_id,
        deduplication_scope=scope,
    )
