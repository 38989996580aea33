"""Queue attributes: defaults, the checks CreateQueue/SetQueueAttributes apply, and rendering."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping

from lamina.services.sqs.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    invalid_value,
)
from lamina.services.sqs.models import Queue, QueueAttribute, QueueCounts

A = QueueAttribute

DEFAULTS: Mapping[str, str] = {
    A.VISIBILITY_TIMEOUT: "30",
    A.MAXIMUM_MESSAGE_SIZE: "1048576",
    A.MESSAGE_RETENTION_PERIOD: "345600",
    A.DELAY_SECONDS: "0",
    A.RECEIVE_MESSAGE_WAIT_TIME_SECONDS: "0",
    A.SQS_MANAGED_SSE_ENABLED: "true",
}
FIFO_DEFAULTS: Mapping[str, str] = {
    A.FIFO_QUEUE: "true",
    A.CONTENT_BASED_DEDUPLICATION: "false",
    A.DEDUPLICATION_SCOPE: "queue",
    A.FIFO_THROUGHPUT_LIMIT: "perQueue",
}
_RANGES: Mapping[str, tuple[int, int]] = {
    A.DELAY_SECONDS: (0, 900),
    A.MAXIMUM_MESSAGE_SIZE: (1024, 1048576),
    A.MESSAGE_RETENTION_PERIOD: (60, 1209600),
    A.RECEIVE_MESSAGE_WAIT_TIME_SECONDS: (0, 20),
    A.VISIBILITY_TIMEOUT: (0, 43200),
    A.KMS_DATA_KEY_REUSE_PERIOD_SECONDS: (60, 86400),
}
_BOOLEANS = frozenset({A.FIFO_QUEUE, A.CONTENT_BASED_DEDUPLICATION, A.SQS_MANAGED_SSE_ENABLED})
_CHOICES: Mapping[str, frozenset[str]] = {
    A.DEDUPLICATION_SCOPE: frozenset({"queue", "messageGroup"}),
    A.FIFO_THROUGHPUT_LIMIT: frozenset({"perQueue", "perMessageGroupId"}),
}
_FIFO_ONLY = frozenset(
    {A.CONTENT_BASED_DEDUPLICATION, A.DEDUPLICATION_SCOPE, A.FIFO_THROUGHPUT_LIMIT}
)
# Attributes a caller may set (everything else is computed).
SETTABLE = frozenset(
    {
        A.POLICY,
        A.VISIBILITY_TIMEOUT,
        A.MAXIMUM_MESSAGE_SIZE,
        A.MESSAGE_RETENTION_PERIOD,
        A.DELAY_SECONDS,
        A.RECEIVE_MESSAGE_WAIT_TIME_SECONDS,
        A.REDRIVE_POLICY,
        A.FIFO_QUEUE,
        A.CONTENT_BASED_DEDUPLICATION,
        A.KMS_MASTER_KEY_ID,
        A.KMS_DATA_KEY_REUSE_PERIOD_SECONDS,
        A.DEDUPLICATION_SCOPE,
        A.FIFO_THROUGHPUT_LIMIT,
        A.REDRIVE_ALLOW_POLICY,
        A.SQS_MANAGED_SSE_ENABLED,
    }
)
_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ARN = re.compile(r"arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})")

# (account, region, name) of a dead-letter target ARN -> does that queue exist?
QueueExists = Callable[[str], Queue | None]


def parse_queue_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of an SQS queue ARN."""
    match = _ARN.fullmatch(arn)
    return None if match is None else (match[1], match[2], match[3])


def check_queue_name(name: str, fifo: bool) -> None:
    base = name.removesuffix(".fifo") if fifo else name
    if len(name) <= 80 and _NAME.fullmatch(base) and (not fifo or name.endswith(".fifo")):
        return
    if fifo:
        raise InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or"
            " underscores, must end with .fifo suffix and be 1 to 80 in length."
        )
    raise InvalidParameterValue(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    )


