"""httpcore's network backend, taught to begin with the connection opened at start-up.

httpx has no public way in to its connection pool, so `install` swaps the pool's
backend on a transport it has just built, and wraps the socket in httpcore's own
socket stream, which it does not export. If httpx or httpcore ever lay either
out differently, nothing is swapped: the start-up connection is closed unused,
`--debug` says why, and the client connects as it always did. Hence the private
name is imported in `install`, not here, where a failure would stop every run.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from cartesia_cli.api import preconnect
from cartesia_cli.base_url import Endpoint

DebugLog = Callable[[str], None]
SocketOptions = Iterable[Any] | None
StreamType = Callable[[Any], httpcore.NetworkStream]  # httpcore's SyncStream(socket)


def install(transport: httpx.HTTPTransport, endpoint: Endpoint, log: DebugLog) -> bool:
    """Make `transport`'s first connection to `endpoint` the start-up one, when it can.

    False when httpx or httpcore are not laid out as expected; the start-up
    connection is then closed, and the reason logged.
    """
    pool = getattr(transport, "_pool", None)
    stream_type = socket_stream()
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        why = "httpx's connection pool is laid out differently than expected"
    elif stream_type is None:
        why = "httpcore's socket stream (httpcore._backends.sync.SyncStream) is not there"
    else:
        pool._network_backend = StartupBackend(endpoint, log, stream_type)
        return True
    preconnect.discard(why)
    log(f"start-up connection: {preconnect.outcome()}")
    return False


def socket_stream() -> StreamType | None:
    """httpcore's own socket stream (exceptions mapped, timeouts per call), if it is there."""
    try:
        from httpcore._backends.sync import SyncStream
    except ImportError:  # moved or renamed (an ImportError also when only the name is gone)
        return None
    return SyncStream if isinstance(SyncStream, type) else None


class StartupBackend(httpcore.SyncBackend):
    """Connects as httpcore does, except that it first claims the start-up connection."""

    def __init__(self, endpoint: Endpoint, log: DebugLog, stream_type: StreamType) -> None:
        self._endpoint = endpoint
        self._log = log
        self._stream_type = stream_type

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.NetworkStream:
        def connect() -> httpcore.NetworkStream:
            return super(StartupBackend, self).connect_tcp(
                host, port, timeout, local_address, socket_options
            )

        plain = local_address is None and not socket_options  # nothing the thread did not do
        same = (host, port) == (self._endpoint.host, self._endpoint.port)
        if not (plain and same and preconnect.waiting()):  # a retry finds it claimed: anew
            return connect()
        with_tls = self._endpoint.scheme == "https"
        prepared = preconnect.claim(self._endpoint, tls=with_tls, wait=timeout or 0.0)
        self._log(f"start-up connection: {preconnect.outcome()}")
        if prepared is None:
            return connect()
        if prepared.context is None:
            return self._stream_type(prepared.sock)
        return _Handshaken(prepared, connect, self._stream_type(prepared.sock))


class _Handshaken(httpcore.NetworkStream):
    """A TLS connection handed to httpcore as if TCP only: its `start_tls` has been done.

    If httpcore asks for TLS with another context or server name than the one
    used, the socket is closed unused and a new connection made.
    """

    def __init__(
        self,
        prepared: preconnect.Prepared,
        connect: Callable[[], httpcore.NetworkStream],
        stream: httpcore.NetworkStream,
    ) -> None:
        self._prepared = prepared
        self._connect = connect
        self._stream = stream

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        prepared = self._prepared
        sock = prepared.sock
        alpn = sock.selected_alpn_protocol() if isinstance(sock, ssl.SSLSocket) else None
        if (
            ssl_context is prepared.context
            and server_hostname == prepared.server_hostname
            and alpn in (None, *preconnect.HTTP1)
        ):
            return self._stream
        sock.close()
        return self._connect().start_tls(ssl_context, server_hostname, timeout)

    # No read or write: httpcore uses a TLS connection only through what start_tls returns.

    def close(self) -> None:
        self._stream.close()

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
