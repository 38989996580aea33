"""A model-driven codec for the AWS query protocol (form-encoded requests, XML responses).

Older SDKs and CLIs (AWS CLI 2.9, for one) still speak it to services that have since moved to
AWS JSON, such as SQS. The service's current botocore model no longer carries the query-era
wire names (``Attribute.1.Name``, ``MessageAttribute.1.Value.StringValue``), so the service
supplies them as :data:`QueryNames`: ``"Shape.Member"`` for a structure member,
``"Shape.member"`` / ``"Shape.key"`` / ``"Shape.value"`` for a list element or map entry, and
``"Shape"`` for a shape's own name. Reading is lenient: both the query-era and the model's
names are accepted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from lamina.errors import AwsError
from lamina.gateway.http import Response

QueryNames = Mapping[str, str]
XML_CONTENT_TYPE = "text/xml"

# A form parsed into a tree: "Attribute.1.Name=x" -> {"Attribute": {"1": {"Name": "x"}}}
_Tree = dict[str, Any]


class QueryValueError(ValueError):
    """A form value that cannot be read as its shape's type (the service words the error)."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(name)
        self.name = name
        self.value = value


def form_tree(body: str) -> _Tree:
    tree: _Tree = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if not isinstance(node.get(leaf), dict):
            node[leaf] = value
    return tree


class AwsQueryProtocol:
    def __init__(self, model: Any, names: QueryNames) -> None:
        self.model = model
        self.names = names
        self.xmlns: str = model.metadata.get("xmlNamespace", "")
        self._operations = {name: model.operation_model(name) for name in model.operation_names}

    def operation_named(self, action: str) -> Any | None:
        return self._operations.get(action)

    # --- reading ------------------------------------------------------------------------

    def parse_request(self, operation: Any, tree: _Tree) -> dict[str, Any]:
        shape = operation.input_shape
        return {} if shape is None else self._read_structure(shape, tree)

    def _member_names(self, shape: Any, name: str, member: Any) -> list[str]:
        candidates = [
            self.names.get(f"{shape.name}.{name}"),
            self.names.get(member.name),
            member.serialization.get("name"),
            name,
        ]
        if member.type_name == "list" and member.serialization.get("flattened"):
            candidates.insert(2, self.names.get(f"{member.name}.member"))
        return [c for c in dict.fromkeys(candidates) if c]

    def _read_structure(self, shape: Any, tree: _Tree) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            for wire in self._member_names(shape, name, member):
                if wire in tree:
                    result[name] = self._read_value(member, tree[wire], wire)
                    break
        return result

    def _read_value(self, shape: Any, node: Any, wire: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self._read_structure(shape, node) if isinstance(node, dict) else {}
        if kind == "list":
            return self._read_list(shape, node, wire)
        if kind == "map":
            return self._read_map(shape, node, wire)
        if isinstance(node, dict):
            raise QueryValueError(wire, "")
        return _scalar(shape, node, wire)

    def _read_list(self, shape: Any, node: Any, wire: str) -> list[Any]:
        if not isinstance(node, dict):
            return []  # "Name=" is an empty list
        if not shape.serialization.get("flattened"):
            inner = node.get(self.names.get(f"{shape.name}.member", "member"), node.get("member"))
            node = inner if isinstance(inner, dict) else node
        return [self._read_value(shape.member, node[i], wire) for i in _indexes(node)]

    def _read_map(self, shape: Any, node: Any, wire: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        if not shape.serialization.get("flattened") and isinstance(node.get("entry"), dict):
            node = node["entry"]
        key_name = self.names.get(f"{shape.name}.key", "key")
        value_name = self.names.get(f"{shape.name}.value", "value")
        result: dict[str, Any] = {}
        for index in _indexes(node):
            entry = node[index]
            if not isinstance(entry, dict):
                continue
            key = entry.get(key_name, entry.get("key"))
            value = entry.get(value_name, entry.get("value"))
            if isinstance(key, str) and value is not None:
                result[key] = self._read_value(shape.value, value, wire)
        return result

    # --- writing ------------------------------------------------------------------------

    def serialize_response(
        self, operation: Any, output: dict[str, Any], request_id: str
    ) -> Response:
        name = operation.name
        parts = [f'<{name}Response xmlns="{self.xmlns}">']
        shape = operation.output_shape
        if shape is not None:
            parts.append(f"<{name}Result>")
            self._write_members(shape, output, parts)
            parts.append(f"</{name}Result>")
        parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
        parts.append(f"</{name}Response>")
        return _xml(200, parts)

    def serialize_error(self, error: AwsError, request_id: str) -> Response:
        """The query-protocol error response; the one place an AwsError becomes query XML."""
        fault = "Sender" if error.status < 500 else "Receiver"
        message = getattr(error, "query_message", None) or error.message or ""
        parts = [
            f'<ErrorResponse xmlns="{self.xmlns}"><Error><Type>{fault}</Type>',
            f"<Code>{escape(error.code)}</Code><Message>{escape(message)}</Message>",
            f"<Detail/></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        ]
        response = _xml(error.status, parts)
        response.headers.extend(error.headers.items())
        return response

    def _write_members(self, shape: Any, value: Mapping[str, Any], parts: list[str]) -> None:
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                continue
            wire = self._member_names(shape, name, member)[0]
            self._write_value(member, item, wire, parts)

    def _write_value(self, shape: Any, value: Any, wire: str, parts: list[str]) -> None:
        kind = shape.type_name
        if kind == "list":
            element = self.names.get(f"{shape.name}.member", "member")
            if shape.serialization.get("flattened"):
                for item in value:
                    self._write_value(shape.member, item, wire, parts)
                return
            parts.append(f"<{wire}>")
            for item in value:
                self._write_value(shape.member, item, element, parts)
            parts.append(f"</{wire}>")
            return
        if kind == "map":
            key_name = self.names.get(f"{shape.name}.key", "key")
            value_name = self.names.get(f"{shape.name}.value", "value")
            flat = shape.serialization.get("flattened")
            if not flat:
                parts.append(f"<{wire}>")
            for key, item in value.items():
                parts.append(f"<{wire}>" if flat else "<entry>")
                parts.append(f"<{key_name}>{escape(str(key))}</{key_name}>")
                self._write_value(shape.value, item, value_name, parts)
                parts.append(f"</{wire}>" if flat else "</entry>")
            if not flat:
                parts.append(f"</{wire}>")
            return
        parts.append(f"<{wire}>")
        if kind == "structure":
            self._write_members(shape, value, parts)
        elif kind == "blob":
            raw = value.encode() if isinstance(value, str) else bytes(value)
            parts.append(base64.b64encode(raw).decode("ascii"))
        elif kind == "boolean":
            parts.append("true" if value else "false")
        else:
            parts.append(escape(str(value), {'"': "&quot;", "\r": "&#xD;"}))
        parts.append(f"</{wire}>")


def _indexes(node: dict[str, Any]) -> list[str]:
    return sorted((k for k in node if k.isdigit()), key=int)


def _scalar(shape: Any, value: str, wire: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise QueryValueError(wire, value) from None
    if kind in ("double", "float"):
        try:
            return float(value)
        except ValueError:
            raise QueryValueError(wire, value) from None
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise QueryValueError(wire, value)
        return value.lower() == "true"
    if kind == "blob":
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise QueryValueError(wire, value) from None
    return value


def _xml(status: int, parts: list[str]) -> Response:
    body = ('<?xml version="1.0"?>' + "".join(parts)).encode()
    return Response(status, [("Content-Type", XML_CONTENT_TYPE)], body)
