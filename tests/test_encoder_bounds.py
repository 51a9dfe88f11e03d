"""The encoder behind .mp3/.flac/.ogg: an encoder that stops reading cannot hang the run, no
encoder outlives the run, and the figures said are the file's (a stopped batch's, an MP3's).

A stand-in `ffmpeg` on PATH plays the hung encoder: it writes its pid and never reads
(until it gives up by itself, long after any bound here: the old code waited that long).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cartesia_cli import process
from cartesia_cli.api.events import Event
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.output import encoder
from cartesia_cli.output.sinks import Sink
from cartesia_cli.run import pipeline
from cartesia_cli.run.pipeline import StreamResult

from .conftest import API_KEY, RunCli, clean_env, run_in_process, stand_in

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None, reason="needs ffmpeg"
)
HELLO = "Hello there, how are you today?"
GIVES_UP_AFTER = 6  # seconds the stand-in hangs before it exits by itself
STAND_IN = f"""#!{sys.executable}
import os, signal, sys, time
with open(os.environ["ENCODER_RECORD"], "w") as f:
    f.write(str(os.getpid()))
if os.environ.get("ENCODER_MODE") == "stubborn":  # only SIGKILL ends it
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep({GIVES_UP_AFTER})  # hung: never reads its stdin, writes nothing
"""


@pytest.fixture
def hung_encoder(tmp_path: Path) -> Path:
    """A directory holding the stand-in `ffmpeg`; it writes its pid to `pid` next to it."""
    return stand_in(tmp_path / "bin", "ffmpeg", STAND_IN)


def env_for(bin_dir: Path, mode: str = "") -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "ENCODER_RECORD": str(bin_dir / "pid"),
        "ENCODER_MODE": mode,
    }


def exists(pid: int) -> bool:
    """Running, or exited but not reaped by its parent (this process, the CLI run in it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- an encoder that stops reading ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["", "stubborn"])
