"""``lamina logs FUNCTION``: a function's log lines, through the server's own Logs API.

Like ``sam logs``: the function's log group (its LoggingConfig.LogGroup, else
``/aws/lambda/<name>``) is read with FilterLogEvents from ``--since`` ago; ``--follow`` keeps
polling. It talks boto3 to ``--endpoint-url``, so it works against a remote server too.
Error lines are coloured when stdout is a terminal.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from lamina.config import DEFAULT_PORT, DEFAULT_REGION

POLL_INTERVAL = 0.3  # seconds between polls with --follow
_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_UNITS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_ERROR = re.compile(
    r"\bERROR\b|Task timed out|errorType|Traceback|Status: (?:error|timeout)|\[FATAL\]"
)
RED, RESET = "\033[31m", "\033[0m"


@dataclass(frozen=True, slots=True)
class TailOptions:
    function: str
    follow: bool
    since: str
    endpoint_url: str
    region: str


def since_ms(text: str, now: float) -> int:
    """Epoch milliseconds ``text`` ("10m", "2h", "30s", "1d"; bare numbers are minutes) ago."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"invalid --since value {text!r}: use e.g. 30s, 10m, 2h, 1d")
    return int((now - int(found[1]) * _UNITS[found[2]]) * 1000)


def is_error(message: str) -> bool:
    return _ERROR.search(message) is not None


def format_event(event: dict[str, Any], colour: bool) -> str:
    stamp = dt.datetime.fromtimestamp(event["timestamp"] / 1000, dt.UTC)
    text = event["message"].rstrip("\n").replace("\r", "\n")
    line = f"{stamp.isoformat(timespec='milliseconds')[:-6]}Z {event['logStreamName']} {text}"
    return f"{RED}{line}{RESET}" if colour and is_error(text) else line


class LogTail:
    def __init__(self, options: TailOptions, out: TextIO) -> None:
        self._options = options
        self._out = out
        self._colour = out.isatty()
        session = boto3.session.Session()
        credentials: dict[str, str] = {}
        if session.get_credentials() is None:
            credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
        config = BotoConfig(retries={"max_attempts": 2, "mode": "standard"})
        common: dict[str, Any] = {
            "endpoint_url": options.endpoint_url,
            "region_name": options.region,
            "config": config,
            **credentials,
        }
        self._lambda = session.client("lambda", **common)
        self._logs = session.client("logs", **common)

    def log_group(self) -> str:
        try:
            config = self._lambda.get_function_configuration(FunctionName=self._options.function)
        except ClientError:
            config = {}
        group: str | None = (config.get("LoggingConfig") or {}).get("LogGroup")
        name = self._options.function
        if ":function:" in name:  # an ARN: the name follows ":function:"
            name = name.split(":function:")[1]
        return group or f"/aws/lambda/{name.split(':')[0]}"

    def run(self) -> int:
        group = self.log_group()
        start = since_ms(self._options.since, time.time())
        seen: set[str] = set()
        while True:
            try:
                start = self._print_new(group, start, seen)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                if not self._options.follow:
                    print(
                        f"No logs for {self._options.function}: log group {group} does not"
                        " exist yet.",
                        file=sys.stderr,
                    )
                    return 1
            if not self._options.follow:
                return 0
            time.sleep(POLL_INTERVAL)

    def _print_new(self, group: str, start: int, seen: set[str]) -> int:
        """Print events at or after ``start`` not printed yet; the next start."""
        token: str | None = None
        latest = start
        fresh: set[str] = set()
        while True:
            params: dict[str, Any] = {"logGroupName": group, "startTime": start}
            if token:
                params["nextToken"] = token
            page = self._logs.filter_log_events(**params)
            for event in page.get("events", []):
                if event["eventId"] in seen:
                    continue
                self._out.write(format_event(event, self._colour) + "\n")
                if event["timestamp"] > latest:
                    latest, fresh = event["timestamp"], set()
                if event["timestamp"] == latest:
                    fresh.add(event["eventId"])
            token = page.get("nextToken")
            if not token:
                break
        self._out.flush()
        if latest > start:
            seen.clear()
        seen |= fresh  # events at the newest millisecond come back on the next poll
        return latest


def run(
    function: str, *, follow: bool, since: str, endpoint_url: str | None, region: str | None
) -> int:
    options = TailOptions(
        function=function,
        follow=follow,
        since=since,
        endpoint_url=endpoint_url
        or os.environ.get("AWS_ENDPOINT_URL")
        or f"http://127.0.0.1:{DEFAULT_PORT}",
        region=region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
    )
    try:
        since_ms(since, time.time())
        return LogTail(options, sys.stdout).run()
    except KeyboardInterrupt:
        return 0
    except ValueError as exc:
        print(f"lamina logs: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"lamina logs: {exc}", file=sys.stderr)
        return 1
