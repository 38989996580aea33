"""What a function's response means for an SQS batch under ReportBatchItemFailures.

AWS's rules: an empty, ``null`` or missing ``batchItemFailures`` (or an empty or ``null``
response) means every message succeeded; a response that is not JSON, or an entry whose
``itemIdentifier`` is empty, ``null``, missing or not a message of the batch, fails the whole
batch; otherwise only the listed messages failed.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BatchResult:
    """failed is None when the whole batch failed; otherwise the message ids that failed."""

    failed: frozenset[str] | None


ALL_FAILED = BatchResult(None)
ALL_SUCCEEDED = BatchResult(frozenset())


def partial_result(payload: bytes, message_ids: Collection[str]) -> BatchResult:
    if not payload.strip():
        return ALL_SUCCEEDED
    try:
        response = json.loads(payload)
    except ValueError:
        return ALL_FAILED
    if response is None:
        return ALL_SUCCEEDED
    if not isinstance(response, dict):
        # UNVERIFIED: a JSON value that is not an object cannot name failures; treated as
        # an invalid response.
        return ALL_FAILED
    failures = response.get("batchItemFailures")
    if failures is None:
        return ALL_SUCCEEDED
    if not isinstance(failures, list):
        return ALL_FAILED
    failed = set()
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return ALL_FAILED
        failed.add(identifier)
    return BatchResult(frozenset(failed))
