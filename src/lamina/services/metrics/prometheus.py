"""Lambda metrics as Prometheus text (exposition format 0.0.4): counters, a duration
histogram and concurrency gauges, kept in memory since the server started."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Duration buckets in milliseconds: from sub-millisecond warm invokes to the 15-minute limit.
DURATION_BUCKETS_MS = (
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
    30000.0, 60000.0, 300000.0, 900000.0,
)  # fmt: skip
ASYNC_COUNTERS = {
    "AsyncEventsReceived": "lamina_lambda_async_events_received_total",
    "AsyncEventsDropped": "lamina_lambda_async_events_dropped_total",
    "DeadLetterErrors": "lamina_lambda_dead_letter_errors_total",
    "DestinationDeliveryFailures": "lamina_lambda_destination_delivery_failures_total",
}
HELP = {
    "lamina_lambda_invocations_total": "Completed invocations (AWS/Lambda Invocations).",
    "lamina_lambda_errors_total": "Invocations that ended in a function error.",
    "lamina_lambda_throttles_total": "Invoke requests refused with 429 (Throttles).",
    "lamina_lambda_duration_milliseconds": "Invocation duration in milliseconds.",
    "lamina_lambda_concurrent_executions": "Executions in progress, per function.",
    "lamina_lambda_account_concurrent_executions": "Executions in progress, per account.",
    "lamina_lambda_async_events_received_total": "Events accepted by asynchronous invoke.",
    "lamina_lambda_async_events_dropped_total": "Async events dropped without success.",
    "lamina_lambda_dead_letter_errors_total": "Failed sends to a dead-letter queue.",
    "lamina_lambda_destination_delivery_failures_total": "Failed sends to a destination.",
    "lamina_lambda_async_event_age_milliseconds": "Time from enqueue to invocation.",
}

Labels = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS_MS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        self.buckets[bisect.bisect_left(DURATION_BUCKETS_MS, value)] += 1
        self.total += value
        self.count += 1


class PrometheusRegistry:
    def __init__(self) -> None:
        self._counters: dict[str, dict[Labels, float]] = {}
        self._gauges: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, _Histogram]] = {}

    def count(self, name: str, labels: Labels, amount: float = 1.0) -> None:
        series = self._counters.setdefault(name, {})
        series[labels] = series.get(labels, 0.0) + amount

    def gauge(self, name: str, labels: Labels, value: float) -> None:
        self._gauges.setdefault(name, {})[labels] = value

    def observe(self, name: str, labels: Labels, value: float) -> None:
        series = self._histograms.setdefault(name, {})
        histogram = series.get(labels)
        if histogram is None:
            histogram = series[labels] = _Histogram()
        histogram.observe(value)

    def text(self) -> str:
        lines: list[str] = []
        for name, series in sorted(self._counters.items()):
            _header(lines, name, "counter")
            lines += [f"{name}{_labels(lb)} {_number(v)}" for lb, v in sorted(series.items())]
        for name, series in sorted(self._gauges.items()):
            _header(lines, name, "gauge")
            lines += [f"{name}{_labels(lb)} {_number(v)}" for lb, v in sorted(series.items())]
        for name, hists in sorted(self._histograms.items()):
            _header(lines, name, "histogram")
            for labels, histogram in sorted(hists.items(), key=lambda item: item[0]):
                running = 0
                for bound, hits in zip(
                    (*DURATION_BUCKETS_MS, float("inf")), histogram.buckets, strict=True
                ):
                    running += hits
                    le = "+Inf" if bound == float("inf") else _number(bound)
                    lines.append(f"{name}_bucket{_labels((*labels, ('le', le)))} {running}")
                lines.append(f"{name}_sum{_labels(labels)} {_number(histogram.total)}")
                lines.append(f"{name}_count{_labels(labels)} {histogram.count}")
        return "\n".join(lines) + "\n"


def _header(lines: list[str], name: str, kind: str) -> None:
    lines.append(f"# HELP {name} {HELP.get(name, name)}")
    lines.append(f"# TYPE {name} {kind}")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
