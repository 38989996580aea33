"""SQS operations on the wire: PascalCase params in, PascalCase output out (both protocols)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lamina.services.sqs import attributes as queue_attributes
from lamina.services.sqs.batches import BatchOperations
from lamina.services.sqs.broker import MessageBroker
from lamina.services.sqs.catalog import QueueCatalog
from lamina.services.sqs.checksums import md5_of_attributes
from lamina.services.sqs.errors import (
    InvalidParameterValue,
    MissingParameter,
    PurgeQueueInProgress,
    invalid_value,
)
from lamina.services.sqs.messages import (
    check_visibility,
    received_wire,
    settle_error,
    wire_attributes,
)
from lamina.services.sqs.models import MessageAttribute, OutgoingMessage, Queue, QueueAttribute
from lamina.services.sqs.outgoing import prepare

PURGE_INTERVAL_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Caller:
    account: str
    region: str
    base_url: str


Operation = Callable[[Caller, dict[str, Any]], Awaitable[dict[str, Any]]]


class SqsOperations:
    def __init__(self, catalog: QueueCatalog, broker: MessageBroker) -> None:
        self.catalog = catalog
        self.broker = broker
        self._batches = BatchOperations(self)
        self._purged: dict[int, float] = {}

    def table(self) -> Mapping[str, Operation]:
        return {
            "CreateQueue": self.create_queue,
            "GetQueueUrl": self.get_queue_url,
            "ListQueues": self.list_queues,
            "GetQueueAttributes": self.get_queue_attributes,
            "SetQueueAttributes": self.set_queue_attributes,
            "DeleteQueue": self.delete_queue,
            "PurgeQueue": self.purge_queue,
            "SendMessage": self.send_message,
            "SendMessageBatch": self._batches.send_message_batch,
            "ReceiveMessage": self.receive_message,
            "DeleteMessage": self.delete_message,
            "DeleteMessageBatch": self._batches.delete_message_batch,
            "ChangeMessageVisibility": self.change_message_visibility,
            "ChangeMessageVisibilityBatch": self._batches.change_message_visibility_batch,
            "TagQueue": self.tag_queue,
            "UntagQueue": self.untag_queue,
            "ListQueueTags": self.list_queue_tags,
            "ListDeadLetterSourceQueues": self.list_dead_letter_source_queues,
        }

    def queue(self, caller: Caller, params: Mapping[str, Any]) -> Queue:
        return self.catalog.resolve(params["QueueUrl"], caller.account, caller.region)

    # --- queues -------------------------------------------------------------------------

    async def create_queue(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = await self.catalog.create(
            caller.account,
            caller.region,
            params["QueueName"],
            params.get("Attributes") or {},
            params.get("tags") or {},
        )
        return {"QueueUrl": queue.url(caller.base_url)}

    async def get_queue_url(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        account = params.get("QueueOwnerAWSAccountId") or caller.account
        queue = self.catalog.resolve(f"/{account}/{params['QueueName']}", account, caller.region)
        return {"QueueUrl": queue.url(caller.base_url)}

    async def list_queues(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queues = self.catalog.listing(
            caller.account, caller.region, params.get("QueueNamePrefix") or ""
        )
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= 1000:
            raise invalid_value(
                "MaxResults", limit, "MaxResults must be an integer between 1 and 1000."
            )
        token = params.get("NextToken")
        if token:
            after = _decode_token(token)
            queues = [q for q in queues if q.name > after]
        output: dict[str, Any] = {}
        if limit is not None and len(queues) > limit:
            queues = queues[:limit]
            output["NextToken"] = base64.b64encode(queues[-1].name.encode()).decode()
        if queues:
            output["QueueUrls"] = [q.url(caller.base_url) for q in queues[:1000]]
        return output

    async def get_queue_attributes(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.queue(caller, params)
        names = params.get("AttributeNames") or []
        queue_attributes.check_names(names)
        counts = await self.broker.counts(queue) if queue_attributes.needs_counts(names) else None
        rendered = queue_attributes.render(queue, names, counts)
        return {"Attributes": rendered} if rendered else {}

    async def set_queue_attributes(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.queue(caller, params)
        given = dict(params.get("Attributes") or {})
        fifo = given.pop(QueueAttribute.FIFO_QUEUE, None)
        if fifo is not None and fifo.lower() != ("true" if queue.fifo else "false"):
            raise InvalidParameterValue("Invalid value for the parameter FifoQueue.")
        await self.catalog.set_attributes(queue, given)
        self.broker.forget(queue)  # receivers re-read the queue's settings
        return {}

    async def delete_queue(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.queue(caller, params)
        await self.catalog.delete(queue)
        self.broker.forget(queue)
        return {}

    async def purge_queue(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.queue(caller, params)
        now = self.broker.now_ms() / 1000
        last = self._purged.get(queue.id)
        if last is not None and now - last < PURGE_INTERVAL_SECONDS:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds."
            )
        self._purged[queue.id] = now
        await self.broker.purge(queue)
        return {}

    async def tag_queue(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        await self.catalog.tag(self.queue(caller, params), params["Tags"])
        return {}

    async def untag_queue(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        await self.catalog.untag(self.queue(caller, params), params["TagKeys"])
        return {}

    async def list_queue_tags(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        tags = dict(self.queue(caller, params).tags)
        return {"Tags": tags} if tags else {}

    async def list_dead_letter_source_queues(
        self, caller: Caller, params: dict[str, Any]
    ) -> dict[str, Any]:
        target = self.queue(caller, params)
        sources = [
            q.url(caller.base_url)
            for q in self.catalog.listing(caller.account, caller.region, "")
            if (policy := q.redrive_policy) and policy.dead_letter_target_arn == target.arn
        ]
        return {"queueUrls": sources}

    # --- messages -----------------------------------------------------------------------

    async def send_message(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.queue(caller, params)
        message = self.outgoing(queue, caller, params)
        (accepted,) = await self.broker.send([message])
        output = {
            "MessageId": accepted.message_id,
            "MD5OfMessageBody": message.md5_of_body,
            "MD5OfMessageAttributes": message.md5_of_attributes,
            "SequenceNumber": accepted.sequence_number,
        }
        if message.trace_header is not None:
            output["MD5OfMessageSystemAttributes"] = _system_md5(message.trace_header)
        return output

    def outgoing(self, queue: Queue, caller: Caller, params: Mapping[str, Any]) -> OutgoingMessage:
        if "MessageBody" not in params:
            raise MissingParameter("MessageBody")
        system = params.get("MessageSystemAttributes") or {}
        trace = system.get("AWSTraceHeader")
        return prepare(
            queue,
            params["MessageBody"],
            wire_attributes(params.get("MessageAttributes") or {}),
            message_id=self.broker.ids.next(),
            now_ms=self.broker.now_ms(),
            sender_id=caller.account,
            trace_header=trace.get("StringValue") if trace else None,
            delay_seconds=params.get("DelaySeconds"),
            group_id=params.get("MessageGroupId"),
            deduplication_id=params.get("MessageDeduplicationId"),
        )

    async def receive_message(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.queue(caller, params)
        count = params.get("MaxNumberOfMessages")
        if count is not None and not 1 <= count <= 10:
            raise invalid_value(
                "MaxNumberOfMessages", count, "Must be between 1 and 10, if provided."
            )
        visibility = params.get("VisibilityTimeout")
        if visibility is not None and not 0 <= visibility <= 43200:
            raise invalid_value(
                "VisibilityTimeout", visibility, "Must be between 0 and 43200, if provided."
            )
        wait = params.get("WaitTimeSeconds")
        if wait is not None and not 0 <= wait <= 20:
            raise invalid_value("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
        messages = await self.broker.receive(
            queue,
            count or 1,
            queue.visibility_timeout if visibility is None else visibility,
            queue.receive_wait_seconds if wait is None else wait,
        )
        system_names = [
            *(params.get("AttributeNames") or []),
            *(params.get("MessageSystemAttributeNames") or []),
        ]
        wanted = params.get("MessageAttributeNames") or []
        if not messages:
            return {}
        return {"Messages": [received_wire(m, system_names, wanted) for m in messages]}

    async def delete_message(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.queue(caller, params)
        handle = params["ReceiptHandle"]
        (state,) = await self.broker.delete(queue, [handle])
        error = settle_error(state, handle, visibility=False, fifo=queue.fifo)
        if error is not None:
            raise error
        return {}

    async def change_message_visibility(
        self, caller: Caller, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = self.queue(caller, params)
        handle, timeout = params["ReceiptHandle"], params["VisibilityTimeout"]
        check_visibility(timeout)
        (state,) = await self.broker.change_visibility(queue, [(handle, timeout)])
        error = settle_error(state, handle, visibility=True)
        if error is not None:
            raise error
        return {}


def _system_md5(trace_header: str) -> str | None:
    return md5_of_attributes({"AWSTraceHeader": MessageAttribute("String", trace_header)})


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_value("NextToken", token, "Invalid NextToken value.") from None
