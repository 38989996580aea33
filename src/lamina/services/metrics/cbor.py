"""A small CBOR (RFC 8949) codec for the Smithy RPC v2 CBOR protocol.

Only what the protocol uses: integers, floats, byte and text strings (definite and
indefinite), arrays, maps, booleans, null/undefined, and tag 1 (epoch-seconds timestamps,
decoded to :class:`datetime.datetime` in UTC).
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any


class CborError(ValueError):
    pass


def encode(value: Any) -> bytes:
    out = bytearray()
    _write(out, value)
    return bytes(out)


def _head(out: bytearray, major: int, number: int) -> None:
    if number < 24:
        out.append(major << 5 | number)
    elif number < 0x100:
        out += bytes((major << 5 | 24, number))
    elif number < 0x10000:
        out.append(major << 5 | 25)
        out += struct.pack(">H", number)
    elif number < 0x100000000:
        out.append(major << 5 | 26)
        out += struct.pack(">I", number)
    else:
        out.append(major << 5 | 27)
        out += struct.pack(">Q", number)


def _write(out: bytearray, value: Any) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        if value >= 0:
            _head(out, 0, value)
        else:
            _head(out, 1, -1 - value)
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, bytes | bytearray):
        _head(out, 2, len(value))
        out += value
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _head(out, 3, len(raw))
        out += raw
    elif isinstance(value, list | tuple):
        _head(out, 4, len(value))
        for item in value:
            _write(out, item)
    elif isinstance(value, dict):
        _head(out, 5, len(value))
        for key, item in value.items():
            _write(out, key)
            _write(out, item)
    elif isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        _head(out, 6, 1)
        _write(out, stamp.timestamp())
    else:
        raise CborError(f"cannot encode {type(value).__name__}")


def decode(data: bytes) -> Any:
    reader = _Reader(data)
    value = reader.item()
    if reader.at != len(data):
        raise CborError("trailing bytes after the CBOR item")
    return value


_BREAK = object()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def _take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise CborError("truncated CBOR item")
        chunk = self.data[self.at : self.at + count]
        self.at += count
        return chunk

    def _argument(self, info: int) -> int:
        if info < 24:
            return info
        sizes = {24: 1, 25: 2, 26: 4, 27: 8}
        if info not in sizes:
            raise CborError(f"invalid additional information {info}")
        return int.from_bytes(self._take(sizes[info]), "big")

    def item(self) -> Any:
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if initial == 0xFF:
            return _BREAK
        if major == 0:
            return self._argument(info)
        if major == 1:
            return -1 - self._argument(info)
        if major in (2, 3):
            raw = self._string(major, info)
            return raw if major == 2 else raw.decode("utf-8")
        if major == 4:
            return self._items(info)
        if major == 5:
            flat = self._items(info, pairs=True)
            return dict(zip(flat[::2], flat[1::2], strict=True))
        if major == 6:
            tag = self._argument(info)
            value = self.item()
            if tag == 1 and isinstance(value, int | float):
                return dt.datetime.fromtimestamp(value, dt.UTC)
            return value
        return self._simple(info)

    def _string(self, major: int, info: int) -> bytes:
        if info != 31:
            return self._take(self._argument(info))
        chunks: list[bytes] = []
        while True:
            initial = self._take(1)[0]
            if initial == 0xFF:
                return b"".join(chunks)
            if initial >> 5 != major:
                raise CborError("bad chunk in an indefinite string")
            chunks.append(self._take(self._argument(initial & 0x1F)))

    def _items(self, info: int, *, pairs: bool = False) -> list[Any]:
        if info != 31:
            count = self._argument(info) * (2 if pairs else 1)
            return [self.item() for _ in range(count)]
        items = []
        while (value := self.item()) is not _BREAK:
            items.append(value)
        return items

    def _simple(self, info: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return _half(int.from_bytes(self._take(2), "big"))
        if info == 26:
            return struct.unpack(">f", self._take(4))[0]
        if info == 27:
            return struct.unpack(">d", self._take(8))[0]
        raise CborError(f"unsupported simple value {info}")


def _half(bits: int) -> float:
    value: float = struct.unpack(">e", bits.to_bytes(2, "big"))[0]
    return value
