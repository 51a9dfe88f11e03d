"""The proxy `tts ws` goes through: the one httpx would pick for the same URL, or none.

The HTTP commands leave proxies to httpx, which reads HTTP_PROXY, HTTPS_PROXY,
ALL_PROXY and NO_PROXY (any letter case, lower case winning, through
`urllib.request.getproxies`) into URL patterns and uses the most specific one
that matches. The WebSocket client connects by itself, so it makes the same
choice here, rule for rule, and reaches the API through an HTTP CONNECT tunnel
when a proxy applies: the proxy sees only `host:port`, never the key, the path
or any header of ours but Proxy-Authorization. A value httpx would refuse, or a
proxy this client cannot tunnel through (https:// or SOCKS), is a usage error
naming the variable: never a silent way around the proxy.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import socket
import time
from typing import NamedTuple
from urllib.request import getproxies

import httpx

from cartesia_cli.errors import CONNECT_TIMEOUT, StreamError, UsageError

HTTPX_SCHEMES = ("http", "https", "socks5", "socks5h")  # what httpx.Proxy accepts
RESPONSE_LIMIT = 64 * 1024  # a CONNECT answer is a status line and a few headers


class Proxy(NamedTuple):
    """A proxy from the environment: where it is, its credentials, and which variable set it."""

    url: httpx.URL  # without user name and password
    auth: tuple[str, str] | None
    variable: str

    @property
    def shown(self) -> str:
        """For people: the URL with any credentials masked."""
        return str(self.url.copy_with(username="***")) if self.auth else str(self.url)


class _Pattern(NamedTuple):
    """httpx's URLPattern: `all://`, `https://`, `all://*example.com`, with its priority."""

    scheme: str
    host: str
    port: int | None
    host_regex: re.Pattern[str] | None

    def matches(self, url: httpx.URL) -> bool:
        if self.scheme and self.scheme != url.scheme:
            return False
        if self.host and self.host_regex is not None and not self.host_regex.match(url.host):
            return False
        return self.port is None or self.port == url.port

    @property
    def priority(self) -> tuple[int, int, int]:
        """Most specific first: a port, then a longer host, then a longer scheme."""
        return (0 if self.port is not None else 1, -len(self.host), -len(self.scheme))


def environment_proxy(url: httpx.URL) -> Proxy | None:
    """The proxy httpx would use for `url`; UsageError for one it would refuse or we cannot use."""
    rules = _rules(getproxies())
    parsed = [
        (_pattern(key, variable), None if value is None else _proxy(value, variable))
        for key, (value, variable) in rules.items()
    ]  # every value is checked, as httpx checks them all when it makes a client
    parsed.sort(key=lambda rule: rule[0].priority)  # stable: equal priorities keep their order
    chosen = next((proxy for pattern, proxy in parsed if pattern.matches(url)), None)
    if chosen is not None and chosen.url.scheme != "http":
        raise UsageError(
            f"tts ws cannot tunnel through the {chosen.url.scheme} proxy in {chosen.variable}; "
            f"give it an http:// proxy, or list {url.host} in NO_PROXY"
        )
    return chosen


def _rules(found: dict[str, str]) -> dict[str, tuple[str | None, str]]:
    """httpx's get_environment_proxies: pattern -> (proxy or None, the variable it came from).

    A later key replaces an earlier one in place, as in httpx's own dict.
    """
    rules: dict[str, tuple[str | None, str]] = {}
    for scheme in ("http", "https", "all"):
        value = found.get(scheme)
        if value:
            proxy = value if "://" in value else f"http://{value}"
            rules[f"{scheme}://"] = (proxy, _variable(f"{scheme}_proxy", value))
    for host in (item.strip() for item in found.get("no", "").split(",")):
        if host == "*":
            return {}  # NO_PROXY=* turns every proxy off
        if host:
            rules[_bypass_key(host)] = (None, _variable("no_proxy", None))
    return rules


def _bypass_key(host: str) -> str:
    """A NO_PROXY entry as the pattern httpx makes of it (curl's rules)."""
    if "://" in host:
        return host
    if _is_ip(host, ipaddress.IPv4Address):
        return f"all://{host}"
    if _is_ip(host, ipaddress.IPv6Address):
        return f"all://[{host}]"
    if host.lower() == "localhost":
        return f"all://{host}"
    return f"all://*{host}"


def _is_ip(host: str, kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    try:
        kind(host.split("/")[0])
    except ValueError:
        return False
    return True


def _pattern(key: str, variable: str) -> _Pattern:
    try:
        url = httpx.URL(key)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UsageError(f"{variable} has an entry that is not a host or URL: {exc}") from None
    host = "" if url.host == "*" else url.host
    regex: re.Pattern[str] | None = None
    if url.host and url.host != "*":
        if url.host.startswith("*."):
            regex = re.compile(f"^.+\\.{re.escape(url.host[2:])}$")
        elif url.host.startswith("*"):
            regex = re.compile(f"^(.+\\.)?{re.escape(url.host[1:])}$")
        else:
            regex = re.compile(f"^{re.escape(url.host)}$")
    return _Pattern("" if url.scheme == "all" else url.scheme, host, url.port, regex)


def _proxy(value: str, variable: str) -> Proxy:
    """One proxy URL, as httpx.Proxy reads it, or a usage error naming its variable."""
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UsageError(f"{variable} is not a usable proxy URL: {exc}") from None
    if url.scheme not in HTTPX_SCHEMES:
        raise UsageError(
            f"{variable} is not a usable proxy URL: its scheme must be one of "
            f"{', '.join(HTTPX_SCHEMES)}"
        )
    if not url.host:
        raise UsageError(f"{variable} is not a usable proxy URL: it names no host")
    auth = (url.username, url.password) if url.username or url.password else None
    return Proxy(url.copy_with(username=None, password=None), auth, variable)


def _variable(lower_name: str, value: str | None) -> str:
    """The variable that gave `value`: the lower-case one wins, as in urllib."""
    if lower_name in os.environ and (value is None or os.environ[lower_name] == value):
        return lower_name
    for name, given in os.environ.items():
        if name.lower() == lower_name and (value is None or given == value):
            return name
    return lower_name.upper()  # from the system's settings, not the environment


# --- the tunnel -------------------------------------------------------------------------


def tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int, deadline: float) -> None:
    """Ask the proxy on `sock` for a tunnel to host:port; return once it says 2xx.

    Every read and write is bounded by `deadline` (time.monotonic()).
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.auth is not None:
        pair = f"{proxy.auth[0]}:{proxy.auth[1]}".encode()
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
