"""The retry policy: which failures are retried and how long to wait."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.api.retry import (
    is_concurrency_refusal,
    retry_delay,
    should_retry,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(status: int) -> None:
    assert should_retry(status, {})


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not should_retry(status, {})


def test_x_should_retry_overrides_the_status() -> None:
    assert not should_retry(503, {"x-should-retry": "false"})
    assert should_retry(400, {"x-should-retry": "true"})
    assert should_retry(503, {"x-should-retry": "maybe"})


def test_backoff_doubles_from_half_a_second_and_caps_at_eight() -> None:
    no_jitter = [retry_delay(n, jitter=lambda: 0.0) for n in range(6)]
    assert no_jitter == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry_delay(0, jitter=lambda: 1.0) == 0.375  # at most 25 % shorter


def test_server_hints_win_within_sixty_seconds() -> None:
    assert retry_delay(0, {"retry-after-ms": "1500"}) == 1.5
    assert retry_delay(0, {"retry-after": "2"}) == 2.0
    assert retry_delay(0, {"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = "Wed, 25 Nov 2026 12:00:03 GMT"
    assert retry_delay(0, {"retry-after": date}, now=lambda: NOW) == 3.0


@pytest.mark.parametrize("value", ["0", "-1", "61", "soon", "Thu, 01 Jan 2099 00:00:00 GMT"])
def test_out_of_range_or_garbled_hints_fall_back_to_backoff(value: str) -> None:
    delay = retry_delay(1, {"retry-after": value}, jitter=lambda: 0.0, now=lambda: NOW)
    assert delay == 1.0


# --- a 429 over the plan's concurrency limit ----------------------------------------------

LIMITED = json.dumps(
    {"error_code": "concurrency_limited", "title": "Too many concurrent requests",
     "message": "You have exceeded your plan's concurrency limit.", "request_id": "r"}
).encode()  # fmt: skip


def test_only_a_429_naming_the_concurrency_limit_is_a_concurrency_refusal() -> None:
    assert is_concurrency_refusal(429, LIMITED)
    assert not is_concurrency_refusal(503, LIMITED)
    assert not is_concurrency_refusal(429, b'{"error_code": null, "title": "Rate limited"}')
    assert not is_concurrency_refusal(429, b"Too many concurrent requests: plain text")
    assert not is_concurrency_refusal(429, b"")


@given(st.integers(100, 599), st.binary(max_size=200))
def test_any_body_is_read_without_error(status: int, body: bytes) -> None:
    assert is_concurrency_refusal(status, body) in (True, False)
    if status != 429:
        assert not is_concurrency_refusal(status, body)


def test_a_concurrency_refusal_waits_the_servers_hint_up_to_a_quarter_longer() -> None:
    assert retry_delay(0, {"retry-after-ms": "400"}, spread=True, jitter=lambda: 0.0) == 0.4
    assert retry_delay(3, {"retry-after": "2"}, spread=True, jitter=lambda: 1.0) == 2.5
    date = "Wed, 25 Nov 2026 12:00:03 GMT"
    assert (
        retry_delay(0, {"retry-after": date}, spread=True, jitter=lambda: 0.0, now=lambda: NOW)
        == 3.0
    )


def test_without_a_hint_a_concurrency_refusal_backs_off_like_a_retry() -> None:
    waits = [retry_delay(n, {}, spread=True, jitter=lambda: 0.0) for n in range(6)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry_delay(0, {"retry-after": "61"}, spread=True, jitter=lambda: 1.0) == 0.375
