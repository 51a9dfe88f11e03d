"""The printed player command really decodes the audio as written (checked with ffmpeg)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from cartesia_cli.formats import Container, Encoding, OutputFormat, RequestedFormat
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.ui import report

from .conftest import RunCli

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")

BYTES_PER_SAMPLE = {"pcm_f32le": 4, "pcm_s16le": 2, "pcm_mulaw": 1, "pcm_alaw": 1}


def decoded_samples(fmt: str, rate: str, source: list[str], stdin: bytes | None) -> int:
    """Decode with ffmpeg using the hint's own -f/-ar and count the mono s16 samples out."""
    proc = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", fmt, "-ar", rate, *source, "-f", "s16le", "-ac", "1", "-"],
        input=stdin,
        capture_output=True,
        check=True,
    )
    return len(proc.stdout) // 2


def hint_options(hint: str) -> tuple[str, str, list[str]]:
    words = shlex.split(hint.removeprefix("play it: ").split(" | ")[-1])
    assert words[:5] == ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error"]
    fmt, rate = words[words.index("-f") + 1], words[words.index("-ar") + 1]
    return fmt, rate, words[words.index("-ar") + 2 :]


@pytest.mark.parametrize("encoding", list(BYTES_PER_SAMPLE))
@pytest.mark.parametrize("rate", ["8000", "22050", "24000"])
def test_file_hint_decodes_every_sample(
    cli: RunCli, tmp_path: Path, encoding: str, rate: str
) -> None:
    result = cli("tts", "sse", "Hello, world!", "-e", encoding, "-r", rate, "-o", "out file.pcm")
    assert result.code == 0, result.stderr
    fmt, hint_rate, source = hint_options(result.stderr.splitlines()[-1])
    assert hint_rate == rate
    assert source == ["out file.pcm"]
    size = (tmp_path / "out file.pcm").stat().st_size
    samples = decoded_samples(fmt, hint_rate, ["-i", str(tmp_path / source[0])], None)
    assert samples == size // BYTES_PER_SAMPLE[encoding]


@pytest.mark.parametrize("encoding", ["pcm_f32le", "pcm_alaw"])
def test_pipe_line_decodes_stdout(cli: RunCli, fake: FakeCartesia, encoding: str) -> None:
    """The pipe a refusal to write audio to a terminal suggests decodes what -o - writes."""
    result = cli("tts", "sse", "Hello, world!", "-e", encoding, "-r", "16000", "-o", "-")
    audio = OutputFormat(Container.RAW, RequestedFormat(Container.RAW, Encoding(encoding), 16000))
    fmt, rate, source = hint_options(report.play_hint(audio, "tts sse", None))
    assert source == ["-i", "-"]
    samples = decoded_samples(fmt, rate, ["-i", "-"], result.stdout)
    assert samples == len(result.stdout) // BYTES_PER_SAMPLE[encoding] > 0
