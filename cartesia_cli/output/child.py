"""A helper process we feed on its stdin (the player, the encoder): bounded writes, a sure stop.

Its stdin is non-blocking: a full pipe is waited on (the process reads at its
own pace), but for at most `stall_after` seconds with no byte taken, then
`Stalled`. `stop` ends it (SIGTERM, then SIGKILL) and reaps it, so no helper
is ever left behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from cartesia_cli.errors import OutputError
from cartesia_cli.output.sinks import Sink

if TYPE_CHECKING:
    import subprocess


class Stalled(Exception):
    """The process left its full pipe unread past the deadline: it is not working."""


class ChildInput(Sink):
    """A helper's stdin: written and counted like any sink, never closed by the job.

    `excused()` true means the process is held up by something we do (its own
    output waiting for room): the deadline starts again instead of running out.
    """

    def __init__(
        self,
        fd: int,
        label: str,
        *,
        stall_after: float,
        excused: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(label)
        self._fd = fd
        self.stall_after = stall_after
        self._excused = excused
        self._full_since: float | None = None  # when the pipe was last found full, unread since
        os.set_blocking(fd, False)

    def _write_once(self, fd: int, view: memoryview) -> int:
        wrote = super()._write_once(fd, view)
        if wrote:
            self._full_since = None  # the process took some: it is alive
        return wrote

    def _wait_for_room(self, fd: int, timeout: float | None = None) -> None:
        now = time.monotonic()
        if self._full_since is None or self._excused():
            self._full_since = now
        left = self._full_since + self.stall_after - now
        if left <= 0:
            raise Stalled
        super()._wait_for_room(fd, left if timeout is None else min(left, timeout))


def start(command: list[str], name: str, *, stdout: int) -> subprocess.Popen[bytes]:
    """A helper fed on its stdin, its stderr a pipe for us to read; an OutputError if it
    cannot start. It runs in a session of its own: a terminal's Ctrl-C is ours to act on."""
    import subprocess

    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise OutputError(f"cannot start {name}: {exc.strerror}") from None


def stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """End `process` now: its stdin closed, SIGTERM, SIGKILL after `grace` s; reaped either way."""
    import subprocess

    if process.stdin is not None and not process.stdin.closed:
        with contextlib.suppress(OSError):  # already gone: nothing left to tell it
            process.stdin.close()
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
