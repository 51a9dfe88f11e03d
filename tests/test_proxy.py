"""One host, one way: proxies read as httpx reads them, hosts named as httpx names them.

api/proxy.py is held to httpx's own reading (urllib's getproxies and httpx's
mounts) by a property test; the start-up guess, every HTTP command and the
WebSocket's tunnel use it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli import base_url, stream_target
from cartesia_cli.api import proxy
from cartesia_cli.mock import FakeCartesia

from .conftest import RunCli, assert_one_error_line

KEY = {"CARTESIA_API_KEY": "k"}
GOOD = ["http://127.0.0.1:3128", "proxy.example:8080", "https://user:pw@proxy.example"]
# What httpx refuses as the client is made, or a value that names no proxy at all.
MALFORMED = ["ftp://proxy.example", "http://[::1", "http://proxy.example:99999", "http://", "a b"]
NO_PROXY = ["*", "127.0.0.1", "::1", "localhost", ".example.com", "example.com",
            "example.com:8443", "https://api.example.com", "all://", "straße.de",
            "http://straße.de", ""]  # fmt: skip
URLS = ["https://api.example.com", "https://example.com:8443", "http://127.0.0.1:8080",
        "http://[::1]:8080", "https://LOCALHOST", "http://straße.de",
        "https://api.cartesia.ai"]  # fmt: skip


def _names(base: str) -> st.SearchStrategy[str]:
    """`base` in any letter case, as an environment may spell it."""
    flips = st.lists(st.booleans(), min_size=len(base), max_size=len(base))
    return flips.map(
        lambda up: "".join(c.upper() if u else c for c, u in zip(base, up, strict=True))
    )


ENVS = st.dictionaries(
    st.one_of(*(_names(n) for n in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"))),
    st.one_of(
        st.sampled_from(GOOD + MALFORMED),
        st.just(""),
        st.lists(st.sampled_from(NO_PROXY), max_size=3).map(",".join),
    ),
    max_size=4,
)


def httpx_reading(url: str, env: dict[str, str]) -> str | Exception | None:
    """httpx's own answer: the proxy URL for `url`, None (direct), or what it raised."""
    from httpx._utils import URLPattern, get_environment_proxies

    with mock.patch.dict(os.environ, env, clear=True):
        try:
            httpx.Client().close()
        except Exception as exc:
            return exc
        mounts = sorted(
            (URLPattern(key), value) for key, value in get_environment_proxies().items()
        )
    return next((value for pattern, value in mounts if pattern.matches(httpx.URL(url))), None)


@settings(max_examples=100, deadline=None)
@given(env=ENVS, url=st.sampled_from(URLS), cgi=st.booleans())
def test_the_proxy_is_the_one_httpx_uses(env: dict[str, str], url: str, cgi: bool) -> None:
    if cgi:
        env = {**env, "REQUEST_METHOD": "GET"}
    theirs = httpx_reading(url, env)
    try:
        ours = proxy.proxy_for(url, env)
    except proxy.ProxyError as refused:
        # Refused: httpx refuses it too, or it is a value that could never work (one
        # httpx takes, but whose host, ".example.com" say, the socket's look-up refuses).
        assert refused.variable in env
        assert (
            isinstance(theirs, Exception)
            or any(v in MALFORMED for v in env.values())
            or _no_look_up_takes(env[refused.variable])
        )
        return
    assert not isinstance(theirs, Exception), theirs
    assert (None if ours is None else ours.url) == theirs


def _no_look_up_takes(value: str) -> bool:
    split = urlsplit(value if "://" in value else f"http://{value}")
    return base_url.url_host(split) is None


# Any text but what would end the host in a URL (IPv6 brackets, a port, a path).
HOST_TEXT = st.characters(
    codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="/?#@:[]\\%"
)


