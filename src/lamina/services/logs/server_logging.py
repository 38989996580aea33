"""Lamina's own log lines: ``<time> <level> <logger> request_id=<id> <message>``.

The gateway sets :data:`REQUEST_ID` for each request it handles; every line logged while that
request is served carries its id (``-`` outside a request).
"""

from __future__ import annotations

import contextvars
import logging
import time

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("lamina_request_id", default="-")
FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the request being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class ServerFormatter(logging.Formatter):
    """UTC ISO-8601 times with milliseconds; exceptions stay on the lines that follow."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def configure(level: str) -> None:
    """Send every logger's lines (uvicorn's too) to stderr in the server format."""
    handler = logging.StreamHandler()
    handler.setFormatter(ServerFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
