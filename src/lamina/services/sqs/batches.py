"""The batch operations: per-entry outcomes, and the request-level checks AWS applies first."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lamina.errors import AwsError
from lamina.services.sqs.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    SqsError,
    TooManyEntriesInBatchRequest,
)
from lamina.services.sqs.messages import check_visibility, settle_error

if TYPE_CHECKING:
    from lamina.services.sqs.operations import Caller, SqsOperations

MAX_ENTRIES = 10
MAX_BATCH_BYTES = 1_048_576
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def check_entries(entries: Sequence[dict[str, Any]], entry_name: str) -> None:
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {entry_name} in the request.")
    if len(entries) > MAX_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_ENTRIES}. You have sent"
            f" {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id", "")
        if not _ENTRY_ID.fullmatch(entry_id):
            raise InvalidBatchEntryId()
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)


def failure(entry_id: str, error: AwsError) -> dict[str, Any]:
    return {
        "Id": entry_id,
        "SenderFault": error.status < 500,
        "Code": error.code,
        "Message": error.message or "",
    }


class BatchOperations:
    def __init__(self, operations: SqsOperations) -> None:
        self._operations = operations

    async def send_message_batch(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._operations.queue(caller, params)
        entries = params["Entries"]
        check_entries(entries, "SendMessageBatchRequestEntry")
        size = sum(len(e.get("MessageBody", "").encode()) for e in entries)
        if size > MAX_BATCH_BYTES:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent"
                f" {size} bytes."
            )
        failed, prepared = [], []
        for entry in entries:
            try:
                prepared.append((entry, self._operations.outgoing(queue, caller, entry)))
            except SqsError as error:
                failed.append(failure(entry["Id"], error))
        accepted = await self._operations.broker.send([m for _, m in prepared])
        successful = []
        for (entry, message), result in zip(prepared, accepted, strict=True):
            item = {
                "Id": entry["Id"],
                "MessageId": result.message_id,
                "MD5OfMessageBody": message.md5_of_body,
                "MD5OfMessageAttributes": message.md5_of_attributes,
                "SequenceNumber": result.sequence_number,
            }
            successful.append({k: v for k, v in item.items() if v is not None})
        return {"Successful": successful, "Failed": failed}

    async def delete_message_batch(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._operations.queue(caller, params)
        entries = params["Entries"]
        check_entries(entries, "DeleteMessageBatchRequestEntry")
        handles = [e.get("ReceiptHandle", "") for e in entries]
        states = await self._operations.broker.delete(queue, handles)
        successful, failed = [], []
        for entry, handle, state in zip(entries, handles, states, strict=True):
            error = settle_error(state, handle, visibility=False, fifo=queue.fifo)
            if error is None:
                successful.append({"Id": entry["Id"]})
            else:
                failed.append(failure(entry["Id"], error))
        return {"Successful": successful, "Failed": failed}

    async def change_message_visibility_batch(
        self, caller: Caller, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = self._operations.queue(caller, params)
        entries = params["Entries"]
        check_entries(entries, "ChangeMessageVisibilityBatchRequestEntry")
        successful, failed, changes, ids = [], [], [], []
        for entry in entries:
            try:
                check_visibility(entry.get("VisibilityTimeout", 0))
            except SqsError as error:
                failed.append(failure(entry["Id"], error))
                continue
            changes.append((entry.get("ReceiptHandle", ""), entry.get("VisibilityTimeout", 0)))
            ids.append(entry["Id"])
        states = await self._operations.broker.change_visibility(queue, changes)
        for entry_id, (handle, _), state in zip(ids, changes, states, strict=True):
            problem = settle_error(state, handle, visibility=True)
            if problem is None:
                successful.append({"Id": entry_id})
            else:
                failed.append(failure(entry_id, problem))
        return {"Successful": successful, "Failed": failed}
