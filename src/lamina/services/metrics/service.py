"""CloudWatch (metrics) on the gateway, in the three protocols its clients speak.

botocore 1.43 (boto3) sends Smithy RPC v2 CBOR: ``POST /service/GraniteServiceVersion20100801/
operation/<Op>`` with ``smithy-protocol: rpc-v2-cbor``. AWS CLI 2.9 sends the query protocol
(``Action=GetMetricStatistics&...``, XML answers). Newer SDKs may send AWS JSON 1.0
(``X-Amz-Target: GraniteServiceVersion20100801.<Op>``). All three reach the same operations.
Also serves Prometheus text for the ``/metrics`` route.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import botocore.session

from lamina.errors import AwsError
from lamina.gateway.awsjson import AwsJsonProtocol, json_type
from lamina.gateway.awsquery import AwsQueryProtocol, QueryValueError, form_tree
from lamina.gateway.http import Request, Response
from lamina.services.metrics import cbor
from lamina.services.metrics.errors import (
    InternalServiceError,
    InvalidAction,
    InvalidParameterValue,
)
from lamina.services.metrics.lambda_metrics import LambdaMetrics
from lamina.services.metrics.prometheus import CONTENT_TYPE
from lamina.services.metrics.statistics import MetricReader

log = logging.getLogger("lamina.cloudwatch")

CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"
Operation = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class CloudWatchService:
    signing_name = "monitoring"

    def __init__(self, metrics: LambdaMetrics) -> None:
        self.metrics = metrics
        self.reader = MetricReader(metrics.store)
        model = botocore.session.get_session().get_service_model("cloudwatch")
        self.json = AwsJsonProtocol(model)
        self.query = AwsQueryProtocol(model, {})
        self._model = model
        self._operations: dict[str, Operation] = {
            "GetMetricStatistics": self.reader.get_metric_statistics,
            "GetMetricData": self.reader.get_metric_data,
            "ListMetrics": self.reader.list_metrics,
        }

    def claims(self, request: Request) -> bool:
        if request.raw_path.startswith(CBOR_PATH):
            return True
        if request.headers.get("x-amz-target", "").startswith(f"{self.json.target_prefix}."):
            return True
        return request.service == self.signing_name

    async def prometheus(self, request: Request) -> Response:
        """The ``/metrics`` route: Prometheus text exposition."""
        text = self.metrics.prometheus_text()
        return Response(200, [("Content-Type", CONTENT_TYPE)], text.encode())

    async def handle(self, request: Request) -> Response:
        path = request.raw_path.split("?", 1)[0]
        if path.startswith(CBOR_PATH):
            return await self._handle_cbor(request, path.removeprefix(CBOR_PATH))
        target = request.headers.get("x-amz-target")
        if target is not None:
            return await self._handle_json(request, target)
        return await self._handle_query(request)

    async def _call(self, name: str, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        operation = self._operations.get(name)
        if operation is None:
            raise InvalidAction(f"The action {name} is not valid for this endpoint.")
        self.metrics.drain()
        return await operation(f"{request.account_id}/{request.region}", params)

    async def _handle_cbor(self, request: Request, name: str) -> Response:
        try:
            try:
                params = cbor.decode(request.body) if request.body else {}
            except (cbor.CborError, UnicodeDecodeError) as exc:
                raise InvalidParameterValue(f"Could not parse the request body: {exc}") from None
            if not isinstance(params, dict):
                raise InvalidParameterValue("The request body must be a CBOR map.")
            output = await self._call(name, request, params)
            body = cbor.encode({k: v for k, v in output.items() if v is not None})
            return Response(200, _cbor_headers(), body)
        except AwsError as error:
            return _cbor_error(error, self.json.namespace)
        except Exception:
            log.exception("CloudWatch %s failed", name)
            return _cbor_error(InternalServiceError("Internal error."), self.json.namespace)

    async def _handle_json(self, request: Request, target: str) -> Response:
        async def call(operation: str, params: dict[str, Any]) -> dict[str, Any]:
            return await self._call(operation, request, params)

        return await self.json.respond(
            target, request.body, call, InternalServiceError("Internal error.")
        )

    async def _handle_query(self, request: Request) -> Response:
        try:
            body = request.body.decode("utf-8") if request.body else ""
            tree = form_tree("&".join(p for p in (request.query, body) if p))
            action = tree.get("Action")
            operation = self.query.operation_named(action) if isinstance(action, str) else None
            if operation is None:
                raise InvalidAction(f"The action {action} is not valid for this endpoint.")
            try:
                params = self.query.parse_request(operation, tree)
            except QueryValueError as exc:
                raise InvalidParameterValue(
                    f"The value {exc.value} for parameter {exc.name} is invalid."
                ) from None
            output = await self._call(operation.name, request, params)
            return self.query.serialize_response(
                operation, _iso_timestamps(output), request.request_id
            )
        except AwsError as error:
            return self.query.serialize_error(error, request.request_id)
        except Exception:
            log.exception("CloudWatch query request failed")
            return self.query.serialize_error(
                InternalServiceError("Internal error."), request.request_id
            )


def _cbor_headers() -> list[tuple[str, str]]:
    return [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]


def _cbor_error(error: AwsError, namespace: str) -> Response:
    payload = {"__type": json_type(error, namespace), "message": error.message or ""}
    fault = "Sender" if error.status < 500 else "Receiver"
    headers = [*_cbor_headers(), ("x-amzn-query-error", f"{error.code};{fault}")]
    return Response(error.status, headers, cbor.encode(payload))


def _iso_timestamps(value: Any) -> Any:
    """Datetimes as ISO 8601 text, the query protocol's timestamp form."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: _iso_timestamps(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_timestamps(v) for v in value]
    return value
