"""`--play` and `say`: ffplay fed each chunk on its stdin, a file only with -o.

A recording stand-in named `ffplay` on PATH keeps its arguments and every byte
it was fed, so the tests can compare them with what the server sent; one test
runs the real ffplay with SDL's dummy audio driver.
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

from cartesia_cli.formats import wav_data_offset
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.output import player as player_module
from cartesia_cli.output import players

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, stand_in

HELLO = "Hello, world!"
QUIET = ["-nodisp", "-autoexit", "-loglevel", "error"]
LIVE = ["-probesize", "32", "-analyzeduration", "0"]
RAW_ARGS = [*QUIET, *LIVE, "-f", "f32le", "-ar", "44100", "-i", "-"]
STAND_IN = f"""#!{sys.executable}
import json, os, sys, time
record = os.environ["PLAYER_RECORD"]
with open(record + ".args", "w") as f:
    json.dump(sys.argv[1:], f)
with open(record + ".pid", "w") as f:
    f.write(str(os.getpid()))
mode = os.environ.get("PLAYER_MODE", "")
if mode == "stubborn":  # ignores SIGTERM: only SIGKILL ends it
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode in ("stall", "stubborn"):  # hung: never reads its stdin
    time.sleep(1000)
data = bytearray()
while chunk := os.read(0, 65536):
    data += chunk
    if mode == "quit" and len(data) >= 100:
        sys.stderr.write("ffplay: pretend failure\\n")
        break
    if mode == "slow":
        time.sleep(0.2)
with open(record + ".audio", "wb") as f:
    f.write(data)
sys.exit(1 if mode == "quit" else 0)
"""


@pytest.fixture
def player(tmp_path: Path) -> Path:
    """A directory holding the stand-in `ffplay`; its recordings go next to it."""
    return stand_in(tmp_path / "bin", "ffplay", STAND_IN)


def env_for(player: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{player}:/usr/bin:/bin", "PLAYER_RECORD": str(player / "rec"), **extra}


def recorded(player: Path) -> tuple[list[str], bytes]:
    args = json.loads((player / "rec.args").read_text())
    return args, (player / "rec.audio").read_bytes()


def test_play_feeds_the_player_exactly_what_the_server_sent_and_writes_no_file(
    cli: RunCli, fake: FakeCartesia, player: Path, tmp_path: Path
) -> None:
    result = cli("tts", "sse", HELLO, "--play", env=env_for(player))
    assert result.code == 0, result.stderr
    args, fed = recorded(player)
    assert args == RAW_ARGS  # the player hint's flags, each its own argument
    assert fed == bytes(fake.transmissions[-1].audio)
    assert result.stderr.startswith("played: ") and "play it" not in result.stderr
    assert list(tmp_path.glob("*.pcm")) == []


def test_play_with_a_file_writes_both(
    cli: RunCli, fake: FakeCartesia, player: Path, tmp_path: Path
) -> None:
    result = cli("tts", "sse", HELLO, "--play", "-o", "out.pcm", env=env_for(player))
    assert result.code == 0, result.stderr
    sent = bytes(fake.transmissions[-1].audio)
    assert recorded(player)[1] == sent == (tmp_path / "out.pcm").read_bytes()
    assert result.stderr.startswith("wrote out.pcm: ")


def test_play_on_tts_bytes_feeds_the_servers_wav_samples_as_raw_pcm(
    cli: RunCli, fake: FakeCartesia, player: Path
) -> None:
    """A pipe carries raw PCM: the player is told the format, the WAV header is not sent."""
    result = cli("tts", "bytes", HELLO, "--play", env=env_for(player))
    assert result.code == 0, result.stderr
    args, fed = recorded(player)
    assert args == RAW_ARGS
    sent = bytes(fake.transmissions[-1].audio)
    assert sent[:4] == b"RIFF" and fed == sent[wav_data_offset(sent) :] and len(fed) > 0


def test_play_of_a_wav_made_here_feeds_the_samples(
    cli: RunCli, fake: FakeCartesia, player: Path
) -> None:
    result = cli("tts", "sse", HELLO, "--play", "--container", "wav", env=env_for(player))
    assert result.code == 0, result.stderr
    args, fed = recorded(player)
    assert args == RAW_ARGS
    assert fed == bytes(fake.transmissions[-1].audio)


def test_say_speaks_its_words_and_keeps_no_file(
    cli: RunCli, fake: FakeCartesia, player: Path, tmp_path: Path
) -> None:
    result = cli("say", "Hello", "there,", "world", env=env_for(player))
    assert result.code == 0, result.stderr
    assert fake.requests[-1].json()["transcript"] == "Hello there, world"
    assert recorded(player)[1] == bytes(fake.transmissions[-1].audio)
    assert list(tmp_path.iterdir()) == [player]  # nothing written but the stand-in's own


def test_say_speaks_piped_text_over_the_websocket(
    cli: RunCli, fake: FakeCartesia, player: Path
) -> None:
    """Piped text is spoken as it arrives (one WebSocket context), not after the pipe closes."""
    result = cli("say", "--speed", "1.2", env=env_for(player), input=b"from a pipe\n")
    assert result.code == 0, result.stderr
    assert fake.requests[-1].path.startswith("/tts/websocket")
    messages = [json.loads(m) for m in fake.transmissions[-1].messages]
    assert "".join(m.get("transcript", "") for m in messages).strip() == "from a pipe"
    assert messages[0]["generation_config"] == {"speed": 1.2}
    assert recorded(player)[1] == bytes(fake.transmissions[-1].audio)


def test_say_with_text_up_front_keeps_its_one_sse_request(
    cli: RunCli, fake: FakeCartesia, player: Path
) -> None:
    result = cli("say", "Hi", env=env_for(player), input=b"ignored\n")
    assert result.code == 0, result.stderr
    assert [r.path for r in fake.requests] == ["/tts/sse"]


def test_say_f_reads_a_file(cli: RunCli, fake: FakeCartesia, player: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Read from a file.\n")
    result = cli("say", "-f", "notes.txt", env=env_for(player))
    assert result.code == 0, result.stderr
    assert fake.requests[-1].json()["transcript"] == "Read from a file."


def test_say_f_of_a_missing_file_is_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia, player: Path
) -> None:
    result = cli("say", "-f", "missing.txt", env=env_for(player))
    assert result.code == 2
    assert result.stderr == (
        "cartesia-cli: error: cannot read -f missing.txt: No such file or directory\n"
    )
    assert fake.requests == []


def test_say_r_with_a_speaking_rate_points_to_speed(cli: RunCli, fake: FakeCartesia) -> None:
    """macOS say's -r is words per minute; ours is the sample rate: the refusal says so."""
    result = cli("say", "-r", "200", "Hello")
    assert result.code == 2 and fake.requests == []
    assert result.stderr.endswith(
        "got '200'; for words per minute (macOS say's -r), use --speed 0.6 to 1.5\n"
    )


