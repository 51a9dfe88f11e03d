"""The TTS WebSocket: one context fed with text as it comes, audio events out as they arrive.

The `websockets` package's sync client does the framing (the library the
official SDK uses; imported only on this path). The socket is opened here
(TCP, then TLS with the run's trust settings) so that a Ctrl-C during a slow
connect is taken at once; only the WebSocket handshake runs with stop signals
blocked, since it starts the client's own reader thread.

Contract of `stream`, as for the HTTP clients: the iterator ends normally only
when the server sent `done` for the context; every other ending raises a
CliError with its exit code. Retries happen only before any text is sent
(connect failures, 429 and 5xx on the upgrade). The idle timeout counts only
while the server owes audio: each piece is followed by a flush, and the server
owes audio from a flush until its `flush_done` (and from the last piece until
`done`); a slow producer is not a stalled server.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cartesia_cli import __version__, process, redact
from cartesia_cli.api import preconnect, protocol
from cartesia_cli.api.client import ApiConfig, DebugLog, _idle_failure, _tls_for
from cartesia_cli.api.events import Done, ErrorEvent, Event, UnknownEvent, parse_event
from cartesia_cli.api.protocol import WS_PATH, TtsRequest
from cartesia_cli.api.retry import retry_delay
from cartesia_cli.base_url import endpoint
from cartesia_cli.errors import CONNECT_TIMEOUT, CliError, StreamError

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

MAX_MESSAGE = 16 * 1024 * 1024  # one server message; a chunk is far smaller
POLL_SECONDS = 0.5  # how often a wait with nothing owed looks at the sender
CLOSE_SECONDS = 2.0  # the closing handshake, bounded
RETRYABLE_UPGRADE = frozenset({408, 409, 429, 500, 502, 503, 504})


def websocket_url(base_url: str) -> str:
    """`https://host/x` -> `wss://host/x/tts/websocket` (`http` -> `ws`, for a local mock)."""
    scheme, _, rest = base_url.partition("://")
    return ("wss" if scheme.lower() == "https" else "ws") + "://" + rest.rstrip("/") + WS_PATH


class Sender:
    """Sends the pieces on a thread of its own; the receiver reads what it has sent."""

    def __init__(self) -> None:
        self.pieces_sent = 0
        self.characters = 0
        self.characters_spoken = 0  # text whose flush has been answered: its audio is here
        self.flushed: list[int] = []  # each flush's characters, in order
        self.flushes_sent = 0
        self.finished = False  # the last message (`continue: false`) has gone
        self.last_sent = time.monotonic()
        self.failure: BaseException | None = None
        self.wake: queue.SimpleQueue[None] = queue.SimpleQueue()


class WsClient:
    """One WebSocket run: connect (with retries), feed the text, yield the events."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        buffer_ms: int,
        debug: DebugLog | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._buffer_ms = buffer_ms
        self._debug = debug
        self._sleep = sleep
        self.sender = Sender()
        self.cancelled = False
        self._manager: Any = None  # websockets' connect(): its exit closes the connection

    def stream(self, request: TtsRequest, pieces: Iterable[str]) -> Generator[Event, None, None]:
        """Speak the pieces as one context; yield audio and timestamp events up to `done`."""
        base = request.body()
        base["context_id"] = base.get("context_id") or str(uuid.uuid4())
        base["max_buffer_delay_ms"] = self._buffer_ms  # always sent: the default is 3 s
        connection = self._connect()
        thread = threading.Thread(
            target=self._send_all, args=(connection, base, pieces), name="ws-sender", daemon=True
        )
        connection.sender = thread  # type: ignore[attr-defined]  # see _patient_connection
        process.start_thread(thread)  # stop signals go to the main thread only
        try:
            yield from self._receive(connection, base["context_id"])
        except BaseException:
            self._cancel(connection, base["context_id"])
            raise
        finally:
            self._close(connection)

    # --- connecting ---------------------------------------------------------------------

    def _connect(self) -> ClientConnection:
        attempts = self._config.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._open()
            except _Retryable as retry:
                if attempt == attempts:
                    raise _after(retry.failure, attempt) from None
                delay = retry_delay(attempt - 1, retry.headers)
                self._log(f"retrying in {delay:.2f} s after: {retry.failure.message}")
                self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _open(self) -> ClientConnection:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        url = websocket_url(self._config.base_url)
        context = _tls_for(self._config.base_url)  # before the socket: it may raise
        headers = protocol.headers(self._config.api_key, self._config.api_version, "")
        for name in ("Content-Type", "Accept", "User-Agent"):
            headers.pop(name)
        sock = self._socket(url)
        self._log(f"connecting: GET {url}")
        try:
            # TLS and the upgrade run with stops blocked: they start the client's reader
            # thread, which must never take our stop signals. Both are bounded.
            with process.stops_blocked_here():
                manager = connect(
                    url,
                    sock=sock,
                    ssl=None if isinstance(context, bool) else context,
                    additional_headers=headers,
                    user_agent_header=f"cartesia-cli/{__version__}",
                    open_timeout=self._config.connect_timeout + self._config.idle_timeout,
                    close_timeout=CLOSE_SECONDS,
                    max_size=MAX_MESSAGE,
                    compression=None,
                    ping_interval=None,  # a slow producer is not a dead link; waits are ours
                    create_connection=_patient_connection(),
                )
                # websockets 12-16 connect in connect(); 17 on entering its context.
                connection: ClientConnection = manager.__enter__()
        except InvalidStatus as refused:
            sock.close()
            raise _upgrade_failure(refused) from None
        except ssl_errors() as exc:
            sock.close()
            raise StreamError(f"could not connect to {self._config.base_url}: {exc}") from None
        except (InvalidHandshake, ConnectionClosed, OSError, TimeoutError) as exc:
            # ConnectionClosed: the server closed before answering the upgrade at all.
            sock.close()
            raise _Retryable(StreamError(f"the WebSocket upgrade failed: {exc}")) from None
        self._manager = manager
        return connection

    def _socket(self, url: str) -> socket.socket:
        """The TCP connection, within --connect-timeout; a Ctrl-C meanwhile is taken at once."""
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        timeout = self._config.connect_timeout
        prepared = self._startup_socket(timeout)
        if prepared is not None:
            return prepared
        try:
            return socket.create_connection((parts.hostname or "", port), timeout=timeout)
        except TimeoutError:
            message = f"timed out after {timeout:g} s connecting to {self._config.base_url}"
            raise _Retryable(StreamError(message, kind=CONNECT_TIMEOUT)) from None
        except OSError as exc:
            failure = StreamError(f"could not connect to {self._config.base_url}: {exc}")
            raise _Retryable(failure) from None

    def _startup_socket(self, timeout: float) -> socket.socket | None:
        """The TCP connection launch.py opened for this endpoint, if one is waiting."""
        target = endpoint(self._config.base_url)
        if target is None or not preconnect.waiting():
            return None
        prepared = preconnect.claim(target, tls=False, wait=timeout)
        self._log(f"start-up connection: {preconnect.outcome()}")
        return None if prepared is None else prepared.sock

    # --- sending ------------------------------------------------------------------------

    def _send_all(
        self, connection: ClientConnection, base: dict[str, Any], pieces: Iterable[str]
    ) -> None:
        """Every piece with `continue`, a flush after each, then the end of the context."""
        sender = self.sender
        try:
            for piece in pieces:
                self._send(connection, {**base, "transcript": piece, "continue": True})
                sender.pieces_sent += 1
                sender.characters += len(piece)
                if self._buffer_ms == 0:  # the server speaks each piece: know when it has
                    sender.flushed.append(len(piece))
                    self._send(connection, {**base, "transcript": "", "continue": True,
                                            "flush": True})  # fmt: skip
                    sender.flushes_sent += 1
                sender.last_sent = time.monotonic()
                sender.wake.put(None)
            self._send(connection, {**base, "transcript": "", "continue": False})
            sender.finished = True
            sender.last_sent = time.monotonic()
        except Exception as exc:  # bad input (UsageError) or the connection gone
            sender.failure = exc
        finally:
            sender.wake.put(None)

    def _send(self, connection: ClientConnection, message: dict[str, Any]) -> None:
        if self.cancelled:
            raise StreamError("cancelled")
        connection.send(json.dumps(message))

    # --- receiving ----------------------------------------------------------------------

    def _receive(
        self, connection: ClientConnection, context_id: str
    ) -> Generator[Event, None, None]:
        from websockets.exceptions import ConnectionClosed

        sender = self.sender
        flushes_done = 0
        progress = time.monotonic()
        while True:
            self._raise_sender_failure()
            owed = sender.flushes_sent > flushes_done or sender.finished
            if self._buffer_ms and sender.pieces_sent and not owed:
                owed = time.monotonic() > sender.last_sent + self._buffer_ms / 1000
            timeout = self._config.idle_timeout if owed else POLL_SECONDS
            if owed:
                timeout = max(0.0, progress + self._config.idle_timeout - time.monotonic())
            try:
                raw = connection.recv(timeout=min(timeout, POLL_SECONDS))
            except TimeoutError:
                if owed and time.monotonic() >= progress + self._config.idle_timeout:
                    raise _idle_failure(self._config, "audio") from None
                if not owed:
                    progress = time.monotonic()  # nothing was owed: not the server's silence
                continue
            except ConnectionClosed as closed:
                raise _closed_failure(closed) from None
            progress = time.monotonic()
            event, message = _parse(raw, context_id)
            if message.get("type") == "flush_done":
                if flushes_done < len(sender.flushed):
                    sender.characters_spoken += sender.flushed[flushes_done]
                flushes_done += 1
                continue
            if isinstance(event, Done):
                return
            if event is not None and not isinstance(event, UnknownEvent):
                yield event

    def _raise_sender_failure(self) -> None:
        failure = self.sender.failure
        if failure is not None:
            from websockets.exceptions import ConnectionClosed

            if isinstance(failure, CliError):
                raise failure
            if not isinstance(failure, ConnectionClosed):  # the receiver reports a closed one
                raise StreamError(f"could not send to the server: {failure}")

    # --- ending -------------------------------------------------------------------------

    def _cancel(self, connection: ClientConnection, context_id: str) -> None:
        """Ask the server to stop speaking the context (a stop, or a failure of ours)."""
        self.cancelled = True
        try:
            connection.send(json.dumps({"context_id": context_id, "cancel": True}))
            self._log("sent cancel")
        except Exception:  # the connection is gone already
            pass

    def _close(self, connection: ClientConnection) -> None:
        with contextlib.suppress(Exception):  # the connection may be gone already
            self._manager.__exit__(None, None, None)  # a closing handshake within close_timeout

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(line)


