"""The httpx driver for the TTS endpoints: send with retries, then yield events.

Contract of `CartesiaClient.stream`: the iterator ends normally if and only if
the response ended as it should (`done` on SSE, a complete body on bytes);
every other ending raises a `CliError` subclass carrying the right exit code.
Retries happen only while opening the response, so no audio is ever duplicated.
The protocol itself (bodies, errors, events, retry policy) is in the I/O-free
modules beside this one.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource

from cartesia_cli import redact
from cartesia_cli.api import preconnect, protocol, proxy, tls
from cartesia_cli.api.events import AudioChunk, Done, ErrorEvent, Event, UnknownEvent, parse_event
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.api.retry import retry_delay, should_retry
from cartesia_cli.api.watchdog import IdleWatchdog
from cartesia_cli.base_url import endpoint
from cartesia_cli.errors import CONNECT_TIMEOUT, IDLE_TIMEOUT, TLS_SETUP, StreamError, UsageError

DebugLog = Callable[[str], None]
JSON = "application/json"


class ApiConfig(NamedTuple):
    """Where and how to connect; the values come from the settings table."""

    base_url: str
    api_key: str
    api_version: str
    connect_timeout: float
    idle_timeout: float
    retries: int


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
        # The socket of the connection in use, seen through httpcore's trace hook, so
        # that the response deadline can cut a read that a trickling server drags out.
        self._socket: socket.socket | None = None
        self._deadline: IdleWatchdog | None = None
        # The read timeout is a backstop for total silence; IdleWatchdog is the real
        # per-event limit (keep-alive bytes restart httpx's timer, not ours).
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.idle_timeout,
            write=config.idle_timeout,
            pool=config.connect_timeout,
        )
        check_proxies()
        verify = _tls_for(config.base_url)
        if transport is None:
            transport = _startup_transport(config.base_url, verify, self._log)
        try:
            self._http = httpx.Client(timeout=timeout, transport=transport, verify=verify)
        except (ValueError, ImportError, httpx.InvalidURL) as exc:  # a system proxy, say
            raise UsageError(f"cannot use the proxy set in the environment: {exc}") from None

    def __enter__(self) -> CartesiaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def stream(self, path: str, request: TtsRequest) -> Generator[Event, None, None]:
        """POST `request` to `path` (SSE or bytes); yield audio and timestamp events."""
        url = self._config.base_url.rstrip("/") + path
        accept = protocol.accept_for(path, request.audio)
        http_request = self._http.build_request(
            "POST",
            url,
            headers=protocol.headers(self._config.api_key, self._config.api_version, accept),
            content=request.encoded_body(),
            extensions={"trace": self._trace},
        )
        self._log_request(http_request)
        response = self._open(http_request, path)
        try:
            if path == protocol.SSE_PATH:
                yield from self._iter_events(response)
            else:
                yield from self._iter_body(response)
        finally:
            response.close()

    def get_json(self, path: str, query: Mapping[str, str] | None = None) -> object:
        """GET `path` (a voices route) with retries; its JSON body, read within --idle-timeout."""
        url = self._config.base_url.rstrip("/") + path
        headers = protocol.headers(self._config.api_key, self._config.api_version, JSON)
        del headers["Content-Type"]  # a GET has no body
        http_request = self._http.build_request(
            "GET", url, params=query, headers=headers, extensions={"trace": self._trace}
        )
        self._log_request(http_request)
        response = self._open(http_request, path)
        try:
            return protocol.json_body(self._read_whole(response))
        finally:
            response.close()

    def _read_whole(self, response: httpx.Response) -> bytes:
        """A JSON body, whole: bounded in size, and due within --idle-timeout (a deadline)."""
        body = bytearray()
        with self._watched(response, "data") as watchdog:
            watchdog.feed()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > protocol.JSON_BODY_LIMIT:
                    raise StreamError("the server's answer is larger than 16 MB; stopped reading")
        return bytes(body)

    def _open(self, request: httpx.Request, path: str) -> httpx.Response:
        """Send until a 200 of the right kind comes back, retrying transient failures."""
        attempts = self._config.retries + 1
        for attempt in range(1, attempts + 1):
            self._log(f"attempt {attempt} of {attempts}: {request.method} {request.url}")
            with self._response_deadline() as deadline:
                try:
                    response = self._http.send(request, stream=True)
                except httpx.TransportError as exc:
                    if deadline.fired:
                        raise _late_response(self._config) from None
                    failure, retryable = send_failure(self._config, exc, attempt)
                    if attempt == attempts or not retryable:
                        raise failure from None
                    self._pause(attempt, None, failure.message)
                    continue
                deadline.pause()  # the answer is here: nothing may cut it from now on
                if deadline.fired:  # it came just as time ran out: as late as not at all
                    response.close()
                    raise _late_response(self._config)
                self._log_response(response)
                if response.status_code == 200:
                    return _require_content(response, path)
                deadline.resume()  # an error body is still due by the same deadline
                body, complete = _error_body(response)
            if not complete:
                self._log("the error body was cut short; not retrying")
            retry = complete and should_retry(response.status_code, response.headers)
            if attempt == attempts or not retry:
                status, reason = response.status_code, response.reason_phrase
                raise protocol.status_failure(status, reason, body, attempt)
            self._pause(attempt, response.headers, f"HTTP {response.status_code}")
        raise AssertionError("unreachable: the last attempt returns or raises")

    @contextlib.contextmanager
    def _response_deadline(self) -> Iterator[IdleWatchdog]:
        """The status line, headers and any error body, due within --idle-timeout of sending.

        A deadline, not a timer every byte restarts: httpx's read timeout would let a
        server that sends one byte every half second hold the run forever.
        """
        with IdleWatchdog(self._config.idle_timeout, self._cut_socket, armed=False) as deadline:
            self._deadline = deadline
            try:
                yield deadline
            finally:
                self._deadline = None

    def _trace(self, name: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: remember the connection's socket; arm the deadline on send."""
        if name.endswith(("connect_tcp.complete", "start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            self._socket = sock if isinstance(sock, socket.socket) else None
        elif name.endswith("send_request_headers.started") and self._deadline is not None:
            self._deadline.feed()

    def _cut_socket(self) -> None:
        if self._socket is not None:
            _shutdown(self._socket)

    def _pause(self, attempt: int, headers: httpx.Headers | None, reason: str) -> None:
        delay = retry_delay(attempt - 1, headers)
        self._log(f"retrying in {delay:.2f} s after: {reason}")
        self._sleep(delay)

    def _iter_events(self, response: httpx.Response) -> Generator[Event, None, None]:
        """SSE: the events up to (not including) `done`."""
        body = _FramedText(response)
        # EventSource reads only `headers` and `iter_text()`, which _FramedText provides.
        with self._watched(response, "event") as watchdog:
            for sse in EventSource(cast(httpx.Response, body)).iter_sse():
                body.pending = 0
                event = self._parse(sse.event, sse.data)
                if isinstance(event, Done):
                    return
                if event is None:
                    continue  # carries nothing: not progress, the timer runs on
                if not isinstance(event, UnknownEvent):
                    # Progress is audio, timestamps, done or error (which raised): a
                    # server sending only pings or unknown events still times out.
                    watchdog.feed()
                watchdog.pause()  # time spent writing is not the server's silence
                yield event
                watchdog.resume()
        raise StreamError("the stream ended before the server sent `done` (audio may be cut short)")

    def _iter_body(self, response: httpx.Response) -> Generator[Event, None, None]:
        """Bytes: the body as it arrives; a body cut short raises (httpx sees it)."""
        with self._watched(response, "data") as watchdog:
            for data in response.iter_bytes():
                watchdog.feed()
                watchdog.pause()
                yield AudioChunk(data)
                watchdog.resume()

    @contextlib.contextmanager
    def _watched(self, response: httpx.Response, awaited: str) -> Iterator[IdleWatchdog]:
        """Bound the silence between events (or body pieces), and map failures mid-stream."""
        with IdleWatchdog(self._config.idle_timeout, lambda: _cut(response)) as watchdog:
            try:
                yield watchdog
            except Exception as exc:
                if watchdog.fired:
                    raise _idle_failure(self._config, awaited) from None
                # A body that cannot be decoded (a broken Content-Encoding) is as cut short
                # as one whose connection dropped.
                if isinstance(exc, httpx.TransportError | httpx.DecodingError):
                    raise _midstream_failure(exc, self._config, awaited) from None
                raise
            if watchdog.fired:
                raise _idle_failure(self._config, awaited)

    def _parse(self, name: str, data: str) -> Event | None:
        return parse_or_raise(name, data, self._log)

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
        if request.content:
            self._log(f"request body: {request.content.decode()}")

    def _log_response(self, response: httpx.Response) -> None:
        if self._debug is None:
            return
        self._log(f"response: HTTP {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.items():
            self._log(f"response header: {name}: {value}")


def send_failure(
    config: ApiConfig, exc: httpx.TransportError, attempt: int
) -> tuple[StreamError, bool]:
    """What a send that got no response means, and whether trying again can help.

    Nothing has been written yet, so a retry cannot duplicate audio.
    """
    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
    base_url = config.base_url
    if isinstance(exc, httpx.ConnectTimeout):
        seconds = config.connect_timeout
        message = f"timed out after {seconds:g} s connecting to {base_url}{tries}"
        return StreamError(message, kind=CONNECT_TIMEOUT), True
    if isinstance(exc, httpx.ConnectError):
        # A failed TLS handshake (an untrusted certificate) would fail the same way again.
        failure = StreamError(f"could not connect to {base_url}: {exc}{tries}")
        return failure, not _tls_rejected(exc)
    if isinstance(exc, httpx.TimeoutException):
        # The server took the request and went quiet: another try would wait as long again.
        return _idle_failure(config), False
    # Dropped before any response (a restarting server, a proxy): as transient as a refusal.
    return StreamError(f"connection to the server failed before the response: {exc}{tries}"), True


def parse_or_raise(name: str, data: str, log: DebugLog) -> Event | None:
    """One SSE event; an `error` event raises its failure; an event with no data is None."""
    if not data:
        # The real API never sends data-less events; tolerate them as noise.
        log(f"ignored an event with no data (event: {name})")
        return None
    event = parse_event(name, data)
    if isinstance(event, ErrorEvent):
        raise protocol.error_event_failure(
            event.message, event.request_id, title=event.title, status=event.status_code
        )
    if isinstance(event, Done):
        log("received done")
    return event


def environment_proxy(base_url: str) -> str | None:
    """The proxy httpx will use for `base_url` (its user and password masked), or None.

    From HTTP(S)_PROXY / ALL_PROXY / NO_PROXY in any letter case, as httpx reads
    them, and from macOS's or Windows' system settings, which urllib's getproxies()
    adds and httpx honours too. Shown by --debug, and warned about over plain
    http://, where the key would reach the proxy in clear.
    """
    from urllib.request import getproxies

    in_force = {f"{scheme}_proxy": value for scheme, value in getproxies().items()}
    try:
        found = proxy.proxy_for(base_url, in_force)
    except proxy.ProxyError:  # a system setting httpx cannot use either: it goes direct
        return None
    if found is None:
        return None
    shown = urlsplit(found.url)
    if shown.username is not None or shown.password is not None:
        shown = shown._replace(netloc="***@" + shown.netloc.rpartition("@")[2])
    return shown.geturl()


def check_proxies() -> None:
    """A usage error, naming the variable, for a proxy setting httpx would refuse.

    httpx builds a transport for every proxy variable as a client is made, so
    one it refuses stops every request, and from deep inside httpx.
    """
    try:
        for built in proxy.configured(os.environ):
            if built.url.lower().startswith("socks"):
                _check_socks(built.variable)
    except proxy.ProxyError as exc:
        raise UsageError(str(exc)) from None


def _check_socks(variable: str) -> None:
    import importlib.util

    if importlib.util.find_spec("socksio") is None:
        raise proxy.ProxyError(variable, "a SOCKS proxy needs the socksio package installed")


def _startup_transport(
    base_url: str, verify: ssl.SSLContext | bool, log: Callable[[str], None]
) -> httpx.HTTPTransport | None:
    """A transport whose first connection is the one launch.py opened, if one is waiting.

    None otherwise: httpx then builds its own, honouring proxies in the environment
    (launch.py opens no connection when one is set, as httpx would not use it).
    """
    target = endpoint(base_url)
    if target is None or not preconnect.waiting():
        return None
    # macOS's and Windows' system settings too, which launch.py cannot see cheaply.
    if environment_proxy(base_url) is not None:
        preconnect.discard()  # a transport given to httpx would go direct
        return None
    transport = httpx.HTTPTransport(verify=verify)
    try:  # it names httpcore's classes: a future httpcore without them means no swap
        from cartesia_cli.api import startup_backend
    except (ImportError, AttributeError) as exc:
        preconnect.discard(f"httpcore is laid out differently than expected ({exc})")
        log(f"start-up connection: {preconnect.outcome()}")
        return None
    return transport if startup_backend.install(transport, target, log) else None


def _tls_for(base_url: str) -> ssl.SSLContext | bool:
    """The verifying context for https://; none at all for plain http://.

    httpx would otherwise load the CA bundle as the client is made (~40 ms) even
    for the local fake server, and redirects are not followed, so an http://
    base URL never reaches TLS. For https:// the context usually comes from the
    prefetch started in launch.py.
    """
    if urlsplit(base_url).scheme == "http":  # only plain http goes without: never HTTPS://
        return False
    try:
        return tls.context()
    except (OSError, ssl.SSLError) as exc:
        raise StreamError(f"cannot set up TLS: {exc}", kind=TLS_SETUP) from None


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
        _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


EVENT_LIMIT = 16 * 1024 * 1024  # characters; the largest real chunk event is far smaller


class _FramedText:
    """The SSE body as text for EventSource, with the two rules it leaves to us.

    One UTF-8 byte-order mark at the very start is dropped, as the SSE standard
    says (otherwise the first field name would be "\ufeffdata" and the first
    chunk lost). And no event may grow past EVENT_LIMIT: a `data:` line that
    never ends would otherwise be buffered until memory runs out. `pending`
    counts the text since the last complete event, to the piece.
    """

    def __init__(self, response: httpx.Response) -> None:
        self.headers = response.headers
        self.pending = 0
        self._response = response

    def iter_text(self) -> Iterator[str]:
        pieces = self._response.iter_text()
        for first in pieces:
            yield from self._counted(first.removeprefix("\ufeff"))
            break
        for text in pieces:
            yield from self._counted(text)

    def _counted(self, text: str) -> Iterator[str]:
        self.pending += len(text)
        if self.pending > EVENT_LIMIT:
            raise StreamError(
                f"an event from the server grew past {EVENT_LIMIT // (1024 * 1024)} MB "
                "without ending; stopped reading"
            )
        if text:
            yield text


ERROR_BODY_LIMIT = 64 * 1024  # an error message is short; a 600 MB body must not be read


def _error_body(response: httpx.Response) -> tuple[bytes, bool]:
    """The start of an error response's body, and whether it arrived whole.

    A body cut, garbled or too slow leaves the status line as the failure to
    report, and the connection in a state not worth retrying on.
    """
    body = bytearray()
    complete = True
    try:
        for piece in response.iter_bytes():
            body += piece
            if len(body) >= ERROR_BODY_LIMIT:
                break
    except (httpx.TransportError, httpx.DecodingError):
        complete = False
    finally:
        response.close()
    return bytes(body[:ERROR_BODY_LIMIT]), complete


def _require_content(response: httpx.Response, path: str) -> httpx.Response:
    failure = protocol.unexpected_content_type(path, response.headers.get("content-type", ""))
    if failure is not None:
        response.close()
        raise failure
    return response


def _idle_failure(config: ApiConfig, awaited: str = "event") -> StreamError:
    message = f"no {awaited} from the server for {config.idle_timeout:g} s (idle timeout)"
    return StreamError(message, kind=IDLE_TIMEOUT)


def _late_response(config: ApiConfig) -> StreamError:
    message = f"the server's response did not arrive within {config.idle_timeout:g} s"
    return StreamError(f"{message} (idle timeout)", kind=IDLE_TIMEOUT)


def _midstream_failure(exc: httpx.HTTPError, config: ApiConfig, awaited: str) -> StreamError:
    if isinstance(exc, httpx.TimeoutException):
        return _idle_failure(config, awaited)
    return StreamError(f"connection to the server failed mid-stream: {exc}")
