"""Bad input fails fast: exit 2 (3 for a missing key), one line, and no request sent."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import (
    API_KEY,
    ENTRY_POINT,
    RunCli,
    assert_one_error_line,
    clean_env,
    run_in_process,
)
from .test_hostile import RawServer, response

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
        ((HELLO, "--bit-rate", "64000"), "--bit-rate applies to an MP3 only"),
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
        (
            "sse",
            "ffplay -nodisp -autoexit -loglevel error -probesize 32 -analyzeduration 0"
            " -f f32le -ar 44100 -i -",
        ),
        ("bytes", "ffplay -nodisp -autoexit -loglevel error -i -"),
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
    result = cli("config", "set", "voice", "6ccbfb76-1fc6-48f7-b71d-91ac6298247b", env=env)
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


# --- links to files that do not exist yet ---------------------------------------------------


def test_a_dangling_link_needs_force_and_then_the_audio_makes_its_target(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "out.pcm").symlink_to("takes/new.pcm")
    (tmp_path / "takes").mkdir()
    refused = cli("tts", "sse", HELLO, "-o", "out.pcm")
    assert refused.code == 2
    assert refused.stderr == (
        f"cartesia-cli: error: out.pcm is a link to a missing file ({tmp_path}/takes/new.pcm); "
        "use --force to overwrite it\n"
    )
    assert fake.requests == []
    written = cli("tts", "sse", HELLO, "-o", "out.pcm", "--force")
    assert written.code == 0, written.stderr
    assert (tmp_path / "out.pcm").is_symlink()
    assert (tmp_path / "takes" / "new.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)


def test_a_dangling_link_into_a_missing_directory_is_refused_even_with_force(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "out.pcm").symlink_to("nowhere/new.pcm")
    result = cli("tts", "sse", HELLO, "-o", "out.pcm", "--force")
    assert result.code == 2
    assert result.stderr == (
        f"cartesia-cli: error: out.pcm links to {tmp_path}/nowhere/new.pcm, "
        "whose directory does not exist\n"
    )
    assert fake.requests == []


def test_a_failed_request_through_a_dangling_link_creates_nothing(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "out.pcm").symlink_to("new.pcm")
    fake.queue("http-500")
    result = cli("tts", "sse", HELLO, "-o", "out.pcm", "--force", "--retries", "0")
    assert result.code == 5
    assert not (tmp_path / "new.pcm").exists()


# --- a reader that has gone: help, version and config output --------------------------------


@pytest.mark.parametrize(
    "args",
    [("--help",), ("--version",), ("tts", "sse", "--help"), ("config", "path"), ("config", "get")],
)
def test_printing_into_a_closed_pipe_exits_141_quietly(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    config = tmp_path / "config"
    config.mkdir(mode=0o700)
    (config / "config.toml").write_text('voice = "v1"\nsample_rate = 16000\n')
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -0`: the reader is gone before anything is printed
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), *args], stdin=subprocess.DEVNULL, stdout=write_end,
            stderr=subprocess.PIPE, env=clean_env(CARTESIA_CLI_CONFIG_DIR=str(config)),
            timeout=30,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, b"")


# --- internationalised host names ------------------------------------------------------------


def test_an_internationalised_host_name_is_sent_as_punycode(tmp_path: Path) -> None:
    # The request goes through a plain-http proxy on loopback, which sees the host the
    # CLI asked for, so no name has to resolve.
    proxy = RawServer(response("401 Unauthorized", b'{"message": "no"}'))
    env = clean_env(
        CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL="http://bücher.example", HTTP_PROXY=proxy.url
    )
    result = run_in_process(("tts", "sse", HELLO, "-o", "out.pcm", "-q"), env=env, cwd=tmp_path)
    proxy.close()
    assert result.code == 3, result.stderr
    assert proxy.requests[0].startswith(b"POST http://xn--bcher-kva.example/tts/sse HTTP/1.1")


def test_no_player_hint_for_output_that_cannot_be_played_again(cli: RunCli) -> None:
    result = cli("tts", "sse", HELLO, "-o", "/dev/null")
    assert result.code == 0
    assert result.stderr.startswith("wrote /dev/null: ")
    assert "play it" not in result.stderr and result.stderr.count("\n") == 1
    to_file = cli("tts", "sse", HELLO, "-o", "out.pcm")
    assert "play it: ffplay" in to_file.stderr
