"""Lambda's event-filtering pattern language, and the batchItemFailures rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lamina.engine.pollers.batch_result import partial_result
from lamina.engine.pollers.filter_patterns import FilterSet, InvalidPatternError
from lamina.engine.pollers.sqs_records import filter_view


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return FilterSet.parse([json.dumps(pattern)]).matches(event)


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ({"a": ["x"]}, {"a": "x"}, True),
        ({"a": ["x"]}, {"a": "y"}, False),
        ({"a": ["x"]}, {}, False),
        ({"a": [5]}, {"a": 5.0}, True),
        ({"a": ["5"]}, {"a": 5}, False),
        ({"a": [None]}, {"a": None}, True),
        ({"a": [True]}, {"a": True}, True),
        ({"a": [True]}, {"a": 1}, False),
        ({"a": ["x"]}, {"a": ["y", "x"]}, True),
        ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
        ({"a": {"b": ["x"]}}, {"a": "x"}, False),
        ({"a": [{"prefix": "ab"}]}, {"a": "abc"}, True),
        ({"a": [{"prefix": {"equals-ignore-case": "AB"}}]}, {"a": "abc"}, True),
        ({"a": [{"suffix": ".png"}]}, {"a": "x.png"}, True),
        ({"a": [{"suffix": ".png"}]}, {"a": "x.jpg"}, False),
        ({"a": [{"equals-ignore-case": "HeLLo"}]}, {"a": "hello"}, True),
        ({"a": [{"wildcard": "*.png"}]}, {"a": "dir/x.png"}, True),
        ({"a": [{"anything-but": "x"}]}, {"a": "y"}, True),
        ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "y"}, False),
        ({"a": [{"anything-but": {"prefix": "in"}}]}, {"a": "out"}, True),
        ({"a": [{"anything-but": {"prefix": "in"}}]}, {"a": "init"}, False),
        ({"a": [{"anything-but": 5}]}, {"a": 6}, True),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 5}, True),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 0}, False),
        ({"a": [{"numeric": ["=", 3]}]}, {"a": 3.0}, True),
        ({"a": [{"numeric": [">", 3]}]}, {"a": "4"}, False),
        ({"a": [{"exists": True}]}, {"a": "anything"}, True),
        ({"a": [{"exists": True}]}, {}, False),
        ({"a": [{"exists": False}]}, {}, True),
        ({"a": [{"exists": False}]}, {"a": 1}, False),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.7"}, True),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.1.7"}, False),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": "2"}, True),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"c": "3"}, False),
        ({"a": ["x"], "b": ["y"]}, {"a": "x", "b": "z"}, False),
    ],
)
def test_matchers(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, event) is expected


def test_filters_are_ored_and_empty_set_passes_everything() -> None:
    filters = FilterSet.parse(['{"a": ["1"]}', '{"a": ["2"]}'])
    assert filters.matches({"a": "2"}) and not filters.matches({"a": "3"})
    assert FilterSet.parse([]).matches({"anything": 1})


@pytest.mark.parametrize(
    "source",
    [
        "not json",
        "[]",
        '{"a": "x"}',
        '{"a": []}',
        '{"a": [{"prefix": 1}]}',
        '{"a": [{"unknown": "x"}]}',
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        '{"a": [{"numeric": [">", "x"]}]}',
        '{"a": [{"numeric": ["<", 5, ">", 1]}]}',
        '{"a": [{"exists": "yes"}]}',
        '{"a": [{"cidr": "not-an-ip"}]}',
        '{"$or": [{"a": ["1"]}]}',
        json.dumps({"a": ["x" * 5000]}),
    ],
)
def test_invalid_patterns(source: str) -> None:
    with pytest.raises(InvalidPatternError):
        FilterSet.parse([source])


def test_at_most_five_filters() -> None:
    with pytest.raises(InvalidPatternError):
        FilterSet.parse(['{"a": ["1"]}'] * 6)


def test_sqs_body_is_matched_as_json_only_when_it_is_json() -> None:
    json_body = filter_view({"body": '{"kind": "keep"}'})
    plain = filter_view({"body": "keep"})
    assert matches({"body": {"kind": ["keep"]}}, json_body)
    assert not matches({"body": {"kind": ["keep"]}}, plain)
    assert matches({"body": ["keep"]}, plain)
    assert not matches({"body": ["keep"]}, json_body)


IDS = {"m1", "m2"}


@pytest.mark.parametrize(
    ("payload", "failed"),
    [
        (b"", frozenset()),
        (b"null", frozenset()),
        (b"{}", frozenset()),
        (b'{"batchItemFailures": []}', frozenset()),
        (b'{"batchItemFailures": null}', frozenset()),
        (b'{"batchItemFailures": [{"itemIdentifier": "m2"}]}', frozenset({"m2"})),
        (b"not json", None),
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": null}]}', None),
        (b'{"batchItemFailures": [{"foo": "notvalid"}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": "elsewhere"}]}', None),
        (b'{"batchItemFailures": "m1"}', None),
    ],
)
def test_batch_item_failures(payload: bytes, failed: frozenset[str] | None) -> None:
    assert partial_result(payload, IDS).failed == failed
