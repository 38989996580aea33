"""A rest-json AWS service on the gateway: model-driven codec plus operation handlers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from lamina.errors import AwsError, UnknownOperationException
from lamina.gateway.http import Request, Response
from lamina.gateway.restjson import RestJsonProtocol

Handler = Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any]]]


class NotImplementedOperation(AwsError):
    code = "NotImplementedException"
    status = 501
    message_key = "message"


class RestJsonService:
    def __init__(
        self,
        signing_name: str,
        protocol: RestJsonProtocol,
        handlers: dict[str, Handler],
        path_prefix: str,
    ) -> None:
        self.signing_name = signing_name
        self.protocol = protocol
        self.handlers = handlers
        self._claimed_paths = re.compile(path_prefix)

    def claims(self, request: Request) -> bool:
        return bool(self._claimed_paths.match(request.raw_path))

    async def handle(self, request: Request) -> Response:
        matched = self.protocol.match(request.method, request.raw_path, request.query)
        if matched is None:
            raise UnknownOperationException(
                f"No {self.signing_name} operation matches {request.method} {request.raw_path}"
            )
        operation, labels = matched
        handler = self.handlers.get(operation.name)
        if handler is None:
            raise NotImplementedOperation(
                f"Lamina does not implement the {operation.name} operation yet."
            )
        params = self.protocol.parse_request(
            operation, labels, request.query, request.headers, request.body
        )
        output = await handler(request, params)
        status, headers, body = self.protocol.serialize_response(operation, output)
        if body and not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))  # raw payloads (Invoke)
        return Response(status, headers, body)
