"""`tts ws` goes where `tts sse` goes: the same host (as httpx reads it), the same proxy."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.api import ws_proxy
from cartesia_cli.errors import UsageError
from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, RunCli

NO_PROXIES: dict[str, str] = {}  # see no_proxy_in_the_environment


@pytest.fixture(autouse=True)
def no_proxy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own proxy settings removed (an empty lower-case one would cancel ours)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


class ConnectProxy:
    """An HTTP proxy that only tunnels (CONNECT), recording each request's head."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(10)
        self.port = self._listener.getsockname()[1]
        self.heads: list[bytes] = []
        self._thread = threading.Thread(target=self._serve_one, daemon=True)

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        self._thread.join(10)

    def _serve_one(self) -> None:
        with contextlib.suppress(OSError):
            client, _ = self._listener.accept()
            with client:
                client.settimeout(10)
                head = b""
                while b"\r\n\r\n" not in head:
                    head += client.recv(4096)
                self.heads.append(head)
                host, _, port = head.split(b" ")[1].decode().rpartition(":")
                with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as up:
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    pump = threading.Thread(target=_pump, args=(up, client), daemon=True)
                    pump.start()
                    _pump(client, up)
                    pump.join(10)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "Http_Proxy", "ALL_PROXY"])
def test_the_websocket_goes_through_the_proxy_in_a_tunnel(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, variable: str
) -> None:
    with ConnectProxy() as proxy:
        env = {**NO_PROXIES, variable: f"http://me:se%20cret@127.0.0.1:{proxy.port}"}
        result = cli("tts", "ws", "Hello there.", "-o", "out.pcm", "--retries", "0", env=env)
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    [head] = proxy.heads
    target = f"127.0.0.1:{urlsplit(fake.url).port}"
    assert head.startswith(f"CONNECT {target} HTTP/1.1\r\n".encode())
    assert b"Proxy-Authorization: Basic " + base64.b64encode(b"me:se cret") in head
    assert API_KEY.encode() not in head and b"websocket" not in head  # only host:port


def test_no_proxy_is_honoured(cli: RunCli, fake: FakeCartesia) -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        unused.settimeout(0.01)
        env = {**NO_PROXIES, "HTTP_PROXY": f"127.0.0.1:{unused.getsockname()[1]}",
               "NO_PROXY": "example.com, 127.0.0.1"}  # fmt: skip
        result = cli("tts", "ws", "Hello there.", "-o", "out.pcm", env=env)
        with pytest.raises(TimeoutError):
            unused.accept()  # the proxy was never asked
    assert result.code == 0, result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("HTTP_PROXY", "http://[::1", "HTTP_PROXY is not a usable proxy URL"),
        ("https_proxy", "ftp://proxy.example:21", "https_proxy is not a usable proxy URL"),
        ("ALL_PROXY", "http://proxy.example:port", "ALL_PROXY is not a usable proxy URL"),
        ("HTTP_PROXY", "socks5://127.0.0.1:1080", "cannot tunnel through the socks5 proxy"),
        ("http_proxy", "https://127.0.0.1:8443", "cannot tunnel through the https proxy"),
    ],
)
def test_a_proxy_that_cannot_be_used_is_a_usage_error(
    cli: RunCli, fake: FakeCartesia, variable: str, value: str, said: str
) -> None:
    result = cli("tts", "ws", "Hello.", "-o", "out.pcm", env={**NO_PROXIES, variable: value})
    assert result.code == 2, result.stderr
    assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not fake.requests  # refused before any connection


@pytest.mark.parametrize(
    "base_url",
    ["https://faß.de/v1", "https://API.Cartesia.AI./", "https://bücher.example:443",
     "http://Host.Example:8080/a%20b", "http://[::1]:9000", "https://ÄÖ.example:8443/"],
)  # fmt: skip
def test_the_websocket_names_the_host_as_httpx_does(base_url: str) -> None:
    """IDNA 2008 (`faß.de` is not `fass.de`), lower case, trailing dot, default ports."""
    from websockets.uri import parse_uri

    from cartesia_cli.api.ws_client import ws_target

    http = httpx.URL(base_url.rstrip("/") + "/tts/sse")
    target = ws_target(base_url)
    parsed = parse_uri(target.uri)
    assert parsed.host == target.host == http.raw_host.decode()
    assert parsed.port == target.port == (http.port or (443 if http.scheme == "https" else 80))
    assert parsed.user_info is None


def test_both_commands_resolve_and_name_the_same_host(
    cli: RunCli, fake: FakeCartesia, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An international name: the same name resolved, the same Host header, for sse and ws."""
    resolved: list[str] = []
    real = socket.getaddrinfo

    def to_the_fake(host: str, port: object, *args: object, **kwargs: object) -> object:
        resolved.append(host.decode() if isinstance(host, bytes) else host)
        return real("127.0.0.1", port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", to_the_fake)
    base = f"http://Faß.DE:{urlsplit(fake.url).port}"
    hosts = []
    for command in ("sse", "ws"):
        result = cli("tts", command, "Hello.", "-o", f"{command}.pcm",
                     env={**NO_PROXIES, "CARTESIA_BASE_URL": base})  # fmt: skip
        assert result.code == 0, result.stderr
        hosts.append(fake.requests[-1].headers["host"])
    assert set(resolved) == {"xn--fa-hia.de"}
    assert hosts[0] == hosts[1] == f"xn--fa-hia.de:{urlsplit(fake.url).port}"


_HOSTS = st.sampled_from(["api.example", "example", "x.api.example", "127.0.0.1", "localhost"])
_VALUES = st.one_of(
    st.just(""),
    st.builds(lambda h, p: f"http://{h}:{p}", _HOSTS, st.integers(1, 65535)),
    st.builds(lambda h: f"{h}:3128", _HOSTS),
)
_NO_PROXY = st.lists(
    st.sampled_from(["api.example", ".example", "example", "127.0.0.1", "localhost", "*",
                     "https://api.example", "http://", "ample", "::1"]),
    max_size=3,
).map(",".join)  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(
    http=_VALUES, https=_VALUES, every=_VALUES, no_proxy=_NO_PROXY,
    url=st.sampled_from(["https://api.example/tts/websocket", "http://127.0.0.1:8000/x",
                         "https://x.api.example/", "http://localhost/", "https://example/"]),
)  # fmt: skip
def test_the_proxy_chosen_is_the_one_httpx_chooses(
    http: str, https: str, every: str, no_proxy: str, url: str
) -> None:
    from httpx._utils import URLPattern, get_environment_proxies

    env = {"HTTP_PROXY": http, "https_proxy": https, "ALL_PROXY": every, "NO_PROXY": no_proxy}
    with mock.patch.dict(os.environ, env, clear=True):
        mounts = {URLPattern(key): value for key, value in get_environment_proxies().items()}
        expected = next((v for p, v in sorted(mounts.items()) if p.matches(httpx.URL(url))), None)
        try:
            chosen = ws_proxy.environment_proxy(httpx.URL(url))
        except UsageError:
            assert expected is not None and not expected.startswith("http://")
            return
    assert (None if chosen is None else str(chosen.url)) == (
        None if expected is None else str(httpx.URL(expected))
    )
