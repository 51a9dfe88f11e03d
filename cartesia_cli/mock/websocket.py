"""The fake's `/tts/websocket`: an HTTP upgrade answered and framed by the `websockets` package.

The server's request handler has parsed the upgrade request; this module hands
it to `websockets`' sans-I/O ServerProtocol, which writes the handshake answer
and does all framing (masking, fragments, ping/pong, the closing handshake),
and moves bytes between it and the socket. What the messages mean is
`ws_session.WsSession`'s job. Imported only when a client asks to upgrade, so
the rest of the fake needs nothing outside the standard library.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from io import BufferedIOBase
from typing import Protocol

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from cartesia_cli.mock.ws_session import Close, WsSession

MAX_MESSAGE = 16 * 1024 * 1024  # one client message; a 100,000-character piece fits
CLOSE_WAIT_SECONDS = 1.0  # after our close frame, how long the client has to answer


class Record(Protocol):
    """Where a connection's traffic is noted for tests: the transmission."""

    def note_message(self, text: str) -> None: ...

    def add(self, audio: bytes, *, keep: bool) -> None: ...

    def ended(self, *, clean: bool) -> None: ...


def serve(
    connection: socket.socket,
    buffered: BufferedIOBase,
    path: str,
    headers: Iterable[tuple[str, str]],
    session: WsSession,
    *,
    record: Record,
    keep_audio: bool,
    stopping: threading.Event,
    poll_seconds: float,
    log: Callable[[int], None],
    idle_seconds: float = 300.0,
) -> None:
    """Answer the upgrade, then carry messages both ways until either side ends."""
    protocol = ServerProtocol(max_size=MAX_MESSAGE)
    # The handler has read the request already: hand the protocol the same request again,
    # as bytes, since it parses its own handshake before it will frame anything.
    lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    protocol.receive_data("\r\n".join([*lines, "", ""]).encode("latin-1"))
    request = next((e for e in protocol.events_received() if isinstance(e, Request)), None)
    if request is None:  # websockets refused what http.server let through
        _refuse(connection, protocol, log)
        return
    response = protocol.accept(request)
    protocol.send_response(response)
    log(response.status_code)
    if protocol.state is not State.OPEN:  # a handshake websockets refused (426, 400)
        _send_all(connection, protocol.data_to_send())
        return
    connection.setblocking(False)  # from here on, writes never block the loop
    link = _Link(connection, protocol, stopping)
    loop = _Loop(link, session, record, keep_audio, poll_seconds, idle_seconds)
    loop.feed(_already_read(buffered))
    loop.run()


def _refuse(
    connection: socket.socket, protocol: ServerProtocol, log: Callable[[int], None]
) -> None:
    """The answer to a request websockets' parser refused: its own (431, 414), or a 400."""
    queued = b"".join(protocol.data_to_send())
    if queued:
        log(int(queued.split(b" ", 2)[1]))
        _send_all(connection, [queued])
        return
    body = b"Failed to open a WebSocket connection: did not receive a valid HTTP request.\n"
    head = (
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )
    log(400)
    _send_all(connection, [head + body])


def _send_all(connection: socket.socket, pieces: Iterable[bytes]) -> None:
    try:
        for piece in pieces:
            if piece:
                connection.sendall(piece)
    except OSError:
        pass


def _already_read(buffered: BufferedIOBase) -> bytes:
    """Bytes after the upgrade request that the handler's reader had buffered already.

    The socket is non-blocking by now: a buffer with nothing in it answers b"".
    """
    try:
        return buffered.read1(65536) or b""
    except OSError:
        return b""


# Stop taking messages to send while this much is still unsent: a client that does not
# read holds the server's output back, not its memory, and its input is still read.
HIGH_WATER = 1024 * 1024


class _Link:
    """The socket and the protocol: what is to be sent waits in `outgoing`, sent as it can."""

    def __init__(
        self, connection: socket.socket, protocol: ServerProtocol, stopping: threading.Event
    ) -> None:
        self.connection = connection
        self.protocol = protocol
        self.stopping = stopping
        self.outgoing = bytearray()
        self.eof_pending = False  # half-close once `outgoing` is sent
        self.open = True

    def queue(self) -> None:
        """Take what the protocol has to send (frames, pongs, a close) into `outgoing`."""
        for data in self.protocol.data_to_send():
            if data:
                self.outgoing += data
            else:  # SEND_EOF: the protocol is done with this direction
                self.eof_pending = True

    def send_some(self) -> None:
        """Send what the socket takes now, without waiting."""
        try:
            if self.outgoing:
                sent = self.connection.send(self.outgoing)
                del self.outgoing[:sent]
            if not self.outgoing and self.eof_pending:
                self.eof_pending = False
                self.connection.shutdown(socket.SHUT_WR)
        except BlockingIOError:
            pass
        except OSError:
            self.open = False

    def drain(self, seconds: float = CLOSE_WAIT_SECONDS) -> None:
        """Send what is queued, waiting up to `seconds` for a slow reader."""
        self.queue()
        try:
            self.connection.settimeout(seconds)
            self.connection.sendall(self.outgoing)
        except OSError:
            pass
        self.outgoing.clear()

    def end(self, close: Close) -> None:
        if close.how == "close":
            self.protocol.send_close(close.code, close.reason)
            self.queue()
            return  # the closing handshake runs on in the loop
        self.drain()  # what was sent before the fault arrives before it
        if close.how == "reset":
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        else:  # cut: the TCP connection ends, with no close frame
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        self.open = False


