"""Compare live responses with responses recorded on real AWS, placeholders masked.

The recordings (tests/contract/recorded/, Apache-2.0, see LICENSE.txt there) replace
volatile values with tokens such as ``<uuid:1>``, ``<function-name:1>`` or ``date`` and use
account 111111111111. A token matches any non-empty value; everything else must be equal,
and both sides must have exactly the same keys, with one allowance: AWS sends the error
body's ``"Type": "User"`` for most errors but not all, and Lamina always sends it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

RECORDINGS = (
    Path(__file__).parent.parent / "contract" / "recorded" / "test_lambda_api.snapshot.json"
)
PREFIX = "tests/aws/services/lambda_/test_lambda_api.py::"
_TOKEN = re.compile(r"<[^<>]+>")


@cache
def _all() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDINGS.read_text())
    return data


def recorded(test_id: str) -> dict[str, Any]:
    """The recorded content of one scenario, e.g. 'TestLambdaFunction::test_function_lifecycle'."""
    content: dict[str, Any] = _all()[PREFIX + test_id]["recorded-content"]
    return content


def assert_matches(actual: Any, expected: Any, path: str = "$") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        expected = {k: v for k, v in expected.items() if k != "ResponseMetadata"}
        actual_keys = {k: v for k, v in actual.items() if k != "ResponseMetadata"}
        if "Error" in actual_keys and "Type" not in expected and actual_keys.get("Type") == "User":
            del actual_keys["Type"]
        assert set(actual_keys) == set(expected), (
            f"{path}: keys differ: missing {sorted(set(expected) - set(actual_keys))},"
            f" extra {sorted(set(actual_keys) - set(expected))}"
        )
        for key, value in expected.items():
            assert_matches(actual_keys[key], value, f"{path}.{key}")
        return
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{path}: expected {len(expected)} items, got {actual!r}"
        )
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, f"{path}[{index}]")
        return
    if isinstance(expected, str) and (expected in ("date", "datetime") or _TOKEN.search(expected)):
        text = actual if isinstance(actual, str) else json.dumps(actual, default=str)
        assert _pattern(expected).fullmatch(text), f"{path}: {actual!r} does not match {expected!r}"
        return
    assert actual == expected, f"{path}: {actual!r} != {expected!r}"


@cache
def _pattern(expected: str) -> re.Pattern[str]:
    if expected in ("date", "datetime"):
        return re.compile(r".+")
    parts = _TOKEN.split(expected)
    tokens = _TOKEN.findall(expected)
    regex = ""
    for index, part in enumerate(parts):
        regex += re.escape(part.replace("111111111111", "000000000000"))
        if index < len(tokens):
            regex += {"<partition>": "aws", "<region>": "us-east-1"}.get(tokens[index], r".+?")
    return re.compile(regex, re.DOTALL)


def status_of(entry: dict[str, Any]) -> int | None:
    metadata = entry.get("ResponseMetadata") or {}
    status: int | None = metadata.get("HTTPStatusCode")
    return status


class Replay:
    """Runs a scenario's calls and checks each result against the recording of the same key."""

    def __init__(self, test_id: str) -> None:
        self.expected = recorded(test_id)
        self.checked: set[str] = set()

    def check(self, key: str, call: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            actual = call()
        except ClientError as error:
            actual = error.response
        expected = self.expected[key]
        if isinstance(expected, dict) and "CreateFunctionResponse" in expected:
            expected = expected["CreateFunctionResponse"]
        assert_matches(actual, expected, key)
        status = status_of(expected) if isinstance(expected, dict) else None
        if status is not None:
            assert actual["ResponseMetadata"]["HTTPStatusCode"] == status, key
        self.checked.add(key)
        return actual

    def assert_complete(self, *, skipped: dict[str, str] | None = None) -> None:
        """Every recorded result was replayed, apart from those skipped with a reason."""
        missing = set(self.expected) - self.checked - set(skipped or {})
        assert not missing, f"recorded results not replayed: {sorted(missing)}"
