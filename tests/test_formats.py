"""A file named .mp3 is an MP3: the output's name picks its container, on every command.

What the API is asked for and what is written are apart: the streaming
endpoints send raw PCM, /tts/bytes also WAV and MP3; anything else is made
here, a WAV framed, an MP3, FLAC or Ogg Opus encoded by ffmpeg as the audio
arrives. Raw and WAV are compared byte for byte with what the fake sent;
encoded files are decoded and compared with the fake's PCM put through the
same encoder, FLAC (lossless) with the PCM itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import UsageError
from cartesia_cli.formats import SUFFIXES as SUFFIX_TABLE
from cartesia_cli.formats import Container, Encoding, OutputFormat, RequestedFormat
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.output import encoder, flac

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, stand_in
from .test_play import env_for, player, recorded
from .test_signals import wait_for

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg not installed")
__all__ = ["player"]  # the stand-in ffplay fixture, for say

TEXT = "Hello there. How are you?"
FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
MADE_HERE = {".mp3": Container.MP3, ".flac": Container.FLAC, ".ogg": Container.OGG}
SUFFIXES = (".wav", ".mp3", ".pcm", ".raw", ".flac", ".ogg", ".opus")
COMMANDS = (("tts", "sse"), ("tts", "bytes"), ("tts", "ws"))


def probe(path: Path) -> tuple[str, int, float]:
    """ffprobe's codec, sample rate and duration of the file's audio."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate:format=duration",
         "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    doc = json.loads(out)
    stream = doc["streams"][0]
    return stream["codec_name"], int(stream["sample_rate"]), float(doc["format"]["duration"])


def decoded(data: bytes) -> bytes:
    """Any audio file's samples as mono s16le, as ffmpeg decodes them."""
    return subprocess.run(
        [FFMPEG, "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "pipe:1"],
        input=data, capture_output=True, check=True,
    ).stdout  # fmt: skip


def encoded_like_the_cli(pcm: bytes, audio: OutputFormat) -> bytes:
    """`pcm` put through the encoder the CLI runs for `audio`, in one piece."""
    return subprocess.run(
        encoder.command(FFMPEG, audio), input=pcm, capture_output=True, check=True
    ).stdout


def made(container: Container, encoding: str = "pcm_f32le", rate: int = 44100) -> OutputFormat:
    received = RequestedFormat(Container.RAW, Encoding(encoding), rate)
    return OutputFormat(container, received, 128000 if container is Container.MP3 else None)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_suffix_on_every_command_writes_that_container(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, command: tuple[str, ...], suffix: str
) -> None:
    name = "out" + suffix
    server_mp3 = command[1] == "bytes" and suffix == ".mp3"  # made there: no encoding to ask
    encoding = () if server_mp3 else ("-e", "pcm_s16le")
    result = cli(*command, "Hi there.", *encoding, "-r", "16000", "-o", name)
    assert result.code == 0, result.stderr
    data = (tmp_path / name).read_bytes()
    sent = bytes(fake.transmissions[-1].audio)
    if command[1] == "bytes" and suffix in (".wav", ".mp3"):
        assert data == sent  # the server's own file, as it came
        return
    seconds = len(sent) / 2 / 16000  # the PCM sent, which every other file is made of
    # An MP3 is timed by its frames, as ffprobe times it: the encoder's delay and padding too.
    said = probe(tmp_path / name)[2] if suffix == ".mp3" else seconds
    assert f"wrote {name}: {said:.2f} s of audio, {len(data)} bytes" in result.stderr
    if suffix in (".pcm", ".raw"):
        assert data == sent
    elif suffix == ".wav":
        assert data[:4] == b"RIFF" and data[44:] == sent
        codec, rate, duration = probe(tmp_path / name)
        assert (codec, rate, round(duration, 6)) == ("pcm_s16le", 16000, round(seconds, 6))
    elif suffix == ".flac":
        assert decoded(data) == sent  # lossless: the very samples sent
        # The streamed header's length, patched: exact, as a WAV's.
        codec, rate, duration = probe(tmp_path / name)
        assert (codec, rate, round(duration, 6)) == ("flac", 16000, round(seconds, 6))
    else:
        audio = made(MADE_HERE.get(suffix, Container.OGG), "pcm_s16le", 16000)
        assert decoded(data) == decoded(encoded_like_the_cli(sent, audio))
        codec, rate, duration = probe(tmp_path / name)
        assert (codec, rate) == (("mp3", 16000) if suffix == ".mp3" else ("opus", 48000))
        # An encoder's delay and padding: at most two MP3 frames of 1152 samples.
        assert duration == pytest.approx(seconds, abs=2 * 1152 / 16000)


@pytest.mark.parametrize(
    ("suffix", "asked"),
    [(".wav", "wav"), (".mp3", "mp3"), (".pcm", "raw"), (".flac", "raw"), (".opus", "raw")],
)
def test_tts_bytes_asks_the_server_for_what_it_makes_and_raw_pcm_for_the_rest(
    cli: RunCli, fake: FakeCartesia, suffix: str, asked: str
) -> None:
    assert cli("tts", "bytes", "Hi", "-o", "x" + suffix).code == 0
    assert fake.requests[-1].json()["output_format"]["container"] == asked


@pytest.mark.parametrize("command", [*COMMANDS, ("say",)], ids=" ".join)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-o", "x.mp3", "--container", "wav"),
         "-o x.mp3 asks for mp3 by its name, --container for wav: drop --container"),
        (("-o", "x.OPUS", "--container", "raw"), "-o x.OPUS asks for ogg by its name"),
        (("-o", "x.m4a"), "x.m4a: cannot write a .m4a file; the name's suffix picks the "
                          "container: .pcm, .raw, .wav, .mp3, .flac, .ogg, .opus"),
        (("-o", "notes.txt", "--container", "raw"), "cannot write a .txt file"),
    ],
)  # fmt: skip
def test_a_name_that_disagrees_or_that_no_container_has_is_refused_before_any_request(
    cli: RunCli,
    fake: FakeCartesia,
    tmp_path: Path,
    player: Path,
    command: tuple[str, ...],
    args: tuple[str, ...],
    message: str,
) -> None:
    result = cli(*command, "Hi", *args, env=env_for(player))
    assert result.code == 2
    assert message in result.stderr
    assert fake.requests == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]  # nothing claimed


