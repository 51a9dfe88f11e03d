"""`cartesia-cli tts bytes` end to end against the fake: WAV, MP3 and raw, byte for byte."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia, Scenario

from .conftest import VOICE, RunCli, assert_one_error_line

HELLO = "Hello, world!"  # the fake speaks it as 1.00 s (3 syllables and 2 pauses)
ENCODINGS = {"pcm_f32le": 4, "pcm_s16le": 2, "pcm_mulaw": 1, "pcm_alaw": 1}
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffmpeg")


def probe(path: Path) -> tuple[str, int, float]:
    """(codec, sample rate, duration) as ffprobe reads the file."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate",
         "-show_entries", "format=duration", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    stream = data["streams"][0]
    return stream["codec_name"], int(stream["sample_rate"]), float(data["format"]["duration"])


@needs_ffmpeg
@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("rate", ["8000", "44100"])
def test_wav_is_byte_exact_and_plays_right(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: str, rate: str
) -> None:
    result = cli("tts", "bytes", HELLO, "-e", encoding, "-r", rate, "-o", "out.wav")
    assert result.code == 0, result.stderr
    audio = (tmp_path / "out.wav").read_bytes()
    assert audio == bytes(fake.transmissions[-1].audio)
    assert probe(tmp_path / "out.wav")[:2] == (encoding, int(rate))
    assert probe(tmp_path / "out.wav")[2] == pytest.approx(1.0, abs=0.002)
    body = fake.requests[-1].json()
    assert body["output_format"] == {
        "container": "wav",
        "encoding": encoding,
        "sample_rate": int(rate),
    }
    summary, hint = result.stderr.splitlines()
    assert summary.startswith(f"wrote out.wav: 1.00 s of audio, {len(audio)} bytes, wav {encoding}")
    assert hint == "play it: ffplay -nodisp -autoexit -loglevel error out.wav"


@needs_ffmpeg
@pytest.mark.parametrize(("rate", "bit_rate"), [("44100", "128000"), ("16000", "32000")])
def test_mp3_at_the_rate_asked(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, rate: str, bit_rate: str
) -> None:
    args = ("--container", "mp3", "-r", rate, "--bit-rate", bit_rate, "-o", "out.mp3")
    result = cli("tts", "bytes", HELLO, *args)
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.mp3").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert probe(tmp_path / "out.mp3")[:2] == ("mp3", int(rate))
    assert fake.requests[-1].json()["output_format"] == {
        "container": "mp3",
        "sample_rate": int(rate),
        "bit_rate": int(bit_rate),
    }
    assert f"mp3 {rate} Hz {int(bit_rate) // 1000} kbps" in result.stderr


def test_raw_to_a_pipe_with_the_right_player_line(cli_process: RunCli, fake: FakeCartesia) -> None:
    # A real process writing into a real pipe: the one subprocess run of this command.
    result = cli_process("tts", "bytes", HELLO, "--container", "raw", "-e", "pcm_s16le", "-o", "-")
    assert result.code == 0, result.stderr
    assert result.stdout == bytes(fake.transmissions[-1].audio)
    assert len(result.stdout) == round(1.0 * 44100) * 2
    assert len(result.stderr.splitlines()) == 1  # no play-it line after -o -: piped already


def test_default_names_follow_the_container(cli: RunCli, tmp_path: Path) -> None:
    for container in ("wav", "mp3", "raw"):
        assert cli("tts", "bytes", HELLO, "--container", container, "-q").code == 0
    names = sorted(p.name for p in tmp_path.glob("tts_bytes_*"))
    assert sorted(name.rsplit(".", 1)[1] for name in names) == ["mp3", "pcm", "wav"]
    for name in names:
        assert re.fullmatch(r"tts_bytes_\d{8}_\d{6}_\d{3}(-\d+)?\.(wav|mp3|pcm)", name)


def test_a_body_cut_short_keeps_what_arrived(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue(Scenario(name="cut", after_chunks=3))
    result = cli("tts", "bytes", HELLO, "-o", "out.wav")
    assert result.code == 6, result.stderr
    assert_one_error_line(result.stderr)
    kept = (tmp_path / "out.wav").read_bytes()
    assert kept == bytes(fake.transmissions[-1].audio)  # a FIN loses nothing in flight
    assert 0 < len(kept) < 68_000
    assert "connection to the server failed mid-stream" in result.stderr
    assert f"partial audio kept: out.wav ({len(kept)} bytes, 0.30 s)" in result.stderr


@pytest.mark.parametrize(
    ("scenario", "code", "message"),
    [
        ("http-401", 3, "HTTP 401 Unauthorized: Invalid API key."),
        ("http-402", 4, "HTTP 402 Payment Required"),
        ("wrong-content-type", 6, "expected audio from the server, got content type"),
    ],
)
def test_failures_before_audio_leave_no_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, scenario: str, code: int, message: str
) -> None:
    fake.queue(scenario)
    result = cli("tts", "bytes", HELLO, "-o", "out.wav", "--retries", "0")
    assert result.code == code, result.stderr
    assert message in result.stderr
    assert_one_error_line(result.stderr)
    assert not (tmp_path / "out.wav").exists()


