"""CloudWatch Logs errors (AWS JSON 1.1: ``__type`` is the shape name, ``message``)."""

from __future__ import annotations

from lamina.errors import AwsError


class LogsError(AwsError):
    status = 400
    message_key = "message"


class ResourceNotFoundException(LogsError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExistsException(LogsError):
    code = "ResourceAlreadyExistsException"


class InvalidParameterException(LogsError):
    code = "InvalidParameterException"


class ServiceUnavailableException(LogsError):
    code = "ServiceUnavailableException"
    status = 500


def group_not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log group does not exist.")


def stream_not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log stream does not exist.")


def invalid_token() -> InvalidParameterException:
    return InvalidParameterException("The specified nextToken is invalid.")
