"""Lambda's error texts, built in one place (recorded on AWS unless marked)."""

from __future__ import annotations

from lamina.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)


def function_not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {arn}")


def alias_not_found(alias_arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Cannot find alias arn: {alias_arn}")


def update_in_progress(function_arn: str) -> ResourceConflictException:
    return ResourceConflictException(
        "The operation cannot be performed at this time. An update is in progress for"
        f" resource: {function_arn}"
    )


def function_in_state(state: str) -> ResourceConflictException:
    return ResourceConflictException(
        "The operation cannot be performed at this time. The function is currently in the"
        f" following state: {state}"
    )


def function_exists(name: str) -> ResourceConflictException:
    # UNVERIFIED wording (spec 12.7): the form AWS users report most often.
    return ResourceConflictException(f"Function already exist: {name}")


def revision_mismatch(api: str = "GetFunction/GetAlias") -> PreconditionFailedException:
    return PreconditionFailedException(
        "The Revision Id provided does not match the latest Revision Id."
        f" Call the {api} API to retrieve the latest Revision Id"
    )


def qualifier_mismatch() -> InvalidParameterValueException:
    return InvalidParameterValueException(
        "The derived qualifier from the function name does not match the specified qualifier."
    )


def name_too_long(name: str) -> InvalidParameterValueException:
    return InvalidParameterValueException(
        f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy"
        " constraint: Member must have length less than or equal to 64"
    )