def test_names_that_say_nothing_keep_the_flag_or_the_default(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    assert cli("tts", "sse", "Hi", "-o", "noext", "--container", "flac").code == 0
    assert (tmp_path / "noext").read_bytes()[:4] == b"fLaC"
    assert cli("tts", "sse", "Hi", "-o", "plain").code == 0
    assert (tmp_path / "plain").read_bytes() == bytes(fake.transmissions[-1].audio)  # raw
    out = cli("tts", "sse", "Hi", "-o", "-", "--container", "mp3", "-q")
    assert out.code == 0 and probe_bytes(out.stdout)[0] == "mp3"
    assert cli("tts", "sse", "Hi", "-o", "/dev/null", "--container", "mp3").code == 0
    (tmp_path / "d.wav").mkdir()  # a directory named like a file: a new file in it
    assert cli("tts", "sse", "Hi", "-o", "d.wav", "--container", "ogg").code == 0
    assert [p.suffix for p in (tmp_path / "d.wav").iterdir()] == [".ogg"]


def probe_bytes(data: bytes) -> tuple[str, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate", "-of",
         "json", "-"], input=data, capture_output=True, check=True,
    ).stdout  # fmt: skip
    stream = json.loads(out)["streams"][0]
    return stream["codec_name"], int(stream["sample_rate"])


def test_container_is_a_config_key_and_a_suffix_still_wins(cli: RunCli, tmp_path: Path) -> None:
    assert cli("config", "set", "container", "flac").code == 0
    assert cli("tts", "sse", "Hi", "-q").code == 0
    assert len(list(tmp_path.glob("tts_sse_*.flac"))) == 1
    assert cli("tts", "sse", "Hi", "-o", "x.wav", "-q").code == 0  # a config is no flag
    assert (tmp_path / "x.wav").read_bytes()[:4] == b"RIFF"
    assert cli("config", "set", "container", "aiff").code == 2


@pytest.mark.parametrize("command", [("tts", "sse"), ("tts", "bytes"), ("say",)], ids=" ".join)
def test_without_ffmpeg_an_encoded_file_is_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, player: Path, command: tuple[str, ...]
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(player / "ffplay", bare / "ffplay")  # say's player is there; ffmpeg is not
    env = {"PATH": str(bare), "PLAYER_RECORD": str(bare / "rec")}
    result = cli(*command, "Hi", "-o", "x.flac", env=env)
    assert result.code == 2
    assert "writing flac needs ffmpeg, which is not on PATH; install ffmpeg" in result.stderr
    assert fake.requests == [] and not (tmp_path / "x.flac").exists()
    assert cli(*command, "Hi", "-o", "x.wav", env=env).code == 0  # a WAV needs no encoder


