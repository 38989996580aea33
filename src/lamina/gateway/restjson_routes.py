"""The route table of a rest-json service: request path (+ fixed query) to operation.

Built once from every operation's ``http.method`` and ``http.requestUri``. Rules:

* ``{Name}`` matches one non-empty path segment, ``{Name+}`` (greedy) one or more segments;
  label values are percent-decoded after matching, so ``%2F`` inside a plain label is data.
* When several templates match, the one with a literal segment where the other has a label
  wins (compared from the left); then a template whose fixed query (``?List=ALL``) is present
  in the request beats one without.
* A single trailing ``/`` on the request path is tolerated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


@dataclass(frozen=True, slots=True)
class Route:
    operation: Any  # botocore.model.OperationModel
    method: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]
    # (key, value or None); None means "key present with any value" (e.g. S3's "?tagging")
    fixed_query: tuple[tuple[str, str | None], ...]
    rank: tuple[int, ...]

    def query_matches(self, query: dict[str, str]) -> bool:
        return all(
            key in query and (value is None or query[key] == value)
            for key, value in self.fixed_query
        )


def compile_route(operation: Any) -> Route:
    http = operation.http
    path, _, query = http["requestUri"].partition("?")
    pattern: list[str] = []
    labels: list[str] = []
    rank: list[int] = []
    for segment in path.strip("/").split("/"):
        if not segment:
            continue
        pattern.append("/")
        position = 0
        segment_rank = 0
        for label in _LABEL.finditer(segment):
            pattern.append(re.escape(segment[position : label.start()]))
            greedy = label.group(2) == "+"
            pattern.append("(.+)" if greedy else "([^/]+)")
            labels.append(label.group(1))
            segment_rank = max(segment_rank, 2 if greedy else 1)
            position = label.end()
        pattern.append(re.escape(segment[position:]))
        rank.append(segment_rank)
    regex = re.compile("".join(pattern) + "/?" if pattern else "/")
    fixed = tuple(
        (key, value if "=" in part else None)
        for part in query.split("&")
        if part
        for key, _, value in [part.partition("=")]
    )
    # Lower rank sorts first: literal (0) < label (1) < greedy (2), segment by segment; longer
    # fixed queries first so "?List=ALL" is tried before the bare path.
    return Route(
        operation, http["method"].upper(), regex, tuple(labels), fixed, (*rank, -len(fixed))
    )


class RouteTable:
    """Finds the operation for a request; buckets by method and first path segment."""

    def __init__(self, operations: list[Any]) -> None:
        self._buckets: dict[tuple[str, str], list[Route]] = {}
        self._labelled_first: dict[str, list[Route]] = {}
        for operation in operations:
            route = compile_route(operation)
            first = operation.http["requestUri"].partition("?")[0].strip("/").split("/")[0]
            if "{" in first:
                self._labelled_first.setdefault(route.method, []).append(route)
            else:
                self._buckets.setdefault((route.method, first), []).append(route)
        for routes in (*self._buckets.values(), *self._labelled_first.values()):
            routes.sort(key=_sort_key)

    def match(
        self, method: str, raw_path: str, raw_query: str = ""
    ) -> tuple[Any, dict[str, str]] | None:
        method = method.upper()
        first = raw_path.lstrip("/").partition("/")[0]
        query: dict[str, str] | None = None
        for routes in (
            self._buckets.get((method, first), ()),
            self._labelled_first.get(method, ()),
        ):
            for route in routes:
                found = route.regex.fullmatch(raw_path)
                if found is None:
                    continue
                if route.fixed_query:
                    if query is None:
                        query = dict(parse_qsl(raw_query, keep_blank_values=True))
                    if not route.query_matches(query):
                        continue
                values = {
                    label: unquote(value)
                    for label, value in zip(route.labels, found.groups(), strict=True)
                }
                return route.operation, values
        return None


def _sort_key(route: Route) -> tuple[tuple[int, ...], int]:
    return route.rank[:-1], route.rank[-1]
