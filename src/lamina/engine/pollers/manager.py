"""Runs a poller for every enabled mapping, and follows mappings as their state changes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from lamina.engine.admission import LocalAdmission
from lamina.engine.invoke import Invoker
from lamina.engine.pollers.sqs_poller import SqsPoller
from lamina.lambda_.event_source_mappings import (
    EventSourceMapping,
    EventSourceMappingService,
    MappingState,
)
from lamina.services.sqs import SqsService

log = logging.getLogger("lamina.pollers")

_TRANSITIONAL = frozenset({MappingState.CREATING, MappingState.ENABLING, MappingState.UPDATING})


class PollerManager:
    def __init__(
        self,
        mappings: EventSourceMappingService,
        sqs: SqsService,
        invoker: Invoker,
        admission: LocalAdmission,
    ) -> None:
        self._mappings = mappings
        self._sqs = sqs
        self._invoker = invoker
        self._admission = admission
        self._pollers: dict[str, SqsPoller] = {}
        self._lock = asyncio.Lock()
        self._closed = False
        mappings.on_change.append(self.apply)

    async def start(self) -> None:
        """At start-up, after the mappings settled: a poller for every enabled one."""
        await self._mappings.settle_all()
        for mapping in await self._mappings.everywhere():
            await self.apply(mapping)

    async def close(self) -> None:
        self._closed = True
        pollers, self._pollers = list(self._pollers.values()), {}
        await asyncio.gather(*(p.close() for p in pollers), return_exceptions=True)

    async def apply(self, mapping: EventSourceMapping) -> None:
        """Start, restart (new settings) or stop the mapping's poller to match its state."""
        async with self._lock:
            if self._closed or mapping.state in _TRANSITIONAL:
                return
            current = self._pollers.get(mapping.uuid)
            if mapping.state is MappingState.ENABLED:
                if current is not None and _settings(current.mapping) == _settings(mapping):
                    return
                if current is not None:
                    await current.stop()
                poller = SqsPoller(
                    mapping, self._sqs, self._invoker, self._admission, self._mappings.record_result
                )
                self._pollers[mapping.uuid] = poller
                poller.start()
                log.info("polling %s for %s", mapping.event_source_arn, mapping.function_name)
                return
            if current is not None:
                del self._pollers[mapping.uuid]
                await current.stop()


def _settings(mapping: EventSourceMapping) -> EventSourceMapping:
    """The mapping without what does not change how it polls."""
    return replace(mapping, last_modified=0.0, last_processing_result=None)
