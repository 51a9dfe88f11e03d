"""What the installed players render, compared with what the server sent.

Each player is driven through the CLI (`say` / `tts sse --play --player NAME`)
and told to render into a file instead of a sound card:

- mpv: its `pcm` audio output (`ao=pcm`, from an mpv.conf in a private MPV_HOME),
  which writes every sample it would play to a WAV file;
- aplay and sox's `play` (which plays through ALSA here): ALSA's `file` plugin over
  its `null` device, from a private configuration named by ALSA_CONFIG_PATH; the
  file plugin writes a WAV file of the samples the player handed to ALSA;
- paplay: a private PulseAudio server with a null sink of the stream's own format and
  rate, recorded from the sink's monitor by parec. That server runs in real time: on a
  loaded machine it drops or re-renders a few blocks (measured), so the recording is
  checked block by block, not sample for sample.

Not rendered here: pw-play (PipeWire links a stream to a sink through a session
manager, which is not installed: its argument vector is tested in test_players.py)
and afplay (macOS only). Each test skips, saying why, where its player is absent.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from cartesia_cli.formats import Encoding
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.output import pcm16, players

from .conftest import RunCli

HELLO = "Hello, world!"
LSB = 1 / 32768  # one step of 16-bit PCM
F32, S16, MULAW, ALAW = (
    Encoding.PCM_F32LE,
    Encoding.PCM_S16LE,
    Encoding.PCM_MULAW,
    Encoding.PCM_ALAW,
)
EVERY_FORMAT = [(encoding, rate) for encoding in Encoding for rate in (8000, 24000)]


def installed(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} not installed")


# --- reading what was rendered ----------------------------------------------------------------


class Wav(NamedTuple):
    tag: int  # 1 integer PCM, 3 float, 6 A-law, 7 μ-law
    bits: int
    rate: int
    data: bytes


def read_wav(path: Path) -> Wav:
    """A WAV file's format and samples (to the end of the file: a header's length may be 0)."""
    blob = path.read_bytes()
    assert blob[:4] == b"RIFF" and blob[8:12] == b"WAVE", blob[:16]
    at, fmt = 12, None
    while at + 8 <= len(blob):
        kind, size = blob[at : at + 4], struct.unpack_from("<I", blob, at + 4)[0]
        if kind == b"fmt ":
            fmt = blob[at + 8 : at + 8 + size]
        if kind == b"data":
            assert fmt is not None
            tag, channels, rate = struct.unpack_from("<HHI", fmt)
            bits = struct.unpack_from("<H", fmt, 14)[0]
            if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format
                tag = struct.unpack_from("<H", fmt, 24)[0]
            assert channels == 1, channels
            return Wav(tag, bits, rate, blob[at + 8 :])
        at += 8 + size + size % 2
    raise AssertionError(f"{path}: no data chunk")


def as_floats(wav: Wav) -> list[float]:
    """The samples, as floats in [-1, 1)."""
    data = wav.data
    if wav.tag == 3 and wav.bits == 32:
        return list(struct.unpack(f"<{len(data) // 4}f", data[: len(data) // 4 * 4]))
    if wav.tag == 1 and wav.bits in (16, 32):
        width = wav.bits // 8
        code = "h" if width == 2 else "i"
        count = len(data) // width
        values = struct.unpack(f"<{count}{code}", data[: count * width])
        return [x / 2 ** (wav.bits - 1) for x in values]
    if wav.tag in (6, 7):
        return decoded(data, ALAW if wav.tag == 6 else MULAW)
    raise AssertionError(f"unexpected WAV format {wav.tag}/{wav.bits} bits")


def decoded(data: bytes, encoding: Encoding) -> list[float]:
    """Audio in `encoding` as floats (μ-law and A-law by the same widening the CLI uses)."""
    if encoding is F32:
        return list(struct.unpack(f"<{len(data) // 4}f", data))
    wide = data if encoding is S16 else pcm16.widen(encoding, data)
    return [x * LSB for x in struct.unpack(f"<{len(wide) // 2}h", wide)]


def trimmed(samples: list[float]) -> list[float]:
    """Without the silence around the sound (players pad their last period with it)."""
    loud = [i for i, x in enumerate(samples) if abs(x) > 8 * LSB]  # A-law silence: ±8
    return samples[loud[0] : loud[-1] + 1] if loud else []


def assert_same_samples(rendered: list[float], sent: list[float], tolerance: float) -> None:
    played, expected = trimmed(rendered), trimmed(sent)
    assert len(expected) > 1000, "too little sound to compare"
    assert len(played) == len(expected), (len(played), len(expected))
    worst = max(abs(a - b) for a, b in zip(played, expected, strict=True))
    assert worst <= tolerance, f"a sample differs by {worst / LSB:.2f} LSB"


def fed_bytes(fake: FakeCartesia, encoding: Encoding, name: str) -> tuple[bytes, Encoding]:
    """What the player was fed: the server's audio, widened to s16 where we widen it."""
    kind = next(k for k in players.EXTERNAL if k.name == name)
    sent = bytes(fake.transmissions[-1].audio)
    fed = kind.fed(encoding)
    return (sent if fed is encoding else pcm16.widen(encoding, sent)), fed


