"""The queues: their records (cached in memory, written through to the store) and lookups."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from urllib.parse import urlsplit

from lamina.clock import Clock
from lamina.services.sqs import attributes as queue_attributes
from lamina.services.sqs.errors import QueueDoesNotExist, QueueNameExists
from lamina.services.sqs.models import Queue, QueueAttribute
from lamina.services.sqs.store import SqsStore

_Key = tuple[str, str, str]  # account, region, name


class QueueCatalog:
    def __init__(self, store: SqsStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._queues: dict[_Key, Queue] = {}
        self._loaded: asyncio.Future[None] | None = None

    async def ready(self) -> None:
        """Load the queues once (every public coroutine of the service awaits this first)."""
        if self._loaded is None:
            self._loaded = asyncio.get_running_loop().create_future()
            try:
                for queue in await self._store.load_queues():
                    self._queues[(queue.account, queue.region, queue.name)] = queue
            except BaseException as exc:
                self._loaded.set_exception(exc)
                self._loaded.exception()  # retrieved: callers see it raised below
                self._loaded = None
                raise
            self._loaded.set_result(None)
        await self._loaded

    # --- lookups ------------------------------------------------------------------------

    def find(self, account: str, region: str, name: str) -> Queue | None:
        queue = self._queues.get((account, region, name))
        if queue is None:
            # A URL carries no region: any region of the account will do when unambiguous.
            queue = next(
                (q for (a, _, n), q in self._queues.items() if a == account and n == name), None
            )
        return queue

    def find_arn(self, arn: str) -> Queue | None:
        parts = queue_attributes.parse_queue_arn(arn)
        if parts is None:
            return None
        region, account, name = parts
        return self._queues.get((account, region, name))

    def by_id(self, queue_id: int) -> Queue | None:
        return next((q for q in self._queues.values() if q.id == queue_id), None)

    def resolve(self, reference: str, account: str, region: str) -> Queue:
        """A queue by URL (any host), ARN or bare name; QueueDoesNotExist otherwise."""
        if reference.startswith("arn:"):
            queue = self.find_arn(reference)
        else:
            path = urlsplit(reference).path if "://" in reference else reference
            parts = [p for p in path.split("/") if p]
            if len(parts) == 2 and parts[0].isdigit():
                account, name = parts
            elif len(parts) == 1:
                name = parts[0]
            else:
                raise QueueDoesNotExist()
            queue = self._queues.get((account, region, name)) or self.find(account, region, name)
        if queue is None:
            raise QueueDoesNotExist()
        return queue

    def listing(self, account: str, region: str, prefix: str) -> list[Queue]:
        return sorted(
            (
                q
                for (a, r, n), q in self._queues.items()
                if a == account and r == region and n.startswith(prefix)
            ),
            key=lambda q: q.name,
        )

    # --- changes ------------------------------------------------------------------------

    async def create(
        self,
        account: str,
        region: str,
        name: str,
        given: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> Queue:
        fifo = given.get(QueueAttribute.FIFO_QUEUE, "").lower() == "true"
        queue_attributes.check_queue_name(name, fifo or name.endswith(".fifo"))
        if name.endswith(".fifo") and not fifo:
            queue_attributes.check_queue_name(name, False)
        attributes = queue_attributes.checked(given, fifo, self.find_arn)
        existing = self._queues.get((account, region, name))
        if existing is not None:
            differing = queue_attributes.conflict(existing, attributes)
            if differing is not None:
                raise QueueNameExists(
                    "A queue already exists with the same name and a different value for"
                    f" attribute {differing}"
                )
            return existing
        queue = await self._store.insert_queue(
            account,
            region,
            name,
            queue_attributes.effective(attributes, fifo),
            dict(tags),
            self._clock.now(),
        )
        self._queues[(account, region, name)] = queue
        return queue

    async def set_attributes(self, queue: Queue, given: Mapping[str, str]) -> Queue:
        attributes = queue_attributes.checked(given, queue.fifo, self.find_arn)
        merged = {**queue.attributes, **attributes}
        return await self._save(dataclasses.replace(queue, attributes=merged))

    async def tag(self, queue: Queue, tags: Mapping[str, str]) -> Queue:
        return await self._save(dataclasses.replace(queue, tags={**queue.tags, **tags}))

    async def untag(self, queue: Queue, keys: list[str]) -> Queue:
        remaining = {k: v for k, v in queue.tags.items() if k not in keys}
        return await self._save(dataclasses.replace(queue, tags=remaining))

    async def delete(self, queue: Queue) -> None:
        await self._store.delete_queue(queue.id)
        self._queues.pop((queue.account, queue.region, queue.name), None)

    async def _save(self, queue: Queue) -> Queue:
        queue = dataclasses.replace(queue, modified=self._clock.now())
        await self._store.update_queue(queue)
        self._queues[(queue.account, queue.region, queue.name)] = queue
        return queue
