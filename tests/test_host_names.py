"""Host names the look-up would refuse: a usage error before any request, never a crash.

httpx builds a request for "a..b" or a 64-character label, and the socket's
"idna" codec then raises UnicodeError as it resolves it; httpx itself raises
IDNAError for a malformed "xn--" name. Either way the run once ended in
"internal error" (exit 1), or, on `tts ws`, in a dead resolver thread.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli import base_url
from cartesia_cli.api import proxy, ws_client
from cartesia_cli.errors import UsageError
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.settings import spec

from .conftest import API_KEY, Result, assert_one_error_line, clean_env, run_in_process

BAD_HOSTS = {
    "empty label": "a..b",
    "empty first label": ".a",
    "64-character label": "a" * 64,
    "300-character label": "a" * 300,
    "bare A-label prefix": "xn--",
    "malformed A-label": "xn--a.com",
    "octet over 255": "1.2.3.999",
    "octet with a leading zero": "0.0.0.00",
    "not IPv6 in brackets": "[v1.x]",
}
COMMANDS = {
    "tts sse": ("tts", "sse", "Hi", "-o", "out.pcm", "--retries", "0"),
    "tts bytes": ("tts", "bytes", "Hi", "-o", "out.pcm", "--retries", "0"),
    "tts ws": ("tts", "ws", "Hi", "-o", "out.pcm"),
    "voices list": ("voices", "list", "--retries", "0"),
    "say": ("say", "Hi", "-o", "out.wav"),
    "dry run": ("tts", "sse", "Hi", "--dry-run"),
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_CLI_CONFIG_DIR=str(tmp_path / "config"))
    for name in [name for name in env if name.lower().endswith("_proxy")]:
        del env[name]  # the machine's own proxy settings: not this test's
    env.update(extra)
    return env


def _run(tmp_path: Path, *args: str, **env: str) -> Result:
    return run_in_process(args, env=_env(tmp_path, **env), cwd=tmp_path)


def _assert_refused(result: Result, label: str) -> None:
    assert result.code == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert result.stderr.startswith(f"cartesia-cli: error: {label} names a host"), result.stderr
    assert result.stdout == b""


# --- the rule: what is taken, httpx and the socket take ------------------------------------

LABEL = st.text("abvz09-_", max_size=70) | st.sampled_from(["xn--", "xn--a", "xn--bcher-kva"])


@given(labels=st.lists(LABEL, min_size=1, max_size=4), bracketed=st.booleans())
def test_an_ascii_host_is_taken_if_and_only_if_httpx_and_the_socket_take_it(
    labels: list[str], bracketed: bool
) -> None:
    host = ".".join(labels)
    url = f"https://[{host}]:8443" if bracketed else f"https://{host}:8443"
    try:
        named = httpx.Request("POST", url).url.host  # an "xn--" name is decoded here
        httpx.URL(url).raw_host.decode("ascii").encode("idna")  # what socket.getaddrinfo does
    except (httpx.InvalidURL, UnicodeError):
        theirs = False
    else:
        theirs = bool(named)
    assert base_url.is_usable(url) == theirs


@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_the_settings_table_refuses_the_host(host: str) -> None:
    with pytest.raises(UsageError, match="names a host no look-up can take"):
        spec.check_base_url(f"http://{host}:9")
    assert base_url.endpoint(f"http://{host}:9") is None  # and launch.py connects nowhere


def test_good_names_stay_usable() -> None:
    good = ("a" * 63, "a.b.", "xn--bcher-kva.de", "Bücher.de", "127.0.0.1", "[::1]", "1.2.3.4.5")
    for host in good:
        assert base_url.is_usable(f"https://{host}:8443"), host


# --- every command, every place a base URL comes from ---------------------------------------


@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_refuses_the_host_from_the_environment(
    tmp_path: Path, command: tuple[str, ...], host: str
) -> None:
    result = _run(tmp_path, *command, CARTESIA_BASE_URL=f"http://{host}:9")
    _assert_refused(result, "CARTESIA_BASE_URL")


@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_the_flag_refuses_the_host(tmp_path: Path, host: str) -> None:
    result = _run(tmp_path, "tts", "sse", "Hi", "-o", "out.pcm", "--base-url", f"http://{host}")
    _assert_refused(result, "--base-url")


def test_the_config_file_refuses_the_host(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text('base_url = "https://a..b"\n')
    result = _run(tmp_path, "tts", "sse", "Hi", "-o", "out.pcm")
    assert result.code == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert "names a host no look-up can take" in result.stderr


def test_config_set_refuses_the_host(tmp_path: Path) -> None:
    result = _run(tmp_path, "config", "set", "base_url", "https://a..b")
    _assert_refused(result, "base_url")
    assert not (tmp_path / "config" / "config.toml").exists()


def test_a_batch_refuses_the_host_before_any_item(tmp_path: Path) -> None:
    (tmp_path / "items.txt").write_text("One\nTwo\n")
    (tmp_path / "out").mkdir()
    args = ("tts", "sse", "--batch", "items.txt", "-o", "out", "--retries", "0")
    result = _run(tmp_path, *args, CARTESIA_BASE_URL="http://a..b:9")
    _assert_refused(result, "CARTESIA_BASE_URL")
    assert not list((tmp_path / "out").iterdir())


# --- a proxy host the look-up would refuse --------------------------------------------------

LONG_PROXY = f"http://{'a' * 300}:9"


def test_a_proxy_host_the_look_up_refuses_is_a_proxy_error() -> None:
    with pytest.raises(proxy.ProxyError, match="HTTPS_PROXY"):
        proxy.check({"HTTPS_PROXY": LONG_PROXY})


@pytest.mark.parametrize("command", ["tts sse", "tts ws", "voices list"])
def test_every_command_names_the_proxy_variable(tmp_path: Path, command: str) -> None:
    result = _run(tmp_path, *COMMANDS[command], CARTESIA_BASE_URL="http://127.0.0.1:9",
                  HTTPS_PROXY=LONG_PROXY, HTTP_PROXY=LONG_PROXY)  # fmt: skip
    assert result.code == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert "proxy set in the environment variable HTTP" in result.stderr


# --- the WebSocket's own resolver: any failure reported, none lost -------------------------


def test_a_look_up_that_raises_anything_is_reported_as_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise UnicodeError("label empty or too long")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(OSError, match="label empty or too long"):
        ws_client._resolve("a..b", 9, float("inf"))


@pytest.mark.parametrize("answer", ["raises", "empty"])
def test_tts_ws_ends_with_a_network_error_whatever_the_look_up_does(
    fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    def look_up(*args: Any, **kwargs: Any) -> list[Any]:
        if answer == "raises":
            raise UnicodeError("label empty or too long")
        return []

    monkeypatch.setattr(socket, "getaddrinfo", look_up)
    result = _run(tmp_path, *COMMANDS["tts ws"], CARTESIA_BASE_URL=fake.url)
    assert result.code == 6, result.stderr
    assert_one_error_line(result.stderr)
    assert "could not connect to" in result.stderr
    assert not fake.requests