@pytest.mark.parametrize("args", [("say", HELLO), ("tts", "sse", HELLO, "--play")])
def test_no_player_at_all_is_a_usage_error_naming_what_to_install(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(players, "in_process_available", lambda: False)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli(*args, env={"PATH": str(empty), "CARTESIA_PLAYER": "auto"})
    assert result.code == 2
    assert result.stderr == (
        "cartesia-cli: error: no audio player found for raw PCM (looked for miniaudio, ffplay,"
        " mpv, afplay, paplay, pw-play, aplay, play); install one: pip install"
        " 'cartesia-cli[play]' (or apt install ffmpeg, for ffplay; or mpv, pulseaudio-utils,"
        " alsa-utils)\n"
    )
    assert fake.requests == []


def test_a_named_player_not_on_path_is_a_usage_error(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("say", HELLO, "--player", "mpv", env={"PATH": str(tmp_path)})
    assert result.code == 2 and fake.requests == []
    assert result.stderr == (
        "cartesia-cli: error: --player mpv: mpv is not on PATH; install it, or use --player auto\n"
    )


@pytest.mark.skipif(sys.platform == "darwin", reason="afplay is macOS's own")
def test_afplay_elsewhere_than_macos_is_not_something_to_install(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("say", HELLO, "--player", "afplay", env={"PATH": str(tmp_path)})
    assert result.code == 2 and fake.requests == []
    assert result.stderr == (
        "cartesia-cli: error: --player afplay: afplay comes with macOS; on this system use"
        " --player auto, or one of ffplay, mpv, paplay, pw-play, aplay, play\n"
    )


def test_a_player_that_quits_early_is_one_line_and_the_file_is_whole(
    cli: RunCli, fake: FakeCartesia, player: Path, tmp_path: Path
) -> None:
    env = env_for(player, PLAYER_MODE="quit")
    result = cli("tts", "sse", HELLO, "--play", "-o", "out.pcm", env=env)
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
    warning, summary = result.stderr.splitlines()
    assert warning == (
        "cartesia-cli: warning: ffplay quit before the end of the audio (exit 1): "
        "ffplay: pretend failure"
    )
    assert summary.startswith("wrote out.pcm: ")


# --- a player that stops reading ----------------------------------------------------------

STALL = 0.3  # seconds: the deadline, shortened so that the tests are quick
PIPE_ROOM = 1 << 20  # more than a pipe holds unread (64 KB by default, 1 MB at most)


@pytest.fixture
def stalled(fake: FakeCartesia, monkeypatch: pytest.MonkeyPatch) -> None:
    """A short deadline, and more audio than the player's pipe can hold."""
    monkeypatch.setattr(player_module, "PLAYER_STALL", STALL)
    fake.plan = AudioPlan(audio_seconds=8.0)  # 1.4 MB of f32 at 44.1 kHz


@pytest.mark.usefixtures("stalled")
@pytest.mark.parametrize("mode", ["stall", "stubborn"])
def test_a_player_that_stops_reading_is_given_up_and_the_file_gets_everything(
    cli: RunCli, fake: FakeCartesia, player: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(player_module, "STOP_GRACE", 0.2)  # the stubborn one waits for SIGKILL
    started = time.monotonic()
    env = env_for(player, PLAYER_MODE=mode)
    result = cli("tts", "sse", HELLO, "--play", "-o", "out.pcm", env=env)
    assert time.monotonic() - started < 5  # not the 1000 s the player sleeps
    assert result.code == 0, result.stderr  # the audio that was asked to be kept is whole
    sent = bytes(fake.transmissions[-1].audio)
    assert len(sent) > PIPE_ROOM and (tmp_path / "out.pcm").read_bytes() == sent
    warning, summary = result.stderr.splitlines()
    assert warning == (
        f"cartesia-cli: warning: ffplay read none of its input for {STALL} s; stopped it"
    )
    assert summary.startswith("wrote out.pcm: ")
    assert not _alive(int((player / "rec.pid").read_text()))  # stopped, and reaped


@pytest.mark.usefixtures("stalled")
@pytest.mark.parametrize("args", [("say", HELLO), ("tts", "sse", HELLO, "--play")])
def test_a_player_that_stops_reading_with_no_file_is_an_output_failure(
    cli: RunCli, fake: FakeCartesia, player: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    started = time.monotonic()
    result = cli(*args, env=env_for(player, PLAYER_MODE="stall"))
    assert time.monotonic() - started < 5
    assert result.code == 7, result.stderr  # the audio went nowhere
    assert result.stderr == (
        f"cartesia-cli: error: ffplay read none of its input for {STALL} s; stopped it\n"
    )
    assert not _alive(int((player / "rec.pid").read_text()))
    assert list(tmp_path.iterdir()) == [player]  # no file left behind


def test_a_slow_player_that_keeps_reading_is_not_given_up(
    cli: RunCli, fake: FakeCartesia, player: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline is for no progress at all: one that reads, however slowly, is waited for."""
    monkeypatch.setattr(player_module, "PLAYER_STALL", 0.8)  # well over each 0.2 s nap
    fake.plan = AudioPlan(audio_seconds=2.0)  # 350 KB: some 8 naps between 64 KB reads
    result = cli("tts", "sse", HELLO, "--play", env=env_for(player, PLAYER_MODE="slow"))
    assert result.code == 0, result.stderr
    assert recorded(player)[1] == bytes(fake.transmissions[-1].audio)
    assert "warning" not in result.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_leaves_no_player_behind(
    player: Path, tmp_path: Path, signum: int, code: int
) -> None:
    plan = AudioPlan(audio_seconds=3.0)
    with FakeCartesia(api_key=API_KEY, plan=plan, pace=1.0) as fake:
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
        env.update(env_for(player, PLAYER_MODE="slow"))
        with subprocess.Popen(
            [str(ENTRY_POINT), "say", HELLO], stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=env,
        ) as proc:  # fmt: skip
            wait_for(lambda: (player / "rec.pid").exists() and bool(fake.transmissions))
            time.sleep(0.3)
            proc.send_signal(signum)  # to the CLI only: it must stop its player itself
            _, err = proc.communicate(timeout=20)
    assert proc.returncode == code, err
    assert err.decode().count("\n") == 1 and "Traceback" not in err.decode()
    pid = int((player / "rec.pid").read_text())
    wait_for(lambda: not _alive(pid), timeout=5)


@pytest.mark.skipif(shutil.which("ffplay") is None, reason="ffplay (ffmpeg) not installed")
@pytest.mark.parametrize("args", [("tts", "sse", HELLO, "--play"), ("say", HELLO)])
def test_the_real_ffplay_plays_it_to_the_end(
    fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...]
) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url, SDL_AUDIODRIVER="dummy")
    proc = subprocess.run(
        [str(ENTRY_POINT), *args], stdin=subprocess.DEVNULL, capture_output=True,
        env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().startswith("played: ")
    assert "warning" not in proc.stderr.decode()


def wait_for(condition: object, timeout: float = 10.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited: only its parent's wait is missing.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"
