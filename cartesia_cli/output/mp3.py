"""MP3 made here from the PCM streamed: LAME at a constant bit rate (--bit-rate).

Constant bit rate: a player tells the length from the file's size, so the
streamed file needs no header written after the fact.
"""

from __future__ import annotations

from cartesia_cli.formats import DEFAULT_MP3_BIT_RATE, Container, OutputFormat
from cartesia_cli.output.codec import Codec


def options(audio: OutputFormat) -> list[str]:
    bit_rate = audio.bit_rate or DEFAULT_MP3_BIT_RATE
    return ["-c:a", "libmp3lame", "-b:a", str(bit_rate), "-f", "mp3"]


CODEC = Codec(Container.MP3, options)
