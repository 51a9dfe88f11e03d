"""What a usable base URL is: one rule for the settings table and the start-up connection.

Standard library only, so that launch.py can check a base URL, and so know where
to connect, before the CLI itself is imported; an international host name alone
loads the `idna` package (httpx's own), so that every command, the start-up
connection and the WebSocket included, names the host as httpx does.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import SplitResult, quote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Spaces or control characters: httpx would refuse them, or worse, send them.
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_QUERY = re.compile(r"[?#]")  # even empty: "/tts/sse" would land after it
_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")  # digits only: httpx's test
_HOST_SAFE = "!$&'()*+,;=" + '"`{}%|\\'  # what httpx leaves unquoted in an ASCII host


class Endpoint(NamedTuple):
    """Where a base URL's requests go: the scheme decides TLS, host and port the socket."""

    scheme: str
    host: str
    port: int


def parts(raw: str) -> SplitResult:
    """The URL's parts; all empty when it cannot be read (bad characters, a bad port)."""
    try:
        if _NOT_IN_URL.search(raw.strip()):
            raise ValueError("spaces or control characters")
        split = urlsplit(raw.strip())
        split.port  # noqa: B018 - reading it checks the port: out of range or not a number
    except ValueError:
        return urlsplit("")
    return split


def has_userinfo(split: SplitResult) -> bool:
    """A user name or password: httpx would send them as Basic auth in place of the key."""
    return split.username is not None or split.password is not None


def is_usable(raw: str) -> bool:
    """http(s), a host, a port that is not 0, and no query or fragment (paths go after it)."""
    return _usable(parts(raw), raw)


def _usable(split: SplitResult, raw: str) -> bool:
    return (
        split.scheme in DEFAULT_PORTS
        and bool(split.hostname)
        and split.port != 0  # 0 would quietly mean the scheme's default port
        and not _QUERY.search(raw)
        and url_host(split) is not None
    )


def url_host(split: SplitResult) -> str | None:
    """The host of a parsed URL as `ascii_host` names it; None if httpx would refuse it.

    In brackets httpx takes an IPv6 address only, not the "[v1.x]" form urlsplit lets by.
    """
    if not split.hostname:
        return None
    if split.netloc.rpartition("@")[2].startswith("["):
        import ipaddress

        try:
            ipaddress.IPv6Address(split.hostname)
        except ValueError:
            return None
    return ascii_host(split.hostname)


def ascii_host(host: str) -> str | None:
    """`host` as httpx sends and resolves it: lower case, an international name IDNA-encoded.

    IDNA 2008 through the `idna` package, as httpx does: Python's own "idna" codec
    (IDNA 2003, which socket and ssl use for a str) turns "straße.de" into
    "strasse.de", another host. None when the name cannot be encoded, or when
    an ASCII one would be refused as it is used (`_ascii_name_usable`).
    """
    if ":" in host:  # an IPv6 address (urlsplit took its brackets off)
        return host.lower()
    if _IPV4_STYLE.fullmatch(host):  # httpx takes it as an address, so it must be one
        import ipaddress

        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:  # "1.2.3.999", "0.0.0.00": httpx raises InvalidURL
            return None
    if host.isascii():  # quoted as httpx quotes it (a name with "<" in it, say)
        name = quote(host.lower(), safe=_HOST_SAFE)
        return name if _ascii_name_usable(name) else None
    import idna

    try:
        return str(idna.encode(host.lower()).decode("ascii"))
    except (idna.IDNAError, UnicodeError):
        return None


def _ascii_name_usable(name: str) -> bool:
    """Whether httpx and the socket take this ASCII name, rather than raise as they use it.

    Python's "idna" codec, which socket, ssl and asyncio apply to a str host,
    refuses an empty label ("a..b") and one over 63 characters; and httpx decodes
    a name that starts with "xn--" as an A-label, so a malformed one ("xn--",
    "xn--a.com") raises inside httpx as the request is built.
    """
    try:
        name.encode("idna")
    except UnicodeError:
        return False
    if not name.startswith("xn--"):
        return True
    import idna

    try:
        idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def endpoint(raw: str) -> Endpoint | None:
    """Where `raw` connects (the host as `ascii_host` gives it), or None if the table refuses it."""
    split = parts(raw)
    if has_userinfo(split) or not _usable(split, raw):
        return None
    host = url_host(split)
    if host is None:
        return None
    return Endpoint(split.scheme, host, split.port or DEFAULT_PORTS[split.scheme])


def websocket_url(raw: str, path: str) -> str:
    """`https://Host/x` -> `wss://host/x` + path (`http` -> `ws`), the host as httpx names it.

    For a base URL the settings table took (an unusable one is returned as given,
    with the scheme changed, for the caller's own error).
    """
    split = parts(raw)
    scheme = "wss" if split.scheme == "https" else "ws"
    host = ascii_host(split.hostname or "")
    if not split.hostname or host is None:
        rest = raw.strip().partition("://")[2]
        return f"{scheme}://{rest.rstrip('/')}{path}"
    netloc = f"[{host}]" if ":" in host else host
    if split.port is not None:
        netloc += f":{split.port}"
    return f"{scheme}://{netloc}{split.path.rstrip('/')}{path}"
