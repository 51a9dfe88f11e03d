"""`narrate` as a real process: killed or stopped part-way, then resumed.

The fake is paced (its audio at a few times real time) while the first run is
under way, so the run is stopped between parts; the resumed run, unpaced, must
send only what the first did not finish, and give the same book, byte for
byte, as a run that was never stopped.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from cartesia_cli.mock import FakeCartesia
from tests.conftest import API_KEY, ENTRY_POINT, clean_env, run_entry_point, spoken_samples
from tests.test_narrate import _sent_texts

ARGS = ("narrate", "book.md", "--format", "wav", "--concurrency", "1")
PARAGRAPHS = [
    [f"Chapter {c} paragraph {p} says a few words here." for p in range(1, 5)] for c in (1, 2)
]
BOOK = "".join(
    f"# Part {c}\n\n" + "\n\n".join(texts) + "\n\n" for c, texts in enumerate(PARAGRAPHS, 1)
)


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "book.md").write_text(BOOK)
    return folder


def _env(fake: FakeCartesia, root: Path) -> dict[str, str]:
    return clean_env(
        CARTESIA_API_KEY=API_KEY,
        CARTESIA_BASE_URL=fake.url,
        CARTESIA_CLI_CONFIG_DIR=str(root / "config"),
        CARTESIA_CLI_CACHE_DIR=str(root / "cache"),
    )


def _parts(folder: Path) -> set[str]:
    return {path.stem for path in (folder / "book" / ".parts").glob("*.pcm")}


def _stopped_after(
    fake: FakeCartesia, folder: Path, env: dict[str, str], parts: int, how: int
) -> int:
    """Start a paced run, stop it with `how` once `parts` parts are complete; its exit code."""
    fake.pace = 0.25
    with subprocess.Popen(
        [str(ENTRY_POINT), *ARGS], cwd=folder, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    ) as proc:  # fmt: skip
        deadline = time.monotonic() + 20
        while not (folder / "book" / ".parts").is_dir() or len(_parts(folder)) < parts:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the run made no parts"
            time.sleep(0.02)  # polling a folder the process writes: no signal to wait on
        proc.send_signal(how)
        code = proc.wait(timeout=20)
    fake.pace = 0.0
    return code


def test_a_killed_run_resumes_with_only_the_rest_and_the_same_book(tmp_path: Path) -> None:
    with FakeCartesia(api_key=API_KEY) as fake:
        env = _env(fake, tmp_path)
        whole = _folder(tmp_path, "whole")
        assert run_entry_point(ARGS, env=env, cwd=whole).code == 0
        assert len(fake.transmissions) == 2

        killed = _folder(tmp_path, "killed")
        assert _stopped_after(fake, killed, env, 3, signal.SIGKILL) == -signal.SIGKILL
        kept = _parts(killed)
        assert 3 <= len(kept) < 8
        sent_before = len(fake.transmissions)

        resumed = run_entry_point(ARGS, env=env, cwd=killed)
        assert resumed.code == 0, resumed.stderr
        assert not list((killed / "book" / ".parts").glob("partial-*"))
        manifest = json.loads((killed / "book" / "narrate.json").read_text())
        said_again = [
            p for c in manifest["chapters"] for p in c["paragraphs"] if p["key"] not in kept
        ]
        texts = {p["key"]: t for c, ts in zip(manifest["chapters"], _texts(), strict=True)
                 for p, t in zip(c["paragraphs"], ts, strict=True)}  # fmt: skip
        assert _sent_texts(fake, since=sent_before) == [texts[p["key"]] for p in said_again]
        for name in ("01 - Part 1.wav", "02 - Part 2.wav", "book.wav", "book.vtt"):
            assert (killed / "book" / name).read_bytes() == (whole / "book" / name).read_bytes()


def _texts() -> list[list[str]]:
    return [[f"Part {c}", *texts] for c, texts in enumerate(PARAGRAPHS, 1)]


def test_sigterm_stops_with_143_and_a_manifest_that_matches_the_parts(tmp_path: Path) -> None:
    with FakeCartesia(api_key=API_KEY) as fake:
        env = _env(fake, tmp_path)
        folder = _folder(tmp_path, "book")
        assert _stopped_after(fake, folder, env, 2, signal.SIGTERM) == 143
        manifest = json.loads((folder / "book" / "narrate.json").read_text())
        done = {
            p["key"] for c in manifest["chapters"] for p in c["paragraphs"] if p["status"] == "done"
        }
        assert done == _parts(folder)
        assert not list((folder / "book" / ".parts").glob("partial-*"))


def _limited_to(size: int) -> Callable[[], None]:
    """In the child: files may grow to `size` bytes; a write past that fails (EFBIG) rather
    than the signal killing the process (the disk full, as a process sees it)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_a_full_disk_mid_run_exits_7_with_a_sound_manifest_and_resumes(tmp_path: Path) -> None:
    """A part too large for the disk fails the run with exit 7; the manifest says exactly the
    parts that are there, and the next run says only what is missing."""
    short = ["One.", "Two words.", "Three."]
    long = "A long paragraph " + "that goes on and on " * 8 + "to its end."
    book = f"# A\n\n{short[0]}\n\n{short[1]}\n\n# B\n\n{short[2]}\n\n{long}\n\nLast.\n"
    (tmp_path / "book.md").write_text(book)
    rate = 8000
    small = max(spoken_samples(t, rate) for t in [*short, "A", "B", "Last."]) * 2
    limit = (small + spoken_samples(long, rate) * 2) // 2
    args = ("narrate", "book.md", "--format", "wav", "--concurrency", "1", "--sample-rate", "8000")
    with FakeCartesia(api_key=API_KEY) as fake:
        env = _env(fake, tmp_path)
        with subprocess.Popen(
            [str(ENTRY_POINT), *args], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_limited_to(limit),
        ) as proc:  # fmt: skip
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 7, err.decode()
        assert err.decode().count("error:") == 1 and "Traceback" not in err.decode()
        folder = tmp_path / "book"
        manifest = json.loads((folder / "narrate.json").read_text())
        listed = [p for c in manifest["chapters"] for p in c["paragraphs"]]
        done = {p["key"]: p["bytes"] for p in listed if p["status"] == "done"}
        on_disk = {path.stem: path.stat().st_size for path in (folder / ".parts").glob("*.pcm")}
        assert done == on_disk and len(done) == 5  # A, One., Two words., B, Three.: not the long
        assert [p["status"] for p in listed][-2:] == ["failed", "failed"]  # its chapter failed
        assert not list(folder.glob("*.wav"))  # no chapter, no book: nothing half made
        first = len(fake.transmissions)
        again = run_entry_point(args, env=env, cwd=tmp_path)
        assert again.code == 0, again.stderr
        assert _sent_texts(fake, since=first) == [long, "Last."]
