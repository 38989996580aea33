"""LoggingConfig: JSON format, application and system log levels, custom log groups."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.support.functions import create, zip_of
from tests.support.server import LiveServer

HANDLER = """
import logging
logger = logging.getLogger()

def handler(event, context):
    logger.debug("a debug line")
    logger.info("an info line")
    logger.warning("a warning line")
    return "ok"
"""


def events(server: LiveServer, group: str, count: int) -> list[str]:
    logs = server.client("logs")
    deadline = time.monotonic() + 10
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        except logs.exceptions.ResourceNotFoundException:
            messages = []
        if len(messages) >= count:
            break
        time.sleep(0.2)
    return messages


def run(server: LiveServer, **config: Any) -> str:
    client = server.client()
    name = str(
        create(client, Code={"ZipFile": zip_of({"handler.py": HANDLER})}, LoggingConfig=config)[
            "FunctionName"
        ]
    )
    client.invoke(FunctionName=name, Payload=b"{}")
    return name


def test_json_format_with_levels(server: LiveServer) -> None:
    name = run(server, LogFormat="JSON", ApplicationLogLevel="WARN", SystemLogLevel="INFO")
    messages = events(server, f"/aws/lambda/{name}", 4)
    records = [json.loads(m) for m in messages]
    application = [r for r in records if "level" in r]
    assert [r["message"] for r in application] == ["a warning line"]
    # The Python runtime prints the logging module's level name, as awslambdaric does.
    assert application[0]["level"] == "WARNING" and application[0]["requestId"]
    types = {r.get("type") for r in records}
    assert {"platform.start", "platform.report"} <= types


def test_system_log_level_warn_drops_platform_records(server: LiveServer) -> None:
    name = run(server, LogFormat="JSON", ApplicationLogLevel="INFO", SystemLogLevel="WARN")
    messages = events(server, f"/aws/lambda/{name}", 2)
    records = [json.loads(m) for m in messages]
    assert [r["message"] for r in records if "level" in r] == ["an info line", "a warning line"]
    assert not [r for r in records if str(r.get("type", "")).startswith("platform.")]


def test_custom_log_group(server: LiveServer) -> None:
    name = run(server, LogGroup="/custom/group")
    messages = events(server, "/custom/group", 3)
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any("a warning line" in m for m in messages)
    assert name
