"""Concurrency admission: a lease is taken before an environment is chosen.

Reserved concurrency is both a guarantee and a cap: a function with a reservation runs only
within it, and reservations are carved out of the account's pool, so functions without one
share what is left (the unreserved pool). A lease is given back exactly once, whatever way
the invocation ends; `Admission` is the seam a PostgreSQL-backed cluster implements later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from lamina.errors import TooManyRequestsException

RETRY_AFTER_SECONDS = "1"  # UNVERIFIED (spec 12.4): AWS's Retry-After value is not recorded


class ThrottleReason(StrEnum):
    ACCOUNT = "ConcurrentInvocationLimitExceeded"
    RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
    SCALING = "FunctionInvocationRateLimitExceeded"


def throttled(reason: ThrottleReason) -> TooManyRequestsException:
    error = TooManyRequestsException("Rate Exceeded.", Reason=reason.value)
    error.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return error


@dataclass(frozen=True, slots=True)
class Limits:
    account: int = 1000  # concurrent executions per account and region
    min_unreserved: int = 100  # reservations may not push the unreserved pool below this
    scaling_burst: int = 1000  # new environments a function may add ...
    scaling_window: float = 10.0  # ... per this many seconds, refilled continuously


class Lease(Protocol):
    def release(self) -> None: ...


class Admission(Protocol):
    def acquire(
        self, scope: str, function: str, *, cold: bool, provisioned: bool = False
    ) -> Lease: ...

    def set_reserved(self, scope: str, function: str, reserved: int | None) -> None: ...

    def in_use(self, scope: str, function: str | None = None) -> int: ...


@dataclass(slots=True)
class _ScopeState:
    in_use: dict[str, int] = field(default_factory=dict)
    unreserved_in_use: int = 0
    reserved: dict[str, int] = field(default_factory=dict)
    provisioned: dict[str, int] = field(default_factory=dict)  # READY environments
    provisioned_running: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, tuple[float, float]] = field(default_factory=dict)  # (tokens, stamp)


class _LocalLease:
    __slots__ = ("_admission", "_function", "_provisioned", "_released", "_scope")

    def __init__(
        self, admission: LocalAdmission, scope: str, function: str, provisioned: bool
    ) -> None:
        self._admission = admission
        self._scope = scope
        self._function = function
        self._provisioned = provisioned
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission._give_back(self._scope, self._function, self._provisioned)


class LocalAdmission:
    """Admission for one process: plain counters on the event loop, no locks needed."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._scopes: dict[str, _ScopeState] = {}

    def acquire(self, scope: str, function: str, *, cold: bool, provisioned: bool = False) -> Lease:
        """`provisioned`: the invocation runs in an initialised provisioned environment, whose
        capacity was set aside when it was configured; everything else of a function with a
        reservation shares what the provisioned environments leave of it."""
        state = self._scopes.setdefault(scope, _ScopeState())
        running = state.in_use.get(function, 0)
        if provisioned:
            state.in_use[function] = running + 1
            _bump(state.provisioned_running, function, 1)
            return _LocalLease(self, scope, function, True)
        reserved = state.reserved.get(function)
        if reserved is not None:
            on_demand = running - state.provisioned_running.get(function, 0)
            if on_demand >= reserved - state.provisioned.get(function, 0):
                raise throttled(ThrottleReason.RESERVED)
        elif state.unreserved_in_use >= self.unreserved_pool(scope):
            raise throttled(ThrottleReason.ACCOUNT)
        if cold and not self._take_scaling_token(state, function):
            raise throttled(ThrottleReason.SCALING)
        state.in_use[function] = running + 1
        if reserved is None:
            state.unreserved_in_use += 1
        return _LocalLease(self, scope, function, False)

    def set_provisioned(self, scope: str, function: str, total: int) -> None:
        """How many provisioned environments of this function are ready."""
        state = self._scopes.setdefault(scope, _ScopeState())
        if total:
            state.provisioned[function] = total
        else:
            state.provisioned.pop(function, None)

    def set_reserved(self, scope: str, function: str, reserved: int | None) -> None:
        state = self._scopes.setdefault(scope, _ScopeState())
        was_reserved = function in state.reserved
        running = state.in_use.get(function, 0) - state.provisioned_running.get(function, 0)
        if reserved is None:
            state.reserved.pop(function, None)
        else:
            state.reserved[function] = reserved
        # Running invocations move between pools with their function.
        if was_reserved and reserved is None:
            state.unreserved_in_use += running
        elif not was_reserved and reserved is not None:
            state.unreserved_in_use -= running

    def reserved(self, scope: str, function: str) -> int | None:
        state = self._scopes.get(scope)
        return None if state is None else state.reserved.get(function)

    def reserved_total(self, scope: str) -> int:
        state = self._scopes.get(scope)
        return sum(state.reserved.values()) if state else 0

    def unreserved_pool(self, scope: str) -> int:
        return self.limits.account - self.reserved_total(scope)

    def in_use(self, scope: str, function: str | None = None) -> int:
        state = self._scopes.get(scope)
        if state is None:
            return 0
        if function is None:
            return sum(state.in_use.values())
        return state.in_use.get(function, 0)

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Concurrent executions per scope and function (for metrics)."""
        return {scope: dict(s.in_use) for scope, s in self._scopes.items()}

    def _give_back(self, scope: str, function: str, provisioned: bool) -> None:
        state = self._scopes[scope]
        state.in_use[function] -= 1
        if provisioned:
            _bump(state.provisioned_running, function, -1)
        elif function not in state.reserved:
            state.unreserved_in_use -= 1

    def _take_scaling_token(self, state: _ScopeState, function: str) -> bool:
        burst = float(self.limits.scaling_burst)
        now = self._clock()
        tokens, stamp = state.tokens.get(function, (burst, now))
        tokens = min(burst, tokens + (now - stamp) * burst / self.limits.scaling_window)
        if tokens < 1:
            state.tokens[function] = (tokens, now)
            return False
        state.tokens[function] = (tokens - 1, now)
        return True


def _bump(counts: dict[str, int], key: str, by: int) -> None:
    counts[key] = counts.get(key, 0) + by
