"""A TCP delay line on 127.0.0.1: a link with a round trip but no bandwidth limit.

    with Link(("127.0.0.1", upstream_port), delay=0.025) as link:  # 50 ms round trip
        ...connect to ("127.0.0.1", link.port)...

Each direction of each connection has a reader, which stamps what it reads with
the time it is due (read time + `delay`), and a writer, which sends it then, in
order; an EOF is a stamped item like the bytes, so it is passed on after them.
A reset or a failed send on either side shuts down both sides. Standard library
only; threads, not asyncio, so the benchmark's blocking code can run beside it.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

CHUNK = 1 << 16
# Bounds what one direction holds in flight (256 x 64 KiB = 16 MiB): a reader whose
# writer cannot send blocks instead of buffering without end. At a 100 ms delay that
# still passes 160 MB/s, far above what the benchmark streams, so it is no bandwidth cap.
LINE_ITEMS = 256
# How often a blocked loop looks at its stop flag: the accept loop (a closed listener
# does not wake accept() on every OS) and a reader whose line is full.
POLL = 0.05
JOIN_SECONDS = 2.0  # at most, for all threads together, on exit
CONNECT_SECONDS = 5.0

# (due time.monotonic(), bytes; b"" is the EOF), or None: the connection was shut.
Item = tuple[float, bytes] | None


class _Connection:
    """A client socket and its upstream socket, with a reader and a writer each way."""

    def __init__(
        self,
        client: socket.socket,
        server: socket.socket,
        delay: float,
        connected_at: float,
        on_done: Callable[[_Connection], None],
    ) -> None:
        self.sockets = (client, server)
        self.delay = delay
        self.shut_down = threading.Event()
        to_server: queue.Queue[Item] = queue.Queue(LINE_ITEMS)
        to_client: queue.Queue[Item] = queue.Queue(LINE_ITEMS)
        self.lines = (to_server, to_client)
        work: list[tuple[Callable[[], None], str]] = [
            (lambda: self._read(client, to_server, connected_at), "client->"),
            (lambda: self._write(to_server, server), "->server"),
            (lambda: self._read(server, to_client, 0.0), "server->"),
            (lambda: self._write(to_client, client), "->client"),
        ]
        self.threads = [
            threading.Thread(target=self._run, args=(fn,), name=f"link {name}", daemon=True)
            for fn, name in work
        ]
        self._running = len(self.threads)
        self._lock = threading.Lock()
        self._on_done = on_done

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def shut(self) -> None:
        """Stop all four threads soon: a sentinel for idle writers, shutdown() for the rest.

        shutdown(), not close(): it wakes a thread blocked in recv() or send() on the
        socket, and the descriptor stays valid until the last thread is gone (see _run).
        """
        self.shut_down.set()
        for line in self.lines:
            with contextlib.suppress(queue.Full):  # full: its writer is not in get()
                line.put_nowait(None)
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            with self._lock:
                self._running -= 1
                last = self._running == 0
            if last:  # no thread can still be using the sockets
                self.close()
                self._on_done(self)

    def _read(self, source: socket.socket, line: queue.Queue[Item], connected_at: float) -> None:
        """Stamp each read with when it is due: sent at the earliest once connected."""
        try:
            while True:
                data = source.recv(CHUNK)
                sent = max(time.monotonic(), connected_at)
                if not self._put(line, (sent + self.delay, data)) or not data:
                    return
        except OSError:  # a reset: the other side goes too, at once
            self.shut()

    def _put(self, line: queue.Queue[Item], item: Item) -> bool:
        while not self.shut_down.is_set():
            with contextlib.suppress(queue.Full):
                line.put(item, timeout=POLL)
                return True
        return False

    def _write(self, line: queue.Queue[Item], dest: socket.socket) -> None:
        while (item := line.get()) is not None:
            due, data = item
            # Sleep until due, but wake at once if the connection is shut meanwhile.
            if self.shut_down.wait(max(0.0, due - time.monotonic())):
                return
            try:
                if not data:
                    dest.shutdown(socket.SHUT_WR)  # the EOF, after every byte before it
                    return
                dest.sendall(data)
            except OSError:  # the far side reset or closed: close this side too
                self.shut()
                return


class Link:
    """Accepts on 127.0.0.1:`port` and relays each connection to `upstream`, delayed.

    `delay` is one way, in seconds, applied in each direction: a round trip costs
    twice it. 0 makes a plain relay. A context manager: exit closes the listener and
    every connection and joins the threads (at most JOIN_SECONDS).

    connect_round_trip: the kernel completes the client's TCP handshake on loopback
    at once, so connect() returns a round trip earlier than over a real link, where
    it waits for the SYN-ACK. With this set, bytes the client sends within a round
    trip of connecting count as sent a round trip after connecting (when a real
    connect() would have returned), which puts that round trip back. A client that
    does other work between connect() and its first send (building a TLS context,
    say) is charged for it only where it outlasts the handshake, as on a real link.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        delay: float = 0.025,
        *,
        connect_round_trip: bool = False,
        max_connections: int = 64,
    ) -> None:
        self.upstream = upstream
        self.delay = delay
        self.handshake = 2 * delay if connect_round_trip else 0.0
        self.max_connections = max_connections
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._acceptor = threading.Thread(target=self._accept, name="link accept", daemon=True)

    def __enter__(self) -> Link:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        deadline = time.monotonic() + JOIN_SECONDS
        self._stopping.set()
        self._acceptor.join(JOIN_SECONDS)  # first, so no connection is added after this
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.shut()
        for connection in connections:
            for thread in connection.threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            connection.close()  # normally closed by its last thread already; idempotent

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
                connected_at = time.monotonic() + self.handshake  # when a real connect() returns
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                full = len(self._connections) >= self.max_connections
            if full:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=CONNECT_SECONDS)
            except OSError:  # nothing upstream: the client sees its connection closed
                client.close()
                continue
            for sock in (client, server):
                sock.settimeout(None)
                # The delay is ours to add: no Nagle wait on top of it in the relay.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(client, server, self.delay, connected_at, self._forget)
            with self._lock:
                self._connections.add(connection)
            connection.start()

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)
