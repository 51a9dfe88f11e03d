"""`cartesia-cli tts sse` end to end: the installed entry point against the fake over loopback."""

from __future__ import annotations

import json
import os
import pty
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cartesia_cli import __version__
from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, VOICE, RunCli, clean_env

HELLO = "Hello, world!"
BYTES_PER_SAMPLE = {"pcm_f32le": 4, "pcm_s16le": 2, "pcm_mulaw": 1, "pcm_alaw": 1}
ANSI = re.compile(r"\x1b\[")


def expected_length(encoding: str, rate: int, text: str = HELLO) -> int:
    # The fake speaks 0.06 s per character (at least 0.3 s).
    return round(max(0.3, 0.06 * len(text)) * rate) * BYTES_PER_SAMPLE[encoding]


@pytest.mark.parametrize("encoding", list(BYTES_PER_SAMPLE))
@pytest.mark.parametrize("rate", ["8000", "44100"])
def test_stdout_carries_exactly_the_audio(
    cli: RunCli, fake: FakeCartesia, encoding: str, rate: str
) -> None:
    result = cli("tts", "sse", "--transcript", HELLO, "-e", encoding, "-r", rate, "-o", "-")
    assert result.code == 0, result.stderr
    assert result.stdout == bytes(fake.transmissions[-1].audio)
    assert len(result.stdout) == expected_length(encoding, int(rate))


@pytest.mark.parametrize("encoding", list(BYTES_PER_SAMPLE))
@pytest.mark.parametrize("rate", ["16000", "48000"])
def test_file_holds_exactly_the_audio(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: str, rate: str
) -> None:
    result = cli("tts", "sse", HELLO, "--encoding", encoding, "--sample-rate", rate, "-o", "a.pcm")
    assert result.code == 0, result.stderr
    assert result.stdout == b""
    audio = (tmp_path / "a.pcm").read_bytes()
    assert audio == bytes(fake.transmissions[-1].audio)
    assert len(audio) == expected_length(encoding, int(rate))


def test_request_on_the_wire(cli: RunCli, fake: FakeCartesia) -> None:
    assert cli("tts", "sse", "-t", HELLO, "-o", "-").code == 0
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/tts/sse")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["cartesia-version"] == "2026-08-14"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["user-agent"] == f"cartesia-cli/{__version__}"
    assert request.body == (
        b'{"model_id":"sonic-3.5","transcript":"Hello, world!",'
        b'"voice":{"mode":"id","id":"6ccbfb76-1fc6-48f7-b71d-91ac6298247b"},'
        b'"output_format":{"container":"raw","encoding":"pcm_f32le","sample_rate":44100}}'
    )


def test_flags_and_env_reach_the_request(cli: RunCli, fake: FakeCartesia) -> None:
    env = {
        "CARTESIA_MODEL": "sonic-3",
        "CARTESIA_VOICE_ID": VOICE,
        "CARTESIA_VERSION": "2026-03-01",
    }
    assert cli("tts", "sse", "Hi", "-o", "-", env=env).code == 0
    body = fake.requests[-1].json()
    assert (body["model_id"], body["voice"]["id"]) == ("sonic-3", VOICE)
    assert fake.requests[-1].headers["cartesia-version"] == "2026-03-01"
    assert cli("tts", "sse", "Hi", "-o", "-", "-m", "sonic-3.5", env=env).code == 0
    assert fake.requests[-1].json()["model_id"] == "sonic-3.5"  # the flag beats the env


