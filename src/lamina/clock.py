"""The time source. Platform-side waiting goes through a Clock so tests can scale it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def now(self) -> float:
        """Wall-clock seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)


def lambda_timestamp(moment: datetime) -> str:
    """Lambda's LastModified format: 2025-11-25T02:26:54.123+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
