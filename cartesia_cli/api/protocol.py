"""The wire protocol without I/O: request bodies and headers, error bodies, error mapping.

Shared by every client of the API (SSE and bytes today). Errors built here
carry facts only; hints that name flags are the CLI layer's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from cartesia_cli import __version__, redact
from cartesia_cli.endpoints import BYTES_PATH as BYTES_PATH
from cartesia_cli.endpoints import SSE_PATH as SSE_PATH
from cartesia_cli.endpoints import WS_PATH as WS_PATH
from cartesia_cli.errors import (
    AUTH_REJECTED,
    AuthError,
    CliError,
    RequestRejected,
    ServerError,
    StreamError,
    UsageError,
)
from cartesia_cli.formats import BARE_VOICE_SINCE, Container, RequestedFormat

VOICES_PATH = "/voices"
DICTIONARIES_PATH = "/pronunciation-dicts/"  # the trailing slash: what the SDKs send
EVENT_STREAM = "text/event-stream"


def item_path(collection: str, item_id: str, noun: str) -> str:
    """One voice's or dictionary's path: the one place an id becomes part of a URL.

    The id goes percent-encoded whole, so it never becomes a path of its own: not
    empty, not `.` or `..` (which a URL resolves to the collection or the root), no
    `/` (a usage error, before any request). A UUID goes in the API's lower case.
    """
    from urllib.parse import quote

    if not item_id or item_id.strip(".") == "" or "/" in item_id:
        raise UsageError(f"not a {noun} id: {item_id!r}")
    if len(item_id) == 36 and item_id.count("-") == 4:  # a UUID's shape: its canonical case
        item_id = item_id.lower()
    return collection.rstrip("/") + "/" + quote(item_id, safe="")


class TtsRequest(NamedTuple):
    """One synthesis request. `fields` are the optional body fields, by their place in it."""

    model_id: str
    transcript: str
    voice_id: str
    audio: RequestedFormat
    fields: Mapping[tuple[str, ...], Any] = {}
    api_version: str = BARE_VOICE_SINCE

    def body(self) -> dict[str, Any]:
        """The JSON body; options the user did not set are left out, never sent as null."""
        body: dict[str, Any] = {
            "model_id": self.model_id,
            "transcript": self.transcript,
            "voice": voice_field(self.voice_id, self.api_version),
            "output_format": output_format(self.audio),
        }
        for path, value in self.fields.items():
            _place(body, path, value)
        return body

    def encoded_body(self) -> bytes:
        return json.dumps(self.body(), separators=(",", ":"), allow_nan=False).encode()


def voice_field(voice_id: str, api_version: str) -> str | dict[str, str]:
    """The body's `voice` in the shape the Cartesia-Version sent expects.

    2026-08-14 and later type it as the bare id; earlier versions require
    `{"mode": "id", "id": …}`. Dates in ISO form compare as strings.
    """
    if api_version >= BARE_VOICE_SINCE:
        return voice_id
    return {"mode": "id", "id": voice_id}


def output_format(audio: RequestedFormat) -> dict[str, Any]:
    """The `output_format` object: mp3 takes a bit rate and no encoding."""
    if audio.container is Container.MP3:
        return {"container": "mp3", "sample_rate": audio.sample_rate, "bit_rate": audio.bit_rate}
    encoding = audio.encoding.value if audio.encoding is not None else None
    return {
        "container": audio.container.value,
        "encoding": encoding,
        "sample_rate": audio.sample_rate,
    }


def _place(body: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    """Set `body[a][b]… = value` for path (a, b, …), making the objects on the way."""
    *parents, leaf = path
    target = body
    for key in parents:
        target = target.setdefault(key, {})
    target[leaf] = value


def headers(api_key: str, api_version: str, accept: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Cartesia-Version": api_version,
        "Content-Type": "application/json",
        "Accept": accept,
        "User-Agent": f"cartesia-cli/{__version__}",
    }


def accept_for(path: str, audio: RequestedFormat) -> str:
    if path == SSE_PATH:
        return EVENT_STREAM
    return {Container.WAV: "audio/wav", Container.MP3: "audio/mpeg"}.get(
        audio.container, "application/octet-stream"
    )


def error_facts(body: bytes) -> tuple[str | None, str | None]:
    """The `title` and `request_id` of a JSON error body (None for what it lacks)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    title, request_id = parsed.get("title"), parsed.get("request_id")
    return (
        _cap(title) if isinstance(title, str) and title else None,
        _cap(request_id) if isinstance(request_id, str) and request_id else None,
    )