def test_transcript_from_piped_stdin(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", "-o", "-", input="Piped text, ünïcode.\n".encode())
    assert result.code == 0, result.stderr
    assert fake.requests[-1].json()["transcript"] == "Piped text, ünïcode."


def test_summary_and_player_hint_on_stderr(cli: RunCli, tmp_path: Path) -> None:
    result = cli("tts", "sse", HELLO, "-o", "out.pcm")
    assert result.code == 0
    summary, hint = result.stderr.splitlines()
    assert re.fullmatch(
        r"wrote out\.pcm: 0\.78 s of audio, 137592 bytes, pcm_f32le 44100 Hz, "
        r"first audio \d+ ms, total \d+ ms",
        summary,
    ), summary
    assert hint == "play it: ffplay -autoexit -nodisp -f f32le -ar 44100 out.pcm"
    assert not ANSI.search(result.stderr)  # plain lines when stderr is not a terminal


def test_stdout_hint_is_a_pipe(cli: RunCli) -> None:
    result = cli("tts", "sse", HELLO, "-e", "pcm_mulaw", "-r", "8000", "-o", "-")
    assert result.stderr.splitlines()[0].startswith("wrote stdout: ")
    assert result.stderr.splitlines()[1] == (
        "play it: cartesia-cli tts sse ... -o - | ffplay -autoexit -nodisp -f mulaw -ar 8000 -i -"
    )


def test_quiet_prints_nothing_on_success(cli: RunCli) -> None:
    result = cli("tts", "sse", HELLO, "-q", "-o", "out.pcm")
    assert (result.code, result.stderr, result.stdout) == (0, "", b"")


def test_default_output_is_a_new_timestamped_file(cli: RunCli, tmp_path: Path) -> None:
    first, second = cli("tts", "sse", HELLO), cli("tts", "sse", HELLO)
    assert first.code == second.code == 0
    names = sorted(p.name for p in tmp_path.glob("*.pcm"))
    assert len(names) == 2
    for name, result in zip(names, sorted([first, second], key=lambda r: r.stderr), strict=True):
        assert re.fullmatch(r"tts_sse_\d{8}_\d{6}_\d{3}(-\d+)?\.pcm", name)
        assert f"wrote {name}:" in result.stderr


def test_directory_output_and_quoted_hint(cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "my dir").mkdir()
    result = cli("tts", "sse", HELLO, "-o", "my dir")
    assert result.code == 0
    [written] = (tmp_path / "my dir").glob("tts_sse_*.pcm")
    assert f"'my dir/{written.name}'" in result.stderr.splitlines()[1]


def test_existing_file_is_kept_without_force(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "out.pcm").write_bytes(b"precious")
    result = cli("tts", "sse", HELLO, "-o", "out.pcm")
    assert result.code == 2
    assert "already exists; use --force" in result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == b"precious"
    assert fake.requests == []
    assert cli("tts", "sse", HELLO, "-o", "out.pcm", "--force").code == 0
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)


@pytest.mark.parametrize(
    ("scenario", "code", "text"),
    [
        ("http-401", 3, "HTTP 401 Unauthorized: Unauthorized: Invalid API key."),
        ("http-403", 3, "HTTP 403 Forbidden"),
        ("http-400", 4, "HTTP 400 Bad Request: Invalid request"),
        ("http-402", 4, "HTTP 402 Payment Required: Payment required: Your account has insuff"),
        ("http-404", 4, "HTTP 404 Not Found"),
        ("http-422", 4, "HTTP 422 Unprocessable"),
        ("http-429", 4, "Too many concurrent requests: You have exceeded"),
        ("http-500", 5, "HTTP 500 Internal Server Error: Internal server error: Generation failed"),
        ("http-503", 5, "HTTP 503 Service Unavailable"),
        ("http-500-text", 5, "HTTP 500 Internal Server Error: Internal server error: Generation"),
        (
            "error-before-audio",
            5,
            "the server reported an error: Internal server error: Generation",
        ),
        ("done-without-audio", 6, "without sending any audio"),
        ("wrong-content-type", 6, "expected an event stream"),
    ],
)
def test_failures_before_audio_leave_no_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, scenario: str, code: int, text: str
) -> None:
    fake.queue(scenario)
    result = cli("tts", "sse", HELLO, "-o", "out.pcm")
    assert result.code == code, result.stderr
    assert text in result.stderr
    assert_one_error_line(result.stderr)
    assert not (tmp_path / "out.pcm").exists()
    assert result.stdout == b""


@pytest.mark.parametrize(
    ("scenario", "code", "text"),
    [
        (
            "error-mid-stream",
            5,
            "Internal server error: Generation failed. Please retry. (request id",
        ),
        ("error-mid-stream-legacy", 5, "the server reported an error: Internal server error"),
        ("truncated", 6, "the stream ended before the server sent `done`"),
        ("cut", 6, "connection to the server failed mid-stream"),
        ("malformed-json", 6, "malformed event from the server (not JSON)"),
        ("bad-base64", 6, "`data` is not valid base64"),
    ],
)
def test_failures_after_audio_keep_exactly_the_bytes_received(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, scenario: str, code: int, text: str
) -> None:
    fake.queue(scenario)
    result = cli("tts", "sse", HELLO, "-o", "out.pcm")
    assert result.code == code, result.stderr
    assert text in result.stderr
    assert_one_error_line(result.stderr)
    kept = (tmp_path / "out.pcm").read_bytes()
    assert kept == bytes(fake.transmissions[-1].audio)
    assert 0 < len(kept) < expected_length("pcm_f32le", 44100)
    seconds = len(kept) / (4 * 44100)
    assert f"partial audio kept: out.pcm ({len(kept)} bytes, {seconds:.2f} s)" in result.stderr


