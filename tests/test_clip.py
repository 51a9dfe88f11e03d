"""A voice clip is checked here before any request: a file, audio by its first bytes, of a
usable length (ffprobe when installed, else the WAV header), M4A, RF64 and Wave64 converted
by ffmpeg; and what goes up as it is, the fake server takes."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.errors import ExitCode, UsageError
from cartesia_cli.input import clip
from cartesia_cli.input.clip import FLAC, M4A, MATROSKA, MP3, OGG, WAV, WEBM, load, sniff
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.mock.multipart import is_audio

from .conftest import RunCli, stand_in

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None, reason="needs ffmpeg"
)


def wav_bytes(seconds: float, rate: int = 8000, channels: int = 1, width: int = 1) -> bytes:
    """A WAV of silence, made by the standard library's writer."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(b"\x80" * int(seconds * rate) * channels * width)
    return out.getvalue()


def streamed(data: bytes) -> bytes:
    """The same WAV as written to a pipe: its RIFF and data sizes unknown (0xFFFFFFFF)."""
    head = bytearray(data)
    head[4:8] = b"\xff\xff\xff\xff"
    at = head.index(b"data")
    head[at + 4 : at + 8] = b"\xff\xff\xff\xff"
    return bytes(head)


@pytest.fixture
def no_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with neither ffprobe nor ffmpeg on it."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def refused(path: Path | str) -> str:
    with pytest.raises(UsageError) as failed:
        load(str(path))
    assert failed.value.exit_code == ExitCode.USAGE
    assert "\n" not in failed.value.message
    return failed.value.message


# --- the container, by its first bytes ---------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", WAV),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", MP3),
        (b"\xff\xfb\x90\x64\x00\x00", MP3),  # MPEG-1 Layer III frame, no tag
        (b"\xff\xf3\x40\xc4", MP3),  # MPEG-2 Layer III
        (b"fLaC\x00\x00\x00\x22", FLAC),
        (b"OggS\x00\x02\x00\x00", OGG),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00", M4A),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", WEBM),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", MATROSKA),
        (b"RF64\xff\xff\xff\xffWAVEds64", clip.RF64),
        (b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00", clip.WAVE64),
    ],
)
def test_each_container_is_known_by_its_first_bytes(head: bytes, kind: clip.Kind) -> None:
    assert sniff(head) is kind


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"RIFF",
        b"RIFF\x00\x00\x00\x00AVI ",
        b"\xff\xf1\x50\x80",
        b"PK\x03\x04",
        b"%PDF-1.7",
        b"\xff\xfb\xf0\x00",
        b"\xff\xfb\x9c\x00",
        b"\xff\xeb\x90\x00",
    ],
    ids=[
        "empty",
        "short",
        "avi",
        "adts-aac",
        "zip",
        "pdf",
        "mp3-rate-15",
        "mp3-hz-3",
        "mp3-version-1",
    ],
)
def test_what_is_not_audio_the_api_takes_is_not_known(head: bytes) -> None:
    assert sniff(head) is None


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_any_bytes_are_sniffed_without_failing(head: bytes) -> None:
    assert sniff(head) in (None, WAV, MP3, FLAC, OGG, M4A, WEBM, MATROSKA, clip.RF64, clip.WAVE64)


# The CLI's check and the fake server's cannot share code (the fake imports nothing of the
# CLI): held together here, over first bytes built around every signature either knows.
SIGNATURES = [b"RIFF", b"RF64", b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00",
              b"ID3", b"fLaC", b"OggS", b"\x1a\x45\xdf\xa3", b"\x00\x00\x00\x20ftyp"]  # fmt: skip
heads = st.one_of(
    st.binary(max_size=40),
    st.builds(bytes.__add__, st.sampled_from(SIGNATURES), st.binary(max_size=30)),
    st.builds(  # a RIFF-like header: a signature, any size, a form type
        lambda magic, size, form, rest: magic + size + form + rest,
        st.sampled_from([b"RIFF", b"RF64", b"RIFX"]), st.binary(min_size=4, max_size=4),
        st.sampled_from([b"WAVE", b"AVI ", b"wave"]), st.binary(max_size=20),
    ),
    st.builds(  # an MPEG frame's sync bits, then every version, layer, rate
        lambda second, third, rest: bytes([0xFF, 0xE0 | second, third]) + rest,
        st.integers(0, 31), st.integers(0, 255), st.binary(max_size=8),
    ),
)  # fmt: skip


@settings(max_examples=500)
@given(heads)
def test_the_cli_sends_as_it_is_only_what_the_fake_takes(head: bytes) -> None:
    kind = sniff(head)
    if kind is None:
        assert not is_audio(head)  # refused here, and it would be there
    elif kind.accepted:
        assert is_audio(head), kind.name  # sent as it is: the fake must take it


@settings(max_examples=200)
@given(st.sampled_from([b"ID3", b"fLaC", b"OggS"]), st.binary(max_size=60))
def test_a_magic_number_decides_whatever_follows(magic: bytes, rest: bytes) -> None:
    assert sniff(magic + rest) is {b"ID3": MP3, b"fLaC": FLAC, b"OggS": OGG}[magic]


