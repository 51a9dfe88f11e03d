"""The Cartesia HTTP client: builds the `/tts/sse` request and yields parsed events.

Contract of `CartesiaClient.stream_tts_sse`: the iterator ends normally if and
only if the server sent `done`; every other ending raises a `CliError`
subclass carrying the right exit code. No typer or rich here (ruff TID251).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource

from cartesia_cli import __version__
from cartesia_cli.errors import (
    AuthError,
    CliError,
    RequestRejected,
    ServerError,
    StreamError,
)
from cartesia_cli.events import Done, ErrorEvent, Event, parse_event

DebugLog = Callable[[str], None]


@dataclass(frozen=True)
class ApiConfig:
    base_url: str
    api_key: str
    api_version: str
    connect_timeout: float = 10.0
    idle_timeout: float = 30.0


@dataclass(frozen=True)
class TtsRequest:
    model_id: str
    transcript: str
    voice_id: str
    encoding: str
    sample_rate: int

    def to_body(self) -> dict[str, Any]:
        """The JSON body; options the user did not set are left out, never sent as null."""
        return {
            "model_id": self.model_id,
            "transcript": self.transcript,
            "voice": {"mode": "id", "id": self.voice_id},
            "output_format": {
                "container": "raw",
                "encoding": self.encoding,
                "sample_rate": self.sample_rate,
            },
        }


class CartesiaClient:
    """A thin httpx client for the Cartesia API; use as a context manager."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        debug: DebugLog | None = None,
    ) -> None:
        self._config = config
        self._debug = debug
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.idle_timeout,
            write=config.connect_timeout,
            pool=config.connect_timeout,
        )
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def __enter__(self) -> CartesiaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def stream_tts_sse(self, request: TtsRequest) -> Generator[Event, None, None]:
        """Yield the stream's events up to (not including) `done`; raise on any failure."""
        url = self._config.base_url.rstrip("/") + "/tts/sse"
        body = json.dumps(request.to_body(), separators=(",", ":")).encode()
        headers = self._headers()
        self._log_request(url, headers, body)
        try:
            with self._http.stream("POST", url, headers=headers, content=body) as response:
                self._log_response(response)
                _raise_for_status(response)
                yield from self._iter_events(response)
        except httpx.TimeoutException as exc:
            raise _timeout_error(exc, self._config) from None
        except httpx.ConnectError as exc:
            raise StreamError(f"could not connect to {self._config.base_url}: {exc}") from None
        except httpx.TransportError as exc:
            raise StreamError(f"connection to the server failed mid-stream: {exc}") from None

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._config.api_key}",
            "Cartesia-Version": self._config.api_version,
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "User-Agent": f"cartesia-cli/{__version__}",
        }

    def _iter_events(self, response: httpx.Response) -> Iterator[Event]:
        for sse in EventSource(response).iter_sse():
            if not sse.data:
                # The real API never sends data-less events; tolerate them as noise.
                self._log(f"ignored an event with no data (event: {sse.event})")
                continue
            event = parse_event(sse.event, sse.data)
            if isinstance(event, Done):
                self._log("received done")
                return
            if isinstance(event, ErrorEvent):
                raise _error_event(event)
            yield event
        raise StreamError(
            "the stream ended before the server sent `done` (audio may be incomplete)"
        )

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(line)

    def _log_request(self, url: str, headers: dict[str, str], body: bytes) -> None:
        if self._debug is None:
            return
        self._log(f"request: POST {url}")
        for name, value in headers.items():
            shown = "Bearer [redacted]" if name == "Authorization" else value
            self._log(f"request header: {name}: {shown}")
        self._log(f"request body: {body.decode()}")

    def _log_response(self, response: httpx.Response) -> None:
        if self._debug is None:
            return
        self._log(f"response: HTTP {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.items():
            self._log(f"response header: {name}: {value}")


def _raise_for_status(response: httpx.Response) -> None:
    """Turn an HTTP error into a CliError, reading the body *before* httpx-sse sees it."""
    status = response.status_code
    if status == 200:
        _require_event_stream(response)
        return
    response.read()
    detail = _error_detail(response)
    text = f"HTTP {status} {response.reason_phrase}: {detail}".rstrip(": ")
    if status in (401, 403):
        raise AuthError(f"{text} (check CARTESIA_API_KEY or --api-key)")
    if 400 <= status < 500:
        raise RequestRejected(text)
    if status >= 500:
        raise ServerError(text)
    raise StreamError(f"unexpected response: {text}")


def _require_event_stream(response: httpx.Response) -> None:
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        raise StreamError(
            f"expected an event stream from the server, got content type {content_type!r}"
        )


def _error_detail(response: httpx.Response) -> str:
    """`title: message (request id …)` from a JSON error body, else the body's first line."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip().splitlines()[0][:300] if response.text.strip() else ""
    if not isinstance(body, dict):
        return str(body)[:300]
    title, message = body.get("title"), body.get("message")
    text = ": ".join(str(part) for part in (title, message) if part) or str(body)[:300]
    request_id = body.get("request_id")
    return f"{text} (request id {request_id})" if request_id else text


def _error_event(event: ErrorEvent) -> CliError:
    text = f"the server reported an error: {event.message}"
    if event.request_id:
        text += f" (request id {event.request_id})"
    return ServerError(text)


def _timeout_error(exc: httpx.TimeoutException, config: ApiConfig) -> StreamError:
    if isinstance(exc, httpx.ConnectTimeout):
        return StreamError(
            f"timed out after {config.connect_timeout:g} s connecting to {config.base_url}"
        )
    return StreamError(f"no data from the server for {config.idle_timeout:g} s (idle timeout)")
