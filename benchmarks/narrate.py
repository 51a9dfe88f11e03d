"""Benchmark `narrate` against the fake on loopback; prints each figure and its target.

    python benchmarks/narrate.py            # about a minute and a half
    python benchmarks/narrate.py --scale 2  # longer chapters (closer to a real book)

1. Parallel chapters: a 12-chapter book at --concurrency 3 against `tts ws` on the whole
   text, the fake paced at real time (each chapter on a WebSocket of its own, as the
   API's concurrency allows). Target: narrate's wall time <= 0.4 x tts ws's.
2. A finished book run again: no WebSocket opened, and done within 2 s.
3. Memory flat in the book's length: peak RSS (VmHWM, sampled) of a 100,000-word book
   against a 1,000-word one, the fake unpaced and every paragraph's audio cut to 0.1 s
   (so the disk holds megabytes, not hours of audio). Target: <= 1.2 x.

The book is written as `--format wav` (no ffmpeg in the measure); both runs of a
comparison go to the same fake, one after the other.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cartesia_cli.mock import AudioPlan, FakeCartesia

BIN = Path(sys.executable).parent
CLI = str(BIN / "cartesia-cli")
TEXT = "the harbour boats came in at dawn and gulls followed them over grey water while the market"
WORDS = [*TEXT.split(), "woke", "slowly", "under", "a", "low", "sky"]


def _env(fake: FakeCartesia, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTESIA")}
    env.update(
        CARTESIA_BASE_URL=fake.url, CARTESIA_API_KEY="bench",
        CARTESIA_CLI_CONFIG_DIR=str(home / "config"), CARTESIA_CLI_CACHE_DIR=str(home / "cache"),
    )  # fmt: skip
    return env


def _paragraph(words: int, seed: int) -> str:
    chosen = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words)]
    return " ".join(chosen).capitalize() + "."


def _book(chapters: int, paragraphs: int, words: int) -> str:
    out = []
    for c in range(chapters):
        out.append(f"# Chapter {c + 1}\n")
        for p in range(paragraphs):
            out.append(_paragraph(words, c * paragraphs + p) + "\n")
    return "\n".join(out)


def _run(
    args: list[str], env: dict[str, str], cwd: Path, stdin: bytes | None = None
) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB, VmHWM sampled every 10 ms) of one run; it must succeed."""
    start = time.perf_counter()
    with subprocess.Popen(
        [CLI, *args], cwd=cwd, env=env, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    ) as proc:  # fmt: skip
        if stdin:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _hwm(proc.pid))
            time.sleep(0.01)
        err = proc.stderr.read().decode() if proc.stderr else ""
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}: {err[-2000:]}")
    return wall, peak


def _hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def parallel(work: Path, scale: int) -> None:
    text = _book(12, 2, 6 * scale)
    (work / "book.md").write_text(text)
    spoken = " ".join(line.lstrip("# ") for line in text.splitlines() if line.strip())
    with FakeCartesia(api_key=None, pace=1.0, keep_audio=False) as fake:
        env = _env(fake, work)
        whole = ["tts", "ws", "-o", "whole.pcm", "-e", "pcm_s16le"]
        ws, _ = _run(whole, env, work, spoken.encode())
        book = ["narrate", "book.md", "--format", "wav", "--concurrency", "3"]
        narrate, _ = _run(book, env, work)
        opened = len(fake.transmissions)
        again, _ = _run(["narrate", "book.md", "--format", "wav"], env, work)
        reopened = len(fake.transmissions) - opened
    ratio = narrate / ws
    print(f"12 chapters, real-time fake: tts ws {ws:.2f} s, narrate --concurrency 3 {narrate:.2f} s"
          f" -> {ratio:.2f} x (target <= 0.40) {'ok' if ratio <= 0.4 else 'MISSED'}")  # fmt: skip
    ok = reopened == 0 and again <= 2.0
    print(f"finished book again: {again:.2f} s, {reopened} WebSockets opened"
          f" (target 0 and <= 2 s) {'ok' if ok else 'MISSED'}")  # fmt: skip


def memory(work: Path) -> None:
    small = work / "small"
    large = work / "large"
    for folder, chapters in ((small, 2), (large, 200)):
        folder.mkdir()
        (folder / "book.md").write_text(_book(chapters, 10, 50))  # 500 words a chapter
    plan = AudioPlan(chunk_seconds=0.1, audio_seconds=0.1)
    args = ["narrate", "book.md", "--format", "wav", "--sample-rate", "8000", "--concurrency", "3"]
    with FakeCartesia(api_key=None, plan=plan, keep_audio=False, record=False) as fake:
        _, little = _run(args, _env(fake, small), small)
        wall, big = _run(args, _env(fake, large), large)
    ratio = big / little
    verdict = "ok" if ratio <= 1.2 else "MISSED"
    print(f"peak RSS: 1,000 words {little / 1024:.1f} MiB, 100,000 words {big / 1024:.1f} MiB"
          f" ({wall:.1f} s) -> {ratio:.2f} x (target <= 1.20) {verdict}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="words per paragraph, x6")
    parser.add_argument("--only", choices=("parallel", "memory"))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if options.only in (None, "parallel"):
            parallel(work, options.scale)
        if options.only in (None, "memory"):
            memory(work)


if __name__ == "__main__":
    main()