def test_a_cut_stream_leaves_a_playable_mp3_of_what_arrived(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue("cut")
    result = cli("tts", "sse", TEXT, "-o", "x.mp3", "--retries", "0")
    assert result.code == 6
    data = (tmp_path / "x.mp3").read_bytes()
    sent = bytes(fake.transmissions[-1].audio)
    assert 0 < len(sent) < 4 * 44100 * 2
    assert decoded(data) == decoded(encoded_like_the_cli(sent, made(Container.MP3)))
    assert probe(tmp_path / "x.mp3")[:2] == ("mp3", 44100)
    seconds = probe(tmp_path / "x.mp3")[2]  # the file's frames, as ffprobe counts them
    assert f"partial audio kept: x.mp3 ({len(data)} bytes, {seconds:.2f} s)" in result.stderr


def test_json_counts_the_file_and_the_seconds_received(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("tts", "sse", TEXT, "-o", "x.ogg", "--json")
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    sent = len(fake.transmissions[-1].audio)
    assert (doc["output"], doc["container"], doc["encoding"]) == ("x.ogg", "ogg", "pcm_f32le")
    assert doc["bytes"] == (tmp_path / "x.ogg").stat().st_size
    assert doc["audio_seconds"] == round(sent / 4 / 44100, 3)


def test_timestamps_with_an_mp3(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    result = cli("tts", "sse", TEXT, "-o", "out.mp3", "--timestamps", "out.srt")
    assert result.code == 0, result.stderr
    assert probe(tmp_path / "out.mp3")[0] == "mp3"
    assert "Hello there." in (tmp_path / "out.srt").read_text()
    assert fake.requests[-1].json()["add_timestamps"] is True


def test_ws_timestamps_with_a_flac(cli: RunCli, tmp_path: Path) -> None:
    result = cli("tts", "ws", TEXT, "-o", "out.flac", "--timestamps", "out.vtt")
    assert result.code == 0, result.stderr
    assert probe(tmp_path / "out.flac")[0] == "flac"
    assert (tmp_path / "out.vtt").read_text().startswith("WEBVTT")


@pytest.mark.parametrize(
    ("suffix", "first"), [(".wav", b"RIFF"), (".mp3", None), (".flac", b"fLaC")]
)
def test_say_writes_the_container_its_name_asks_for_and_plays_the_pcm(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, player: Path, suffix: str, first: bytes | None
) -> None:
    result = cli("say", "Hi", "there", "-o", "said" + suffix, env=env_for(player))
    assert result.code == 0, result.stderr
    data = (tmp_path / ("said" + suffix)).read_bytes()
    sent = bytes(fake.transmissions[-1].audio)
    args, fed = recorded(player)
    if suffix == ".wav":
        assert data[:4] == b"RIFF" and data.endswith(sent) and fed.endswith(sent)
    else:
        assert fed == sent and args[-6:-2] == ["-f", "f32le", "-ar", "44100"]  # the PCM, as it came
        assert probe(tmp_path / ("said" + suffix))[0] == suffix[1:]
    assert first is None or data.startswith(first)
    assert "play it" not in result.stderr  # heard already


def test_play_with_an_ogg_from_tts_bytes_feeds_the_player_pcm_and_writes_the_ogg(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, player: Path
) -> None:
    result = cli("tts", "bytes", "Hi", "-o", "x.ogg", "--play", env=env_for(player))
    assert result.code == 0, result.stderr
    assert recorded(player)[1] == bytes(fake.transmissions[-1].audio)
    assert probe(tmp_path / "x.ogg")[0] == "opus"


def test_the_play_hint_plays_each_container_by_its_content(cli: RunCli) -> None:
    for name in ("a.mp3", "a.flac", "a.ogg"):
        result = cli("tts", "sse", "Hi", "-o", name)
        assert (
            result.stderr.splitlines()[-1]
            == f"play it: ffplay -nodisp -autoexit -loglevel error {name}"
        )


def test_batch_items_take_their_container_from_their_output(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    lines = [
        '{"transcript": "One.", "output": "one.flac"}',
        '{"transcript": "Two.", "output": "two.mp3", "container": "wav"}',
        '{"transcript": "Three.", "output": "three.ogg"}',
    ]
    result = cli("tts", "sse", "--batch", "-", input="\n".join(lines).encode())
    assert result.code == 2
    assert "line 2: -o two.mp3 asks for mp3 by its name, --container for wav" in result.stderr
    assert probe(tmp_path / "one.flac")[0] == "flac"
    assert probe(tmp_path / "three.ogg")[0] == "opus"
    assert not (tmp_path / "two.mp3").exists() and len(fake.requests) == 2


def test_an_encoder_that_fails_is_an_output_error_in_its_own_words(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    script = f"#!{sys.executable}\nimport sys\nsys.exit('Unknown encoder')\n"
    bin_dir = stand_in(tmp_path / "bin", "ffmpeg", script)
    result = cli("tts", "sse", TEXT, "-o", "x.mp3", env={"PATH": str(bin_dir)})
    assert result.code == 7
    assert "ffmpeg stopped encoding x.mp3 (exit 1): Unknown encoder" in result.stderr


def test_ctrl_c_mid_stream_into_an_mp3_leaves_a_valid_file_and_exits_130(tmp_path: Path) -> None:
    plan = AudioPlan(audio_seconds=3.0)
    with FakeCartesia(api_key=API_KEY, plan=plan, pace=1.0) as fake:
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
        with subprocess.Popen(
            [str(ENTRY_POINT), "tts", "sse", TEXT, "-o", "out.mp3"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=tmp_path, start_new_session=True,
        ) as proc:  # fmt: skip
            wait_for(lambda: bool(fake.transmissions) and len(fake.transmissions[-1].audio) > 44100)
            os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the whole group
            _, stderr = proc.communicate(timeout=10)
        sent = bytes(fake.transmissions[-1].audio)
    assert proc.returncode == 130, stderr
    data = (tmp_path / "out.mp3").read_bytes()
    codec, rate, seconds = probe(tmp_path / "out.mp3")
    assert (codec, rate) == ("mp3", 44100) and 0 < seconds < 3.0
    assert decoded(data)  # every frame decodes
    assert len(decoded(data)) <= len(decoded(encoded_like_the_cli(sent, made(Container.MP3))))
    text = stderr.decode()
    assert text.startswith(
        f"cartesia-cli: error: interrupted; partial audio kept: out.mp3 ({len(data)} bytes"
    )
    assert "Traceback" not in text


# -- the parts -----------------------------------------------------------------------


NAMES = st.text(st.characters(blacklist_characters="/\0.", blacklist_categories=["Cs"]), min_size=1)
KNOWN = st.sampled_from(list(SUFFIX_TABLE))


@given(NAMES, KNOWN | st.sampled_from([".m4a", ".txt", ".wav2", ".Mp4"]), st.booleans())
def test_a_name_picks_its_container_or_is_refused_naming_the_choices(
    stem: str, suffix: str, upper: bool
) -> None:
    from cartesia_cli.jobs.plan import container_named_by

    name = "no-such-dir-here/" + stem + (suffix.upper() if upper else suffix)
    if suffix in SUFFIX_TABLE:
        assert container_named_by(name) is SUFFIX_TABLE[suffix]
    else:
        with pytest.raises(UsageError, match=r"suffix picks the container: \.pcm, \.raw"):
            container_named_by(name)


@given(NAMES)
def test_names_without_a_suffix_say_nothing(stem: str) -> None:
    from cartesia_cli.jobs.plan import container_named_by

    assert container_named_by("no-such-dir-here/" + stem) is None
    assert container_named_by("no-such-dir-here/" + stem + ".") is None


@given(st.binary(min_size=26, max_size=64), st.integers(min_value=0, max_value=2**40))
def test_the_flac_total_changes_only_its_36_bits(head: bytes, samples: int) -> None:
    stream = b"fLaC\x00" + head[5:]
    patched = flac.with_total(stream, samples)
    assert patched is not None
    before = int.from_bytes(stream[18:26], "big")
    after = int.from_bytes(patched, "big")
    assert after >> 36 == before >> 36
    assert after & (2**36 - 1) == min(samples, 2**36 - 1)
    assert flac.with_total(b"RIFF" + head, samples) is None
