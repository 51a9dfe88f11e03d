"""Players: every player's command line, what the real ones render, honest failures, pace.

Every player's argument vector is tested (each flag is the one its manual
names for raw PCM of that encoding and rate). ffplay renders into SDL's disk
driver here, and what it rendered is compared with what the server sent; the
in-process player renders into miniaudio's null backend. mpv, aplay, sox's
`play` and paplay are rendered in test_player_render.py; pw-play and afplay
are tested by argument vector only.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path

import pytest

from cartesia_cli.formats import Container, Encoding, OutputFormat, RequestedFormat
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.output import pcm16, player, players
from cartesia_cli.output.play_buffer import PlayBuffer

from .conftest import RunCli, stand_in

HELLO = "Hello, world!"


def raw(encoding: Encoding, rate: int = 24000) -> OutputFormat:
    return OutputFormat(Container.RAW, RequestedFormat(Container.RAW, encoding, rate))


# --- argument vectors ------------------------------------------------------------------------

F32, S16, MULAW, ALAW = (
    Encoding.PCM_F32LE,
    Encoding.PCM_S16LE,
    Encoding.PCM_MULAW,
    Encoding.PCM_ALAW,
)
PIPE_ARGV = {
    ("mpv", F32): ["mpv", "--no-video", "--msg-level=all=error", "--input-terminal=no",
                   "--cache=no", "--demuxer-readahead-secs=0", "--demuxer=rawaudio",
                   "--demuxer-rawaudio-format=floatle", "--demuxer-rawaudio-rate=24000",
                   "--demuxer-rawaudio-channels=1", "-"],
    ("mpv", MULAW): ["mpv", "--no-video", "--msg-level=all=error", "--input-terminal=no",
                     "--cache=no", "--demuxer-readahead-secs=0", "--demuxer=rawaudio",
                     "--demuxer-rawaudio-format=s16le", "--demuxer-rawaudio-rate=24000",
                     "--demuxer-rawaudio-channels=1", "-"],
    ("paplay", ALAW): ["paplay", "--latency-msec=20", "--raw", "--format=alaw", "--rate=24000",
                       "--channels=1"],
    ("pw-play", S16): ["pw-play", "--format", "s16", "--rate", "24000", "--channels", "1", "-"],
    ("pw-play", ALAW): ["pw-play", "--format", "s16", "--rate", "24000", "--channels", "1", "-"],
    ("aplay", F32): ["aplay", "-q", "-t", "raw", "-f", "FLOAT_LE", "-r", "24000", "-c", "1", "-"],
    ("aplay", MULAW): ["aplay", "-q", "-t", "raw", "-f", "MU_LAW", "-r", "24000", "-c", "1", "-"],
    ("play", F32): ["play", "-q", "-V1", "-t", "raw", "-e", "floating-point", "-b", "32",
                    "-r", "24000", "-c", "1", "-"],
    ("play", ALAW): ["play", "-q", "-V1", "-t", "raw", "-e", "a-law", "-b", "8", "-r", "24000",
                     "-c", "1", "-"],
    ("ffplay", MULAW): ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "-probesize",
                        "32", "-analyzeduration", "0", "-f", "mulaw", "-ar", "24000", "-i", "-"],
}  # fmt: skip


@pytest.mark.parametrize(("name", "encoding"), list(PIPE_ARGV))
def test_each_player_gets_the_flags_for_raw_pcm_on_a_pipe(name: str, encoding: Encoding) -> None:
    kind = next(k for k in players.EXTERNAL if k.name == name)
    assert kind.argv(raw(encoding), None) == PIPE_ARGV[name, encoding]


def test_players_that_cannot_read_companded_pcm_are_fed_s16le() -> None:
    """mpv and pw-play read no μ-law/A-law: the pipe carries 16-bit PCM made here."""
    widened = [k.name for k in players.EXTERNAL if k.reads_stdin and k.fed(MULAW) is S16]
    assert widened == ["mpv", "pw-play"]


def test_afplay_reads_files_only() -> None:
    wav = OutputFormat(Container.WAV, RequestedFormat(Container.RAW, F32, 24000))
    assert players.AFPLAY.argv(wav, "out.wav") == ["afplay", "out.wav"]
    assert not players.AFPLAY.takes(wav, None) and not players.AFPLAY.takes(raw(F32), "x.pcm")


def test_file_hints_take_the_file_as_it_is() -> None:
    assert players.APLAY.argv(raw(ALAW, 8000), "a b.pcm") == [
        "aplay", "-q", "-t", "raw", "-f", "A_LAW", "-r", "8000", "-c", "1", "a b.pcm"
    ]  # fmt: skip
    assert not players.MPV.takes(raw(ALAW), "x.pcm")  # mpv has no A-law demuxer format


@pytest.mark.parametrize("encoding", [MULAW, ALAW])
def test_widening_matches_ffmpegs_decoder(encoding: Encoding) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    codes = bytes(range(256))
    fmt = encoding.ffmpeg_format
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", fmt, "-ar", "8000", "-i", "-", "-f", "s16le", "-"],
        input=codes, capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert pcm16.widen(encoding, codes) == decoded


def test_the_hint_names_the_player_auto_would_pick(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    folder = stand_in(tmp_path / "bin", "aplay", "#!/bin/sh\nexit 0\n")
    env = {"PATH": str(folder), "CARTESIA_PLAYER": "auto"}
    result = cli("tts", "sse", HELLO, "-o", "out.pcm", env=env)
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "play it: aplay -q -t raw -f FLOAT_LE -r 44100 -c 1 out.pcm"
    )


def test_no_hint_follows_audio_piped_to_stdout(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", HELLO, "-o", "-")
    assert result.code == 0 and "play it" not in result.stderr


# --- the buffer between network and player ----------------------------------------------------


def test_the_buffer_spills_to_a_file_and_gives_everything_back_in_order() -> None:
    buffer = PlayBuffer(memory_limit=10)
    pieces = [bytes([n]) * 7 for n in range(20)]
    for piece in pieces[:10]:
        buffer.put(piece)
    assert buffer.spilled
    taken = bytearray()
    while len(taken) < 35:
        taken += buffer.take(3) or b""
    for piece in pieces[10:]:
        buffer.put(piece)
    buffer.close()
    while chunk := buffer.take(5):
        taken += chunk
    assert bytes(taken) == b"".join(pieces)
    buffer.release()


# --- honest playback -----------------------------------------------------------------------

# What ffplay 5 (-loglevel error) prints on a machine with no sound card, then exits 0
# (`ffplay -nodisp -autoexit -loglevel error -f s16le -ar 8000 -i pipe:`): ALSA's chatter,
# ffplay's own line, and a last line that blames its input.
NO_SOUND_CARD = (
    "ALSA lib confmisc.c:855:(parse_card) cannot find card '0'\n"
    "ALSA lib conf.c:5180:(_snd_config_evaluate) function snd_func_card_inum returned error:"
    " No such file or directory\n"
    "ALSA lib confmisc.c:422:(snd_func_concat) error evaluating strings\n"
    "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default\n"
    "No more combinations to try, audio open failed\n"
    "Failed to open file 'pipe:' or configure filtergraph\n"
)
# ... and when SDL's audio does not start at all (SDL_AUDIODRIVER=nonexistent), exit 1.
NO_SDL_AUDIO = (
    "Could not initialize SDL - Audio target 'nonexistent' not available\n"
    "(Did you set the DISPLAY variable?)\n"
)
QUITTER = f"""#!{sys.executable}
import sys
sys.stderr.write({NO_SOUND_CARD!r})
"""  # exits 0 at once, reading nothing: ffplay without an audio device does so
READER = f"""#!{sys.executable}
import os, time
while os.read(0, 1 << 16):
    time.sleep(0.15)  # a player that plays at its own pace: slower than the network
