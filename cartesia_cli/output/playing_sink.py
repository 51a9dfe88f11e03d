"""The sink of a run that plays: the audio to the player, and to a file (or stdout) with -o.

The file comes first: it is the product. The player is fed without waiting
(its own buffer and thread), so the stream goes at the network's pace. A
player that fails (it cannot open audio, quits, stops reading) is fed no more:
with a file the stream goes on into it and the failure is a warning at the
end; with no file the run fails at once (OutputError, exit 7, the player's
reason), which closes the stream.
"""

from __future__ import annotations

from typing import Protocol

from cartesia_cli.errors import OutputError
from cartesia_cli.output.mp3_frames import Mp3Clock
from cartesia_cli.output.sinks import Sink


class AudioPlayer(Protocol):
    """What a player does for the run, external (`player.py`) or in-process."""

    name: str

    def feed(self, data: bytes) -> None: ...

    def trouble(self) -> str | None: ...

    def finish(self, timeout: float, seconds: float) -> str | None: ...

    def stop(self) -> None: ...


class Tally(Sink):
    """Counts the audio given to a player (and keeps its head, its MP3 frames), writes nothing."""

    def _open(self) -> int:
        return -1

    def _write_once(self, fd: int, view: memoryview) -> int:
        self._counts.append(len(view))
        return len(view)


class PlayingSink(Sink):
    """Audio to the player as it arrives, and to a file (or stdout) too when -o names one."""

    def __init__(self, player: AudioPlayer, kept: Sink | None, tally: Tally) -> None:
        super().__init__(kept.label if kept is not None else player.name)
        self.player = player
        self.failure: str | None = None  # why the player failed, once it has
        self.keeps_audio = kept is not None
        self._kept = kept
        self._tally = tally  # the audio as received: what was played, for the summary

    @property
    def is_stdout(self) -> bool:
        return self._kept is not None and self._kept.is_stdout

    @property
    def counted(self) -> Sink:
        """The sink whose figures the summary gives: the file, or the audio played."""
        return self._kept or self._tally

    @property
    def bytes_written(self) -> int:
        return self.counted.bytes_written

    def mp3_clock(self) -> Mp3Clock | None:
        return self.counted.mp3_clock()

    @property
    def audio_bytes(self) -> int:
        return self.counted.audio_bytes

    @property
    def played(self) -> Sink:
        """The audio handed to the player, as received (its head, its MP3 frames)."""
        return self._tally

    def finish(self) -> None:
        if self._kept is not None:
            self._kept.finish()  # the player is finished by `finish_playing`

    def write(self, data: bytes) -> None:
        if self._kept is not None:
            self._kept.write(data)
        if self.failure is None:
            self._tally.write(data)
            self.player.feed(data)
            self.failure = self.player.trouble()
            if self.failure is not None:
                self.player.stop()  # now, not at the end: it takes no more of the stream
                if self._kept is None:
                    raise OutputError(self.failure)  # the audio goes nowhere: stop the stream
        self.head = self.counted.head

    def close(self, *, keep: bool) -> None:
        if self._kept is not None:
            self._kept.close(keep=keep)
            self.is_regular_file = self._kept.is_regular_file
