"""`cartesia-cli tts ws`: text spoken while it is still being written, over the mock's WebSocket."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cartesia_cli.mock import FakeCartesia, Scenario

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env
from .test_json_result import one_object

TEXT = "Hello there. How are you today? Fine, thanks."


def sent(fake: FakeCartesia) -> list[dict[str, Any]]:
    return [json.loads(m) for m in fake.transmissions[-1].messages]


def test_arguments_are_one_context_cut_at_sentences(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("tts", "ws", TEXT, "-o", "out.pcm")
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    messages = sent(fake)
    pieces = [m["transcript"] for m in messages if m["transcript"]]
    assert pieces == ["Hello there. ", "How are you today? ", "Fine, thanks."]
    assert "".join(pieces) == TEXT  # verbatim: no space lost
    assert {m["context_id"] for m in messages} == {messages[0]["context_id"]}
    assert all(m["max_buffer_delay_ms"] == 0 for m in messages)  # always sent
    assert [m["continue"] for m in messages][-1] is False
    assert sum(bool(m.get("flush")) for m in messages) == 3
    upgrade = fake.requests[-1]
    assert upgrade.path == "/tts/websocket"  # key and version as headers, never in the URL
    assert upgrade.headers["authorization"] == f"Bearer {API_KEY}"


def test_buffer_ms_is_sent_and_then_no_flushes(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "ws", TEXT, "-o", "out.pcm", "--buffer-ms", "300")
    assert result.code == 0, result.stderr
    messages = sent(fake)
    assert {m["max_buffer_delay_ms"] for m in messages} == {300}
    assert not any(m.get("flush") for m in messages)


def test_a_pipe_is_spoken_before_its_end(fake: FakeCartesia, tmp_path: Path) -> None:
    """The first sentence's audio is written while the producer is still writing."""
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    out = tmp_path / "out.pcm"
    with subprocess.Popen(
        [str(ENTRY_POINT), "tts", "ws", "-o", str(out), "-q"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(b"The first sentence. ")
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
            if proc.poll() is not None:  # it ended early: say why, not "no such file"
                raise AssertionError(proc.communicate()[1].decode())
            time.sleep(0.01)
        assert out.stat().st_size > 0 and proc.poll() is None  # audio before EOF
        proc.stdin.write(b"And the second.\n")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
    assert out.read_bytes() == bytes(fake.transmissions[-1].audio)
    assert [m["transcript"] for m in sent(fake) if m["transcript"]] == [
        "The first sentence. ",
        "And the second.\n",
    ]


def test_stdout_json_container_and_timestamps(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli(
        "tts", "ws", TEXT, "--container", "wav", "-e", "pcm_s16le", "-o", "out.wav", "--json",
        "--timestamps", "out.srt",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    doc = one_object(result.stdout)
    assert (doc["command"], doc["container"], doc["characters"]) == ("tts ws", "wav", len(TEXT))
    wav = (tmp_path / "out.wav").read_bytes()
    assert wav[:4] == b"RIFF" and wav[44:] == bytes(fake.transmissions[-1].audio)
    assert "Hello" in (tmp_path / "out.srt").read_text()


@pytest.mark.parametrize(
    ("scenario", "code", "why"),
    [
        ("error-mid-stream", 5, "Generation failed"),
        ("error-no-context", 5, "Generation failed"),
        ("close-1011", 6, "code 1011"),
        ("truncated", 6, "code 1000"),
        ("cut", 6, "dropped"),
        ("reset", 6, "dropped"),
        ("malformed-json", 6, "malformed"),
        ("http-401", 3, "HTTP 401"),
        ("http-404", 4, "HTTP 404"),
        ("error-before-audio", 5, "Generation failed"),
        ("error-mid-stream-legacy", 5, "Generation failed"),
        ("done-without-audio", 6, "without sending any audio"),
        ("bad-base64", 6, "not valid base64"),
        ("wrong-content-type", 6, "expected a WebSocket (HTTP 101), got HTTP 200"),
        ("drop", 6, "upgrade failed"),
    ],
)
def test_each_websocket_failure_has_its_exit_code_and_keeps_the_audio(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, scenario: str, code: int, why: str
) -> None:
    fake.default_sequence = scenario
    result = cli("tts", "ws", "One two three four five six seven.", "-o", "out.pcm",
                 "--retries", "0")  # fmt: skip
    assert result.code == code, result.stderr
    assert why in result.stderr and result.stderr.count("\n") == 1
    kept = tmp_path / "out.pcm"
    if code in (3, 4) or scenario in _NO_AUDIO:  # failed before any audio: no file is left
        assert not kept.exists()
    else:  # the audio that came before the failure, every byte of it
        audio = bytes(fake.transmissions[-1].audio)
        assert audio and kept.read_bytes() == audio and "partial audio kept" in result.stderr


_NO_AUDIO = ("error-before-audio", "done-without-audio", "wrong-content-type", "drop")


def test_a_failed_send_keeps_the_audio_the_reader_had_not_read(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of `cut`, made certain: the server cuts (FIN, then RST to what comes after)
    while websockets' reader has not yet read the chunk, and the ws-sender sends on."""
    from cartesia_cli.api.ws_client import WsClient

    fake.default_sequence = "cut"
    reader_held, sender_done = threading.Event(), threading.Event()
    open_socket, send, send_all = WsClient._socket, WsClient._send, WsClient._send_all

    class HeldSocket(socket.socket):
        reads = 0

        def recv(self, size: int, *flags: int) -> bytes:
            HeldSocket.reads += 1
            if HeldSocket.reads == 2:  # the first read after the upgrade's answer: the chunk
                reader_held.set()
                sender_done.wait(1.0)  # a sender that closes the socket does so meanwhile
            return super().recv(size, *flags)

    def held_socket(self: WsClient, *args: Any) -> socket.socket:
        plain = open_socket(self, *args)
        return HeldSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())

    def late_send(self: WsClient, connection: Any, message: dict[str, Any]) -> None:
        if self.sender.flushes_sent:  # the first piece and its flush are out: after the cut
            reader_held.wait(5)
            deadline = time.monotonic() + 5
            while fake.websockets_served() and time.monotonic() < deadline:
                time.sleep(0.01)
        send(self, connection, message)

    def noted_send_all(self: WsClient, *args: Any) -> None:
        try:
            send_all(self, *args)
        finally:
            sender_done.set()

    monkeypatch.setattr(WsClient, "_socket", held_socket)
    monkeypatch.setattr(WsClient, "_send", late_send)
    monkeypatch.setattr(WsClient, "_send_all", noted_send_all)
    result = cli("tts", "ws", "One two three four five six seven. Eight nine ten.",
                 "-o", "out.pcm", "--retries", "0")  # fmt: skip
    assert result.code == 6 and "dropped" in result.stderr, result.stderr
    audio, kept = bytes(fake.transmissions[-1].audio), tmp_path / "out.pcm"
    assert audio and kept.exists() and kept.read_bytes() == audio, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # no websockets traceback either


def test_a_server_that_closes_before_answering_the_upgrade_is_a_network_failure(
    cli: RunCli, certificate: tuple[str, str]
) -> None:
    """TLS completes, then the server closes without a word: exit 6, not a bug's exit 1."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(*certificate)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve_once() -> None:
            client, _ = listener.accept()
            with contextlib.suppress(OSError), server.wrap_socket(client, server_side=True):
                pass  # handshake done; closed at once

        thread = threading.Thread(target=serve_once, daemon=True)
        thread.start()
        env = {
            "CARTESIA_BASE_URL": f"https://127.0.0.1:{listener.getsockname()[1]}",
            "SSL_CERT_FILE": certificate[0],
        }
        result = cli("tts", "ws", "Hello.", "-o", "out.pcm", "--retries", "0", env=env)
        thread.join(10)
    assert result.code == 6, result.stderr
    assert "the WebSocket upgrade failed" in result.stderr and "Traceback" not in result.stderr


def test_an_uppercase_https_scheme_still_means_a_secure_websocket() -> None:
    from cartesia_cli.api.ws_client import ws_target

    target = ws_target("HTTPS://api.example/v1")
    assert target.uri == "wss://api.example/v1/tts/websocket" and target.secure


def test_the_last_failure_says_how_many_attempts_there_were(
    cli: RunCli, fake: FakeCartesia
) -> None:
    fake.default_sequence = "http-503"
    result = cli("tts", "ws", "Hello.", "-o", "out.pcm", "--retries", "1")
    assert result.code == 5, result.stderr
    assert "HTTP 503" in result.stderr and "(after 2 attempts)" in result.stderr
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "hint", "requests"),
    [(501, {}, 3), (503, {"x-should-retry": "false"}, 1), (400, {"x-should-retry": "true"}, 3)],
)
def test_a_refused_upgrade_is_retried_as_an_http_request_would_be(
    cli: RunCli, fake: FakeCartesia, status: int, hint: dict[str, str], requests: int
) -> None:
    """Any 5xx, and the server's x-should-retry either way: the HTTP commands' rule."""
    refusal = Scenario.http_error(status, headers={"retry-after-ms": "10", **hint})
    fake.queue(refusal, refusal, refusal)
    result = cli("tts", "ws", "Hello.", "-o", "out.pcm")
    assert result.code == (5 if status >= 500 else 4), result.stderr
    assert len(fake.requests) == requests


def test_a_refused_upgrade_is_retried_before_any_text(cli: RunCli, fake: FakeCartesia) -> None:
    fake.default_sequence = "http-429,ok"
    result = cli("tts", "ws", "Hello.", "-o", "out.pcm")
    assert result.code == 0, result.stderr
    assert [r.path for r in fake.requests] == ["/tts/websocket", "/tts/websocket"]


def test_a_stalled_server_is_caught_but_a_slow_writer_is_not(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    with subprocess.Popen(
        [str(ENTRY_POINT), "tts", "ws", "-o", "out.pcm", "--idle-timeout", "1"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(b"First. ")
        proc.stdin.flush()
        time.sleep(2.5)  # a writer slower than the idle timeout: not a failure
        assert proc.poll() is None
        proc.stdin.write(b"Second.")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
    fake.default_sequence = "stall"
    result = subprocess.run(
        [str(ENTRY_POINT), "tts", "ws", "One two three four five.", "-o", "stall.pcm",
         "--idle-timeout", "1"],
        capture_output=True, env=env, cwd=tmp_path, timeout=30,
    )  # fmt: skip
    assert result.returncode == 6 and b"idle timeout" in result.stderr


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_a_stop_sends_cancel_and_keeps_the_audio(tmp_path: Path, sig: int, code: int) -> None:
    with FakeCartesia(api_key=API_KEY, pace=1.0) as paced:
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=paced.url)
        out = tmp_path / "out.pcm"
        with subprocess.Popen(
            [str(ENTRY_POINT), "tts", "ws", "-o", str(out)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
        ) as proc:  # fmt: skip
            assert proc.stdin is not None
            proc.stdin.write(b"One two three four five six seven eight nine ten. ")
            proc.stdin.flush()
            deadline = time.monotonic() + 20
            while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=20)
        assert proc.returncode == code, err
        assert out.stat().st_size > 0 and b"partial audio kept" in err
        time.sleep(0.2)
        messages = [json.loads(m) for m in paced.transmissions[-1].messages]
    assert messages[-1].get("cancel") is True


def test_empty_and_bad_input_are_usage_errors(cli: RunCli) -> None:
    assert cli("tts", "ws", input=b"   \n").code == 2
    bad = cli("tts", "ws", input=b"Hello \xff there.")
    assert bad.code == 2 and "not valid UTF-8" in bad.stderr
    assert cli("tts", "ws", "a", "-t", "b").code == 2


def test_a_long_text_through_a_pipe_is_one_context(cli: RunCli, fake: FakeCartesia) -> None:
    text = ("This is one sentence of a long book, with a clause or two. " * 1700)[:100_000]
    # The smallest audio (8 kHz, one byte a sample): the text is the point, not the audio.
    args = ("tts", "ws", "-o", "book.pcm", "-q", "-e", "pcm_mulaw", "-r", "8000")
    result = cli(*args, input=text.encode(), timeout=120)
    assert result.code == 0, result.stderr
    messages = sent(fake)
    assert "".join(m["transcript"] for m in messages) == text
    assert len({m["context_id"] for m in messages}) == 1


def test_help_explains_buffering(cli: RunCli) -> None:
    text = " ".join(cli("tts", "ws", "--help", env={"COLUMNS": "200"}).stdout.decode().split())
    assert "max_buffer_delay_ms, always sent" in text
    assert 'llm "Tell me a story" | cartesia-cli tts ws --play' in text


def test_python_process_streams_and_exits(fake: FakeCartesia, tmp_path: Path) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    result = subprocess.run(
        [str(ENTRY_POINT), "tts", "ws", "-o", "-"], input=b"Hi there.\n", capture_output=True,
        env=env, cwd=tmp_path, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == bytes(fake.transmissions[-1].audio)
    assert os.listdir(tmp_path) == []


def test_the_live_line_shows_the_text_received_and_spoken(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    from .test_cli_tts_sse import run_with_terminal_stderr

    fake.pace = 1.0  # real time, so the display has time to draw
    screen = run_with_terminal_stderr(fake, tmp_path, "tts", "ws", TEXT, "-o", "out.pcm")
    assert re.search(r"text [\d,]+\s+received, [\d,]+\s+spoken", screen), screen
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
