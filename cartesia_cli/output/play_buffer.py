"""The audio held between the network and a player: bounded in memory, spilled to a file.

The stream is read at the network's pace, not the player's: `put` never
waits, so a player that plays at real time does not hold the server's
connection open for the length of the speech. Up to MEMORY_LIMIT bytes wait in
memory; beyond that they go to an unnamed temporary file, read back in order.
The player's side takes from it with `take`, which waits for more (or the end).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import IO

MEMORY_LIMIT = 8 << 20  # bytes held in memory: ~48 s of f32 at 44.1 kHz, then a file


class PlayBuffer:
    """A queue of bytes: one writer (`put`, `close`), one reader (`take`)."""

    def __init__(self, memory_limit: int = MEMORY_LIMIT) -> None:
        self._memory_limit = memory_limit
        self._chunks: deque[bytes] = deque()
        self._in_memory = 0
        self._spill: IO[bytes] | None = None
        self._spilled = 0  # bytes written to the file and not yet read back
        self._read_at = 0  # where the next read in the file starts
        self._closed = False
        self._abandoned = False
        self._ready = threading.Condition()

    @property
    def held(self) -> int:
        """Bytes put and not yet taken."""
        with self._ready:
            return self._in_memory + self._spilled

    @property
    def spilled(self) -> bool:
        return self._spill is not None

    def put(self, data: bytes) -> None:
        """Add `data`; never waits. Dropped once the reader has gone (`abandon`)."""
        if not data:
            return
        with self._ready:
            if self._abandoned:
                return
            if self._spilled or self._in_memory + len(data) > self._memory_limit:
                self._write_spill(data)  # after what is in the file already, in order
            else:
                self._chunks.append(data)
                self._in_memory += len(data)
            self._ready.notify()

    def close(self) -> None:
        """No more data comes: `take` returns b"" once the rest is taken."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def abandon(self) -> None:
        """The reader has gone: drop what is held, and whatever comes."""
        with self._ready:
            self._abandoned = self._closed = True
            self._chunks.clear()
            self._in_memory = self._spilled = 0
            self._ready.notify_all()
        self.release()

    def take(self, most: int, timeout: float | None = None) -> bytes | None:
        """Up to `most` bytes, in order; b"" at the end, None if none came within `timeout`."""
        with self._ready:
            if not self._ready.wait_for(self._readable, timeout):
                return None
            if self._chunks:
                chunk = self._chunks.popleft()
                self._in_memory -= len(chunk)
                if len(chunk) > most:
                    self._chunks.appendleft(chunk[most:])
                    self._in_memory += len(chunk) - most
                    chunk = chunk[:most]
                return chunk
            if self._spilled:
                return self._read_spill(most)
            return b""

    def release(self) -> None:
        """Close the temporary file, if one was made."""
        with self._ready:
            spill, self._spill = self._spill, None
        if spill is not None:
            spill.close()

    def _readable(self) -> bool:
        return bool(self._chunks or self._spilled or self._closed)

    def _write_spill(self, data: bytes) -> None:
        if self._spill is None:
            import tempfile

            # Closed by `release`, when the player is done with it.
            self._spill = tempfile.TemporaryFile(prefix="cartesia-cli-play-")  # noqa: SIM115
        self._spill.seek(0, 2)
        self._spill.write(data)
        self._spilled += len(data)

    def _read_spill(self, most: int) -> bytes:
        assert self._spill is not None
        self._spill.flush()
        self._spill.seek(self._read_at)
        data = self._spill.read(min(most, self._spilled))
        self._read_at += len(data)
        self._spilled -= len(data)
        if not self._spilled:  # all read back: the file starts again empty
            self._spill.seek(0)
            self._spill.truncate()
            self._read_at = 0
        return data
