"""What one client message on the fake's TTS WebSocket asks for, checked as the API checks it.

A message is a JSON object in a text frame: a generation request (a piece of a
context's transcript) or a cancel. A problem found in a message that names its
context is reported on that context; any other problem (not JSON, no
`context_id`, a bare `{"flush": true}`) concerns the whole connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cartesia_cli.mock.validation import (
    SSE_CONTAINERS,
    Problem,
    TtsJob,
    invalid,
    job_from_fields,
    load_json,
)

REQUIRED = ("model_id", "transcript", "voice", "output_format")
# Sent with every piece but free to change from piece to piece; every other field of a
# context must stay the same.
PER_PIECE = ("transcript", "continue", "flush", "context_id")
# Fields whose absence means this value: a piece that says it matches one that does not.
DEFAULTS = {
    "max_buffer_delay_ms": 3000,
    "add_timestamps": False,
    "add_phoneme_timestamps": False,
    "use_normalized_timestamps": False,
}
BUFFER_MS_RANGE = (0, 5000)
DEFAULT_BUFFER_MS = 3000  # what the server waits for more text when a context does not say


@dataclass(frozen=True)
class Piece:
    """A generation request: `transcript` added to context `context_id`."""

    context_id: str
    transcript: str
    more: bool  # `continue`: more pieces follow
    flush: bool
    buffer_ms: int
    job: TtsJob  # the context's settings (its transcript field is this piece's)
    fixed: str  # the fields that must not change within a context, as canonical JSON


@dataclass(frozen=True)
class Cancel:
    context_id: str


@dataclass(frozen=True)
class Rejected:
    """A message refused: on its context when it named one, else on the connection."""

    problem: Problem
    context_id: str | None = None


def parse_message(text: str) -> Piece | Cancel | Rejected:
    body = load_json(text, "The message")
    if isinstance(body, Problem):
        return Rejected(body)
    if not isinstance(body, dict):
        return Rejected(invalid("The message must be a JSON object."))
    context_id = body.get("context_id")
    if not isinstance(context_id, str) or not context_id:
        return Rejected(invalid("context_id is required and must be a non-empty string."))
    if body.get("cancel") is True:
        return Cancel(context_id)
    problem = _check_piece(body)
    if problem is not None:
        return Rejected(problem, context_id)
    job = job_from_fields(body, SSE_CONTAINERS, endpoint="WebSocket", pieces=True)
    if isinstance(job, Problem):
        return Rejected(job, context_id)
    return Piece(
        context_id=context_id,
        transcript=body["transcript"],
        more=body.get("continue", False),
        flush=body.get("flush", False),
        buffer_ms=body.get("max_buffer_delay_ms", DEFAULT_BUFFER_MS),
        job=job,
        fixed=_fixed(body),
    )


def _fixed(body: dict[str, Any]) -> str:
    """The fields that must not change within a context, defaults filled in, as JSON."""
    fields = {**DEFAULTS, **{k: v for k, v in body.items() if k not in PER_PIECE}}
    return json.dumps(fields, sort_keys=True)


def _check_piece(body: dict[str, Any]) -> Problem | None:
    """The fields a piece has beyond an SSE request's: continue, flush, the buffer delay."""
    for key in REQUIRED:
        if key not in body:
            return invalid(f"{key} is required.")
    for key in ("continue", "flush"):
        if key in body and not isinstance(body[key], bool):
            return invalid(f"{key} must be true or false.")
    delay = body.get("max_buffer_delay_ms", DEFAULT_BUFFER_MS)
    low, high = BUFFER_MS_RANGE
    if isinstance(delay, bool) or not isinstance(delay, int) or not low <= delay <= high:
        return invalid(f"max_buffer_delay_ms must be a whole number from {low} to {high}.")
    return None
