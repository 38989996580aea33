"""The retry policy's decisions, on plain numbers."""

from __future__ import annotations

from lamina.engine.retry import Condition, Retry, RetryPolicy, Settle


def test_function_errors_retry_after_one_then_two_minutes() -> None:
    policy = RetryPolicy()
    assert policy.after_function_error(1, 2, age=0, max_event_age=21_600) == Retry(60.0)
    assert policy.after_function_error(2, 2, age=60, max_event_age=21_600) == Retry(120.0)
    assert policy.after_function_error(3, 2, age=180, max_event_age=21_600) == Settle(
        Condition.RETRIES_EXHAUSTED
    )


def test_no_retries_when_the_budget_is_zero() -> None:
    assert RetryPolicy().after_function_error(1, 0, age=0, max_event_age=60) == Settle(
        Condition.RETRIES_EXHAUSTED
    )


def test_a_retry_that_would_outlive_the_event_ends_it() -> None:
    assert RetryPolicy().after_function_error(1, 2, age=10, max_event_age=60) == Settle(
        Condition.EVENT_AGE_EXCEEDED
    )


def test_throttles_back_off_exponentially_to_five_minutes() -> None:
    policy = RetryPolicy()
    delays = [policy.after_throttle(n, age=0, max_event_age=21_600) for n in range(1, 12)]
    assert [d.delay for d in delays if isinstance(d, Retry)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        300,
        300,
    ]
    assert policy.after_throttle(3, age=21_597, max_event_age=21_600) == Settle(
        Condition.EVENT_AGE_EXCEEDED
    )


def test_time_scale_shrinks_every_wait_and_age() -> None:
    policy = RetryPolicy(time_scale=0.01)
    assert policy.after_function_error(1, 2, age=0, max_event_age=21_600) == Retry(0.6)
    assert policy.after_throttle(1, age=0, max_event_age=21_600) == Retry(0.01)
    assert policy.expired(36.5, 3600) and not policy.expired(35.9, 3600)