def test_missing_key_fails_before_any_request(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", HELLO, env={"CARTESIA_API_KEY": ""})
    assert result.code == 3
    assert (
        result.stderr == "cartesia-cli: error: no API key: set CARTESIA_API_KEY or pass --api-key\n"
    )
    assert fake.requests == []


def test_wrong_key_is_an_auth_failure_that_never_shows_the_key(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("tts", "sse", HELLO, "--debug", env={"CARTESIA_API_KEY": "sk-canary-9f8e7d"})
    assert result.code == 3
    assert "HTTP 401" in result.stderr
    assert "sk-canary-9f8e7d" not in result.stderr
    assert "Bearer [redacted]" in result.stderr  # --debug shows the request, not the key


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("-e", "wav"), "Invalid value for '--encoding'"),
        (("-r", "12345"), "Invalid value for '--sample-rate'"),
        (("-r", "fast"), "Invalid value for '--sample-rate'"),
        (("--base-url", "ftp://x"), "--base-url must be an http"),
        (("--api-version", "latest"), "--api-version must be a date"),
        (("--model", ""), "--model must not be empty"),
        (("-t", "   "), "the transcript is empty"),
        (("-t", "a", "b"), "give the transcript once"),
        (("-o", "missing/out.pcm"), "output directory does not exist"),
    ],
)
def test_bad_input_is_a_usage_error_before_any_request(
    cli: RunCli, fake: FakeCartesia, args: tuple[str, ...], text: str
) -> None:
    full = args if "-t" in args else (HELLO, *args)
    result = cli("tts", "sse", *full)
    assert result.code == 2, result.stderr
    assert text in result.stderr
    assert_one_error_line(result.stderr)
    assert fake.requests == []


def test_connection_refused_is_a_network_failure(cli: RunCli, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        result = cli(
            "tts",
            "sse",
            HELLO,
            "-o",
            "out.pcm",
            env={"CARTESIA_BASE_URL": f"http://127.0.0.1:{port}"},
        )
    assert result.code == 6
    assert f"could not connect to http://127.0.0.1:{port}" in result.stderr
    assert_one_error_line(result.stderr)
    assert not (tmp_path / "out.pcm").exists()


def test_audio_to_a_terminal_is_refused(fake: FakeCartesia, tmp_path: Path) -> None:
    main, child = pty.openpty()
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), "tts", "sse", HELLO, "-o", "-"],
            stdin=subprocess.DEVNULL,
            stdout=child,
            stderr=subprocess.PIPE,
            timeout=30,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
            cwd=tmp_path,
        )
    finally:
        os.close(child)
        os.close(main)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2
    assert "refusing to write raw audio to a terminal" in stderr
    assert "-o - | ffplay -autoexit -nodisp -f f32le -ar 44100 -i -" in stderr
    assert "-o FILE" in stderr
    assert fake.requests == []


def test_live_display_only_on_a_terminal(fake: FakeCartesia, tmp_path: Path) -> None:
    fake.pace = 1.0  # real time, so the display has time to draw
    screen = run_with_terminal_stderr(fake, tmp_path, "tts", "sse", HELLO, "-o", "out.pcm")
    assert re.search(r"\d\.\d\d s\x1b\[0m audio · [\d,]+ B · \d+ chunks · ", screen)  # live line
    assert ANSI.search(screen)
    assert "play it: ffplay -autoexit -nodisp -f f32le -ar 44100 out.pcm" in screen
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cartesia_cli", "--version"],
        capture_output=True,
        env=clean_env(),
        cwd=tmp_path,
        timeout=30,
        check=True,
    )
    assert proc.stdout.decode() == f"cartesia-cli {__version__}\n"


def test_help_lists_examples_and_exit_codes(cli: RunCli) -> None:
    result = cli("tts", "sse", "--help", env={"COLUMNS": "200"})
    text = result.stdout.decode()
    assert result.code == 0
    assert "Examples:" in text
    assert 'cartesia-cli tts sse --transcript "Hello, world!"' in text
    assert "Exit codes:" in text
    assert "141 stdout closed" in text


def assert_one_error_line(stderr: str) -> None:
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("cartesia-cli: error: ")
    assert "Traceback" not in stderr


def run_with_terminal_stderr(fake: FakeCartesia, cwd: Path, *args: str) -> str:
    """Run the CLI with stderr on a pseudo-terminal and return what the terminal received."""
    main, child = pty.openpty()
    received: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:
                return
            if not data:
                return
            received.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url, TERM="xterm-256color")
    proc = subprocess.run(
        [str(ENTRY_POINT), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=child,
        env=env,
        cwd=cwd,
        timeout=30,
    )
    os.close(child)
    reader.join(timeout=5)
    os.close(main)
    assert proc.returncode == 0
    return b"".join(received).decode(errors="replace")


def test_body_json_is_valid_for_unicode(cli: RunCli, fake: FakeCartesia) -> None:
    assert cli("tts", "sse", "Grüße, 世界", "-o", "-").code == 0
    assert json.loads(fake.requests[-1].body)["transcript"] == "Grüße, 世界"
