"""A TCP relay on 127.0.0.1 that records what each connection's client sent.

Put in front of the fake server, it shows how many connections a run opened
and which of them carried a request; with no upstream it is a sink that only
listens. `close_first` drops the first connection at once, as a server that
closes an idle connection would.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

WAIT = 5.0  # the longest any test waits for the relay to see something


@dataclass
class Seen:
    """One accepted connection: the client's bytes, and whether it has ended."""

    received: bytearray = field(default_factory=bytearray)
    ended: threading.Event = field(default_factory=threading.Event)


class Relay:
    def __init__(self, upstream: tuple[str, int] | None = None, *, close_first: bool = False):
        self._upstream = upstream
        self._close_first = close_first
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.seen: list[Seen] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> Relay:
        self._spawn(self._accept)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT)
        self._listener.close()

    def wait_ended(self, count: int) -> list[Seen]:
        """The connections once `count` have been accepted and all have ended (or WAIT s)."""
        deadline = time.monotonic() + WAIT
        while len(self.seen) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        for seen in self.seen:
            seen.ended.wait(max(deadline - time.monotonic(), 0))
        return self.seen

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            seen = Seen()
            self.seen.append(seen)
            if self._close_first and len(self.seen) == 1:
                client.close()
                seen.ended.set()
                continue
            self._spawn(self._serve, client, seen)

    def _serve(self, client: socket.socket, seen: Seen) -> None:
        upstream = socket.create_connection(self._upstream) if self._upstream else None
        if upstream is not None:
            self._spawn(self._pump, upstream, client, None)
        self._pump(client, upstream, seen)
        if upstream is not None:
            upstream.close()
        client.close()
        seen.ended.set()

    def _pump(self, source: socket.socket, sink: socket.socket | None, seen: Seen | None) -> None:
        source.settimeout(0.1)
        while not self._stop.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if seen is not None:
                seen.received += data
            if sink is not None:
                try:
                    sink.sendall(data)
                except OSError:
                    break
        if sink is not None:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