"""


def test_a_player_that_quits_at_once_fails_the_run_and_closes_the_stream(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.pace = 1.0  # the speech would take 3 s to arrive
    fake.plan = AudioPlan(audio_seconds=3.0)
    folder = stand_in(tmp_path / "bin", "ffplay", QUITTER)
    started = time.monotonic()
    result = cli("say", HELLO, env={"PATH": f"{folder}:/usr/bin:/bin"})
    assert time.monotonic() - started < 1.5
    assert result.code == 7, result.stderr
    assert result.stderr == (
        "cartesia-cli: error: ffplay could not open an audio device (ALSA: Unknown PCM default)\n"
    )
    deadline = time.monotonic() + 2
    while not fake.transmissions[-1].client_gone and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.transmissions[-1].client_gone and not fake.transmissions[-1].finished


def test_with_a_file_a_player_that_quits_is_a_warning_and_the_file_gets_every_byte(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    folder = stand_in(tmp_path / "bin", "ffplay", QUITTER)
    result = cli("say", HELLO, "-o", "out.pcm", env={"PATH": f"{folder}:/usr/bin:/bin"})
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    assert result.stderr.startswith(
        "cartesia-cli: warning: ffplay could not open an audio device (ALSA: Unknown PCM default)\n"
    )


def test_a_player_whose_sdl_audio_does_not_start_says_so(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    script = f"#!{sys.executable}\nimport sys\nsys.stderr.write({NO_SDL_AUDIO!r})\nsys.exit(1)\n"
    folder = stand_in(tmp_path / "bin", "ffplay", script)
    result = cli("say", HELLO, env={"PATH": f"{folder}:/usr/bin:/bin"})
    assert result.code == 7
    assert result.stderr == (
        "cartesia-cli: error: ffplay could not open an audio device"
        " (SDL: Audio target 'nonexistent' not available)\n"
    )


# ffplay as it behaves with no audio device when the audio fits in its pipe: it takes all
# of it, says its device failed, and exits 0 later than the (short) audio would have lasted.
LATE_QUITTER = f"""#!{sys.executable}
import os, sys, time
while os.read(0, 1 << 16):
    pass
