"""The TTS WebSocket: one context fed with text as it comes, audio events out as they arrive.

The `websockets` package's sans-I/O protocol and sync connection do the framing
(the library the official SDK uses; imported only on this path). Everything
else is ours, so that `tts ws` goes where and how `tts sse` goes: the host as
httpx reads the base URL, the proxy httpx would pick (through a CONNECT
tunnel), TLS with the run's trust settings and httpx's server name. Connecting
runs in the main thread with stop signals free, each step bounded: name
resolution, TCP, the tunnel and TLS together within --connect-timeout, the
upgrade's answer within --idle-timeout. A redirect is not followed.

Contract of `stream`, as for the HTTP clients: the iterator ends normally only
when the server sent `done` for the context after our last message; every other
ending raises a CliError with its exit code. Retries happen only before any
text is sent (connect failures, and the upgrade's answers the HTTP clients
would retry), decided by contract.py as for them. The idle timeout
counts only while the server owes us something: audio from a flush until its
`flush_done` (and from the last piece until `done`), or reading what we have
queued for it; a slow producer is not a stalled server. The connection writes
on a thread of its own, so reading never waits for a write, and at most
MAX_UNSPOKEN characters are ever ahead of the audio.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from cartesia_cli import __version__, process, redact
from cartesia_cli.api import contract, preconnect, protocol, ws_proxy
from cartesia_cli.api.contract import ApiConfig, ApiRequest, DebugLog, Driver
from cartesia_cli.api.events import Done, ErrorEvent, Event, UnknownEvent, is_progress, parse_event
from cartesia_cli.api.protocol import WS_PATH, TtsRequest
from cartesia_cli.api.proxy import Proxy
from cartesia_cli.api.retry import should_retry
from cartesia_cli.base_url import Endpoint, endpoint, websocket_url
from cartesia_cli.errors import IDLE_TIMEOUT, CliError, StreamError, UsageError

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

MAX_MESSAGE = 16 * 1024 * 1024  # one server message; a chunk is far smaller
POLL_SECONDS = 0.5  # how often a wait with nothing owed looks at the sender
CLOSE_SECONDS = 2.0  # the closing handshake, bounded
STOP_SECONDS = 0.5  # on a stop: time for the cancel to leave, then the socket is closed
# Text sent but not yet spoken (its flush answered), in characters: about a minute of
# speech, far ahead of the audio, yet what a stop leaves the server to speak is bounded.
MAX_UNSPOKEN = 1000
# Bytes queued for the socket past which the sender waits: text is cut small, so this is
# only reached when the server has stopped reading.
MAX_UNSENT = 256 * 1024
UPGRADE_ANSWER = "answer to the WebSocket upgrade"


class WsTarget(NamedTuple):
    """Where the WebSocket goes: the host and port httpx would connect to for the base URL."""

    uri: str  # for websockets: the Host header and the request path come from it
    http_url: str  # the HTTP form, for the proxy rules
    host: str  # ASCII (IDNA as httpx encodes it): the TCP connection and the TLS name
    port: int
    secure: bool


def ws_target(base_url: str) -> WsTarget:
    """The base URL's host and port as base_url.endpoint names them, so that both
    transports reach (and name, in SNI and the Host header) the same host."""
    where = endpoint(base_url)
    if where is None:  # the settings table refuses such a base URL before any run
        raise UsageError(f"not a usable base URL: {base_url!r}")
    return WsTarget(
        websocket_url(base_url, WS_PATH),
        base_url.rstrip("/") + WS_PATH,
        where.host,
        where.port,
        where.scheme == "https",
    )


class Sender:
    """Sends the pieces on a thread of its own; the receiver reads what it has sent."""

    def __init__(self) -> None:
        self.pieces_sent = 0
        self.characters = 0
        self.characters_spoken = 0  # text whose flush has been answered: its audio is here
        self.unflushed = 0  # text sent since the last flush
        self.flushed: list[int] = []  # each flush's characters, in order
        self.flushes_sent = 0
        self.finishing = False  # the last message (`continue: false`) is going or gone
        self.last_sent = time.monotonic()
        self.failure: BaseException | None = None
        self.spoken = threading.Condition()  # notified as flushes are answered

    @property
    def unspoken(self) -> int:
        return self.characters - self.characters_spoken


class WsClient(Driver[Callable[[float], None]]):
    """One WebSocket run: connect (with retries), feed the text, yield the events."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        buffer_ms: int,
        debug: DebugLog | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config, debug, sleep)
        self._buffer_ms = buffer_ms
        self.sender = Sender()
        self.cancelled = False

    def stream(self, request: TtsRequest, pieces: Iterable[str]) -> Generator[Event, None, None]:
        """Speak the pieces as one context; yield audio and timestamp events up to `done`."""
        base = request.body()
        base["context_id"] = base.get("context_id") or str(uuid.uuid4())
        base["max_buffer_delay_ms"] = self._buffer_ms  # always sent: the default is 3 s
        connection = self._connect()
        thread = threading.Thread(
            target=self._send_all, args=(connection, base, pieces), name="ws-sender", daemon=True
        )
        process.start_thread(thread)  # stop signals go to the main thread only
        stopped = False
        try:
            yield from self._receive(connection, base["context_id"])
        except BaseException as exc:
            stopped = not isinstance(exc, Exception)  # Ctrl-C, SIGTERM, SIGHUP
            self._cancel(connection, base["context_id"])
            raise
        finally:
            self._close(connection, stopped=stopped)

    # --- connecting ---------------------------------------------------------------------

    def _connect(self) -> ClientConnection:
        request = contract.upgrade_request(self._config)
        target = ws_target(self._config.base_url)
        attempts = self._attempts(request)
        while True:
            attempts.start(f"{request.method} {target.uri}")
            try:
                return self._open(request, target)
            except _Retryable as retry:
                self._sleep(attempts.after(retry.failure, again=True, headers=retry.headers))

    def _open(self, request: ApiRequest, target: WsTarget) -> ClientConnection:
        """TCP (through a proxy's tunnel if one applies) and TLS within --connect-timeout,
        then the upgrade's answer within --idle-timeout. Every step runs in this thread
        with stop signals free, so a Ctrl-C or SIGTERM is taken at once."""
        proxy = ws_proxy.environment_proxy(target.http_url)  # a usage error: before connecting
        context = contract.tls_for(self._config.base_url)  # before the socket: it may raise
        deadline = time.monotonic() + self._config.connect_timeout
        sock = self._socket(target, proxy, deadline)
        try:
            if target.secure and not isinstance(context, bool):
                sock = self._secure(sock, context, target.host, deadline)
            return self._upgrade(sock, target, request.headers)
        except BaseException:
            sock.close()
            raise

    def _socket(self, target: WsTarget, proxy: Proxy | None, deadline: float) -> socket.socket:
        """The TCP connection to the server, or a tunnel to it through `proxy`."""
        if proxy is None:
            prepared = self._startup_socket(target, deadline)
            if prepared is not None:
                return prepared
            return self._tcp(target.host, target.port, deadline, self._config.base_url)
        self._log(
            f"proxy: {proxy.shown} (from {proxy.variable}); CONNECT {target.host}:{target.port}"
        )
        if preconnect.waiting():
            preconnect.discard()  # made for the server itself: not the way to go
        proxy_host, proxy_port = proxy.address
        sock = self._tcp(proxy_host, proxy_port, deadline, f"the proxy {proxy.shown}")
        try:
            ws_proxy.tunnel(sock, proxy, target.host, target.port, deadline)
        except BaseException as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise _Retryable(self._connect_timeout(f"the proxy {proxy.shown}")) from None
            if isinstance(exc, StreamError):
                raise _Retryable(exc) from None
            if isinstance(exc, OSError):
                failure = StreamError(f"could not connect through the proxy {proxy.shown}: {exc}")
                raise _Retryable(failure) from None
            raise
        return sock

    def _tcp(self, host: str, port: int, deadline: float, shown: str) -> socket.socket:
        """A TCP connection to host:port by `deadline`, name resolution included."""
        try:
            last = OSError(f"no address found for {host}")  # if the look-up gives none
            for family, kind, proto, _, address in _resolve(host, port, deadline):
                sock = socket.socket(family, kind, proto)
                try:
                    sock.settimeout(_left(deadline))
                    sock.connect(address)
                    return sock
                except BaseException as exc:
                    sock.close()
                    if not isinstance(exc, OSError) or isinstance(exc, TimeoutError):
                        raise
                    last = exc
            raise last
        except TimeoutError:
            raise _Retryable(self._connect_timeout(shown)) from None
        except OSError as exc:
            raise _Retryable(StreamError(f"could not connect to {shown}: {exc}")) from None

    def _connect_timeout(self, shown: str) -> StreamError:
        return contract.connect_timeout(self._config, shown)

    def _startup_socket(self, target: WsTarget, deadline: float) -> socket.socket | None:
        """The TCP connection launch.py opened for this endpoint, if one is waiting."""
        if not preconnect.waiting():
            return None
        scheme = "https" if target.secure else "http"
        prepared = preconnect.claim(Endpoint(scheme, target.host, target.port), tls=False,
                                    wait=_left(deadline))  # fmt: skip
        self._log(f"start-up connection: {preconnect.outcome()}")
        return None if prepared is None else prepared.sock

    def _secure(
        self, sock: socket.socket, context: ssl.SSLContext, host: str, deadline: float
    ) -> socket.socket:
        """The TLS handshake by `deadline`, named as httpx names the host (SNI, certificate)."""
        secure = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
        try:  # `sock` is detached now: `secure` is the one to close
            secure.settimeout(_left(deadline))
            secure.do_handshake()
        except BaseException as exc:
            secure.close()
            if isinstance(exc, TimeoutError):
                raise _Retryable(self._connect_timeout(self._config.base_url)) from None
            if isinstance(exc, OSError):
                failure = StreamError(f"could not connect to {self._config.base_url}: {exc}")
                if isinstance(exc, ssl.SSLError):  # an untrusted certificate: the same again
                    raise failure from None
                raise _Retryable(failure) from None
            raise
        return secure

    def _upgrade(
        self, sock: socket.socket, target: WsTarget, headers: dict[str, str]
    ) -> ClientConnection:
        """The WebSocket handshake: its answer due within --idle-timeout; no redirect followed."""
        from websockets.client import ClientProtocol
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
        from websockets.uri import parse_uri

        sock.settimeout(None)  # the connection's own threads wait; our waits are bounded
        ws_protocol = ClientProtocol(parse_uri(target.uri), max_size=MAX_MESSAGE)
        with process.stops_blocked_here():  # its reader and writer threads never take a stop
            connection: ClientConnection = _queued_connection()(
                sock, ws_protocol, close_timeout=CLOSE_SECONDS
            )
        try:
            connection.handshake(headers, f"cartesia-cli/{__version__}", self._config.idle_timeout)
        except BaseException as exc:
            connection.close_socket()
            if isinstance(exc, InvalidStatus):
                raise _upgrade_failure(exc) from None
            if isinstance(exc, TimeoutError):
                raise contract.late_answer(self._config, UPGRADE_ANSWER) from None
            if isinstance(exc, InvalidHandshake | ConnectionClosed | OSError):
                # ConnectionClosed: the server closed before answering the upgrade at all.
                failure = StreamError(f"the WebSocket upgrade failed: {exc}")
                raise _Retryable(failure) from None
            raise
        return connection

    # --- sending ------------------------------------------------------------------------

    def _send_all(
        self, connection: ClientConnection, base: dict[str, Any], pieces: Iterable[str]
    ) -> None:
        """Every piece with `continue` (a flush after each with --buffer-ms 0), then the end.

        No more than MAX_UNSPOKEN characters are ever ahead of the audio: past that, the
        text sent is flushed and the next piece waits for the server to speak it.
        """
        sender = self.sender
        try:
            for piece in pieces:
                if sender.unspoken and sender.unspoken + len(piece) > MAX_UNSPOKEN:
                    self._flush(connection, base)  # so that the server speaks and answers
                    self._wait_until_spoken(MAX_UNSPOKEN - len(piece))
                self._send(connection, {**base, "transcript": piece, "continue": True})
                sender.pieces_sent += 1
                sender.characters += len(piece)
                sender.unflushed += len(piece)
                if self._buffer_ms == 0:  # the server speaks each piece: know when it has
                    self._flush(connection, base)
                sender.last_sent = time.monotonic()
            sender.finishing = True  # before it goes: a `done` after it is no surprise
            self._send(connection, {**base, "transcript": "", "continue": False})
            sender.last_sent = time.monotonic()
        except Exception as exc:  # bad input (UsageError) or the connection gone
            sender.failure = exc

    def _flush(self, connection: ClientConnection, base: dict[str, Any]) -> None:
        sender = self.sender
        if not sender.unflushed:
            return
        sender.flushed.append(sender.unflushed)
        sender.unflushed = 0
        self._send(connection, {**base, "transcript": "", "continue": True, "flush": True})
        sender.flushes_sent += 1

    def _wait_until_spoken(self, most: int) -> None:
        """Until no more than `most` characters are unspoken; bounded by the receiver's
        idle timeout (a flush is owed meanwhile), which ends the run if none comes."""
        sender = self.sender
        with sender.spoken:
            while sender.unspoken > max(most, 0) and not self.cancelled:
                sender.spoken.wait(POLL_SECONDS)
        if self.cancelled:
            raise StreamError("cancelled")

    def _send(self, connection: ClientConnection, message: dict[str, Any]) -> None:
        if self.cancelled:
            raise StreamError("cancelled")
        connection.send(json.dumps(message))
        outbox: Outbox = connection.outbox  # type: ignore[attr-defined]
        outbox.wait_for_room(MAX_UNSENT, lambda: self.cancelled)
        if outbox.failure is not None:
            raise _Gone() from outbox.failure

    # --- receiving ----------------------------------------------------------------------

    def _receive(
        self, connection: ClientConnection, context_id: str
    ) -> Generator[Event, None, None]:
        """The context's events up to `done`. The idle clock runs only while the server
        owes us audio, and only progress (events.is_progress) restarts it: a server that
        keeps sending messages that carry nothing times out as a silent one does."""
        from websockets.exceptions import ConnectionClosed

        outbox: Outbox = connection.outbox  # type: ignore[attr-defined]
        idle = self._config.idle_timeout
        flushes_done = 0
        progress = time.monotonic()
        while True:
            self._raise_sender_failure()
            owed = self._owed(flushes_done)
            now = time.monotonic()
            if not owed:
                progress = now  # nothing owed: the server's silence is not a stall
            unread = outbox.unsent > 0 or outbox.failure is not None  # the server owes reading
            if unread and now >= max(progress, outbox.moved_at) + idle:
                raise _unread_failure(self._config)
            if owed and now >= progress + idle:
                raise contract.idle_failure(self._config, "audio")
            since = max(progress, outbox.moved_at) if unread else progress
            timeout = POLL_SECONDS
            if owed or unread:
                timeout = min(POLL_SECONDS, since + idle - now)
            try:
                raw = connection.recv(timeout=timeout)
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                raise _closed_failure(closed) from None
            event, message = _parse(raw, context_id)
            if message.get("type") == "flush_done" and message.get("context_id") in (
                None, context_id,
            ):  # fmt: skip
                # Settles what it answers (then, if nothing else is owed, the clock stops
                # above), but is no audio: with audio still owed the clock runs on.
                if flushes_done < len(self.sender.flushed):  # else it answers no flush of ours
                    self._spoken(flushes_done)
                    flushes_done += 1
                continue
            if event is None:
                continue  # another context's
            if isinstance(event, Done):
                if not self.sender.finishing:
                    raise StreamError("the server sent `done` before the end of the text "
                                      "(a protocol error); the audio may be cut short")  # fmt: skip
                return
            if is_progress(event):
                progress = time.monotonic()
            if not isinstance(event, UnknownEvent):
                yield event

    def _owed(self, flushes_done: int) -> bool:
        """Whether the server owes us audio: for a flush it has not answered, for the
        text after the last message, or (with --buffer-ms) for text its buffer has held
        past the delay."""
        sender = self.sender
        if sender.flushes_sent > flushes_done or sender.finishing:
            return True
        if self._buffer_ms and sender.pieces_sent:
            return time.monotonic() > sender.last_sent + self._buffer_ms / 1000
        return False

    def _spoken(self, flush: int) -> None:
        """A flush answered: the text before it is spoken; the sender may go on."""
        sender = self.sender
        with sender.spoken:
            if flush < len(sender.flushed):
                sender.characters_spoken += sender.flushed[flush]
            sender.spoken.notify_all()

    def _raise_sender_failure(self) -> None:
        failure = self.sender.failure
        if failure is not None:
            from websockets.exceptions import ConnectionClosed

            if isinstance(failure, CliError) and not self.cancelled:
                raise failure
            if not isinstance(failure, ConnectionClosed | _Gone | CliError):
                raise StreamError(f"could not send to the server: {failure}")
            # The connection is gone: the receiver reads what came, then reports its end.

    # --- ending -------------------------------------------------------------------------

    def _cancel(self, connection: ClientConnection, context_id: str) -> None:
        """Ask the server to stop speaking the context (a stop, or a failure of ours)."""
        self.cancelled = True
        with self.sender.spoken:
            self.sender.spoken.notify_all()
        try:
            connection.send(json.dumps({"context_id": context_id, "cancel": True}))
            self._log("sent cancel")
        except Exception:  # the connection is gone already
            pass

    def _close(self, connection: ClientConnection, *, stopped: bool) -> None:
        """The closing handshake within CLOSE_SECONDS; on a stop, or when the server has
        stopped reading, only what little time the cancel needs to leave."""
        outbox: Outbox = connection.outbox  # type: ignore[attr-defined]
        if stopped or outbox.unsent or outbox.failure is not None:
            outbox.wait_until_sent(STOP_SECONDS)
            connection.close_socket()
            return
        with contextlib.suppress(Exception):  # the connection may be gone already
            connection.close()


