"""The internal API Lambda's side uses, in-process over real SQLite storage and a fake clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from lamina.clock import Clock
from lamina.services.sqs import SqsService, build_sqs_service
from lamina.storage import SqliteStorage


class SteppedClock(Clock):
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset


def run(tmp_path: Path, body: Callable[[SqsService, SteppedClock], Awaitable[None]]) -> None:
    async def main() -> None:
        storage = SqliteStorage(tmp_path / "lamina.db")
        await storage.open()
        clock = SteppedClock()
        service = build_sqs_service(
            storage, clock, default_region="us-east-1", default_account="000000000000"
        )
        try:
            await body(service, clock)
        finally:
            await storage.close()

    asyncio.run(main())


ARN = "arn:aws:sqs:us-east-1:000000000000:{}"


def test_send_receive_delete_and_attributes(tmp_path: Path) -> None:
    async def body(service: SqsService, clock: SteppedClock) -> None:
        await service.catalog.ready()
        await service.catalog.create("000000000000", "us-east-1", "events", {}, {})
        message_id = await service.send(
            ARN.format("events"),
            "payload",
            {"RequestID": {"DataType": "String", "StringValue": "r-1"}},
            {"AWSTraceHeader": "Root=1-x"},
        )
        [got] = await service.receive(ARN.format("events"), 10, visibility_timeout=5)
        assert got.message_id == message_id
        assert got.attributes["RequestID"].string_value == "r-1"
        assert got.system_attributes["AWSTraceHeader"] == "Root=1-x"
        assert (await service.attributes(ARN.format("events")))[
            "ApproximateNumberOfMessagesNotVisible"
        ] == "1"
        assert await service.change_visibility(ARN.format("events"), [got.receipt_handle], 0) == []
        [again] = await service.receive(ARN.format("events"))
        assert again.system_attributes["ApproximateReceiveCount"] == "2"
        assert await service.delete(ARN.format("events"), [got.receipt_handle]) == []
        assert await service.delete(ARN.format("events"), [again.receipt_handle, "junk"]) == [
            "junk"
        ]
        assert await service.receive(ARN.format("events")) == []

    run(tmp_path, body)


def test_long_poll_wakes_on_internal_send_and_redrive_applies(tmp_path: Path) -> None:
    async def body(service: SqsService, clock: SteppedClock) -> None:
        await service.catalog.ready()
        await service.catalog.create("000000000000", "us-east-1", "dlq", {}, {})
        policy = json.dumps({"deadLetterTargetArn": ARN.format("dlq"), "maxReceiveCount": 1})
        await service.catalog.create(
            "000000000000", "us-east-1", "src", {"RedrivePolicy": policy}, {}
        )
        waiting = asyncio.create_task(service.receive(ARN.format("src"), 1, 0, wait_seconds=10))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await service.send(ARN.format("src"), "x")
        [first] = await asyncio.wait_for(waiting, 2)
        assert first.body == "x"
        assert await service.receive(ARN.format("src")) == []  # moved on this receive
        [moved] = await service.receive(ARN.format("dlq"), wait_seconds=1)
        assert moved.message_id == first.message_id

    run(tmp_path, body)


def test_retention_expires_old_messages(tmp_path: Path) -> None:
    async def body(service: SqsService, clock: SteppedClock) -> None:
        await service.catalog.ready()
        await service.catalog.create(
            "000000000000", "us-east-1", "short", {"MessageRetentionPeriod": "60"}, {}
        )
        await service.send(ARN.format("short"), "old")
        clock.offset = 61
        await service.send(ARN.format("short"), "new")
        attributes = await service.attributes(ARN.format("short"))
        assert attributes["ApproximateNumberOfMessages"] == "1"
        assert [m.body for m in await service.receive(ARN.format("short"))] == ["new"]

    run(tmp_path, body)


def test_fifo_through_internal_api(tmp_path: Path) -> None:
    async def body(service: SqsService, clock: SteppedClock) -> None:
        await service.catalog.ready()
        await service.catalog.create(
            "000000000000",
            "us-east-1",
            "jobs.fifo",
            {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
            {},
        )
        arn = ARN.format("jobs.fifo")
        for body_text in ("1", "2", "1"):
            await service.send(arn, body_text, group_id="g")
        [first] = await service.receive(arn, 1)
        assert first.body == "1"
        assert await service.receive(arn) == []  # group g blocked while 1 is in flight
        await service.delete(arn, [first.receipt_handle])
        assert [m.body for m in await service.receive(arn)] == ["2"]

    run(tmp_path, body)
