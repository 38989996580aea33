"""Event invoke config operations on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lamina.lambda_.api import Handler, Output, Params, RequestContext, page
from lamina.lambda_.event_invoke_config import EventInvokeConfig, EventInvokeConfigService
from lamina.lambda_.scope import Scope


class EventInvokeConfigApi:
    def __init__(self, configs: EventInvokeConfigService) -> None:
        self._configs = configs

    def handlers(self) -> dict[str, Handler]:
        return {
            "PutFunctionEventInvokeConfig": self.put,
            "UpdateFunctionEventInvokeConfig": self.update,
            "GetFunctionEventInvokeConfig": self.get,
            "DeleteFunctionEventInvokeConfig": self.delete,
            "ListFunctionEventInvokeConfigs": self.list,
        }

    async def put(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        config = await self._configs.put(ctx.scope, name, qualifier, _settings(p))
        return _wire(ctx.scope, config)

    async def update(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        config = await self._configs.update(ctx.scope, name, qualifier, _settings(p))
        return _wire(ctx.scope, config)

    async def get(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        return _wire(ctx.scope, await self._configs.get(ctx.scope, name, qualifier))

    async def delete(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        await self._configs.delete(ctx.scope, name, qualifier)
        return {}

    async def list(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        configs = await self._configs.list(ctx.scope, name)
        items = [(c.qualifier, _wire(ctx.scope, c)) for c in configs]
        found, marker = page(items, p.get("Marker"), p.get("MaxItems"))
        out: Output = {"FunctionEventInvokeConfigs": found}
        if marker:
            out["NextMarker"] = marker
        return out


def _settings(p: Params) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if "MaximumRetryAttempts" in p:
        settings["maximum_retry_attempts"] = p["MaximumRetryAttempts"]
    if "MaximumEventAgeInSeconds" in p:
        settings["maximum_event_age"] = p["MaximumEventAgeInSeconds"]
    if "DestinationConfig" in p:
        destinations = p["DestinationConfig"]
        settings["on_success"] = (destinations.get("OnSuccess") or {}).get("Destination") or None
        settings["on_failure"] = (destinations.get("OnFailure") or {}).get("Destination") or None
    return settings


def _wire(scope: Scope, config: EventInvokeConfig) -> Output:
    out: Output = {
        "LastModified": datetime.fromtimestamp(config.last_modified, UTC),
        "FunctionArn": scope.function_arn(config.function_name, config.qualifier),
        "DestinationConfig": {
            "OnSuccess": {"Destination": config.on_success} if config.on_success else {},
            "OnFailure": {"Destination": config.on_failure} if config.on_failure else {},
        },
    }
    if config.maximum_retry_attempts is not None:
        out["MaximumRetryAttempts"] = config.maximum_retry_attempts
    if config.maximum_event_age is not None:
        out["MaximumEventAgeInSeconds"] = config.maximum_event_age
    return out