class _Loop:
    def __init__(
        self,
        link: _Link,
        session: WsSession,
        record: Record,
        keep_audio: bool,
        poll_seconds: float,
        idle_seconds: float,
    ) -> None:
        self.link = link
        self.session = session
        self.record = record
        self.keep_audio = keep_audio
        self.poll = poll_seconds
        self.fragments: list[bytes] = []
        self.fragment_opcode: Opcode | None = None
        self.closing_since: float | None = None
        # Frames received but not yet handed to the session: it was full (see wants_input).
        self.inbox: deque[Frame] = deque()
        self.idle_seconds = idle_seconds
        self.last_activity = time.monotonic()  # a byte in either direction

    def run(self) -> None:
        link = self.link
        while link.open:
            if link.stopping.is_set() and self.closing_since is None:
                self.close(Close(code=1001, reason="server stopping"))
            self.hand_on()
            if self.closing_since is None and len(link.outgoing) < HIGH_WATER:
                self.take_due()
            if self.closing_since is None and self.idle():
                # A client that reads nothing is cut off; one that says nothing is closed.
                stuck = bool(link.outgoing)
                self.close(Close(how="cut") if stuck else Close(code=1000, reason="idle"))
            if not link.open:
                return
            if self.closing_since is not None and self.waited_out():
                link.end(Close(how="cut"))  # no answer to our close frame: give up
                return
            wanted_read = [link.connection] if self.wants_input() else []
            wanted_write = [link.connection] if link.outgoing or link.eof_pending else []
            readable, writable, _ = select.select(wanted_read, wanted_write, [], self.timeout())
            if writable:
                link.send_some()
                self.last_activity = time.monotonic()
            if readable and not self.read():
                return

    def wants_input(self) -> bool:
        """Whether to read from the socket: once closing, always; else as `takes_input`."""
        if self.closing_since is not None:
            return True
        return not self.inbox and self.takes_input()

    def takes_input(self) -> bool:
        """Backpressure: not while too much text waits unspoken, or too many replies unsent.

        Not reading is how a client that sends faster than speech is slowed down: its
        writes block once the socket buffers fill, and reading resumes as speech goes
        out. Only while it can go out, though: were the client not reading either
        (output over HIGH_WATER), both would wait on each other for ever, so input
        is taken then and the session's hard cap bounds it instead.
        """
        if self.session.replies_full():
            return False
        return not self.session.backlogged() or len(self.link.outgoing) >= HIGH_WATER

    def hand_on(self) -> None:
        """Give the session the frames that waited in `inbox`, as far as it takes them."""
        while self.inbox and self.takes_input():
            self.frame(self.inbox.popleft())

    def idle(self) -> bool:
        """No byte either way for `idle_seconds`, with nothing due or with output stuck."""
        now = time.monotonic()
        if now - self.last_activity < self.idle_seconds:
            return False
        return bool(self.link.outgoing) or self.session.wait(now) is None

    def waited_out(self) -> bool:
        return self.closing_since is not None and (
            time.monotonic() >= self.closing_since + CLOSE_WAIT_SECONDS
        )

    def timeout(self) -> float:
        if self.closing_since is not None:
            return max(
                0.0, min(self.poll, self.closing_since + CLOSE_WAIT_SECONDS - time.monotonic())
            )
        if len(self.link.outgoing) >= HIGH_WATER:
            return self.poll
        now = time.monotonic()
        wait = self.session.wait(now)
        idle_left = max(0.0, self.last_activity + self.idle_seconds - now)
        return min(self.poll, idle_left) if wait is None else min(wait, self.poll)

    def take_due(self) -> None:
        for item in self.session.take(time.monotonic()):
            if isinstance(item, Close):
                self.close(item)
                return
            self.record.add(item.audio, keep=self.keep_audio)
            self.link.protocol.send_text(item.text.encode())
        self.link.queue()

    def close(self, close: Close) -> None:
        self.link.end(close)
        self.closing_since = time.monotonic()

    def read(self) -> bool:
        """Act on what the client sent; False: the connection has ended."""
        try:
            data = self.link.connection.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            self.link.protocol.receive_eof()
            self.link.queue()
            self.link.send_some()
            self.record.ended(clean=self.link.protocol.close_code in (1000, 1001))
            return False
        self.last_activity = time.monotonic()
        self.feed(data)
        return self.link.open

    def feed(self, data: bytes) -> None:
        if not data:
            return
        protocol = self.link.protocol
        protocol.receive_data(data)
        self.inbox.extend(event for event in protocol.events_received() if isinstance(event, Frame))
        self.hand_on()
        self.link.queue()  # pongs, the answer to a close frame
        if protocol.close_expected() and self.closing_since is None:
            self.closing_since = time.monotonic()

    def frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self.fragment_opcode, self.fragments = frame.opcode, []
        elif frame.opcode is not Opcode.CONT:
            return  # ping, pong, close: the protocol answers those itself
        self.fragments.append(bytes(frame.data))
        if not frame.fin:
            return
        message, opcode = b"".join(self.fragments), self.fragment_opcode
        self.fragments, self.fragment_opcode = [], None
        self.record.note_message(message.decode("utf-8", "replace"))
        now = time.monotonic()
        if opcode is Opcode.BINARY:
            self.session.refuse("Messages must be JSON in text frames, not binary.")
            return
        try:
            text = message.decode("utf-8")
        except UnicodeDecodeError:
            self.session.refuse("The message is not valid UTF-8.")
            return
        self.session.receive(text, now)
