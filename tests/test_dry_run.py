"""`--dry-run`: the exact request and a curl line that sends it; nothing sent, no connection."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, RunCli, clean_env


def curl_of(stdout: bytes) -> str:
    lines = [line for line in stdout.decode().splitlines() if line.startswith("curl ")]
    assert len(lines) == 1, stdout
    return lines[0]


def test_it_prints_the_request_and_sends_nothing(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", "Hello, world!", "-e", "pcm_s16le", "--speed", "1.2", "--dry-run")
    assert result.code == 0, result.stderr
    head, body, curl = result.stdout.decode().rstrip("\n").split("\n\n")
    assert head.splitlines() == [
        f"POST {fake.url}/tts/sse",
        "Authorization: Bearer [redacted]",
        "Cartesia-Version: 2026-08-14",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        "User-Agent: cartesia-cli/0.1.0",
    ]
    assert json.loads(body)["generation_config"] == {"speed": 1.2}
    assert curl.startswith("curl ") and "\\\n" not in curl
    assert fake.requests == []


def test_no_connection_is_opened(cli: RunCli) -> None:
    # A listener that is never accepted from: a connection would show in its backlog.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.2)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result = cli("tts", "bytes", "Hi", "--dry-run", env={"CARTESIA_BASE_URL": url})
        assert result.code == 0, result.stderr
        with pytest.raises(TimeoutError):
            listener.accept()


def test_it_needs_no_key_and_never_shows_one(cli: RunCli) -> None:
    result = cli("tts", "sse", "Hi", "--dry-run", env={"CARTESIA_API_KEY": ""})
    assert result.code == 0, result.stderr
    given = cli("tts", "sse", "Hi", "--dry-run", "--api-key", "sk-given-on-the-command-line")
    assert b"sk-given-on-the-command-line" not in given.stdout  # the fixture checks it too
    assert '"Authorization: Bearer $CARTESIA_API_KEY"' in curl_of(given.stdout)


@pytest.mark.parametrize(
    "args",
    [("--sample-rate", "123"), ("--speed", "9"), ("--container", "mp3", "-e", "pcm_s16le")],
)
def test_a_bad_flag_is_still_a_usage_error(cli: RunCli, args: tuple[str, ...]) -> None:
    result = cli("tts", "bytes", "Hi", "--dry-run", *args)
    assert result.code == 2 and result.stdout == b""


def test_with_json_it_is_one_object(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("say", "Hi", "there", "--dry-run", "--json")
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc) == ["method", "url", "headers", "body", "curl"]
    assert doc["body"]["transcript"] == "Hi there"
    assert doc["curl"] == curl_of(cli("say", "Hi", "there", "--dry-run").stdout)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_the_curl_line_gets_the_same_audio_over_sse(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    run = cli("tts", "sse", "It's a test, isn't it?", "-o", "cli.pcm")
    assert run.code == 0, run.stderr
    curl = curl_of(cli("tts", "sse", "It's a test, isn't it?", "--dry-run").stdout)
    env = clean_env(CARTESIA_API_KEY=API_KEY)
    events = subprocess.run(
        ["sh", "-c", curl], capture_output=True, env=env, check=True, timeout=30
    ).stdout.decode()
    datas = [json.loads(line[6:]) for line in events.splitlines() if line.startswith("data: ")]
    audio = b"".join(base64.b64decode(d["data"]) for d in datas if d["type"] == "chunk")
    assert audio == (tmp_path / "cli.pcm").read_bytes() and audio


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_the_curl_line_writes_the_same_file_for_tts_bytes(cli: RunCli, tmp_path: Path) -> None:
    run = cli("tts", "bytes", "Hello", "-o", "cli.wav")
    assert run.code == 0, run.stderr
    curl = curl_of(cli("tts", "bytes", "Hello", "-o", "curl.wav", "--dry-run").stdout)
    env = clean_env(CARTESIA_API_KEY=API_KEY)
    subprocess.run(["sh", "-c", curl], env=env, cwd=tmp_path, check=True, timeout=30)
    assert (tmp_path / "curl.wav").read_bytes() == (tmp_path / "cli.wav").read_bytes()
