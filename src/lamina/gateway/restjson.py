"""A model-driven codec for botocore's rest-json protocol (Lambda today, others later).

:class:`RestJsonProtocol` turns an HTTP request into an operation's input dict (keyed by the
model's PascalCase member names, values typed per shape, then validated against the model's
constraints) and an output dict back into status, headers and body. Everything that depends
only on the model (routes, where each member lives) is computed once per operation.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from lamina.errors import SerializationException
from lamina.gateway import restjson_body as body_codec
from lamina.gateway.restjson_routes import RouteTable
from lamina.gateway.validation import Validator, wire_path

JSON_CONTENT_TYPE = "application/json"
# A uri/query/header value that cannot be read as its shape's type. AWS's wording for this is
# unknown; this keeps the validation-message style and is used in one place only.
_BAD_SCALAR = "Value '{value}' at '{path}' could not be converted to {type}"

# (member name, wire name, shape): wire name is the label, query key or lower-case header
_Slot = tuple[str, str, Any]


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each member of one structure (an operation's input or output) lives on the wire."""

    labels: tuple[_Slot, ...]
    query: tuple[_Slot, ...]
    query_map: str | None  # member that collects all other query keys
    headers: tuple[_Slot, ...]
    header_maps: tuple[_Slot, ...]  # wire name is the lower-case prefix
    status: str | None
    payload: tuple[str, Any] | None
    body: tuple[tuple[str, Any], ...]  # JSON members

    @staticmethod
    def of(shape: Any) -> _Layout:
        labels, query, headers, header_maps, body = [], [], [], [], []
        query_map = status = None
        payload_name = shape.serialization.get("payload") if shape is not None else None
        members = shape.members.items() if shape is not None else ()
        for name, member in members:
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if name == payload_name:
                continue
            if location == "uri":
                labels.append((name, wire, member))
            elif location == "querystring":
                if member.type_name == "map":
                    query_map = name
                else:
                    query.append((name, wire, member))
            elif location == "header":
                headers.append((name, wire.lower(), member))
            elif location == "headers":
                header_maps.append((name, member.serialization.get("name", "").lower(), member))
            elif location == "statusCode":
                status = name
            else:
                body.append((name, member))
        payload = (payload_name, shape.members[payload_name]) if payload_name else None
        return _Layout(
            tuple(labels),
            tuple(query),
            query_map,
            tuple(headers),
            tuple(header_maps),
            status,
            payload,
            tuple(body),
        )


