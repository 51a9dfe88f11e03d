"""The async httpx driver for batch mode: many TTS streams over one connection pool.

The same contract as `client.CartesiaClient.stream` (the iterator ends normally
only when the response ended as it should; every other ending raises a CliError
with its exit code; retries only before the first byte of audio), the same
retry policy, error mapping, event parsing and limits (contract.py, shared by
every driver; this module is the I/O). Waits are bounded with
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
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar, cast

import httpx
from httpx_sse import EventSource

from cartesia_cli.api import contract, protocol
from cartesia_cli.api.contract import ApiConfig, DebugLog, Driver, ErrorBody
from cartesia_cli.api.events import AudioChunk, Done, Event, UnknownEvent, is_progress
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.api.retry import is_concurrency_refusal, lowered_limit, retry_delay
from cartesia_cli.api.sse_body import FramedText

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
        lowered = lowered_limit(self.limit, self.in_flight)
        if lowered is None:
            return False
        self.limit = lowered
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


class AsyncCartesiaClient(Driver[Callable[[float], Awaitable[None]]]):
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
        super().__init__(config, debug, sleep)
        self.gate = ConcurrencyGate(concurrency)
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.idle_timeout,
            write=config.idle_timeout,
            pool=None,  # waiting for a free connection is waiting for our own turn
        )
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        contract.check_proxies()
        self._http = contract.http_client(
            httpx.AsyncClient,
            timeout=timeout,
            limits=limits,
            transport=transport,
            verify=contract.tls_for(config.base_url),
        )

    async def __aenter__(self) -> AsyncCartesiaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    async def stream(self, path: str, request: TtsRequest) -> AsyncGenerator[Event, None]:
        """POST `request` to `path`; yield audio and timestamp events up to the end."""
        place = _Place(self.gate)
        await place.take()
        try:
            response = await self._open(path, request, place)
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

    async def _open(self, path: str, request: TtsRequest, place: _Place) -> httpx.Response:
        """Send `request` until it is answered 200, the retries are spent, or it must not be.

        A concurrency refusal that lowered the gate's limit is not a failure of
        the request: it is sent again under the new limit, without using up a retry.
        """
        api_request = contract.tts_request(self._config, path, request)
        http_request = self._http.build_request(
            api_request.method,
            api_request.url(self._config),
            headers=api_request.headers,
            content=api_request.body,
        )
        attempts = self._attempts(api_request)
        deadline = self._config.connect_timeout + self._config.idle_timeout
        refusals = 0
        while True:
            attempts.start(f"{http_request.method} {http_request.url}")
            try:
                response = await bounded(self._http.send(http_request, stream=True), deadline)
            except asyncio.TimeoutError:
                raise contract.late_answer(self._config) from None
            except httpx.TransportError as exc:
                await self._sleep(attempts.after_send_failure(exc))
                continue
            if response.status_code == 200:
                return await _require_content(response, path)
            status, headers = response.status_code, response.headers
            body = await self._error_body(response)
            if (
                attempts.may_repeat(status, headers, body)
                and is_concurrency_refusal(status, body.data)
                and self.gate.refused()
            ):
                attempts.forgive()  # ours to fix, and fixed: not a retry spent
                await self._wait_for_a_place(place, refusals, headers)
                refusals += 1
                continue
            reason = response.reason_phrase
            await self._sleep(attempts.after_error_status(status, reason, headers, body))

    async def _wait_for_a_place(self, place: _Place, refusals: int, headers: httpx.Headers) -> None:
        """After a concurrency refusal: out of the gate, a pause, then in again under its limit."""
        place.give_back()
        delay = retry_delay(refusals, headers, spread=True)
        self._log(
            f"over the server's concurrency limit: at most {self.gate.limit} at once from now; "
            f"sending again in {delay:.2f} s"
        )
        await self._sleep(delay)
        await place.take()

    async def _error_body(self, response: httpx.Response) -> ErrorBody:
        """As much of an error body as contract.ErrorBody keeps, within --idle-timeout."""
        body = ErrorBody()
        pieces = response.aiter_bytes()
        due = time.monotonic() + self._config.idle_timeout  # one deadline for all of it
        try:
            while (piece := await bounded(_next(pieces), _left(due))) is not None:
                if body.take(piece):
                    break
        except (*contract.READ_FAILURES, asyncio.TimeoutError):
            body.cut_short()
        finally:
            await response.aclose()
        return body

    async def _events(self, response: httpx.Response) -> AsyncIterator[Event]:
        body = FramedText(response)
        sse = EventSource(cast(httpx.Response, body)).aiter_sse()
        # Progress is audio, usable timestamps or done (events.is_progress): a server
        # sending only pings, empty or unknown events still times out, as in a single run.
        due = time.monotonic() + self._config.idle_timeout
        try:
            while True:
                item = await self._within(_next(sse), "event", due)
                if item is None:
                    break
                body.pending = 0
                event = contract.parse_or_raise(item.event, item.data, self._log)
                if isinstance(event, Done):
                    return
                if event is None or isinstance(event, UnknownEvent):
                    continue
                if is_progress(event):
                    due = time.monotonic() + self._config.idle_timeout
                yield event  # timestamps with nothing usable too: their drops are counted
        finally:
            await sse.aclose()
        raise contract.ended_before_done()

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
            return await bounded(step, _left(due))
        except asyncio.TimeoutError:
            raise contract.idle_failure(self._config, awaited) from None
        except contract.READ_FAILURES as exc:
            raise contract.midstream_failure(exc, self._config, awaited) from None


def _left(due: float) -> float:
    return max(0.0, due - time.monotonic())


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


async def _require_content(response: httpx.Response, path: str) -> httpx.Response:
    """A 200 of the right content type; any other is refused (its connection dropped)."""
    failure = protocol.unexpected_content_type(path, response.headers.get("content-type", ""))
    if failure is not None:
        await response.aclose()
        raise failure
    return response