time.sleep(0.4)
sys.stderr.write({NO_SOUND_CARD!r})
"""


def test_say_short_utterance_with_failed_player_is_not_reported_as_played(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    """A device that did not open is a failure whatever the timing: the audio (0.1 s) is
    over before the player ends, so only its lines tell that nothing was heard."""
    fake.plan = AudioPlan(audio_seconds=0.1)
    folder = stand_in(tmp_path / "bin", "ffplay", LATE_QUITTER)
    result = cli("say", "OK", env={"PATH": f"{folder}:/usr/bin:/bin"})
    assert result.code == 7, result.stderr
    assert "played:" not in result.stderr
    assert result.stderr == (
        "cartesia-cli: error: ffplay could not open an audio device (ALSA: Unknown PCM default)\n"
    )


@pytest.mark.skipif(shutil.which("ffplay") is None, reason="ffplay (ffmpeg) not installed")
@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({"SDL_AUDIODRIVER": "alsa", "ALSA_CONFIG_PATH": "/nonexistent"}, "(ALSA: "),
        ({"SDL_AUDIODRIVER": "nonexistent"}, "(SDL: Audio target 'nonexistent' not available)"),
    ],
)
def test_the_real_ffplay_without_a_device_fails_a_short_say(
    cli: RunCli, fake: FakeCartesia, environ: dict[str, str], reason: str
) -> None:
    """The real ffplay: ALSA that cannot open a device (ffplay exits 0), SDL with no driver."""
    fake.plan = AudioPlan(audio_seconds=0.1)
    result = cli("say", "hi", "--player", "ffplay", env=environ)
    assert result.code == 7, result.stderr
    assert result.stderr.startswith("cartesia-cli: error: ffplay could not open an audio device ")
    assert reason in result.stderr and "played:" not in result.stderr


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        (NO_SOUND_CARD, "ALSA: Unknown PCM default"),
        (NO_SDL_AUDIO, "SDL: Audio target 'nonexistent' not available"),
        # at -loglevel warning ffplay also names SDL's reason, the most telling line
        ("SDL_OpenAudio (1 channels, 8000 Hz): ALSA: Couldn't open audio device: No such file\n"
         + NO_SOUND_CARD, "ALSA: Couldn't open audio device: No such file"),
        ("audio open failed\nFailed to open file 'pipe:'\n", "audio open failed"),
        ("Failed to open file 'pipe:' or configure filtergraph\n", None),  # not the device
        ("mpv: pretend failure\n", None),
        ("", None),
    ],
)  # fmt: skip
def test_the_device_that_would_not_open_is_told_from_the_players_lines(
    said: str, reason: str | None
) -> None:
    assert player.device_trouble(said.splitlines()) == reason


@pytest.mark.skipif(shutil.which("ffplay") is None, reason="ffplay (ffmpeg) not installed")
def test_the_real_ffplay_without_sdl_audio_is_told() -> None:
    done = subprocess.run(
        ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "-f", "s16le", "-ar", "8000",
         "-i", "pipe:"],
        input=bytes(1600), capture_output=True, timeout=30, check=False,
        env={"PATH": "/usr/bin:/bin", "SDL_AUDIODRIVER": "nonexistent"},
    )  # fmt: skip
    lines = done.stderr.decode("utf-8", "replace").splitlines()
    assert player.device_trouble(lines) == "SDL: Audio target 'nonexistent' not available"


def test_a_slow_player_does_not_hold_the_servers_stream_open(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    """The stream is read at the network's pace: it is over long before the player is.

    The summary's total is the stream's time, from the request to its end (when the
    connection is closed); the run lasts until the player has played it all.
    """
    fake.plan = AudioPlan(audio_seconds=2.0)  # 350 KB: the player needs ~6 reads, ~0.9 s
    folder = stand_in(tmp_path / "bin", "ffplay", READER)
    started = time.monotonic()
    result = cli("say", HELLO, env={"PATH": f"{folder}:/usr/bin:/bin"})
    run = time.monotonic() - started
    assert result.code == 0, result.stderr
    match = re.search(r"total (\d+) ms", result.stderr)
    assert match is not None, result.stderr
    assert int(match[1]) / 1000 < run / 3, (match[1], run)  # unbuffered, it was over 1/2
    flushes = fake.transmissions[-1].flushes
    assert flushes[-1][1] - flushes[0][1] < 0.25  # the server sent it all at once


# --- what the real players render -----------------------------------------------------------


def s16(data: bytes, encoding: Encoding, rate: int) -> list[int]:
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", encoding.ffmpeg_format, "-ar", str(rate), "-i", "-",
         "-f", "s16le", "-"],
        input=data, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return list(struct.unpack(f"<{len(decoded) // 2}h", decoded))


def trimmed(samples: list[int]) -> list[int]:
    """Without the silence around the sound (a device plays silence before and after)."""
    loud = [i for i, x in enumerate(samples) if abs(x) > 2]
    return samples[loud[0] : loud[-1] + 1] if loud else []


@pytest.mark.skipif(shutil.which("ffplay") is None, reason="ffplay (ffmpeg) not installed")
@pytest.mark.parametrize("encoding", list(Encoding))
@pytest.mark.parametrize("rate", [8000, 24000])
def test_ffplay_renders_exactly_what_was_sent(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, encoding: Encoding, rate: int
) -> None:
    """SDL's disk driver writes what ffplay hands the sound card: it is every sample sent."""
    fake.plan = AudioPlan(audio_seconds=0.5)
    rendered = tmp_path / "rendered.s16"
    env = {"SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": str(rendered), "SDL_DISKAUDIODELAY": "0"}
    result = cli("say", HELLO, "-e", encoding.value, "-r", str(rate), env=env)
    assert result.code == 0, result.stderr
    data = rendered.read_bytes()
    played = trimmed(list(struct.unpack(f"<{len(data) // 2}h", data)))
    sent = trimmed(s16(bytes(fake.transmissions[-1].audio), encoding, rate))
    assert len(played) == len(sent) > rate // 4
    assert max(abs(a - b) for a, b in zip(played, sent, strict=True)) <= 1


