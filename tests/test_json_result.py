"""`--json`: one object when a job ends, with fixed keys, on success and on each failure class."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.output.result_json import ERROR_KEYS, KEYS

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env

# Pinned here, not imported: a change to the module's keys must fail this test.
SCHEMA = [
    "command", "output", "container", "encoding", "sample_rate", "bytes", "audio_seconds",
    "chunks", "first_audio_ms", "total_ms", "characters", "characters_billed", "cached",
    "voice", "request_id", "exit_code", "error",
]  # fmt: skip
ERROR_SCHEMA = ["kind", "title", "message", "status", "request_id"]


def one_object(text: bytes | str) -> dict[str, Any]:
    lines = (text.decode() if isinstance(text, bytes) else text).splitlines()
    assert lines, "no JSON object"
    doc = json.loads(lines[-1])
    assert isinstance(doc, dict)
    assert list(doc) == SCHEMA
    if doc["error"] is not None:
        assert list(doc["error"]) == ERROR_SCHEMA
    return doc


def test_the_schema_is_pinned() -> None:
    assert list(KEYS) == SCHEMA and list(ERROR_KEYS) == ERROR_SCHEMA


def test_success_in_file_mode_is_the_only_thing_on_stdout(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("tts", "sse", "Hello, world!", "-o", "out.pcm", "--json")
    assert result.code == 0, result.stderr
    assert result.stdout.count(b"\n") == 1
    doc = one_object(result.stdout)
    written = (tmp_path / "out.pcm").read_bytes()
    assert written == bytes(fake.transmissions[-1].audio)
    assert doc == {
        **doc,
        "command": "tts sse",
        "output": "out.pcm",
        "container": "raw",
        "encoding": "pcm_f32le",
        "sample_rate": 44100,
        "bytes": len(written),
        "audio_seconds": round(len(written) / 4 / 44100, 3),
        "chunks": 10,
        "characters": 13,
        "request_id": None,
        "exit_code": 0,
        "error": None,
    }
    assert doc["first_audio_ms"] > 0 and doc["total_ms"] >= doc["first_audio_ms"]


def test_with_audio_on_stdout_the_object_is_the_last_line_on_stderr(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("tts", "bytes", "Hello", "-o", "-", "--json")
    assert result.code == 0, result.stderr
    assert result.stdout == bytes(fake.transmissions[-1].audio)  # audio, and nothing else
    doc = one_object(result.stderr)
    assert (doc["output"], doc["container"], doc["bytes"]) == ("-", "wav", len(result.stdout))


def test_quiet_keeps_the_object(cli: RunCli) -> None:
    result = cli("tts", "sse", "Hi", "-o", "x.pcm", "--json", "-q")
    assert result.stderr == ""
    assert one_object(result.stdout)["exit_code"] == 0


@pytest.mark.parametrize(
    ("scenario", "code", "kind", "status", "title"),
    [
        ("http-401", 3, "auth", 401, "Unauthorized"),
        ("http-402", 4, "rejected", 402, "Payment required"),
        ("http-429", 4, "rejected", 429, "Too many concurrent requests"),
        ("http-500", 5, "server", 500, "Internal server error"),
        ("error-mid-stream", 5, "server", 500, "Internal server error"),
        ("cut", 6, "stream", None, None),
        ("malformed-json", 6, "stream", None, None),
    ],
)
def test_each_failure_class(
    cli: RunCli,
    fake: FakeCartesia,
    scenario: str,
    code: int,
    kind: str,
    status: int | None,
    title: str | None,
) -> None:
    fake.default_sequence = scenario
    result = cli("tts", "sse", "One two three.", "-o", "out.pcm", "--json", "--retries", "0")
    assert result.code == code, result.stderr
    doc = one_object(result.stdout)
    error = doc["error"]
    assert doc["exit_code"] == code and error["kind"] == kind
    assert (error["status"], error["title"]) == (status, title)
    assert error["message"] in result.stderr  # the same facts as the error line
    if status is not None:
        assert error["request_id"] and doc["request_id"] == error["request_id"]
    partial = scenario in ("error-mid-stream", "cut", "malformed-json")
    assert (doc["bytes"] > 0) == partial
    assert doc["output"] == ("out.pcm" if partial else None)  # an empty file is not left


def test_a_usage_error_before_the_request(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", "Hi", "--json", "--sample-rate", "12345")
    assert result.code == 2
    doc = one_object(result.stdout)
    assert doc["error"]["kind"] == "usage" and "--sample-rate" in doc["error"]["message"]
    assert doc["command"] == "tts sse" and doc["bytes"] is None
    assert fake.requests == []


def test_a_flag_typer_refuses(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "bytes", "Hi", "--json", "--no-such-flag", "-o", "-")
    assert result.code == 2
    assert result.stdout == b""  # -o -: the object goes to stderr, last
    doc = one_object(result.stderr)
    assert (doc["command"], doc["error"]["kind"]) == ("tts bytes", "usage")


def test_no_key(cli: RunCli) -> None:
    result = cli("tts", "sse", "Hi", "--json", env={"CARTESIA_API_KEY": ""})
    doc = one_object(result.stdout)
    assert (result.code, doc["error"]["kind"], doc["error"]["message"]) == (3, "auth", "no API key")


def test_an_output_that_cannot_be_written(cli: RunCli) -> None:
    result = cli("tts", "sse", "Hi", "--json", "-o", "/dev/full", "--force")
    doc = one_object(result.stdout)
    assert (result.code, doc["error"]["kind"]) == (7, "output")


def test_json_and_timestamps_on_stdout_are_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("tts", "sse", "Hi", "--json", "--timestamps", "-")
    assert result.code == 2
    assert "--json and --timestamps - would share stdout" in result.stderr
    assert fake.requests == []


def test_json_with_audio_on_stdout_and_timestamps_to_a_file_is_fine(cli: RunCli) -> None:
    result = cli("tts", "sse", "Hi there.", "-o", "-", "--json", "--timestamps", "t.srt")
    assert result.code == 0, result.stderr
    assert one_object(result.stderr)["exit_code"] == 0


def test_a_stop_by_signal_gives_the_object_too(fake: FakeCartesia, tmp_path: Path) -> None:
    fake.pace = 1.0  # real time: the signal lands mid-stream
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    with subprocess.Popen(
        [str(ENTRY_POINT), "tts", "sse", "One two three four five six seven eight.", "--json",
         "-o", "out.pcm"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    ) as proc:  # fmt: skip
        deadline = time.monotonic() + 10
        out = tmp_path / "out.pcm"
        while not (out.exists() and out.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 143, stderr
    doc = one_object(stdout)
    assert (doc["exit_code"], doc["error"]["kind"]) == (143, "terminated")
    assert doc["bytes"] == out.stat().st_size > 0
