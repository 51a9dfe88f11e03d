"""The connection opened during start-up: when it is made, when it is used, when it is not.

The guess (stream_target.py) is tested as a function; the connection itself
through the installed entry point, where launch.py makes it, with a relay in
front of the fake server counting connections and the bytes each one carried.
"""

from __future__ import annotations

import gc
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli import base_url, cli, endpoints, stream_target
from cartesia_cli.api import preconnect, startup_backend
from cartesia_cli.api.client import CartesiaClient
from cartesia_cli.api.contract import ApiConfig
from cartesia_cli.api.events import AudioChunk
from cartesia_cli.api.protocol import SSE_PATH, TtsRequest
from cartesia_cli.base_url import Endpoint
from cartesia_cli.errors import StreamError, UsageError
from cartesia_cli.formats import Container, Encoding, RequestedFormat
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.settings import location, spec

from .conftest import API_KEY, ENTRY_POINT, VOICE, RunCli, clean_env
from .tcp_relay import Relay

KEY = {"CARTESIA_API_KEY": "k"}
HERE = Endpoint("http", "127.0.0.1", 8080)
API = (Endpoint("https", "api.cartesia.ai", 443), True)  # the default, with TLS
LOCAL = {**KEY, "CARTESIA_BASE_URL": "http://127.0.0.1:8080"}


# --- the guess ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["tts", "sse", "Hi"], KEY, (Endpoint("https", "api.cartesia.ai", 443), True)),
        (["tts", "bytes", "Hi"], KEY, (Endpoint("https", "api.cartesia.ai", 443), True)),
        (["say", "Hi"], KEY, (Endpoint("https", "api.cartesia.ai", 443), True)),
        # The WebSocket client does its own TLS on the socket it is given.
        (["tts", "ws", "Hi"], KEY, (Endpoint("https", "api.cartesia.ai", 443), False)),
        (
            ["tts", "sse", "Hi"],
            {**KEY, "CARTESIA_BASE_URL": "http://127.0.0.1:8080"},
            (HERE, False),
        ),
        (["tts", "sse", "--base-url", "http://127.0.0.1:8080"], KEY, (HERE, False)),
        (["tts", "sse", "--base-url=http://127.0.0.1:8080/"], KEY, (HERE, False)),
        # The flag beats the environment; the last flag wins, as in the parser.
        (
            ["tts", "sse", "--base-url", "https://a", "--base-url", "http://127.0.0.1:8080"],
            {**KEY, "CARTESIA_BASE_URL": "https://b"},
            (HERE, False),
        ),
        (
            ["tts", "sse", "Hi", "--api-key", "k2"],
            {},
            (Endpoint("https", "api.cartesia.ai", 443), True),
        ),
        (["tts", "sse", "--help"], KEY, None),
        (["tts", "sse", "Hi", "-h"], KEY, None),
        (["tts", "sse", "Hi", "--dry-run"], KEY, None),
        (["tts", "sse", "--batch", "items.txt"], KEY, None),
        (["tts", "sse", "--batch=items.txt"], KEY, None),
        (["voices", "list"], KEY, None),
        (["mock", "--", "sh"], KEY, None),
        (["config", "get"], KEY, None),
        (["tts"], KEY, None),
        ([], KEY, None),
        # No key anywhere: the run stops with exit 3 before any request.
        (["tts", "sse", "Hi"], {}, None),
        (["tts", "sse", "Hi", "--api-key", " "], KEY, None),
        (["tts", "sse", "Hi"], {**KEY, "_CARTESIA_CLI_COMPLETE": "complete_bash"}, None),
        (["tts", "sse", "Hi"], {**KEY, "HTTPS_PROXY": "http://proxy:3128"}, None),
        (["tts", "sse", "Hi"], {**KEY, "all_proxy": "socks5://proxy:1080"}, None),
        # Base URLs the settings table refuses never connect anywhere.
        (["tts", "sse", "--base-url", "https://h:99999"], KEY, None),
        (["tts", "sse", "--base-url", "https://h:port"], KEY, None),
        (["tts", "sse", "--base-url", "https://h:0"], KEY, None),
        (["tts", "sse", "--base-url", "https://user:pw@h"], KEY, None),
        (["tts", "sse", "--base-url", "ftp://h"], KEY, None),
        (["tts", "sse", "--base-url", "http://h/v1?x=1"], KEY, None),
        (["tts", "sse", "--base-url", "http://h/?"], KEY, None),
        (["tts", "sse", "--base-url", ""], {**KEY, "CARTESIA_BASE_URL": "https://h"}, None),
        (["tts", "sse", "--base-url"], KEY, None),
        # An international name, encoded as httpx encodes it (IDNA 2008).
        (
            ["tts", "sse", "--base-url", "https://Bücher.example"],
            KEY,
            (Endpoint("https", "xn--bcher-kva.example", 443), True),
        ),
        # After `--` everything is text, not an option...
        (["tts", "sse", "--", "--help"], KEY, (Endpoint("https", "api.cartesia.ai", 443), True)),
        # ...unless the `--` may be an option's value (click gives it the next word).
        (["tts", "sse", "-t", "--", "--dry-run"], KEY, None),
        (["tts", "sse", "-o", "--", "--help"], KEY, None),
        (["tts", "ws", "Hi", "-v", "--", "--batch", "x.txt"], KEY, None),
    ],
)
def test_the_guess(
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    expected: tuple[Endpoint, bool] | None,
) -> None:
    env = {**env, "CARTESIA_CLI_CONFIG_DIR": str(tmp_path)}
    assert stream_target.guess(args, env) == expected


