"""JSON bodies of the rest-json protocol, walked by model shape.

Reading is as lenient as AWS's Jackson-based front end: unknown members are ignored, ``null``
means absent, scalars are coerced where Jackson would (``"3"`` for an integer, ``3`` for a
string), blobs are base64; anything else is an ``InvalidRequestContentException`` carrying
the fixed prefix AWS uses (:data:`BAD_JSON_PREFIX`). Writing omits ``None`` values,
base64-encodes blobs and renders ``datetime`` timestamps per the shape's format.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import json
from email.utils import format_datetime
from typing import Any

from lamina.errors import InvalidRequestContentException

# Recorded (Invoke, Nov 2025); used for every JSON body — the most plausible choice.
BAD_JSON_PREFIX = "Could not parse request body into json: Could not parse payload into json: "
# Jackson appends the location of a syntax error in this form.
_LOCATION = (
    "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
    "line: {line}, column: {column}]"
)
_EXPECTED_VALUE = (
    "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
)
_JAVA_TYPES = {
    "string": "java.lang.String",
    "integer": "java.lang.Integer",
    "long": "java.lang.Long",
    "boolean": "java.lang.Boolean",
    "double": "java.lang.Double",
    "float": "java.lang.Float",
    "blob": "java.nio.ByteBuffer",
    "list": "java.util.List",
    "map": "java.util.Map",
    "timestamp": "java.util.Date",
}


def bad_content(detail: str) -> InvalidRequestContentException:
    return InvalidRequestContentException(BAD_JSON_PREFIX + detail)


def load_json(body: bytes) -> Any:
    """Parse a JSON document or raise InvalidRequestContentException with a Jackson-like detail.

    Also usable by handlers that must check a raw payload (Invoke requires valid JSON).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "invalid start byte":
            detail = f"Invalid UTF-8 start byte 0x{body[exc.start]:02x}"
        else:
            offender = body[min(exc.end, len(body) - 1)]
            detail = f"Invalid UTF-8 middle byte 0x{offender:02x}"
        line = body.count(b"\n", 0, exc.start) + 1
        column = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise bad_content(detail + _LOCATION.format(line=line, column=column)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_content(_jackson_detail(exc)) from None


def _jackson_detail(exc: json.JSONDecodeError) -> str:
    location = _LOCATION.format(line=exc.lineno, column=exc.colno)
    if exc.pos >= len(exc.doc):
        return "Unexpected end-of-input" + location
    char = exc.doc[exc.pos]
    code = ord(char)
    shown = (
        f"(CTRL-CHAR, code {code})"
        if code < 32 or 0x7F <= code <= 0x9F
        else f"'{char}' (code {code})"
    )
    if exc.msg == "Expecting value":
        return f"Unexpected character ({shown}): {_EXPECTED_VALUE}{location}"
    return f"Unexpected character ({shown}): {exc.msg}{location}"


def _mismatch(shape: Any, value: Any) -> InvalidRequestContentException:
    java = _JAVA_TYPES.get(shape.type_name, shape.name)
    if isinstance(value, dict):
        source = "Object value (token `JsonToken.START_OBJECT`)"
    elif isinstance(value, list):
        source = "Array value (token `JsonToken.START_ARRAY`)"
    elif isinstance(value, str):
        return bad_content(
            f'Cannot deserialize value of type `{java}` from String "{value}": '
            f"not a valid `{java}` value"
        )
    else:
        source = f"{type(value).__name__} value"
    return bad_content(f"Cannot deserialize value of type `{java}` from {source}")


def read_structure(shape: Any, value: Any) -> dict[str, Any]:
    """A JSON object as the structure's input dict (member names, converted values)."""
    if not isinstance(value, dict):
        raise _mismatch(shape, value)
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        item = value.get(member.serialization.get("name", name))
        if item is not None:
            result[name] = read_value(member, item)
    return result


def read_value(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return read_structure(shape, value)
    if kind == "list":
        if not isinstance(value, list):
            raise _mismatch(shape, value)
        member = shape.member
        return [None if item is None else read_value(member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise _mismatch(shape, value)
        key_shape, value_shape = shape.key, shape.value
        return {
            read_value(key_shape, key): None if item is None else read_value(value_shape, item)
            for key, item in value.items()
        }
    return _read_scalar(shape, kind, value)


def _read_scalar(shape: Any, kind: str, value: Any) -> Any:
    if isinstance(value, dict | list):
        raise _mismatch(shape, value)
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)
    if kind in ("integer", "long"):
        if isinstance(value, bool):
            raise _mismatch(shape, value)
        if isinstance(value, int):
            return value
        try:
            return int(value) if isinstance(value, float) else int(value.strip())
        except (ValueError, OverflowError):
            raise _mismatch(shape, value) from None
    if kind in ("double", "float"):
        if isinstance(value, bool):
            raise _mismatch(shape, value)
        try:
            return float(value)
        except ValueError:
            raise _mismatch(shape, value) from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        raise _mismatch(shape, value)
    if kind == "blob":
        if not isinstance(value, str):
            raise _mismatch(shape, value)
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise _mismatch(shape, value) from None
    return value  # timestamps and documents are kept as given


# --- writing ---------------------------------------------------------------------------------


def write_structure(shape: Any, value: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            result[member.serialization.get("name", name)] = write_value(member, item)
    return result


def write_value(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return write_structure(shape, value)
    if kind == "list":
        member = shape.member
        return [write_value(member, item) for item in value if item is not None]
    if kind == "map":
        value_shape = shape.value
        return {k: write_value(value_shape, v) for k, v in value.items() if v is not None}
    if kind == "blob":
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return format_timestamp(value, shape.serialization.get("timestampFormat", "unixTimestamp"))
    return value


def format_timestamp(value: dt.datetime, fmt: str) -> Any:
    """A datetime in one of the model's timestamp formats (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    if fmt == "iso8601":
        if value.microsecond:
            return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "rfc822":
        return format_datetime(value, usegmt=True)
    seconds = calendar.timegm(value.timetuple())
    if value.microsecond:
        return round(seconds + value.microsecond / 1_000_000, 3)
    return seconds