# --- mpv: its pcm audio output ----------------------------------------------------------------


@installed("mpv")
@pytest.mark.parametrize(("encoding", "rate"), EVERY_FORMAT)
def test_mpv_renders_exactly_what_it_was_fed(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: Encoding, rate: int
) -> None:
    """mpv reads f32 and s16 as sent; μ-law and A-law reach it widened to s16 by us.

    mpv's pcm output writes whole blocks of 1/8 s: its last block is filled out past
    the end of the audio (with what its buffer held, not silence), so what was fed is
    compared with the start of the file, and the rest must be less than one block.
    """
    fake.plan = AudioPlan(audio_seconds=0.3)
    rendered = tmp_path / "rendered.wav"
    home = tmp_path / "mpv"
    home.mkdir()
    (home / "mpv.conf").write_text(f"ao=pcm\nao-pcm-file={rendered}\nao-pcm-waveheader=yes\n")
    result = cli("say", HELLO, "-e", encoding.value, "-r", str(rate), "--player", "mpv",
                 env={"MPV_HOME": str(home)})  # fmt: skip
    assert result.code == 0, result.stderr
    wav = read_wav(rendered)
    fed, as_encoding = fed_bytes(fake, encoding, "mpv")
    assert wav.rate == rate
    assert (wav.tag, wav.bits) == ((3, 32) if as_encoding is F32 else (1, 16))
    assert wav.data[: len(fed)] == fed
    assert len(wav.data) - len(fed) < rate // 8 * wav.bits // 8


# --- aplay and sox's play: ALSA's file plugin -------------------------------------------------


def alsa_file_device(folder: Path, rendered: Path) -> dict[str, str]:
    """An ALSA configuration whose default device writes a WAV file and plays nowhere.

    The device takes 32-bit integer PCM, as many sound cards do: ALSA converts what
    the player says it sends (its -f flag) into that, so a wrong flag shows in the file.
    """
    config = folder / "asound.conf"
    config.write_text(
        "pcm.!default {\n"
        "    type plug\n"
        '    slave { pcm "tofile"; format S32_LE }\n'
        "}\n"
        "pcm.tofile {\n"
        "    type file\n"
        '    slave.pcm "nowhere"\n'
        f'    file "{rendered}"\n'
        '    format "wav"\n'
        "}\n"
        "pcm.nowhere { type null }\n"
    )
    # sox's play picks its driver from AUDIODRIVER: ALSA here, as on a Linux desktop.
    return {"ALSA_CONFIG_PATH": str(config), "AUDIODRIVER": "alsa"}


@installed("aplay")
@pytest.mark.parametrize(("encoding", "rate"), EVERY_FORMAT)
def test_aplay_renders_every_sample_sent(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: Encoding, rate: int
) -> None:
    """aplay takes every encoding as it is; ALSA converts it for the device, exactly."""
    fake.plan = AudioPlan(audio_seconds=0.3)
    rendered = tmp_path / "rendered.wav"
    env = alsa_file_device(tmp_path, rendered)
    result = cli("say", HELLO, "-e", encoding.value, "-r", str(rate), "--player", "aplay", env=env)
    assert result.code == 0, result.stderr
    wav = read_wav(rendered)
    assert (wav.tag, wav.bits, wav.rate) == (1, 32, rate)
    sent = bytes(fake.transmissions[-1].audio)
    assert_same_samples(as_floats(wav), decoded(sent, encoding), tolerance=LSB / 2**16)


@installed("play")
@pytest.mark.parametrize(("encoding", "rate"), EVERY_FORMAT)
def test_sox_play_renders_every_sample_sent(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: Encoding, rate: int
) -> None:
    """sox decodes the stream and hands ALSA the samples, converted to the device's s32."""
    fake.plan = AudioPlan(audio_seconds=0.3)
    rendered = tmp_path / "rendered.wav"
    env = alsa_file_device(tmp_path, rendered)
    result = cli("tts", "sse", HELLO, "-e", encoding.value, "-r", str(rate), "--play",
                 "--player", "play", env=env)  # fmt: skip
    assert result.code == 0, result.stderr
    wav = read_wav(rendered)
    assert wav.rate == rate
    fed, as_encoding = fed_bytes(fake, encoding, "play")
    assert_same_samples(as_floats(wav), decoded(fed, as_encoding), tolerance=LSB)


