"""The storage interface every backend implements.

Records are JSON documents addressed by (kind, scope, key): ``kind`` names the
resource type ("function", "version", "alias"), ``scope`` is the account and region
("000000000000/us-east-1") and ``key`` orders records within it. Writes are applied
in one transaction, so a multi-record change (publishing a version, deleting a
function with its versions) is all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Put:
    kind: str
    scope: str
    key: str
    doc: Document


@dataclass(frozen=True, slots=True)
class Delete:
    kind: str
    scope: str
    key: str


@dataclass(frozen=True, slots=True)
class DeletePrefix:
    kind: str
    scope: str
    prefix: str


WriteOp = Put | Delete | DeletePrefix


class Storage(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def get(self, kind: str, scope: str, key: str) -> Document | None: ...

    async def scan(
        self,
        kind: str,
        scope: str | None = None,
        *,
        prefix: str = "",
        after: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, str, Document]]:
        """(scope, key, doc) in (scope, key) order; scope None scans every scope."""
        ...

    async def write(self, ops: Sequence[WriteOp]) -> None: ...