def _left(deadline: float) -> float:
    """Seconds until `deadline`; a TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _resolve(host: str, port: int, deadline: float) -> list[Any]:
    """getaddrinfo on a thread of its own: it takes no timeout and no signal, so a slow
    resolver would otherwise hold the run past --connect-timeout and past a Ctrl-C."""
    found: list[Any] = []
    failed: list[OSError] = []
    finished = threading.Event()

    def resolve() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)
        except Exception as exc:  # a name the "idna" codec refuses, say: a failure all the same
            failed.append(OSError(f"cannot look up {host!r}: {type(exc).__name__}: {exc}"))
        finally:
            finished.set()

    process.start_thread(threading.Thread(target=resolve, name="ws-resolve", daemon=True))
    if not finished.wait(_left(deadline)):
        raise TimeoutError
    if failed:
        raise failed[0]
    return found


class Outbox:
    """What the connection has to write, in order, for a thread of its own to write.

    websockets writes under the lock its reader needs: a server that stops reading
    while it sends would stop our reading too, and both ends would wait for ever.
    Queued here instead, the reader always reads, and a stalled write is a silence
    the receiver can time.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queue: deque[bytes] = deque()
        self.unsent = 0  # bytes queued or being written
        self.moved_at = time.monotonic()  # the last write, or when a wait to write began
        self.failure: OSError | None = None
        self._closed = False

    def put(self, data: bytes) -> None:
        with self._changed:
            if self._closed or self.failure is not None:
                return
            if not self._queue:
                self.moved_at = time.monotonic()
            self._queue.append(data)
            self.unsent += len(data)
            self._changed.notify_all()

    def next(self) -> bytes | None:
        """The next bytes to write (left queued until `written`); None once closed."""
        with self._changed:
            while not self._queue and not self._closed:
                self._changed.wait()
            return None if self._closed else self._queue[0]

    def written(self, size: int) -> None:
        with self._changed:
            if self._queue:
                self._queue.popleft()
            self.unsent -= size
            self.moved_at = time.monotonic()
            self._changed.notify_all()

    def fail(self, exc: OSError) -> None:
        with self._changed:
            self.failure = exc
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for_room(self, most: int, give_up: Callable[[], bool]) -> None:
        with self._changed:
            while self._waiting() and self.unsent > most and not give_up():
                self._changed.wait(POLL_SECONDS)

    def wait_until_sent(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        with self._changed:
            while self._waiting() and self.unsent and (left := end - time.monotonic()) > 0:
                self._changed.wait(left)

    def _waiting(self) -> bool:
        return not self._closed and self.failure is None


def _queued_connection() -> Any:
    """websockets' ClientConnection, writing through an Outbox on a thread of its own.

    A failed write (the server has gone: EPIPE, ECONNRESET) closes nothing: the
    reader reads the audio that reached this machine before the server's FIN or
    RST, then meets the end itself, as fast as we take the audio.
    """
    from websockets.sync.client import ClientConnection

    class QueuedConnection(ClientConnection):
        def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
            self.outbox = Outbox()
            super().__init__(sock, *args, **kwargs)
            # websockets 17.1 warns about a connection not made by connect() in a `with`;
            # this one is made here and closed by WsClient._close.
            self.pending_legacy_warning = False
            self.writer = threading.Thread(target=self._write_all, name="ws-writer", daemon=True)
            self.writer.start()  # started with stop signals blocked, as the reader is

        def send_data(self) -> None:
            """Called with the protocol lock held, by any thread: queue, never block."""
            for data in self.protocol.data_to_send():
                self.outbox.put(data)

        def _write_all(self) -> None:
            while (data := self.outbox.next()) is not None:
                try:
                    if data:
                        self.socket.sendall(data)
                    else:  # websockets' end of stream after the closing handshake
                        self.socket.shutdown(socket.SHUT_WR)
                except OSError as exc:
                    self.outbox.fail(exc)
                    return
                self.outbox.written(len(data))

        def close_socket(self) -> None:
            self.outbox.close()
            # Wakes a write blocked on a server that stopped reading (close() would not).
            # Unbound: an SSLSocket's own shutdown would drop its TLS state under the reader.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.socket, socket.SHUT_RDWR)
            super().close_socket()

    return QueuedConnection


class _Gone(Exception):
    """A write failed: the connection is gone, and the receiver reports how it ended."""


class _Retryable(Exception):
    """A failure of the connecting that another attempt may not meet."""

    def __init__(self, failure: CliError, headers: dict[str, str] | None = None) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.headers = headers


def _unread_failure(config: ApiConfig) -> StreamError:
    seconds = config.idle_timeout
    message = f"the server read nothing we sent for {seconds:g} s (idle timeout)"
    return StreamError(message, kind=IDLE_TIMEOUT)


def _upgrade_failure(refused: Any) -> Exception:
    """A refused upgrade as the HTTP error it is, retried as an HTTP request's would be."""
    response = refused.response
    status = response.status_code
    if 200 <= status < 300:  # an answer, but not a WebSocket: no retry would change that
        reason = response.reason_phrase
        return StreamError(f"expected a WebSocket (HTTP 101), got HTTP {status} {reason}")
    body = bytes(response.body or b"")
    failure = protocol.status_failure(status, response.reason_phrase, body, 1)
    headers = {name.lower(): value for name, value in response.headers.raw_items()}
    if should_retry(status, headers):
        return _Retryable(failure, headers=headers)
    return failure


def _parse(raw: str | bytes, context_id: str) -> tuple[Event | None, dict[str, Any]]:
    """One server message: its event (None for flush_done), and the message itself.

    An error event raises its failure, with or without the context; a message for
    another context is ignored.
    """
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    event = parse_event("", text)  # malformed JSON or base64 raises a StreamError
    message: dict[str, Any] = json.loads(text)
    owner = message.get("context_id")
    if isinstance(event, ErrorEvent):
        if owner in (None, context_id):  # without a context: the whole connection's
            raise protocol.error_event_failure(
                event.message, event.request_id, title=event.title, status=event.status_code
            )
        return None, message
    if owner not in (None, context_id):
        return None, message
    return event, message


def _closed_failure(closed: Any) -> CliError:
    """The connection ended before `done`: by a close frame (with its code) or dropped."""
    received = closed.rcvd
    if received is None:
        return StreamError("the connection to the server dropped before the audio was done")
    code, reason = received.code, redact.redact(received.reason or "")[:200]
    said = f": {reason}" if reason else ""
    return StreamError(f"the server closed the connection (code {code}{said}) before `done`")
