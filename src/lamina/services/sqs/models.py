"""The queue service's domain: queues, messages and the enums whose values are AWS's strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class QueueAttribute(StrEnum):
    ALL = "All"
    POLICY = "Policy"
    VISIBILITY_TIMEOUT = "VisibilityTimeout"
    MAXIMUM_MESSAGE_SIZE = "MaximumMessageSize"
    MESSAGE_RETENTION_PERIOD = "MessageRetentionPeriod"
    APPROXIMATE_NUMBER_OF_MESSAGES = "ApproximateNumberOfMessages"
    APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE = "ApproximateNumberOfMessagesNotVisible"
    CREATED_TIMESTAMP = "CreatedTimestamp"
    LAST_MODIFIED_TIMESTAMP = "LastModifiedTimestamp"
    QUEUE_ARN = "QueueArn"
    APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED = "ApproximateNumberOfMessagesDelayed"
    DELAY_SECONDS = "DelaySeconds"
    RECEIVE_MESSAGE_WAIT_TIME_SECONDS = "ReceiveMessageWaitTimeSeconds"
    REDRIVE_POLICY = "RedrivePolicy"
    FIFO_QUEUE = "FifoQueue"
    CONTENT_BASED_DEDUPLICATION = "ContentBasedDeduplication"
    KMS_MASTER_KEY_ID = "KmsMasterKeyId"
    KMS_DATA_KEY_REUSE_PERIOD_SECONDS = "KmsDataKeyReusePeriodSeconds"
    DEDUPLICATION_SCOPE = "DeduplicationScope"
    FIFO_THROUGHPUT_LIMIT = "FifoThroughputLimit"
    REDRIVE_ALLOW_POLICY = "RedriveAllowPolicy"
    SQS_MANAGED_SSE_ENABLED = "SqsManagedSseEnabled"


class SystemAttribute(StrEnum):
    """A message's system attributes (``Attributes`` of a received message)."""

    ALL = "All"
    SENDER_ID = "SenderId"
    SENT_TIMESTAMP = "SentTimestamp"
    APPROXIMATE_RECEIVE_COUNT = "ApproximateReceiveCount"
    APPROXIMATE_FIRST_RECEIVE_TIMESTAMP = "ApproximateFirstReceiveTimestamp"
    SEQUENCE_NUMBER = "SequenceNumber"
    MESSAGE_DEDUPLICATION_ID = "MessageDeduplicationId"
    MESSAGE_GROUP_ID = "MessageGroupId"
    AWS_TRACE_HEADER = "AWSTraceHeader"
    DEAD_LETTER_QUEUE_SOURCE_ARN = "DeadLetterQueueSourceArn"


class DeduplicationScope(StrEnum):
    QUEUE = "queue"
    MESSAGE_GROUP = "messageGroup"


@dataclass(frozen=True, slots=True)
class RedrivePolicy:
    dead_letter_target_arn: str
    max_receive_count: int


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue's record. ``attributes`` holds the settable attributes, defaults filled in."""

    id: int
    account: str
    region: str
    name: str
    attributes: Mapping[str, str]
    tags: Mapping[str, str]
    created: float  # epoch seconds
    modified: float

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"

    def url(self, base_url: str) -> str:
        return f"{base_url}/{self.account}/{self.name}"

    def _int(self, name: QueueAttribute) -> int:
        return int(self.attributes[name])

    @property
    def fifo(self) -> bool:
        return self.attributes.get(QueueAttribute.FIFO_QUEUE) == "true"

    @property
    def visibility_timeout(self) -> int:
        return self._int(QueueAttribute.VISIBILITY_TIMEOUT)

    @property
    def delay_seconds(self) -> int:
        return self._int(QueueAttribute.DELAY_SECONDS)

    @property
    def retention_seconds(self) -> int:
        return self._int(QueueAttribute.MESSAGE_RETENTION_PERIOD)

    @property
    def maximum_message_size(self) -> int:
        return self._int(QueueAttribute.MAXIMUM_MESSAGE_SIZE)

    @property
    def receive_wait_seconds(self) -> int:
        return self._int(QueueAttribute.RECEIVE_MESSAGE_WAIT_TIME_SECONDS)

    @property
    def content_based_deduplication(self) -> bool:
        return self.attributes.get(QueueAttribute.CONTENT_BASED_DEDUPLICATION) == "true"

    @property
    def deduplication_scope(self) -> DeduplicationScope:
        raw = self.attributes.get(QueueAttribute.DEDUPLICATION_SCOPE, DeduplicationScope.QUEUE)
        return DeduplicationScope(raw)

    @property
    def redrive_policy(self) -> RedrivePolicy | None:
        raw = self.attributes.get(QueueAttribute.REDRIVE_POLICY)
        if not raw:
            return None
        policy = json.loads(raw)
        return RedrivePolicy(str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"]))


@dataclass(frozen=True, slots=True)
class MessageAttribute:
    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None
    string_list_values: tuple[str, ...] = ()
    binary_list_values: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message accepted for a queue, not yet stored (times in epoch milliseconds)."""

    queue_id: int
    message_id: str
    body: str
    attributes: Mapping[str, MessageAttribute]
    md5_of_body: str
    md5_of_attributes: str | None
    sent_ms: int
    visible_ms: int
    sender_id: str
    trace_header: str | None = None
    group_id: str | None = None
    deduplication_id: str | None = None
    deduplication_scope: str = ""  # the group id when deduplication is per message group


@dataclass(frozen=True, slots=True)
class Accepted:
    """What storing an OutgoingMessage produced (the original's ids for a duplicate)."""

    message_id: str
    sequence_number: str | None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message handed to a consumer, with every system attribute it has."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    md5_of_attributes: str | None
    attributes: Mapping[str, MessageAttribute]
    system_attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    visible: int
    not_visible: int
    delayed: int
