"""The async httpx driver for batch mode: many TTS streams over one connection pool.

The same contract as `client.CartesiaClient.stream` (the iterator ends normally
only when the response ended as it should; every other ending raises a CliError
with its exit code; retries only before the first byte of audio), the same
retry policy, error mapping, event parsing and limits. Waits are bounded with
asyncio instead of timer threads: the status line and headers are due within
--connect-timeout plus --idle-timeout of sending, each event (or body piece)
within --idle-timeout of the last, an error body within --idle-timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TypeVar, cast

import httpx
from httpx_sse import EventSource

from cartesia_cli.api import protocol
from cartesia_cli.api.client import (
    ERROR_BODY_LIMIT,
    ApiConfig,
    DebugLog,
    _FramedText,
    _idle_failure,
    _late_response,
    _midstream_failure,
    _tls_for,
    check_proxies,
    parse_or_raise,
    send_failure,
)
from cartesia_cli.api.events import AudioChunk, Done, Event, UnknownEvent
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.api.retry import retry_delay, should_retry
from cartesia_cli.errors import StreamError, UsageError

T = TypeVar("T")


class AsyncCartesiaClient:
    """One `httpx.AsyncClient` (one pool of at most `concurrency` connections) for a batch."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        concurrency: int,
        debug: DebugLog | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._debug = debug
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.idle_timeout,
            write=config.idle_timeout,
            pool=None,  # waiting for a free connection is waiting for our own turn
        )
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        check_proxies()
        try:
            self._http = httpx.AsyncClient(
                timeout=timeout,
                limits=limits,
                transport=transport,
                verify=_tls_for(config.base_url),
            )
        except (ValueError, ImportError, httpx.InvalidURL) as exc:  # a system proxy, say
            raise UsageError(f"cannot use the proxy set in the environment: {exc}") from None

    async def __aenter__(self) -> AsyncCartesiaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    async def stream(self, path: str, request: TtsRequest) -> AsyncIterator[Event]:
        """POST `request` to `path`; yield audio and timestamp events up to the end."""
        url = self._config.base_url.rstrip("/") + path
        accept = protocol.accept_for(path, request.audio)
        http_request = self._http.build_request(
            "POST",
            url,
            headers=protocol.headers(self._config.api_key, self._config.api_version, accept),
            content=request.encoded_body(),
        )
        response = await self._open(http_request, path)
        try:
            events = self._events(response) if path == protocol.SSE_PATH else self._body(response)
            async for event in events:
                yield event
        finally:
            await response.aclose()

    async def _open(self, request: httpx.Request, path: str) -> httpx.Response:
        attempts = self._config.retries + 1
        deadline = self._config.connect_timeout + self._config.idle_timeout
        for attempt in range(1, attempts + 1):
            self._log(f"attempt {attempt} of {attempts}: {request.method} {request.url}")
            try:
                response = await asyncio.wait_for(self._http.send(request, stream=True), deadline)
            except asyncio.TimeoutError:
                raise _late_response(self._config) from None
            except httpx.TransportError as exc:
                failure, retryable = send_failure(self._config, exc, attempt)
                if attempt == attempts or not retryable:
                    raise failure from None
                await self._pause(attempt, None, failure.message)
                continue
            if response.status_code == 200:
                return await _require_async_content(response, path)
            body, complete = await self._error_body(response)
            retry = complete and should_retry(response.status_code, response.headers)
            if attempt == attempts or not retry:
                status, reason = response.status_code, response.reason_phrase
                raise protocol.status_failure(status, reason, body, attempt)
            await self._pause(attempt, response.headers, f"HTTP {response.status_code}")
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _error_body(self, response: httpx.Response) -> tuple[bytes, bool]:
        body = bytearray()
        complete = True
        try:
            pieces = response.aiter_bytes()
            due = time.monotonic() + self._config.idle_timeout  # one deadline for all of it
            while len(body) < ERROR_BODY_LIMIT:
                piece = await asyncio.wait_for(_next(pieces), max(0.0, due - time.monotonic()))
                if piece is None:
                    break
                body += piece
        except (httpx.TransportError, httpx.DecodingError, asyncio.TimeoutError):
            complete = False
        finally:
            await response.aclose()
        return bytes(body[:ERROR_BODY_LIMIT]), complete

    async def _pause(self, attempt: int, headers: httpx.Headers | None, reason: str) -> None:
        delay = retry_delay(attempt - 1, headers)
        self._log(f"retrying in {delay:.2f} s after: {reason}")
        await asyncio.sleep(delay)

    async def _events(self, response: httpx.Response) -> AsyncIterator[Event]:
        body = _AsyncFramedText(response)
        sse = EventSource(cast(httpx.Response, body)).aiter_sse()
        # Progress is audio, timestamps or done: a server sending only pings, empty or
        # unknown events still times out, as in a single run.
        due = time.monotonic() + self._config.idle_timeout
        try:
            while True:
                item = await self._within(_next(sse), "event", due)
                if item is None:
                    break
                body.pending = 0
                event = parse_or_raise(item.event, item.data, self._log)
                if isinstance(event, Done):
                    return
                if event is not None and not isinstance(event, UnknownEvent):
                    due = time.monotonic() + self._config.idle_timeout
                    yield event
        finally:
            await sse.aclose()
        raise StreamError("the stream ended before the server sent `done` (audio may be cut short)")

    async def _body(self, response: httpx.Response) -> AsyncIterator[Event]:
        pieces = response.aiter_bytes()
        while True:
            due = time.monotonic() + self._config.idle_timeout
            piece = await self._within(_next(pieces), "data", due)
            if piece is None:
                return
            yield AudioChunk(piece)

    async def _within(self, step: Awaitable[T], awaited: str, due: float) -> T:
        """One read from the server, due by `due` (monotonic); failures mapped."""
        try:
            return await asyncio.wait_for(step, max(0.0, due - time.monotonic()))
        except asyncio.TimeoutError:
            raise _idle_failure(self._config, awaited) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _midstream_failure(exc, self._config, awaited) from None

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(line)


async def _next(items: AsyncIterator[T]) -> T | None:
    """The next item, or None at the end (an awaitable asyncio.wait_for can bound)."""
    try:
        return await items.__anext__()
    except StopAsyncIteration:
        return None


class _AsyncFramedText(_FramedText):
    """The SSE body as async text for EventSource: one BOM dropped, each event bounded."""

    async def aiter_text(self) -> AsyncIterator[str]:
        first = True
        async for text in self._response.aiter_text():
            if first:
                text, first = text.removeprefix("\ufeff"), False
            for piece in self._counted(text):
                yield piece

    def iter_text(self) -> Iterator[str]:  # pragma: no cover - the async body has no sync text
        raise TypeError("an async response is read with aiter_text")


async def _require_async_content(response: httpx.Response, path: str) -> httpx.Response:
    """A 200 of the right content type; any other is refused (its connection dropped)."""
    failure = protocol.unexpected_content_type(path, response.headers.get("content-type", ""))
    if failure is not None:
        await response.aclose()
        raise failure
    return response
