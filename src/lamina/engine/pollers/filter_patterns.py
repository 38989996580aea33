"""Lambda's event-filtering pattern language (the EventBridge pattern syntax).

A pattern is a JSON object whose leaves are lists of matchers; an event matches when every
key of the pattern matches (a list matches when any of its matchers does, and an event array
matches when any of its elements does). ``$or`` takes a list of patterns. Matchers: literal
strings, numbers, booleans and null; ``prefix``, ``suffix``, ``equals-ignore-case``,
``wildcard``, ``anything-but`` (a value, a list, a prefix or a suffix), ``numeric`` ranges,
``exists`` and ``cidr``. Up to five filters per mapping are OR-ed.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lamina.errors import InvalidParameterValueException

MAX_PATTERN_CHARS = 4096
MAX_FILTERS = 5
INVALID = "Invalid filter pattern definition."
_MISSING = object()
_OPERATORS = {"<", "<=", "=", ">", ">="}


class InvalidPatternError(ValueError):
    """A pattern that Lambda would refuse."""


def invalid_filter() -> InvalidParameterValueException:
    return InvalidParameterValueException(INVALID)


@dataclass(frozen=True, slots=True)
class FilterSet:
    """The compiled filters of one mapping; an empty set lets everything through."""

    patterns: tuple[dict[str, Any], ...] = ()

    @classmethod
    def parse(cls, sources: Sequence[str]) -> FilterSet:
        if len(sources) > MAX_FILTERS:
            raise InvalidPatternError("too many filters")
        patterns = []
        for source in sources:
            if len(source) > MAX_PATTERN_CHARS:
                raise InvalidPatternError("pattern too long")
            try:
                pattern = json.loads(source)
            except ValueError as exc:
                raise InvalidPatternError("not JSON") from exc
            _check_pattern(pattern)
            patterns.append(pattern)
        return cls(tuple(patterns))

    def matches(self, event: dict[str, Any]) -> bool:
        return not self.patterns or any(_match_object(p, event) for p in self.patterns)


def check_filters(sources: Sequence[str]) -> None:
    """Raise Lambda's error for patterns it would refuse."""
    try:
        FilterSet.parse(sources)
    except InvalidPatternError as exc:
        raise invalid_filter() from exc


# --- validation ---------------------------------------------------------------------------


def _check_pattern(pattern: Any) -> None:
    if not isinstance(pattern, dict):
        raise InvalidPatternError("a pattern is an object")
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise InvalidPatternError("$or takes a list of patterns")
            for option in value:
                _check_pattern(option)
        elif isinstance(value, dict):
            if not value:
                raise InvalidPatternError("empty object")
            _check_pattern(value)
        elif isinstance(value, list):
            if not value:
                raise InvalidPatternError("empty matcher list")
            for matcher in value:
                _check_matcher(matcher)
        else:
            raise InvalidPatternError("a leaf is a list of matchers")


def _check_matcher(matcher: Any) -> None:
    if matcher is None or isinstance(matcher, (str, bool, int, float)):
        return
    if not isinstance(matcher, dict) or len(matcher) != 1:
        raise InvalidPatternError("a matcher object has exactly one key")
    ((name, operand),) = matcher.items()
    if name in ("prefix", "suffix"):
        if isinstance(operand, dict) and set(operand) == {"equals-ignore-case"}:
            operand = operand["equals-ignore-case"]
        _need(isinstance(operand, str))
    elif name in ("equals-ignore-case", "wildcard"):
        _need(isinstance(operand, str))
    elif name == "exists":
        _need(isinstance(operand, bool))
    elif name == "numeric":
        _numeric_ranges(operand)
    elif name == "cidr":
        _need(isinstance(operand, str))
        try:
            ipaddress.ip_network(operand, strict=False)
        except ValueError as exc:
            raise InvalidPatternError("bad cidr") from exc
    elif name == "anything-but":
        if isinstance(operand, dict):
            _need(len(operand) == 1 and next(iter(operand)) in ("prefix", "suffix"))
            _need(isinstance(next(iter(operand.values())), str))
        elif isinstance(operand, list):
            _need(bool(operand) and all(isinstance(v, (str, int, float)) for v in operand))
        else:
            _need(isinstance(operand, (str, int, float)) and not isinstance(operand, bool))
    else:
        raise InvalidPatternError(f"unknown matcher {name}")


def _need(condition: bool) -> None:
    if not condition:
        raise InvalidPatternError("bad matcher operand")


def _numeric_ranges(operand: Any) -> list[tuple[str, float]]:
    _need(isinstance(operand, list) and len(operand) in (2, 4))
    pairs = []
    for index in range(0, len(operand), 2):
        op, value = operand[index], operand[index + 1]
        _need(op in _OPERATORS and _is_number(value))
        pairs.append((op, float(value)))
    if len(pairs) == 2:
        _need(pairs[0][0] in (">", ">=") and pairs[1][0] in ("<", "<="))
        _need(pairs[0][1] < pairs[1][1])
    return pairs


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- matching -----------------------------------------------------------------------------


def _match_object(pattern: dict[str, Any], event: Any) -> bool:
    for key, wanted in pattern.items():
        if key == "$or":
            if not any(_match_object(option, event) for option in wanted):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(wanted, dict):
            candidates = value if isinstance(value, list) else [value]
            if not any(isinstance(c, dict) and _match_object(wanted, c) for c in candidates):
                return False
        elif not _match_leaf(wanted, value):
            return False
    return True


def _match_leaf(matchers: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(m, dict) and m.get("exists") is False for m in matchers)
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        values = []
    for matcher in matchers:
        if isinstance(matcher, dict) and "exists" in matcher:
            if matcher["exists"] and not isinstance(value, dict):
                return True
            continue
        if any(_match_one(matcher, v) for v in values):
            return True
    return False


def _match_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return _equal(matcher, value)
    ((name, operand),) = matcher.items()
    if name == "anything-but":
        return _anything_but(operand, value)
    if name == "numeric":
        return _is_number(value) and all(
            _compare(float(value), op, bound) for op, bound in _numeric_ranges(operand)
        )
    if not isinstance(value, str):
        return False
    if name in ("prefix", "suffix"):
        fold = isinstance(operand, dict)
        text = operand["equals-ignore-case"] if fold else operand
        subject, text = (value.lower(), text.lower()) if fold else (value, text)
        return subject.startswith(text) if name == "prefix" else subject.endswith(text)
    if name == "equals-ignore-case":
        return bool(value.lower() == operand.lower())
    if name == "wildcard":
        regex = ".*".join(re.escape(part) for part in operand.split("*"))
        return re.fullmatch(regex, value, re.DOTALL) is not None
    if name == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(operand, strict=False)
        except ValueError:
            return False
    return False


def _anything_but(operand: Any, value: Any) -> bool:
    if isinstance(operand, dict):
        ((name, text),) = operand.items()
        if not isinstance(value, str):
            return False
        return not (value.startswith(text) if name == "prefix" else value.endswith(text))
    excluded = operand if isinstance(operand, list) else [operand]
    if value is None or isinstance(value, (dict, bool)):
        return False
    return not any(_equal(e, value) for e in excluded)


def _equal(wanted: Any, value: Any) -> bool:
    if _is_number(wanted) and _is_number(value):
        return float(wanted) == float(value)
    if isinstance(wanted, bool) or isinstance(value, bool):
        return wanted is value
    return bool(wanted == value) and type(wanted) is type(value)


def _compare(value: float, op: str, bound: float) -> bool:
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == "=":
        return value == bound
    if op == ">":
        return value > bound
    return value >= bound