@pytest.mark.parametrize(
    ("config", "env", "expected"),
    [
        ('base_url = "http://127.0.0.1:8080"\napi_key = "k"\n', {}, (HERE, False)),
        ('api_key = "k"\n', {}, (Endpoint("https", "api.cartesia.ai", 443), True)),
        ('base_url = "http://127.0.0.1:8080"\n', KEY, (HERE, False)),
        # The environment beats the config file.
        (
            'base_url = "http://h:1"\n',
            {**KEY, "CARTESIA_BASE_URL": "http://127.0.0.1:8080"},
            (HERE, False),
        ),
        ('base_url = "http://127.0.0.1:8080"\n', {}, None),  # no key
        ('api_key = ""\n', {}, None),
        ("not toml [", KEY, None),  # the CLI reports the broken file itself
        ('base_url = "http://h:0x"\napi_key = "k"\n', {}, None),
    ],
)
def test_the_guess_reads_the_config_file(
    tmp_path: Path, config: str, env: dict[str, str], expected: tuple[Endpoint, bool] | None
) -> None:
    (tmp_path / "config.toml").write_text(config)
    env = {**env, "CARTESIA_CLI_CONFIG_DIR": str(tmp_path)}
    assert stream_target.guess(["tts", "sse", "Hi"], env) == expected


