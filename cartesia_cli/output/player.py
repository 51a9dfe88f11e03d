"""Hearing the audio as it arrives: an external player (ffplay, mpv, …) fed on its stdin.

The audio goes into a `PlayBuffer` at the network's pace and a thread of its
own feeds the player from it at the player's: the stream is never held up by
playback. The player is a child process in our process group, so a Ctrl-C at
the terminal reaches it too; every other way out (SIGTERM, an error) stops it
in `stop()`, so no player is ever left behind. What it prints (errors only: it
is started quiet) goes into a pipe we drain; its last line explains a failure,
but for an audio device that would not open: ffplay's last line then blames its
input ("Failed to open file 'pipe:'"), so the line that names the device's
trouble is given instead (`device_trouble`).

A player that stops reading (hung, its audio device blocked) is given up after
PLAYER_STALL seconds without taking a byte (`child.py`). One that exits before
it has been given all the audio, or exits with an error, has failed; so has one
whose last lines say its audio device did not open (ffplay then exits 0, and
for a short utterance only after the time the audio lasts: its start-up is
slower than that), and one that said something else and ended far sooner than
its audio could have been played.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Sequence

from cartesia_cli import process
from cartesia_cli.errors import NO_PLAYER, BrokenPipe, UsageError
from cartesia_cli.output import child
from cartesia_cli.output.pcm_feed import PcmFeed
from cartesia_cli.output.play_buffer import PlayBuffer

# subprocess and threading are imported where used: only --play needs them,
# and every tts run imports this module.
STOP_GRACE = 2.0  # seconds a player gets to exit on SIGTERM before SIGKILL
# Seconds a player may leave its full pipe unread before it is given up. ffplay reads
# 32 KB at a time as it plays: at 32 kbps MP3 (the slowest format) that is every 8 s.
PLAYER_STALL = 20.0
FEED_BYTES = 1 << 16  # the most handed to the player's pipe in one write
# A player's line that says it failed (ffplay: "audio open failed", then exit 0).
_FAILURE = re.compile(r"fail|error|cannot|could not|unable|no such", re.IGNORECASE)
_STATUS = re.compile(r"M-A:|A-V:|aq=")  # ffplay's redrawn status line: clocks, queue sizes
TAIL_LINES = 40  # the player's last lines kept: ALSA alone prints 8 before ffplay's own
# ffplay with no audio device: SDL did not start ("Could not initialize SDL - <why>", then a
# line about DISPLAY, which -nodisp makes beside the point), or no device opened (ALSA's
# reasons, "SDL_OpenAudio (…): <why>" at -loglevel warning, "audio open failed", then a line
# blaming its input).
_SDL_INIT = re.compile(r"^Could not initialize SDL - (.+)")
_NO_DEVICE = re.compile(r"audio open failed", re.IGNORECASE)
ALSA_LINE = re.compile(r"^ALSA lib [^)]*\)\s*(.+)")  # "ALSA lib file.c:1:(function) <why>"
_DEVICE_REASONS = (
    (re.compile(r"^SDL_OpenAudio[^:]*: (.+)"), "{}"),
    (ALSA_LINE, "ALSA: {}"),
)


# Descriptors every player started now inherits: `say`'s hold on the speech queue's
# `speaking` lock (output/speech_queue.py), so that the turn ends when the player has
# ended too, even when the `say` itself was killed (SIGKILL) while its player played on.
_held_for_players: tuple[int, ...] = ()


@contextlib.contextmanager
def held_by_players(fd: int) -> Iterator[None]:
    """In the block, every player started also holds `fd` open (a lock held until it exits)."""
    global _held_for_players
    saved, _held_for_players = _held_for_players, (*_held_for_players, fd)
    try:
        yield
    finally:
        _held_for_players = saved


def find_player() -> str:
    """ffplay's path, or a usage error (before any request). Kept for callers that want ffplay."""
    import shutil

    path = shutil.which("ffplay")
    if path is None:
        raise UsageError("--play needs ffplay, which is not on PATH", kind=NO_PLAYER)
    return path


def stall_message(stall_after: float, name: str = "ffplay") -> str:
    """What is said of a player given up for not reading."""
    return f"{name} read none of its input for {stall_after:g} s; stopped it"


def device_trouble(lines: Sequence[str]) -> str | None:
    """Why the player could not open an audio device, from its last lines; None if it did not say.

    The most telling line: SDL's own reason, else the device's (SDL, then ALSA), else
    "audio open failed".
    """
    for line in reversed(lines):
        if started := _SDL_INIT.match(line):
            return f"SDL: {started.group(1)}"
    if not any(_NO_DEVICE.search(line) for line in lines):
        return None
    for pattern, shape in _DEVICE_REASONS:
        for line in reversed(lines):
            if found := pattern.match(line):
                return shape.format(found.group(1))
    return "audio open failed"