def error_detail(body: bytes, *, said: str = "") -> str:
    """`title: message (request id …)` from a JSON error body, else the body's first line.

    A title that only repeats `said` (the status line's reason) is left out:
    "HTTP 401 Unauthorized: Invalid API key.", not "Unauthorized: Unauthorized: …".
    """
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    if parsed is None:
        lines = body.decode("utf-8", "replace").strip().splitlines()
        return _cap(lines[0]) if lines else ""
    if not isinstance(parsed, dict):
        return _cap(str(parsed))
    title, message = parsed.get("title"), parsed.get("message")
    if isinstance(title, str) and said and title.strip().casefold() == said.strip().casefold():
        title = None
    text = ": ".join(str(part) for part in (title, message) if part) or str(parsed)
    request_id = parsed.get("request_id")
    return _cap(f"{text} (request id {request_id})" if request_id else text)


MAX_OUTSIDE_TEXT = 300  # characters of a server's message that reach one error line


def _cap(text: str) -> str:
    """The server's text cut to MAX_OUTSIDE_TEXT, masked first: no cut leaves half a key."""
    text = redact.redact(text)
    return text if len(text) <= MAX_OUTSIDE_TEXT else text[: MAX_OUTSIDE_TEXT - 1] + "…"


def status_failure(status: int, reason: str, body: bytes, attempts: int) -> CliError:
    """An HTTP error response (its error body read) as the CliError with the right exit code."""
    text = f"HTTP {status} {reason}: {error_detail(body, said=reason)}".rstrip(": ")
    if attempts > 1:
        text += f" (after {attempts} attempts)"
    title, request_id = error_facts(body)
    failure: CliError
    if status in (401, 403):
        failure = AuthError(text, kind=AUTH_REJECTED)
    elif 400 <= status < 500:
        failure = RequestRejected(text)
    elif status >= 500:
        failure = ServerError(text)
    else:
        failure = StreamError(f"unexpected response: {text}")
    return failure.with_server_facts(status=status, title=title, request_id=request_id)


def _parameter(parameters: str, name: str) -> str | None:
    """One parameter of a media type (`charset` of `text/event-stream; charset=utf-8`)."""
    for item in parameters.split(";"):
        key, _, value = item.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"').lower()
    return None


def error_event_failure(
    message: str, request_id: str | None, *, title: str | None = None, status: int | None = None
) -> CliError:
    """An `error` event in the stream (after HTTP 200), with the exit code its status names.

    The server also refuses a request this way (an unknown model, a bad voice: a
    400 inside a 200 stream); that is exit 4, as the same refusal over plain HTTP
    is, not 5, which scripts take as worth retrying. No status, or a 5xx: 5.
    """
    text = f"the server reported an error: {_cap(message)}"
    text = f"{text} (request id {_cap(request_id)})" if request_id else text
    failure: CliError
    if status in (401, 403):
        failure = AuthError(text, kind=AUTH_REJECTED)
    elif status is not None and 400 <= status < 500:
        failure = RequestRejected(text)
    else:
        failure = ServerError(text)
    return failure.with_server_facts(
        status=status,
        title=_cap(title) if title else None,
        request_id=_cap(request_id) if request_id else None,
    )


JSON_BODY_LIMIT = 16 * 1024 * 1024  # a page of voices is a few KB


def json_body(body: bytes) -> object:
    """A JSON answer (voices), or a StreamError saying it is not one.

    Numbers JSON cannot hold (NaN, Infinity, 1e400, which Python reads as floats)
    become null, unknown: what we write back out (`voices list --json`) stays strict.
    """
    try:
        return json.loads(body, parse_constant=_null, parse_float=_finite_or_null)
    except (ValueError, RecursionError):
        start = redact.redact(body[:80].decode("utf-8", "replace"))
        raise StreamError(f"the server's answer is not JSON: {start!r}") from None


def _null(constant: str) -> None:
    return None


def _finite_or_null(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def unexpected_content_type(path: str, content_type: str) -> StreamError | None:
    """A 200 whose body is not what the endpoint sends, or None when it is."""
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    if path not in (SSE_PATH, BYTES_PATH):  # every route but the TTS ones answers JSON
        if media_type == "application/json":
            return None
        return StreamError(f"expected JSON from the server, got content type {content_type!r}")
    if path == SSE_PATH:
        if media_type != EVENT_STREAM:
            return StreamError(
                f"expected an event stream from the server, got content type {content_type!r}"
            )
        charset = _parameter(parameters, "charset")
        if charset not in (None, "utf-8", "utf8"):
            return StreamError(f"the event stream is in charset {charset!r}; only UTF-8 is read")
        return None
    if media_type in ("application/json", EVENT_STREAM) or media_type.startswith("text/"):
        return StreamError(f"expected audio from the server, got content type {content_type!r}")
    return None