@pytest.mark.parametrize(
    ("args", "env", "config", "expected"),
    [
        (["tts", "sse", "Hi"], {}, "", False),
        (["tts", "sse", "Hi", "--cache"], {}, "", True),
        (["say", "--cache", "Hi"], {}, "", True),
        (["tts", "bytes", "Hi", "--cache", "--no-cache"], {}, "", False),  # the last one wins
        (["tts", "sse", "Hi", "--no-cache", "--cache"], {}, "", True),
        (["tts", "sse", "Hi", "--no-cache"], {"CARTESIA_CACHE": "1"}, "cache = true\n", False),
        (["tts", "sse", "Hi"], {"CARTESIA_CACHE": "Yes"}, "", True),
        (["tts", "sse", "Hi"], {"CARTESIA_CACHE": "off"}, "cache = true\n", False),
        (["tts", "sse", "Hi"], {"CARTESIA_CACHE": ""}, "cache = true\n", True),  # empty: unset
        (["tts", "sse", "Hi"], {}, "cache = true\n", True),
        (["tts", "sse", "Hi"], {}, "cache = false\n", False),
        (["tts", "sse", "Hi"], {}, "not toml [", False),  # the CLI reports the broken file
        (["tts", "sse", "--", "--cache"], {}, "", False),  # text after `--`
        (["tts", "ws", "Hi", "--cache"], {}, "", False),  # a WebSocket: never from the cache
        (["voices", "list", "--cache"], {}, "", False),
    ],
)
def test_the_guess_knows_when_the_cache_may_answer(
    tmp_path: Path, args: list[str], env: dict[str, str], config: str, expected: bool
) -> None:
    (tmp_path / "config.toml").write_text(config)
    env = {**env, "CARTESIA_CLI_CONFIG_DIR": str(tmp_path)}
    assert stream_target.may_be_cached(args, env) is expected


def test_a_fifo_in_place_of_the_config_file_does_not_hang_the_guess(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "config.toml")
    env = {"CARTESIA_CLI_CONFIG_DIR": str(tmp_path)}  # no key: the file must be looked at
    assert stream_target.guess(["tts", "sse", "Hi"], env) is None


def test_the_guess_uses_the_settings_tables_names() -> None:
    assert spec.BASE_URL.flag == stream_target.BASE_URL_FLAG
    assert spec.BASE_URL.env == stream_target.BASE_URL_ENV
    assert spec.BASE_URL.name == stream_target.BASE_URL_KEY
    assert spec.BASE_URL.default == stream_target.DEFAULT_BASE_URL
    assert spec.API_KEY.flag == stream_target.API_KEY_FLAG
    assert spec.API_KEY.env == stream_target.API_KEY_ENV
    assert spec.API_KEY.name == stream_target.API_KEY_KEY
    assert stream_target.COMPLETE_VAR == cli.COMPLETE_VAR
    assert (spec.CACHE.flag, spec.CACHE.negative) == (
        stream_target.CACHE_FLAG,
        stream_target.NO_CACHE_FLAG,
    )
    assert (spec.CACHE.env, spec.CACHE.name) == (stream_target.CACHE_ENV, stream_target.CACHE_KEY)
    for on in stream_target.ON:
        assert spec.yes_no(on.upper(), "x") is True
    assert location.app_dir() == typer.get_app_dir("cartesia-cli")


