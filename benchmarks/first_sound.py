"""Time to first sound: from the first audio byte to the first sample leaving the player.

    python benchmarks/first_sound.py            # 5 runs each
    python benchmarks/first_sound.py --runs 20

ffplay, end to end: `cartesia-cli say` is spawned against the fake server on
loopback with SDL's disk audio driver, which writes each buffer the player
hands the "sound card" to a file (SDL_DISKAUDIODELAY=0: no pacing). First
audio byte = the fake's write of the first chunk (time.monotonic, the same
clock as ours); first sound = the moment the file first holds a non-silent
sample, polled every 0.5 ms. The speech begins with sound, so its first
non-silent sample is its first sample.

The in-process player (miniaudio's null backend, which runs the device
thread as a sound card would): audio is put in its buffer at t0; first sound
= the device callback's first hand-over of samples (`first_sound`, set on the
device thread). Both figures are the player's own delay: the time from audio
available to audio handed to the device; the device's own output latency
(its period, 10 ms for ours) comes after, on any player.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cartesia_cli.mock import AudioPlan, FakeCartesia

ENTRY = Path(sys.executable).with_name("cartesia-cli")
KEY = "sk_car_benchmark_first_sound"


def first_loud_byte(path: Path, deadline: float) -> float | None:
    """When `path` first holds a non-zero 16-bit sample (time.monotonic), polled."""
    seen = 0
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as file:
                file.seek(seen)
                data = file.read()
        except FileNotFoundError:
            data = b""
        at = time.monotonic()
        for i in range(0, len(data) - 1, 2):
            if data[i] or data[i + 1]:
                return at
        seen += len(data) - len(data) % 2
        time.sleep(0.0005)
    return None


def say_run(player: str, rendered: Path, extra_env: dict[str, str]) -> tuple[float, float]:
    """One `say` through `player`, rendering into `rendered`: (first byte, first sound).

    Seconds after the spawn. The file must start empty: its first non-zero byte is
    the first sample of sound (silence is zero in s16 and f32, the formats written).
    """
    with FakeCartesia(api_key=KEY, plan=AudioPlan(audio_seconds=1.0)) as fake:
        env = {
            **os.environ,
            "CARTESIA_API_KEY": KEY,
            "CARTESIA_BASE_URL": fake.url,
            "CARTESIA_PLAYER": player,
            "CARTESIA_CLI_CONFIG_DIR": str(rendered.parent / "config"),
            **extra_env,
        }
        spawned = time.monotonic()
        proc = subprocess.Popen(
            [str(ENTRY), "say", "-q", "Hello, world!"], env=env, cwd=rendered.parent,
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        sound = first_loud_byte(rendered, spawned + 20)
        _, err = proc.communicate(timeout=30)
        if proc.returncode != 0 or sound is None:
            raise SystemExit(f"say through {player} failed: {err.decode()}")
        first_byte = fake.transmissions[-1].flushes[0][1]
    return first_byte - spawned, sound - spawned


def ffplay_run(folder: Path) -> tuple[float, float]:
    """SDL's disk driver: the file gets each buffer ffplay hands the "sound card"."""
    rendered = folder / "rendered.s16"
    rendered.unlink(missing_ok=True)
    sdl = {"SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": str(rendered), "SDL_DISKAUDIODELAY": "0"}
    return say_run("ffplay", rendered, sdl)


def mpv_run(folder: Path) -> tuple[float, float]:
    """mpv's pcm audio output, without a WAV header: the file gets each sample it plays."""
    rendered = folder / "rendered.pcm"
    rendered.unlink(missing_ok=True)
    home = folder / "mpv"
    home.mkdir(exist_ok=True)
    (home / "mpv.conf").write_text(f"ao=pcm\nao-pcm-file={rendered}\nao-pcm-waveheader=no\n")
    return say_run("mpv", rendered, {"MPV_HOME": str(home)})


def alsa_run(player: str, folder: Path) -> tuple[float, float]:
    """aplay or sox's play into ALSA's file plugin (over the null device): a raw file."""
    rendered = folder / "rendered.pcm"
    rendered.unlink(missing_ok=True)
    config = folder / "asound.conf"
    config.write_text(
        f'pcm.!default {{ type file slave.pcm "nowhere" file "{rendered}" format "raw" }}\n'
        "pcm.nowhere { type null }\n"
    )
    return say_run(player, rendered, {"ALSA_CONFIG_PATH": str(config), "AUDIODRIVER": "alsa"})


