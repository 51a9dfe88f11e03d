"""Outside text on stdout: shown escaped on a terminal, written as it came elsewhere."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import threading
from pathlib import Path

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env
from .test_timestamps import SRT_TIME, srt_cues

HOSTILE = "Hello \x1b[2J there \u202egnirts \x9b31m end"  # the fake times the words it is sent


def _stdout_on_a_terminal(fake: FakeCartesia, cwd: Path, *args: str) -> bytes:
    """Run the CLI with stdout on a pseudo-terminal; what the terminal received."""
    main, child = pty.openpty()
    received: list[bytes] = []

    def drain() -> None:
        while data := _read(main):
            received.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), *args], stdin=subprocess.DEVNULL, stdout=child,
            stderr=subprocess.PIPE, cwd=cwd, timeout=30,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
        )  # fmt: skip
    finally:
        os.close(child)
        reader.join(timeout=5)
        os.close(main)
    assert proc.returncode == 0, proc.stderr
    return b"".join(received)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the last writer closed the terminal
        return b""


def test_subtitles_on_a_terminal_show_the_servers_controls_escaped(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    screen = _stdout_on_a_terminal(
        fake, tmp_path, "tts", "sse", HOSTILE, "-o", "x.pcm", "--timestamps", "-"
    ).decode()
    assert "\x1b" not in screen and "\u202e" not in screen and "\x9b" not in screen
    assert "Hello \\x1b[2J there \\u202egnirts \\x9b31m end" in screen
    assert re.search(f"^1\r\n{SRT_TIME} --> {SRT_TIME}\r\n", screen)  # still lines of SRT


def test_subtitles_into_a_pipe_are_the_words_as_they_came(cli: RunCli) -> None:
    result = cli("tts", "sse", HOSTILE, "-o", "x.pcm", "--timestamps", "-")
    assert result.code == 0
    assert [text for _, _, text in srt_cues(result.stdout.decode())] == [HOSTILE]
