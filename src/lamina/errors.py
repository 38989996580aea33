"""Every error Lamina can put on the wire, one class per AWS error code.

An :class:`AwsError` carries the code, HTTP status and the body's message key
(``message`` or ``Message``, exactly as the service model names the member).
The gateway turns it into a response in one place; nothing else formats errors.
Internal failures end in ``Error`` and never reach a client untranslated.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AwsError(Exception):
    """An error that is part of an AWS API contract."""

    code: ClassVar[str] = "ServiceException"
    status: ClassVar[int] = 500
    message_key: ClassVar[str] = "Message"
    error_type: ClassVar[str] = "User"

    def __init__(self, message: str | None = "", **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {"Type": self.error_type, self.message_key: self.message, **self.extra}


# --- generic, used by every service -------------------------------------------------------


class ValidationException(AwsError):
    code = "ValidationException"
    status = 400
    message_key = "message"


class UnknownOperationException(AwsError):
    code = "UnknownOperationException"
    status = 404
    message_key = "message"


class AccessDeniedException(AwsError):
    code = "AccessDeniedException"
    status = 403


class UnrecognizedClientException(AwsError):
    code = "UnrecognizedClientException"
    status = 403
    message_key = "message"


class ServiceException(AwsError):
    code = "ServiceException"
    status = 500
    error_type = "Service"


class SerializationException(AwsError):
    code = "SerializationException"
    status = 400
    message_key = "message"


# --- Lambda ----------------------------------------------------------------------------


class InvalidParameterValueException(AwsError):
    code = "InvalidParameterValueException"
    status = 400
    message_key = "message"


class InvalidRequestContentException(AwsError):
    code = "InvalidRequestContentException"
    status = 400
    message_key = "message"


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflictException(AwsError):
    code = "ResourceConflictException"
    status = 409
    message_key = "message"


class ResourceInUseException(AwsError):
    code = "ResourceInUseException"
    status = 400


class PreconditionFailedException(AwsError):
    code = "PreconditionFailedException"
    status = 412
    message_key = "message"


class RequestEntityTooLargeException(AwsError):
    """The wire code AWS sends for the model's RequestTooLargeException."""

    code = "RequestEntityTooLargeException"
    status = 413
    message_key = "message"


class UnsupportedMediaTypeException(AwsError):
    code = "UnsupportedMediaTypeException"
    status = 415
    message_key = "message"


class TooManyRequestsException(AwsError):
    code = "TooManyRequestsException"
    status = 429
    message_key = "message"


class CodeStorageExceededException(AwsError):
    code = "CodeStorageExceededException"
    status = 400
    message_key = "message"


class InvalidRuntimeException(AwsError):
    code = "InvalidRuntimeException"
    status = 502


class InvalidZipFileException(AwsError):
    code = "InvalidZipFileException"
    status = 502


class ResourceNotReadyException(AwsError):
    code = "ResourceNotReadyException"
    status = 502
    message_key = "message"


class ProvisionedConcurrencyConfigNotFoundException(AwsError):
    code = "ProvisionedConcurrencyConfigNotFoundException"
    status = 404
    message_key = "message"


class PolicyLengthExceededException(AwsError):
    code = "PolicyLengthExceededException"
    status = 400
    message_key = "message"


class RecursiveInvocationException(AwsError):
    code = "RecursiveInvocationException"
    status = 400


# --- internal roots (never cross the API) -------------------------------------------------


class LaminaError(Exception):
    """Root of Lamina's internal errors."""


class StorageError(LaminaError):
    """The storage backend failed."""


class SandboxError(LaminaError):
    """An execution environment could not be created or driven."""
