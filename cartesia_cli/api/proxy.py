"""The proxy the environment sets for a URL, read as httpx reads it; checked before any use.

httpx takes its proxies from urllib's getproxies(): every variable whose name
ends in `_proxy` in any letter case (HTTPS_PROXY, https_proxy, Https_Proxy),
an all-lowercase one winning, an empty all-lowercase one unsetting, and
HTTP_PROXY (not http_proxy) ignored under CGI (REQUEST_METHOD set). It builds a
transport for each of http, https and all (so a malformed one stops every
request, whatever its scheme), and NO_PROXY entries bypass them: `*` all hosts,
`name` the name and its subdomains, `.name` subdomains only, an IP address
itself, `scheme://host[:port]` that exactly. This module does the same over a
mapping, so that the start-up guess, the HTTP clients and the WebSocket agree
on one answer, and a value httpx would refuse is a usage error naming the
variable rather than an exception from deep inside httpx.

Standard library only (launch.py asks before the CLI is imported). The
environment is an argument; `in_force` alone also looks at the system's
settings, as urllib does when the environment sets no proxy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import SplitResult, unquote, urlsplit

from cartesia_cli.base_url import DEFAULT_PORTS, ascii_host, url_host

SCHEMES = ("http", "https", "all")  # the variables httpx builds a proxy transport from
PROXY_SCHEMES = frozenset({"http", "https", "socks5", "socks5h"})  # what httpx.Proxy takes
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f]")


class ProxyError(ValueError):
    """A proxy variable httpx would refuse: `variable` is its name as set."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(
            f"cannot use the proxy set in the environment variable {variable}: {reason}"
        )
        self.variable = variable


class Proxy(NamedTuple):
    """A proxy to go through: the variable that set it, and its URL (a scheme always)."""

    variable: str
    url: str

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()

    @property
    def shown(self) -> str:
        """For people: the URL with any user name and password masked."""
        split = urlsplit(self.url)
        if split.username is None and split.password is None:
            return self.url
        return split._replace(netloc="***@" + split.netloc.rpartition("@")[2]).geturl()

    @property
    def credentials(self) -> tuple[str, str] | None:
        """The user name and password in the URL, %-decoded as httpx decodes them."""
        split = urlsplit(self.url)
        if not split.username and not split.password:
            return None
        return unquote(split.username or ""), unquote(split.password or "")

    @property
    def address(self) -> tuple[str, int]:
        """The host (as httpx names it) and port to connect to; checked by `_checked`."""
        split = urlsplit(self.url)
        host = ascii_host(split.hostname or "") or ""
        return host, split.port or DEFAULT_PORTS.get(self.scheme, 80)