def checked(attributes: Mapping[str, str], fifo: bool, find: QueueExists) -> dict[str, str]:
    """The given settable attributes, validated and normalised (as AWS stores them)."""
    result: dict[str, str] = {}
    for name, value in attributes.items():
        if name not in SETTABLE or (name in _FIFO_ONLY and not fifo):
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name in _RANGES:
            low, high = _RANGES[name]
            if not value.strip().lstrip("-").isdigit() or not low <= int(value) <= high:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            value = str(int(value))
        elif name in _BOOLEANS:
            if value.lower() not in ("true", "false"):
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            value = value.lower()
        elif name in _CHOICES and value not in _CHOICES[name]:
            raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
        elif name == A.REDRIVE_POLICY and value:
            value = _redrive_policy(value, fifo, find)
        result[name] = value
    return result


def _redrive_policy(raw: str, fifo: bool, find: QueueExists) -> str:
    try:
        policy = json.loads(raw)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        raise invalid_value("RedrivePolicy", raw, "Redrive policy is not a valid JSON map.")
    target = policy.get("deadLetterTargetArn")
    if not isinstance(target, str) or parse_queue_arn(target) is None:
        raise invalid_value("RedrivePolicy", raw, "Invalid value for deadLetterTargetArn.")
    count = policy.get("maxReceiveCount")
    if isinstance(count, str) and count.isdigit():
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
        raise invalid_value(
            "RedrivePolicy",
            raw,
            f"Invalid value for maxReceiveCount: {count}, valid values are from 1 to 1000"
            " both inclusive.",
        )
    queue = find(target)
    if queue is None:
        raise invalid_value("RedrivePolicy", raw, "Dead letter target does not exist.")
    if queue.fifo != fifo:
        kind = "FIFO" if fifo else "standard"
        raise invalid_value(
            "RedrivePolicy", raw, f"Dead-letter target must also be a {kind} queue."
        )
    return json.dumps(
        {"deadLetterTargetArn": target, "maxReceiveCount": count}, separators=(",", ":")
    )


def effective(given: Mapping[str, str], fifo: bool) -> dict[str, str]:
    """A new queue's attributes: defaults, then what the caller gave."""
    result = dict(DEFAULTS)
    if fifo:
        result.update(FIFO_DEFAULTS)
    result.update(given)
    if not fifo:
        result.pop(A.FIFO_QUEUE, None)
    return result


def conflict(existing: Queue, given: Mapping[str, str]) -> str | None:
    """The first given attribute whose value differs from an existing queue's, if any."""
    defaults = {**DEFAULTS, **(FIFO_DEFAULTS if existing.fifo else {})}
    for name, value in given.items():
        current = existing.attributes.get(name, defaults.get(name, ""))
        if name == A.FIFO_QUEUE and not existing.fifo:
            current = "false"
        if current != value:
            return name
    return None


def render(queue: Queue, names: Iterable[str], counts: QueueCounts | None) -> dict[str, str]:
    """GetQueueAttributes' answer for the requested names ("All" means every one)."""
    wanted = set(names)
    everything = A.ALL in wanted
    computed: dict[str, str] = {
        A.QUEUE_ARN: queue.arn,
        A.CREATED_TIMESTAMP: str(int(queue.created)),
        A.LAST_MODIFIED_TIMESTAMP: str(int(queue.modified)),
    }
    if counts is not None:
        computed[A.APPROXIMATE_NUMBER_OF_MESSAGES] = str(counts.visible)
        computed[A.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE] = str(counts.not_visible)
        computed[A.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED] = str(counts.delayed)
    stored = {k: v for k, v in queue.attributes.items() if v != ""}
    available = {**computed, **stored}
    return {str(k): v for k, v in available.items() if everything or k in wanted}


def needs_counts(names: Iterable[str]) -> bool:
    return any(name == A.ALL or name.startswith("ApproximateNumber") for name in names)


def check_names(names: Iterable[str]) -> None:
    for name in names:
        if name not in A.__members__.values():
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
