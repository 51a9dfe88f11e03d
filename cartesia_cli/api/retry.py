"""When to retry a request and how long to wait first: the official SDK's policy.

Pure functions over a status code and response headers, so the policy is
tested without a network. contract.Attempts applies them for every driver;
retries happen only before the first audio byte (a retry after that would
duplicate audio).

A 429 comes in two kinds. One that names the plan's concurrency limit
(`error_code: concurrency_limited`) says too many of our requests were in
flight: a batch lowers its concurrency and sends the request again
(`retry_delay` with `spread`). Any other 429 is retried like a 5xx.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_SERVER_DELAY = 60.0
RETRYABLE_STATUSES = frozenset({408, 409, 429})
CONCURRENCY_LIMITED = "concurrency_limited"  # the error_code of a 429 over the plan's limit


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """`x-should-retry` decides when present; otherwise 408, 409, 429 and 5xx are retried."""
    override = headers.get("x-should-retry", "").strip().lower()
    if override in ("true", "false"):
        return override == "true"
    return status in RETRYABLE_STATUSES or status >= 500


def retry_delay(
    retries_taken: int,
    headers: Mapping[str, str] | None = None,
    *,
    spread: bool = False,
    jitter: Callable[[], float] = random.random,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> float:
    """Seconds to wait before retry number `retries_taken + 1`.

    The server's `retry-after-ms` / `Retry-After` wins when it is in (0, 60] s;
    `spread` makes it up to 25 % later, so that requests refused together (for
    the plan's concurrency limit) do not all come back at once. Otherwise
    exponential backoff from 0.5 s, capped at 8 s, minus up to 25 % jitter.
    """
    hinted = _server_delay(headers or {}, now)
    if hinted is not None:
        return hinted * (1 + 0.25 * jitter()) if spread else hinted
    backoff = min(INITIAL_DELAY * 2.0**retries_taken, MAX_DELAY)
    return backoff * (1 - 0.25 * jitter())


def is_concurrency_refusal(status: int, body: bytes) -> bool:
    """A 429 whose JSON body names the plan's concurrency limit (not a rate limit)."""
    if status != 429:
        return False
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and parsed.get("error_code") == CONCURRENCY_LIMITED


def lowered_limit(limit: int, in_flight: int) -> int | None:
    """The concurrency limit after a concurrency refusal with `in_flight` of ours in flight
    (the refused one among them): below that number, by at least one, never below 1. None
    when no other was in flight: not ours to fix (another client shares the plan)."""
    if in_flight <= 1:
        return None
    return max(1, min(limit - 1, in_flight - 1))


def _server_delay(headers: Mapping[str, str], now: Callable[[], datetime]) -> float | None:
    seconds = _parse_ms(headers.get("retry-after-ms"))
    if seconds is None:
        seconds = _parse_retry_after(headers.get("retry-after"), now)
    if seconds is not None and 0 < seconds <= MAX_SERVER_DELAY:
        return seconds
    return None


def _parse_ms(value: str | None) -> float | None:
    try:
        return float(value) / 1000 if value else None
    except ValueError:
        return None


def _parse_retry_after(value: str | None, now: Callable[[], datetime]) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - now()).total_seconds()
