"""Ogg Opus made here from the PCM streamed (`.ogg`, `.opus`).

Opus runs at 8, 12, 16, 24 or 48 kHz: ffmpeg resamples 22050 and 44100 to the
next rate up. Ogg pages carry their own positions, so the streamed file needs
no header written after the fact.
"""

from __future__ import annotations

from cartesia_cli.formats import Container, OutputFormat
from cartesia_cli.output.codec import Codec

BIT_RATE = 64000  # clear speech, mono, at a fifth of a 128 kbps MP3's size per second


def options(audio: OutputFormat) -> list[str]:
    return ["-c:a", "libopus", "-b:a", str(BIT_RATE), "-f", "ogg"]


CODEC = Codec(Container.OGG, options)