@given(host=st.text(HOST_TEXT, max_size=12))
def test_a_host_is_named_as_httpx_names_it(host: str) -> None:
    """Every command (and the ws URL) connects to the host httpx would, or to none."""
    url = f"https://{host}:8443/v1"
    try:
        theirs: str | None = httpx.URL(url).raw_host.decode("ascii")  # as sent
    except (httpx.InvalidURL, ValueError):
        theirs = None
    ours = base_url.endpoint(url)
    if ours is None:
        return  # the settings table refuses it: a usage error, before any request
    assert ours.host == theirs
    ws = base_url.websocket_url(url, "/tts/websocket")
    named = f"[{theirs}]" if ":" in theirs else theirs
    assert ws == f"wss://{named}:8443/v1/tts/websocket"


def test_an_international_host_is_encoded_as_httpx_does() -> None:
    # Python's own "idna" codec (what socket uses for a str) gives "strasse.de": another host.
    target = stream_target.guess(
        ["tts", "sse", "Hi"], {**KEY, "CARTESIA_BASE_URL": "https://Straße.de"}
    )
    assert target is not None and target.endpoint.host == "xn--strae-oqa.de"
    assert base_url.websocket_url("https://Straße.de:8443/v1/", "/tts/websocket") == (
        "wss://xn--strae-oqa.de:8443/v1/tts/websocket"
    )


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "Https_Proxy", "hTTPS_pROXY",
                                  "ALL_PROXY", "All_Proxy"])  # fmt: skip
def test_no_start_up_connection_when_a_proxy_applies_in_any_letter_case(name: str) -> None:
    env = {**KEY, name: "http://127.0.0.1:3128"}
    assert stream_target.guess(["tts", "sse", "Hi"], env) is None


def test_a_host_no_proxy_exempts_is_connected_at_start_up() -> None:
    env = {**KEY, "Https_Proxy": "http://127.0.0.1:3128", "No_Proxy": ".cartesia.ai"}
    target = stream_target.guess(["tts", "sse", "Hi"], env)
    assert target is not None and target.endpoint.host == "api.cartesia.ai"


@pytest.mark.parametrize(
    "args",
    [
        ("tts", "sse", "Hi", "-o", "out.pcm"),
        ("tts", "bytes", "Hi", "-o", "out.wav"),
        ("tts", "ws", "Hi", "-o", "out.pcm"),
        ("say", "Hi", "-o", "out.wav"),
        ("voices", "list"),
        ("tts", "sse", "--batch", "items.txt", "-o", "out/"),
    ],
)
@pytest.mark.parametrize(
    ("name", "value"),
    [("Https_Proxy", "ftp://proxy.example"), ("ALL_PROXY", "http://[::1"),
     ("http_proxy", "http://proxy.example:99999"), ("NO_PROXY", "straße.de")],
)  # fmt: skip
def test_a_malformed_proxy_is_a_usage_error_naming_it(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...], name: str, value: str
) -> None:
    (tmp_path / "items.txt").write_text("Hi\n")
    (tmp_path / "out").mkdir()
    env = {name: value}
    if name == "NO_PROXY":
        env["HTTPS_PROXY"] = "http://127.0.0.1:3128"
    result = cli(*args, env=env)
    assert result.code == 2, result.stderr
    assert f"cannot use the proxy set in the environment variable {name}: " in result.stderr
    assert_one_error_line(result.stderr)
    assert not fake.requests


@pytest.mark.skipif(
    importlib.util.find_spec("socksio") is not None, reason="socksio installed: SOCKS works"
)
def test_a_socks_proxy_without_socksio_is_a_usage_error_naming_it(
    cli: RunCli, fake: FakeCartesia
) -> None:
    """httpx raised ImportError as the client was made; it said nothing of the variable."""
    result = cli("tts", "sse", "Hi", "-o", "out.pcm", env={"All_Proxy": "socks5://127.0.0.1:9"})
    assert result.code == 2, result.stderr
    assert "environment variable All_Proxy: a SOCKS proxy needs the socksio package" in (
        result.stderr
    )
    assert_one_error_line(result.stderr)
    assert not fake.requests