@pytest.mark.parametrize("command", [tts.words for tts in endpoints.ENDPOINTS])
def test_every_guessed_command_exists_and_takes_the_flags_read(command: tuple[str, ...]) -> None:
    result = subprocess.run(
        [str(ENTRY_POINT), *command, "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in ("--base-url", "--api-key"):
        assert flag in result.stdout


@given(st.text(max_size=40) | st.from_regex(r"(https?|ftp)://[a-z0-9.:@\[\]]{0,20}(/x)?[?#]?"))
def test_a_base_url_connects_if_and_only_if_the_table_takes_it(raw: str) -> None:
    try:
        spec.check_base_url(raw)
    except UsageError:
        assert base_url.endpoint(raw) is None
    else:
        assert base_url.endpoint(raw) is not None


# --- the connection, in this process --------------------------------------------------------


@pytest.fixture(autouse=True)
def no_leftover_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no start-up connection and leaves none behind."""
    monkeypatch.setattr(preconnect, "_attempt", None)
    monkeypatch.setattr(preconnect, "_outcome", "")
    yield
    preconnect.discard()


REQUEST = TtsRequest(
    model_id="sonic-3.5",
    transcript="Hello, world!",
    voice_id=VOICE,
    audio=RequestedFormat(Container.RAW, Encoding.PCM_S16LE, 16000),
)


def _speak(url: str, log: list[str] | None = None) -> bytes:
    config = ApiConfig(url, API_KEY, "2026-08-14", 5.0, 5.0, 0)
    debug = None if log is None else log.append
    with CartesiaClient(config, debug=debug) as client:
        return b"".join(
            e.audio for e in client.stream(SSE_PATH, REQUEST) if isinstance(e, AudioChunk)
        )


def _address(fake: FakeCartesia) -> tuple[str, int]:
    target = _endpoint(fake.url)
    return target.host, target.port


def _endpoint(url: str) -> Endpoint:
    target = base_url.endpoint(url)
    assert target is not None
    return target


def test_the_first_request_goes_over_the_start_up_connection(fake: FakeCartesia) -> None:
    with Relay(_address(fake)) as relay:
        preconnect.start(_endpoint(relay.url()), tls=False)
        log: list[str] = []
        audio = _speak(relay.url(), log)
        seen = relay.wait_ended(1)
    assert audio == bytes(fake.transmissions[-1].audio)
    assert len(seen) == 1 and seen[0].received.startswith(b"POST /tts/sse ")
    assert preconnect.outcome() == "used"
    assert "start-up connection: used" in log


def test_a_start_up_connection_to_another_endpoint_is_closed_unused(fake: FakeCartesia) -> None:
    with Relay() as elsewhere:
        preconnect.start(_endpoint(elsewhere.url()), tls=False)
        audio = _speak(fake.url)
        seen = elsewhere.wait_ended(1)
    assert audio == bytes(fake.transmissions[-1].audio)
    assert len(seen) == 1 and seen[0].ended.is_set() and not seen[0].received
    assert preconnect.outcome() == "not used: it was made for another endpoint"


def test_a_connection_the_server_closed_is_replaced_silently(fake: FakeCartesia) -> None:
    with Relay(_address(fake), close_first=True) as relay:
        preconnect.start(_endpoint(relay.url()), tls=False)
        relay.wait_ended(1)
        audio = _speak(relay.url())
        seen = relay.wait_ended(2)
    assert audio == bytes(fake.transmissions[-1].audio)
    assert [bool(s.received) for s in seen] == [False, True]
    assert preconnect.outcome() == "not used: the server closed it"


def test_a_failed_start_up_connection_leaves_the_run_as_it_was(fake: FakeCartesia) -> None:
    with Relay() as dead:
        port = dead.port
    preconnect.start(Endpoint("http", "127.0.0.1", port), tls=False)  # refused
    with pytest.raises(StreamError) as refused:
        _speak(f"http://127.0.0.1:{port}")
    assert preconnect.outcome().startswith("not used: ConnectionRefusedError")
    assert "could not connect" in str(refused.value)


def test_a_connection_left_idle_is_replaced(
    fake: FakeCartesia, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text that takes a while (a slow producer on stdin): the start-up connection sits idle,
    and a NAT or firewall may have forgotten it without a word. Past httpcore's own limit for
    reusing an idle connection, it is not used."""
    monkeypatch.setattr(preconnect, "IDLE_SECONDS", 0.3)
    with Relay(_address(fake)) as relay:
        preconnect.start(_endpoint(relay.url()), tls=False)
        relay.wait_ended(0)
        time.sleep(0.6)
        audio = _speak(relay.url())
        seen = relay.wait_ended(2)
    assert audio == bytes(fake.transmissions[-1].audio)
    assert [bool(s.received) for s in seen] == [False, True]
    assert preconnect.outcome() == "not used: idle for more than 0.3 s"


@pytest.mark.parametrize("early", [False, True], ids=["connected later", "at start-up"])
def test_a_system_proxy_is_honoured(
    fake: FakeCartesia, monkeypatch: pytest.MonkeyPatch, early: bool
) -> None:
    """macOS and Windows also have proxies in their system settings, which urllib's
    getproxies() returns and httpx honours, but only in a transport it builds itself."""
    with Relay() as proxy:  # takes the request, never answers
        system = {"http": proxy.url()}
        monkeypatch.setattr(httpx._utils, "getproxies", lambda: system)
        monkeypatch.setattr("urllib.request.getproxies", lambda: system)
        if early:
            preconnect.start(_endpoint(fake.url), tls=False)
        config = ApiConfig(fake.url, API_KEY, "2026-08-14", 2.0, 0.5, 0)
        with pytest.raises(StreamError), CartesiaClient(config) as client:
            list(client.stream(SSE_PATH, REQUEST))
        seen = proxy.wait_ended(1)
    assert len(seen) == 1 and seen[0].received.startswith(b"POST http://")
    assert not fake.requests


def test_unclaimed_connections_are_closed_by_discard() -> None:
    with Relay() as relay:
        preconnect.start(_endpoint(relay.url()), tls=False)
        relay.wait_ended(0)
        preconnect.discard()
        seen = relay.wait_ended(1)
    assert len(seen) == 1 and seen[0].ended.is_set() and not seen[0].received
    assert preconnect.outcome() == "not used: the run did not ask for it"
    assert preconnect.claim(_endpoint(relay.url()), tls=False, wait=1) is None


def test_a_handshake_nobody_waits_for_any_more_is_ended(
    certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that takes the connection but never answers the TLS ClientHello."""
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    with Relay() as silent:
        endpoint = _endpoint(silent.url("https"))
        preconnect.start(endpoint, tls=True)
        assert preconnect.claim(endpoint, tls=True, wait=0.3) is None
        attempt = preconnect._attempt
        assert attempt is not None and attempt.finished.wait(5)  # woken, not left blocked
        seen = silent.wait_ended(1)
    assert preconnect.outcome() == "not used: not connected within 0.3 s"
    assert seen[0].received.startswith(b"\x16\x03")  # a ClientHello, and nothing after it


def test_a_tls_connection_made_with_another_context_is_not_used(
    tls_fake: FakeCartesia, certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    endpoint = _endpoint(tls_fake.url)
    preconnect.start(endpoint, tls=True)
    stream_type = startup_backend.socket_stream()
    assert stream_type is not None
    backend = startup_backend.StartupBackend(endpoint, lambda line: None, stream_type)
    stream = backend.connect_tcp(endpoint.host, endpoint.port, timeout=5)
    other = ssl.create_default_context(cafile=certificate[0])
    secure = stream.start_tls(other, endpoint.host, timeout=5)
    try:
        assert secure is not stream
        assert secure.get_extra_info("ssl_object") is not None
    finally:
        secure.close()
    assert preconnect.outcome() == "used"  # claimed, then found unfit: a new one was made


# --- the connection, from the installed command ------------------------------------------


@pytest.mark.parametrize(
    ("command", "out"), [("sse", "out.pcm"), ("bytes", "out.wav"), ("ws", "out.pcm")]
)
def test_each_streaming_command_uses_the_start_up_connection(
    cli_process: RunCli, fake: FakeCartesia, tmp_path: Path, command: str, out: str
) -> None:
    with Relay(_address(fake)) as relay:
        result = cli_process("tts", command, "Hello, world!", "-o", out, "--debug",
                             env={"CARTESIA_BASE_URL": relay.url()})  # fmt: skip
        seen = relay.wait_ended(1)
    assert result.code == 0, result.stderr
    assert "debug: start-up connection: used\n" in result.stderr
    assert len(seen) == 1  # the request went over it: no second connection
    written = (tmp_path / out).read_bytes()
    assert written == bytes(fake.transmissions[-1].audio) or written[44:] == bytes(
        fake.transmissions[-1].audio
    )


def test_a_cache_hit_connects_nowhere_and_a_miss_uses_the_start_up_connection(
    cli_process: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    """--cache holds the connection back until the run misses: a miss still sends its
    request over the start-up connection, a hit opens none at all."""
    with Relay(_address(fake)) as relay:  # one relay: one base URL, so one cache key
        env = {"CARTESIA_BASE_URL": relay.url()}
        miss = cli_process("tts", "sse", "Hello, world!", "--cache", "-o", "miss.pcm", "--debug",
                           env=env)  # fmt: skip
        seen = relay.wait_ended(1)
        assert miss.code == 0, miss.stderr
        assert "debug: start-up connection: used\n" in miss.stderr
        assert len(seen) == 1 and seen[0].received.startswith(b"POST /tts/sse ")
        hit = cli_process("tts", "sse", "Hello, world!", "--cache", "-o", "hit.pcm", "--debug",
                          env=env)  # fmt: skip
        assert hit.code == 0, hit.stderr
        assert len(relay.wait_ended(1)) == 1  # still the miss's only
    assert hit.stderr.splitlines()[-2].endswith(", cached")
    assert "start-up connection" not in hit.stderr
    assert (tmp_path / "hit.pcm").read_bytes() == (tmp_path / "miss.pcm").read_bytes()


def test_a_usage_error_closes_the_connection_without_a_byte_sent(
    cli_process: RunCli, fake: FakeCartesia
) -> None:
    with Relay(_address(fake)) as relay:
        result = cli_process(
            "tts", "sse", "Hi", "--speed", "9", env={"CARTESIA_BASE_URL": relay.url()}
        )
        seen = relay.wait_ended(1)
    assert result.code == 2, result.stderr
    assert len(seen) == 1 and seen[0].ended.is_set() and not seen[0].received
    assert not fake.requests


def test_a_usage_error_over_https_sends_no_request(
    cli_process: RunCli, tls_fake: FakeCartesia, certificate: tuple[str, str]
) -> None:
    env = {"CARTESIA_BASE_URL": "", "SSL_CERT_FILE": certificate[0]}
    with Relay(_address(tls_fake)) as relay:
        args = ("tts", "sse", "Hi", "--speed", "9", "--base-url", relay.url("https"))
        result = cli_process(*args, env=env)
        seen = relay.wait_ended(1)
    assert result.code == 2, result.stderr
    assert len(seen) == 1 and seen[0].ended.is_set()  # a TLS handshake, then nothing
    assert not tls_fake.requests


def test_a_guess_for_another_host_is_closed_without_a_byte_sent(
    cli_process: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    """`-o --base-url URL`: the guess reads a --base-url; the parser, a file name and a text."""
    with Relay() as elsewhere:
        result = cli_process("tts", "sse", "-o", "--base-url", elsewhere.url(), "--debug")
        seen = elsewhere.wait_ended(1)
    assert result.code == 0, result.stderr
    assert (tmp_path / "--base-url").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert len(seen) == 1 and seen[0].ended.is_set() and not seen[0].received
    assert "start-up connection: not used: it was made for another endpoint" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        # A proxy for the host, in any letter case: httpx goes there, so no connection.
        {"Http_Proxy": "http://127.0.0.1:9"},
        {"ALL_PROXY": "http://127.0.0.1:9"},
        {"CARTESIA_API_KEY": ""},  # exit 3 before any request
    ],
)
def test_no_connection_is_made_for_a_proxy_or_without_a_key(
    cli_process: RunCli, fake: FakeCartesia, env: dict[str, str]
) -> None:
    with Relay(_address(fake)) as relay:
        result = cli_process("tts", "sse", "Hi", "-o", "-", "--debug",
                             env={"CARTESIA_BASE_URL": relay.url(), **env})  # fmt: skip
        seen = relay.wait_ended(0)
    assert "start-up connection" not in result.stderr
    assert result.code != 0 and not seen, result.stderr


def test_a_host_no_proxy_exempts_gets_the_start_up_connection(
    cli_process: RunCli, fake: FakeCartesia
) -> None:
    """httpx goes direct to a host NO_PROXY names, and so does the start-up connection."""
    env = {"HTTP_PROXY": "http://127.0.0.1:9", "no_proxy": "127.0.0.1"}
    with Relay(_address(fake)) as relay:
        result = cli_process("tts", "sse", "Hi", "-o", "-", "--debug",
                             env={"CARTESIA_BASE_URL": relay.url(), **env})  # fmt: skip
        seen = relay.wait_ended(1)
    assert result.code == 0, result.stderr
    assert "start-up connection: used" in result.stderr
    assert len(seen) == 1 and seen[0].received.startswith(b"POST /tts/sse ")


@pytest.mark.parametrize(
    "args",
    [
        ("tts", "sse", "--help"),
        ("tts", "sse", "Hi", "--dry-run"),
        ("tts", "ws", "Hi", "-h"),
        ("say", "--help"),
        ("config", "get"),
    ],
)
def test_commands_that_send_nothing_connect_nowhere(
    cli_process: RunCli, fake: FakeCartesia, args: tuple[str, ...]
) -> None:
    with Relay(_address(fake)) as relay:
        result = cli_process(*args, env={"CARTESIA_BASE_URL": relay.url()})
        seen = relay.wait_ended(0)
    assert result.code == 0, result.stderr
    assert seen == []


def test_completion_connects_nowhere(cli_process: RunCli, fake: FakeCartesia) -> None:
    env = {"_CARTESIA_CLI_COMPLETE": "complete_bash", "COMP_WORDS": "cartesia-cli tts sse --enc",
           "COMP_CWORD": "3"}  # fmt: skip
    with Relay(_address(fake)) as relay:
        result = cli_process("tts", "sse", "Hi", env={"CARTESIA_BASE_URL": relay.url(), **env})
        seen = relay.wait_ended(0)
    assert result.code == 0 and b"--encoding" in result.stdout
    assert seen == []


def test_a_failing_start_up_connection_changes_nothing(
    cli_process: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    """The server closes the first connection (an idle timeout, a restart): the run goes on."""
    with Relay(_address(fake), close_first=True) as relay:
        # No retries: the run succeeds only if the closed connection is seen and replaced.
        result = cli_process("tts", "sse", "Hello, world!", "-o", "out.pcm", "--retries", "0",
                             env={"CARTESIA_BASE_URL": relay.url()})  # fmt: skip
        seen = relay.wait_ended(2)
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert [bool(s.received) for s in seen] == [False, True]


@pytest.mark.parametrize("url", ["http://127.0.0.1:{dead}", "https://127.0.0.1:{dead}"])
def test_a_refused_start_up_connection_gives_the_same_failure(
    cli_process: RunCli, cli: RunCli, url: str
) -> None:
    with Relay() as dead:
        port = dead.port
    env = {"CARTESIA_BASE_URL": url.format(dead=port)}
    args = ("tts", "sse", "Hi", "-o", "-", "--retries", "0")
    in_process, real = cli(*args, env=env), cli_process(*args, env=env)
    assert real.code == in_process.code == 6
    assert real.stderr == in_process.stderr


def test_an_untrusted_certificate_gives_the_same_failure(
    cli_process: RunCli, cli: RunCli, tls_fake: FakeCartesia
) -> None:
    env = {"CARTESIA_BASE_URL": tls_fake.url}
    args = ("tts", "sse", "Hi", "-o", "-")
    in_process, real = cli(*args, env=env), cli_process(*args, env=env)
    assert real.code == in_process.code == 6
    assert "CERTIFICATE_VERIFY_FAILED" in real.stderr
    assert real.stderr == in_process.stderr
    assert not tls_fake.requests


def test_launch_uses_its_connection_and_the_collector_is_on_while_the_stream_flows(
    fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """launch.py's start-up, in this process: the connection is used, and the collector
    (off while the CLI and httpx load) is back on before the first chunk."""
    from cartesia_cli import launch
    from cartesia_cli.run import pipeline

    during: list[bool] = []
    stream = pipeline.run

    def spied(*args: Any, **kwargs: Any) -> Any:
        during.append(gc.isenabled())
        return stream(*args, **kwargs)

    out = tmp_path / "out.pcm"
    monkeypatch.setattr(pipeline, "run", spied)
    monkeypatch.setattr(
        sys, "argv", ["cartesia-cli", "tts", "sse", "Hello, world!", "-o", str(out)]
    )
    monkeypatch.setenv("CARTESIA_API_KEY", API_KEY)
    monkeypatch.setenv("CARTESIA_BASE_URL", fake.url)
    monkeypatch.setenv("CARTESIA_CLI_CONFIG_DIR", str(tmp_path))
    try:
        assert launch._run() == 0
    finally:
        gc.enable()
        gc.unfreeze()
    assert during == [True]
    assert preconnect.outcome() == "used"
    assert out.read_bytes() == bytes(fake.transmissions[-1].audio)


def test_debug_tells_what_became_of_it_once(cli_process: RunCli) -> None:
    with Relay() as dead:
        port = dead.port
    args = ("tts", "sse", "Hi", "-o", "-", "--retries", "2", "--debug")
    result = cli_process(*args, env={"CARTESIA_BASE_URL": f"http://127.0.0.1:{port}"})
    assert result.code == 6
    assert result.stderr.count("start-up connection: not used: ConnectionRefusedError") == 1
    assert result.stderr.count("attempt ") == 3


# --- httpx and httpcore laid out otherwise: no swap, an ordinary connection ----------------

# A stand-in for the module, without the name (as if httpcore had moved or renamed it);
# httpcore's own code keeps the real module's globals, so it works as before.
WITHOUT_SYNC_STREAM = """
import sys
import types
import httpcore._backends
import httpcore._backends.sync as real
stand_in = types.ModuleType(real.__name__)
stand_in.__dict__.update({k: v for k, v in vars(real).items() if k != "SyncStream"})
sys.modules[real.__name__] = httpcore._backends.sync = stand_in
sys.argv = ["cartesia-cli", *sys.argv[1:]]
from cartesia_cli.launch import main
main()
"""


def test_an_httpcore_without_its_socket_stream_changes_nothing_but_a_debug_line(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    """The name was imported as the client module loaded: every run exited 1 without it."""
    env = clean_env(
        CARTESIA_API_KEY=API_KEY,
        CARTESIA_BASE_URL=fake.url,
        CARTESIA_CLI_CONFIG_DIR=str(tmp_path),
    )
    args = ["tts", "sse", "Hello, world!", "-o", "out.pcm", "--debug"]
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_SYNC_STREAM, *args],
        capture_output=True, stdin=subprocess.DEVNULL, env=env, cwd=tmp_path, timeout=30,
    )  # fmt: skip
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert stderr.count("start-up connection: ") == 1
    assert "start-up connection: not used: httpcore's socket stream" in stderr


def test_a_pool_laid_out_differently_changes_nothing_but_a_debug_line(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = httpx.HTTPTransport.__init__

    class OtherPool:
        """A pool of another class: httpx still works through it, we cannot swap in it."""

        def __init__(self, pool: object) -> None:
            self.inner = pool

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    def elsewhere(self: httpx.HTTPTransport, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        self._pool = OtherPool(self._pool)  # type: ignore[assignment]

    monkeypatch.setattr(httpx.HTTPTransport, "__init__", elsewhere)
    with Relay(_address(fake)) as relay:
        preconnect.start(_endpoint(relay.url()), tls=False)
        relay.wait_ended(0)
        env = {"CARTESIA_BASE_URL": relay.url()}
        result = cli("tts", "sse", "Hello, world!", "-o", "out.pcm", "--debug", env=env)
        seen = relay.wait_ended(2)
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    why = "not used: httpx's connection pool is laid out differently than expected"
    assert preconnect.outcome() == why
    assert result.stderr.count("start-up connection: ") == 1
    assert f"start-up connection: {why}" in result.stderr
    assert [bool(s.received) for s in seen] == [False, True]  # closed unused, then a new one
