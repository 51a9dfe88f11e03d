"""`cartesia-cli tts sse` end to end: the installed entry point against the fake over loopback."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cartesia_cli import __version__
from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, VOICE, RunCli, clean_env, spoken_samples

HELLO = "Hello, world!"
BYTES_PER_SAMPLE = {"pcm_f32le": 4, "pcm_s16le": 2, "pcm_mulaw": 1, "pcm_alaw": 1}
ANSI = re.compile(r"\x1b\[")


def expected_length(encoding: str, rate: int, text: str = HELLO) -> int:
    return spoken_samples(text, rate) * BYTES_PER_SAMPLE[encoding]


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
        b'"voice":"6ccbfb76-1fc6-48f7-b71d-91ac6298247b",'
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
    assert (body["model_id"], body["voice"]) == ("sonic-3", {"mode": "id", "id": VOICE})
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
        r"wrote out\.pcm: 1\.00 s of audio, 176400 bytes, pcm_f32le 44100 Hz, "
        r"first audio \d+ ms, total \d+ ms, voice 6ccbfb76-1fc6-48f7-b71d-91ac6298247b",
        summary,
    ), summary
    assert hint == "play it: ffplay -nodisp -autoexit -loglevel error -f f32le -ar 44100 out.pcm"
    assert not ANSI.search(result.stderr)  # plain lines when stderr is not a terminal


def test_no_hint_follows_audio_to_stdout(cli: RunCli) -> None:
    """`-o - | player` plays it already: the summary alone follows."""
    result = cli("tts", "sse", HELLO, "-e", "pcm_mulaw", "-r", "8000", "-o", "-")
    assert result.code == 0, result.stderr
    assert result.stderr.startswith("wrote stdout: ") and result.stderr.count("\n") == 1


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


def test_live_display_only_on_a_terminal(fake: FakeCartesia, tmp_path: Path) -> None:
    fake.pace = 1.0  # real time, so the display has time to draw
    screen = run_with_terminal_stderr(fake, tmp_path, "tts", "sse", HELLO, "-o", "out.pcm")
    assert re.search(r"\d\.\d\d s\x1b\[0m audio · [\d,]+ B · \d+ chunks · ", screen)  # live line
    assert ANSI.search(screen)
    assert "play it: ffplay -nodisp -autoexit -loglevel error -f f32le -ar 44100 out.pcm" in screen
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
    screen = b"".join(received).decode(errors="replace")
    assert API_KEY not in screen
    assert API_KEY.encode() not in proc.stdout
    return screen


def test_body_json_is_valid_for_unicode(cli: RunCli, fake: FakeCartesia) -> None:
    assert cli("tts", "sse", "Grüße, 世界", "-o", "-").code == 0
    assert json.loads(fake.requests[-1].body)["transcript"] == "Grüße, 世界"
