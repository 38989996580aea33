"""CloudWatch's read operations over the metric store: GetMetricStatistics, GetMetricData and
ListMetrics, with AWS's parameter rules. Inputs and outputs use the model's member names; the
protocol codecs (CBOR, query, JSON) sit in front of this.

Periods are laid out from StartTime rounded down to the minute (AWS's documented rounding);
standard-resolution data cannot be split finer than a minute, so shorter periods act as 60 s.
Percentile statistics cannot be derived from stored aggregates and are refused.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from typing import Any

from lamina.services.metrics.errors import (
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
)
from lamina.services.metrics.store import Aggregate, MetricKey, MetricStore

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
MAX_DATAPOINTS = 1440
LIST_PAGE = 500
_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")


def epoch(value: Any, name: str) -> float:
    """A timestamp parameter as epoch seconds (CBOR datetimes, JSON numbers, query ISO text)."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameterValue(f"The parameter {name} is not a valid timestamp.") from None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
    raise MissingParameter(f"The parameter {name} is required.")


def _stamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _key(namespace: str, metric: str, dimensions: list[dict[str, str]] | None) -> MetricKey:
    dims = tuple(sorted((d["Name"], d["Value"]) for d in dimensions or ()))
    return MetricKey(namespace, metric, dims)


def _window(params: dict[str, Any]) -> tuple[float, float]:
    start = epoch(params.get("StartTime"), "StartTime")
    end = epoch(params.get("EndTime"), "EndTime")
    if start >= end:
        raise InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime."
        )
    return start, end


def _check_period(period: int, where: str = "Period") -> None:
    if period < 1 or (period % 60 and period not in HIGH_RESOLUTION_PERIODS):
        raise InvalidParameterValue(f"The parameter {where} must be a multiple of 60.")


