"""Reserved and provisioned concurrency operations on the wire."""

from __future__ import annotations

from typing import Any

from lamina.lambda_.api import Handler, Output, Params, RequestContext
from lamina.lambda_.concurrency import ConcurrencyService, ProvisionedConfig


class ConcurrencyApi:
    def __init__(self, concurrency: ConcurrencyService) -> None:
        self._concurrency = concurrency

    def handlers(self) -> dict[str, Handler]:
        return {
            "PutFunctionConcurrency": self.put_function_concurrency,
            "GetFunctionConcurrency": self.get_function_concurrency,
            "DeleteFunctionConcurrency": self.delete_function_concurrency,
            "PutProvisionedConcurrencyConfig": self.put_provisioned_concurrency_config,
            "GetProvisionedConcurrencyConfig": self.get_provisioned_concurrency_config,
            "DeleteProvisionedConcurrencyConfig": self.delete_provisioned_concurrency_config,
            "ListProvisionedConcurrencyConfigs": self.list_provisioned_concurrency_configs,
        }

    async def put_function_concurrency(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"])
        reserved = await self._concurrency.put_reserved(
            ctx.scope, name, qualifier, p["ReservedConcurrentExecutions"]
        )
        return {"ReservedConcurrentExecutions": reserved}

    async def get_function_concurrency(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        await self._concurrency.functions_get(ctx.scope, name)
        reserved = await self._concurrency.get_reserved(ctx.scope, name)
        return {} if reserved is None else {"ReservedConcurrentExecutions": reserved}

    async def delete_function_concurrency(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"])
        await self._concurrency.delete_reserved(ctx.scope, name, qualifier)
        return {}

    async def put_provisioned_concurrency_config(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p["Qualifier"])
        config = await self._concurrency.put_provisioned(
            ctx.scope, name, qualifier or p["Qualifier"], p["ProvisionedConcurrentExecutions"]
        )
        return _provisioned(config)

    async def get_provisioned_concurrency_config(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p["Qualifier"])
        config = await self._concurrency.get_provisioned(
            ctx.scope, name, qualifier or p["Qualifier"]
        )
        return _provisioned(config)

    async def delete_provisioned_concurrency_config(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p["Qualifier"])
        await self._concurrency.delete_provisioned(ctx.scope, name, qualifier or p["Qualifier"])
        return {}

    async def list_provisioned_concurrency_configs(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        await self._concurrency.functions_get(ctx.scope, name)
        configs = await self._concurrency.list_provisioned(ctx.scope, name)
        items: list[dict[str, Any]] = []
        for config in configs:
            item = _provisioned(config)
            item["FunctionArn"] = ctx.scope.function_arn(name, config.qualifier)
            items.append(item)
        return {"ProvisionedConcurrencyConfigs": items}


def _provisioned(config: ProvisionedConfig) -> Output:
    out: Output = {
        "RequestedProvisionedConcurrentExecutions": config.requested,
        "AvailableProvisionedConcurrentExecutions": config.allocated,
        "AllocatedProvisionedConcurrentExecutions": config.allocated,
        "Status": config.status,
        "LastModified": config.last_modified,
    }
    if config.status_reason:
        out["StatusReason"] = config.status_reason
    return out
