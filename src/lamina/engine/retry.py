"""The asynchronous retry policy: a small pure object, decided on plain numbers.

Function errors (exceptions, timeouts, crashes, oversized responses) are retried up to
MaximumRetryAttempts times, about 1 and then 2 minutes apart. Throttles and system errors
do not use that budget: they back off exponentially from 1 s to 5 min for as long as the
event is younger than MaximumEventAgeInSeconds. Every platform-side wait is multiplied by
`time_scale`, event ages included, so tests and demos can run the real policy in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_EVENT_AGE = 21_600  # seconds (6 hours)


class Condition(StrEnum):
    """How an asynchronous event ended, as the invocation record names it."""

    SUCCESS = "Success"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"
    ZERO_RESERVED_CONCURRENCY = "ZeroReservedConcurrency"


@dataclass(frozen=True, slots=True)
class Retry:
    delay: float  # seconds from now


@dataclass(frozen=True, slots=True)
class Settle:
    condition: Condition


Decision = Retry | Settle


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    function_error_delays: tuple[float, ...] = (60.0, 120.0)
    throttle_base: float = 1.0
    throttle_max: float = 300.0
    time_scale: float = 1.0

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale

    def expired(self, age: float, max_event_age: int) -> bool:
        """Whether an event `age` seconds old (real time) is past its maximum age."""
        return age > self.scaled(max_event_age)

    def after_success(self) -> Decision:
        return Settle(Condition.SUCCESS)

    def after_function_error(
        self, attempts: int, max_retries: int, age: float, max_event_age: int
    ) -> Decision:
        """`attempts` counts the function runs made so far, this one included."""
        if attempts > max_retries:
            return Settle(Condition.RETRIES_EXHAUSTED)
        index = min(attempts - 1, len(self.function_error_delays) - 1)
        delay = self.scaled(self.function_error_delays[index])
        if self.expired(age + delay, max_event_age):
            return Settle(Condition.EVENT_AGE_EXCEEDED)
        return Retry(delay)

    def after_throttle(self, throttles: int, age: float, max_event_age: int) -> Decision:
        """`throttles` counts the throttled or failed-before-running attempts so far."""
        delay = self.scaled(min(self.throttle_base * 2 ** (throttles - 1), self.throttle_max))
        if self.expired(age + delay, max_event_age):
            return Settle(Condition.EVENT_AGE_EXCEEDED)
        return Retry(delay)
