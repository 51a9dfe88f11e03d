"""Hearing the audio as it arrives: ffplay, fed each chunk on its stdin (`--play`, `say`).

The player is a child process in our process group, so a Ctrl-C at the
terminal reaches it too; every other way out (SIGTERM, an error) stops it
in `stop()`, so no player is ever left behind. What the player prints goes
into a pipe we drain (its banner and status line would mix with ours); its
last line is kept to explain an early exit.

A player that stops reading (hung, its audio device blocked) cannot hang the
run: its pipe is non-blocking, and a write that finds no room for
PLAYER_STALL seconds gives the player up (stopped like any other way out).
The encoder's pipe works the same way (`child.py`).
"""

from __future__ import annotations

import contextlib
import re

from cartesia_cli import process
from cartesia_cli.errors import NO_PLAYER, BrokenPipe, OutputError, UsageError
from cartesia_cli.formats import PLAYER
from cartesia_cli.output import child
from cartesia_cli.output.mp3_frames import Mp3Clock
from cartesia_cli.output.sinks import Sink

# subprocess, threading and shutil are imported where used: only --play needs them,
# and every tts run imports this module.
STOP_GRACE = 2.0  # seconds a player gets to exit on SIGTERM before SIGKILL
# Seconds a player may leave its full pipe unread before it is given up. ffplay reads
# 32 KB at a time as it plays: at 32 kbps MP3 (the slowest format) that is every 8 s.
PLAYER_STALL = 20.0
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
        self.sink = child.ChildInput(self._process.stdin.fileno(), PLAYER, stall_after=PLAYER_STALL)
        self._last_line = ""
        self._reader = threading.Thread(target=self._drain, name="player-stderr", daemon=True)
        process.start_thread(self._reader)  # stop signals go to the main thread only

    @property
    def last_line(self) -> str:
        return self._last_line

    def finish(self, timeout: float) -> int | None:
        """End of the audio: let the player play what it has; its exit code, None if it hangs."""
        import subprocess

        if self._process.stdin is not None:
            with contextlib.suppress(OSError):  # already gone: nothing left to tell it
                self._process.stdin.close()
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None

    def stop(self) -> None:
        """Stop the player now (SIGTERM, then SIGKILL) and reap it."""
        child.stop(self._process, STOP_GRACE)
        self._reader.join(timeout=1)

    def _drain(self) -> None:
        assert self._process.stderr is not None
        with self._process.stderr as stream:
            for raw in stream:
                # ffplay redraws its status with CR: the last piece is the current line.
                text = raw.decode("utf-8", "replace").replace("\r", "\n")
                for line in (piece.strip() for piece in text.splitlines()):
                    if line and not _STATUS.search(line):  # not its redrawn status bar
                        self._last_line = line[-300:]


def stall_message(stall_after: float) -> str:
    """What is said of a player given up for not reading."""
    return f"{PLAYER} read none of its input for {stall_after:g} s; stopped it"


class PlayingSink(Sink):
    """Audio to the player as it arrives, and to a file (or stdout) too when -o names one.

    The file comes first: it is the product. A player that quits early is noted
    (`player_quit`) and fed no more; the stream goes on into the file, or, with
    no file, is read to its end so the run finishes as it would have. A player
    that stops reading is stopped (`player_stalled`); the stream goes on into
    the file, and with no file the run fails (OutputError): the audio went nowhere.
    """

    def __init__(self, player: Player, kept: Sink | None) -> None:
        super().__init__(kept.label if kept is not None else PLAYER)
        self.player = player
        self.player_quit = False
        self.player_stalled = False
        self.keeps_audio = kept is not None
        self._kept = kept

    @property
    def is_stdout(self) -> bool:
        return self._kept is not None and self._kept.is_stdout

    @property
    def bytes_written(self) -> int:
        return (self._kept or self.player.sink).bytes_written

    def mp3_clock(self) -> Mp3Clock | None:
        return (self._kept or self.player.sink).mp3_clock()

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
            except child.Stalled:
                self._give_up_player()
        if self._kept is None:
            self.head = self.player.sink.head

    def _give_up_player(self) -> None:
        self.player_quit = self.player_stalled = True
        self.player.stop()  # now, not at the end: it holds no more of the stream
        if self._kept is None:
            raise OutputError(stall_message(self.player.sink.stall_after))

    def close(self, *, keep: bool) -> None:
        if self._kept is not None:
            self._kept.close(keep=keep)
            self.is_regular_file = self._kept.is_regular_file
