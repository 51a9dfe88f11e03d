"""Chapter marks in the book's file: where each chapter starts, and its title.

Two spellings of the same marks: a WAV's `cue ` chunk with a `LIST`/`adtl`
chunk of `labl` titles (written here: ffmpeg writes no cue points), and
ffmpeg's FFMETADATA text, from which it writes MP4 chapters (m4b) and ID3v2
CHAP/CTOC frames (mp3). No I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import NamedTuple


class Mark(NamedTuple):
    """A chapter in the book: its title, and its first and end sample (the next one's first)."""

    title: str
    start: int
    end: int


def wav_chunks(marks: Sequence[Mark]) -> bytes:
    """A `cue ` chunk (one point per chapter, at its first sample) and a `LIST` chunk of `adtl`
    `labl` titles, the point's id naming its title; to follow the `data` chunk."""
    if not marks:
        return b""
    points = b"".join(
        struct.pack("<II4sIII", number, mark.start, b"data", 0, 0, mark.start)
        for number, mark in enumerate(marks, start=1)
    )
    labels = b"".join(
        _chunk(b"labl", struct.pack("<I", number) + _zero_ended(mark.title))
        for number, mark in enumerate(marks, start=1)
    )
    return _chunk(b"cue ", struct.pack("<I", len(marks)) + points) + _chunk(
        b"LIST", b"adtl" + labels
    )


def _chunk(name: bytes, payload: bytes) -> bytes:
    """A RIFF chunk: its size counts the payload, a pad byte keeps the next one even."""
    return name + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)


def _zero_ended(title: str) -> bytes:
    # UTF-8, as players that read labels take it; a NUL inside would end the title early.
    return title.replace("\0", " ").encode("utf-8") + b"\0"


def ffmetadata(tags: Mapping[str, str], marks: Sequence[Mark], sample_rate: int) -> str:
    """ffmpeg's metadata file: the book's tags, then one [CHAPTER] per mark, in samples."""
    lines = [";FFMETADATA1"]
    lines += [f"{key}={_escaped(value)}" for key, value in tags.items()]
    for mark in marks:
        lines += [
            "",
            "[CHAPTER]",
            f"TIMEBASE=1/{sample_rate}",  # the marks' own unit: exact, no rounding to ms
            f"START={mark.start}",
            f"END={mark.end}",
            f"title={_escaped(mark.title)}",
        ]
    return "\n".join(lines) + "\n"


def _escaped(value: str) -> str:
    """A value as the format reads it back: `=`, `;`, `#`, `\\` and line ends escaped."""
    for special in ("\\", "=", ";", "#", "\n"):
        value = value.replace(special, "\\" + special)
    return value.replace("\r", " ")
