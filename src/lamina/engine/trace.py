"""X-Ray trace headers: accepted from the caller or generated as Lambda does."""

from __future__ import annotations

import os
import time


def new_trace_header(now: float | None = None) -> str:
    """Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0 (PassThrough tracing)."""
    epoch = int(now if now is not None else time.time())
    return f"Root=1-{epoch:08x}-{os.urandom(12).hex()};Parent={os.urandom(8).hex()};Sampled=0"


def trace_header(incoming: str | None) -> str:
    """The caller's header when it names a root, else a fresh one."""
    if incoming and "Root=" in incoming:
        return incoming
    return new_trace_header()