# --- the length from a WAV header -------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    seconds=st.floats(0.01, 3.0),
    rate=st.sampled_from([8000, 16000, 22050, 44100, 48000]),
    channels=st.integers(1, 2),
    width=st.integers(1, 2),
    piped=st.booleans(),
)
def test_a_wav_header_gives_the_length(
    seconds: float, rate: int, channels: int, width: int, piped: bool
) -> None:
    data = wav_bytes(seconds, rate, channels, width)
    frames = int(seconds * rate)
    if piped:
        data = streamed(data)
    assert clip.wav_seconds(data[: clip.HEAD_BYTES], len(data)) == pytest.approx(frames / rate)


def test_a_data_size_past_the_end_counts_what_the_file_holds() -> None:
    data = bytearray(wav_bytes(1.0))
    at = data.index(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", 10 * 8000)  # claims 10 s; holds 1 s
    assert clip.wav_seconds(bytes(data), len(data)) == pytest.approx(1.0)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_bytes_after_a_wav_signature_read_without_failing(rest: bytes) -> None:
    head = b"RIFF\x00\x00\x00\x00WAVE" + rest
    seconds = clip.wav_seconds(head, len(head))
    assert seconds is None or seconds >= 0


# --- the file ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert refused(tmp_path / "gone.wav") == f"{str(tmp_path / 'gone.wav')!r}: no such file"


def test_a_folder(tmp_path: Path) -> None:
    assert "is a folder" in refused(tmp_path)


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    assert "is not a regular file" in refused(fifo)


def test_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.wav").write_bytes(b"")
    assert refused(tmp_path / "e.wav").endswith("is empty")


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    with big.open("wb") as handle:  # sparse: nothing is written but the header
        handle.write(wav_bytes(0.1))
        handle.truncate(clip.MAX_BYTES + 1)
    assert "a clip may be at most 16 MiB" in refused(big)


def test_text_is_not_audio(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("Hello, this is not audio.\n")
    assert "is not audio: expected WAV, MP3" in refused(tmp_path / "notes.wav")


def test_an_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads anything")
    locked = tmp_path / "locked.wav"
    locked.write_bytes(wav_bytes(3))
    locked.chmod(0)
    assert refused(locked) == f"cannot read {str(locked)!r}: Permission denied"


# --- the length -------------------------------------------------------------------------


@pytest.mark.usefixtures("no_ffmpeg")
@pytest.mark.parametrize(("seconds", "said"), [(1.5, "is 1.5 s long"), (301, "5.0 minutes")])
def test_too_short_or_too_long_from_the_header(tmp_path: Path, seconds: float, said: str) -> None:
    (tmp_path / "c.wav").write_bytes(wav_bytes(seconds))
    assert said in refused(tmp_path / "c.wav")


@pytest.mark.usefixtures("no_ffmpeg")
def test_a_usable_wav_goes_up_as_it_is(tmp_path: Path) -> None:
    data = wav_bytes(3)
    (tmp_path / "me.wav").write_bytes(data)
    made = load(str(tmp_path / "me.wav"))
    assert (made.name, made.data, made.media_type) == ("me.wav", data, "audio/wav")
    assert made.seconds == pytest.approx(3) and not made.converted


@pytest.mark.usefixtures("no_ffmpeg")
def test_without_ffprobe_a_length_the_header_does_not_give_is_left_to_the_server(
    tmp_path: Path,
) -> None:
    (tmp_path / "x.ogg").write_bytes(b"OggS" + bytes(100))
    assert load(str(tmp_path / "x.ogg")).seconds is None


def test_ffprobe_is_asked_first_and_its_chatter_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header says 10 s; ffprobe (a stand-in) says 1.2 s and is believed."""
    folder = stand_in(tmp_path / "bin", "ffprobe", "#!/bin/sh\necho chatter >&2\necho 1.2\n")
    monkeypatch.setenv("PATH", str(folder))
    (tmp_path / "c.wav").write_bytes(wav_bytes(10))
    message = refused(tmp_path / "c.wav")
    assert "is 1.2 s long" in message and "chatter" not in message


def test_a_clip_ffprobe_cannot_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = stand_in(tmp_path / "bin", "ffprobe", "#!/bin/sh\necho 'Invalid data' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", str(folder))
    (tmp_path / "c.wav").write_bytes(wav_bytes(10))
    message = refused(tmp_path / "c.wav")
    assert "begins like WAV but cannot be read as audio" in message
    assert "Invalid data" not in message


def test_a_hung_ffprobe_is_given_up_and_the_header_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = stand_in(tmp_path / "bin", "ffprobe", "#!/bin/sh\nexec /bin/sleep 30\n")
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(clip, "PROBE_TIMEOUT", 0.3)
    (tmp_path / "c.wav").write_bytes(wav_bytes(1))
    assert "is 1.0 s long" in refused(tmp_path / "c.wav")  # the header's figure


@needs_ffmpeg
def test_ffprobe_reads_the_length_of_a_real_clip(tmp_path: Path) -> None:
    (tmp_path / "c.wav").write_bytes(streamed(wav_bytes(2.5, rate=16000, width=2)))
    assert load(str(tmp_path / "c.wav")).seconds == pytest.approx(2.5, abs=0.01)


# --- M4A: converted, or refused -----------------------------------------------------------


@pytest.fixture(scope="module")
def m4a_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    """M4A clips of 3 s and 1 s, made once by ffmpeg for this module."""
    folder = tmp_path_factory.mktemp("m4a")
    return {seconds: m4a(folder / str(seconds), seconds) for seconds in (3, 1)}


def m4a(folder: Path, seconds: float) -> Path:
    folder.mkdir()
    path = folder / "voice memo.m4a"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", f"sine=d={seconds}:r=16000",
         "-ac", "2", "-c:a", "aac", str(path)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return path


@needs_ffmpeg
def test_an_m4a_is_converted_to_wav_by_ffmpeg(m4a_clips: dict[float, Path]) -> None:
    made = load(str(m4a_clips[3]))
    assert made.converted and made.kind is M4A
    assert (made.name, made.media_type) == ("voice memo.wav", "audio/wav")
    assert sniff(made.data) is WAV
    with wave.open(io.BytesIO(made.data)) as converted:
        assert converted.getnchannels() == 1 and converted.getsampwidth() == 2
    # A seekable file: the header carries the real sizes, so the length reads from it.
    assert clip.wav_seconds(made.data[: clip.HEAD_BYTES], len(made.data)) == pytest.approx(
        3, abs=0.05
    )


@needs_ffmpeg
def test_an_m4a_too_large_once_converted_is_refused(
    m4a_clips: dict[float, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 s of 16 kHz mono WAV is 96 kB: over a cap the M4A itself is under."""
    cap = 80_000
    assert m4a_clips[3].stat().st_size < cap
    monkeypatch.setattr(clip, "MAX_BYTES", cap)
    assert "converted to WAV is 0 MB; a clip may be at most 0 MiB" in refused(m4a_clips[3])


@needs_ffmpeg
def test_a_short_m4a_is_refused_before_any_conversion(m4a_clips: dict[float, Path]) -> None:
    assert "is 1.0 s long" in refused(m4a_clips[1])


def test_an_m4a_without_ffmpeg_is_refused_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "memo.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffprobe, no ffmpeg
    message = refused(tmp_path / "memo.m4a")
    assert "is M4A, which the API does not take; install ffmpeg" in message


def test_an_m4a_ffmpeg_cannot_convert_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = stand_in(tmp_path / "bin", "ffmpeg", "#!/bin/sh\necho broken >&2\nexit 1\n")
    monkeypatch.setenv("PATH", str(folder))
    (tmp_path / "memo.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    message = refused(tmp_path / "memo.m4a")
    assert "ffmpeg could not convert" in message and "broken" not in message


# --- RF64 and Wave64: WAV's large-file variants, converted like M4A -------------------------


def wav_variant(folder: Path, name: str, *options: str) -> Path:
    """3 s of tone in a WAV variant, made by ffmpeg."""
    path = folder / name
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "sine=d=3:r=16000", *options,
         str(path)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return path


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "options", "kind"),
    [("big.wav", ("-rf64", "always"), clip.RF64), ("big.w64", ("-f", "w64"), clip.WAVE64)],
)
def test_a_wav_variant_is_converted_to_a_plain_wav(
    tmp_path: Path, name: str, options: tuple[str, ...], kind: clip.Kind
) -> None:
    made = load(str(wav_variant(tmp_path, name, *options)))
    assert made.converted and made.kind is kind and sniff(made.data) is WAV
    assert (made.name, made.media_type) == ("big.wav", "audio/wav")
    assert made.data[:4] == b"RIFF" and is_audio(made.data)
    assert made.seconds == pytest.approx(3, abs=0.05)


def test_an_rf64_without_ffmpeg_is_refused_saying_so(tmp_path: Path, no_ffmpeg: None) -> None:
    head = b"RF64\xff\xff\xff\xffWAVEds64" + struct.pack("<I", 28) + bytes(28)
    (tmp_path / "big.wav").write_bytes(head + bytes(200))
    message = refused(tmp_path / "big.wav")
    assert "is RF64 WAV, which the API does not take; install ffmpeg" in message


@needs_ffmpeg
def test_an_rf64_clip_the_cli_sends_is_taken(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    # Found in review: the CLI took RF64 as a WAV and sent it as it was; the fake, which
    # takes only RIFF, answered 400 "clip is not audio" (exit 4).
    wav_variant(tmp_path, "rf64.wav", "-rf64", "always")
    result = cli("voices", "clone", "rf64.wav", "--name", "R", "--language", "en")
    assert result.code == 0, result.stderr
    assert "converted 'rf64.wav' (RF64 WAV) to WAV for the upload" in result.stderr
    (upload,) = [r for r in fake.requests if r.path == "/voices/clone"]
    assert b"RF64" not in upload.body[:2000]
