"""An audiobook's PCM as a run of pieces: parts (files of raw pcm_s16le mono) and silences.

A chapter is its parts with a pause between each two; the book is its chapters
with a longer pause between each two. Both are a flat list of `Piece`s whose
lengths are known before a byte is read (a part's length is its file's size),
so a WAV header can carry the real sizes up front and chapter marks their
real times. `stream` reads the pieces in chunks of CHUNK_BYTES: memory stays
the same for a ten-minute chapter and a ten-hour book.

A part is only ever audio that was received: its file is opened without
following a link and must be a regular file, and when its digest (SHA-256,
recorded when it was written) is known, its bytes are checked against it as
they stream, at no extra read. A part that fails either check raises
`DamagedPart`: whatever was being written from it is abandoned (atomic.py).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from cartesia_cli.errors import OutputError

BYTES_PER_SAMPLE = 2  # pcm_s16le, mono
CHUNK_BYTES = 1 << 16  # one read of a part, one write of silence


class Piece(NamedTuple):
    """`samples` of a part's audio, or of silence when `audio` is None."""

    samples: int
    audio: Path | None = None
    digest: str | None = None  # the part file's SHA-256 (hex) as written, when known


class DamagedPart(OutputError):
    """A part that is not the audio received: a link, not a regular file, or other bytes."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path} {why}")
        self.path = path


def samples_in(sample_rate: int, seconds: float) -> int:
    """The samples of `seconds` at `sample_rate`, rounded to the nearest."""
    return round(seconds * sample_rate)


def silence(sample_rate: int, seconds: float) -> bytes:
    """Exactly `round(seconds * sample_rate)` samples of zeros, s16le."""
    return bytes(samples_in(sample_rate, seconds) * BYTES_PER_SAMPLE)


def part(audio: Path, digest: str | None = None) -> Piece:
    """A part as a piece: its whole samples (a stray last byte would not make a sample).

    The file itself, never what a link at its name points to."""
    try:
        info = os.lstat(audio)
    except OSError as exc:
        raise OutputError(f"cannot read {audio}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise DamagedPart(audio, "is not a regular file (a link?)")
    return Piece(info.st_size // BYTES_PER_SAMPLE, audio, digest)


def with_pauses(groups: Iterable[Sequence[Piece]], pause: int) -> list[Piece]:
    """The groups in order, `pause` samples of silence between each two (none after the last)."""
    joined: list[Piece] = []
    for index, group in enumerate(groups):
        if index and pause:
            joined.append(Piece(pause))
        joined.extend(group)
    return joined


def length(pieces: Iterable[Piece]) -> int:
    return sum(piece.samples for piece in pieces)


def stream(pieces: Iterable[Piece]) -> Iterator[bytes]:
    """The pieces' PCM in chunks of at most CHUNK_BYTES."""
    for piece in pieces:
        if piece.audio is None:
            yield from _zeros(piece.samples * BYTES_PER_SAMPLE)
        else:
            yield from _read(piece.audio, piece.samples * BYTES_PER_SAMPLE, piece.digest)


def _zeros(size: int) -> Iterator[bytes]:
    chunk = bytes(min(size, CHUNK_BYTES))
    while size > 0:
        yield chunk if size >= len(chunk) else chunk[:size]
        size -= len(chunk)


def _read(path: Path, size: int, digest: str | None = None) -> Iterator[bytes]:
    """Exactly `size` bytes from the start of `path`, or an error: its length was counted first.

    With a `digest`, the whole file (a stray last byte too) must hash to it; the last
    chunk is held back until it does, so no byte of a damaged part is handed on whole."""
    hashed = hashlib.sha256() if digest is not None else None
    try:
        with open_part(path) as file:
            held = b""
            while size > 0:
                chunk = file.read(min(size, CHUNK_BYTES))
                if not chunk:
                    raise OutputError(f"{path} got shorter while it was being read")
                size -= len(chunk)
                if hashed is not None:
                    hashed.update(chunk)
                if held:
                    yield held
                held = chunk
            if hashed is not None:
                hashed.update(file.read(CHUNK_BYTES))  # a stray last byte is part of the file
                if hashed.hexdigest() != digest:
                    raise DamagedPart(path, "is not the audio received (its digest differs)")
            if held:
                yield held
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror}") from None


def open_part(path: Path) -> BinaryIO:
    """`path` open for reading, if it is a regular file reached without following a link."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        if os.path.islink(path):
            raise DamagedPart(path, "is a link, not a part narrate wrote") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DamagedPart(path, "is not a regular file")
    return os.fdopen(fd, "rb")
