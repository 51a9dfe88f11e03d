"""The proxy `tts ws` goes through, and the HTTP CONNECT tunnel it reaches the API by.

The choice is api/proxy.py's, the one httpx makes for the HTTP commands (the
same variables, the same NO_PROXY rules, the same refusals). The WebSocket
client connects by itself, so it reaches the API through a CONNECT tunnel when
a proxy applies: the proxy sees only `host:port`, never the key, the path or
any header of ours but Proxy-Authorization. A proxy this client cannot tunnel
through (https:// or SOCKS) is a usage error naming the variable: never a
silent way around the proxy.
"""

from __future__ import annotations

import base64
import os
import socket
import time
from urllib.parse import urlsplit

from cartesia_cli.api import proxy as proxies
from cartesia_cli.api.proxy import Proxy
from cartesia_cli.errors import CONNECT_TIMEOUT, StreamError, UsageError

RESPONSE_LIMIT = 64 * 1024  # a CONNECT answer is a status line and a few headers


def environment_proxy(url: str) -> Proxy | None:
    """The proxy httpx would use for `url`, to tunnel through; a UsageError for a proxy
    setting httpx would refuse, or one that applies and cannot carry a tunnel."""
    try:
        chosen = proxies.proxy_for(url, proxies.in_force(os.environ))
    except proxies.ProxyError as exc:
        raise UsageError(str(exc)) from None
    if chosen is not None and chosen.scheme != "http":
        host = urlsplit(url).hostname
        raise UsageError(
            f"tts ws cannot tunnel through the {chosen.scheme} proxy in {chosen.variable}; "
            f"give it an http:// proxy, or list {host} in NO_PROXY"
        )
    return chosen


# --- the tunnel -------------------------------------------------------------------------


def tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int, deadline: float) -> None:
    """Ask the proxy on `sock` for a tunnel to host:port; return once it says 2xx.

    Every read and write is bounded by `deadline` (time.monotonic()).
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.credentials is not None:
        pair = ":".join(proxy.credentials).encode()
        lines.append(f"Proxy-Authorization: Basic {base64.b64encode(pair).decode('ascii')}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    _bounded(sock, deadline, proxy).sendall(request)
    head = _read_head(sock, deadline, proxy)
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise StreamError(f"the proxy {proxy.shown} gave no HTTP answer to CONNECT")
    status = int(parts[1])
    if not 200 <= status < 300:
        reason = parts[2] if len(parts) > 2 else ""
        raise StreamError(
            f"the proxy {proxy.shown} refused the tunnel to {authority}: HTTP {status} {reason}"
            + (f" (check the credentials in {proxy.variable})" if status == 407 else "")
        )


def _read_head(sock: socket.socket, deadline: float, proxy: Proxy) -> bytes:
    """The answer up to its blank line, and not a byte past it (the tunnel's bytes follow)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        seen = _bounded(sock, deadline, proxy).recv(RESPONSE_LIMIT, socket.MSG_PEEK)
        if not seen:
            raise StreamError(f"the proxy {proxy.shown} closed the connection during CONNECT")
        end = (head + seen).find(b"\r\n\r\n")
        take = len(seen) if end < 0 else end + 4 - len(head)
        head += sock.recv(take)
        if len(head) > RESPONSE_LIMIT:
            raise StreamError(f"the proxy {proxy.shown} answered CONNECT with over 64 KB")
    return head


def _bounded(sock: socket.socket, deadline: float, proxy: Proxy) -> socket.socket:
    left = deadline - time.monotonic()
    if left <= 0:
        raise StreamError(f"timed out connecting through the proxy {proxy.shown}",
                          kind=CONNECT_TIMEOUT)  # fmt: skip
    sock.settimeout(left)
    return sock