class RestJsonProtocol:
    """Routes, parses, validates and serializes requests of one rest-json service model."""

    def __init__(
        self,
        service_model: Any,
        before_validation: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        # A service may raise its own error for a member before the model's checks run
        # (Lambda reports an unknown Runtime as InvalidParameterValueException).
        self._before_validation = before_validation
        self._service = service_model
        self._operations = [service_model.operation_model(n) for n in service_model.operation_names]
        self._routes = RouteTable(self._operations)
        self._inputs = {op.name: _Layout.of(op.input_shape) for op in self._operations}
        self._outputs = {op.name: _Layout.of(op.output_shape) for op in self._operations}
        self._validator = Validator()

    def operations(self) -> list[Any]:
        return list(self._operations)

    def match(
        self, method: str, raw_path: str, raw_query: str = ""
    ) -> tuple[Any, dict[str, str]] | None:
        """The operation and its percent-decoded URI labels, or None when no route fits."""
        return self._routes.match(method, raw_path, raw_query)

    # --- requests ----------------------------------------------------------------------------

    def parse_request(
        self,
        operation: Any,
        labels: Mapping[str, str],
        raw_query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> dict[str, Any]:
        """The validated input of ``operation``; headers must have lower-case names."""
        layout = self._inputs[operation.name]
        params: dict[str, Any] = {}
        for name, wire, shape in layout.labels:
            if wire in labels:
                params[name] = _read_text(shape, labels[wire], name)
        if layout.query or layout.query_map:
            self._read_query(layout, raw_query, params)
        for name, wire, shape in layout.headers:
            text = headers.get(wire)
            if text is not None:
                params[name] = _read_header(shape, text, name)
        for name, prefix, _ in layout.header_maps:
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        if layout.payload is not None:
            self._read_payload(layout.payload, body, params)
        elif layout.body:
            document = body_codec.load_json(body) if body.strip() else {}
            if not isinstance(document, dict):
                raise body_codec.bad_content(
                    f"Cannot deserialize value of type `{operation.input_shape.name}` "
                    "from non-Object value"
                )
            for name, shape in layout.body:
                value = document.get(shape.serialization.get("name", name))
                if value is not None:
                    params[name] = body_codec.read_value(shape, value)
        if self._before_validation is not None:
            self._before_validation(operation.name, params)
        if operation.input_shape is not None:
            self._validator.validate(operation.input_shape, params)
        return params

    def _read_query(self, layout: _Layout, raw_query: str, params: dict[str, Any]) -> None:
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        if not pairs:
            return
        multi: dict[str, list[str]] = {}
        for key, value in pairs:
            multi.setdefault(key, []).append(value)
        for name, wire, shape in layout.query:
            values = multi.pop(wire, None)
            if values is None:
                continue
            if shape.type_name == "list":
                params[name] = [_read_text(shape.member, v, name) for v in values]
            else:
                params[name] = _read_text(shape, values[0], name)
        if layout.query_map and multi:
            params[layout.query_map] = {k: v[0] for k, v in multi.items()}

    @staticmethod
    def _read_payload(payload: tuple[str, Any], body: bytes, params: dict[str, Any]) -> None:
        name, shape = payload
        if shape.type_name == "blob":
            if body:
                params[name] = body  # raw bytes: the Invoke hot path never re-encodes
        elif shape.type_name == "string":
            if body:
                params[name] = body.decode("utf-8", errors="replace")
        elif body.strip():
            params[name] = body_codec.read_value(shape, body_codec.load_json(body))

    # --- responses ---------------------------------------------------------------------------

    def serialize_response(
        self, operation: Any, output: Mapping[str, Any]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body for an operation's output (members by model name)."""
        layout = self._outputs[operation.name]
        status = int(operation.http.get("responseCode", 200))
        if layout.status is not None and output.get(layout.status) is not None:
            status = int(output[layout.status])
        headers: list[tuple[str, str]] = []
        for name, _, shape in layout.headers:
            value = output.get(name)
            if value is not None:
                headers.append((shape.serialization.get("name", name), _header_text(shape, value)))
        for name, prefix, _ in layout.header_maps:
            for key, value in (output.get(name) or {}).items():
                headers.append((prefix + key, str(value)))
        body = b""
        if layout.payload is not None:
            name, shape = layout.payload
            value = output.get(name)
            if shape.type_name in ("blob", "string"):
                if value is not None:
                    body = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            elif value is not None:
                body = _dump(body_codec.write_value(shape, value))
                headers.append(("Content-Type", JSON_CONTENT_TYPE))
        elif layout.body:
            document = {
                shape.serialization.get("name", name): body_codec.write_value(shape, value)
                for name, shape in layout.body
                if (value := output.get(name)) is not None
            }
            body = _dump(document)
            headers.append(("Content-Type", JSON_CONTENT_TYPE))
        return status, headers, body


def _dump(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _bad_scalar(shape: Any, text: str, member: str) -> SerializationException:
    java_type = shape.type_name.capitalize()
    return SerializationException(
        _BAD_SCALAR.format(value=text, path=wire_path(member), type=java_type)
    )


def _read_text(shape: Any, text: str, member: str) -> Any:
    """A uri label, query or header value converted to its shape's type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("double", "float"):
            return float(text)
        if kind == "boolean":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise ValueError(text)
            return lowered == "true"
        if kind == "blob":
            return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise _bad_scalar(shape, text, member) from None
    return text  # strings, and timestamps kept as given


def _read_header(shape: Any, text: str, member: str) -> Any:
    if shape.type_name == "list":
        return [_read_text(shape.member, part.strip(), member) for part in text.split(",")]
    if shape.serialization.get("jsonvalue"):
        try:
            return json.loads(base64.b64decode(text))
        except (ValueError, binascii.Error):
            raise _bad_scalar(shape, text, member) from None
    return _read_text(shape, text, member)


def _header_text(shape: Any, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    if isinstance(value, dt.datetime):
        fmt = shape.serialization.get("timestampFormat", "rfc822")
        return str(body_codec.format_timestamp(value, fmt))
    if isinstance(value, list | tuple):
        return ",".join(_header_text(shape.member, item) for item in value)
    return str(value)
