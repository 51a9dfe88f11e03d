"""The Cartesia HTTP client: builds the `/tts/sse` request and yields parsed events.

Contract of `CartesiaClient.stream_tts_sse`: the iterator ends normally if and
only if the server sent `done`; every other ending raises a `CliError`
subclass carrying the right exit code. Retries happen only while opening the
stream, so no audio can ever be duplicated. No typer or rich here (ruff TID251).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from collections.abc import Callable, Generator
from typing import Any, NamedTuple

import httpx
from httpx_sse import EventSource

from cartesia_cli import __version__, redact, tls
from cartesia_cli.errors import AuthError, CliError, RequestRejected, ServerError, StreamError
from cartesia_cli.events import Done, ErrorEvent, Event, parse_event
from cartesia_cli.retry import retry_delay, should_retry
from cartesia_cli.watchdog import IdleWatchdog

DebugLog = Callable[[str], None]


class ApiConfig(NamedTuple):
    base_url: str
    api_key: str
    api_version: str
    connect_timeout: float = 10.0
    idle_timeout: float = 30.0
    retries: int = 2


class TtsRequest(NamedTuple):
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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._debug = debug
        self._sleep = sleep
        # The read timeout is a backstop for total silence; IdleWatchdog is the real
        # per-event limit (keep-alive bytes restart httpx's timer, not ours).
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.idle_timeout,
            write=config.idle_timeout,
            pool=config.connect_timeout,
        )
        self._http = httpx.Client(
            timeout=timeout, transport=transport, verify=_tls_for(config.base_url)
        )

    def __enter__(self) -> CartesiaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def stream_tts_sse(self, request: TtsRequest) -> Generator[Event, None, None]:
        """Yield the stream's events up to (not including) `done`; raise on any failure."""
        body = json.dumps(request.to_body(), separators=(",", ":")).encode()
        url = self._config.base_url.rstrip("/") + "/tts/sse"
        http_request = self._http.build_request("POST", url, headers=self._headers(), content=body)
        self._log_request(http_request)
        response = self._open(http_request)
        try:
            yield from self._iter_events(response)
        finally:
            response.close()

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._config.api_key}",
            "Cartesia-Version": self._config.api_version,
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "User-Agent": f"cartesia-cli/{__version__}",
        }

    def _open(self, request: httpx.Request) -> httpx.Response:
        """Send until a 200 event stream comes back, retrying transient failures."""
        attempts = self._config.retries + 1
        for attempt in range(1, attempts + 1):
            self._log(f"attempt {attempt} of {attempts}: {request.method} {request.url}")
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                failure, retryable = self._send_failure(exc, attempt)
                if attempt == attempts or not retryable:
                    raise failure from None
                self._pause(attempt, None, failure.message)
                continue
            self._log_response(response)
            if response.status_code == 200:
                return _require_event_stream(response)
            response.read()
            response.close()
            if attempt == attempts or not should_retry(response.status_code, response.headers):
                raise _status_failure(response, attempt)
            self._pause(attempt, response.headers, f"HTTP {response.status_code}")
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _pause(self, attempt: int, headers: httpx.Headers | None, reason: str) -> None:
        delay = retry_delay(attempt - 1, headers)
        self._log(f"retrying in {delay:.2f} s after: {reason}")
        self._sleep(delay)

    def _send_failure(self, exc: httpx.TransportError, attempt: int) -> tuple[StreamError, bool]:
        """What a send that got no response means, and whether trying again can help.

        Nothing has been written yet, so a retry cannot duplicate audio.
        """
        tries = f" (after {attempt} attempts)" if attempt > 1 else ""
        if isinstance(exc, httpx.ConnectTimeout):
            return StreamError(
                f"timed out after {self._config.connect_timeout:g} s connecting to "
                f"{self._config.base_url}{tries}; raise it with --connect-timeout"
            ), True
        if isinstance(exc, httpx.ConnectError):
            # A failed TLS handshake (an untrusted certificate) would fail the same way again.
            failure = StreamError(f"could not connect to {self._config.base_url}: {exc}{tries}")
            return failure, not _tls_rejected(exc)
        if isinstance(exc, httpx.TimeoutException):
            # The server took the request and went quiet: another try would wait as long again.
            return _idle_failure(self._config), False
        # Dropped before any response (a restarting server, a proxy): as transient as a refusal.
        return StreamError(
            f"connection to the server failed before the response: {exc}{tries}"
        ), True

    def _iter_events(self, response: httpx.Response) -> Generator[Event, None, None]:
        with IdleWatchdog(self._config.idle_timeout, lambda: _cut(response)) as watchdog:
            try:
                for sse in EventSource(response).iter_sse():
                    watchdog.feed()
                    event = self._parse(sse.event, sse.data)
                    if isinstance(event, Done):
                        return
                    if event is not None:
                        watchdog.pause()  # time spent writing is not the server's silence
                        yield event
                        watchdog.feed()
            except Exception as exc:
                if watchdog.fired:
                    raise _idle_failure(self._config) from None
                if isinstance(exc, httpx.TransportError):
                    raise _midstream_failure(exc, self._config) from None
                raise
            if watchdog.fired:
                raise _idle_failure(self._config)
        raise StreamError("the stream ended before the server sent `done` (audio may be cut short)")

    def _parse(self, name: str, data: str) -> Event | None:
        if not data:
            # The real API never sends data-less events; tolerate them as noise.
            self._log(f"ignored an event with no data (event: {name})")
            return None
        event = parse_event(name, data)
        if isinstance(event, ErrorEvent):
            raise _error_event_failure(event)
        if isinstance(event, Done):
            self._log("received done")
        return event

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(line)

    def _log_request(self, request: httpx.Request) -> None:
        if self._debug is None:
            return
        for raw_name, raw_value in request.headers.raw:
            name = raw_name.decode()
            shown = (
                f"Bearer {redact.MASK}" if name.lower() == "authorization" else raw_value.decode()
            )
            self._log(f"request header: {name}: {shown}")
        self._log(f"request body: {request.content.decode()}")

    def _log_response(self, response: httpx.Response) -> None:
        if self._debug is None:
            return
        self._log(f"response: HTTP {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.items():
            self._log(f"response header: {name}: {value}")


def _tls_for(base_url: str) -> ssl.SSLContext | bool:
    """The verifying context for https://; none at all for plain http://.

    httpx would otherwise load the CA bundle as the client is made (~40 ms) even
    for the local fake server, and redirects are not followed, so an http://
    base URL never reaches TLS. For https:// the context usually comes from the
    prefetch started in launch.py.
    """
    if not base_url.startswith("https://"):
        return False
    try:
        return tls.context()
    except (OSError, ssl.SSLError) as exc:
        raise StreamError(
            f"cannot set up TLS (check SSL_CERT_FILE / SSL_CERT_DIR): {exc}"
        ) from None


def _tls_rejected(exc: BaseException) -> bool:
    """A failed TLS handshake (say, an untrusted certificate) will fail the same way again."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _cut(response: httpx.Response) -> None:
    """Unblock a read stuck on this response's socket, from another thread.

    `socket.socket.shutdown` is called unbound on purpose: an SSLSocket's own
    shutdown would also drop its TLS state under the reading thread.
    """
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _require_event_stream(response: httpx.Response) -> httpx.Response:
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        response.close()
        raise StreamError(
            f"expected an event stream from the server, got content type {content_type!r}"
        )
    return response


def _status_failure(response: httpx.Response, attempts: int) -> CliError:
    """An HTTP error as a CliError, with the server's message from the body already read."""
    status = response.status_code
    detail = _error_detail(response)
    text = f"HTTP {status} {response.reason_phrase}: {detail}".rstrip(": ")
    if attempts > 1:
        text += f" (after {attempts} attempts)"
    if status in (401, 403):
        return AuthError(f"{text} (check CARTESIA_API_KEY or --api-key)")
    if 400 <= status < 500:
        return RequestRejected(text)
    if status >= 500:
        return ServerError(text)
    return StreamError(f"unexpected response: {text}")


def _error_detail(response: httpx.Response) -> str:
    """`title: message (request id …)` from a JSON error body, else the body's first line."""
    try:
        body = response.json()
    except ValueError:
        lines = response.text.strip().splitlines()
        return lines[0][:300] if lines else ""
    if not isinstance(body, dict):
        return str(body)[:300]
    title, message = body.get("title"), body.get("message")
    text = ": ".join(str(part) for part in (title, message) if part) or str(body)[:300]
    request_id = body.get("request_id")
    return f"{text} (request id {request_id})" if request_id else text


def _error_event_failure(event: ErrorEvent) -> CliError:
    text = f"the server reported an error: {event.message}"
    if event.request_id:
        text += f" (request id {event.request_id})"
    return ServerError(text)


def _idle_failure(config: ApiConfig) -> StreamError:
    return StreamError(
        f"no event from the server for {config.idle_timeout:g} s (idle timeout); "
        "raise it with --idle-timeout"
    )


def _midstream_failure(exc: httpx.TransportError, config: ApiConfig) -> StreamError:
    if isinstance(exc, httpx.TimeoutException):
        return _idle_failure(config)
    return StreamError(f"connection to the server failed mid-stream: {exc}")
