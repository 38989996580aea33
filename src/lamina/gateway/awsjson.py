"""A model-driven codec for botocore's AWS JSON 1.0 / 1.1 protocols (SQS today, others later).

A request is ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>`` and a JSON body whose
members are the input shape's; the answer is the output shape as JSON. Errors are
``{"__type": "<namespace>#<ShapeName>", "message": "..."}``. A service that moved from the query
protocol (``awsQueryCompatible`` in its model, e.g. SQS) also sends
``x-amzn-query-error: <query code>;<Sender|Receiver>``: botocore shows that code to the caller
and picks the exception class from the ``__type`` suffix (kept as ``QueryErrorCode``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lamina.errors import (
    AwsError,
    InvalidRequestContentException,
    SerializationException,
    UnknownOperationException,
)
from lamina.gateway import restjson_body as body_codec
from lamina.gateway.http import Response
from lamina.gateway.validation import Validator

log = logging.getLogger("lamina.gateway")

# Called with (operation name, params) before the model's constraints are checked; a service
# raises its own errors here (SQS reports a missing member as MissingParameter, for one).
PreCheck = Callable[[str, dict[str, Any]], None]
# Errors not modelled by a service carry this namespace in ``__type`` (AWS's front end).
CORAL_NAMESPACE = "com.amazon.coral.service"


def json_type(error: AwsError, namespace: str) -> str:
    """The ``__type`` of an error: ``<namespace>#<shape>`` for modelled errors.

    An error class may name its model shape (``shape_name``) when it differs from its wire
    code, and its own namespace (``json_namespace``) when it is not the service's.
    """
    shape = getattr(error, "shape_name", None) or error.code
    space = getattr(error, "json_namespace", None) or namespace
    return f"{space}#{shape}"


OperationCall = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class AwsJsonProtocol:
    """Parses and serializes one service's AWS JSON operations, from its botocore model."""

    def __init__(self, model: Any, *, pre_check: PreCheck | None = None) -> None:
        self.model = model
        metadata = model.metadata
        self.target_prefix: str = metadata["targetPrefix"]
        self.content_type = f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}"
        self.query_compatible = "awsQueryCompatible" in metadata
        # The namespace AWS puts in __type; botocore's models do not carry it, so it is
        # derived: com.amazonaws.<endpointPrefix> (what SQS sends).
        self.namespace = f"com.amazonaws.{metadata['endpointPrefix']}"
        self._operations = {name: model.operation_model(name) for name in model.operation_names}
        self._validator = Validator()
        self._pre_check = pre_check

    def operation_for(self, target: str) -> Any:
        """The operation an ``X-Amz-Target`` header names, or UnknownOperationException."""
        prefix, _, name = target.partition(".")
        operation = self._operations.get(name) if prefix == self.target_prefix else None
        if operation is None:
            raise UnknownOperationException(f"Operation {target} is not supported.")
        return operation

    def parse_request(self, operation: Any, body: bytes) -> dict[str, Any]:
        """The operation's input dict (member names, typed values), checked against the model."""
        shape = operation.input_shape
        if shape is None:
            return {}
        document: Any = {}
        if body.strip():
            try:
                document = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise SerializationException(f"Could not parse request body: {exc}") from None
        try:
            params = body_codec.read_structure(shape, document)
        except InvalidRequestContentException as exc:
            raise SerializationException(exc.message) from None
        if self._pre_check is not None:
            self._pre_check(operation.name, params)
        self._validator.validate(shape, params)
        return params

    def serialize_response(self, operation: Any, output: dict[str, Any]) -> Response:
        shape = operation.output_shape
        payload = body_codec.write_structure(shape, output) if shape is not None else {}
        body = json.dumps(payload, separators=(",", ":")).encode()
        return Response(200, [("Content-Type", self.content_type)], body)

    def serialize_error(self, error: AwsError) -> Response:
        """The JSON-protocol error response; the one place an AwsError becomes JSON 1.x."""
        payload = {"__type": json_type(error, self.namespace), "message": error.message or ""}
        headers = [("Content-Type", self.content_type)]
        if self.query_compatible:
            fault = "Sender" if error.status < 500 else "Receiver"
            headers.append(("x-amzn-query-error", f"{error.code};{fault}"))
        headers.extend(error.headers.items())
        body = json.dumps(payload, separators=(",", ":")).encode()
        return Response(error.status, headers, body)

    async def respond(
        self, target: str, body: bytes, call: OperationCall, internal: AwsError
    ) -> Response:
        """One request's whole cycle: operation, parameters, the service's call, response.
        An AwsError is the client's answer; anything else is logged and answered `internal`."""
        try:
            operation = self.operation_for(target)
            params = self.parse_request(operation, body)
            output = await call(operation.name, params)
            return self.serialize_response(operation, output)
        except AwsError as error:
            return self.serialize_error(error)
        except Exception:
            log.exception("%s failed", target)
            return self.serialize_error(internal)
