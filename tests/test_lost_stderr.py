"""Losing stderr never changes the exit code: closed, a reader gone, full, a terminal gone.

Real processes throughout: what is at stake is the descriptor the process is
given and what the interpreter does with it up to its exit.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, clean_env

TEXT = "Hello there, this is a test."
Stderr = Callable[[], AbstractContextManager[int]]


@contextmanager
def closed() -> Iterator[int]:
    yield -1  # the child's shell closes descriptor 2


@contextmanager
def reader_gone() -> Iterator[int]:
    """A pipe whose read end is closed: every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        yield write_end
    finally:
        os.close(write_end)


@contextmanager
def full() -> Iterator[int]:
    """A non-blocking pipe filled to the brim and never read: every write fails with EAGAIN."""
    read_end, write_end = os.pipe()
    flags = fcntl.fcntl(write_end, fcntl.F_GETFL)
    fcntl.fcntl(write_end, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    try:
        while True:
            os.write(write_end, b"x" * 65536)
    except BlockingIOError:
        pass
    try:
        yield write_end
    finally:
        os.close(write_end)
        os.close(read_end)


def run(fake: FakeCartesia, cwd: Path, stderr: int, *args: str) -> int:
    command = [str(ENTRY_POINT), *args]
    if stderr == -1:  # the shell's own way: `2>&-`
        command = ["sh", "-c", 'exec "$0" "$@" 2>&-', *command]
    proc = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=None if stderr == -1 else stderr,
        env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
        cwd=cwd,
        timeout=30,
    )
    return proc.returncode


@pytest.mark.parametrize("stderr", [closed, reader_gone, full])
def test_a_run_that_wrote_all_its_audio_exits_0_without_stderr(
    fake: FakeCartesia, tmp_path: Path, stderr: Stderr
) -> None:
    with stderr() as fd:
        code = run(fake, tmp_path, fd, "tts", "sse", TEXT, "-o", "out.pcm", "--debug")
    assert code == 0
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)


@pytest.mark.parametrize("stderr", [closed, reader_gone, full])
def test_a_failure_keeps_its_own_exit_code_without_stderr(
    fake: FakeCartesia, tmp_path: Path, stderr: Stderr
) -> None:
    fake.queue("error-mid-stream")
    with stderr() as fd:
        code = run(fake, tmp_path, fd, "tts", "sse", TEXT, "-o", "out.pcm", "--debug")
    assert code == 5
    assert (tmp_path / "out.pcm").read_bytes() == bytes(fake.transmissions[-1].audio)
