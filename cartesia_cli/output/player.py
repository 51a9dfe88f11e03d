"""Hearing the audio as it arrives: ffplay, fed each chunk on its stdin (`--play`, `say`).

The player is a child process in our process group, so a Ctrl-C at the
terminal reaches it too; every other way out (SIGTERM, an error) stops it
in `stop()`, so no player is ever left behind. What the player prints goes
into a pipe we drain (its banner and status line would mix with ours); its
last line is kept to explain an early exit.
"""

from __future__ import annotations

import contextlib
import re

from cartesia_cli import process
from cartesia_cli.errors import NO_PLAYER, BrokenPipe, UsageError
from cartesia_cli.formats import PLAYER
from cartesia_cli.output.sinks import Sink

# subprocess, threading and shutil are imported where used: only --play needs them,
# and every tts run imports this module.
STOP_GRACE = 2.0  # seconds a player gets to exit on SIGTERM before SIGKILL
_STATUS = re.compile(r"M-A:|A-V:|aq=")  # ffplay's redrawn status line: clocks, queue sizes


def find_player() -> str:
    """ffplay's path, or a usage error (before any request) naming what to install."""
    import shutil

    path = shutil.which(PLAYER)
    if path is None:
        raise UsageError(f"--play needs {PLAYER}, which is not on PATH", kind=NO_PLAYER)
    return path


class Player:
    """A running ffplay reading our pipe; `sink` writes to it."""

    def __init__(self, executable: str, args: list[str]) -> None:
        import subprocess
        import threading

        self._process = subprocess.Popen(
            [executable, *args[1:]],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stderr is not None
        self.sink = _PipeSink(self._process.stdin.fileno())
        self._last_line = ""
        self._reader = threading.Thread(target=self._drain, name="player-stderr", daemon=True)
        process.start_thread(self._reader)  # stop signals go to the main thread only

    @property
    def last_line(self) -> str:
        return self._last_line

    def finish(self, timeout: float) -> int | None:
        """End of the audio: let the player play what it has; its exit code, None if it hangs."""
        import subprocess

        self._close_input()
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None

    def stop(self) -> None:
        """Stop the player now (SIGTERM, then SIGKILL) and reap it."""
        import subprocess

        self._close_input()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join(timeout=1)

    def _close_input(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):  # already gone: nothing left to tell it
                self._process.stdin.close()

    def _drain(self) -> None:
        assert self._process.stderr is not None
        with self._process.stderr as stream:
            for raw in stream:
                # ffplay redraws its status with CR: the last piece is the current line.
                text = raw.decode("utf-8", "replace").replace("\r", "\n")
                for line in (piece.strip() for piece in text.splitlines()):
                    if line and not _STATUS.search(line):  # not its redrawn status bar
                        self._last_line = line[-300:]


class _PipeSink(Sink):
    """The player's stdin: written and counted like any sink, never closed by the job."""

    def __init__(self, fd: int) -> None:
        super().__init__(PLAYER)
        self._fd = fd


class PlayingSink(Sink):
    """Audio to the player as it arrives, and to a file (or stdout) too when -o names one.

    The file comes first: it is the product. A player that quits early is noted
    (`player_quit`) and fed no more; the stream goes on into the file, or, with
    no file, is read to its end so the run finishes as it would have.
    """

    def __init__(self, player: Player, kept: Sink | None) -> None:
        super().__init__(kept.label if kept is not None else PLAYER)
        self.player = player
        self.player_quit = False
        self.keeps_audio = kept is not None
        self._kept = kept

    @property
    def is_stdout(self) -> bool:
        return self._kept is not None and self._kept.is_stdout

    @property
    def bytes_written(self) -> int:
        return (self._kept or self.player.sink).bytes_written

    @property
    def audio_bytes(self) -> int:
        return (self._kept or self.player.sink).audio_bytes

    def finish(self) -> None:
        if self._kept is not None:
            self._kept.finish()  # the player is finished by its own wait (`Player.finish`)

    def write(self, data: bytes) -> None:
        if self._kept is not None:
            self._kept.write(data)
            self.head = self._kept.head
        if not self.player_quit:
            try:
                self.player.sink.write(data)
            except BrokenPipe:
                self.player_quit = True
        if self._kept is None:
            self.head = self.player.sink.head

    def close(self, *, keep: bool) -> None:
        if self._kept is not None:
            self._kept.close(keep=keep)
            self.is_regular_file = self._kept.is_regular_file
