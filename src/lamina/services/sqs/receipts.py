"""Receipt handles: opaque to clients, naming one delivery of one stored message."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import uuid
from dataclasses import dataclass

_TAG = "lamina-sqs"


@dataclass(frozen=True, slots=True)
class Receipt:
    queue_id: int
    seq: int  # the stored message
    nonce: str  # which delivery: a newer receive replaces it

    def encode(self) -> str:
        raw = f"{_TAG}:{self.queue_id}:{self.seq}:{self.nonce}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_nonce() -> str:
    return secrets.token_hex(8)


class MessageIds:
    """Random (version 4) UUIDs for message ids, drawing randomness in blocks: one
    ``os.urandom`` call per id costs more than the rest of accepting a message."""

    _BLOCK = 16 * 256

    def __init__(self) -> None:
        self._pool = b""
        self._offset = 0

    def next(self) -> str:
        if self._offset >= len(self._pool):
            self._pool, self._offset = os.urandom(self._BLOCK), 0
        raw = self._pool[self._offset : self._offset + 16]
        self._offset += 16
        return str(uuid.UUID(bytes=raw, version=4))


def parse_receipt(handle: str) -> Receipt | None:
    """The receipt a handle encodes, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split(":")
    if len(parts) != 4 or parts[0] != _TAG or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return Receipt(int(parts[1]), int(parts[2]), parts[3])
