"""Bad input fails fast: exit 2 (3 for a missing key), one line, and no request sent."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, RunCli, assert_one_error_line, clean_env

HELLO = "Hello, world!"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-t", ""), "the transcript is empty"),
        (("-t", " \t "), "the transcript is empty"),
        (("-t", "a", "b"), "the transcript was given twice; give either --transcript or the"),
        (
            (HELLO, "-e", "wav"),
            "--encoding must be one of pcm_f32le, pcm_s16le, pcm_mulaw, pcm_alaw, got 'wav'",
        ),
        (
            (HELLO, "-r", "12345"),
            "--sample-rate must be one of 8000, 16000, 22050, 24000, 44100, 48000, got '12345'",
        ),
        (
            (HELLO, "-r", "fast"),
            "--sample-rate must be one of 8000, 16000, 22050, 24000, 44100, 48000, got 'fast'",
        ),
        ((HELLO, "--model", ""), "--model must not be empty"),
        ((HELLO, "--voice", " "), "--voice must not be empty"),
        ((HELLO, "--base-url", "ftp://api.cartesia.ai"), "--base-url must be an http:// or"),
        ((HELLO, "--base-url", "api.cartesia.ai"), "--base-url must be an http:// or"),
        ((HELLO, "--base-url", "http://[::1"), "--base-url must be an http:// or"),
        ((HELLO, "--base-url", "http://127.0.0.1:abc"), "--base-url must be an http:// or"),
        ((HELLO, "--base-url", "http://127.0.0.1:99999"), "--base-url must be an http:// or"),
        ((HELLO, "--base-url", "http://:80"), "--base-url must be an http:// or"),
        ((HELLO, "--api-version", "2026-13-01"), "--api-version must be a date like 2026-08-14"),
        ((HELLO, "--api-version", "latest"), "--api-version must be a date like 2026-08-14"),
        ((HELLO, "-o", "missing/out.pcm"), "output directory does not exist: missing"),
        ((HELLO, "-o", "newdir/"), "output directory does not exist: newdir/"),
        ((HELLO, "--retries", "-1"), "--retries must be from 0 to 10, got '-1'"),
        (
            (HELLO, "--idle-timeout", "0"),
            "--idle-timeout must be a number of seconds from 0.01 to 1000000, got '0'",
        ),
        (
            (HELLO, "--connect-timeout", "soon"),
            "--connect-timeout must be a number of seconds from 0.01 to 1000000, got 'soon'",
        ),
        ((HELLO, "--no-such-flag"), "No such option: --no-such-flag"),
        ((HELLO, "--connect-timeout", "inf"), "--connect-timeout must be a number of seconds"),
        ((HELLO, "--idle-timeout", "1e10"), "--idle-timeout must be a number of seconds"),
        ((HELLO, "--base-url", "http://exa\x01mple.com"), "--base-url must be an http:// or"),
        ((HELLO, "--base-url", "http://a b.com"), "--base-url must be an http:// or"),
        ((HELLO, "-o", "n" * 300), "File name too long"),
        ((HELLO, "-o", ""), "-o needs a path: '-' for stdout, a directory, or a file name"),
        (("caf\udce9",), "the transcript is not valid UTF-8 text (character 3)"),
        ((HELLO, "-o", "d/" * 3000 + "x"), "File name too long"),
        ((HELLO, "--bit-rate", "64000"), "No such option: --bit-rate"),  # mp3 is tts bytes'
    ],
)
def test_usage_errors_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli("tts", "sse", *args)
    assert result.code == 2, result.stderr
    assert message in result.stderr
    assert_one_error_line(result.stderr)
    assert fake.requests == []
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_non_utf8_stdin(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", "-o", "-", input=b"caf\xe9 au lait")
    assert result.code == 2
    assert result.stderr == "cartesia-cli: error: stdin is not valid UTF-8 text (byte 3)\n"
    assert fake.requests == []


def test_empty_piped_stdin(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", "-o", "-", input=b"\n")
    assert (result.code, fake.requests) == (2, [])
    assert "the transcript is empty" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), b"no transcript; pass --transcript"),
        (("-t", "-"), b"stdin is a terminal; '-' reads stdin: pipe text in"),
    ],
    ids=["no-transcript", "dash"],
)
def test_terminal_stdin_is_never_read(
    fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...], message: bytes
) -> None:
    main, child = pty.openpty()
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), "tts", "sse", *args, "-o", "out.pcm"],
            stdin=child,
            capture_output=True,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
            cwd=tmp_path,
            timeout=10,  # a hang fails here
        )
    finally:
        os.close(child)
        os.close(main)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert API_KEY.encode() not in proc.stderr + proc.stdout
    assert fake.requests == []
    assert not (tmp_path / "out.pcm").exists()


def test_unwritable_output_directory(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = "/sys"  # root may write anywhere else; sysfs refuses new files even to root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        target = str(locked)
    result = cli("tts", "sse", HELLO, "-o", target)
    assert result.code == 2
    assert "Permission denied" in result.stderr
    assert_one_error_line(result.stderr)
    assert fake.requests == []


@pytest.mark.parametrize("output", ["-", "/dev/stdout"])
@pytest.mark.parametrize(
    ("command", "player"),
    [
        ("sse", "ffplay -autoexit -nodisp -f f32le -ar 44100 -i -"),
        ("bytes", "ffplay -autoexit -nodisp -i -"),
    ],
)
def test_audio_to_a_terminal_is_refused(
    fake: FakeCartesia, tmp_path: Path, command: str, player: str, output: str
) -> None:
    main, child = pty.openpty()
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), "tts", command, HELLO, "-o", output],
            stdin=subprocess.DEVNULL,
            stdout=child,
            stderr=subprocess.PIPE,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
            cwd=tmp_path,
            timeout=30,
        )
    finally:
        os.close(child)
        os.close(main)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2
    assert stderr == (
        "cartesia-cli: error: refusing to write audio to a terminal; pipe it "
        f"(cartesia-cli tts {command} ... -o - | {player}) or write a file with -o FILE\n"
    )
    assert fake.requests == []


def test_existing_output_file_is_untouched(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    (tmp_path / "out.pcm").write_bytes(b"precious")
    result = cli("tts", "sse", HELLO, "-o", "out.pcm")
    assert result.code == 2
    assert result.stderr == (
        "cartesia-cli: error: out.pcm already exists; use --force to overwrite it\n"
    )
    assert (tmp_path / "out.pcm").read_bytes() == b"precious"
    assert fake.requests == []


def test_missing_key_is_exit_3_before_any_request(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", HELLO, env={"CARTESIA_API_KEY": ""})
    assert result.code == 3
    assert result.stderr.startswith("cartesia-cli: error: no API key; set CARTESIA_API_KEY")
    assert_one_error_line(result.stderr)
    assert fake.requests == []


def test_wrong_key_never_shows_up_even_with_debug(cli: RunCli, fake: FakeCartesia) -> None:
    wrong = "sk-canary-wrong-0d1e2f3a4b5c"
    result = cli("tts", "sse", HELLO, "--debug", "--api-key", wrong)
    assert result.code == 3
    assert "HTTP 401 Unauthorized" in result.stderr
    assert "Authorization: Bearer [redacted]" in result.stderr
    assert wrong not in result.stderr  # the cli fixture checks every run this way too


def test_plain_http_to_another_host_is_warned_about(cli: RunCli, fake: FakeCartesia) -> None:
    # An empty transcript stops the run before any connection is attempted.
    result = cli("tts", "sse", "-t", "", "--base-url", "http://api.example.com")
    assert result.stderr.splitlines()[0] == (
        "cartesia-cli: warning: http://api.example.com is plain http:// and not this machine: "
        "the API key travels unencrypted"
    )
    assert result.code == 2
    assert fake.requests == []


def test_long_timeouts_are_allowed(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", HELLO, "-o", "-", "--connect-timeout", "100000")
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("group", [(), ("tts",), ("config",)])
def test_a_bare_group_shows_its_help_as_a_usage_error(cli: RunCli, group: tuple[str, ...]) -> None:
    result = cli(*group)
    assert result.code == 2
    assert result.stderr.startswith(f"Usage: cartesia-cli {' '.join(group)}".rstrip() + " ")
    assert "\nCommands:\n" in result.stderr
    assert "\\x0a" not in result.stderr  # real lines, not escaped line breaks
    assert result.stdout == b""


def test_a_proxy_httpx_cannot_use_is_a_usage_error(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", HELLO, "-o", "-", env={"ALL_PROXY": "foo://proxy:1"})
    assert result.code == 2
    assert result.stderr.startswith("cartesia-cli: error: cannot use the proxy set in the")
    assert fake.requests == []


def test_a_config_directory_that_cannot_be_made_is_a_usage_error(
    cli: RunCli, tmp_path: Path
) -> None:
    # Nothing to read there, and nothing can be made there (not even by root).
    env = {"CARTESIA_CLI_CONFIG_DIR": "/proc/cartesia-cli-config"}
    result = cli("config", "set", "voice", "v1", env=env)
    assert result.code == 2
    assert result.stderr.startswith("cartesia-cli: error: cannot write config file ")


@pytest.mark.parametrize(
    ("env", "proxy"),
    [
        ({"HTTP_PROXY": "http://me:pw@127.0.0.1:9"}, "http://***@127.0.0.1:9"),
        ({"ALL_PROXY": "127.0.0.1:9"}, "http://127.0.0.1:9"),
        ({"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"}, None),
        ({"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "*"}, None),
        ({"HTTPS_PROXY": "http://127.0.0.1:9"}, None),  # not for an http:// base URL
    ],
)
def test_a_proxy_is_named_by_debug_and_warned_about_over_plain_http(
    cli: RunCli, env: dict[str, str], proxy: str | None
) -> None:
    # The fake is not behind the proxy, so a used proxy shows as a failed connection.
    result = cli("tts", "sse", HELLO, "-o", "-", "--debug", "--retries", "0", env=env)
    assert f"debug: proxy: {proxy or 'none'} (from the environment)" in result.stderr
    warned = f"warning: the API key travels unencrypted to the proxy {proxy} (plain http://)"
    assert (warned in result.stderr) == (proxy is not None)
    assert "pw@" not in result.stderr
    assert result.code == (6 if proxy else 0)
