"""CloudWatch Logs filter patterns: the basics, compiled to a predicate over a message.

Supported: the empty pattern (everything); terms and ``"quoted phrases"`` that must all occur
(case-sensitive substrings); ``-term`` exclusions; ``?term`` alternatives (any one suffices);
and JSON patterns ``{ $.level = "ERROR" && $.count > 3 }`` with ``= != < > <= >=``, ``||``,
``&&``, parentheses, ``*`` wildcards in strings, ``IS NULL|TRUE|FALSE`` and ``NOT EXISTS``.
Space-delimited (``[a, b]``) and regex (``%...%``) patterns are refused as invalid.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

from lamina.services.logs.errors import InvalidParameterException

Predicate = Callable[[str], bool]

_JSON_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))'
    r"|(?P<sel>\$(?:\.[A-Za-z0-9_-]+|\[\d+\]|\.\*)*)|(?P<word>[^\s()&|=!<>\"]+))"
)
_MISSING = object()


def invalid() -> InvalidParameterException:
    return InvalidParameterException("Invalid filter pattern")


def compile_pattern(pattern: str | None) -> Predicate:
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise invalid()
        return _JsonPattern(text[1:-1]).compile()
    if text.startswith("[") or text.startswith("%"):
        raise invalid()
    return _terms(text)


def _terms(text: str) -> Predicate:
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        raise invalid() from None
    required = [w for w in words if not w.startswith(("-", "?"))]
    excluded = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
    optional = [w[1:] for w in words if w.startswith("?") and len(w) > 1]

    def match(message: str) -> bool:
        if any(term in message for term in excluded):
            return False
        if optional and not any(term in message for term in optional):
            return False
        return all(term in message for term in required)

    return match


class _JsonPattern:
    def __init__(self, body: str) -> None:
        self._tokens: list[tuple[str, str]] = []
        position = 0
        body = body.strip()
        while position < len(body):
            found = _JSON_TOKEN.match(body, position)
            if found is None or found.end() == position:
                raise invalid()
            kind = found.lastgroup or ""
            self._tokens.append((kind, found.group(kind)))
            position = found.end()
            while position < len(body) and body[position].isspace():
                position += 1
        self._at = 0

    def compile(self) -> Predicate:
        test = self._or()
        if self._at != len(self._tokens):
            raise invalid()

        def match(message: str) -> bool:
            try:
                document = json.loads(message)
            except ValueError:
                return False
            return isinstance(document, dict | list) and test(document)

        return match

    def _peek(self) -> tuple[str, str] | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise invalid()
        self._at += 1
        return token

    def _or(self) -> Callable[[Any], bool]:
        parts = [self._and()]
        while self._peek() == ("op", "||"):
            self._take()
            parts.append(self._and())
        return lambda doc: any(part(doc) for part in parts)

    def _and(self) -> Callable[[Any], bool]:
        parts = [self._atom()]
        while self._peek() == ("op", "&&"):
            self._take()
            parts.append(self._atom())
        return lambda doc: all(part(doc) for part in parts)

    def _atom(self) -> Callable[[Any], bool]:
        kind, value = self._take()
        if (kind, value) == ("op", "("):
            inner = self._or()
            if self._take() != ("op", ")"):
                raise invalid()
            return inner
        if kind != "sel":
            raise invalid()
        path = re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]", value)
        kind, op = self._take()
        if kind == "word" and op.upper() == "IS":
            expected = self._take()[1].upper()
            wanted = {"NULL": None, "TRUE": True, "FALSE": False}
            if expected not in wanted:
                raise invalid()
            return lambda doc: _select(doc, path) is wanted[expected]
        if kind == "word" and op.upper() == "NOT":
            if self._take()[1].upper() != "EXISTS":
                raise invalid()
            return lambda doc: _select(doc, path) is _MISSING
        if kind != "op" or op not in ("=", "!=", "<", ">", "<=", ">="):
            raise invalid()
        return _comparison(path, op, self._take())


def _select(doc: Any, path: list[tuple[str, str]]) -> Any:
    node = doc
    for key, index in path:
        if key and isinstance(node, dict) and key in node:
            node = node[key]
        elif index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            return _MISSING
    return node


def _comparison(
    path: list[tuple[str, str]], op: str, operand: tuple[str, str]
) -> Callable[[Any], bool]:
    kind, raw = operand
    if kind == "str":
        text = json.loads(raw)
        if op not in ("=", "!="):
            raise invalid()
        regex = re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)

        def strings(doc: Any) -> bool:
            value = _select(doc, path)
            if value is _MISSING or isinstance(value, dict | list):
                return False
            shown = value if isinstance(value, str) else json.dumps(value)
            return (regex.fullmatch(shown) is not None) == (op == "=")

        return strings
    if kind != "word":
        raise invalid()
    try:
        number = float(raw)
    except ValueError:
        regex = re.compile(".*".join(re.escape(part) for part in raw.split("*")), re.DOTALL)
        if op not in ("=", "!="):
            raise invalid() from None
        return lambda doc: (
            isinstance(value := _select(doc, path), str)
            and ((regex.fullmatch(value) is not None) == (op == "="))
        )
    compare: dict[str, Callable[[float, float], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }

    def numbers(doc: Any) -> bool:
        value = _select(doc, path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return compare[op](float(value), number)

    return numbers
