"""`tts sse --container wav`: a WAV header written here around the raw PCM the stream carries."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import OutputError
from cartesia_cli.formats import Encoding, wav_data_offset
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.output import wav
from cartesia_cli.output.sinks import FileSink

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env

HELLO = "Hello there, this is a test of the header."
ENCODINGS = pytest.mark.parametrize("encoding", [e.value for e in Encoding])
TAGS = {"pcm_s16le": 1, "pcm_f32le": 3, "pcm_alaw": 6, "pcm_mulaw": 7}
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg not installed")


def parse(data: bytes) -> dict[str, int]:
    """The fields a player reads, checked against the RIFF rules as they are read."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    fields = {"riff": struct.unpack_from("<I", data, 4)[0]}
    offset = 12
    while data[offset : offset + 4] != b"data":
        name, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if name == b"fmt ":
            tag, channels, rate, byte_rate, align, bits = struct.unpack_from(
                "<HHIIHH", data, offset + 8
            )
            fields.update(tag=tag, channels=channels, rate=rate, byte_rate=byte_rate, bits=bits)
            assert byte_rate == rate * align
        elif name == b"fact":
            fields["frames"] = struct.unpack_from("<I", data, offset + 8)[0]
        offset += 8 + size
    fields["data_size"] = struct.unpack_from("<I", data, offset + 4)[0]
    fields["data_at"] = offset + 8
    return fields


@ENCODINGS
def test_a_wav_file_holds_the_stream_exactly_with_real_sizes(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: str
) -> None:
    result = cli(
        "tts", "sse", HELLO, "--container", "wav", "-e", encoding, "-r", "16000", "-o", "x.wav"
    )
    assert result.code == 0, result.stderr
    data = (tmp_path / "x.wav").read_bytes()
    sent = bytes(fake.transmissions[-1].audio)
    header = parse(data)
    assert data[header["data_at"] :] == sent  # the data chunk is the stream, byte for byte
    assert header["data_size"] == len(sent)
    assert header["riff"] == len(data) - 8
    assert (header["tag"], header["channels"], header["rate"]) == (TAGS[encoding], 1, 16000)
    width = Encoding(encoding).bytes_per_sample
    assert header["bits"] == 8 * width
    assert header.get("frames", len(sent) // width) == len(sent) // width
    assert ("frames" in header) == (encoding != "pcm_s16le")  # fact: every format but PCM
    assert "wav " + encoding in result.stderr
    assert "play it: ffplay -nodisp -autoexit -loglevel error x.wav" in result.stderr


@needs_ffmpeg
@ENCODINGS
def test_ffprobe_reads_codec_rate_and_duration(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: str
) -> None:
    assert cli("tts", "sse", HELLO, "--container", "wav", "-e", encoding, "-o", "x.wav").code == 0
    samples = len(fake.transmissions[-1].audio) // Encoding(encoding).bytes_per_sample
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,duration",
         "-of", "csv=p=0", str(tmp_path / "x.wav")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    codec, rate, duration = probe.stdout.strip().split(",")
    assert (codec, rate) == (encoding, "44100")
    assert float(duration) == pytest.approx(samples / 44100, abs=0.001)


@needs_ffmpeg
@pytest.mark.parametrize("encoding", ["pcm_f32le", "pcm_mulaw"])
def test_into_a_pipe_ffmpeg_decodes_every_sample(
    fake: FakeCartesia, tmp_path: Path, encoding: str
) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    args = ["tts", "sse", HELLO, "--container", "wav", "-e", encoding, "-o", "-", "-q"]
    with subprocess.Popen(
        [str(ENTRY_POINT), *args], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
    ) as cli:
        decoded = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", "-", "-f", "s16le", "-"],
            stdin=cli.stdout, capture_output=True, check=True,
        )  # fmt: skip
    assert cli.returncode == 0
    samples = len(fake.transmissions[-1].audio) // Encoding(encoding).bytes_per_sample
    assert len(decoded.stdout) == 2 * samples
    assert decoded.stderr == b""


def test_into_a_pipe_the_sizes_say_unknown(cli_process: RunCli, fake: FakeCartesia) -> None:
    result = cli_process("tts", "sse", HELLO, "--container", "wav", "-o", "-")
    header = parse(result.stdout)
    assert (header["riff"], header["data_size"], header["frames"]) == (wav.UNKNOWN, wav.UNKNOWN, 0)
    assert result.stdout[header["data_at"] :] == bytes(fake.transmissions[-1].audio)


def test_stdout_redirected_to_a_file_gets_real_sizes(fake: FakeCartesia, tmp_path: Path) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    with open(tmp_path / "x.wav", "wb") as out:
        subprocess.run(
            [str(ENTRY_POINT), "tts", "sse", HELLO, "--container", "wav", "-o", "-", "-q"],
            stdout=out, stdin=subprocess.DEVNULL, env=env, check=True, timeout=30,
        )  # fmt: skip
    header = parse((tmp_path / "x.wav").read_bytes())
    assert header["data_size"] == len(fake.transmissions[-1].audio)


def test_a_cut_stream_keeps_a_valid_wav_of_what_arrived(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue("cut")
    result = cli("tts", "sse", HELLO, "--container", "wav", "-o", "x.wav", "--retries", "0")
    assert result.code == 6
    data = (tmp_path / "x.wav").read_bytes()
    header = parse(data)
    received = data[header["data_at"] :]
    assert len(received) > 0
    assert received == bytes(fake.transmissions[-1].audio)  # every byte sent before the cut
    assert header["data_size"] == len(received) and header["riff"] == len(data) - 8
    assert f"partial audio kept: x.wav ({len(data)} bytes" in result.stderr


def test_default_names_end_in_wav(cli: RunCli, tmp_path: Path) -> None:
    assert cli("tts", "sse", HELLO, "--container", "wav").code == 0
    assert len(list(tmp_path.glob("tts_sse_*.wav"))) == 1


def test_a_container_no_one_makes_is_refused_first(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", HELLO, "--container", "m4a")
    assert result.code == 2
    assert "--container must be one of raw, wav, mp3, flac, ogg, got 'm4a'" in result.stderr
    assert fake.requests == []


class _TinyLayout(wav.Layout):
    @property
    def max_data(self) -> int:
        return 100


def test_past_what_a_header_can_count_the_run_stops_with_a_valid_file(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "x.wav", created_fd=None)
    sink.frame_as_wav(_TinyLayout(Encoding.PCM_S16LE, 16000))
    sink.write(b"\x01\x00" * 40)
    with pytest.raises(OutputError, match="at most 4 GiB"):
        sink.write(b"\x02\x00" * 40)
    sink.close(keep=True)
    data = (tmp_path / "x.wav").read_bytes()
    assert parse(data)["data_size"] == 80 and data.endswith(b"\x01\x00" * 40)


@given(
    encoding=st.sampled_from(list(Encoding)),
    rate=st.sampled_from([8000, 16000, 22050, 24000, 44100, 48000]),
    size=st.one_of(st.none(), st.integers(min_value=0, max_value=wav.UNKNOWN - 58)),
)
def test_every_header_parses_back(encoding: Encoding, rate: int, size: int | None) -> None:
    layout = wav.Layout(encoding, rate)
    header = layout.header(size)
    assert len(header) == layout.header_size == wav_data_offset(header)
    fields = parse(header + b"\0" * 8)
    assert fields["data_size"] == (wav.UNKNOWN if size is None else size)
    assert fields["riff"] == (wav.UNKNOWN if size is None else layout.header_size - 8 + size)
