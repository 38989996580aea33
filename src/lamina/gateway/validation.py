"""Model constraint checks that reproduce AWS's ``ValidationException`` messages exactly.

AWS validates a request against the constraints of its API model (required, length, value
range, pattern, enum) and reports *all* violations in one message::

    2 validation errors detected: Value 'x' at 'qualifier' failed to satisfy constraint: ...; ...

Rules taken from real-AWS recordings (``aws-recorded-lambda-api``):

* Member paths are the member name with its first letter lower-cased, nested with ``.``
  (``vpcConfig.subnetIds``); a structure inside a list is ``<list>.<n>.member.<field>`` (n from 1).
* Values print the way Java's ``toString`` does: strings bare, lists ``[a, b]``, maps
  ``{k=v}``, doubles ``1.0``; a missing member prints as ``Value null`` (no quotes).
* Within one member the checks run max, min, pattern, enum, each violation its own entry.
* List elements and map keys/values are reported once per collection, at the collection's path
  with the whole value, listing *every* constraint of the element shape in brackets (values and
  list elements end with ``Member must not be null``; map keys do not).
* Enum values are listed in the order of a Java ``HashSet`` built from the model's values
  (recorded: ``[Terminate, Allow]`` for the model's ``[Allow, Terminate]``); see
  :func:`java_hash_set_order`.
* Order across members: model order, except that URI-label members come after the others (a
  recording shows ``qualifier`` (query) before ``functionName`` (path) for GetFunction and
  Invoke, whose models list FunctionName first; body members stay in model order).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from lamina.errors import ValidationException

# One entry per violation, already formatted; joined by :func:`validation_message`.
Violations = list[str]

_NOT_NULL = "Member must not be null"
_FLOAT_TYPES = frozenset({"double", "float"})
_NUMBER_TYPES = frozenset({"integer", "long", "double", "float"})
_SIZED_TYPES = frozenset({"string", "blob", "list", "map"})

_patterns: dict[str, re.Pattern[str] | None] = {}


def compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) pattern compiled for Python, or None when Python cannot express it."""
    try:
        return _patterns[pattern]
    except KeyError:
        pass
    compiled: re.Pattern[str] | None
    with warnings.catch_warnings():
        # Java character classes such as [a-z-_] make Python warn about future set syntax.
        warnings.simplefilter("ignore")
        try:
            compiled = re.compile(pattern)
        except re.error:
            compiled = None  # e.g. \p{...} classes: skip the check rather than reject requests
    _patterns[pattern] = compiled
    return compiled


def validation_message(violations: Sequence[str]) -> str:
    """The complete ``ValidationException`` message for one or more violations."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(violations)


def violation(value: Any, path: str, constraint: str) -> str:
    """One violation, e.g. ``Value 'x' at 'functionName' failed to satisfy constraint: ...``."""
    shown = "null" if value is None else f"'{java_string(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def raise_for(violations: Sequence[str]) -> None:
    if violations:
        raise ValidationException(validation_message(violations))


def wire_path(member_name: str) -> str:
    """AWS's name for a member in messages: first letter lower-cased."""
    return member_name[:1].lower() + member_name[1:]


def java_double(number: float) -> str:
    """Format like Java's ``Double.toString`` (``2.0``, ``1.0E-5``), as AWS prints doubles."""
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    text = repr(float(number))
    if 1e-3 <= abs(number) < 1e7 or number == 0:
        return text
    # Java switches to computerized scientific notation outside [1e-3, 1e7): d.dddE<n>
    sign, digits, exponent = Decimal(text).as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{shown[0]}.{shown[1:] or '0'}E{power}"