def paplay_run(folder: Path) -> tuple[float, float]:
    """paplay into a private PulseAudio null sink; its monitor recorded by parec.

    The null sink plays in real time; parec gets each 10 ms fragment as the sink
    renders it, so first sound here is late by up to one fragment.
    """
    rendered = folder / "rendered.pcm"
    rendered.unlink(missing_ok=True)
    pulse = {"PULSE_SERVER": f"unix:{folder / 'pulse' / 'native'}"}
    with rendered.open("wb") as out:
        recorder = subprocess.Popen(
            ["parec", "--device=bench.monitor", "--raw", "--format=float32le", "--rate=44100",
             "--channels=1", "--latency-msec=10"],
            env={**os.environ, **pulse}, stdout=out, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            return say_run("paplay", rendered, {**pulse, "PULSE_SINK": "bench"})
        finally:
            recorder.terminate()
            recorder.wait(timeout=5)


def pulse_server(folder: Path) -> subprocess.Popen[bytes] | None:
    """A PulseAudio server of our own with one null sink (say's default format), or None."""
    if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
        return None
    home = folder / "pulse"
    home.mkdir()
    own = {"HOME": str(home), "PULSE_RUNTIME_PATH": str(home), "PULSE_STATE_PATH": str(home)}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disable-shm=yes", "--log-level=error",
         f"--load=module-native-protocol-unix auth-anonymous=1 socket={home / 'native'}",
         "--load=module-null-sink sink_name=bench format=float32le rate=44100 channels=1"],
        env={**os.environ, **own}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    env = {**os.environ, "PULSE_SERVER": f"unix:{home / 'native'}"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = subprocess.run(["pactl", "info"], env=env, capture_output=True)
        if probe.returncode == 0:
            return server
        time.sleep(0.05)
    server.terminate()
    server.wait(timeout=5)
    return None


def in_process_run() -> float:
    """The in-process player: seconds from audio in its buffer to its first hand-over."""
    from cartesia_cli.formats import Encoding
    from cartesia_cli.output import player_inprocess

    player_inprocess.BACKENDS = ["NULL"]
    player = player_inprocess.InProcessPlayer(Encoding.PCM_F32LE, 44100, wav_header=False)
    try:
        fed = time.perf_counter()
        player.feed(b"\x00\x00\x80\x3e" * 4410)  # 0.1 s at 0.25
        while player.first_sound is None and time.perf_counter() < fed + 5:
            time.sleep(0.0005)
        assert player.first_sound is not None, "the null device never asked for audio"
        return player.first_sound - fed
    finally:
        player.stop()


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms (min {min(values) * 1000:.1f})"


Run = Callable[[Path], tuple[float, float]]


def report(name: str, run: Run | None, folder: Path, runs: int) -> None:
    """Time `runs` runs of `say` through one player and print the medians."""
    if run is None or shutil.which(name) is None:
        print(f"{name:7} not installed (or no sound server), not measured")
        return
    times = [run(folder) for _ in range(runs)]
    gaps = [sound - byte for byte, sound in times]
    print(
        f"{name:7} spawn -> first audio byte {ms([b for b, _ in times])}; "
        f"-> first sound {ms([s for _, s in times])}; first sound - first byte {ms(gaps)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = pulse_server(folder) if shutil.which("paplay") else None
        try:
            for name, run in (
                ("ffplay", ffplay_run),
                ("mpv", mpv_run),
                ("aplay", lambda f: alsa_run("aplay", f)),
                ("play", lambda f: alsa_run("play", f)),
                ("paplay", paplay_run if server is not None else None),
            ):
                report(name, run, folder, args.runs)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=5)
    try:
        import miniaudio  # noqa: F401
    except ImportError:
        print("in-process: miniaudio not installed (pip install 'cartesia-cli[play]')")
        return 0
    delays = [in_process_run() for _ in range(args.runs)]
    print(f"in-process first sound - audio available: {ms(delays)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
