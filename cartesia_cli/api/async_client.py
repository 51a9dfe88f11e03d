"""The async httpx driver for batch mode: many TTS streams over one connection pool.

The same contract as `client.CartesiaClient.stream` (the iterator ends normally
only when the response ended as it should; every other ending raises a CliError
with its exit code; retries only before the first byte of audio), the same
retry policy, error mapping, event parsing and limits. Waits are bounded with
asyncio instead of timer threads: the status line and headers are due within
--connect-timeout plus --idle-timeout of sending, each event (or body piece)
within --idle-timeout of the last, an error body within --idle-timeout.

One thing more than a single run: a `ConcurrencyGate` keeps the requests in
flight under a limit that starts at --concurrency and comes down, for the rest
of the batch, each time the server refuses one of ours for its concurrency
limit (see `ConcurrencyGate.refused`); the refused request waits and goes again
under the lower limit, so a batch above the plan's limit slows down instead
of failing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
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
from cartesia_cli.api.retry import (
    concurrency_delay,
    is_concurrency_refusal,
    retry_delay,
    should_retry,
)
from cartesia_cli.errors import StreamError, UsageError

T = TypeVar("T")


class ConcurrencyGate:
    """How many of our requests may be in flight at once; lowered, never raised.

    A request holds its place from sending until its answer has been read (or
    given up). A concurrency refusal while others of ours were in flight says
    the plan allows fewer than were in flight: the limit comes down below that
    number, and by at least one, never below 1. One with none other in flight
    is not ours to fix (another client shares the plan): it changes nothing.
    So a batch has fewer than twice its first limit of refusals that are ours:
    each lowers the limit until it is 1, or was sent before it came down to 1.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._freed = asyncio.Event()

    async def enter(self) -> None:
        while self.in_flight >= self.limit:
            self._freed.clear()
            await self._freed.wait()
        self.in_flight += 1

    def leave(self) -> None:
        self.in_flight -= 1
        self._freed.set()  # every waiter looks again; the first to run takes the place

    def refused(self) -> bool:
        """A request in flight was refused for concurrency: whether ours were the cause."""
        if self.in_flight <= 1:
            return False
        self.limit = max(1, min(self.limit - 1, self.in_flight - 1))
        return True


class _Place:
    """One request's place under the gate: taken and given back at most once each time."""

    def __init__(self, gate: ConcurrencyGate) -> None:
        self._gate = gate
        self._held = False

    async def take(self) -> None:
        await self._gate.enter()
        self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._gate.leave()


class AsyncCartesiaClient:
    """One `httpx.AsyncClient` (one pool of at most `concurrency` connections) for a batch."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        concurrency: int,
        debug: DebugLog | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._debug = debug
        self._sleep = sleep  # every wait between attempts (tests give a quicker one)
        self.gate = ConcurrencyGate(concurrency)
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

    async def stream(self, path: str, request: TtsRequest) -> AsyncGenerator[Event, None]:
        """POST `request` to `path`; yield audio and timestamp events up to the end."""
        url = self._config.base_url.rstrip("/") + path
        accept = protocol.accept_for(path, request.audio)
        http_request = self._http.build_request(
            "POST",
            url,
            headers=protocol.headers(self._config.api_key, self._config.api_version, accept),
            content=request.encoded_body(),
        )
        place = _Place(self.gate)
        await place.take()
        try:
            response = await self._open(http_request, path, place)
            try:
                events = (
                    self._events(response) if path == protocol.SSE_PATH else self._body(response)
                )
                async for event in events:
                    yield event
            finally:
                await response.aclose()
        finally:
            place.give_back()

    async def _open(self, request: httpx.Request, path: str, place: _Place) -> httpx.Response:
        """Send `request` until it is answered 200, the retries are spent, or it must not be.

        A concurrency refusal that lowered the gate's limit is not a failure of
        the request: it is sent again under the new limit, without using up a retry.
        """
        attempts = self._config.retries + 1
        deadline = self._config.connect_timeout + self._config.idle_timeout
        attempt = sent = refusals = 0
        while True:
            attempt, sent = attempt + 1, sent + 1
            self._log(f"attempt {attempt} of {attempts}: {request.method} {request.url}")
            try:
                response = await bounded(self._http.send(request, stream=True), deadline)
            except asyncio.TimeoutError:
                raise _late_response(self._config) from None
            except httpx.TransportError as exc:
                failure, retryable = send_failure(self._config, exc, sent)
                if attempt == attempts or not retryable:
                    raise failure from None
                await self._pause(attempt, None, failure.message)
                continue
            if response.status_code == 200:
                return await _require_async_content(response, path)
            status, headers = response.status_code, response.headers
            body, complete = await self._error_body(response)
            retry = complete and should_retry(status, headers)
            if retry and is_concurrency_refusal(status, body) and self.gate.refused():
                attempt -= 1  # ours to fix, and fixed: not a retry spent
                await self._wait_for_a_place(place, refusals, headers)
                refusals += 1
                continue
            if attempt == attempts or not retry:
                raise protocol.status_failure(status, response.reason_phrase, body, sent)
            await self._pause(attempt, headers, f"HTTP {status}")

    async def _wait_for_a_place(self, place: _Place, refusals: int, headers: httpx.Headers) -> None:
        """After a concurrency refusal: out of the gate, a pause, then in again under its limit."""
        place.give_back()
        delay = concurrency_delay(refusals, headers)
        self._log(
            f"over the server's concurrency limit: at most {self.gate.limit} at once from now; "
            f"sending again in {delay:.2f} s"
        )
        await self._sleep(delay)
        await place.take()

    async def _error_body(self, response: httpx.Response) -> tuple[bytes, bool]:
        body = bytearray()
        complete = True
        try:
            pieces = response.aiter_bytes()
            due = time.monotonic() + self._config.idle_timeout  # one deadline for all of it
            while len(body) < ERROR_BODY_LIMIT:
                piece = await bounded(_next(pieces), max(0.0, due - time.monotonic()))
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
        await self._sleep(delay)

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
            return await bounded(step, max(0.0, due - time.monotonic()))
        except asyncio.TimeoutError:
            raise _idle_failure(self._config, awaited) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _midstream_failure(exc, self._config, awaited) from None

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(line)


async def bounded(step: Awaitable[T], seconds: float) -> T:
    """`asyncio.wait_for(step, seconds)`, except that it never loses a cancellation.

    Before Python 3.12, wait_for returns the step's result when it is cancelled in
    the same turn of the loop as the step ends: the cancellation is gone, and an
    item of a stopped batch streamed on to its end, its worker on to the next
    item. Here the step is a task awaited directly, and asyncio's own rule holds:
    a cancellation that finds it finished is raised at the caller's next step.
    """
    inner = asyncio.ensure_future(step)
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        inner.cancel()

    timer = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        return await inner
    except asyncio.CancelledError:
        if expired and not _cancel_requested():
            raise asyncio.TimeoutError from None
        raise
    finally:
        timer.cancel()


def _cancel_requested() -> bool:
    """Was the running task itself cancelled (Python 3.11 counts it; 3.10 cannot tell)?"""
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    return bool(cancelling is not None and cancelling())


async def _next(items: AsyncIterator[T]) -> T | None:
    """The next item, or None at the end (an awaitable `bounded` can bound)."""
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
