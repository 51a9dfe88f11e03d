"""The sync httpx driver: TTS streams, voices, and JSON requests, one at a time.

Contract of `CartesiaClient.stream`: the iterator ends normally if and only if
the response ended as it should (`done` on SSE, a complete body on bytes);
every other ending raises a `CliError` subclass carrying the right exit code.
Retries happen only while opening the response, so no audio is ever duplicated.
What a request is, what each failure means and whether to try again are
contract.py's, shared with the async client and the WebSocket; this module is
the I/O, and its waits: a blocking socket that a deadline thread may cut.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any, cast

import httpx
from httpx_sse import EventSource

from cartesia_cli import redact
from cartesia_cli.api import contract, preconnect, protocol, proxy
from cartesia_cli.api.contract import ApiConfig, ApiRequest, DebugLog, Driver, ErrorBody
from cartesia_cli.api.events import AudioChunk, Done, Event, is_progress
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.api.sse_body import FramedText
from cartesia_cli.api.watchdog import IdleWatchdog
from cartesia_cli.base_url import endpoint
from cartesia_cli.errors import StreamError


class CartesiaClient(Driver[Callable[[float], None]]):
    """A thin httpx client for the Cartesia API; use as a context manager."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        debug: DebugLog | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config, debug, sleep)
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
        contract.check_proxies()
        verify = contract.tls_for(config.base_url)
        if transport is None:
            transport = _startup_transport(config.base_url, verify, self._log)
        self._http = contract.http_client(
            httpx.Client, timeout=timeout, transport=transport, verify=verify
        )

    def __enter__(self) -> CartesiaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def stream(self, path: str, request: TtsRequest) -> Generator[Event, None, None]:
        """POST `request` to `path` (SSE or bytes); yield audio and timestamp events."""
        response = self._open(contract.tts_request(self._config, path, request))
        try:
            if path == protocol.SSE_PATH:
                yield from self._iter_events(response)
            else:
                yield from self._iter_body(response)
        finally:
            response.close()

    def get_json(self, path: str, query: Mapping[str, str] | None = None) -> object:
        """GET `path` (a voices route) with retries; its JSON body, read within --idle-timeout."""
        return self._json(contract.get_request(self._config, path, query))

    def post_json(self, path: str, payload: object) -> object:
        """POST `payload` to a route that creates something; the JSON answer.

        Sent again only when it never reached the server: see contract.py.
        """
        return self._json(contract.creating_request(self._config, path, payload))

    def patch_json(self, path: str, payload: object) -> object:
        """PATCH `payload` (fields to set) to `path`; the JSON answer. It may go twice."""
        return self._json(
            contract.json_request(self._config, "PATCH", path, payload, repeatable=True)
        )

    def delete(self, path: str) -> None:
        """DELETE `path`; done on 204. Not sent again once it went out: see contract.py."""
        self._json(contract.delete_request(self._config, path))

    def post_multipart(
        self, path: str, fields: Mapping[str, str], file_field: str, file: contract.FilePart
    ) -> object:
        """POST a form with one file (a voice clone) to a creating route; the JSON answer."""
        request = contract.multipart_request(self._config, path, fields, file_field, file)
        return self._json(request)

    def _json(self, request: ApiRequest) -> object:
        response = self._open(request)
        try:
            if request.empty_answer:
                return None
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

    def _open(self, request: ApiRequest) -> httpx.Response:
        """Send until a 200 of the right kind comes back, retrying what may be retried."""
        http_request = self._http.build_request(
            request.method,
            request.url(self._config),
            params=request.query,
            headers=request.headers,
            content=request.body,
            extensions={"trace": self._trace},
        )
        self._log_request(http_request)
        attempts = self._attempts(request)
        while True:
            attempts.start(f"{http_request.method} {http_request.url}")
            with self._response_deadline() as deadline:
                try:
                    response = self._http.send(http_request, stream=True)
                except httpx.TransportError as exc:
                    if deadline.fired:
                        raise contract.late_answer(self._config) from None
                    self._sleep(attempts.after_send_failure(exc))
                    continue
                deadline.pause()  # the answer is here: nothing may cut it from now on
                if deadline.fired:  # it came just as time ran out: as late as not at all
                    response.close()
                    raise contract.late_answer(self._config)
                self._log_response(response)
                if response.status_code == 200 and not request.empty_answer:
                    return _require_content(response, request.path)
                if response.status_code in (200, 204) and request.empty_answer:
                    return response
                deadline.resume()  # an error body is still due by the same deadline
                body = _error_body(response)
            status, reason = response.status_code, response.reason_phrase
            self._sleep(attempts.after_error_status(status, reason, response.headers, body))

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

    def _iter_events(self, response: httpx.Response) -> Generator[Event, None, None]:
        """SSE: the events up to (not including) `done`."""
        body = FramedText(response)
        # EventSource reads only `headers` and `iter_text()`, which FramedText provides.
        with self._watched(response, "event") as watchdog:
            for sse in EventSource(cast(httpx.Response, body)).iter_sse():
                body.pending = 0
                event = contract.parse_or_raise(sse.event, sse.data, self._log)
                if isinstance(event, Done):
                    return
                if event is None:
                    continue  # carries nothing: not progress, the timer runs on
                if is_progress(event):
                    # Audio, usable timestamps, done or error (which raised): a server
                    # sending only pings, unknown or empty events still times out.
                    watchdog.feed()
                watchdog.pause()  # time spent writing is not the server's silence
                yield event
                watchdog.resume()
        raise contract.ended_before_done()

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
                    raise contract.idle_failure(self._config, awaited) from None
                if isinstance(exc, contract.READ_FAILURES):
                    raise contract.midstream_failure(exc, self._config, awaited) from None
                raise
            if watchdog.fired:
                raise contract.idle_failure(self._config, awaited)

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


def environment_proxy(base_url: str) -> str | None:
    """The proxy httpx will use for `base_url` (its user and password masked), or None.

    From HTTP(S)_PROXY / ALL_PROXY / NO_PROXY in any letter case, as httpx reads
    them, or from macOS's or Windows' system settings when none is set. Shown by
    --debug, and warned about over plain http://, where the key would reach the
    proxy in clear.
    """
    try:
        found = proxy.proxy_for(base_url, proxy.in_force(os.environ))
    except proxy.ProxyError:  # refused as the client is made, before any request
        return None
    return None if found is None else found.shown


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


def _error_body(response: httpx.Response) -> ErrorBody:
    """As much of an error body as contract.ErrorBody keeps; the response closed after."""
    body = ErrorBody()
    try:
        for piece in response.iter_bytes():
            if body.take(piece):
                break
    except contract.READ_FAILURES:
        body.cut_short()
    finally:
        response.close()
    return body


def _require_content(response: httpx.Response, path: str) -> httpx.Response:
    failure = protocol.unexpected_content_type(path, response.headers.get("content-type", ""))
    if failure is not None:
        response.close()
        raise failure
    return response