def test_a_stalled_body_hits_the_idle_timeout(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue(Scenario(name="stall", after_chunks=2, stall_seconds=5))
    result = cli(
        "tts", "bytes", HELLO, "-o", "out.pcm", "--container", "raw", "--idle-timeout", "0.3"
    )
    assert result.code == 6, result.stderr
    assert (
        "(idle timeout); raise it with --idle-timeout; partial audio kept: out.pcm" in result.stderr
    )
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--container", "mp3", "--bit-rate", "100000"), "--bit-rate must be one of 32000"),
        (("--container", "mp3", "--bit-rate", "0"), "--bit-rate must be one of 32000"),
        (("--container", "mp3", "--bit-rate", "fast"), "--bit-rate must be one of 32000"),
        (("--bit-rate", "64000"), "--bit-rate applies to an MP3 only"),
        (
            ("--container", "mp3", "-e", "pcm_s16le"),
            "--encoding does not apply to the MP3 /tts/bytes makes",
        ),
        (("--container", "aac"), "--container must be one of raw, wav, mp3, flac, ogg"),
    ],
)
def test_format_flags_that_do_not_fit_are_refused(
    cli: RunCli, fake: FakeCartesia, args: tuple[str, ...], message: str
) -> None:
    result = cli("tts", "bytes", HELLO, *args)
    assert result.code == 2
    assert message in result.stderr
    assert fake.requests == []


# --- the generation controls, on both commands ---------------------------------------------

CONTROL_FLAGS = (
    "--language", "de", "--speed", "1.2", "--volume", "0.8", "--emotion", "calm",
    "--context-id", "ctx-9", "-v", VOICE,
)  # fmt: skip
# One the fake knows: an unknown dictionary id is a 404.
DICTIONARY_ID = "4b5f1c2e-7a3d-4e8f-9b6a-0c1d2e3f4a5b"


@pytest.mark.parametrize("command", ["sse", "bytes"])
def test_controls_reach_the_body(cli: RunCli, fake: FakeCartesia, command: str) -> None:
    fake.store.add_dictionary(
        {"id": DICTIONARY_ID, "name": "names", "items": [], "owner_id": "o", "pinned": False}
    )
    flags = (*CONTROL_FLAGS, "--pronunciation-dict", DICTIONARY_ID)
    assert cli("tts", command, HELLO, "-o", "-", *flags).code == 0
    body = fake.requests[-1].json()
    assert body["language"] == "de"
    assert body["generation_config"] == {"speed": 1.2, "volume": 0.8, "emotion": "calm"}
    assert body["pronunciation_dict_id"] == DICTIONARY_ID
    assert body["context_id"] == "ctx-9"
    assert body["voice"] == VOICE  # Cartesia-Version 2026-08-14: the bare id


@pytest.mark.parametrize("command", ["sse", "bytes"])
def test_unset_controls_are_left_out(cli: RunCli, fake: FakeCartesia, command: str) -> None:
    assert cli("tts", command, HELLO, "-o", "-").code == 0
    body = fake.requests[-1].json()
    assert set(body) == {"model_id", "transcript", "voice", "output_format"}


@pytest.mark.parametrize("command", ["sse", "bytes"])
@pytest.mark.parametrize(
    ("flag", "value"),
    [("--speed", "1.6"), ("--speed", "nan"), ("--volume", "inf"), ("--volume", "0.4"),
     ("--speed", "-1"), ("--emotion", ""), ("--language", " ")],
)  # fmt: skip
def test_bad_controls_are_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia, command: str, flag: str, value: str
) -> None:
    result = cli("tts", command, HELLO, "-o", "-", flag, value)
    assert result.code == 2
    assert result.stderr.startswith(f"cartesia-cli: error: {flag} must ")
    assert_one_error_line(result.stderr)
    assert fake.requests == []


def test_controls_from_the_config_file(cli: RunCli, fake: FakeCartesia) -> None:
    assert cli("config", "set", "speed", "0.9").code == 0
    assert cli("config", "set", "emotion", "sad").code == 0
    assert cli("tts", "bytes", HELLO, "-o", "-").code == 0
    assert fake.requests[-1].json()["generation_config"] == {"speed": 0.9, "emotion": "sad"}
    assert cli("tts", "bytes", HELLO, "-o", "-", "--speed", "1.1").code == 0
    assert fake.requests[-1].json()["generation_config"] == {"speed": 1.1, "emotion": "sad"}
