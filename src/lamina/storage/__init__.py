"""Durable storage behind a narrow async interface (SQLite now, PostgreSQL later)."""

from lamina.storage.base import Delete, DeletePrefix, Document, Put, Storage, WriteOp
from lamina.storage.sqlite import SqliteStorage

__all__ = ["Delete", "DeletePrefix", "Document", "Put", "SqliteStorage", "Storage", "WriteOp"]
