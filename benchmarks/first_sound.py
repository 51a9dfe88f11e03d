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


def ffplay_run(folder: Path) -> tuple[float, float]:
    """One `say` through ffplay: (first byte, first sound), seconds after the spawn."""
    rendered = folder / "rendered.s16"
    rendered.unlink(missing_ok=True)
    with FakeCartesia(api_key=KEY, plan=AudioPlan(audio_seconds=1.0)) as fake:
        env = {
            **os.environ,
            "CARTESIA_API_KEY": KEY,
            "CARTESIA_BASE_URL": fake.url,
            "CARTESIA_PLAYER": "ffplay",
            "SDL_AUDIODRIVER": "disk",
            "SDL_DISKAUDIOFILE": str(rendered),
            "SDL_DISKAUDIODELAY": "0",
        }
        spawned = time.monotonic()
        proc = subprocess.Popen(
            [str(ENTRY), "say", "-q", "Hello, world!"], env=env, cwd=folder,
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        sound = first_loud_byte(rendered, spawned + 20)
        _, err = proc.communicate(timeout=30)
        if proc.returncode != 0 or sound is None:
            raise SystemExit(f"say through ffplay failed: {err.decode()}")
        first_byte = fake.transmissions[-1].flushes[0][1]
    return first_byte - spawned, sound - spawned


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if shutil.which("ffplay") is not None:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [ffplay_run(Path(tmp)) for _ in range(args.runs)]
        gaps = [sound - byte for byte, sound in runs]
        print(f"ffplay  first audio byte {ms([b for b, _ in runs])} after spawn")
        print(f"ffplay  first sound      {ms([s for _, s in runs])} after spawn")
        print(f"ffplay  first sound - first audio byte: {ms(gaps)}")
    else:
        print("ffplay: not installed, not measured")
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
