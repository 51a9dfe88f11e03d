"""What the fake server does with the next request: stream normally or fail in a chosen way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Faults injected into an otherwise normal stream, after `after_chunks` chunks.
STREAM_FAULTS = (
    "error-mid-stream",  # 2026-03-01 error event shape (title/message/request_id)
    "error-mid-stream-legacy",  # pre-2026-03-01 shape: {"error": "..."}
    "error-before-audio",
    "done-without-audio",
    "truncated",  # body ends cleanly, no `done`
    "cut",  # connection closed (FIN) in the middle of the chunked body
    "reset",  # connection reset (RST)
    "malformed-json",
    "bad-base64",
    "stall",  # only `: keep-alive` comments for `stall_seconds`, then goes on
    "wrong-content-type",  # 200 with application/json instead of an event stream
    "drop",  # connection closed after the request, before any response
)

# The faults that mean something on `/tts/bytes` (a bare audio body, no events);
# the other STREAM_FAULTS answer there as `ok`. `stall` there sends no bytes at all.
BYTES_FAULTS = ("cut", "reset", "stall", "wrong-content-type", "drop")

# Faults only a WebSocket has; on `/tts/sse` and `/tts/bytes` they answer as `ok`.
WEBSOCKET_ONLY_FAULTS = (
    "close-1011",  # a close frame with code 1011 (internal error) in mid-context
    "error-no-context",  # an error event without context_id: it concerns the whole connection
)
# What each fault does on `/tts/websocket` (a refused upgrade is `http-NNN`):
WEBSOCKET_FAULTS = {
    "error-mid-stream": "an error event for the context after the first chunk",
    "error-mid-stream-legacy": "the same in the pre-2026-03-01 shape",
    "error-before-audio": "an error event for the context instead of its first chunk",
    "done-without-audio": "`done` for the context instead of its first chunk",
    "error-no-context": "an error event without context_id after the first chunk",
    "truncated": "a clean close (1000) after the first chunk, without `done`",
    "close-1011": "a close frame with code 1011 after the first chunk",
    "cut": "the TCP connection closed, no close frame, after the first chunk",
    "reset": "the TCP connection reset after the first chunk",
    "malformed-json": "a text frame that is not JSON after the first chunk",
    "bad-base64": "a chunk whose data is not base64 after the first chunk",
    "stall": "nothing sent for `stall_seconds` after the first chunk, then on",
    "wrong-content-type": "the upgrade answered 200 with JSON, not 101",
    "drop": "the connection closed before the upgrade is answered",
}

_HTTP = re.compile(r"http-(\d{3})(-text)?")


@dataclass(frozen=True)
class Scenario:
    """One request's behaviour. `status != 200` answers with that HTTP error."""

    name: str = "ok"
    status: int = 200
    text_body: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    after_chunks: int = 1
    stall_seconds: float = 60.0
    keepalive_seconds: float = 0.2

    @classmethod
    def parse(cls, spec: str) -> Scenario:
        """`ok`, a fault name (STREAM_FAULTS, WEBSOCKET_ONLY_FAULTS), or `http-NNN[-text]`."""
        if spec == "ok" or spec in STREAM_FAULTS or spec in WEBSOCKET_ONLY_FAULTS:
            return cls(name=spec)
        match = _HTTP.fullmatch(spec)
        if match and 400 <= int(match.group(1)) <= 599:
            return cls(name=spec, status=int(match.group(1)), text_body=bool(match.group(2)))
        raise ValueError(f"unknown scenario {spec!r}")

    @classmethod
    def http_error(
        cls, status: int, *, text_body: bool = False, headers: dict[str, str] | None = None
    ) -> Scenario:
        suffix = "-text" if text_body else ""
        return cls(f"http-{status}{suffix}", status, text_body, dict(headers or {}))


OK = Scenario()
