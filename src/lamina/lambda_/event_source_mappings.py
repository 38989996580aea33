"""Event source mapping records: validation, durable storage and the state machine.

A mapping ties a source (Lamina supports SQS queues only, for now) to a function and its
qualifier. Create answers ``Creating`` and settles to ``Enabled`` (or ``Disabled``); updates
pass through ``Updating``, ``Enabling`` or ``Disabling``; delete answers ``Deleting`` and the
record goes once its poller stopped. Deleting the function leaves its mappings (as AWS does).
Listeners in :attr:`EventSourceMappingService.on_change` (the poller manager) hear every
state a mapping takes.
"""

from __future__ import annotations

import asyncio
import uuid as uuids
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from lamina.arns import LATEST
from lamina.background import BackgroundTasks
from lamina.clock import Clock
from lamina.errors import (
    AwsError,
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from lamina.lambda_.aliases import AliasService
from lamina.lambda_.functions import FunctionService
from lamina.lambda_.models import FunctionConfig
from lamina.lambda_.scope import Scope
from lamina.storage import Delete, Put, Storage

EVENT_SOURCE_MAPPING = "event_source_mapping"  # storage kind, keyed by UUID
USER_INITIATED = "USER_INITIATED"
DEFAULT_SQS_BATCH_SIZE = 10
MAX_SQS_FIFO_BATCH_SIZE = 10
MAX_BATCH_WITHOUT_WINDOW = 10
NOT_FOUND = "The resource you requested does not exist."

QueueAttributes = Callable[[str], Awaitable[dict[str, str]]]


class MappingState(StrEnum):
    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


class FunctionResponseType(StrEnum):
    REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


BUSY = frozenset(
    {MappingState.CREATING, MappingState.UPDATING, MappingState.ENABLING, MappingState.DISABLING}
)


@dataclass(frozen=True, slots=True)
class EventSourceMapping:
    uuid: str
    scope: str  # "<account>/<region>"
    event_source_arn: str
    function_name: str
    qualifier: str | None  # as the caller gave it; None for an unqualified name or ARN
    batch_size: int
    maximum_batching_window: int  # seconds
    enabled: bool  # what the user asked for; state follows it
    state: MappingState
    last_modified: float  # epoch seconds
    function_response_types: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()  # FilterCriteria patterns (JSON text)
    maximum_concurrency: int | None = None  # ScalingConfig
    last_processing_result: str | None = None

    @property
    def owner(self) -> Scope:
        account, region = self.scope.split("/", 1)
        return Scope(account, region)

    @property
    def reports_item_failures(self) -> bool:
        return FunctionResponseType.REPORT_BATCH_ITEM_FAILURES in self.function_response_types

    @property
    def settled_state(self) -> MappingState:
        return MappingState.ENABLED if self.enabled else MappingState.DISABLED

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> EventSourceMapping:
        fields = dict(doc)
        fields["state"] = MappingState(fields["state"])
        fields["function_response_types"] = tuple(fields.get("function_response_types") or ())
        fields["filters"] = tuple(fields.get("filters") or ())
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class MappingSettings:
    """What Create and Update may set; None leaves a setting as it is (Update) or default."""

    function_name: str | None = None
    qualifier: str | None = None
    enabled: bool | None = None
    batch_size: int | None = None
    maximum_batching_window: int | None = None
    function_response_types: tuple[str, ...] | None = None
    filters: tuple[str, ...] | None = None
    maximum_concurrency: int | None = None
    clear_concurrency: bool = False


def unsupported_source(arn: str) -> InvalidParameterValueException:
    """The one place that says which sources Lamina can poll."""
    return InvalidParameterValueException(
        f"Lamina supports SQS event sources only for now; {arn} is not an SQS queue ARN."
    )


def is_sqs_arn(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) == 6 and parts[0] == "arn" and parts[2] == "sqs" and bool(parts[5])


class EventSourceMappingService:
    def __init__(
        self,
        storage: Storage,
        functions: FunctionService,
        aliases: AliasService,
        queue_attributes: QueueAttributes,
        clock: Clock,
        *,
        settle_delay: float = 0.0,
    ) -> None:
        self._storage = storage
        self._functions = functions
        self._aliases = aliases
        self._queue_attributes = queue_attributes
        self._clock = clock
        self._settle_delay = settle_delay
        self._settling = BackgroundTasks()
        self._results: dict[str, str | None] = {}
        self.on_change: list[Callable[[EventSourceMapping], Awaitable[None]]] = []

    # --- reading ----------------------------------------------------------------------

    async def get(self, scope: Scope, uuid: str) -> EventSourceMapping:
        doc = await self._storage.get(EVENT_SOURCE_MAPPING, scope.key, uuid)
        if doc is None:
            raise ResourceNotFoundException(NOT_FOUND)
        return EventSourceMapping.from_doc(doc)

    async def in_scope(self, scope: Scope) -> list[EventSourceMapping]:
        rows = await self._storage.scan(EVENT_SOURCE_MAPPING, scope.key)
        return [EventSourceMapping.from_doc(doc) for _, _, doc in rows]

    async def everywhere(self) -> list[EventSourceMapping]:
        rows = await self._storage.scan(EVENT_SOURCE_MAPPING, None)
        return [EventSourceMapping.from_doc(doc) for _, _, doc in rows]

    # --- writing ----------------------------------------------------------------------

    async def create(
        self, scope: Scope, event_source_arn: str, settings: MappingSettings
    ) -> EventSourceMapping:
        assert settings.function_name is not None
        config = await self.function_config(scope, settings.function_name, settings.qualifier)
        if not is_sqs_arn(event_source_arn):
            raise unsupported_source(event_source_arn)
        mapping = EventSourceMapping(
            uuid=str(uuids.uuid4()),
            scope=scope.key,
            event_source_arn=event_source_arn,
            function_name=settings.function_name,
            qualifier=settings.qualifier,
            batch_size=settings.batch_size or DEFAULT_SQS_BATCH_SIZE,
            maximum_batching_window=settings.maximum_batching_window or 0,
            enabled=settings.enabled is not False,
            state=MappingState.CREATING,
            last_modified=self._clock.now(),
            function_response_types=settings.function_response_types or (),
            filters=settings.filters or (),
            maximum_concurrency=settings.maximum_concurrency,
        )
        await self._check(mapping, config)
        for other in await self.in_scope(scope):
            if other.state is not MappingState.DELETING and _same_target(other, mapping):
                raise ResourceConflictException(
                    f'An event source mapping with SQS arn (" {event_source_arn} ") and function'
                    f' (" {settings.function_name} ") already exists. Please update or delete'
                    f" the existing mapping with UUID {other.uuid}"
                )
        await self._save(mapping)
        self._settle_later(mapping)
        return mapping

    async def update(
        self, scope: Scope, uuid: str, settings: MappingSettings
    ) -> EventSourceMapping:
        current = await self.get(scope, uuid)
        if current.state in BUSY or current.state is MappingState.DELETING:
            raise ResourceInUseException(
                "Cannot update the event source mapping because it is in use."
            )  # UNVERIFIED wording
        changes: dict[str, Any] = {
            name: value
            for name in (
                "enabled",
                "batch_size",
                "maximum_batching_window",
                "function_response_types",
                "filters",
                "maximum_concurrency",
            )
            if (value := getattr(settings, name)) is not None
        }
        if settings.clear_concurrency:
            changes["maximum_concurrency"] = None
        if settings.function_name is not None:
            changes["function_name"] = settings.function_name
            changes["qualifier"] = settings.qualifier
        mapping = replace(current, last_modified=self._clock.now(), **changes)
        config = await self.function_config(scope, mapping.function_name, mapping.qualifier)
        await self._check(mapping, config)
        if mapping.enabled != current.enabled:
            state = MappingState.ENABLING if mapping.enabled else MappingState.DISABLING
        else:
            state = MappingState.UPDATING
        mapping = replace(mapping, state=state)
        await self._save(mapping)
        self._settle_later(mapping)
        return mapping

    async def delete(self, scope: Scope, uuid: str) -> EventSourceMapping:
        current = await self.get(scope, uuid)
        if current.state is MappingState.DELETING:
            return current
        if current.state in BUSY - {MappingState.CREATING}:
            raise ResourceInUseException(
                "Cannot delete the event source mapping because it is in use."
            )  # UNVERIFIED wording
        mapping = replace(current, state=MappingState.DELETING)
        await self._save(mapping)
        self._settle_later(mapping)
        return mapping

    async def record_result(self, mapping: EventSourceMapping, result: str) -> None:
        """Keep LastProcessingResult; written only when it changes."""
        if self._results.get(mapping.uuid, mapping.last_processing_result) == result:
            return
        self._results[mapping.uuid] = result
        doc = await self._storage.get(EVENT_SOURCE_MAPPING, mapping.scope, mapping.uuid)
        if doc is not None:
            doc["last_processing_result"] = result
            await self._storage.write([Put(EVENT_SOURCE_MAPPING, mapping.scope, mapping.uuid, doc)])

    # --- settling ---------------------------------------------------------------------

    async def settle_all(self) -> None:
        """At start-up: finish every transition a stop interrupted."""
        for mapping in await self.everywhere():
            if mapping.state in BUSY or mapping.state is MappingState.DELETING:
                await self._settle(mapping)

    async def close(self) -> None:
        await self._settling.cancel_all()

    def _settle_later(self, mapping: EventSourceMapping) -> None:
        self._settling.spawn(self._settle(mapping, delay=True))

    async def _settle(self, mapping: EventSourceMapping, *, delay: bool = False) -> None:
        if delay and self._settle_delay:
            await asyncio.sleep(self._settle_delay)
        doc = await self._storage.get(EVENT_SOURCE_MAPPING, mapping.scope, mapping.uuid)
        if doc is None:
            return
        current = EventSourceMapping.from_doc(doc)
        if current.state is MappingState.DELETING:
            await self._notify(current)  # the poller stops before the record goes
            await self._storage.write([Delete(EVENT_SOURCE_MAPPING, current.scope, current.uuid)])
            self._results.pop(current.uuid, None)
            return
        settled = replace(current, state=current.settled_state)
        if settled.state is MappingState.DISABLED:
            await self._notify(settled)  # the poller stops before the state says so
            await self._save(settled)
        else:
            await self._save(settled)
            await self._notify(settled)

    async def _save(self, mapping: EventSourceMapping) -> None:
        doc = mapping.to_doc()
        doc["last_processing_result"] = self._results.get(
            mapping.uuid, mapping.last_processing_result
        )
        await self._storage.write([Put(EVENT_SOURCE_MAPPING, mapping.scope, mapping.uuid, doc)])

    async def _notify(self, mapping: EventSourceMapping) -> None:
        for listener in self.on_change:
            await listener(mapping)

    # --- validation -------------------------------------------------------------------

    async def function_config(
        self, scope: Scope, name: str, qualifier: str | None
    ) -> FunctionConfig:
        missing = InvalidParameterValueException("Function does not exist")
        function = await self._functions.find(scope, name)
        if function is None:
            raise missing
        if qualifier is None or qualifier == LATEST:
            return function.latest
        version = qualifier
        if not qualifier.isdigit():
            alias = await self._aliases.find(scope, name, qualifier)
            if alias is None:
                raise missing
            version = alias.function_version
            if version == LATEST:
                return function.latest
        try:
            return await self._functions.get_version(scope, name, version)
        except ResourceNotFoundException as exc:
            raise missing from exc

    async def _check(self, mapping: EventSourceMapping, config: FunctionConfig) -> None:
        try:
            attributes = await self._queue_attributes(mapping.event_source_arn)
        except AwsError as exc:
            raise InvalidParameterValueException(
                "Error occurred while ReceiveMessage. SQS Error Code:"
                " AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified"
                " queue does not exist."
            ) from exc
        fifo = attributes.get("FifoQueue") == "true"
        if fifo and mapping.batch_size > MAX_SQS_FIFO_BATCH_SIZE:
            raise InvalidParameterValueException(
                "Batch size for SQS FIFO queues must be less than or equal to 10."
            )  # UNVERIFIED wording
        if mapping.batch_size > MAX_BATCH_WITHOUT_WINDOW and not mapping.maximum_batching_window:
            raise InvalidParameterValueException(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is"
                " greater than 10"
            )
        visibility = int(attributes.get("VisibilityTimeout", "30"))
        if visibility < config.timeout:
            raise InvalidParameterValueException(
                f"Queue visibility timeout: {visibility} seconds is less than Function timeout:"
                f" {config.timeout} seconds"
            )


def _same_target(a: EventSourceMapping, b: EventSourceMapping) -> bool:
    return (
        a.event_source_arn == b.event_source_arn
        and a.function_name == b.function_name
        and (a.qualifier or LATEST) == (b.qualifier or LATEST)
    )
