"""Review 2324: failing tests that prove defects in issues 23 (players, queue, cache) and 24 (narrate).

Each test drives the installed command against `cartesia-cli mock --`, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "cartesia_cli"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTESIA")}
    env.update(
        CARTESIA_CLI_CONFIG_DIR=str(tmp_path / "cfg"),
        CARTESIA_CLI_CACHE_DIR=str(tmp_path / "cache"),
        CARTESIA_CLI_RUNTIME_DIR=str(tmp_path / "rt"),
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def _mock(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "mock", "--", *CLI, *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _fake_ffplay(folder: Path) -> Path:
    """ffplay as it behaves with no audio device: it reads its input, says it failed, exits 0."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "ffplay"
    script.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            sleep 0.3
            cat > /dev/null
            echo 'No more combinations to try, audio open failed' >&2
            echo "Failed to open file 'pipe:' or configure filtergraph" >&2
            exit 0
            """
        )
    )
    script.chmod(0o755)
    return folder


def test_narrate_does_not_splice_a_symlinked_part_into_the_book(tmp_path: Path) -> None:
    """Issue 24: parts must be exactly what was sent. A symlink in DIR/.parts (or any
    same-size file) is followed and its bytes go into the chapter and the book, unchecked
    (PartsFolder.size uses stat(), which follows links; parts carry no digest)."""
    (tmp_path / "book.md").write_text("# One\n\nIt was a dark and stormy night.\n")
    script = tmp_path / "run.sh"
    script.write_text(
        textwrap.dedent(
            f"""\
            set -e
            {sys.executable} -m cartesia_cli narrate book.md -o out --format wav -q
            victim=$(ls -S out/.parts/*.pcm | head -1)
            {sys.executable} -c "import os,sys; open('foreign.pcm','wb').write(bytes([0x7f,1])*(os.path.getsize(sys.argv[1])//2))" "$victim"
            rm "$victim"; ln -s "$PWD/foreign.pcm" "$victim"
            rm -f out/*.wav
            {sys.executable} -m cartesia_cli narrate book.md -o out --format wav -q || true
            """
        )
    )
    result = subprocess.run(
        [*CLI, "mock", "--", "sh", str(script)],
        env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    book_wav = tmp_path / "out" / "book.wav"
    spliced = (
        book_wav.exists()
        and (tmp_path / "foreign.pcm").read_bytes()[:4096] in book_wav.read_bytes()
    )
    assert not spliced, "a file outside DIR, linked into .parts, was spliced into the book"


def test_chapter_pattern_is_bounded(tmp_path: Path) -> None:
    """`--chapter-pattern '^(a+)+$'` on a 40-letter line spins for ever (ReDoS): --estimate
    never returns. Every wait should be bounded (or the pattern refused)."""
    text = tmp_path / "book.txt"
    text.write_text("Chapter 1\n\n" + "a" * 40 + "!\n\nText here.\n")
    env = _env(tmp_path)
    try:
        result = subprocess.run(
            [*CLI, "narrate", str(text), "--chapter-pattern", "^(a+)+$", "--estimate"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=15,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("narrate --chapter-pattern '^(a+)+$' --estimate ran for more than 15 s")
    assert result.returncode in (0, 2)
