"""What the engine reports for CloudWatch-style metrics (namespace AWS/Lambda).

The engine only calls this narrow interface; the metrics service implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class MetricsSink(Protocol):
    def invocation(
        self,
        *,
        scope: str,
        function: str,
        qualifier: str | None,
        executed_version: str,
        duration_ms: float,
        error: bool,
    ) -> None: ...

    def throttle(self, *, scope: str, function: str, qualifier: str | None) -> None: ...

    def async_metric(
        self, *, scope: str, function: str, name: str, value: float, unit: str
    ) -> None: ...

    def sample_concurrency(self, snapshot: Callable[[], dict[str, dict[str, int]]]) -> None: ...