def test_an_encoder_that_reads_nothing_is_given_up_with_exit_7_and_reaped(
    cli: RunCli, fake: FakeCartesia, hung_encoder: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(encoder, "ENCODER_STALL", 0.3)
    monkeypatch.setattr(encoder, "STOP_GRACE", 0.2)  # the stubborn one waits for SIGKILL
    fake.plan = AudioPlan(audio_seconds=4.0)  # 700 KB of PCM: far more than its pipe holds
    started = time.monotonic()
    result = cli("tts", "sse", HELLO, "-o", "out.mp3", env=env_for(hung_encoder, mode))
    assert time.monotonic() - started < GIVES_UP_AFTER - 2  # the bound, not the encoder, ended it
    assert result.code == 7, result.stderr
    assert result.stderr == (
        "cartesia-cli: error: ffmpeg read none of its input for 0.3 s (encoding out.mp3); "
        "stopped it\n"
    )
    assert not exists(int((hung_encoder / "pid").read_text()))  # stopped, and reaped
    assert not (tmp_path / "out.mp3").exists()  # it wrote nothing: no empty file left


def test_the_stall_bound_is_twenty_seconds_and_the_player_has_the_same() -> None:
    from cartesia_cli.output import player

    assert encoder.ENCODER_STALL == player.PLAYER_STALL == 20.0


@pytest.mark.usefixtures("handlers")
def test_a_stop_while_the_encoder_hangs_leaves_no_encoder_behind(
    fake: FakeCartesia, hung_encoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C, with the real handlers: the stop is raised again while the encoder is waited for.

    That second raise cut the wait short, and the encoder, never stopped, was left running.
    """
    monkeypatch.setattr(process, "REPEAT_SECONDS", 0.1)  # raised again well inside the wait
    monkeypatch.setattr(encoder, "FINISH_TIMEOUT", 1.0)
    monkeypatch.setattr(encoder, "STOP_GRACE", 0.2)
    take = pipeline.take

    def taking(event: Event, sink: Sink, result: StreamResult, *args: object) -> None:
        take(event, sink, result, *args)  # type: ignore[arg-type]
        if sink.audio_bytes and not process._raised:  # the encoder has PCM: Ctrl-C now
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(pipeline, "take", taking)
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    env.update(env_for(hung_encoder))
    started = time.monotonic()
    result = run_in_process(("tts", "sse", HELLO, "-o", "out.mp3"), env=env, cwd=tmp_path)
    assert time.monotonic() - started < GIVES_UP_AFTER - 2
    assert result.code == 130, result.stderr
    assert result.stderr == "cartesia-cli: error: interrupted\n"
    assert not exists(int((hung_encoder / "pid").read_text()))


# --- a stopped batch: the encoded files' real sizes ---------------------------------------


@needs_ffmpeg
@pytest.mark.usefixtures("handlers")
@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".ogg"])
def test_a_stopped_batch_reports_each_encoded_files_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """The counts are taken once the encoder has written out what it held, as a single run's."""
    take = pipeline.take
    fed: dict[str, int] = {}

    def taking(event: Event, sink: Sink, result: StreamResult, *args: object) -> None:
        take(event, sink, result, *args)  # type: ignore[arg-type]
        fed[sink.label] = sink.audio_bytes
        if len(fed) == 2 and all(fed.values()) and not process._raised:  # both are encoding
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(pipeline, "take", taking)
    long = "A much longer line that takes a while to say. " * 3
    lines = [json.dumps({"transcript": long, "output": f"i{n}{suffix}"}) for n in (1, 2)]
    (tmp_path / "in.jsonl").write_text("".join(line + "\n" for line in lines))
    with FakeCartesia(api_key=API_KEY, pace=0.25) as paced:
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=paced.url)
        args = ("tts", "sse", "--batch", "in.jsonl", "--concurrency", "2", "--json")
        result = run_in_process(args, env=env, cwd=tmp_path)
    assert result.code == 130, result.stderr
    last = result.stderr.splitlines()[-1]
    docs = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert sorted(doc["output"] for doc in docs) == [f"i1{suffix}", f"i2{suffix}"]
    for doc in docs:
        size = (tmp_path / doc["output"]).stat().st_size
        assert doc["exit_code"] == 130 and doc["bytes"] == size > 0
        assert f"{doc['output']} ({size} bytes)" in last  # the `partial audio kept` line


# --- an MP3 made here: its own length and bit rate ----------------------------------------

RATES = ["8000", "16000", "22050", "24000", "44100", "48000"]


def ffprobe_seconds(path: Path) -> float:
    show = ["-show_entries", "format=duration", "-of", "csv=p=0"]
    probed = subprocess.run(
        ["ffprobe", "-v", "error", *show, str(path)], capture_output=True, text=True, check=True
    )
    return float(probed.stdout)


@needs_ffmpeg
@pytest.mark.parametrize("command", ["sse", "ws"])
@pytest.mark.parametrize("rate", RATES)
def test_an_mp3_made_here_says_the_files_length_and_bit_rate_at_every_sample_rate(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, command: str, rate: str
) -> None:
    # 128 kb/s is more than MPEG-2.5 carries at 8 kHz: the encoder makes 64 kb/s of it.
    result = cli("tts", command, HELLO, "-r", rate, "-o", "out.mp3", "--json")
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    size = (tmp_path / "out.mp3").stat().st_size
    assert doc["audio_seconds"] == pytest.approx(ffprobe_seconds(tmp_path / "out.mp3"), abs=0.001)
    kbps = "64 kbps" if rate == "8000" else "128 kbps"
    summary = f"wrote out.mp3: {doc['audio_seconds']:.2f} s of audio, {size} bytes, mp3 {rate} Hz "
    assert summary + kbps in result.stderr


@needs_ffmpeg
def test_a_batch_items_mp3_says_the_bit_rate_the_file_has(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    item = json.dumps({"transcript": HELLO, "output": "low.mp3", "sample_rate": 8000})
    result = cli("tts", "sse", "--batch", "-", input=(item + "\n").encode())
    assert result.code == 0, result.stderr
    assert "mp3 8000 Hz 64 kbps" in result.stderr