class Player:
    """A running external player reading our pipe, fed from a buffer by a thread of its own.

    `args[0]` is the player's name (`executable` is run in its place); `feed`
    turns the audio received into what the pipe carries (a WAV header dropped,
    companded samples widened).
    """

    def __init__(self, executable: str, args: list[str], feed: PcmFeed | None = None) -> None:
        import subprocess
        import threading

        self.name = args[0]
        self._process = subprocess.Popen(
            [executable, *args[1:]],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=_held_for_players,  # `say`'s turn lasts as long as its player
            preexec_fn=process.ends_with_us(),  # killed with its `say`, not playing on
        )
        self._started = time.monotonic()
        assert self._process.stdin is not None and self._process.stderr is not None
        self.sink = child.ChildInput(
            self._process.stdin.fileno(), self.name, stall_after=PLAYER_STALL
        )
        self._feed = feed or PcmFeed()
        self._buffer = PlayBuffer()
        # Replaced whole by the reader thread, never changed in place: read at any time.
        self._lines: tuple[str, ...] = ()
        self.quit_early = False  # it exited (or closed its pipe) before taking all the audio
        self.stalled = False
        self._reader = threading.Thread(target=self._drain, name="player-stderr", daemon=True)
        self._feeder = threading.Thread(target=self._pump, name="player-feed", daemon=True)
        process.start_thread(self._reader)  # stop signals go to the main thread only
        process.start_thread(self._feeder)

    @property
    def last_line(self) -> str:
        return self._lines[-1] if self._lines else ""

    def feed(self, data: bytes) -> None:
        """Hand the player `data` (as received); never waits for the player."""
        self._buffer.put(self._feed(data))

    def trouble(self) -> str | None:
        """Why the player has failed already (given up, or gone before the end); else None."""
        if self.stalled:
            return stall_message(self.sink.stall_after, self.name)
        if self.quit_early or self._process.poll() is not None:
            self.quit_early = True
            return self._quit_message()
        return None

    def finish(self, timeout: float, seconds: float) -> str | None:
        """End of the audio: let the player play it all; why it failed, None if it played.

        `timeout` bounds the wait; `seconds` is the audio's length, for telling a
        player that could not play (it spoke and ended at once) from one that did.
        """
        import subprocess

        self._buffer.close()
        deadline = time.monotonic() + timeout
        self._feeder.join(timeout)
        try:
            code = self._process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
            return f"{self.name} had not finished after {timeout:.0f} s; stopped it"
        self._reader.join(timeout=1)
        if self.stalled:
            return stall_message(self.sink.stall_after, self.name)
        if self.quit_early or code != 0 or device_trouble(self._lines) is not None:
            return self._quit_message()  # its device failed: whatever the timing (ffplay exits 0)
        too_soon = time.monotonic() - self._started < seconds / 2
        complained = _FAILURE.search(self.last_line) is not None
        if complained and too_soon:
            return self._quit_message()
        return None

    def stop(self) -> None:
        """Stop the player now (SIGTERM, then SIGKILL) and reap it; the feeding ends."""
        self._buffer.abandon()
        if self._process.poll() is None:  # SIGCONT with it: a stopped player (Ctrl-Z) acts now
            process.terminate(self._process.pid)
        child.stop(self._process, STOP_GRACE)
        self._feeder.join(timeout=1)
        self._reader.join(timeout=1)

    def _quit_message(self) -> str:
        device = device_trouble(self._lines)
        if device is not None:
            return f"{self.name} could not open an audio device ({device})"
        code = self._process.poll()
        if code is None:
            how = "closed its input"
        else:
            how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
        said = f": {self.last_line}" if self.last_line else ""
        return f"{self.name} quit before the end of the audio ({how}){said}"

    def _pump(self) -> None:
        """The feeding thread: buffer to pipe, until the end, a failure, or `stop`."""
        try:
            while data := self._buffer.take(FEED_BYTES):
                self.sink.write(data)
        except BrokenPipe:
            self.quit_early = True
        except child.Stalled:
            self.stalled = True
            child.stop(self._process, STOP_GRACE)  # it holds no more of the stream
        except Exception:  # a write that failed otherwise: the player is gone all the same
            self.quit_early = True
        finally:
            self._buffer.release()
            self._close_input()

    def _close_input(self) -> None:
        if self._process.stdin is not None:
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
                        self._lines = (*self._lines[1 - TAIL_LINES :], line[-300:])
