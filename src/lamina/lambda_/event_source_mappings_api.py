"""Event source mapping operations on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lamina.engine.pollers.filter_patterns import check_filters
from lamina.errors import InvalidParameterValueException
from lamina.lambda_.api import Handler, Output, Params, RequestContext, page
from lamina.lambda_.event_source_mappings import (
    USER_INITIATED,
    EventSourceMapping,
    EventSourceMappingService,
    MappingSettings,
    is_sqs_arn,
    unsupported_source,
)
from lamina.lambda_.scope import Scope

# Parameters that only stream, Kafka, MQ or DocumentDB sources take.
_NOT_FOR_SQS = (
    "ParallelizationFactor",
    "StartingPositionTimestamp",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "ProvisionedPollerConfig",
)


class EventSourceMappingApi:
    def __init__(self, mappings: EventSourceMappingService) -> None:
        self._mappings = mappings

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateEventSourceMapping": self.create,
            "GetEventSourceMapping": self.get,
            "UpdateEventSourceMapping": self.update,
            "DeleteEventSourceMapping": self.delete,
            "ListEventSourceMappings": self.list,
        }

    async def create(self, ctx: RequestContext, p: Params) -> Output:
        arn = p.get("EventSourceArn")
        if not arn:
            raise InvalidParameterValueException("Unrecognized event source.")
        settings = _settings(ctx.scope, p)
        if not is_sqs_arn(arn):
            assert settings.function_name is not None
            await self._mappings.function_config(
                ctx.scope, settings.function_name, settings.qualifier
            )
            raise unsupported_source(arn)
        _check_sqs_only(p, arn)
        mapping = await self._mappings.create(ctx.scope, arn, settings)
        return wire(mapping)

    async def get(self, ctx: RequestContext, p: Params) -> Output:
        return wire(await self._mappings.get(ctx.scope, p["UUID"]))

    async def update(self, ctx: RequestContext, p: Params) -> Output:
        await self._mappings.get(ctx.scope, p["UUID"])
        _check_sqs_only(p, None)
        mapping = await self._mappings.update(ctx.scope, p["UUID"], _settings(ctx.scope, p))
        return wire(mapping)

    async def delete(self, ctx: RequestContext, p: Params) -> Output:
        return wire(await self._mappings.delete(ctx.scope, p["UUID"]))

    async def list(self, ctx: RequestContext, p: Params) -> Output:
        source = p.get("EventSourceArn")
        name = qualifier = None
        if p.get("FunctionName"):
            name, qualifier = ctx.scope.resolve(p["FunctionName"])
        items = [
            (f"{m.last_modified:020.6f}{m.uuid}", wire(m))
            for m in sorted(await self._mappings.in_scope(ctx.scope), key=lambda m: m.last_modified)
            if (source is None or m.event_source_arn == source)
            and (name is None or m.function_name == name)
            and (qualifier is None or m.qualifier == qualifier)
        ]
        found, marker = page(items, p.get("Marker"), p.get("MaxItems"))
        out: Output = {"EventSourceMappings": found}
        if marker:
            out["NextMarker"] = marker
        return out


def _check_sqs_only(p: Params, arn: str | None) -> None:
    if "DestinationConfig" in p:
        raise InvalidParameterValueException(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    if "StartingPosition" in p and arn is not None:
        raise InvalidParameterValueException(f"Unsupported starting position for arn type: {arn}")
    for name in _NOT_FOR_SQS:
        if name in p:
            raise InvalidParameterValueException(
                f"Unsupported {name} parameter for given event source mapping type."
            )  # UNVERIFIED wording, modelled on the recorded DestinationConfig message


def _settings(scope: Scope, p: Params) -> MappingSettings:
    name = qualifier = None
    if p.get("FunctionName"):
        name, qualifier = scope.resolve(p["FunctionName"])
    filters = None
    if "FilterCriteria" in p:
        filters = tuple(
            f.get("Pattern", "") for f in (p["FilterCriteria"] or {}).get("Filters") or []
        )
        check_filters(filters)
    scaling = p.get("ScalingConfig")
    types = p.get("FunctionResponseTypes")
    return MappingSettings(
        function_name=name,
        qualifier=qualifier,
        enabled=p.get("Enabled"),
        batch_size=p.get("BatchSize"),
        maximum_batching_window=p.get("MaximumBatchingWindowInSeconds"),
        function_response_types=tuple(types) if types is not None else None,
        filters=filters,
        maximum_concurrency=(scaling or {}).get("MaximumConcurrency"),
        clear_concurrency=scaling is not None and "MaximumConcurrency" not in scaling,
    )


def wire(mapping: EventSourceMapping) -> Output:
    scope = mapping.owner
    out: dict[str, Any] = {
        "UUID": mapping.uuid,
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.maximum_batching_window,
        "EventSourceArn": mapping.event_source_arn,
        "FunctionArn": scope.function_arn(mapping.function_name, mapping.qualifier),
        "LastModified": datetime.fromtimestamp(mapping.last_modified, UTC),
        "State": mapping.state.value,
        "StateTransitionReason": USER_INITIATED,
        "FunctionResponseTypes": list(mapping.function_response_types),
        "EventSourceMappingArn": (
            f"arn:aws:lambda:{scope.region}:{scope.account_id}:event-source-mapping:{mapping.uuid}"
        ),
    }
    if mapping.filters:
        out["FilterCriteria"] = {"Filters": [{"Pattern": f} for f in mapping.filters]}
    if mapping.maximum_concurrency is not None:
        out["ScalingConfig"] = {"MaximumConcurrency": mapping.maximum_concurrency}
    if mapping.last_processing_result is not None:
        out["LastProcessingResult"] = mapping.last_processing_result
    return out
