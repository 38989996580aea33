"""A real function library: Powertools for AWS Lambda's batch processor, unmodified, in the
function's zip, reports partial failures; only the failed messages come back."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator

import pytest

from tests.contract.test_async import drain
from tests.contract.test_event_source_mappings import new_queue
from tests.e2e.test_esm_sqs import counts, with_dlq
from tests.support.functions import create
from tests.support.server import LiveServer

HANDLER = """
import os
import boto3
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor, EventType, process_partial_response)

processor = BatchProcessor(event_type=EventType.SQS)
sqs = boto3.client("sqs")

def record_handler(record):
    if record.body.startswith("fail"):
        raise ValueError(f"cannot process {record.body}")
    sqs.send_message(QueueUrl=os.environ["OUT"], MessageBody=record.body)

def handler(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context)
"""


@pytest.fixture(scope="module")
def powertools_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    target = tmp_path_factory.mktemp("powertools")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target",
         str(target), "aws-lambda-powertools"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", HANDLER)
        for path in sorted(target.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.parts[-2] != "bin":
                archive.write(path, str(path.relative_to(target)))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("powertools-server") / "data")
    yield server.start()
    server.stop()


def test_powertools_batch_processor_reports_partial_failures(
    live: LiveServer, powertools_zip: bytes
) -> None:
    c, sqs = live.client(), live.client("sqs")
    out_url, _ = new_queue(sqs)
    url, arn, dlq_url = with_dlq(sqs)
    name = str(
        create(
            c,
            Code={"ZipFile": powertools_zip},
            Environment={"Variables": {"OUT": out_url}},
            Timeout=2,
            MemorySize=256,
        )["FunctionName"]
    )
    bodies = ["ok-1", "fail-1", "ok-2", "ok-3", "fail-2"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )
    uuid = c.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, FunctionResponseTypes=["ReportBatchItemFailures"]
    )["UUID"]
    dead = drain(sqs, dlq_url, 2, timeout=20)
    assert sorted(m["Body"] for m in dead) == ["fail-1", "fail-2"]
    processed = drain(sqs, out_url, 3, timeout=5)
    processed += drain(sqs, out_url, 1, timeout=0.5)
    assert sorted(m["Body"] for m in processed) == ["ok-1", "ok-2", "ok-3"]
    assert counts(sqs, url) == (0, 0)
    c.delete_event_source_mapping(UUID=uuid)


def test_zip_is_pure_python(powertools_zip: bytes) -> None:
    names = zipfile.ZipFile(io.BytesIO(powertools_zip)).namelist()
    assert "aws_lambda_powertools/__init__.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    assert "handler.py" in names