def _buckets(minutes: list[Aggregate], start: float, period: int) -> list[Aggregate]:
    origin = int(start // 60) * 60
    step = max(period, 60)
    grouped: dict[int, Aggregate] = {}
    for minute in minutes:
        slot = origin + (minute.start - origin) // step * step
        seen = grouped.get(slot)
        moved = Aggregate(
            slot, minute.unit, minute.sample_count, minute.total, minute.minimum, minute.maximum
        )
        grouped[slot] = moved if seen is None else seen.merged(moved)
    return [grouped[slot] for slot in sorted(grouped)]


def statistic(bucket: Aggregate, name: str) -> float:
    if name == "SampleCount":
        return bucket.sample_count
    if name == "Sum":
        return bucket.total
    if name == "Minimum":
        return bucket.minimum
    if name == "Maximum":
        return bucket.maximum
    return bucket.total / bucket.sample_count if bucket.sample_count else 0.0


class MetricReader:
    def __init__(self, store: MetricStore) -> None:
        self._store = store

    async def get_metric_statistics(self, scope: str, p: dict[str, Any]) -> dict[str, Any]:
        for required in ("Namespace", "MetricName", "Period"):
            if p.get(required) is None:
                raise MissingParameter(f"The parameter {required} is required.")
        start, end = _window(p)
        period = int(p["Period"])
        _check_period(period)
        statistics = p.get("Statistics") or []
        extended = p.get("ExtendedStatistics") or []
        if bool(statistics) == bool(extended):
            raise InvalidParameterCombination(
                "Must specify either Statistics or ExtendedStatistics, but not both."
            )
        if extended:
            raise InvalidParameterValue("ExtendedStatistics (percentiles) are not supported.")
        for name in statistics:
            if name not in STATISTICS:
                raise InvalidParameterValue(
                    f"The parameter Statistics contains an invalid value: {name}"
                )
        requested = int((end - int(start // 60) * 60 + max(period, 60) - 1) // max(period, 60))
        if requested > MAX_DATAPOINTS:
            raise InvalidParameterCombination(
                f"You have requested up to {requested:,} datapoints, which exceeds the limit of"
                " 1,440. You may reduce the datapoints requested by increasing Period, or"
                " decreasing the time range."
            )
        key = _key(p["Namespace"], p["MetricName"], p.get("Dimensions"))
        minutes = await self._store.aggregates(scope, key, start, end)
        unit = p.get("Unit")
        if unit is not None:
            minutes = [m for m in minutes if m.unit == unit]
        datapoints = []
        for bucket in _buckets(minutes, start, period):
            point: dict[str, Any] = {"Timestamp": _stamp(bucket.start), "Unit": bucket.unit}
            for name in statistics:
                point[name] = statistic(bucket, name)
            datapoints.append(point)
        return {"Label": p["MetricName"], "Datapoints": datapoints}

    async def get_metric_data(self, scope: str, p: dict[str, Any]) -> dict[str, Any]:
        queries = p.get("MetricDataQueries") or []
        if not queries:
            raise MissingParameter("The parameter MetricDataQueries is required.")
        start, end = _window(p)
        descending = p.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        limit = p.get("MaxDatapoints")
        results = []
        for index, query in enumerate(queries, start=1):
            where = f"MetricDataQueries.member.{index}"
            query_id = query.get("Id", "")
            if not _QUERY_ID.fullmatch(query_id):
                raise InvalidParameterValue(
                    f"The value {query_id} for parameter {where}.Id is invalid."
                )
            stat = query.get("MetricStat")
            if query.get("Expression") is not None or stat is None:
                raise InvalidParameterValue(
                    f"The parameter {where}.Expression is not supported: use MetricStat."
                )
            if stat.get("Stat") not in STATISTICS:
                raise InvalidParameterValue(
                    f"The value {stat.get('Stat')} for parameter {where}.MetricStat.Stat is"
                    " not supported."
                )
            _check_period(int(stat.get("Period", 0)), f"{where}.MetricStat.Period")
            metric = stat.get("Metric") or {}
            key = _key(
                metric.get("Namespace", ""), metric.get("MetricName", ""), metric.get("Dimensions")
            )
            minutes = await self._store.aggregates(scope, key, start, end)
            if stat.get("Unit") is not None:
                minutes = [m for m in minutes if m.unit == stat["Unit"]]
            buckets = _buckets(minutes, start, int(stat["Period"]))
            if descending:
                buckets.reverse()
            if limit:
                buckets = buckets[: int(limit)]
            if query.get("ReturnData", True):
                results.append({
                    "Id": query_id,
                    "Label": query.get("Label") or key.metric,
                    "Timestamps": [_stamp(b.start) for b in buckets],
                    "Values": [statistic(b, stat["Stat"]) for b in buckets],
                    "StatusCode": "Complete",
                })  # fmt: skip
        return {"MetricDataResults": results, "Messages": []}

    async def list_metrics(self, scope: str, p: dict[str, Any]) -> dict[str, Any]:
        since = 0.0
        if p.get("RecentlyActive") == "PT3H":
            since = time.time() - 3 * 3600
        keys = await self._store.metrics(scope, p.get("Namespace"), since)
        name = p.get("MetricName")
        filters = p.get("Dimensions") or []
        matching = [
            k for k in keys
            if (name is None or k.metric == name)
            and all(
                any(d == f["Name"] and (f.get("Value") is None or v == f["Value"])
                    for d, v in k.dimensions)
                for f in filters
            )
        ]  # fmt: skip
        offset = 0
        if p.get("NextToken"):
            try:
                offset = int(base64.urlsafe_b64decode(p["NextToken"].encode()).decode())
            except ValueError:
                raise InvalidParameterValue("The service cannot process the NextToken.") from None
        page = matching[offset : offset + LIST_PAGE]
        more = offset + LIST_PAGE < len(matching)
        token = base64.urlsafe_b64encode(str(offset + LIST_PAGE).encode()).decode()
        return {
            "Metrics": [
                {
                    "Namespace": k.namespace,
                    "MetricName": k.metric,
                    "Dimensions": [{"Name": d, "Value": v} for d, v in k.dimensions],
                }
                for k in page
            ],
            "NextToken": token if more else None,
        }
