"""The fake's `/tts/websocket`: an HTTP upgrade answered and framed by the `websockets` package.

The server's request handler has parsed the upgrade request; this module hands
it to `websockets`' sans-I/O ServerProtocol, which writes the handshake answer
and does all framing (masking, fragments, ping/pong, the closing handshake),
and moves bytes between it and the socket. What the messages mean is
`ws_session.WsSession`'s job. Imported only when a client asks to upgrade, so
the rest of the fake needs nothing outside the standard library.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from io import BufferedIOBase
from typing import Protocol

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from cartesia_cli.mock.ws_session import Close, Out, WsSession

MAX_MESSAGE = 16 * 1024 * 1024  # one client message; a 100,000-character piece fits
CLOSE_WAIT_SECONDS = 1.0  # after our close frame, how long the client has to answer


class Record(Protocol):
    """Where a connection's traffic is noted for tests: the transmission."""

    messages: list[str]

    def add(self, audio: bytes, *, keep: bool) -> None: ...


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
) -> None:
    """Answer the upgrade, then carry messages both ways until either side ends."""
    protocol = ServerProtocol(max_size=MAX_MESSAGE)
    # The handler has read the request already: hand the protocol the same request again,
    # as bytes, since it parses its own handshake before it will frame anything.
    lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    protocol.receive_data("\r\n".join([*lines, "", ""]).encode("latin-1"))
    request = next(e for e in protocol.events_received() if isinstance(e, Request))
    response = protocol.accept(request)
    protocol.send_response(response)
    log(response.status_code)
    link = _Link(connection, protocol)
    if not link.flush() or protocol.state is not State.OPEN:
        return  # a handshake websockets refused (426, 400): its answer has been sent
    loop = _Loop(link, session, record, keep_audio, stopping, poll_seconds)
    loop.feed(_already_read(connection, buffered))
    loop.run()


def _already_read(connection: socket.socket, buffered: BufferedIOBase) -> bytes:
    """Bytes after the upgrade request that the handler's reader had buffered already."""
    connection.setblocking(False)
    try:
        return buffered.read1(65536) or b""
    except OSError:
        return b""
    finally:
        connection.setblocking(True)


class _Link:
    """The socket and the protocol: writes what the protocol has to send."""

    def __init__(self, connection: socket.socket, protocol: ServerProtocol) -> None:
        self.connection = connection
        self.protocol = protocol
        self.open = True

    def flush(self) -> bool:
        """Send what the protocol has queued; False once the client is gone."""
        try:
            for data in self.protocol.data_to_send():
                if data:
                    self.connection.sendall(data)
                else:  # SEND_EOF: the protocol is done with this direction
                    self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            self.open = False
        return self.open

    def end(self, close: Close) -> None:
        if close.how == "close":
            self.protocol.send_close(close.code, close.reason)
            self.flush()
            return  # the closing handshake runs on in the loop
        if close.how == "reset":
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        else:  # cut: the TCP connection ends, with no close frame
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
        stopping: threading.Event,
        poll_seconds: float,
    ) -> None:
        self.link = link
        self.session = session
        self.record = record
        self.keep_audio = keep_audio
        self.stopping = stopping
        self.poll = poll_seconds
        self.fragments: list[bytes] = []
        self.fragment_opcode: Opcode | None = None
        self.closing_since: float | None = None

    def run(self) -> None:
        while self.link.open:
            if self.stopping.is_set() and self.closing_since is None:
                self.link.end(Close(code=1001, reason="server stopping"))
                self.closing_since = time.monotonic()
            self.send_due()
            if not self.link.open:
                return
            if not self.read(self.timeout()):
                return

    def timeout(self) -> float:
        if self.closing_since is not None:
            return max(0.0, self.closing_since + CLOSE_WAIT_SECONDS - time.monotonic())
        wait = self.session.wait(time.monotonic())
        return self.poll if wait is None else min(wait, self.poll)

    def send_due(self) -> None:
        if self.closing_since is not None:
            return
        for item in self.session.take(time.monotonic()):
            if not self.send(item):
                return

    def send(self, item: Out) -> bool:
        if isinstance(item, Close):
            self.link.end(item)
            self.closing_since = time.monotonic()
            return False
        self.record.add(item.audio, keep=self.keep_audio)
        self.link.protocol.send_text(item.text.encode())
        return self.link.flush()

    def read(self, timeout: float) -> bool:
        """Wait up to `timeout` for bytes from the client and act on them; False: the end."""
        readable, _, _ = select.select([self.link.connection], [], [], timeout)
        if not readable:
            if self.closing_since is not None and self.timeout() == 0:
                self.link.end(Close(how="cut"))  # no answer to our close frame: give up
                return False
            return True
        try:
            data = self.link.connection.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.link.protocol.receive_eof()
            self.link.flush()
            return False
        self.feed(data)
        return self.link.open

    def feed(self, data: bytes) -> None:
        if not data:
            return
        protocol = self.link.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Frame):
                self.frame(event)
        self.link.flush()  # pongs, the answer to a close frame
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
        self.record.messages.append(message.decode("utf-8", "replace"))
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
