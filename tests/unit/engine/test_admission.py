"""The admission policy on a fake clock."""

from __future__ import annotations

import pytest

from lamina.engine.admission import Limits, LocalAdmission
from lamina.errors import TooManyRequestsException


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reason(excinfo: pytest.ExceptionInfo[TooManyRequestsException]) -> str:
    return str(excinfo.value.extra["Reason"])


def test_reserved_concurrency_caps_the_function() -> None:
    admission = LocalAdmission(Limits(), FakeClock())
    admission.set_reserved("s", "f", 2)
    leases = [admission.acquire("s", "f", cold=False) for _ in range(2)]
    with pytest.raises(TooManyRequestsException) as excinfo:
        admission.acquire("s", "f", cold=False)
    assert reason(excinfo) == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert excinfo.value.body() == {
        "Type": "User",
        "message": "Rate Exceeded.",
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
    }
    assert excinfo.value.headers["Retry-After"] == "1"
    leases[0].release()
    leases[0].release()  # a second release changes nothing
    assert admission.in_use("s", "f") == 1
    admission.acquire("s", "f", cold=False)


def test_zero_reserved_throttles_everything() -> None:
    admission = LocalAdmission(Limits(), FakeClock())
    admission.set_reserved("s", "f", 0)
    with pytest.raises(TooManyRequestsException):
        admission.acquire("s", "f", cold=False)


def test_account_pool_is_shared_by_unreserved_functions() -> None:
    admission = LocalAdmission(Limits(account=5, min_unreserved=1), FakeClock())
    admission.set_reserved("s", "reserved", 2)
    admission.acquire("s", "a", cold=False)
    admission.acquire("s", "b", cold=False)
    admission.acquire("s", "a", cold=False)
    with pytest.raises(TooManyRequestsException) as excinfo:
        admission.acquire("s", "c", cold=False)
    assert reason(excinfo) == "ConcurrentInvocationLimitExceeded"
    # The reservation is still guaranteed to its function.
    admission.acquire("s", "reserved", cold=False)
    admission.acquire("s", "reserved", cold=False)
    assert admission.in_use("s") == 5
    assert admission.in_use("other-scope") == 0


def test_moving_a_function_between_pools_keeps_counts() -> None:
    admission = LocalAdmission(Limits(account=3, min_unreserved=1), FakeClock())
    lease = admission.acquire("s", "f", cold=False)
    admission.set_reserved("s", "f", 1)
    admission.acquire("s", "g", cold=False)
    admission.acquire("s", "g", cold=False)
    lease.release()
    admission.set_reserved("s", "f", None)
    admission.acquire("s", "f", cold=False)
    with pytest.raises(TooManyRequestsException):
        admission.acquire("s", "f", cold=False)


def test_scaling_rate_refills_continuously() -> None:
    clock = FakeClock()
    admission = LocalAdmission(Limits(scaling_burst=2, scaling_window=10.0), clock)
    admission.acquire("s", "f", cold=True)
    admission.acquire("s", "f", cold=True)
    with pytest.raises(TooManyRequestsException) as excinfo:
        admission.acquire("s", "f", cold=True)
    assert reason(excinfo) == "FunctionInvocationRateLimitExceeded"
    admission.acquire("s", "f", cold=False)  # warm environments need no new capacity
    clock.now = 5.0  # half the window refills one environment
    admission.acquire("s", "f", cold=True)
    with pytest.raises(TooManyRequestsException):
        admission.acquire("s", "f", cold=True)


def test_provisioned_environments_are_set_aside_from_the_reservation() -> None:
    admission = LocalAdmission(Limits(), FakeClock())
    admission.set_reserved("s", "f", 2)
    admission.set_provisioned("s", "f", 2)
    with pytest.raises(TooManyRequestsException) as excinfo:
        admission.acquire("s", "f", cold=False)  # $LATEST: nothing left on demand
    assert reason(excinfo) == "ReservedFunctionConcurrentInvocationLimitExceeded"
    first = admission.acquire("s", "f", cold=False, provisioned=True)
    admission.acquire("s", "f", cold=False, provisioned=True)
    assert admission.in_use("s", "f") == 2
    first.release()
    admission.set_provisioned("s", "f", 1)
    admission.acquire("s", "f", cold=False)  # one of the two is on demand again
    with pytest.raises(TooManyRequestsException):
        admission.acquire("s", "f", cold=False)