def variables(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """ "http", "https", "all", "no", ... -> (variable name, value), as urllib reads them."""
    found: dict[str, tuple[str, str]] = {}
    for name, value in env.items():
        if value and name.lower().endswith("_proxy"):
            found[name.lower()[:-6]] = (name, value)
    if "REQUEST_METHOD" in env:  # a CGI script: HTTP_PROXY may come from a request header
        found.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy"):  # all-lowercase suffix: these win, empty or not
            if value:
                found[name.lower()[:-6]] = (name, value)
            else:
                found.pop(name.lower()[:-6], None)
    return found


def proxy_for(url: str, env: Mapping[str, str]) -> Proxy | None:
    """The proxy httpx would use for `url` (None: it connects directly).

    Raises ProxyError, naming the variable, if any proxy variable httpx reads is
    one it would refuse, whether or not it applies to `url`.
    """
    target = _target(url)
    for pattern in _patterns(variables(env)):
        if target is not None and pattern.matches(*target):
            return pattern.proxy
    return None


def configured(env: Mapping[str, str]) -> list[Proxy]:
    """Every proxy httpx would build a transport for; ProxyError for one it would refuse."""
    return [pattern.proxy for pattern in _patterns(variables(env)) if pattern.proxy is not None]


def check(env: Mapping[str, str]) -> None:
    """Raise ProxyError if any proxy variable httpx reads is one it would refuse.

    A SOCKS proxy too when the socksio package is missing: httpx raises
    ImportError for it as a client is made, whatever URL the client is for.
    """
    for built in configured(env):
        if built.scheme.startswith("socks") and not _socks_available():
            raise ProxyError(built.variable, "a SOCKS proxy needs the socksio package installed")


def in_force(env: Mapping[str, str]) -> Mapping[str, str]:
    """The proxy settings httpx reads: `env`'s, or the system's when `env` sets none.

    urllib's getproxies() (which httpx calls) falls back to macOS's or Windows'
    system settings only when no proxy variable is set; those come back here
    under the lower-case variable names.
    """
    if variables(env):
        return env
    from urllib.request import getproxies

    return {f"{scheme}_proxy": value for scheme, value in getproxies().items()}


def _socks_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("socksio") is not None


class _Pattern(NamedTuple):
    """One of httpx's proxy mounts: a URL pattern, and the proxy (None: go direct)."""

    scheme: str  # "" for any
    host: str  # "" for any; "*name" the name and subdomains; "*.name" subdomains only
    port: int | None
    proxy: Proxy | None

    def priority(self) -> tuple[bool, int, int]:  # httpx tries the most specific first
        return self.port is None, -len(self.host), -len(self.scheme)

    def matches(self, scheme: str, host: str, port: int | None) -> bool:
        if self.scheme and self.scheme != scheme:
            return False
        if self.port is not None and self.port != port:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
        if self.host.startswith("*"):
            return host == self.host[1:] or host.endswith("." + self.host[1:])
        return not self.host or host == self.host


def _patterns(found: Mapping[str, tuple[str, str]]) -> list[_Pattern]:
    """httpx's mounts for these variables, most specific first (get_environment_proxies)."""
    variable, no_proxy = found.get("no", ("NO_PROXY", ""))
    entries = [entry.strip() for entry in no_proxy.split(",")]
    if "*" in entries:  # httpx builds no proxy at all then, and checks none
        return []
    # Keyed as httpx keys its mounts: a NO_PROXY entry may replace a proxy (never built then).
    keyed: dict[str, tuple[str, str, bool]] = {}
    for scheme in SCHEMES:
        if scheme in found:
            keyed[f"{scheme}://"] = (*found[scheme], True)
    for entry in filter(None, entries):
        keyed[_no_proxy_key(entry)] = (variable, entry, False)
    patterns = [_pattern(key, name, value, proxy=is_proxy)
                for key, (name, value, is_proxy) in keyed.items()]  # fmt: skip
    return sorted(patterns, key=_Pattern.priority)


def _no_proxy_key(entry: str) -> str:
    if "://" in entry:
        return entry
    if _address(entry, 4):
        return f"all://{entry}"
    if _address(entry, 6):
        return f"all://[{entry}]"
    if entry.lower() == "localhost":
        return f"all://{entry}"
    return f"all://*{entry}"


def _address(entry: str, version: int) -> bool:
    import ipaddress  # only with a NO_PROXY: not a cost on every start-up

    kind = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    try:
        kind(entry.split("/")[0])
    except ValueError:
        return False
    return True


def _pattern(key: str, variable: str, value: str, *, proxy: bool) -> _Pattern:
    split = _split(key, variable)
    scheme = split.scheme.lower()
    host = split.hostname or ""
    encoded = host.lower() if host.isascii() else ascii_host(host)
    if encoded is None:
        raise ProxyError(variable, f"{value!r} names no usable host")
    port = None if split.port == DEFAULT_PORTS.get(scheme) else split.port
    return _Pattern(
        "" if scheme == "all" else scheme,
        "" if encoded == "*" else encoded,
        port,
        _checked(variable, value) if proxy else None,
    )


def _checked(variable: str, value: str) -> Proxy:
    url = value if "://" in value else f"http://{value}"
    split = _split(url, variable)
    if split.scheme.lower() not in PROXY_SCHEMES:
        schemes = ", ".join(sorted(PROXY_SCHEMES))
        raise ProxyError(variable, f"its scheme must be one of {schemes}")
    if url_host(split) is None:
        raise ProxyError(variable, "it names no usable host")
    return Proxy(variable, url)


def _split(url: str, variable: str) -> SplitResult:
    try:
        if _NOT_IN_URL.search(url):
            raise ValueError("spaces or control characters")
        split = urlsplit(url)
        split.port  # noqa: B018 - reading it checks the port
    except ValueError as exc:
        raise ProxyError(variable, f"it is not a URL ({exc})") from None
    return split


def _target(url: str) -> tuple[str, str, int | None] | None:
    """Scheme, host as httpx has it, and port (None when the scheme's default)."""
    try:
        split = urlsplit(url.strip())
        port = split.port
    except ValueError:
        return None
    scheme = split.scheme.lower()
    host = ascii_host(split.hostname or "")
    if host is None:
        return None
    return scheme, host, None if port == DEFAULT_PORTS.get(scheme) else port
