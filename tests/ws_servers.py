"""Small loopback servers that misbehave in ways the fake server does not, for `tts ws`.

Each serves one connection at a time on 127.0.0.1 from a thread of its own,
with every socket wait bounded (WAIT), and runs `handle(conn)` for each.
The helpers speak just enough WebSocket by hand: the upgrade's answer,
unmasked server frames, and masked client frames read back as text.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

WAIT = 10.0  # the longest any socket operation of these servers waits
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


Handler = Callable[["Server", socket.socket], None]


class Server:
    """Accepts connections and hands each to `handle`; `requests` are the raw upgrade heads."""

    def __init__(self, handle: Handler, **options: int) -> None:
        self._handle = handle
        self._listener = socket.create_server(("127.0.0.1", 0))
        for name, value in options.items():  # SO_RCVBUF and the like, inherited on accept
            self._listener.setsockopt(socket.SOL_SOCKET, getattr(socket, name), value)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[bytes] = []
        self.got_request = threading.Event()
        self.notes: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(WAIT)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.settimeout(WAIT)
            with conn, contextlib.suppress(OSError):
                self._handle(self, conn)

    def read_request(self, conn: socket.socket) -> dict[str, str]:
        """The upgrade request's head; its headers, names in lower case."""
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(4096)
            if not data:
                raise OSError("closed before the request ended")
            head += data
        self.requests.append(head)
        self.got_request.set()
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def accept(conn: socket.socket, headers: dict[str, str]) -> None:
    digest = hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest()
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + base64.b64encode(digest) + b"\r\n\r\n"
    )


def frame(message: dict[str, Any]) -> bytes:
    """One unmasked text frame from the server."""
    payload = json.dumps(message).encode()
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 127, size)
    return head + payload


def _exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = conn.recv(size - len(data))
        if not more:
            raise OSError("closed mid-frame")
        data += more
    return data


def read_message(conn: socket.socket) -> dict[str, Any] | None:
    """The client's next text message as JSON; None for a close frame."""
    first, second = _exactly(conn, 2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", _exactly(conn, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", _exactly(conn, 8))[0]
    mask = _exactly(conn, 4)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(_exactly(conn, size)))
    if first & 0x0F == 0x8:
        return None
    return dict(json.loads(payload))


def chunk(audio: bytes) -> dict[str, Any]:
    """Audio for the connection's one context (a message without `context_id` is taken)."""
    data = base64.b64encode(audio).decode()
    return {"type": "chunk", "data": data, "done": False, "status_code": 206}


def answer_like_the_api(conn: socket.socket, first: dict[str, Any] | None = None) -> None:
    """Read messages; answer each flush with flush_done and the last message with `done`."""
    message = first if first is not None else read_message(conn)
    flushes = 0
    while message is not None:
        context = message.get("context_id", "")
        if message.get("flush"):
            flushes += 1
            answer = {"type": "flush_done", "context_id": context, "flush_done": True,
                      "flush_id": flushes, "done": False, "status_code": 206}  # fmt: skip
            conn.sendall(frame(answer))
        if message.get("continue") is False:
            conn.sendall(frame({"type": "done", "context_id": context, "done": True,
                                "status_code": 200}))  # fmt: skip
            return
        message = read_message(conn)
