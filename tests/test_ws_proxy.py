"""`tts ws` goes where `tts sse` goes: the same host (as httpx reads it), the same proxy.

Which proxy applies, and which settings are refused, is api/proxy.py's for every
command (tests/test_proxy.py); here, the tunnel `tts ws` goes through it by.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

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
        ("HTTP_PROXY", "socks5://127.0.0.1:1080", "cannot tunnel through the socks5 proxy in"),
        ("http_proxy", "https://127.0.0.1:8443", "cannot tunnel through the https proxy in"),
    ],
)
def test_a_proxy_that_cannot_carry_a_tunnel_is_a_usage_error(
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
