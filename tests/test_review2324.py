"""Review 2324: failing tests that prove defects in issues 23 (players, queue, cache) and 24 (narrate).

Each test drives the installed command against `cartesia-cli mock --`, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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


def test_say_short_utterance_with_failed_player_is_not_reported_as_played(tmp_path: Path) -> None:
    """Issue 23 §2: with no audio device, `say` must not print `played:` and exit 0.

    The fake ffplay takes the whole (short) audio from its pipe, then says it failed
    to open audio and exits 0, as the real ffplay does when the audio fits in the pipe
    buffer. Player.finish() only believes the complaint when the player ended in less
    than half the audio's length, which a short utterance never allows.
    """
    bin_dir = _fake_ffplay(tmp_path / "bin")
    env = _env(tmp_path, PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = _mock(["say", "--player", "ffplay", "OK"], env, tmp_path)
    assert "played:" not in result.stderr, result.stderr
    assert result.returncode == 7, result.stderr


def test_say_no_wait_checks_the_output_before_returning(tmp_path: Path) -> None:
    """`say --no-wait -o /nonexistent/x.wav` returns 0 ("queued"); the usage error
    (exit 2 in the foreground) only reaches say.log. Local checks belong before the hand-off."""
    bin_dir = _fake_ffplay(tmp_path / "bin")
    env = _env(tmp_path, PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = _mock(
        ["say", "--player", "ffplay", "--no-wait", "-o", "/nonexistent/x.wav", "hi"], env, tmp_path
    )
    assert result.returncode == 2, result.stderr