def java_string(value: Any) -> str:
    """Render a request value the way AWS's (Java) validator prints it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, bytes | bytearray):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{java_string(k)}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    if value is None:
        return "null"
    return str(value)


def java_hash_set_order(values: Sequence[str]) -> list[str]:
    """Iteration order of Java's ``new HashSet<>(values)``, which AWS uses to print enums.

    Buckets are ``(h ^ h >>> 16) & (capacity - 1)`` of ``String.hashCode``; a bucket keeps
    insertion order (model order is our best guess for AWS's insertion order). Reproduces every
    model-level enum message recorded (RecursiveLoop, Architecture, SnapStartApplyOn, the
    25-value CompatibleRuntimes list up to order inside a bucket).
    """
    capacity = 1
    while capacity < max(int(len(values) / 0.75) + 1, 16):
        capacity *= 2
    return sorted(values, key=lambda value: _java_spread_hash(value) & (capacity - 1))


def _java_spread_hash(value: str) -> int:
    units = value.encode("utf-16-be")
    code = 0
    for index in range(0, len(units), 2):
        code = (31 * code + int.from_bytes(units[index : index + 2], "big")) & 0xFFFFFFFF
    return code ^ (code >> 16)


# A check returns True when the value violates it; the text is AWS's constraint wording.
_Check = tuple[Callable[[Any], bool], str]


class _Plan:
    """The precomputed checks for one shape (built once per shape, reused per request)."""

    __slots__ = ("checks", "element", "element_text", "key", "key_text", "kind", "members")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.checks: tuple[_Check, ...] = ()
        # structure: (member name, path segment, plan, required)
        self.members: tuple[tuple[str, str, _Plan, bool], ...] = ()
        self.element: _Plan | None = None  # list member or map value
        self.element_text = ""
        self.key: _Plan | None = None
        self.key_text = ""


class Validator:
    """Validates parsed input against one service model's constraints."""

    def __init__(self) -> None:
        self._plans: dict[str, _Plan] = {}

    def violations(self, shape: Any, params: Mapping[str, Any]) -> Violations:
        found: Violations = []
        self._check_structure(self._plan(shape), params, "", found)
        return found

    def validate(self, shape: Any, params: Mapping[str, Any]) -> None:
        """Raise one ValidationException listing every violation, if there are any."""
        raise_for(self.violations(shape, params))

    # --- walking values -----------------------------------------------------------------

    def _check_structure(
        self, plan: _Plan, value: Mapping[str, Any], prefix: str, found: Violations
    ) -> None:
        for name, segment, member_plan, required in plan.members:
            member_value = value.get(name)
            path = prefix + segment
            if member_value is None:
                if required:
                    found.append(violation(None, path, _NOT_NULL))
                continue
            self._check_value(member_plan, member_value, path, found)

    def _check_value(self, plan: _Plan, value: Any, path: str, found: Violations) -> None:
        for failed, text in plan.checks:
            if failed(value):
                found.append(violation(value, path, text))
        self._descend(plan, value, path, found)

    def _descend(self, plan: _Plan, value: Any, path: str, found: Violations) -> None:
        if plan.kind == "structure":
            if isinstance(value, Mapping):
                self._check_structure(plan, value, path + ".", found)
        elif plan.kind == "list":
            if isinstance(value, list):
                self._check_list(plan, value, path, found)
        elif plan.kind == "map" and isinstance(value, Mapping):
            self._check_map(plan, value, path, found)

    def _check_list(self, plan: _Plan, value: list[Any], path: str, found: Violations) -> None:
        element = plan.element
        if element is None:
            return
        if any(item is None or _fails(element, item) for item in value):
            found.append(violation(value, path, plan.element_text))
        if element.kind in ("structure", "list", "map"):
            for index, item in enumerate(value, start=1):
                if item is not None:
                    self._descend(element, item, f"{path}.{index}.member", found)

    def _check_map(
        self, plan: _Plan, value: Mapping[str, Any], path: str, found: Violations
    ) -> None:
        if plan.key is not None and any(_fails(plan.key, key) for key in value):
            found.append(violation(value, path, plan.key_text))
        element = plan.element
        if element is None:
            return
        if any(item is None or _fails(element, item) for item in value.values()):
            found.append(violation(value, path, plan.element_text))
        if element.kind in ("structure", "list", "map"):
            for key, item in value.items():
                if item is not None:
                    self._descend(element, item, f"{path}.{key}.member", found)

    # --- building plans ------------------------------------------------------------------

    def _plan(self, shape: Any) -> _Plan:
        plan = self._plans.get(shape.name)
        if plan is not None:
            return plan
        plan = _Plan(shape.type_name)
        self._plans[shape.name] = plan  # registered first: recursive shapes reuse it
        plan.checks = tuple(_scalar_checks(shape))
        if plan.kind == "structure":
            plan.members = self._member_plans(shape)
        elif plan.kind == "list":
            plan.element = self._plan(shape.member)
            plan.element_text = _bracketed("Member must satisfy constraint", shape.member, True)
        elif plan.kind == "map":
            plan.key = self._plan(shape.key)
            plan.key_text = _bracketed("Map keys must satisfy constraint", shape.key, False)
            plan.element = self._plan(shape.value)
            plan.element_text = _bracketed("Map value must satisfy constraint", shape.value, True)
        return plan

    def _member_plans(self, shape: Any) -> tuple[tuple[str, str, _Plan, bool], ...]:
        required = set(shape.required_members)
        members = list(shape.members.items())
        # URI labels are reported after every other member (see module docstring).
        members.sort(key=lambda item: item[1].serialization.get("location") == "uri")
        return tuple(
            (name, wire_path(name), self._plan(member), name in required)
            for name, member in members
        )


def _fails(plan: _Plan, value: Any) -> bool:
    return any(failed(value) for failed, _ in plan.checks)


def _bracketed(lead: str, shape: Any, not_null: bool) -> str:
    texts = [text for _, text in _scalar_checks(shape)]
    if not_null:
        texts.append(_NOT_NULL)
    return f"{lead}: [{', '.join(texts)}]"


def _bound(shape: Any, bound: Any) -> str:
    if shape.type_name in _FLOAT_TYPES:
        return java_double(float(bound))
    return str(int(bound))


def _scalar_checks(shape: Any) -> list[_Check]:
    """The shape's own constraints in AWS's reporting order: max, min, pattern, enum."""
    metadata = shape.metadata
    kind = shape.type_name
    checks: list[_Check] = []
    low, high = metadata.get("min"), metadata.get("max")
    if kind in _SIZED_TYPES:
        if high is not None:
            checks.append(
                (_longer_than(high), f"Member must have length less than or equal to {high}")
            )
        if low is not None:
            checks.append(
                (_shorter_than(low), f"Member must have length greater than or equal to {low}")
            )
    elif kind in _NUMBER_TYPES:
        if high is not None:
            text = f"Member must have value less than or equal to {_bound(shape, high)}"
            checks.append((_above(high), text))
        if low is not None:
            text = f"Member must have value greater than or equal to {_bound(shape, low)}"
            checks.append((_below(low), text))
    if kind == "string":
        pattern = metadata.get("pattern")
        compiled = compiled_pattern(pattern) if pattern is not None else None
        if compiled is not None:
            text = f"Member must satisfy regular expression pattern: {pattern}"
            checks.append((_mismatches(compiled), text))
        enum = metadata.get("enum")
        if enum:
            allowed = frozenset(enum)
            text = f"Member must satisfy enum value set: [{', '.join(java_hash_set_order(enum))}]"
            checks.append((_outside(allowed), text))
    return checks


# Check factories: each returns "does this value violate the constraint?".


def _longer_than(limit: int) -> Callable[[Any], bool]:
    return lambda value: len(value) > limit


def _shorter_than(limit: int) -> Callable[[Any], bool]:
    return lambda value: len(value) < limit


def _above(limit: float) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, int | float) and value > limit


def _below(limit: float) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, int | float) and value < limit


def _mismatches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and pattern.fullmatch(value) is None


def _outside(allowed: frozenset[str]) -> Callable[[Any], bool]:
    return lambda value: value not in allowed
