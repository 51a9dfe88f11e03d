"""An audiobook's PCM as a run of pieces: parts (files of raw pcm_s16le mono) and silences.

A chapter is its parts with a pause between each two; the book is its chapters
with a longer pause between each two. Both are a flat list of `Piece`s whose
lengths are known before a byte is read (a part's length is its file's size),
so a WAV header can carry the real sizes up front and chapter marks their
real times. `stream` reads the pieces in chunks of CHUNK_BYTES: memory stays
the same for a ten-minute chapter and a ten-hour book.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from cartesia_cli.errors import OutputError

BYTES_PER_SAMPLE = 2  # pcm_s16le, mono
CHUNK_BYTES = 1 << 16  # one read of a part, one write of silence


class Piece(NamedTuple):
    """`samples` of a part's audio, or of silence when `audio` is None."""

    samples: int
    audio: Path | None = None


def samples_in(sample_rate: int, seconds: float) -> int:
    """The samples of `seconds` at `sample_rate`, rounded to the nearest."""
    return round(seconds * sample_rate)


def silence(sample_rate: int, seconds: float) -> bytes:
    """Exactly `round(seconds * sample_rate)` samples of zeros, s16le."""
    return bytes(samples_in(sample_rate, seconds) * BYTES_PER_SAMPLE)


def part(audio: Path) -> Piece:
    """A part as a piece: its whole samples (a stray last byte would not make a sample)."""
    try:
        size = os.stat(audio).st_size
    except OSError as exc:
        raise OutputError(f"cannot read {audio}: {exc.strerror}") from None
    return Piece(size // BYTES_PER_SAMPLE, audio)


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
            yield from _read(piece.audio, piece.samples * BYTES_PER_SAMPLE)


def _zeros(size: int) -> Iterator[bytes]:
    chunk = bytes(min(size, CHUNK_BYTES))
    while size > 0:
        yield chunk if size >= len(chunk) else chunk[:size]
        size -= len(chunk)


def _read(path: Path, size: int) -> Iterator[bytes]:
    """Exactly `size` bytes from the start of `path`, or an error: its length was counted first."""
    try:
        with path.open("rb") as file:
            while size > 0:
                chunk = file.read(min(size, CHUNK_BYTES))
                if not chunk:
                    raise OutputError(f"{path} got shorter while it was being read")
                size -= len(chunk)
                yield chunk
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror}") from None
