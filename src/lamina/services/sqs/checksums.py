"""The digests SQS returns: MD5 of the body and of the message (system) attributes.

The attribute digest is SQS's documented encoding: attributes sorted by name, each written as
length-prefixed (4-byte big-endian) UTF-8 name and data type, one transport byte (1 string,
2 binary, 3 string list, 4 binary list) and the length-prefixed value(s).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from lamina.services.sqs.models import MessageAttribute

_STRING, _BINARY, _STRING_LIST, _BINARY_LIST = b"\x01", b"\x02", b"\x03", b"\x04"


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: Mapping[str, MessageAttribute]) -> str | None:
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        digest.update(_prefixed(name.encode()))
        digest.update(_prefixed(attribute.data_type.encode()))
        if attribute.string_value is not None:
            digest.update(_STRING + _prefixed(attribute.string_value.encode()))
        elif attribute.binary_value is not None:
            digest.update(_BINARY + _prefixed(attribute.binary_value))
        elif attribute.string_list_values:
            digest.update(_STRING_LIST)
            for item in attribute.string_list_values:
                digest.update(_prefixed(item.encode()))
        elif attribute.binary_list_values:
            digest.update(_BINARY_LIST)
            for raw in attribute.binary_list_values:
                digest.update(_prefixed(raw))
    return digest.hexdigest()


def _prefixed(raw: bytes) -> bytes:
    return len(raw).to_bytes(4, "big") + raw
