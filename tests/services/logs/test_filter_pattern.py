from __future__ import annotations

import json
import logging

import pytest

from lamina.services.logs.errors import InvalidParameterException
from lamina.services.logs.filter_pattern import compile_pattern
from lamina.services.logs.server_logging import REQUEST_ID, RequestIdFilter, ServerFormatter


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ("ERROR", "[ERROR] x", True),
        ("ERROR", "[error] x", False),
        ('"Task timed out"', "2024 Task timed out after 3.00 seconds", True),
        ("ERROR -retry", "ERROR will retry", False),
        ("?a1 ?b2", "has b2", True),
        ('{ $.level = "ERROR" }', json.dumps({"level": "ERROR"}), True),
        ('{ $.level = "ERR*" }', json.dumps({"level": "ERROR"}), True),
        ('{ $.level != "ERROR" }', json.dumps({"level": "INFO"}), True),
        ("{ $.a.b[1] >= 2 }", json.dumps({"a": {"b": [0, 2]}}), True),
        ("{ ($.x = 1 || $.y = 2) && $.z IS TRUE }", json.dumps({"y": 2, "z": True}), True),
        ("{ $.missing NOT EXISTS }", json.dumps({"x": 1}), True),
        ('{ $.level = "ERROR" }', "not json", False),
    ],
)
def test_patterns(pattern: str, message: str, expected: bool) -> None:
    assert compile_pattern(pattern)(message) is expected


@pytest.mark.parametrize("pattern", ["{ $.a = }", "{ $.a = 1", '"unclosed', "[a, b]"])
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(InvalidParameterException):
        compile_pattern(pattern)


def test_server_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("lamina.gateway", logging.INFO, __file__, 1, "hello", None, None)
    token = REQUEST_ID.set("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = ServerFormatter().format(record)
    assert line.endswith(" INFO lamina.gateway request_id=req-1 hello")
    assert line[:4].isdigit() and line.split(" ")[0].endswith("Z")
