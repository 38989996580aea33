"""What the queue service needs from storage: the :class:`SqsStore` protocol and its records.

The SQLite backend is :mod:`lamina.services.sqs.sqlite_store`; a PostgreSQL backend implements
the same protocol (its receive would lease rows with ``FOR UPDATE SKIP LOCKED``). Every call is
one transaction; times are epoch milliseconds and visibility is an absolute deadline, so a
restart needs no timers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from lamina.services.sqs.models import (
    Accepted,
    MessageAttribute,
    OutgoingMessage,
    Queue,
    QueueCounts,
    ReceivedMessage,
)
from lamina.services.sqs.receipts import Receipt


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Where a queue's RedrivePolicy sends a message received more than max_receive_count."""

    queue_id: int
    max_receive_count: int
    source_arn: str


@dataclass(frozen=True, slots=True)
class ReceiveSpec:
    queue_id: int
    fifo: bool
    max_messages: int
    visibility_ms: int
    now_ms: int
    retention_ms: int
    dead_letter: DeadLetter | None = None


@dataclass(frozen=True, slots=True)
class ReceiveOutcome:
    messages: list[ReceivedMessage]
    next_visible_ms: int | None  # when the next hidden message becomes visible
    moved_to_dead_letter: bool = False


class ReceiptState(Enum):
    OK = "ok"
    GONE = "gone"  # no such message (deleted, expired or never ours)
    STALE = "stale"  # the message was received again since: a newer handle exists
    EXPIRED = "expired"  # a FIFO message whose visibility timeout has passed


class SqsStore(Protocol):
    async def load_queues(self) -> list[Queue]: ...

    async def insert_queue(
        self,
        account: str,
        region: str,
        name: str,
        attributes: Mapping[str, str],
        tags: Mapping[str, str],
        now: float,
    ) -> Queue: ...

    async def update_queue(self, queue: Queue) -> None: ...

    async def delete_queue(self, queue_id: int) -> None: ...

    async def append(self, messages: Sequence[OutgoingMessage], now_ms: int) -> list[Accepted]:
        """Store messages in order (FIFO duplicates within the window are not stored)."""
        ...

    async def receive(self, spec: ReceiveSpec) -> ReceiveOutcome: ...

    async def delete(
        self, queue_id: int, fifo: bool, receipts: Sequence[Receipt], now_ms: int
    ) -> list[ReceiptState]: ...

    async def change_visibility(
        self, queue_id: int, changes: Sequence[tuple[Receipt, int]], now_ms: int
    ) -> list[ReceiptState]:
        """Set each receipt's message visible at the given deadline."""
        ...

    async def counts(self, queue_id: int, now_ms: int, retention_ms: int) -> QueueCounts: ...

    async def purge(self, queue_id: int) -> None: ...


def sequence_number(seq: int) -> str:
    """A FIFO SequenceNumber: 20 digits, increasing with the storage order."""
    return str(10**19 + seq)


def encode_attributes(attributes: Mapping[str, MessageAttribute]) -> str | None:
    if not attributes:
        return None
    doc: dict[str, Any] = {}
    for name, attribute in attributes.items():
        item: dict[str, Any] = {"t": attribute.data_type}
        if attribute.string_value is not None:
            item["s"] = attribute.string_value
        if attribute.binary_value is not None:
            item["b"] = base64.b64encode(attribute.binary_value).decode()
        if attribute.string_list_values:
            item["sl"] = list(attribute.string_list_values)
        if attribute.binary_list_values:
            item["bl"] = [base64.b64encode(raw).decode() for raw in attribute.binary_list_values]
        doc[name] = item
    return json.dumps(doc, separators=(",", ":"))


def decode_attributes(raw: str | None) -> dict[str, MessageAttribute]:
    if not raw:
        return {}
    return {
        name: MessageAttribute(
            item["t"],
            item.get("s"),
            base64.b64decode(item["b"]) if "b" in item else None,
            tuple(item.get("sl", ())),
            tuple(base64.b64decode(b) for b in item.get("bl", ())),
        )
        for name, item in json.loads(raw).items()
    }
