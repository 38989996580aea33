"""The request and response shapes the gateway hands to services."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import AwsError


@dataclass(slots=True)
class Request:
    method: str
    raw_path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    account_id: str = ""
    region: str = ""
    service: str | None = None  # signing name from the credential scope, when signed

    @property
    def base_url(self) -> str:
        host = self.headers.get("host", "127.0.0.1")
        return f"http://{host}"


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, [("Content-Type", "application/json"), *(headers or [])], body)


def error_response(error: AwsError) -> Response:
    """The one place an AwsError becomes wire bytes (rest-json and JSON protocols alike)."""
    headers = [("x-amzn-ErrorType", error.code), *error.headers.items()]
    return Response.json(error.status, error.body(), headers)
