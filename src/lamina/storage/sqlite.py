"""SQLite (WAL) backend. All SQL runs on one dedicated thread, off the event loop."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from lamina.errors import StorageError
from lamina.storage.base import Delete, DeletePrefix, Document, Put, WriteOp

T = TypeVar("T")


def migration_scripts() -> list[tuple[int, str]]:
    """(version, sql) for every file in migrations/, in order; shared by every backend."""
    folder = resources.files("lamina.storage") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(scripts)


class SqliteStorage:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lamina-sqlite")
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._run(self._open)

    async def close(self) -> None:
        await self._run(self._close)
        self._executor.shutdown(wait=True)

    async def get(self, kind: str, scope: str, key: str) -> Document | None:
        def query(db: sqlite3.Connection) -> Document | None:
            row = db.execute(
                "SELECT doc FROM documents WHERE kind = ? AND scope = ? AND key = ?",
                (kind, scope, key),
            ).fetchone()
            return None if row is None else _load(row[0])

        return await self._run(query)

    async def scan(
        self,
        kind: str,
        scope: str | None = None,
        *,
        prefix: str = "",
        after: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, str, Document]]:
        sql = "SELECT scope, key, doc FROM documents WHERE kind = ?"
        args: list[Any] = [kind]
        if scope is not None:
            sql += " AND scope = ?"
            args.append(scope)
        if prefix:
            sql += " AND substr(key, 1, ?) = ?"
            args += [len(prefix), prefix]
        if after is not None:
            sql += " AND key > ?"
            args.append(after)
        sql += " ORDER BY scope, key"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)

        def query(db: sqlite3.Connection) -> list[tuple[str, str, Document]]:
            return [(s, k, _load(d)) for s, k, d in db.execute(sql, args)]

        return await self._run(query)

    async def write(self, ops: Sequence[WriteOp]) -> None:
        def apply(db: sqlite3.Connection) -> None:
            with db:
                for op in ops:
                    if isinstance(op, Put):
                        db.execute(
                            "INSERT INTO documents (kind, scope, key, doc) VALUES (?, ?, ?, ?)"
                            " ON CONFLICT (kind, scope, key) DO UPDATE SET doc = excluded.doc",
                            (op.kind, op.scope, op.key, json.dumps(op.doc, separators=(",", ":"))),
                        )
                    elif isinstance(op, Delete):
                        db.execute(
                            "DELETE FROM documents WHERE kind = ? AND scope = ? AND key = ?",
                            (op.kind, op.scope, op.key),
                        )
                    elif isinstance(op, DeletePrefix):
                        db.execute(
                            "DELETE FROM documents WHERE kind = ? AND scope = ?"
                            " AND substr(key, 1, ?) = ?",
                            (op.kind, op.scope, len(op.prefix), op.prefix),
                        )

        await self._run(apply)

    async def transact(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one transaction on the database thread (for SQLite-backed stores
        with tables of their own; a PostgreSQL backend implements those stores itself)."""

        def call(db: sqlite3.Connection) -> T:
            with db:
                return fn(db)

        return await self._run(call)

    # --- thread side ------------------------------------------------------------------

    def _open(self, _: sqlite3.Connection | None) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA busy_timeout = 5000")
        db.isolation_level = "DEFERRED"
        _migrate(db)
        self._db = db

    def _close(self, db: sqlite3.Connection | None) -> None:
        if db is not None:
            db.close()
        self._db = None

    async def _run(self, fn: Callable[[Any], T]) -> T:
        def call() -> T:
            try:
                return fn(self._db)
            except sqlite3.Error as exc:
                raise StorageError(str(exc)) from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)


def _migrate(db: sqlite3.Connection) -> None:
    with db:
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
    applied = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    for version, sql in migration_scripts():
        if version in applied:
            continue
        with db:
            for statement in filter(str.strip, sql.split(";")):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))


def _load(raw: str) -> Document:
    doc: Document = json.loads(raw)
    return doc
