"""Ogg Opus made here from the PCM streamed (`.ogg`, `.opus`).

Opus runs at 8, 12, 16, 24 or 48 kHz: ffmpeg resamples 22050 and 44100 to the
next rate up. Ogg pages carry their own positions, so the streamed file needs
no header written after the fact.

The same PCM always makes the same bytes, so that a cache hit writes the miss's
very file: ffmpeg's Ogg muxer draws each stream's serial number at random unless
told to be bit-exact (`-fflags +bitexact`), and then numbers the streams from
`-serial_offset` (0): our one stream is serial 0. Bit-exact also names the muxer
`ffmpeg` in the Opus tags instead of its version. The cost: two of these files
joined with `cat` share a serial, which a chained Ogg should not (join them with
ffmpeg's concat instead, which writes one stream). MP3 and FLAC are the same
bytes for the same PCM as they are.
"""

from __future__ import annotations

from cartesia_cli.formats import Container, OutputFormat
from cartesia_cli.output.codec import Codec

BIT_RATE = 64000  # clear speech, mono, at a fifth of a 128 kbps MP3's size per second


def options(audio: OutputFormat) -> list[str]:
    return ["-c:a", "libopus", "-b:a", str(BIT_RATE), "-fflags", "+bitexact", "-f", "ogg"]


CODEC = Codec(Container.OGG, options)
