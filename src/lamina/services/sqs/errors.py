"""SQS's errors, one class per wire code.

``code`` is the query-era code clients see (botocore reads it from ``x-amzn-query-error``);
``shape_name`` is the model's exception shape, which the JSON protocol's ``__type`` names and
botocore maps to ``client.exceptions.<shape>``. Errors the model does not declare
(InvalidParameterValue, MissingParameter, ...) come from AWS's front end and carry its
namespace.
"""

from __future__ import annotations

from typing import ClassVar

from lamina.errors import AwsError
from lamina.gateway.awsjson import CORAL_NAMESPACE


class SqsError(AwsError):
    status = 400
    message_key = "message"
    shape_name: ClassVar[str | None] = None
    json_namespace: ClassVar[str | None] = None
    # Some messages differ on the query protocol (it kept the older wording).
    query_message: str | None = None


class _FrontEndError(SqsError):
    json_namespace = CORAL_NAMESPACE


class InvalidParameterValue(_FrontEndError):
    code = "InvalidParameterValue"
    shape_name = "InvalidParameterValueException"


class MissingParameter(_FrontEndError):
    code = "MissingParameter"
    shape_name = "MissingParameterException"

    def __init__(self, name: str) -> None:
        super().__init__(f"The request must contain the parameter {name}.")


class InvalidAction(_FrontEndError):
    code = "InvalidAction"
    shape_name = "InvalidActionException"


class QueueDoesNotExist(SqsError):
    code = "AWS.SimpleQueueService.NonExistentQueue"
    shape_name = "QueueDoesNotExist"

    def __init__(self) -> None:
        super().__init__("The specified queue does not exist.")
        self.query_message = "The specified queue does not exist for this wsdl version."


class QueueNameExists(SqsError):
    code = "QueueAlreadyExists"
    shape_name = "QueueNameExists"


class InvalidAttributeName(SqsError):
    code = "InvalidAttributeName"
    shape_name = "InvalidAttributeName"


class InvalidAttributeValue(SqsError):
    code = "InvalidAttributeValue"
    shape_name = "InvalidAttributeValue"


class ReceiptHandleIsInvalid(SqsError):
    code = "ReceiptHandleIsInvalid"
    shape_name = "ReceiptHandleIsInvalid"


class MessageNotInflight(SqsError):
    code = "AWS.SimpleQueueService.MessageNotInflight"
    shape_name = "MessageNotInflight"


class PurgeQueueInProgress(SqsError):
    code = "AWS.SimpleQueueService.PurgeQueueInProgress"
    shape_name = "PurgeQueueInProgress"
    status = 403


class EmptyBatchRequest(SqsError):
    code = "AWS.SimpleQueueService.EmptyBatchRequest"
    shape_name = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(SqsError):
    code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    shape_name = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(SqsError):
    code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    shape_name = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(SqsError):
    code = "AWS.SimpleQueueService.InvalidBatchEntryId"
    shape_name = "InvalidBatchEntryId"

    def __init__(self) -> None:
        super().__init__(
            "A batch entry id can only contain alphanumeric characters, hyphens and"
            " underscores. It can be at most 80 letters long."
        )


class BatchRequestTooLong(SqsError):
    code = "AWS.SimpleQueueService.BatchRequestTooLong"
    shape_name = "BatchRequestTooLong"


class InvalidMessageContents(SqsError):
    code = "InvalidMessageContents"
    shape_name = "InvalidMessageContents"


class UnsupportedOperation(SqsError):
    code = "AWS.SimpleQueueService.UnsupportedOperation"
    shape_name = "UnsupportedOperation"


class InternalError(SqsError):
    code = "InternalError"
    shape_name = "InternalError"
    status = 500
    json_namespace = CORAL_NAMESPACE


def invalid_value(name: str, value: object, reason: str) -> InvalidParameterValue:
    """AWS's most common SQS wording: ``Value x for parameter Y is invalid. Reason: ...``."""
    return InvalidParameterValue(f"Value {value} for parameter {name} is invalid. Reason: {reason}")
