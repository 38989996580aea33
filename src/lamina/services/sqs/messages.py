"""Messages on the wire: message attributes in, received messages out, settle outcomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lamina.services.sqs.checksums import md5_of_attributes
from lamina.services.sqs.errors import (
    InvalidParameterValue,
    ReceiptHandleIsInvalid,
    SqsError,
    invalid_value,
)
from lamina.services.sqs.models import MessageAttribute, ReceivedMessage, SystemAttribute
from lamina.services.sqs.store import ReceiptState


def wire_attributes(given: Mapping[str, Any]) -> dict[str, MessageAttribute]:
    """MessageAttributes of a send request as domain values."""
    result = {}
    for name, value in given.items():
        data_type = (value or {}).get("DataType")
        if not data_type:
            raise InvalidParameterValue(
                f"The message attribute '{name}' must contain non-empty message attribute type."
            )
        result[name] = MessageAttribute(
            data_type,
            value.get("StringValue"),
            value.get("BinaryValue"),
            tuple(value.get("StringListValues") or ()),
            tuple(value.get("BinaryListValues") or ()),
        )
    return result


def attribute_wire(attribute: MessageAttribute) -> dict[str, Any]:
    wire: dict[str, Any] = {"DataType": attribute.data_type}
    if attribute.string_value is not None:
        wire["StringValue"] = attribute.string_value
    if attribute.binary_value is not None:
        wire["BinaryValue"] = attribute.binary_value
    if attribute.string_list_values:
        wire["StringListValues"] = list(attribute.string_list_values)
    if attribute.binary_list_values:
        wire["BinaryListValues"] = list(attribute.binary_list_values)
    return wire


def selected_system(message: ReceivedMessage, names: Sequence[str]) -> dict[str, str]:
    if SystemAttribute.ALL in names:
        return dict(message.system_attributes)
    return {k: v for k, v in message.system_attributes.items() if k in names}


def selected_attributes(
    message: ReceivedMessage, names: Sequence[str]
) -> dict[str, MessageAttribute]:
    """The message attributes a ReceiveMessage asked for: All, .*, prefix.* or exact names."""
    if not names:
        return {}
    if "All" in names or ".*" in names:
        return dict(message.attributes)
    prefixes = tuple(n[:-2] for n in names if n.endswith(".*"))
    exact = set(names)
    return {
        k: v
        for k, v in message.attributes.items()
        if k in exact or (prefixes and k.startswith(prefixes))
    }


def received_wire(
    message: ReceivedMessage, system_names: Sequence[str], attribute_names: Sequence[str]
) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    }
    system = selected_system(message, system_names)
    if system:
        wire["Attributes"] = system
    chosen = selected_attributes(message, attribute_names)
    if chosen:
        wire["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
        wire["MessageAttributes"] = {k: attribute_wire(v) for k, v in chosen.items()}
    return wire


def settle_error(
    state: ReceiptState | None, handle: str, *, visibility: bool, fifo: bool = False
) -> SqsError | None:
    """What a delete or visibility change with this receipt outcome answers (None: success).

    A standard queue accepts deleting with an outdated handle and does nothing (AWS
    documents this); FIFO queues and visibility changes reject it.
    """
    if state is None:
        return ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        )
    if state is ReceiptState.OK:
        return None
    if state is ReceiptState.GONE:
        if not visibility:
            return None
        return invalid_value(
            "ReceiptHandle",
            handle,
            "Message does not exist or is not available for visibility timeout change.",
        )
    if state is ReceiptState.STALE and not visibility and not fifo:
        return None
    return invalid_value("ReceiptHandle", handle, "The receipt handle has expired.")


def check_visibility(timeout: int) -> None:
    if not 0 <= timeout <= 43200:
        raise invalid_value(
            "VisibilityTimeout",
            timeout,
            "VisibilityTimeout must be an integer between 0 and 43200",
        )