@pytest.fixture
def null_device(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The in-process player on miniaudio's null backend; what its callback played, kept."""
    pytest.importorskip("miniaudio")
    from cartesia_cli.output import player_inprocess

    monkeypatch.setattr(player_inprocess, "BACKENDS", ["NULL"])
    played: list[bytes] = []
    frames = player_inprocess.InProcessPlayer._frames

    def recording(self: player_inprocess.InProcessPlayer) -> Generator[bytes, int, None]:
        generator = frames(self)
        wanted: int = yield next(generator)
        while True:
            chunk = generator.send(wanted)
            played.append(chunk)
            wanted = yield chunk

    monkeypatch.setattr(player_inprocess.InProcessPlayer, "_frames", recording)
    return played


@pytest.mark.parametrize("encoding", list(Encoding))
def test_the_in_process_player_plays_every_sample(
    cli: RunCli, fake: FakeCartesia, null_device: list[bytes], encoding: Encoding
) -> None:
    fake.plan = AudioPlan(audio_seconds=0.3)
    result = cli("say", HELLO, "-e", encoding.value, "-r", "16000", env={"CARTESIA_PLAYER": "auto"})
    assert result.code == 0, result.stderr
    assert result.stderr.startswith("played: 0.30 s of audio")
    sent = bytes(fake.transmissions[-1].audio)
    expected = sent if encoding in (F32, S16) else pcm16.widen(encoding, sent)
    assert b"".join(null_device) == expected


def test_the_in_process_player_without_a_device_fails_before_any_request(
    cli: RunCli, fake: FakeCartesia, monkeypatch: pytest.MonkeyPatch
) -> None:
    miniaudio = pytest.importorskip("miniaudio")
    from cartesia_cli.output import player_inprocess

    def no_device(**_: object) -> None:
        raise miniaudio.MiniaudioError("failed to init device", -401)

    monkeypatch.setattr(miniaudio, "PlaybackDevice", no_device)
    result = cli("say", HELLO, "--player", "miniaudio")
    assert result.code == 7 and fake.requests == []
    assert result.stderr.startswith(
        f"cartesia-cli: error: {player_inprocess.NAME} could not open an audio device"
        " (failed to init device); -o FILE keeps the audio"
    )


def test_the_in_process_player_without_a_device_gives_alsas_reason_in_plain_words(
    cli: RunCli, fake: FakeCartesia, monkeypatch: pytest.MonkeyPatch
) -> None:
    miniaudio = pytest.importorskip("miniaudio")

    def no_device(**_: object) -> None:
        os.write(2, b"ALSA lib confmisc.c:165:(snd_config_get_card) Cannot get card index for 0\n")
        raise miniaudio.MiniaudioError("failed to init device", -401)

    monkeypatch.setattr(miniaudio, "PlaybackDevice", no_device)
    result = cli("say", HELLO, "--player", "miniaudio")
    assert result.code == 7 and fake.requests == []
    assert result.stderr == (
        "cartesia-cli: error: miniaudio could not open an audio device"
        " (ALSA: Cannot get card index for 0); -o FILE keeps the audio;"
        " --player NAME picks another player\n"
    )


def test_an_unknown_player_is_refused_wherever_it_was_set(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("say", HELLO, env={"CARTESIA_PLAYER": "vlc"})
    assert result.code == 2 and fake.requests == []
    assert result.stderr.startswith(
        "cartesia-cli: error: CARTESIA_PLAYER must be one of auto, miniaudio, ffplay, mpv,"
    )


def test_the_config_files_player_names_the_hints_player(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    assert cli("config", "set", "player", "aplay").code == 0
    env = {"CARTESIA_PLAYER": "", "PATH": "/nonexistent"}
    result = cli("tts", "sse", HELLO, "-o", "out.pcm", env=env)
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines()[-1].startswith("play it: aplay -q -t raw -f FLOAT_LE")