def _patient_connection() -> Any:
    """websockets' ClientConnection, except that a failed send loses none of the audio.

    When a send fails (the server has gone: EPIPE, ECONNRESET), websockets closes the
    socket at once from the sending thread, our ws-sender. Audio that reached this
    machine before the server's FIN or RST, but that websockets' reader thread has not
    read yet, is then thrown away with the socket (and a reader that had read it but not
    yet parsed it logs an "unexpected internal error" traceback to stderr). So the sender
    leaves the socket to the reader: it reads what came, then meets the end itself, as
    fast as we take the audio. Other threads close at once, as before.
    """
    from websockets.protocol import State
    from websockets.sync.client import ClientConnection

    class PatientConnection(ClientConnection):
        sender: threading.Thread | None = None

        def close_socket(self) -> None:
            reader = self.recv_events_thread
            if (
                threading.current_thread() is self.sender
                and self.protocol.state is State.OPEN  # a send failed, not our close
                # the socket failed: its end is near (older websockets: as before)
                and isinstance(getattr(self, "connection_exc", None), OSError)
                and reader.is_alive()
            ):
                reader.join()  # a daemon thread: waiting holds nothing up
            super().close_socket()

    return PatientConnection


class _Retryable(Exception):
    def __init__(self, failure: CliError, headers: Any = None) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.headers = headers


def _after(failure: CliError, attempts: int) -> CliError:
    """The last attempt's failure, saying how many there were, as the HTTP commands do."""
    if attempts > 1:
        failure.message += f" (after {attempts} attempts)"
        failure.args = (failure.message,)
    return failure


def _upgrade_failure(refused: Any) -> Exception:
    """A refused upgrade as the HTTP error it is; 429 and 5xx may be tried again."""
    response = refused.response
    status = response.status_code
    if 200 <= status < 300:  # an answer, but not a WebSocket: no retry would change that
        reason = response.reason_phrase
        return StreamError(f"expected a WebSocket (HTTP 101), got HTTP {status} {reason}")
    body = bytes(response.body or b"")
    failure = protocol.status_failure(status, response.reason_phrase, body, 1)
    if status in RETRYABLE_UPGRADE:
        return _Retryable(failure, headers=dict(response.headers.raw_items()))
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


def ssl_errors() -> tuple[type[Exception], ...]:
    """A failed TLS handshake (an untrusted certificate) fails the same way again."""
    import ssl

    return (ssl.SSLError,)
