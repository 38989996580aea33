"""GetMetricStatistics, GetMetricData and ListMetrics (boto3: CBOR, AWS CLI v2: query) and
Prometheus text, over datapoints recorded through LambdaMetrics."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.metrics.conftest import MetricsServer

SCOPE = "000000000000/us-east-1"


def _window() -> tuple[dt.datetime, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    return now - dt.timedelta(minutes=10), now + dt.timedelta(minutes=2)


def _record(server: MetricsServer, function: str) -> None:
    def calls() -> None:
        m = server.metrics
        for duration in (10.0, 20.0, 30.0):
            m.invocation(
                scope=SCOPE,
                function=function,
                qualifier=None,
                executed_version="$LATEST",
                duration_ms=duration,
                error=False,
            )
        m.invocation(
            scope=SCOPE,
            function=function,
            qualifier="live",
            executed_version="3",
            duration_ms=100.0,
            error=True,
        )
        m.throttle(scope=SCOPE, function=function, qualifier=None)
        m.throttle(scope=SCOPE, function=function, qualifier=None)
        m.async_metric(
            scope=SCOPE, function=function, name="AsyncEventsReceived", value=1, unit="Count"
        )
        m.async_metric(
            scope=SCOPE, function=function, name="AsyncEventAge", value=250, unit="Milliseconds"
        )

    server.call(calls)


@pytest.fixture(scope="module")
def function(metrics_server: MetricsServer) -> str:
    name = f"fn-{uuid.uuid4().hex[:8]}"
    _record(metrics_server, name)
    return name


def _stats(
    client: Any, function: str, metric: str, dims: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    start, end = _window()
    result: dict[str, Any] = client.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=dims if dims is not None else [{"Name": "FunctionName", "Value": function}],
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum", "Average"],
        **extra,
    )
    return result


def test_get_metric_statistics_counts(metrics_server: MetricsServer, function: str) -> None:
    client = metrics_server.client()
    invocations = _stats(client, function, "Invocations")
    assert invocations["Label"] == "Invocations"
    [point] = invocations["Datapoints"]
    assert point["Sum"] == 4 and point["SampleCount"] == 4 and point["Unit"] == "Count"
    [errors] = _stats(client, function, "Errors")["Datapoints"]
    assert errors["Sum"] == 1 and errors["SampleCount"] == 4 and errors["Average"] == 0.25
    [throttles] = _stats(client, function, "Throttles")["Datapoints"]
    assert throttles["Sum"] == 2
    [duration] = _stats(client, function, "Duration")["Datapoints"]
    assert (duration["Minimum"], duration["Maximum"], duration["Sum"]) == (10, 100, 160)
    assert duration["Unit"] == "Milliseconds"
    [age] = _stats(client, function, "AsyncEventAge")["Datapoints"]
    assert age["Maximum"] == 250


def test_dimension_sets(metrics_server: MetricsServer, function: str) -> None:
    client = metrics_server.client()
    resource = [
        {"Name": "FunctionName", "Value": function},
        {"Name": "Resource", "Value": f"{function}:live"},
    ]
    [point] = _stats(client, function, "Invocations", resource)["Datapoints"]
    assert point["Sum"] == 1
    executed = [
        {"Name": "ExecutedVersion", "Value": "3"},
        {"Name": "FunctionName", "Value": function},
    ]
    [point] = _stats(client, function, "Errors", executed)["Datapoints"]
    assert point["Sum"] == 1
    [account] = _stats(client, function, "Invocations", [])["Datapoints"]
    assert account["Sum"] >= 4
    assert (
        _stats(client, function, "Invocations", [{"Name": "FunctionName", "Value": "none"}])[
            "Datapoints"
        ]
        == []
    )
    assert _stats(client, function, "Invocations", Unit="Seconds")["Datapoints"] == []


def test_get_metric_data(metrics_server: MetricsServer, function: str) -> None:
    client = metrics_server.client()
    start, end = _window()
    metric = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Invocations",
        "Dimensions": [{"Name": "FunctionName", "Value": function}],
    }
    result = client.get_metric_data(
        MetricDataQueries=[
            {"Id": "inv", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
            {
                "Id": "hidden",
                "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
                "ReturnData": False,
            },
            {
                "Id": "dur",
                "Label": "slowest",
                "MetricStat": {
                    "Metric": {**metric, "MetricName": "Duration"},
                    "Period": 600,
                    "Stat": "Maximum",
                },
            },
        ],
        StartTime=start,
        EndTime=end,
    )
    inv, dur = result["MetricDataResults"]
    assert inv["Id"] == "inv" and inv["Label"] == "Invocations" and inv["StatusCode"] == "Complete"
    assert sum(inv["Values"]) == 4 and len(inv["Timestamps"]) == len(inv["Values"])
    assert inv["Timestamps"] == sorted(inv["Timestamps"], reverse=True)
    assert dur["Label"] == "slowest" and dur["Values"] == [100.0]
    with pytest.raises(ClientError) as caught:
        client.get_metric_data(
            MetricDataQueries=[
                {"Id": "Bad", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}
            ],
            StartTime=start,
            EndTime=end,
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_parameter_errors(metrics_server: MetricsServer, function: str) -> None:
    client = metrics_server.client()
    start, end = _window()
    with pytest.raises(ClientError) as caught:
        client.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            StartTime=end,
            EndTime=start,
            Period=60,
            Statistics=["Sum"],
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "StartTime must be less than" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        client.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            StartTime=start - dt.timedelta(days=5),
            EndTime=end,
            Period=60,
            Statistics=["Sum"],
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterCombination"


def test_list_metrics(metrics_server: MetricsServer, function: str) -> None:
    client = metrics_server.client()
    metrics = client.list_metrics(
        Namespace="AWS/Lambda", Dimensions=[{"Name": "FunctionName", "Value": function}]
    )["Metrics"]
    names = {m["MetricName"] for m in metrics}
    assert {"Invocations", "Errors", "Duration", "Throttles", "AsyncEventsReceived"} <= names
    dims = {tuple(sorted(d["Name"] for d in m["Dimensions"])) for m in metrics}
    assert dims == {
        ("FunctionName",),
        ("FunctionName", "Resource"),
        ("ExecutedVersion", "FunctionName"),
    }
    only = client.list_metrics(
        Namespace="AWS/Lambda",
        MetricName="Throttles",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
    )
    assert {m["MetricName"] for m in only["Metrics"]} == {"Throttles"}


def test_concurrency_samples(metrics_server: MetricsServer) -> None:
    name = f"busy-{uuid.uuid4().hex[:6]}"
    metrics_server.call(
        lambda: metrics_server.metrics.sample_concurrency(lambda: {SCOPE: {name: 3}})
    )
    metrics_server.call(metrics_server.metrics.sample)
    [point] = _stats(metrics_server.client(), name, "ConcurrentExecutions")["Datapoints"]
    assert point["Maximum"] == 3


def test_prometheus_text(metrics_server: MetricsServer, function: str) -> None:
    with urllib.request.urlopen(f"{metrics_server.url}/_lamina/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    labels = f'account="000000000000",region="us-east-1",function="{function}"'
    assert (
        f'lamina_lambda_invocations_total{{{labels},resource="{function}",'
        f'executed_version="$LATEST"}} 3' in text
    )
    assert (
        f'lamina_lambda_errors_total{{{labels},resource="{function}:live",'
        f'executed_version="3"}} 1' in text
    )
    assert f'lamina_lambda_throttles_total{{{labels},resource="{function}"}} 2' in text
    assert "# TYPE lamina_lambda_duration_milliseconds histogram" in text
    assert f"lamina_lambda_async_events_received_total{{{labels}}} 1" in text


@pytest.mark.skipif(not os.path.exists("/usr/bin/aws"), reason="Debian's AWS CLI v2 missing")
def test_aws_cli_query_protocol(metrics_server: MetricsServer, function: str) -> None:
    start, end = _window()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    out = subprocess.run(
        [
            "/usr/bin/aws",
            "--endpoint-url",
            metrics_server.url,
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "AWS/Lambda",
            "--metric-name",
            "Invocations",
            "--dimensions",
            f"Name=FunctionName,Value={function}",
            "--start-time",
            start.isoformat(),
            "--end-time",
            end.isoformat(),
            "--period",
            "3600",
            "--statistics",
            "Sum",
            "SampleCount",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    ).stdout
    [point] = json.loads(out)["Datapoints"]
    assert point["Sum"] == 4.0
    listed = subprocess.run(
        [
            "/usr/bin/aws",
            "--endpoint-url",
            metrics_server.url,
            "cloudwatch",
            "list-metrics",
            "--namespace",
            "AWS/Lambda",
            "--metric-name",
            "Throttles",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    ).stdout
    assert any(m["MetricName"] == "Throttles" for m in json.loads(listed)["Metrics"])
    data = subprocess.run(
        [
            "/usr/bin/aws",
            "--endpoint-url",
            metrics_server.url,
            "cloudwatch",
            "get-metric-data",
            "--start-time",
            start.isoformat(),
            "--end-time",
            end.isoformat(),
            "--metric-data-queries",
            json.dumps(
                [
                    {
                        "Id": "errors",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/Lambda",
                                "MetricName": "Errors",
                                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                            },
                            "Period": 600,
                            "Stat": "Sum",
                        },
                    }
                ]
            ),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    ).stdout
    [result] = json.loads(data)["MetricDataResults"]
    assert result["Values"] == [1.0] and result["StatusCode"] == "Complete"
