"""The connection opened while the CLI is still being imported, for the first request to use.

Start-up costs ~110 ms of imports; the TCP and TLS handshakes cost a round trip
each. Paid one after the other they add up; launch.py calls `start` as soon as
it knows a stream is coming and where to, so that the handshakes run on a
thread while typer, httpx and rich load. The thread resolves the host, connects
and, for https, completes the TLS handshake with the run's own context
(tls.py): nothing else. It imports nothing (an import on a second thread
races the main thread's, see tls.py). No byte of HTTP leaves before the
arguments are checked, because only the client that sends the request can
`claim` the socket, and it gets it only for the same endpoint. Anything that
differs, fails or is late leaves the socket unused (the client connects as
usual, so the run's result never depends on this), and `discard` closes what
nobody claimed.

Standard library only: launch.py imports it before the CLI.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli import process
from cartesia_cli.api import tls as _tls

if TYPE_CHECKING:
    import ssl

    from cartesia_cli.base_url import Endpoint

# The longest the thread itself tries. The client waits for it at most its own
# --connect-timeout and connects as usual after that.
CONNECT_SECONDS = 30.0
# Older than this when claimed, it is not used: httpcore's own limit (keepalive_expiry) for
# reusing an idle connection, which a NAT or firewall may have forgotten without a word.
IDLE_SECONDS = 5.0
HTTP1 = ["http/1.1"]  # what httpcore offers with http2 off, the client's setting


class Prepared(NamedTuple):
    """A connected socket; after a TLS handshake, the context and name it was made with."""

    sock: socket.socket
    context: ssl.SSLContext | None
    server_hostname: str | None


class _Attempt:
    def __init__(self, endpoint: Endpoint, tls: bool) -> None:
        self.endpoint = endpoint
        self.tls = tls
        self.finished = threading.Event()
        self.prepared: Prepared | None = None
        self.failure = ""
        self.taken = False  # claimed or given up: a socket finished later is closed
        self.connecting: socket.socket | None = None  # while the TLS handshake runs
        self.ready_at = 0.0  # time.monotonic() when the handshakes were done

    def wake(self) -> None:
        """End a handshake nobody will wait for: it blocks with no timeout of its own."""
        sock = self.connecting
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


_lock = threading.Lock()
_attempt: _Attempt | None = None
_outcome = ""  # what became of it, for --debug


def start(endpoint: Endpoint, *, tls: bool) -> None:
    """Connect to `endpoint` on a thread (once); with `tls`, complete the handshake too.

    Call it on the main thread: with `tls`, it starts loading the TLS context first
    (tls.prefetch, which imports what the handshake needs here).
    """
    global _attempt
    if _attempt is not None:
        return
    if tls:
        _tls.prefetch()
        try:  # ssl names the server through the "idna" codec, imported on first use
            endpoint.host.encode("idna")
        except UnicodeError:  # ssl would refuse the name as well: the client reports it
            return
    with _lock:
        if _attempt is not None:
            return
        attempt = _attempt = _Attempt(endpoint, tls)
    thread = threading.Thread(target=_connect, args=(attempt,), name="preconnect", daemon=True)
    try:
        process.start_thread(thread)  # stop signals go to the main thread only
    except Exception as exc:  # no thread (a process limit): the client connects as usual
        attempt.failure = f"{type(exc).__name__}: {exc}"
        attempt.finished.set()


def begin(endpoint: Endpoint, *, tls: bool) -> None:
    """`start`, with the CA certificates loading on a thread first for an https endpoint
    (a WebSocket does its own TLS, yet on the same certificates). On the main thread."""
    if endpoint.scheme == "https":
        _tls.prefetch()  # the CA bundle loads on a thread while DNS and TCP go on
    start(endpoint, tls=tls)


def claim(endpoint: Endpoint, *, tls: bool, wait: float) -> Prepared | None:
    """The prepared socket if it is for `endpoint` (and TLS-ness) and ready within `wait` s.

    Claimed once: a second call, or a call for anything else, gets None and the
    caller connects as usual.
    """
    global _outcome
    attempt = _attempt
    if attempt is None or attempt.taken:
        return None
    if (attempt.endpoint, attempt.tls) != (endpoint, tls):
        _give_up(attempt, "not used: it was made for another endpoint")
        return None
    attempt.finished.wait(wait)
    with _lock:
        if attempt.taken:
            return None
        attempt.taken = True
        prepared = attempt.prepared
        if not attempt.finished.is_set():
            _outcome = f"not used: not connected within {wait:g} s"
            attempt.wake()
        elif prepared is None:
            _outcome = f"not used: {attempt.failure}"
        elif time.monotonic() - attempt.ready_at > IDLE_SECONDS:
            _outcome = f"not used: idle for more than {IDLE_SECONDS:g} s"
            prepared.sock.close()
            prepared = None
        elif not _still_open(prepared.sock):
            _outcome = "not used: the server closed it"
            prepared.sock.close()
            prepared = None
        else:
            _outcome = "used"
    return prepared


def waiting() -> bool:
    """Is there a connection (made or under way) that nobody has claimed yet?"""
    return _attempt is not None and not _attempt.taken


def discard(why: str = "the run did not ask for it") -> None:
    """Close the socket if nobody claimed it (a usage error, a command that did not send)."""
    attempt = _attempt
    if attempt is not None and not attempt.taken:
        _give_up(attempt, f"not used: {why}")


def outcome() -> str:
    """What became of the start-up connection: "used", "not used: why", or "" (none made)."""
    return _outcome


def _give_up(attempt: _Attempt, why: str) -> None:
    global _outcome
    with _lock:
        if attempt.taken:
            return
        attempt.taken = True
        _outcome = why
        prepared = attempt.prepared
        attempt.wake()
    if prepared is not None:
        prepared.sock.close()


def _still_open(sock: socket.socket) -> bool:
    """Nothing to read yet: a server speaks only when asked, so anything is an end or a reset.

    One non-blocking read; on a TLS socket it also takes in the session tickets a
    TLS 1.3 server sends after the handshake, which are not data.
    """
    import ssl  # loaded by now: the client that claims has imported it

    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.recv(1)
    except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return True
    except OSError:
        return False
    finally:
        sock.settimeout(timeout)
    return False  # an end of stream, or bytes no request asked for


def _connect(attempt: _Attempt) -> None:
    prepared: Prepared | None = None
    try:
        prepared = _handshakes(attempt)
    except Exception as exc:  # any failure: the client connects as usual and reports its own
        attempt.failure = f"{type(exc).__name__}: {exc}"
    with _lock:
        late = attempt.taken
        if not late:
            attempt.prepared = prepared
            attempt.ready_at = time.monotonic()
    if late and prepared is not None:
        prepared.sock.close()
    attempt.finished.set()


def _handshakes(attempt: _Attempt) -> Prepared:
    """DNS, TCP and (with TLS) the TLS handshake, as httpcore's connect and start_tls do them.

    The handshake runs on a blocking socket: one call that never needs the GIL
    until it is done. With a timeout, Python's ssl module waits for each reply in
    poll() and must take the GIL back before answering it, which the main thread,
    busy importing, held for tens of ms (seen as a late TLS Finished). Bounded all
    the same: whoever stops waiting for it calls `wake`, and the thread is a daemon.
    """
    endpoint = attempt.endpoint
    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=CONNECT_SECONDS)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not attempt.tls:
            return Prepared(sock, None, None)
        # The run's: same trust settings, same object. Waited for, never built here.
        context = _tls.prefetched(CONNECT_SECONDS)
        if context is None:
            raise ConnectionAbortedError("no TLS context was loaded at start-up")
        context.set_alpn_protocols(HTTP1)
        sock.settimeout(None)
        # A second descriptor for `wake`: wrap_socket detaches `sock` as it starts.
        waker = sock.dup()
        with _lock:
            attempt.connecting = waker
            if attempt.taken:
                attempt.wake()
        try:
            secure = context.wrap_socket(sock, server_hostname=endpoint.host)
        finally:
            with _lock:
                attempt.connecting = None
            waker.close()
    except BaseException:
        sock.close()
        raise
    return Prepared(secure, context, endpoint.host)
