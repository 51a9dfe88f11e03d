"""What a usable base URL is: one rule for the settings table and the start-up connection.

Standard library only, so that launch.py can check a base URL, and so know where
to connect, before the CLI itself is imported.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Spaces or control characters: httpx would refuse them, or worse, send them.
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_QUERY = re.compile(r"[?#]")  # even empty: "/tts/sse" would land after it


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
    )


def endpoint(raw: str) -> Endpoint | None:
    """Where `raw` connects, or None if the settings table would refuse it."""
    split = parts(raw)
    if has_userinfo(split) or not _usable(split, raw) or split.hostname is None:
        return None
    return Endpoint(split.scheme, split.hostname, split.port or DEFAULT_PORTS[split.scheme])
