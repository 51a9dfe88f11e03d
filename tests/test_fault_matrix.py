"""Every way a stream can fail, over loopback: exit code, one stderr line, the bytes kept.

Rows follow issue #4's matrix. Bytes kept are compared with what the fake
server actually sent, so "exactly the audio that arrived" is checked byte for byte.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cartesia_cli.mock import STREAM_FAULTS, FakeCartesia, Scenario

from .conftest import RunCli, assert_one_error_line, spoken_samples

HELLO = "Hello, world!"
FULL_LENGTH = spoken_samples("Hello, world!", 44100) * 4  # as f32 at 44.1 kHz from the fake
FAST_RETRY = {"retry-after-ms": "10"}  # the server's hint keeps retry tests quick


def run_to_file(cli: RunCli, *extra: str) -> tuple[int, str]:
    result = cli("tts", "sse", HELLO, "-o", "out.pcm", *extra)
    assert result.stdout == b""
    return result.code, result.stderr


# --- failures before any audio: no file is left behind -------------------------------------

# The line for a JSON error body: a title that repeats the reason phrase is said once.
HTTP_ROWS = [
    (400, 4, "HTTP 400 Bad Request: Invalid request: The request is invalid."),
    (401, 3, "HTTP 401 Unauthorized: Invalid API key."),
    (402, 4, "HTTP 402 Payment Required: Your account has insufficient credits."),
    (403, 3, "HTTP 403 Forbidden: This API key may not use this endpoint."),
    (404, 4, "HTTP 404 Not Found: The requested resource was not found."),
    (422, 4, "The request could not be processed."),  # the reason phrase varies
    (429, 4, "HTTP 429 Too Many Requests: Too many concurrent requests: You have exceeded"),
    (500, 5, "HTTP 500 Internal Server Error: Generation failed."),
    (503, 5, "HTTP 503 Service Unavailable: The service is temporarily"),
]


@pytest.mark.parametrize("text_body", [False, True], ids=["json", "plain-text"])
@pytest.mark.parametrize(("status", "code", "message"), HTTP_ROWS)
def test_http_errors(
    cli: RunCli,
    fake: FakeCartesia,
    tmp_path: Path,
    status: int,
    code: int,
    message: str,
    text_body: bool,
) -> None:
    failure = Scenario.http_error(status, text_body=text_body, headers=FAST_RETRY)
    fake.queue(failure, failure, failure)
    exit_code, stderr = run_to_file(cli)
    assert exit_code == code, stderr
    # A plain-text body is quoted whole (its title included); the message ends the same.
    # (before a hint, the message's own full stop goes: "Invalid API key; check …")
    said = message.rsplit(": ", 1)[-1] if text_body else message
    assert said.rstrip(".") in stderr
    assert f"HTTP {status} " in stderr
    assert_one_error_line(stderr)
    retried = status in (429, 500, 503)
    assert len(fake.requests) == (3 if retried else 1)
    assert ("(after 3 attempts)" in stderr) == retried
    if not text_body:
        assert "(request id 00000000-0000-4000-8000-" in stderr
    assert not (tmp_path / "out.pcm").exists()


@pytest.mark.parametrize(
    ("scenario", "code", "message"),
    [
        (
            "error-before-audio",
            5,
            "the server reported an error: Internal server error: "
            "Generation failed. Please retry. (request id ",
        ),
        ("done-without-audio", 6, "the server finished the stream without sending any audio"),
        (
            "wrong-content-type",
            6,
            "expected an event stream from the server, got content type 'application/json'",
        ),
    ],
)
def test_stream_failures_before_audio(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, scenario: str, code: int, message: str
) -> None:
    fake.queue(scenario)
    exit_code, stderr = run_to_file(cli)
    assert exit_code == code, stderr
    assert message in stderr
    assert_one_error_line(stderr)
    assert "partial audio" not in stderr
    assert not (tmp_path / "out.pcm").exists()
    assert len(fake.requests) == 1  # not retried: the server answered


# --- failures after audio: exactly the bytes that arrived are kept -------------------------


@pytest.mark.parametrize(
    ("scenario", "code", "message"),
    [
        (
            "error-mid-stream",
            5,
            "the server reported an error: Internal server error: "
            "Generation failed. Please retry. (request id ",
        ),
        (
            "error-mid-stream-legacy",
            5,
            "the server reported an error: Internal server error: "
            "Generation failed. Please retry; ",  # the hint follows, its stop dropped
        ),
        ("truncated", 6, "the stream ended before the server sent `done`"),
        ("cut", 6, "connection to the server failed mid-stream: peer closed connection"),
        ("malformed-json", 6, "malformed event from the server (not JSON)"),
        ("bad-base64", 6, "malformed chunk event from the server: `data` is not valid base64"),
    ],
)
def test_stream_failures_after_audio(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, scenario: str, code: int, message: str
) -> None:
    fake.queue(scenario)
    exit_code, stderr = run_to_file(cli)
    assert exit_code == code, stderr
    assert message in stderr
    assert_one_error_line(stderr)
    kept = (tmp_path / "out.pcm").read_bytes()
    assert kept == bytes(fake.transmissions[-1].audio)
    assert 0 < len(kept) < FULL_LENGTH
    assert stderr.endswith(
        f"; partial audio kept: out.pcm ({len(kept)} bytes, {len(kept) / (4 * 44100):.2f} s)\n"
    )
    assert len(fake.requests) == 1  # audio was written: never retried


def test_connection_reset_keeps_what_arrived(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    # 50 ms between chunks: the first chunk is read long before the RST that follows
    # the second, so something is always kept (an RST may discard what is in flight).
    fake.pace = 0.5
    fake.queue(Scenario(name="reset", after_chunks=2))
    exit_code, stderr = run_to_file(cli)
    assert exit_code == 6, stderr
    assert "connection to the server failed mid-stream" in stderr
    assert_one_error_line(stderr)
    kept = (tmp_path / "out.pcm").read_bytes()
    sent = bytes(fake.transmissions[-1].audio)
    assert kept and len(kept) < FULL_LENGTH
    assert sent.startswith(kept)
    assert f"partial audio kept: out.pcm ({len(kept)} bytes" in stderr


def test_stall_with_keepalives_hits_the_idle_timeout(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue("stall")
    started = time.monotonic()
    exit_code, stderr = run_to_file(cli, "--idle-timeout", "0.5")  # keep-alives every 0.2 s
    elapsed = time.monotonic() - started
    assert exit_code == 6, stderr
    assert (
        "no event from the server for 0.5 s (idle timeout); raise it with --idle-timeout" in stderr
    )
    assert_one_error_line(stderr)
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert elapsed < 10  # keep-alive comments did not keep it waiting for the 60 s stall


def test_slow_but_steady_stream_is_not_an_idle_timeout(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.pace = 0.5  # 0.05 s between chunks, the whole stream 0.39 s: longer than the timeout
    exit_code, stderr = run_to_file(cli, "--idle-timeout", "0.25")
    assert exit_code == 0, stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)


# --- retries -------------------------------------------------------------------------------


def test_429_then_success_is_retried_without_duplicating_audio(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue(Scenario.http_error(429, headers=FAST_RETRY))
    exit_code, stderr = run_to_file(cli)
    assert exit_code == 0, stderr
    assert len(fake.requests) == 2
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert len(fake.transmissions[-1].audio) == FULL_LENGTH


def test_500_three_times_fails_after_three_attempts_with_backoff(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue("http-500", "http-500", "http-500", "ok")
    started = time.monotonic()
    exit_code, stderr = run_to_file(cli, "--debug")
    assert exit_code == 5
    assert time.monotonic() - started >= 0.375 + 0.75  # backoff 0.5 s then 1 s, less jitter
    assert len(fake.requests) == 3
    assert stderr.splitlines()[-1].startswith("cartesia-cli: error: HTTP 500 ")
    assert stderr.splitlines()[-1].endswith("(after 3 attempts)")
    assert [line[:25] for line in stderr.splitlines() if "attempt " in line] == [
        "debug: attempt 1 of 3: PO",
        "debug: attempt 2 of 3: PO",
        "debug: attempt 3 of 3: PO",
    ]
    assert not (tmp_path / "out.pcm").exists()


def test_x_should_retry_false_stops_retries(cli: RunCli, fake: FakeCartesia) -> None:
    fake.queue(Scenario.http_error(503, headers={"x-should-retry": "false"}))
    exit_code, _ = run_to_file(cli)
    assert exit_code == 5
    assert len(fake.requests) == 1


def test_retries_flag(cli: RunCli, fake: FakeCartesia) -> None:
    fake.queue(*[Scenario.http_error(503, headers=FAST_RETRY)] * 5)
    exit_code, stderr = run_to_file(cli, "--retries", "4")
    assert exit_code == 5
    assert len(fake.requests) == 5
    assert "(after 5 attempts)" in stderr
    fake.queue("http-503")
    assert run_to_file(cli, "--retries", "0")[0] == 5
    assert len(fake.requests) == 6


# --- the network ---------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        yield sock.getsockname()[1]


def test_connection_refused_is_retried_then_fails(
    cli: RunCli, tmp_path: Path, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    exit_code, stderr = run_to_file(cli, "--base-url", url, "--retries", "1")
    assert exit_code == 6
    assert stderr.startswith(f"cartesia-cli: error: could not connect to {url}: ")
    assert "(after 2 attempts)" in stderr
    assert_one_error_line(stderr)
    assert not (tmp_path / "out.pcm").exists()


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A listener whose accept queue is full: new connections hang until they time out."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        filler.connect(("127.0.0.1", port))
        yield port


def test_connect_timeout(cli: RunCli, tmp_path: Path, unanswered_port: int) -> None:
    url = f"http://127.0.0.1:{unanswered_port}"
    exit_code, stderr = run_to_file(
        cli, "--base-url", url, "--connect-timeout", "0.3", "--retries", "0"
    )
    assert exit_code == 6
    assert stderr == (
        f"cartesia-cli: error: timed out after 0.3 s connecting to {url}; "
        "raise it with --connect-timeout\n"
    )
    assert not (tmp_path / "out.pcm").exists()


def test_dropped_before_the_response_is_retried(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue("drop")
    exit_code, stderr = run_to_file(cli, "--debug")
    assert exit_code == 0, stderr
    assert len(fake.requests) == 2
    assert "retrying in " in stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert len(fake.transmissions) == 1  # the dropped request streamed nothing


def test_dropped_every_time_fails_after_the_retries(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue("drop", "drop")
    exit_code, stderr = run_to_file(cli, "--retries", "1")
    assert exit_code == 6, stderr
    assert stderr.startswith(
        "cartesia-cli: error: connection to the server failed before the response: "
    )
    assert stderr.endswith("(after 2 attempts)\n")
    assert_one_error_line(stderr)
    assert len(fake.requests) == 2
    assert not (tmp_path / "out.pcm").exists()


# --- secrets: the matrix again with --debug; the `cli` fixture fails on any sight of the key --


@pytest.mark.parametrize(
    "scenario",
    [s for s in STREAM_FAULTS if s != "stall"] + ["http-401", "http-429", "http-500-text"],
)
def test_debug_output_never_shows_the_key(cli: RunCli, fake: FakeCartesia, scenario: str) -> None:
    fake.queue(scenario)  # --retries 0: one request, so one scenario
    exit_code, stderr = run_to_file(cli, "--debug", "--retries", "0")
    assert exit_code not in (0, 1), stderr
    assert "debug: request header: Authorization: Bearer [redacted]" in stderr
