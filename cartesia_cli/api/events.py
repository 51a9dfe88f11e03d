"""Cartesia SSE events: the payload of each `data:` line, parsed and decoded.

Events are NamedTuples: cheap to build per chunk, and ~0.4 ms less import time
per class than dataclasses, which counts on a 150 ms command.
This is the only place that decodes base64 audio. Dispatch is on the JSON
`type` field, falling back to the SSE `event:` name.

Numbers from the server are not trusted: a timestamp that is not a finite,
plausible number of seconds is dropped here, where it arrives, so that nothing
downstream (subtitles, JSON) meets NaN, infinity or a time a day past the start.
A timestamps event with nothing usable in it is not a failure of the stream:
the audio is what the run is for.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any, NamedTuple

from cartesia_cli import redact
from cartesia_cli.errors import StreamError


class AudioChunk(NamedTuple):
    audio: bytes


class WordTimestamps(NamedTuple):
    words: tuple[str, ...]
    start: tuple[float, ...]
    end: tuple[float, ...]
    dropped: int = 0  # entries the server sent that were not usable (see `sanitised`)


class PhonemeTimestamps(NamedTuple):
    phonemes: tuple[str, ...]
    start: tuple[float, ...]
    end: tuple[float, ...]
    dropped: int = 0


# Seconds from the start of the audio: no context speaks for a day, so a time past
# this is garbage, not a long run (it would also overflow a subtitle's clock).
MAX_TIMESTAMP = 86_400.0


class Done(NamedTuple):
    """The stream's successful end."""


class ErrorEvent(NamedTuple):
    """An SSE `error` event, in the 2026-03-01 shape or the legacy `error` string."""

    message: str
    status_code: int | None = None
    request_id: str | None = None
    error_code: str | None = None
    title: str | None = None


class UnknownEvent(NamedTuple):
    type: str


Event = AudioChunk | WordTimestamps | PhonemeTimestamps | Done | ErrorEvent | UnknownEvent


def parse_event(event_name: str, data: str) -> Event:
    """Turn one SSE event into an `Event`; malformed payloads raise `StreamError`."""
    payload = _load_json(data)
    kind = payload.get("type") or event_name
    if kind == "chunk":
        return AudioChunk(_decode_audio(payload.get("data")))
    if kind == "done":
        return Done()
    if kind == "error":
        return _parse_error(payload)
    if kind == "timestamps":
        return _parse_words(payload.get("word_timestamps"))
    if kind == "phoneme_timestamps":
        return _parse_phonemes(payload.get("phoneme_timestamps"))
    return UnknownEvent(str(kind))


def is_progress(event: Event) -> bool:
    """Whether the event is the server getting on with the stream: audio, timestamps with
    at least one usable entry, `done` or an error. Anything else (an unknown type, an empty
    chunk, timestamps with nothing usable left) carries nothing, so a server that sends
    only such events is as stalled as a silent one, and times out the same."""
    if isinstance(event, AudioChunk):
        return bool(event.audio)
    if isinstance(event, WordTimestamps):
        return bool(event.words)
    if isinstance(event, PhonemeTimestamps):
        return bool(event.phonemes)
    return not isinstance(event, UnknownEvent)


def _load_json(data: str) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python recurses
        raise StreamError(f"malformed event from the server (not JSON): {_shown(data)}") from None
    if not isinstance(payload, dict):
        raise StreamError(f"malformed event from the server (not a JSON object): {_shown(data)}")
    return payload


def _shown(data: str) -> str:
    """The start of an event for an error line, masked before it is cut."""
    return repr(redact.redact(data)[:80])


def _decode_audio(data: object) -> bytes:
    if not isinstance(data, str):
        raise StreamError("malformed chunk event from the server: no base64 `data` field")
    try:
        # validate=True: a stray character is corruption, not something to skip silently.
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise StreamError(
            "malformed chunk event from the server: `data` is not valid base64"
        ) from None


def _parse_error(payload: dict[str, Any]) -> ErrorEvent:
    title, message = payload.get("title"), payload.get("message")
    if title and message:
        text = f"{title}: {message}"
    else:
        text = str(message or title or payload.get("error") or "unspecified error")
    return ErrorEvent(
        message=text,
        status_code=_status(payload),
        request_id=_optional_str(payload.get("request_id")),
        error_code=_optional_str(payload.get("error_code")),
        title=_optional_str(title),
    )


def _status(payload: dict[str, Any]) -> int | None:
    """The HTTP status an error event carries (`status_code`, or `status` in newer shapes).

    Only a real status counts (an integer 100-599, or its digits as text): it
    decides the exit code, so a bool, a float or 1e300 is no status at all.
    """
    for key in ("status_code", "status"):
        value = payload.get(key)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == 3:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    return None


def _parse_words(block: object) -> WordTimestamps:
    return WordTimestamps(*sanitised(block, "words"))


def _parse_phonemes(block: object) -> PhonemeTimestamps:
    return PhonemeTimestamps(*sanitised(block, "phonemes"))


Sanitised = tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...], int]


def sanitised(block: object, label_key: str) -> Sanitised:
    """The usable entries of a timestamps block (labels, starts, ends) and how many were not.

    An entry is usable when its label is text (or a number) and both its times are
    finite seconds in [0, MAX_TIMESTAMP]; an end before its start is moved up to it.
    Lists of unequal lengths pair up to the shortest. A block without its three
    lists counts as one unusable entry (at least), so that it is never silent.
    """
    lists = _three_lists(block, label_key)
    if lists is None:
        return (), (), (), 1
    labels, starts, ends = lists
    kept_labels: list[str] = []
    kept_starts: list[float] = []
    kept_ends: list[float] = []
    for raw_label, raw_start, raw_end in zip(labels, starts, ends, strict=False):
        label, start, end = _label(raw_label), _seconds(raw_start), _seconds(raw_end)
        if label is None or start is None or end is None:
            continue
        kept_labels.append(label)
        kept_starts.append(start)
        kept_ends.append(max(start, end))
    sent = max(len(labels), len(starts), len(ends))
    return tuple(kept_labels), tuple(kept_starts), tuple(kept_ends), sent - len(kept_labels)


def _three_lists(block: object, label_key: str) -> tuple[list[Any], list[Any], list[Any]] | None:
    if not isinstance(block, dict):
        return None
    labels, starts, ends = block.get(label_key), block.get("start"), block.get("end")
    if isinstance(labels, list) and isinstance(starts, list) and isinstance(ends, list):
        return labels, starts, ends
    return None


def _label(value: object) -> str | None:
    """A word or phoneme as text; a number is shown as written, anything else is unusable."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and _finite(value):
        return str(value)
    return None


def _seconds(value: object) -> float | None:
    """A time in seconds, or None: not a number (a string, null, a list, a bool), not
    finite (NaN, infinity, an integer too big for a float), negative, or past a day."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        return None
    seconds = float(value)
    return seconds if 0.0 <= seconds <= MAX_TIMESTAMP else None


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer past a float's range (JSON allows 1 followed by 400 zeros)
        return False


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
