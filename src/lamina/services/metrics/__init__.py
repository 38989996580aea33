"""AWS/Lambda metrics: a per-minute store, the engine's facade, Prometheus text and the
CloudWatch read API (GetMetricData, GetMetricStatistics, ListMetrics)."""

from lamina.services.metrics.lambda_metrics import LambdaMetrics
from lamina.services.metrics.service import CloudWatchService
from lamina.services.metrics.store import MetricStore

__all__ = ["CloudWatchService", "LambdaMetrics", "MetricStore"]