# --- paplay: a private PulseAudio server ------------------------------------------------------

_PULSE_FORMAT = {F32: "float32le", S16: "s16le", MULAW: "ulaw", ALAW: "alaw"}
_WIDTH = {F32: 4, S16: 2, MULAW: 1, ALAW: 1}


def sink_name(encoding: Encoding, rate: int) -> str:
    return f"rec_{_PULSE_FORMAT[encoding]}_{rate}"


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A PulseAudio server of our own, with a null sink for each format; its clients' env."""
    if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
        pytest.skip("pulseaudio (server) or parec not installed")
    folder = tmp_path_factory.mktemp("pulse")
    socket = folder / "native"
    sinks = [
        f"--load=module-null-sink sink_name={sink_name(e, r)} format={_PULSE_FORMAT[e]} "
        f"rate={r} channels=1"
        for e, r in EVERY_FORMAT
    ]
    own = {"HOME": str(folder), "PULSE_RUNTIME_PATH": str(folder), "PULSE_STATE_PATH": str(folder)}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
         f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}", *sinks],
        env={**os.environ, **own}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    clients = {"PULSE_SERVER": f"unix:{socket}", "PULSE_RUNTIME_PATH": str(folder)}
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.poll() is None:
            probe = subprocess.run(
                ["pactl", "list", "short", "sinks"], env={**os.environ, **clients},
                capture_output=True, text=True,
            )  # fmt: skip
            if probe.returncode == 0 and probe.stdout.count("\n") == len(EVERY_FORMAT):
                break
            time.sleep(0.05)  # polling the server's start-up, bounded by the deadline
        else:
            pytest.skip(f"a private PulseAudio server did not start: {server.stderr.read(500)!r}")  # type: ignore[union-attr]
        yield clients
    finally:
        server.terminate()
        server.wait(timeout=5)
        server.stderr.close()  # type: ignore[union-attr]


def blocks_found(recorded: bytes, sent: bytes, width: int, samples: int = 8) -> tuple[int, int]:
    """Of the recording's sounding blocks of `samples` samples, how many are in what was sent."""
    size = width * samples
    known = {sent[i : i + size] for i in range(0, len(sent) - size + 1, width)}
    sounding = [
        recorded[i : i + size]
        for i in range(0, len(recorded) - size + 1, size)
        if len({recorded[i + j : i + j + width] for j in range(0, size, width)}) > 1
    ]
    return sum(block in known for block in sounding), len(sounding)


@installed("paplay")
@pytest.mark.parametrize(("encoding", "rate"), [*((e, 8000) for e in Encoding), (S16, 24000)])
def test_paplay_plays_what_was_sent_through_a_pulseaudio_server(
    cli: RunCli, fake: FakeCartesia, pulse: dict[str, str], tmp_path: Path,
    encoding: Encoding, rate: int,
) -> None:  # fmt: skip
    """The sink has the stream's format and rate: what it plays is what paplay was given.

    Most blocks of the recording are blocks of the audio sent, in the format sent: a
    wrong --format or --rate would match none. Not all: the server runs in real time,
    and on a loaded machine drops or re-renders a block now and then. Each run takes
    real time (paplay starts late on a pipe fed in pieces: measured, 0.3-0.7 s), so
    24 kHz is rendered for one encoding only.
    """
    fake.plan = AudioPlan(audio_seconds=0.3)
    sink = sink_name(encoding, rate)
    recording = tmp_path / "recorded.raw"
    env = {**os.environ, **pulse}
    with recording.open("wb") as out:
        recorder = subprocess.Popen(
            ["parec", f"--device={sink}.monitor", "--raw", f"--format={_PULSE_FORMAT[encoding]}",
             f"--rate={rate}", "--channels=1"],
            env=env, stdout=out, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            result = cli("say", HELLO, "-e", encoding.value, "-r", str(rate), "--player",
                         "paplay", env={**pulse, "PULSE_SINK": sink})  # fmt: skip
            assert result.code == 0, result.stderr
            sent = bytes(fake.transmissions[-1].audio)
            expected = blocks_found(sent, sent, _WIDTH[encoding])[1]
            # paplay drained its stream before it exited: wait (bounded) for the monitor's
            # recording to catch up, as the server passes it on in real time.
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                found, sounding = blocks_found(recording.read_bytes(), sent, _WIDTH[encoding])
                if sounding >= expected:
                    break
                time.sleep(0.02)
        finally:
            recorder.terminate()
            recorder.wait(timeout=5)
    found, sounding = blocks_found(recording.read_bytes(), sent, _WIDTH[encoding])
    assert sounding >= expected * 0.7, (sounding, expected)
    assert found >= sounding * 0.5, (found, sounding)
